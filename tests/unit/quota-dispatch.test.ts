/**
 * Pacing by a fake account quota, the AWS way (dispatch → batches → send): dispatch enqueues
 * what fits now, records the plan, and schedules the next day's slice; the batches leave the
 * campaign waiting for it; the continuation firing sends the rest; a batch that finds the
 * quota spent sends nobody and fails nobody.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { mapSesError } from '../../lambdas/adapters/ses-mailer.ts';
import { sendBatch } from '../../lambdas/core/campaigns/batch.ts';
import { readCampaign, updateCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { stopCampaign } from '../../lambdas/core/campaigns/control.ts';
import {
  type DispatchDeps,
  dispatchCampaign,
  dispatchScheduledCampaign,
} from '../../lambdas/core/campaigns/dispatch.ts';
import { readLedger } from '../../lambdas/core/campaigns/ledger.ts';
import { describePlan, type SendingQuota, type SendQuota } from '../../lambdas/core/campaigns/quota.ts';
import type { CampaignSchedule, CampaignScheduler } from '../../lambdas/core/campaigns/remote.ts';
import type { SendDeps } from '../../lambdas/core/campaigns/send.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import {
  CapturingQueue,
  copyOf,
  definition,
  MemoryMailer,
  registerDraft,
  seededStore,
} from '../support/dispatch-fixtures.ts';

const keys = contactKeys('a-secret-of-at-least-thirty-two-characters');
/** 07:00 in Paris. */
const today = new Date('2026-01-16T06:00:00Z');
/** 09:00 in Paris the next day: the daily start. */
const tomorrow = new Date('2026-01-17T08:00:00Z');

/** An account quota that counts what the mailer sends, as SES's SentLast24Hours does. */
class FakeQuota implements SendingQuota {
  reads = 0;
  constructor(public quota: SendQuota) {}
  async read() {
    this.reads++;
    return { ...this.quota };
  }
}

class FakeScheduler implements CampaignScheduler {
  readonly put_: CampaignSchedule[] = [];
  async put(schedule: CampaignSchedule) {
    this.put_.push(schedule);
    return 'created' as const;
  }
  async remove() {
    return false;
  }
}

let base: MemoryObjectStore;
beforeAll(async () => {
  base = await seededStore(keys, 25);
});

let store: MemoryObjectStore;
let quota: FakeQuota;
let scheduler: FakeScheduler;
let mailer: MemoryMailer;
beforeEach(async () => {
  store = await copyOf(base);
  // 20 a day, 1 kept free (5 %), 9 sent in the last 24 hours: 10 left for the campaign now.
  quota = new FakeQuota({ max24Hour: 20, maxSendRate: 14, sentLast24Hours: 9 });
  scheduler = new FakeScheduler();
  mailer = new MemoryMailer(() => {
    quota.quota.sentLast24Hours++;
  });
  await registerDraft(store, definition('etude'));
  await updateCampaign(
    store,
    'etude',
    () => {
      throw new Error('no record');
    },
    (c) => ({ ...c, pacing: { timeZone: 'Europe/Paris', dailyStart: '09:00' } }),
  );
});

const dispatchDeps = (now: Date): DispatchDeps => ({
  store,
  queue: new CapturingQueue(),
  clock: () => now,
  quota,
  continuation: scheduler,
});

const sendDeps = (now: Date): SendDeps => ({
  store,
  mailer,
  keys,
  publicUrl: 'https://press.example.org',
  clock: () => now,
  sleep: async () => {},
});

async function sendAll(deps: DispatchDeps, now: Date) {
  const reports = [];
  for (const batch of (deps.queue as CapturingQueue).batches)
    reports.push(await sendBatch(batch, sendDeps(now), { rate: 1000, quota }));
  return reports;
}

