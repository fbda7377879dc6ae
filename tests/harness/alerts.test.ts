import { describe, expect, it } from 'vitest';
import { EventBridgeCampaignScheduler } from '../../lambdas/adapters/scheduler.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { alertCampaignName, alertDelayMs } from '../../lambdas/core/alerts/release-alert.ts';
import { siteDeps } from '../../lambdas/core/archive/publish.ts';
import { withdrawRelease } from '../../lambdas/core/archive/withdraw.ts';
import { readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { cancelCampaignRemotely, scheduleNameFor } from '../../lambdas/core/campaigns/remote.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { releaseText } from '../support/memory-files.ts';
import {
  alertListsYaml,
  alertsContext,
  askSubscription,
  confirmSubscription,
  publishTaggedRelease,
} from './topic-alerts.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * Topic alerts on the stack as its template wires it: an alert list with topics in
 * `config/lists.yaml`; two people subscribe through the public function's URL, each with a
 * topic, and confirm with the link SES carried; a release tagged with one topic is published
 * by the publish bundle, which writes its alert campaign and schedules it in the campaigns'
 * schedule group, with its own role's permissions, as `pressroom schedule --backend aws` does;
 * when Scheduler fires it (assuming the campaigns' scheduler role), the real dispatch bundle
 * starts it and the real send bundle sends it through SES: only the subscriber of that topic is
 * mailed, with a one-click unsubscribe, and no call is denied. Published again, the release's
 * alert is not scheduled twice.
 *
 * A release withdrawn as `archive withdraw --backend aws` does (the operator's Scheduler
 * client) within the minute has its waiting alert cancelled and the schedule deleted.
 *
 * Digests: tests/harness/digests.test.ts.
 */

const context = alertsContext;
const listsYaml = alertListsYaml('      culture: Culture\n');

let world: HarnessWorld;
useHarness(context, (started) => {
  world = started;
});

const slow = 180_000;

function subscribe(email: string, topic: string) {
  return askSubscription(world, { email, list: 'alertes', topic });
}

describe('topic alerts on the stack as synthesized', () => {
  it(
    "subscribers pick topics through public; a release's alert reaches the subscriber of its topic only",
    async () => {
      await world.store.put('config/lists.yaml', listsYaml);
      for (const [email, topic] of [
        ['numerique@exemple.org', 'numerique'],
        ['culture@exemple.org', 'culture'],
      ] as const) {
        const delivery = await subscribe(email, topic);
        expect(delivery.invocation).toMatchObject({ ok: true, result: { statusCode: 200 } });
        await confirmSubscription(world, email);
      }
      const keys = contactKeys(world.secret);
      const { contact } = await findContact(world.store, keys, 'numerique@exemple.org');
      expect(contact?.lists.alertes?.alerts?.topics).toEqual(['numerique']);
      // An unknown topic is refused by the function too.
      const refused = await subscribe('x@exemple.org', 'sport');
      expect(refused.invocation).toMatchObject({ ok: true, result: { statusCode: 400 } });

      const published = await publishTaggedRelease(world, 'Numérique, Villes moyennes');

      const name = alertCampaignName('alertes', 'etude-villes');
      expect(published?.invocation).toMatchObject({
        result: [
          { slug: 'etude-villes', alerts: [{ campaign: name, action: 'scheduled', topics: ['numerique'] }] },
        ],
      });
      // The publish function wrote the campaign, scheduled, and its one-time schedule.
      const record = await readCampaign(world.store, name);
      expect(record).toMatchObject({
        state: 'scheduled',
        definition: { audience: { lists: ['alertes'], topics: ['numerique'] } },
      });
      const sendAt = record.definition.sendAt?.utc as string;
      expect(Date.parse(sendAt) - Date.parse(record.createdAt)).toBeGreaterThanOrEqual(alertDelayMs);
      const scheduleKey = `${world.outputs.ScheduleGroupName}/${scheduleNameFor(name)}`;
      expect([...world.edge.schedules.keys()]).toContain(scheduleKey);
      const definition = world.edge.schedules.get(scheduleKey)?.definition as {
        ScheduleExpression: string;
        ScheduleExpressionTimezone: string;
        ActionAfterCompletion: string;
        Target: { Arn: string; RoleArn: string; Input: string; DeadLetterConfig: { Arn: string } };
      };
      expect(definition).toMatchObject({
        // A minute after publishing, in UTC (the release has no embargo).
        ScheduleExpression: `at(${sendAt.slice(0, 19)})`,
        ScheduleExpressionTimezone: 'UTC',
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: world.outputs.DispatchFunctionArn,
          RoleArn: world.outputs.SchedulerRoleArn,
          DeadLetterConfig: { Arn: world.outputs.ScheduleDeadLetterQueueArn },
        },
      });
      expect(JSON.parse(definition.Target.Input)).toEqual({
        campaign: name,
        scheduledAt: sendAt,
      });
      expect(takeDenials(world)).toEqual([]);

      // Scheduler fires it at its time (dispatch refuses a campaign before its sendAt): wait for it.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(sendAt) - Date.now() + 500)));
      const mailsBefore = world.edge.mails.length;
      const firing = await world.fireSchedule(scheduleKey);
      expect(firing).toMatchObject({ assumed: true, invokeAllowed: true });
      expect(firing.delivery?.function).toMatch(/^DispatchFunction/);
      expect(firing.delivery?.invocation).toMatchObject({ ok: true, result: { audience: 1 } });
      await world.drainQueues();
      const sent = world.edge.mails.slice(mailsBefore);
      expect(sent.map((m) => m.destinations)).toEqual([['numerique@exemple.org']]);
      expect(sent[0]?.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
      expect(takeDenials(world)).toEqual([]);

      // Published again (the same file uploaded again): the alert that went is kept, not sent twice.
      await world.store.put(
        'publications/etude.md',
        releaseText('etude-villes', 'Étude : les villes moyennes', 'tags: [Numérique, Villes moyennes]\n'),
      );
      const [again] = await world.deliverS3Notifications();
      expect(again?.invocation).toMatchObject({
        ok: true,
        result: [{ slug: 'etude-villes', alerts: [{ campaign: name, action: 'kept' }] }],
      });
      expect(world.edge.schedules.has(scheduleKey)).toBe(false);
      expect(takeDenials(world)).toEqual([]);
    },
    slow,
  );

  it(
    "withdrawn from the command line (archive withdraw --backend aws) within the minute, a release's waiting alert is cancelled and its schedule deleted",
    async () => {
      await world.store.put(
        'publications/culture.md',
        releaseText('culture-villes', 'Culture : les villes moyennes', 'tags: [Culture]\n'),
      );
      const [published] = await world.deliverS3Notifications();
      const name = alertCampaignName('alertes', 'culture-villes');
      expect(published?.invocation).toMatchObject({
        ok: true,
        result: [{ slug: 'culture-villes', alerts: [{ campaign: name, action: 'scheduled' }] }],
      });
      const scheduleKey = `${world.outputs.ScheduleGroupName}/${scheduleNameFor(name)}`;
      expect(world.edge.schedules.has(scheduleKey)).toBe(true);
      // As bin/actions/archive.ts builds it on the stack: the bucket, the operator's Scheduler.
      const scheduler = new EventBridgeCampaignScheduler({
        groupName: world.outputs.ScheduleGroupName as string,
        targetArn: world.outputs.DispatchFunctionArn as string,
        roleArn: world.outputs.SchedulerRoleArn as string,
        deadLetterArn: world.outputs.ScheduleDeadLetterQueueArn as string,
        client: world.scheduler,
      });
      const result = await withdrawRelease(
        'culture-villes',
        { reason: 'publiée par erreur', by: 'test@host' },
        {
          store: world.store,
          ...siteDeps(await loadTemplateFiles(), {
            siteUrl: world.outputs.PressRoomUrl as string,
            siteLang: 'fr',
          }),
          cancelAlert: (campaign, now) =>
            cancelCampaignRemotely(campaign, { store: world.store, scheduler }, now),
        },
      );
      expect(result.alerts).toEqual([{ campaign: name, action: 'cancelled', topics: ['culture'] }]);
      expect(world.edge.schedules.has(scheduleKey)).toBe(false);
      expect((await readCampaign(world.store, name)).state).toBe('cancelled');
      expect(takeDenials(world)).toEqual([]);
    },
    slow,
  );
});
