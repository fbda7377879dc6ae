import { describe, expect, it } from 'vitest';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { getJson } from '../../lambdas/core/store/object-store.ts';
import { fromNow, pendingRequest } from '../support/subscription-fixtures.ts';
import { eventsMayInvoke, type RuleTarget, scheduledRules } from './rules.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * Unconfirmed subscriptions expire on the stack as synthesized: the scheduled EventBridge rule
 * may invoke its target (the function's resource policy, with the rule's ARN as source), and
 * the target's bundle, invoked with the rule's fixed input, removes expired requests with its
 * own role's permissions, keeps live ones, and logs counts, never an address.
 */

let world: HarnessWorld;
useHarness({ sender: 'presse@villes-internet.net' }, (started) => {
  world = started;
});

const denials = (): string[] => takeDenials(world);

describe('the subscription sweep on the stack as synthesized', () => {
  const hour = 3600_000;

  it('an hourly rule sends { sweep: "subscriptions" } to the public function, which EventBridge may invoke', () => {
    const sweeps = scheduledRules(world).filter((r) =>
      r.targets.some((t) => t.Input !== undefined && JSON.parse(t.Input).sweep === 'subscriptions'),
    );
    expect(sweeps).toHaveLength(1);
    const [rule] = sweeps as [(typeof sweeps)[number]];
    expect(rule.schedule).toBe('rate(1 hour)');
    const target = rule.targets[0] as RuleTarget;
    expect(world.functions.find((f) => f.arn === target.Arn)?.logicalId).toMatch(/^PublicFunction/);
    expect(eventsMayInvoke(world, target.Arn, rule.arn)).toBe('allow');
    expect(eventsMayInvoke(world, target.Arn, rule.arn.replace(/rule\/.*/, 'rule/another-rule'))).toBe(
      'implicit-deny',
    );
  });

  it('fired: expired requests and their addresses go, live ones stay, with no call denied and counts only in the logs', async () => {
    const keys = contactKeys(world.secret);
    const gone = keys.idOf('expiree@exemple.org');
    const kept = keys.idOf('vivante@exemple.org');
    await world.store.put(
      `subscriptions/pending/${gone}.json`,
      JSON.stringify({ id: gone, email: 'expiree@exemple.org', requests: { lettre: pendingRequest(-hour) } }),
    );
    await world.store.put(
      `subscriptions/pending/${kept}.json`,
      JSON.stringify({
        id: kept,
        email: 'vivante@exemple.org',
        requests: { lettre: pendingRequest(hour), 'open-data': pendingRequest(-hour) },
      }),
    );
    await world.store.put(
      `subscriptions/throttle/address/${gone}.json`,
      JSON.stringify({ since: fromNow(-hour), count: 1, windowMs: 600_000 }),
    );
    const [rule] = scheduledRules(world).filter((r) => r.targets.some((t) => t.Input?.includes('"sweep"')));
    const target = rule?.targets[0] as RuleTarget;
    const container = world.container('PublicFunction');
    const from = container.logs.length;
    const invocation = await container.invoke(JSON.parse(target.Input as string));
    expect(invocation).toMatchObject({
      ok: true,
      result: { sweep: 'subscriptions', pending: 1, throttles: 1 },
    });
    expect(denials()).toEqual([]);
    expect(await world.store.head(`subscriptions/pending/${gone}.json`)).toBeUndefined();
    expect(await world.store.head(`subscriptions/throttle/address/${gone}.json`)).toBeUndefined();
    const live = (
      await getJson<{ email?: string; requests: object }>(world.store, `subscriptions/pending/${kept}.json`)
    )?.value;
    expect(Object.keys(live?.requests ?? {})).toEqual(['lettre']);
    // The role's own calls: listed, read, rewritten and deleted under subscriptions/ only.
    const own = world.edge.calls.filter((c) => c.caller === container.spec.logicalId).map((c) => c.operation);
    expect(own).toEqual(expect.arrayContaining(['ListObjectsV2', 'GetObject', 'PutObject', 'DeleteObject']));
    const logs = container.logs.slice(from);
    expect(logs.some((l) => l.includes('subscription sweep') && l.includes('"pending":1'))).toBe(true);
    for (const line of logs) expect(line).not.toMatch(/@exemple\.org/);
  });
});
