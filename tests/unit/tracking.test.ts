/**
 * Opens and clicks (lambdas/core/campaigns/tracking.ts): the signed tokens (forged, changed,
 * expired, of another kind or campaign), the rewriting of an email's links, and the public
 * endpoint's /o/ and /c/ routes over a real folder store.
 */
import { describe, expect, it } from 'vitest';
import {
  ExpiredTrackingTokenError,
  recipientTracking,
  signTrackingToken,
  type TrackingToken,
  trackEmail,
  trackingDays,
  trackingKeys,
  verifyTrackingToken,
} from '../../lambdas/core/campaigns/tracking.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { InvalidTokenError, signUnsubscribeToken } from '../../lambdas/core/contacts/tokens.ts';
import { handlePublicRequest, isPublicPath } from '../../lambdas/core/public/endpoint.ts';
import { compileForRecipients } from '../../lambdas/core/render/recipient.ts';
import { listAll } from '../../lambdas/core/store/object-store.ts';
import { fixtureForEachTest, keys, publicUrl, req } from '../support/subscription-fixtures.ts';

const contact = keys.idOf('jeanne.martin@example.org');
const sentAt = new Date('2026-03-02T09:00:00Z');
const until = new Date(sentAt.getTime() + trackingDays * 86_400_000);
const click: TrackingToken = {
  kind: 'click',
  campaign: 'etude-2021-presse',
  contact,
  until,
  url: 'https://presse.example.org/releases/etude/?a=1&b=2',
};
const payload = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');

