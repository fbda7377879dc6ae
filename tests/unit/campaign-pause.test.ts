/**
 * A dispatched campaign (the AWS way) pauses as a local send does: when the provider refuses
 * everything (nobody counted as failed, recipients left pending), and when its error budget
 * is spent, counted over every batch of the run and every send function at once.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { mapSesError } from '../../lambdas/adapters/ses-mailer.ts';
import { type RunBudgetCount, runBudgetKey, sendBatch } from '../../lambdas/core/campaigns/batch.ts';
import { readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { dispatchCampaign } from '../../lambdas/core/campaigns/dispatch.ts';
import { readLedger } from '../../lambdas/core/campaigns/ledger.ts';
import { PermanentSendError, SendingHaltedError } from '../../lambdas/core/campaigns/mailer.ts';
import type { SendDeps } from '../../lambdas/core/campaigns/send.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { getJson } from '../../lambdas/core/store/object-store.ts';
import {
  CapturingQueue,
  copyOf,
  definition,
  MemoryMailer,
  registerDraft,
  seededStore,
} from '../support/dispatch-fixtures.ts';

const keys = contactKeys('a-secret-of-at-least-thirty-two-characters');
const now = new Date('2026-01-16T07:30:00Z');
const clock = () => now;
const audience = 120;

let base: MemoryObjectStore;
let store: MemoryObjectStore;

beforeAll(async () => {
  base = await seededStore(keys, audience);
});

beforeEach(async () => {
  store = await copyOf(base);
});

const deps = (mailer: MemoryMailer): SendDeps => ({
  store,
  mailer,
  keys,
  publicUrl: 'https://press.example.org',
  clock,
  sleep: async () => {},
});

async function dispatched(name: string, per: number) {
  await registerDraft(store, definition(name));
  const queue = new CapturingQueue();
  const report = await dispatchCampaign(name, { store, queue, clock }, { recipientsPerMessage: per });
  return { queue, run: report.run };
}

/** A mailer refusing for good the journalists whose number `refused` says. */
const refusing = (refused: (i: number) => boolean) =>
  new MemoryMailer((m) => {
    const i = Number(/journaliste\.(\d+)@/.exec(m.to)?.[1]);
    if (refused(i)) throw new PermanentSendError('rejected', 'SES refused the message: Address blacklisted');
  });

describe('the error budget of a dispatched campaign', () => {
  it('counts the run over its batches: 10 refusals in batches of 10 pause it once 100 sends were tried', async () => {
    const { queue, run } = await dispatched('etude', 10);
    expect(queue.batches).toHaveLength(12);
    // One in twelve refused (8%): no batch of 10 ever reaches 100 sends on its own.
    const mailer = refusing((i) => i % 12 === 5);
    const reports = [];
    for (const batch of queue.batches) reports.push(await sendBatch(batch, deps(mailer), { rate: 1000 }));

    const halting = reports.findIndex((r) => r.halted !== undefined);
    expect(halting).toBe(9); // the tenth batch brings the run to 100 sends tried
    expect(reports[halting]?.halted).toMatch(
      /^\d+ of 100 sends failed \(more than 5%\): paused\. .*resume it with `pressroom campaign resume etude --backend aws`/,
    );
    // The batches after it are dropped (acknowledged), their recipients left pending.
    expect(reports.slice(halting + 1).map((r) => r.dropped)).toEqual(['campaign paused', 'campaign paused']);
    expect(mailer.calls).toBe(100);

    const record = await readCampaign(store, 'etude');
    expect(record.state).toBe('paused');
    expect(record.pausedReason).toBe(reports[halting]?.halted);
    expect(record.runs.at(-1)).toMatchObject({ startedAt: run, outcome: 'paused' });
    const count = await getJson<RunBudgetCount>(store, runBudgetKey('etude', run));
    // Counted as the ledger holds it: the first 100 sent to, about one in twelve refused.
    const refused = mailer.calls - mailer.delivered.length;
    expect(refused).toBeGreaterThan(5);
    expect(count?.value).toEqual({ attempted: 100, failed: refused });
    const status = await campaignStatus(store, 'etude');
    expect(status).toMatchObject({ sent: 100 - refused, failed: refused, remaining: 20 });

    // A resume (a new dispatch) enqueues only the 20 without an outcome, with a new count.
    const resumed = new CapturingQueue();
    const later = () => new Date(now.getTime() + 3_600_000);
    const again = await dispatchCampaign(
      'etude',
      { store, queue: resumed, clock: later },
      { recipientsPerMessage: 10 },
    );
    expect(again).toMatchObject({ enqueued: 20, alreadyDone: 100, state: 'sending' });
    const calm = new MemoryMailer();
    for (const batch of resumed.batches)
      await sendBatch(batch, { ...deps(calm), clock: later }, { rate: 1000 });
    expect(calm.delivered.map((m) => m.to).sort()).toEqual(
      queue.batches
        .slice(halting + 1)
        .flatMap((b) => b.recipients.map((r) => r.email))
        .sort(),
    );
    expect((await readCampaign(store, 'etude')).state).toBe('sent');
  });

  it('keeps one exact count when every batch is sent at once by concurrent workers', async () => {
    const { queue, run } = await dispatched('etude', 5);
    const mailer = refusing((i) => i % 40 === 7); // 3 of 120: within the budget
    const reports = await Promise.all(
      queue.batches.map((batch) => sendBatch(batch, deps(mailer), { rate: 1000, concurrency: 4 })),
    );
    expect(reports.filter((r) => r.halted !== undefined)).toEqual([]);
    const count = await getJson<RunBudgetCount>(store, runBudgetKey('etude', run));
    expect(count?.value).toEqual({ attempted: audience, failed: 3 });
    expect((await readCampaign(store, 'etude')).state).toBe('sent');
  });

  it('concurrent workers pause the run as soon as their summed count passes the budget', async () => {
    const { queue } = await dispatched('etude', 12);
    const mailer = refusing((i) => i % 10 === 3); // 10%
    const reports = await Promise.all(
      queue.batches.map((batch) => sendBatch(batch, deps(mailer), { rate: 1000, concurrency: 2 })),
    );
    expect(reports.some((r) => r.halted?.includes('sends failed'))).toBe(true);
    const record = await readCampaign(store, 'etude');
    expect(record.state).toBe('paused');
    expect(record.pausedReason).toMatch(/sends failed \(more than 5%\)/);
  });
});

