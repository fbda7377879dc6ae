import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { sendBatch } from '../../lambdas/core/campaigns/batch.ts';
import { type CampaignRecord, readCampaign, updateCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import {
  CampaignControlError,
  resumableCampaign,
  stopCampaign,
  stopReason,
} from '../../lambdas/core/campaigns/control.ts';
import { dispatchLeaseMs, takeLease } from '../../lambdas/core/campaigns/lease.ts';
import { resumeCampaignRemotely } from '../../lambdas/core/campaigns/remote.ts';
import { parseSendTime, type SendTime } from '../../lambdas/core/campaigns/time.ts';
import { BusyError } from '../../lambdas/core/errors.ts';
import { definition, keys, MemoryMailer, publicUrl, registerDraft } from '../support/dispatch-fixtures.ts';

/**
 * `pressroom campaign resume` and `stop` refuse what does not apply, saying what to do:
 * unknown (with a guess), draft, scheduled, sent, cancelled, being sent by a live run. A stop
 * marks the campaign paused "stopped by who at when"; on AWS it closes the dispatched run so
 * that its queued batches are dropped and a resume can dispatch again.
 */

const now = new Date('2026-01-16T07:30:00Z');
const holder = { holder: 'poste-a pid 101', host: 'poste-a', pid: 101 };

async function storeWith(state: CampaignRecord['state'], change: Partial<CampaignRecord> = {}) {
  const store = new MemoryObjectStore({ signingSecret: 's', publicUrl });
  await registerDraft(store, definition('etude-presse'));
  await updateCampaign(
    store,
    'etude-presse',
    () => {
      throw new Error('registered above');
    },
    (current) => ({ ...current, state, ...change }),
  );
  return store;
}

const refusal = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e as Error);

describe('campaign resume: what it refuses, and why', () => {
  it('an unknown campaign, with the nearest name', async () => {
    const store = await storeWith('paused');
    const error = await refusal(resumableCampaign('etude-press', { store }));
    expect(error?.message).toBe(
      'no campaign "etude-press": did you mean "etude-presse"? (`pressroom campaign list` shows them)',
    );
    expect((await refusal(resumableCampaign('autre-chose', { store })))?.message).toBe(
      'no campaign "autre-chose" (`pressroom campaign list` shows them)',
    );
  });

  it('sent, cancelled, draft and scheduled campaigns, each with what to do', async () => {
    const sendAt = parseSendTime('2026-06-08T08:00 Europe/Paris') as SendTime;
    const cases: [CampaignRecord['state'], RegExp][] = [
      ['sent', /is sent: everyone in its audience has an outcome, nothing is left to resume/],
      [
        'cancelled',
        /was cancelled: nothing is resumed\. Schedule it again \(`pressroom schedule campaigns\/etude-presse\.yaml`\)/,
      ],
      [
        'draft',
        /has not started: there is nothing to resume\. Send it with `pressroom send campaigns\/etude-presse\.yaml`/,
      ],
      [
        'scheduled',
        /is scheduled for 2026-06-08 08:00 \+02:00 Europe\/Paris and has not started: it is sent then/,
      ],
    ];
    for (const [state, message] of cases) {
      const store = await storeWith(state, { definition: definition('etude-presse', { sendAt }) });
      const error = await refusal(resumableCampaign('etude-presse', { store }));
      expect(error, state).toBeInstanceOf(CampaignControlError);
      expect(error?.message, state).toMatch(message);
    }
    // On the stack, the commands named take --backend aws.
    const store = await storeWith('sent');
    const error = await refusal(
      resumeCampaignRemotely('etude-presse', {
        store,
        dispatcher: {
          dispatch: () => {
            throw new Error('never dispatched');
          },
        },
      }),
    );
    expect(error?.message).toContain('`pressroom campaign status etude-presse --backend aws`');
  });

  it('a campaign a live run is sending, naming the holder; one whose run died is resumable', async () => {
    const store = await storeWith('sending');
    await updateCampaign(
      store,
      'etude-presse',
      () => {
        throw new Error('there');
      },
      (c) => takeLease(c, 'etude-presse', 'run-a', holder, now),
    );
    const error = await refusal(resumableCampaign('etude-presse', { store, clock: () => now }));
    expect(error).toBeInstanceOf(BusyError);
    expect((error as BusyError).exitCode).toBe(3);
    expect(error?.message).toMatch(
      /^campaign "etude-presse" is being sent by poste-a pid 101 since 2026-01-16 07:30 \+00:00 UTC: there is nothing to resume\. .*`pressroom campaign stop etude-presse`/,
    );
    // Its process is known dead, or its lease ran out: taken over.
    await expect(
      resumableCampaign('etude-presse', { store, clock: () => now, holderAlive: () => false }),
    ).resolves.toMatchObject({ state: 'sending' });
    await expect(
      resumableCampaign('etude-presse', { store, clock: () => new Date(now.getTime() + 91_000) }),
    ).resolves.toMatchObject({ state: 'sending' });
  });
});

