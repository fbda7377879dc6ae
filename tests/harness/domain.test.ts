import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSuppressions } from '../../lambdas/core/contacts/audience.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { sourceHash, subscriptionKeys } from '../../lambdas/core/contacts/subscription.ts';
import { siteRequestHeaders } from '../../lambdas/core/public/site-headers.ts';
import { listAll } from '../../lambdas/core/store/object-store.ts';
import type { SentMail } from './edge.ts';
import { type HarnessWorld, startHarness, takeDenials } from './world.ts';

/**
 * One public domain on the stack as synthesized: a visitor subscribes, confirms and
 * unsubscribes on the press room's domain, through CloudFront's behaviours as the template
 * configures them (its CloudFront Function run, its origin's secret header resolved), and the
 * public function's real bundle mails links on that domain, counts the visitor's address
 * (not CloudFront's) and holds to the hourly cap. Links on the function's own URL keep working.
 */

/** A cap of 3 confirmation mails an hour, to reach it. */
const context = { sender: 'presse@villes-internet.net', confirmationsPerHour: 3 };

let world: HarnessWorld;
let site: string;
let functionUrl: string;
beforeAll(async () => {
  world = await startHarness(context);
  site = world.outputs.PressRoomUrl as string;
  functionUrl = world.outputs.PublicEndpointUrl as string;
  await world.store.put(
    'config/lists.yaml',
    'lists:\n  lettre:\n    title: La lettre de Villes Internet\n    from: "Villes Internet <lettre@villes-internet.net>"\n',
  );
}, 120_000);
afterAll(async () => {
  await world?.stop();
});

const denials = (): string[] => takeDenials(world);
const form = (email: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
  body: new URLSearchParams({ email, list: 'lettre' }).toString(),
});
const mailTo = (address: string): SentMail => {
  const mail = world.edge.mails.find((m) => m.destinations.includes(address));
  if (!mail) throw new Error(`no mail was sent to ${address}`);
  return mail;
};
const confirmLink = async (mail: SentMail) =>
  /https:\/\/\S+\/subscribe\/confirm\/\S+/.exec((await simpleParser(mail.raw)).text ?? '')?.[0] as string;
const listUnsubscribe = (mail: SentMail) =>
  /<(https:[^>]+)>/.exec(
    /^List-Unsubscribe:(.*(?:\r?\n[ \t].*)*)/im.exec(mail.raw)?.[1]?.replace(/\r?\n[ \t]/g, '') ?? '',
  )?.[1] as string;
const status = (delivery: Awaited<ReturnType<HarnessWorld['siteRequest']>>) =>
  delivery.invocation.ok ? delivery.invocation.result.statusCode : delivery.invocation;
const sourceWindows = async () => {
  const keys = [];
  for await (const item of listAll(world.store, `${subscriptionKeys.throttlePrefix}source/`))
    keys.push(item.key);
  return keys;
};

