import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { alertCampaignName, alertDelayMs } from '../../lambdas/core/alerts/release-alert.ts';
import { readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { scheduleNameFor } from '../../lambdas/core/campaigns/remote.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { releaseText, villesInternet } from '../support/memory-files.ts';
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
 * Not proven here: digests, which nothing makes on the stack (docs/subscriptions.md says so).
 */

const context = { sender: 'presse@villes-internet.net', sendRate: 14 };
const listsYaml = `lists:
  alertes:
    title: Alertes de Villes Internet
    from: "Villes Internet <alertes@villes-internet.net>"
    topics:
      numerique: Numérique
      culture: Culture
`;

let world: HarnessWorld;
useHarness(context, (started) => {
  world = started;
});

const slow = 180_000;

function subscribe(email: string, topic: string) {
  return world.functionUrlRequest(`${world.outputs.PublicEndpointUrl}subscribe`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ email, list: 'alertes', topic }).toString(),
  });
}

async function confirm(email: string): Promise<void> {
  const mail = world.edge.mails.find((m) => m.destinations.includes(email));
  const link = /https:\/\/\S+\/subscribe\/confirm\/\S+/.exec(
    (await simpleParser(mail?.raw ?? '')).text ?? '',
  )?.[0];
  const delivery = await world.functionUrlRequest(link as string, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: 'confirm=yes',
  });
  expect(delivery.invocation).toMatchObject({ ok: true, result: { statusCode: 200 } });
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
        await confirm(email);
      }
      const keys = contactKeys(world.secret);
      const { contact } = await findContact(world.store, keys, 'numerique@exemple.org');
      expect(contact?.lists.alertes?.alerts?.topics).toEqual(['numerique']);
      // An unknown topic is refused by the function too.
      const refused = await subscribe('x@exemple.org', 'sport');
      expect(refused.invocation).toMatchObject({ ok: true, result: { statusCode: 400 } });

      await world.store.put('publications/organizations/villes-internet.yaml', villesInternet);
      await world.store.put(
        'publications/etude.md',
        releaseText('etude-villes', 'Étude : les villes moyennes', 'tags: [Numérique, Villes moyennes]\n'),
      );
      const [published] = await world.deliverS3Notifications();
      expect(published?.invocation).toMatchObject({ ok: true });

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
});