describe('campaign stop', () => {
  it('marks a campaign being sent paused, stopped by whom and when; the live run keeps its lease to end', async () => {
    const store = await storeWith('sending');
    await updateCampaign(
      store,
      'etude-presse',
      () => {
        throw new Error('there');
      },
      (c) => ({
        ...takeLease(c, 'etude-presse', 'run-a', holder, now),
        runs: [{ startedAt: now.toISOString() }],
      }),
    );
    const result = await stopCampaign('etude-presse', { store, by: 'alice@poste-b', clock: () => now });
    expect(result).toMatchObject({ runStopping: 'poste-a pid 101' });
    expect(result.record).toMatchObject({
      state: 'paused',
      pausedReason: 'stopped by alice@poste-b at 2026-01-16T07:30:00Z',
      lease: { holder: 'poste-a pid 101' },
      runs: [{ startedAt: now.toISOString() }],
    });
    expect(stopReason('x@y', now)).toBe('stopped by x@y at 2026-01-16T07:30:00Z');
    // Again: nothing changes, it says so.
    const again = await stopCampaign('etude-presse', { store, by: 'bob@poste-c', clock: () => now });
    expect(again.alreadyPaused).toBe('stopped by alice@poste-b at 2026-01-16T07:30:00Z');
  });

  it('refuses draft, scheduled, sent and cancelled campaigns, and an unknown one with a guess', async () => {
    for (const [state, message] of [
      ['draft', 'has not started: there is nothing to stop'],
      ['scheduled', 'is scheduled, not being sent: `pressroom campaign cancel etude-presse` cancels it'],
      ['sent', 'is sent: there is nothing to stop'],
      ['cancelled', 'was cancelled: there is nothing to stop'],
    ] as const) {
      const store = await storeWith(state);
      const error = await refusal(stopCampaign('etude-presse', { store, by: 'a@b' }));
      expect(error, state).toBeInstanceOf(CampaignControlError);
      expect(error?.message, state).toContain(message);
      expect((await readCampaign(store, 'etude-presse')).state).toBe(state);
    }
    const store = await storeWith('sending');
    expect((await refusal(stopCampaign('etude-prese', { store, by: 'a@b' })))?.message).toContain(
      'did you mean "etude-presse"?',
    );
  });

  it('on AWS closes the dispatched run and drops its lease: its queued batches are dropped, recipients left pending', async () => {
    const run = now.toISOString();
    const store = await storeWith('sending', { runs: [{ startedAt: run, heartbeatAt: run, batches: 3 }] });
    await updateCampaign(
      store,
      'etude-presse',
      () => {
        throw new Error('there');
      },
      (c) =>
        takeLease(c, 'etude-presse', run, { holder: 'the dispatch function' }, now, {
          duration: dispatchLeaseMs,
        }),
    );
    const result = await stopCampaign('etude-presse', {
      store,
      by: 'alice@poste-b',
      clock: () => now,
      backendFlag: ' --backend aws',
    });
    expect(result.dispatchedRunClosed).toBe(run);
    expect(result.record.lease).toBeUndefined();
    expect(result.record.runs).toEqual([
      { startedAt: run, heartbeatAt: run, batches: 3, endedAt: run, outcome: 'stopped' },
    ]);
    // A batch of that run arriving now is dropped, nobody mailed or recorded.
    const mailer = new MemoryMailer();
    const report = await sendBatch(
      {
        campaign: 'etude-presse',
        run,
        index: 1,
        recipients: [{ id: keys.idOf('a@example.org'), email: 'a@example.org' }],
      },
      { store, mailer, keys, publicUrl },
      { rate: 10 },
    );
    expect(report).toMatchObject({ dropped: 'campaign paused', sent: 0, deferred: [] });
    expect(mailer.delivered).toHaveLength(0);
    // Resumable at once: the lease is gone.
    await expect(resumableCampaign('etude-presse', { store, clock: () => now })).resolves.toMatchObject({
      state: 'paused',
    });
  });
});
