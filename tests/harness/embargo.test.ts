import { describe, expect, it } from 'vitest';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { uploadRelease } from '../support/harness-campaigns.ts';
import { eventsMayInvoke, scheduledRules } from './rules.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * Embargoes lift on the stack as synthesized: the publish bundle, given an embargoed release,
 * sets its lift in the lifts' schedule group with its own role's permissions (moved when the
 * release is republished with another embargo); when Scheduler fires it (assuming the role the
 * schedule names, trusted for that group), the same function publishes the release and the
 * press room. A 15-minute rule sends the same event in case a lift was missed.
 */

let world: HarnessWorld;
useHarness({ sender: 'presse@villes-internet.net' }, (started) => {
  world = started;
});

const denials = (): string[] => takeDenials(world);

/** The logical id of the one resource of `type` whose id starts with `prefix`. */
function resourceId(type: string, prefix: string): string {
  const ids = world.values.ofType(type).filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0] as string;
}

/** An embargo `seconds` from now, written with its UTC offset, to the second. */
const embargoIn = (seconds: number): string =>
  `${new Date(Date.now() + seconds * 1000).toISOString().slice(0, 19)}+00:00`;

interface ScheduleDefinition {
  ScheduleExpression: string;
  ScheduleExpressionTimezone: string;
  ActionAfterCompletion: string;
  FlexibleTimeWindow: { Mode: string };
  Target: {
    Arn: string;
    RoleArn: string;
    Input: string;
    RetryPolicy: { MaximumEventAgeInSeconds: number; MaximumRetryAttempts: number };
    DeadLetterConfig: { Arn: string };
  };
}