describe('dispatch paced by the quota', () => {
  it('enqueues what fits today, plans the rest, schedules tomorrow 09:00; the continuation sends the rest', async () => {
    const deps = dispatchDeps(today);
    const report = await dispatchCampaign('etude', deps, { recipientsPerMessage: 4 });
    expect(report).toMatchObject({ audience: 25, enqueued: 10, batches: 3, later: 15, state: 'sending' });
    expect(report.plan?.slices).toEqual([
      { date: '2026-01-16', count: 10, from: today.toISOString() },
      { date: '2026-01-17', count: 15, from: tomorrow.toISOString() },
    ]);
    expect(report.continuation).toEqual({ name: 'etude', at: tomorrow.toISOString() });
    // The campaign's own schedule, at 09:00 Paris time, as `pressroom schedule` makes it.
    expect(scheduler.put_).toEqual([
      {
        campaign: 'etude',
        name: 'etude',
        at: tomorrow.toISOString(),
        expression: 'at(2026-01-17T09:00:00)',
        timezone: 'Europe/Paris',
      },
    ]);
    const status = await campaignStatus(store, 'etude', today);
    expect(status.plan && describePlan(status.plan)).toBe('10 today, 15 tomorrow from 09:00 Europe/Paris');

    // Today's batches: ten sent, and the campaign waits for tomorrow's slice (not "sent").
    const reports = await sendAll(deps, today);
    expect(reports.map((r) => r.completed)).toEqual([true, true, true]);
    expect(mailer.delivered).toHaveLength(10);
    expect((await readCampaign(store, 'etude')).state).toBe('scheduled');
    expect((await campaignStatus(store, 'etude', today)).sent).toBe(10);

    // Tomorrow 09:00: yesterday's sends have left the window. The rest goes, nobody twice.
    quota.quota.sentLast24Hours = 0;
    const next = dispatchDeps(tomorrow);
    const resumed = await dispatchScheduledCampaign('etude', tomorrow.toISOString(), next, {
      recipientsPerMessage: 4,
      lateFireWindowMinutes: 60,
    });
    expect(resumed).toMatchObject({ enqueued: 15, alreadyDone: 10, later: 0, state: 'sending' });
    expect(resumed.continuation).toBeUndefined();
    expect(scheduler.put_).toHaveLength(1);
    await sendAll(next, tomorrow);
    expect(mailer.delivered).toHaveLength(25);
    expect(new Set(mailer.delivered.map((m) => m.to)).size).toBe(25);
    expect((await readCampaign(store, 'etude')).state).toBe('sent');
  });

  it('with the quota spent at dispatch, enqueues nobody and waits for the next slice', async () => {
    quota.quota.sentLast24Hours = 19;
    const deps = dispatchDeps(today);
    const report = await dispatchCampaign('etude', deps, { recipientsPerMessage: 4 });
    expect(report).toMatchObject({ enqueued: 0, batches: 0, later: 25, state: 'scheduled' });
    // Nothing sent now: tomorrow's slice may start once today's 24 hours are over, 07:00 → 09:00.
    expect(report.continuation?.at).toBe(tomorrow.toISOString());
    const record = await readCampaign(store, 'etude');
    expect(record.runs[0]).toMatchObject({ batches: 0, outcome: 'quota' });
    expect(record.lease).toBeUndefined();
    expect(record.plan && describePlan(record.plan)).toBe(
      '0 today, 19 tomorrow from 09:00, 6 on Sun 18 Jan from 09:01 Europe/Paris',
    );
  });

  it('a batch that finds the quota spent sends nobody, fails nobody, and is not put back on the queue', async () => {
    const deps = dispatchDeps(today);
    await dispatchCampaign('etude', deps, { recipientsPerMessage: 4 });
    // Other mail used the rest of the day's quota meanwhile.
    quota.quota.sentLast24Hours = 20;
    const [first] = await sendAll(deps, today);
    expect(first).toMatchObject({ sent: 0, failed: 0, deferred: [], completed: false });
    expect(first?.dropped).toMatch(/daily quota is used up \(20 of 20/);
    expect(mailer.calls).toBe(0);
    expect((await readLedger(store, 'etude')).size).toBe(0);
    // Tomorrow's slice was planned: the campaign waits for it, and it sends everyone.
    const record = await readCampaign(store, 'etude');
    expect(record.state).toBe('scheduled');
    expect(record.runs[0]).toMatchObject({ outcome: 'quota' });
    quota.quota.sentLast24Hours = 0;
    const next = dispatchDeps(tomorrow);
    const resumed = await dispatchScheduledCampaign('etude', tomorrow.toISOString(), next, {
      recipientsPerMessage: 4,
      lateFireWindowMinutes: 60,
    });
    expect(resumed).toMatchObject({ enqueued: 19, later: 6 });
  });

  it('without a next slice planned, a spent quota pauses the campaign with the reason', async () => {
    quota.quota = { max24Hour: 1_000, maxSendRate: 14, sentLast24Hours: 0 };
    const deps = dispatchDeps(today);
    const report = await dispatchCampaign('etude', deps, { recipientsPerMessage: 30 });
    expect(report).toMatchObject({ enqueued: 25, later: 0 });
    expect(report.continuation).toBeUndefined();
    expect(scheduler.put_).toEqual([]);
    quota.quota.sentLast24Hours = 990;
    const [batch] = await sendAll(deps, today);
    expect(batch).toMatchObject({ sent: 0, failed: 0, deferred: [] });
    expect((await readLedger(store, 'etude')).size).toBe(0);
    const record = await readCampaign(store, 'etude');
    expect(record.state).toBe('paused');
    expect(record.pausedReason).toMatch(
      /daily quota is used up \(990 of 1000 .*nobody was counted as failed; resume it with `pressroom campaign resume etude --backend aws`/,
    );
  });

  it('SES refusing with its daily quota used up: the rest stays pending and the next quota window is scheduled', async () => {
    quota.quota = { max24Hour: 1_000, maxSendRate: 14, sentLast24Hours: 0 };
    const deps = dispatchDeps(today);
    await dispatchCampaign('etude', deps, { recipientsPerMessage: 10 });
    // The quota read says there is room; SES refuses from the 5th send (other mail used it).
    mailer = new MemoryMailer((_, call) => {
      if (call > 4)
        throw mapSesError(Object.assign(new Error('Daily message quota exceeded.'), { name: 'Throttling' }));
    });
    const reports = [];
    for (const batch of (deps.queue as CapturingQueue).batches)
      reports.push(
        await sendBatch(batch, sendDeps(today), {
          rate: 1000,
          concurrency: 1,
          quota,
          continuation: scheduler,
        }),
      );
    expect(reports[0]).toMatchObject({ sent: 4, failed: 0 });
    expect(reports[0]?.halted).toBeUndefined();
    expect(reports[0]?.quotaSpent).toMatch(/daily sending quota \(Max24HourSend\) is used up/);
    expect(reports[0]?.deferred).toHaveLength(6);
    // The other batches of the run send nobody: it waits for the next window.
    expect(reports.slice(1).map((r) => r.dropped)).toEqual([
      'the daily quota is used up: waiting for the next quota window',
      'the daily quota is used up: waiting for the next quota window',
    ]);
    expect(mailer.calls).toBe(5);
    // 24 hours after 07:00 in Paris is before the daily start: 09:00 the next day.
    expect(scheduler.put_.map((s) => [s.name, s.at])).toEqual([['etude', tomorrow.toISOString()]]);
    const record = await readCampaign(store, 'etude');
    expect(record).toMatchObject({ state: 'scheduled' });
    expect(record.pausedReason).toBeUndefined();
    expect(record.runs[0]).toMatchObject({ outcome: 'quota' });
    const ledger = [...(await readLedger(store, 'etude')).values()].map((r) => r.entry.status).sort();
    expect(ledger).toEqual(['deferred', 'sent', 'sent', 'sent', 'sent']);
    // The window: dispatch sends everyone without an outcome.
    const next = await dispatchCampaign('etude', dispatchDeps(tomorrow), { recipientsPerMessage: 10 });
    expect(next).toMatchObject({ enqueued: 21, alreadyDone: 4 });
  });

  it('SES refusing with its daily quota used up and the window unschedulable: paused with both reasons', async () => {
    quota.quota = { max24Hour: 1_000, maxSendRate: 14, sentLast24Hours: 0 };
    const deps = dispatchDeps(today);
    await dispatchCampaign('etude', deps, { recipientsPerMessage: 30 });
    mailer = new MemoryMailer(() => {
      throw mapSesError(Object.assign(new Error('Daily message quota exceeded.'), { name: 'Throttling' }));
    });
    scheduler.put = async () => {
      throw new Error('Scheduler unavailable');
    };
    const [batch] = (deps.queue as CapturingQueue).batches;
    if (!batch) throw new Error('no batch');
    await sendBatch(batch, sendDeps(today), { rate: 1000, concurrency: 1, quota, continuation: scheduler });
    const record = await readCampaign(store, 'etude');
    expect(record.state).toBe('paused');
    expect(record.pausedReason).toMatch(
      /used up\. .*: nobody was counted as failed \(its next quota window could not be scheduled: Scheduler unavailable\); resume it with `pressroom campaign resume etude --backend aws`/,
    );
  });

  it('when the next slice cannot be scheduled, enqueues nobody and fails (to be retried)', async () => {
    const deps = dispatchDeps(today);
    scheduler.put = async () => {
      throw new Error('Scheduler unavailable');
    };
    await expect(dispatchCampaign('etude', deps, { recipientsPerMessage: 4 })).rejects.toThrow(
      /campaign "etude": the next day’s slice could not be scheduled \(Scheduler unavailable\)\. Dispatch it again/,
    );
    expect((deps.queue as CapturingQueue).batches).toEqual([]);
    const record = await readCampaign(store, 'etude');
    expect(record.runs[0]).toMatchObject({ outcome: 'error' });
    expect(record.lastError?.message).toMatch(/could not be scheduled/);
  });

  it('between two days, `campaign stop` pauses it: the next slice sends nobody, a resume sends the rest', async () => {
    const deps = dispatchDeps(today);
    await dispatchCampaign('etude', deps, { recipientsPerMessage: 4 });
    await sendAll(deps, today);
    expect((await readCampaign(store, 'etude')).state).toBe('scheduled');
    const stopped = await stopCampaign('etude', { store, clock: () => today, by: 'zoe@poste' });
    expect(stopped.record).toMatchObject({ state: 'paused' });
    quota.quota.sentLast24Hours = 0;
    const fired = dispatchDeps(tomorrow);
    const report = await dispatchScheduledCampaign('etude', tomorrow.toISOString(), fired, {
      recipientsPerMessage: 4,
      lateFireWindowMinutes: 60,
    });
    expect(report).toMatchObject({ enqueued: 0, state: 'paused' });
    const resumed = await dispatchCampaign('etude', dispatchDeps(tomorrow), { recipientsPerMessage: 4 });
    expect(resumed).toMatchObject({ enqueued: 15, alreadyDone: 10, later: 0 });
  });

  it('a continuation does not start a campaign stopped in the meantime', async () => {
    const deps = dispatchDeps(today);
    await dispatchCampaign('etude', deps, { recipientsPerMessage: 4 });
    await sendAll(deps, today);
    await updateCampaign(
      store,
      'etude',
      () => {
        throw new Error('no record');
      },
      (c) => ({ ...c, state: 'paused', pausedReason: 'stopped by zoe@poste at 2026-01-16 18:00' }),
    );
    const next = dispatchDeps(tomorrow);
    const report = await dispatchScheduledCampaign('etude', tomorrow.toISOString(), next, {
      recipientsPerMessage: 4,
      lateFireWindowMinutes: 60,
    });
    expect(report).toMatchObject({
      enqueued: 0,
      state: 'paused',
      pausedReason: 'stopped by zoe@poste at 2026-01-16 18:00',
    });
    expect((next.queue as CapturingQueue).batches).toEqual([]);
  });
});