describe('tracking tokens', () => {
  it('carry the kind, the campaign, the contact id, the time and the target, never the address', () => {
    const token = signTrackingToken(keys, click);
    expect(token).toMatch(/^t1\.[\w-]+\.[\w-]{43}$/);
    expect(verifyTrackingToken(keys, token, sentAt)).toEqual(click);
    expect(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).not.toContain('@');
    const open = signTrackingToken(keys, { kind: 'open', campaign: 'etude-2021-presse', contact, until });
    expect(verifyTrackingToken(keys, open, sentAt)).toEqual({
      kind: 'open',
      campaign: 'etude-2021-presse',
      contact,
      until,
    });
  });

  it('refuse a forged signature, a payload changed to another campaign, contact or target, and another secret', () => {
    const [version, body, signature] = signTrackingToken(keys, click).split('.') as [string, string, string];
    const seconds = Math.floor(until.getTime() / 1000);
    const changed = [
      ['c', 'autre-campagne', contact, seconds, click.url],
      ['c', click.campaign, keys.idOf('paul@example.org'), seconds, click.url],
      ['c', click.campaign, contact, seconds, 'https://evil.example/'],
      ['c', click.campaign, contact, seconds + 86_400 * 365, click.url],
      ['o', click.campaign, contact, seconds],
    ];
    for (const values of changed) {
      const forged = () => verifyTrackingToken(keys, `${version}.${payload(values)}.${signature}`, sentAt);
      expect(forged).toThrow(InvalidTokenError);
      expect(forged).toThrow(/signature does not match/);
    }
    const flipped = `${version}.${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect(() => verifyTrackingToken(keys, flipped, sentAt)).toThrow(InvalidTokenError);
    const other = contactKeys('another-secret-of-at-least-thirty-two-chars');
    expect(() => verifyTrackingToken(other, signTrackingToken(keys, click), sentAt)).toThrow(
      InvalidTokenError,
    );
  });

  it('refuse a token of another kind (unsubscribe) and one whose target is not a web link', () => {
    const unsubscribe = signUnsubscribeToken(keys, { contact, list: 'presse', campaign: click.campaign });
    expect(() => verifyTrackingToken(keys, unsubscribe, sentAt)).toThrow(/malformed/);
    const script = signTrackingToken(keys, { ...click, url: 'javascript:alert(1)' });
    expect(() => verifyTrackingToken(keys, script, sentAt)).toThrow(/unreadable/);
  });

  it('expire after their time, the expired token still telling where a click went', () => {
    const token = signTrackingToken(keys, click);
    expect(verifyTrackingToken(keys, token, new Date(until.getTime() - 1000))).toEqual(click);
    expect(() => verifyTrackingToken(keys, token, until)).toThrow(ExpiredTrackingTokenError);
    try {
      verifyTrackingToken(keys, token, until);
    } catch (error) {
      expect((error as ExpiredTrackingTokenError).token.url).toBe(click.url);
    }
  });
});

const html = [
  '<html><body>',
  '<a href="https://presse.example.org/releases/etude/?a=1&amp;b=2">La page</a>',
  "<a class='b' href='https://presse.example.org/releases/etude/release.pdf'>Le PDF</a>",
  '<a href="https://presse.example.org/releases/etude/?a=1&amp;b=2">Encore la page</a>',
  '<a href="mailto:presse@example.org">Écrire</a>',
  '<a href="{{unsubscribeUrl}}">Se désinscrire</a>',
  '<img src="https://presse.example.org/logo.png" alt="">',
  '</body></html>',
].join('\n');

describe('the email of a tracked campaign', () => {
  it('has its http(s) links and an image made placeholders, filled with each recipient’s signed links', () => {
    const tracked = trackEmail(html, { opens: true, clicks: true });
    expect(tracked.links).toEqual([
      'https://presse.example.org/releases/etude/?a=1&b=2',
      'https://presse.example.org/releases/etude/release.pdf',
    ]);
    const filled = compileForRecipients({ html: tracked.html, text: '' }).fill({
      recipient: { email: 'jeanne.martin@example.org' },
      unsubscribeUrl: 'https://press.example.org/unsubscribe/u1.x.y',
      tracking: recipientTracking(keys, tracked, {
        campaign: 'etude-2021-presse',
        contact,
        publicUrl: `${publicUrl}/`,
        sentAt,
      }),
    }).html;
    const hrefs = [...filled.matchAll(/href="([^"]+)"/g)].map((m) => m[1] as string);
    expect(hrefs.slice(3)).toEqual([
      'mailto:presse@example.org',
      'https://press.example.org/unsubscribe/u1.x.y',
    ]);
    const targets = hrefs.slice(0, 3).map((href) => {
      expect(href.startsWith(`${publicUrl}/c/t1.`)).toBe(true);
      return verifyTrackingToken(keys, href.slice(`${publicUrl}/c/`.length), sentAt).url;
    });
    expect(targets).toEqual([tracked.links[0], tracked.links[1], tracked.links[0]]);
    // Images are not links: the logo stays; the open image goes last, before </body>.
    expect(filled).toContain('src="https://presse.example.org/logo.png"');
    const pixel = /<img src="([^"]+)" width="1" height="1"[^>]*><\/body>/.exec(filled)?.[1] ?? '';
    expect(pixel).toMatch(new RegExp(`^${publicUrl}/o/t1\\.[\\w-]+\\.[\\w-]+\\.gif$`));
    expect(verifyTrackingToken(keys, pixel.slice(`${publicUrl}/o/`.length, -4), sentAt).kind).toBe('open');
  });

  it('is the archived email as it was for what the campaign does not track', () => {
    expect(trackEmail(html, { opens: false, clicks: false }).html).toBe(html);
    const clicksOnly = trackEmail(html, { opens: false, clicks: true });
    expect(clicksOnly.html).not.toContain('tracking.open');
    const opensOnly = trackEmail(html, { opens: true, clicks: false });
    expect(opensOnly.links).toEqual([]);
    expect(opensOnly.html.replace(/\{\{#if tracking\.open\}\}.*\{\{\/if\}\}/, '')).toBe(html);
  });
});

const f = fixtureForEachTest(sentAt);

describe('the /o/ and /c/ routes', () => {
  const call = (method: string, path: string) => handlePublicRequest(req(method, path), f.deps());
  const events = async () => {
    const out: string[] = [];
    for await (const item of listAll(f.store, trackingKeys.prefix(click.campaign))) out.push(item.key);
    return out;
  };

  it('are the public endpoint’s', () => {
    expect(isPublicPath('/o/t1.a.b.gif')).toBe(true);
    expect(isPublicPath('/c/t1.a.b')).toBe(true);
    expect(isPublicPath('/communiques/')).toBe(false);
  });

  it('a click records one event a minute and redirects to the signed target', async () => {
    const token = signTrackingToken(keys, click);
    const first = await call('GET', `/c/${token}`);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe(click.url);
    expect(first.headers['cache-control']).toBe('no-store');
    await call('GET', `/c/${token}`);
    const keysNow = await events();
    expect(keysNow).toEqual([trackingKeys.event(click, sentAt)]);
    expect(keysNow[0]).toMatch(
      new RegExp(`^campaigns/etude-2021-presse/events/${contact}/click-20260302T0900-`),
    );
    const stored = JSON.parse(Buffer.from((await f.store.get(keysNow[0] as string))?.body ?? []).toString());
    expect(stored).toEqual({ kind: 'click', at: sentAt.toISOString(), url: click.url });
    f.now = new Date(sentAt.getTime() + 60_000);
    await call('GET', `/c/${token}`);
    expect(await events()).toHaveLength(2);
  });

  it('an open answers a 1×1 GIF and records it', async () => {
    const token = signTrackingToken(keys, { kind: 'open', campaign: click.campaign, contact, until });
    const reply = await call('GET', `/o/${token}.gif`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('image/gif');
    expect(reply.isBase64Encoded).toBe(true);
    expect(Buffer.from(reply.body, 'base64').subarray(0, 6).toString()).toBe('GIF89a');
    expect((await events())[0]).toMatch(/\/open-20260302T0900\.json$/);
  });

  it('a forged or changed token gets 404 and records nothing; HEAD and an expired click redirect without recording', async () => {
    const before = await f.snapshot();
    const [version, , signature] = signTrackingToken(keys, click).split('.');
    const evil = `${version}.${payload(['c', click.campaign, contact, Math.floor(until.getTime() / 1000), 'https://evil.example/'])}.${signature}`;
    expect((await call('GET', `/c/${evil}`)).status).toBe(404);
    expect((await call('GET', '/c/not-a-token')).status).toBe(404);
    expect((await call('GET', '/c/%E0%A4%A')).status).toBe(404);
    // An open token on the click route, and the other way round.
    const open = signTrackingToken(keys, { kind: 'open', campaign: click.campaign, contact, until });
    expect((await call('GET', `/c/${open}`)).status).toBe(404);
    expect((await call('GET', `/o/${signTrackingToken(keys, click)}.gif`)).status).toBe(404);
    expect((await call('POST', `/c/${signTrackingToken(keys, click)}`)).status).toBe(405);
    const head = await call('HEAD', `/c/${signTrackingToken(keys, click)}`);
    expect(head.status).toBe(302);
    f.now = until;
    const late = await call('GET', `/c/${signTrackingToken(keys, click)}`);
    expect(late.headers.location).toBe(click.url);
    expect(await f.snapshot()).toEqual(before);
  });
});