describe('one public domain, on the stack as synthesized', () => {
  it("subscribe and confirm on the press room's domain: the mailed links are on it too", async () => {
    const keys = contactKeys(world.secret);
    expect(status(await world.siteRequest(`${site}subscribe`, { method: 'GET' }))).toBe(200);
    const asked = await world.siteRequest(`${site}subscribe`, {
      ...form('abonnee@exemple.org'),
      viewerIp: '203.0.113.50',
    });
    expect(status(asked)).toBe(200);
    const mail = mailTo('abonnee@exemple.org');
    const link = await confirmLink(mail);
    expect(link.startsWith(`${site}subscribe/confirm/`)).toBe(true);
    expect(listUnsubscribe(mail).startsWith(`${site}unsubscribe/`)).toBe(true);
    // The visitor's address is counted, not CloudFront's.
    expect(await sourceWindows()).toEqual([
      subscriptionKeys.sourceThrottle(sourceHash(keys, '203.0.113.50')),
    ]);

    expect(status(await world.siteRequest(link, { method: 'GET' }))).toBe(200);
    const confirmed = await world.siteRequest(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'confirm=yes',
    });
    expect(status(confirmed)).toBe(200);
    const { contact } = await findContact(world.store, keys, 'abonnee@exemple.org');
    expect(Object.keys(contact?.lists ?? {})).toEqual(['lettre']);
    expect(denials()).toEqual([]);
  });

  it("unsubscribe: the RFC 8058 one-click POST through the press room's domain; a link on the function's own URL still works", async () => {
    const link = listUnsubscribe(mailTo('abonnee@exemple.org'));
    const oneClick = {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'Google-Mail-Unsubscribe',
      },
      body: 'List-Unsubscribe=One-Click',
    };
    const viaSite = await world.siteRequest(link, oneClick);
    expect(status(viaSite)).toBe(200);
    // A link mailed before the move, on the function URL: the same token, the same answer.
    const old = link.replace(site, functionUrl);
    expect(old.startsWith(functionUrl)).toBe(true);
    expect(status(await world.functionUrlRequest(old, oneClick))).toBe(200);
    const id = contactKeys(world.secret).idOf('abonnee@exemple.org');
    expect((await loadSuppressions(world.store)).get(id)?.lists?.lettre?.reason).toBe('unsubscribed');
    expect(denials()).toEqual([]);
  });

  it("a direct call with CloudFront's headers but not its secret is taken as direct", async () => {
    const keys = contactKeys(world.secret);
    const forged = await world.functionUrlRequest(`${functionUrl}subscribe`, {
      ...form('direct@exemple.org'),
      headers: {
        ...form('direct@exemple.org').headers,
        [siteRequestHeaders.origin]: 'a guess',
        [siteRequestHeaders.host]: 'evil.example',
        [siteRequestHeaders.viewer]: '192.0.2.99',
      },
      sourceIp: '198.51.100.77',
    });
    expect(status(forged)).toBe(200);
    // Links on the host it was called on; the caller's own address counted.
    expect(
      (await confirmLink(mailTo('direct@exemple.org'))).startsWith(`${functionUrl}subscribe/confirm/`),
    ).toBe(true);
    const windows = await sourceWindows();
    expect(windows).toContain(subscriptionKeys.sourceThrottle(sourceHash(keys, '198.51.100.77')));
    expect(windows).not.toContain(subscriptionKeys.sourceThrottle(sourceHash(keys, '192.0.2.99')));
    expect(denials()).toEqual([]);
  });

  it('past confirmationsPerHour, the form answers 503 with Retry-After and nothing is mailed', async () => {
    // Two mailed so far; the third is the last of the hour.
    expect(status(await world.siteRequest(`${site}subscribe`, form('third@exemple.org')))).toBe(200);
    const mailed = world.edge.mails.length;
    const refused = await world.siteRequest(`${site}subscribe`, {
      ...form('fourth@exemple.org'),
      viewerIp: '203.0.113.51',
    });
    expect(status(refused)).toBe(503);
    const retryAfter = Number(refused.invocation.ok ? refused.invocation.result.headers?.['retry-after'] : 0);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(world.edge.mails).toHaveLength(mailed);
    // Logged as a count, never who asked.
    const logs = refused.invocation.logs.join('\n');
    expect(logs).toContain('subscription confirmations capped for this hour');
    expect(logs).toContain('"limit":3');
    expect(logs).not.toContain('fourth@exemple.org');
    expect(logs).not.toContain('203.0.113.51');
    expect(denials()).toEqual([]);
  });

  it("known limit: CloudFront's error page (404 → the press room's 404) stands in for the function's own", async () => {
    // The distribution's custom error responses apply to every origin, the function's too.
    const direct = await world.functionUrlRequest(`${functionUrl}subscribe?list=fermee`, { method: 'GET' });
    expect(status(direct)).toBe(404);
    expect(direct.invocation.ok && direct.invocation.result.body).toContain('fermee');
    const viaSite = await world.siteRequest(`${site}subscribe?list=fermee`, { method: 'GET' });
    expect(status(viaSite)).toBe(404);
    expect(viaSite.invocation.ok && viaSite.invocation.result.body).not.toContain('fermee');
  });
});
