import { simpleParser } from 'mailparser';
import { expect } from 'vitest';
import { releaseText, villesInternet } from '../support/memory-files.ts';
import type { Delivery, HarnessWorld } from './world.ts';

/** What the harness tests of topic alerts and digests share: subscribing, publishing a release. */

/** The stack's context of these tests: a sender on a real domain, the sandbox's rate. */
export const alertsContext = { sender: 'presse@villes-internet.net', sendRate: 14 };

/** `config/lists.yaml` with the alert list `alertes` offering `numerique`, and `more` (its other lines). */
export function alertListsYaml(more: string): string {
  return `lists:
  alertes:
    title: Alertes de Villes Internet
    from: "Villes Internet <alertes@villes-internet.net>"
    topics:
      numerique: Numérique
${more}`;
}

const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };

/** A subscription asked on the public function's form (`fields`: email, list, topic, ...). */
export function askSubscription(
  world: HarnessWorld,
  fields: Record<string, string>,
): Promise<Delivery<{ statusCode: number; headers?: Record<string, string>; body?: string }>> {
  return world.functionUrlRequest(`${world.outputs.PublicEndpointUrl}subscribe`, {
    method: 'POST',
    headers: form,
    body: new URLSearchParams(fields).toString(),
  });
}

/** Presses "Confirm" on the link of the confirmation mail SES carried to `email`. */
export async function confirmSubscription(world: HarnessWorld, email: string): Promise<void> {
  const mail = world.edge.mails.find((m) => m.destinations.includes(email));
  const link = /https:\/\/\S+\/subscribe\/confirm\/\S+/.exec(
    (await simpleParser(mail?.raw ?? '')).text ?? '',
  )?.[0];
  const delivery = await world.functionUrlRequest(link as string, {
    method: 'POST',
    headers: form,
    body: 'confirm=yes',
  });
  expect(delivery.invocation).toMatchObject({ ok: true, result: { statusCode: 200 } });
}

/** Uploads the release `etude-villes` with `tags` and its organisation; the publish bundle's delivery. */
export async function publishTaggedRelease(world: HarnessWorld, tags: string): Promise<Delivery<unknown>> {
  await world.store.put('publications/organizations/villes-internet.yaml', villesInternet);
  await world.store.put(
    'publications/etude.md',
    releaseText('etude-villes', 'Étude : les villes moyennes', `tags: [${tags}]\n`),
  );
  const [published] = await world.deliverS3Notifications();
  expect(published?.invocation).toMatchObject({ ok: true });
  return published as Delivery<unknown>;
}
