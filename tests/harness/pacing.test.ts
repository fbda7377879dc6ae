import { describe, expect, it } from 'vitest';
import type { DispatchReport } from '../../lambdas/core/campaigns/dispatch.ts';
import { describePlan } from '../../lambdas/core/campaigns/quota.ts';
import { startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { scheduleNameFor } from '../../lambdas/core/schedule-name.ts';
import { definition, journalist } from '../support/dispatch-fixtures.ts';
import { drainAcknowledged, useCampaignHarness } from '../support/harness-campaigns.ts';
import { dispatchFunction, type HarnessWorld } from './world.ts';

/**
 * Pacing by the SES quota on the stack as synthesized: the real dispatch and send bundles with
 * the template's environment and IAM, SES's GetSendQuota answered by the edge as a small
 * account (100 a day). Dispatch enqueues what fits now and puts the next day's slice in the
 * campaigns' schedule group (its IAM allows it, the scheduler role may invoke dispatch); when
 * Scheduler fires it, the rest goes, nobody twice, and nothing is left for a dead-letter queue.
 */

const context = { sender: 'presse@villes-internet.net', sendRate: 14 };
const audience = 120;

let world: HarnessWorld;
useCampaignHarness(context, audience, (started) => {
  world = started;
});

async function dispatch(name: string): Promise<DispatchReport> {
  return startCampaign(
    definition(name, { from: { name: 'Villes Internet', address: context.sender } }),
    { store: world.store, dispatcher: dispatchFunction(world) },
    `campaigns/${name}.yaml`,
    { pacing: { timeZone: 'Europe/Paris', dailyStart: '09:00' } },
  );
}

const drain = () => drainAcknowledged(world);

/**
 * Scheduler fires the campaign's schedule (assuming the campaigns' role, invoking dispatch),
 * dispatch enqueues what `result` says, and the sends reach everyone once: the campaign is sent.
 */
async function fireThenSendTheRest(name: string, key: string, result: Partial<DispatchReport>) {
  const firing = await world.fireSchedule(key);
  expect(firing).toMatchObject({
    assumed: true,
    invokeAllowed: true,
    delivery: { invocation: { ok: true } },
  });
  expect(firing.delivery?.invocation).toMatchObject({ result });
  await drain();
  const mailed = world.edge.mails.flatMap((m) => m.destinations).sort();
  expect(mailed).toEqual(Array.from({ length: audience }, (_, i) => journalist(i)).sort());
  expect(await campaignStatus(world.store, name, new Date(), world.ledger)).toMatchObject({
    state: 'sent',
    sent: audience,
    failed: 0,
  });
}

describe('a campaign larger than the SES quota allows today', () => {
  it('goes in two days: 95 now (5 kept free), the rest when the next slice’s schedule fires', async () => {
    const name = 'quota-etale';
    world.edge.sendQuota = { max24HourSend: 100, maxSendRate: 14 };
    const first = await dispatch(name);
    expect(first).toMatchObject({ enqueued: 95, later: 25, batches: 2 });
    expect(first.plan?.slices.map((s) => s.count)).toEqual([95, 25]);
    const key = `${world.outputs.ScheduleGroupName}/${first.continuation?.name}`;
    const stored = world.edge.schedules.get(key);
    expect(stored?.definition).toMatchObject({
      ScheduleExpressionTimezone: 'Europe/Paris',
      ActionAfterCompletion: 'DELETE',
      Target: { Input: JSON.stringify({ campaign: name, scheduledAt: first.continuation?.at }) },
    });
    expect(world.edge.denials.splice(0)).toEqual([]);

    await drain();
    expect(world.edge.mails).toHaveLength(95);
    const waiting = await campaignStatus(world.store, name, new Date(), world.ledger);
    expect(waiting).toMatchObject({ state: 'scheduled', sent: 95, failed: 0 });
    expect(waiting.plan && describePlan(waiting.plan)).toMatch(
      /^95 today, 25 (tomorrow|on .+) from \d\d:\d\d Europe\/Paris$/,
    );

    // The next day: the window has moved on. Scheduler assumes the campaigns' role and invokes dispatch.
    world.edge.sendQuota = { max24HourSend: 100, maxSendRate: 14, sentLast24Hours: 0 };
    await fireThenSendTheRest(name, key, { enqueued: 25, alreadyDone: 95, later: 0 });
    // Nothing left for a dead-letter queue.
    for (const [arn, messages] of world.edge.queues) expect(messages, arn).toEqual([]);
    // Two dispatches and their sends: 45 to 80 s on a busy 2-core machine.
  }, 180_000);
});

describe('SES answering that the daily quota is used up', () => {
  it('leaves the rest pending and continues in the next quota window, nobody dropped, nothing paused', async () => {
    const name = 'quota-refuse';
    world.edge.mails.splice(0);
    // GetSendQuota says there is room: SES itself refuses from the 61st send (other mail used it).
    world.edge.sendQuota = { max24HourSend: 1_000, maxSendRate: 14, sentLast24Hours: 0 };
    const first = await dispatch(name);
    expect(first).toMatchObject({ enqueued: audience, later: 0, batches: 3 });
    expect(first.continuation).toBeUndefined();
    let sends = 0;
    world.edge.sesFault = () =>
      sends++ >= 60 ? { code: 'Throttling', message: 'Daily message quota exceeded.' } : undefined;
    const before = Date.now();
    await drain();
    expect(world.edge.mails).toHaveLength(60);

    // Not paused: scheduled, the refused and the unsent pending (no outcome or deferred), none failed.
    const waiting = await campaignStatus(world.store, name, new Date(), world.ledger);
    expect(waiting).toMatchObject({ state: 'scheduled', sent: 60, failed: 0, remaining: audience - 60 });
    expect(waiting.pausedReason).toBeUndefined();
    expect(waiting.runs.at(-1)).toMatchObject({ startedAt: first.run, outcome: 'quota' });
    // The send function put the next quota window in the campaigns' group (its IAM allows it).
    const key = `${world.outputs.ScheduleGroupName}/${scheduleNameFor(name)}`;
    const stored = world.edge.schedules.get(key);
    if (!stored) throw new Error(`no schedule ${key}`);
    const input = JSON.parse((stored.definition.Target as { Input: string }).Input);
    expect(input.campaign).toBe(name);
    expect(Date.parse(input.scheduledAt)).toBeGreaterThanOrEqual(before + 24 * 3_600_000 - 60_000);
    expect(stored.definition).toMatchObject({
      ScheduleExpressionTimezone: 'Europe/Paris',
      ActionAfterCompletion: 'DELETE',
    });

    // The next window: SES takes mail again; Scheduler invokes dispatch, which sends the 60 pending.
    world.edge.sesFault = undefined;
    await fireThenSendTheRest(name, key, { enqueued: audience - 60, alreadyDone: 60 });
  }, 180_000);
});
