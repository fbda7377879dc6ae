import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { releaseAlerts } from '../../lambdas/core/alerts/release-alert.ts';
import { readManifest } from '../../lambdas/core/archive/manifest.ts';
import { startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { parseSubscribableLists } from '../../lambdas/core/contacts/subscription-lists.ts';
import { releaseText, villesInternet } from '../support/memory-files.ts';
import { dispatchFunction, type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * Topic alerts on the stack as its template wires it: an alert list with topics in
 * `config/lists.yaml`; two people subscribe through the public function's URL, each with a
 * topic, and confirm with the link SES carried; a release tagged with one topic is published
 * by the publish bundle; its alert (the campaign publishing writes locally) is started through
 * the real dispatch bundle and sent by the real send bundle through SES: only the subscriber
 * of that topic is mailed, with a one-click unsubscribe, and no call is denied.
 *
 * Not proven here: on the stack the publish function writes no alert and nothing makes
 * digests (docs/subscriptions.md says so); the alert is started as an operator would.
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

      const { summary } = await readManifest(world.store, 'etude-villes');
      const lists = parseSubscribableLists(listsYaml, 'config/lists.yaml');
      const [alert, ...more] = releaseAlerts(summary, lists, new Date());
      expect(more).toEqual([]);
      // Started now, as `pressroom send --backend aws` would: the stack's dispatch and send.
      const { sendAt: _later, ...now } = alert as NonNullable<typeof alert>;
      const mailsBefore = world.edge.mails.length;
      const report = await startCampaign(
        now,
        { store: world.store, dispatcher: dispatchFunction(world) },
        'alert of etude-villes',
      );
      expect(report).toMatchObject({ audience: 1 });
      await world.drainQueues();
      const sent = world.edge.mails.slice(mailsBefore);
      expect(sent.map((m) => m.destinations)).toEqual([['numerique@exemple.org']]);
      expect(sent[0]?.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
      expect(takeDenials(world)).toEqual([]);
    },
    slow,
  );
});