describe('embargoes lift on the stack as synthesized', () => {
  const slug = 'sous-embargo';
  let scheduleKey = '';
  let embargo = '';

  it('a rule sends { lift: "embargoes" } to the publish function every 15 minutes, which EventBridge may invoke', () => {
    const rules = scheduledRules(world).filter((r) =>
      r.targets.some((t) => t.Input !== undefined && JSON.parse(t.Input).lift === 'embargoes'),
    );
    expect(rules).toHaveLength(1);
    const [rule] = rules as [(typeof rules)[number]];
    expect(rule.schedule).toBe('rate(15 minutes)');
    expect(rule.targets).toHaveLength(1);
    const target = rule.targets[0] as (typeof rule.targets)[number];
    expect(JSON.parse(target.Input as string)).toEqual({ lift: 'embargoes' });
    expect(world.functions.find((f) => f.arn === target.Arn)?.logicalId).toMatch(/^PublishFunction/);
    expect(eventsMayInvoke(world, target.Arn, rule.arn)).toBe('allow');
    expect(eventsMayInvoke(world, target.Arn, rule.arn.replace(/rule\/.*/, 'rule/another-rule'))).toBe(
      'implicit-deny',
    );
  });

  it('publishing an embargoed release sets its lift at the embargo, in UTC, invoking publish; republished, the lift moves', async () => {
    const group = world.outputs.EmbargoScheduleGroupName as string;
    expect(group).toBeTruthy();
    const publishArn = world.container('PublishFunction').spec.arn;
    const roleArn = world.values.getAtt(resourceId('AWS::IAM::Role', 'EmbargoLiftsSchedulerRole'), 'Arn');
    const deadLetterArn = world.values.getAtt(
      resourceId('AWS::SQS::Queue', 'EmbargoLiftsDeadLetterQueue'),
      'Arn',
    );
    const publish = async (embargoLine: string) => {
      const [delivery, ...others] = await uploadRelease(world, 'embargo', embargoLine);
      expect(others).toEqual([]);
      return delivery?.invocation.ok ? delivery.invocation.result : delivery?.invocation;
    };

    // First an hour ahead, then moved to 10 seconds ahead: the same schedule, updated.
    const later = embargoIn(3600);
    expect(await publish(`embargo: ${later}\n`)).toEqual([
      expect.objectContaining({
        outcome: 'published',
        slug,
        state: 'embargoed',
        lift: { lift: 'scheduled', name: slug, at: new Date(later).toISOString(), schedule: 'created' },
      }),
    ]);
    embargo = embargoIn(10);
    expect(await publish(`embargo: ${embargo}\n`)).toEqual([
      expect.objectContaining({
        slug,
        state: 'embargoed',
        lift: { lift: 'scheduled', name: slug, at: new Date(embargo).toISOString(), schedule: 'updated' },
      }),
    ]);
    expect(denials()).toEqual([]);
    const calls = world.edge.calls
      .filter((c) => c.service === 'scheduler')
      .map((c) => [c.operation, c.status]);
    expect(calls).toEqual([
      ['CreateSchedule', 200],
      ['CreateSchedule', 409],
      ['UpdateSchedule', 200],
    ]);

    scheduleKey = `${group}/${slug}`;
    // The lifts' group holds this one lift (the template's digests schedule is in its own group).
    expect([...world.edge.schedules.keys()].filter((k) => k.startsWith(`${group}/`))).toEqual([scheduleKey]);
    const definition = world.edge.schedules.get(scheduleKey)?.definition as unknown as ScheduleDefinition;
    expect(definition).toMatchObject({
      ScheduleExpression: `at(${new Date(embargo).toISOString().slice(0, 19)})`,
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: publishArn,
        RoleArn: roleArn,
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 185 },
        DeadLetterConfig: { Arn: deadLetterArn },
      },
    });
    expect(JSON.parse(definition.Target.Input)).toEqual({ lift: 'embargoes', release: slug });
    // Embargoed: in the archive, not in the press room.
    expect(await getText(world.store, 'site/index.html')).not.toContain(`releases/${slug}/`);
    expect(await world.store.head(`site/releases/${slug}/index.html`)).toBeUndefined();
    // Nor in its search index (docs/search.md): its words wait in the private catalogue.
    expect((await getText(world.store, 'site/search/2021.json')) ?? '').not.toContain(slug);
    expect(await getText(world.store, 'catalog/search/2021.json')).toContain(slug);
  }, 60_000);

  it('a lift that fires early publishes nothing', async () => {
    const definition = world.edge.schedules.get(scheduleKey)?.definition as unknown as ScheduleDefinition;
    const early = await world.container('PublishFunction').invoke(JSON.parse(definition.Target.Input));
    expect(early).toMatchObject({ ok: true, result: { lift: 'embargoes', released: [] } });
    expect(await world.store.head(`site/releases/${slug}/index.html`)).toBeUndefined();
    expect(denials()).toEqual([]);
  });

  it('fired after the embargo: Scheduler may assume the role and invoke publish, which puts the release in the press room', async () => {
    const wait = Date.parse(embargo) - Date.now() + 1000;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const container = world.container('PublishFunction');
    const from = container.logs.length;
    const firing = await world.fireSchedule(scheduleKey);
    expect(firing).toMatchObject({ assumed: true, invokeAllowed: true, deadLetterAllowed: true });
    expect(firing.delivery?.invocation).toMatchObject({
      ok: true,
      result: { lift: 'embargoes', released: [slug] },
    });
    expect(denials()).toEqual([]);
    // Run once, the schedule is gone (ActionAfterCompletion DELETE).
    expect(world.edge.schedules.has(scheduleKey)).toBe(false);

    expect(await getText(world.store, `site/releases/${slug}/index.html`)).toContain('Annonce sous embargo');
    expect(await getText(world.store, 'site/index.html')).toContain(`releases/${slug}/`);
    expect(await getText(world.store, 'site/feed.xml')).toContain(`releases/${slug}/`);
    // The release's year (2021, its date) is in the sitemap.
    expect(await getText(world.store, 'site/sitemaps/2021.xml')).toContain(`releases/${slug}/`);
    // And in its year's search index, beside the script the pages name, written by the function
    // from the templates it carries.
    expect(await getText(world.store, 'site/search/2021.json')).toContain(`releases/${slug}/`);
    const home = (await getText(world.store, 'site/index.html')) ?? '';
    const script = /<script src="(assets\/search-[0-9a-f]{12}\.js)"/.exec(home)?.[1];
    expect(await world.store.head(`site/${script}`)).toMatchObject({
      contentType: 'text/javascript; charset=utf-8',
    });
    const logs = container.logs.slice(from);
    expect(logs.some((l) => l.includes('embargo lift') && l.includes('"count":1'))).toBe(true);

    // The safety refresh afterwards: nothing left to lift.
    const again = await container.invoke({ lift: 'embargoes' });
    expect(again).toMatchObject({ ok: true, result: { released: [] } });
  }, 60_000);
});
