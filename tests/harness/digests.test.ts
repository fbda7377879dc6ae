import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { digestKeys } from '../../lambdas/core/alerts/digest.ts';
import { readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { scheduleNameFor } from '../../lambdas/core/campaigns/remote.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { digestCron, digestEvent } from '../../lib/digests.ts';
import {
  alertListsYaml,
  alertsContext,
  askSubscription,
  confirmSubscription,
  publishTaggedRelease,
} from './topic-alerts.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * Daily digests of topic alerts on the stack as its template wires it: the template holds a
 * recurring schedule at 08:00 in the stack's timeZone that invokes the publish bundle with
 * `{"digests": "due"}`, with the digests' own role and dead-letter queue. Two people
 * subscribe to the alert list through the public function, one for a daily digest, one for
 * immediate alerts; a release tagged with their topic is published. Fired (as Scheduler
 * does, assuming the role), the first run only marks the time; fired again a day later (the
 * mark and the release moved back a day), it publishes the digest issue and schedules its
 * campaign in the campaigns' group a minute later; fired in turn, dispatch and send mail the
 * daily subscriber alone, with no call denied.
 */

const timeZone = 'Europe/Paris';
const context = { ...alertsContext, timeZone };
const listsYaml = alertListsYaml('    frequencies: [immediate, daily]\n');

let world: HarnessWorld;
useHarness(context, (started) => {
  world = started;
});

const slow = 240_000;

async function subscribe(email: string, frequency: string): Promise<void> {
  const asked = await askSubscription(world, { email, list: 'alertes', topic: 'numerique', frequency });
  expect(asked.invocation).toMatchObject({ ok: true, result: { statusCode: 200 } });
  await confirmSubscription(world, email);
}

describe('digests on the stack as synthesized', () => {
  it(
    "the 08:00 schedule makes the daily digest, and its campaign mails the digest's subscriber alone",
    async () => {
      // The template's schedule: every day at 08:00 in the stack's zone, invoking publish.
      const [key, ...others] = [...world.edge.schedules.keys()];
      expect(others).toEqual([]);
      const schedule = world.edge.schedules.get(key as string);
      const definition = schedule?.definition as {
        ScheduleExpression: string;
        ScheduleExpressionTimezone: string;
        FlexibleTimeWindow: { Mode: string };
        Target: { Arn: string; Input: string };
      };
      expect(definition).toMatchObject({
        ScheduleExpression: digestCron,
        ScheduleExpressionTimezone: timeZone,
        FlexibleTimeWindow: { Mode: 'OFF' },
      });
      expect(digestCron).toBe('cron(0 8 * * ? *)');
      expect(JSON.parse(definition.Target.Input)).toEqual(digestEvent);

      await world.store.put('config/lists.yaml', listsYaml);
      await subscribe('quotidien@exemple.org', 'daily');
      await subscribe('immediat@exemple.org', 'immediate');
      await publishTaggedRelease(world, 'Numérique');
      expect(takeDenials(world)).toEqual([]);

      // The first run marks the time: no digest of the past.
      const first = await world.fireSchedule(key as string);
      expect(first).toMatchObject({ assumed: true, invokeAllowed: true, deadLetterAllowed: true });
      expect(first.delivery?.function).toMatch(/^PublishFunction/);
      expect(first.delivery?.invocation).toMatchObject({
        ok: true,
        result: { digests: 'due', campaigns: [] },
      });
      expect(await getText(world.store, digestKeys.state('alertes'))).toContain('"daily"');
      // A recurring schedule stays after it ran.
      expect(world.edge.schedules.has(key as string)).toBe(true);

      // A day later: the release came out since the last digest.
      const tagKey = 'catalog/tags/numerique.json';
      const yesterday = new Date(Date.now() - 26 * 3600_000).toISOString();
      const tag = (await getText(world.store, tagKey)) as string;
      await world.store.put(
        tagKey,
        tag.replace(/"publishedAt":\s*"[^"]+"/g, `"publishedAt": "${yesterday}"`),
      );
      await world.store.put(
        digestKeys.state('alertes'),
        JSON.stringify({ daily: new Date(Date.now() - 50 * 3600_000).toISOString() }),
      );
      const second = await world.fireSchedule(key as string);
      expect(second.delivery?.invocation).toMatchObject({ ok: true });
      const report = second.delivery?.invocation as
        | { result: { campaigns: { name: string; sendAt: string }[] } }
        | undefined;
      expect(report?.result.campaigns).toEqual([
        expect.objectContaining({
          list: 'alertes',
          frequency: 'daily',
          releases: ['etude-villes'],
          people: 1,
        }),
      ]);
      const [{ name, sendAt }] = (report?.result.campaigns ?? []) as [{ name: string; sendAt: string }];
      expect(name).toMatch(/^digest-alertes-daily-\d{4}-\d{2}-\d{2}-1$/);
      expect(await readCampaign(world.store, name)).toMatchObject({
        state: 'scheduled',
        definition: { newsletter: name, audience: { lists: ['alertes'], alertFrequency: 'daily' } },
      });
      const campaignSchedule = `${world.outputs.ScheduleGroupName}/${scheduleNameFor(name)}`;
      expect(world.edge.schedules.get(campaignSchedule)?.definition).toMatchObject({
        ScheduleExpression: `at(${sendAt.slice(0, 19)})`,
        Target: { Arn: world.outputs.DispatchFunctionArn, RoleArn: world.outputs.SchedulerRoleArn },
      });
      expect(takeDenials(world)).toEqual([]);

      // Scheduler starts the campaign at its time (dispatch refuses one before its sendAt).
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(sendAt) - Date.now() + 500)));
      const mailsBefore = world.edge.mails.length;
      const firing = await world.fireSchedule(campaignSchedule);
      expect(firing.delivery?.invocation).toMatchObject({ ok: true, result: { audience: 1 } });
      await world.drainQueues();
      const sent = world.edge.mails.slice(mailsBefore);
      expect(sent.map((m) => m.destinations)).toEqual([['quotidien@exemple.org']]);
      const mail = await simpleParser(sent[0]?.raw ?? '');
      expect(mail.subject).toMatch(/^Alertes de Villes Internet – \d{4}-\d{2}-\d{2}$/);
      expect(mail.html).toContain('etude-villes');
      expect(takeDenials(world)).toEqual([]);
    },
    slow,
  );
});