describe('a provider refusing everything, on the stack', () => {
  it('pauses with the reason and the resume command; nobody failed, nobody counted, the campaign never sent', async () => {
    const { queue, run } = await dispatched('etude', 10);
    const halting = new MemoryMailer((_, call) => {
      if (call > 3)
        throw mapSesError(
          Object.assign(new Error('Sending paused for this account.'), {
            name: 'AccountSendingPausedException',
          }),
        );
    });
    const reports = [];
    for (const batch of queue.batches)
      reports.push(await sendBatch(batch, deps(halting), { rate: 1000, concurrency: 1 }));
    expect(reports[0]?.halted).toMatch(
      /paused for the whole AWS account .* Paused, nobody counted as failed: fix it, then resume it with `pressroom campaign resume etude --backend aws`\.$/,
    );
    expect(reports.slice(1).every((r) => r.dropped === 'campaign paused')).toBe(true);
    const status = await campaignStatus(store, 'etude');
    expect(status).toMatchObject({ state: 'paused', sent: 3, failed: 0, remaining: audience - 3 });
    // The refused send is left deferred (pending), the rest have no entry yet.
    const ledger = await readLedger(store, 'etude');
    expect([...ledger.values()].map((r) => r.entry.status).sort()).toEqual([
      'deferred',
      'sent',
      'sent',
      'sent',
    ]);
    const count = await getJson<RunBudgetCount>(store, runBudgetKey('etude', run));
    expect(count?.value).toEqual({ attempted: 3, failed: 0 });
    expect((await readCampaign(store, 'etude')).runs.every((r) => r.outcome !== 'completed')).toBe(true);
  });

  it("a sender outside the stack's identity (IAM AccessDenied on ses:SendRawEmail) says which sender to use", () => {
    const denied = Object.assign(
      new Error(
        'User: arn:aws:sts::123456789012:assumed-role/Send/SendFunction is not authorized to perform: ses:SendRawEmail on resource: arn:aws:ses:eu-west-3:123456789012:identity/open-cities.example.org because no identity-based policy allows the ses:SendRawEmail action',
      ),
      { name: 'AccessDenied' },
    );
    const mapped = mapSesError(denied, {
      from: 'news@open-cities.example.org',
      senderIdentity: 'villes-internet.net',
    });
    expect(mapped).toBeInstanceOf(SendingHaltedError);
    expect(mapped.message).toBe(
      "SES refuses to send: the stack may not send from news@open-cities.example.org (IAM denies ses:SendRawEmail on open-cities.example.org: AccessDenied). The SES identity this stack sends from is villes-internet.net: use a sender on villes-internet.net (the campaign's or the list's from), or deploy a stack for open-cities.example.org",
    );
    // Another refusal of the credentials keeps its own message.
    const token = mapSesError(Object.assign(new Error('expired'), { name: 'ExpiredToken' }));
    expect(token.message).toMatch(/credentials/);
  });

  it.each([
    ['AccountSendingPausedException', 'Sending paused for this account.', /paused for the whole AWS account/],
    [
      'MessageRejected',
      'Email address is not verified. The following identities failed the check in region EU-WEST-3: presse@villes-internet.example.org',
      /the sender presse@villes-internet\.example\.org is not a verified identity in SES region EU-WEST-3: verify/,
    ],
    [
      'MessageRejected',
      'Email address is not verified. The following identities failed the check in region EU-WEST-3: someone@elsewhere.example',
      /SES sandbox in region EU-WEST-3: .*Request production access/,
    ],
    ['Throttling', 'Daily message quota exceeded.', /daily sending quota \(Max24HourSend\) is used up/],
  ])('%s (%s) halts the campaign with the fix, never blaming the recipient', (name, message, reason) => {
    const mapped = mapSesError(Object.assign(new Error(message), { name }), {
      from: 'presse@villes-internet.example.org',
    });
    expect(mapped).toBeInstanceOf(SendingHaltedError);
    expect(mapped.message).toMatch(reason);
    expect(mapped.message).not.toContain('someone@elsewhere.example');
  });
});
