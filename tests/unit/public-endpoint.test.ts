/**
 * The public endpoint of the core (`handlePublicRequest`), called as the local server and a
 * Function URL handler call it: each route, each bad input (a clear page, its status, and a
 * store left byte for byte as it was), the security headers, and the confirmation email.
 */
import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../../lambdas/core/campaigns/mailer.ts';
import { applyHardBounce } from '../../lambdas/core/contacts/feedback.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { signSubscriptionToken, signUnsubscribeToken } from '../../lambdas/core/contacts/tokens.ts';
import { handlePublicRequest, honeypotField, isPublicPath } from '../../lambdas/core/public/endpoint.ts';
import {
  confirmBody,
  confirmPath,
  fixtureForEachTest,
  formHeaders,
  keys,
  parse,
  req,
  subscribeForm,
} from '../support/subscription-fixtures.ts';

const f = fixtureForEachTest();

const call = (request: Parameters<typeof handlePublicRequest>[0], settings = {}) =>
  handlePublicRequest(request, f.deps(settings));

const jeanne = { email: 'Jeanne.Martin@Example.org', name: 'Jeanne Martin', list: 'lettre' };

/** Runs `action` and checks that it left the store exactly as it was. */
async function unchanged<T>(action: () => Promise<T>): Promise<T> {
  const before = await f.snapshot();
  const result = await action();
  expect(await f.snapshot()).toEqual(before);
  return result;
}

describe('routes', () => {
  it('answers its own paths only', () => {
    for (const p of [
      '/subscribe',
      '/subscribe/',
      '/subscribe/confirm/x',
      '/unsubscribe/x',
      '/subscribe/other',
    ])
      expect(isPublicPath(p), p).toBe(true);
    for (const p of ['/', '/index.html', '/subscriber', '/releases/x/', '/_signed/x', '/unsubscribe'])
      expect(isPublicPath(p), p).toBe(false);
  });

  it('gives a 404 page under /subscribe/ for anything else, and 405 for other methods', async () => {
    const other = await call(
      req('GET', '/subscribe/other', { headers: { 'accept-language': 'en-GB,en;q=0.9' } }),
    );
    expect(other.status).toBe(404);
    expect(other.body).toContain('Not found');
    const put = await call(req('PUT', '/subscribe'));
    expect(put).toMatchObject({ status: 405, headers: { allow: 'GET, HEAD, POST, OPTIONS' } });
    expect((await call(req('DELETE', '/subscribe/confirm/s1.a.b'))).status).toBe(405);
    expect((await call(req('PATCH', '/unsubscribe/u1.a.b'))).status).toBe(400);
  });

  it("answers a CORS preflight for scripts that post JSON from the organisation's site", async () => {
    const reply = await call(
      req('OPTIONS', '/subscribe', { headers: { origin: 'https://www.example.org' } }),
    );
    expect(reply.status).toBe(204);
    expect(reply.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST, GET, OPTIONS',
    });
    expect(reply.headers['access-control-allow-headers']).toContain('content-type');
  });

  it('sends pages that cannot be framed, leak no referrer, run no script, and are not cached', async () => {
    const reply = await call(req('GET', '/subscribe?list=lettre'));
    expect(reply.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
    expect(reply.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
    expect(reply.body).not.toContain('<script');
  });

  it('answers HEAD like GET without a body', async () => {
    const reply = await call(req('HEAD', '/subscribe?list=lettre'));
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('');
  });
});

describe('GET /subscribe: the form', () => {
  it("for one list: the list as a hidden field, the honeypot, in the list's language", async () => {
    const reply = await unchanged(() => call(req('GET', '/subscribe?list=lettre')));
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('<html lang="fr">');
    expect(reply.body).toContain('Recevoir «\u202fLa lettre de Villes Internet\u202f» par courriel.');
    expect(reply.body).toContain('<input type="hidden" name="list" value="lettre">');
    expect(reply.body).toContain(`name="${honeypotField}" type="text" tabindex="-1" autocomplete="off"`);
    expect(reply.body).toMatch(/<form method="post"[^>]*>/);
    expect(reply.body).toContain('name="email" type="email" required');
  });

  it('for every open list: a choice, in the language asked', async () => {
    const reply = await call(req('GET', '/subscribe?lang=en'));
    expect(reply.body).toContain('<html lang="en">');
    expect(reply.body).toContain('<option value="lettre">The Villes Internet newsletter</option>');
    expect(reply.body).toContain('<option value="open-data">Open data barometer updates</option>');
  });

  it('an unknown or closed list, or no open list at all: 404 and a clear page', async () => {
    const closed = await unchanged(() => call(req('GET', '/subscribe?list=presse')));
    expect(closed.status).toBe(404);
    expect(closed.body).toContain('Aucune liste «\u202fpresse\u202f» n’est ouverte aux inscriptions ici.');
    const none = await call(req('GET', '/subscribe'), { lists: {} });
    expect(none.status).toBe(404);
  });
});

describe('POST /subscribe', () => {
  it('mails a confirmation link and records only a pending request, keyed by the contact id', async () => {
    const reply = await call(subscribeForm(jeanne));
    expect(reply.status).toBe(200);
    expect(reply.headers['access-control-allow-origin']).toBe('*');
    expect(reply.body).toContain('Consultez votre messagerie');
    expect(reply.body).toContain('dans les 48\u00a0heures');
    expect(f.mailer.sent).toHaveLength(1);

    const message = f.mailer.sent[0] as (typeof f.mailer.sent)[number];
    const id = keys.idOf(jeanne.email);
    expect(message).toMatchObject({
      to: 'Jeanne.Martin@example.org',
      from: 'lettre@villes-internet.example.org',
      campaign: '_subscriptions',
    });
    expect(message.messageId).toMatch(
      new RegExp(`^<subscription\\.[a-z0-9]+\\.${id}@villes-internet\\.example\\.org>$`),
    );
    const parsed = await parse(message);
    expect(parsed.subject).toBe('Confirmez votre inscription à «\u202fLa lettre de Villes Internet\u202f»');
    expect(parsed.from?.value).toEqual([
      { name: 'Villes Internet', address: 'lettre@villes-internet.example.org' },
    ]);
    expect(parsed.replyTo?.text).toBe('contact@villes-internet.example.org');
    const rawText = Buffer.from(message.raw).toString('latin1');
    expect(rawText).toContain('\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n');
    expect(rawText).toMatch(
      /\r\nList-Unsubscribe: <https:\/\/press\.example\.org\/unsubscribe\/u1\.[\w.-]+>/,
    );
    const link = await confirmPath(message);
    expect(parsed.html).toContain(`href="https://press.example.org${link}"`);
    expect(parsed.text).toContain('Quelqu’un, sans doute vous, a demandé à recevoir');
    // Nothing typed in the form but the address reaches the email.
    expect(`${parsed.text}${parsed.html}`).not.toContain('Jeanne Martin');

    const keysStored = Object.keys(await f.snapshot());
    expect(keysStored.sort()).toEqual(
      [
        `subscriptions/pending/${id}.json`,
        `subscriptions/throttle/address/${id}.json`,
        // The hourly cap's counter: a count, no address.
        'subscriptions/throttle/confirmations.json',
      ].sort(),
    );
    expect(keysStored.join(' ')).not.toMatch(/jeanne/i);
    expect((await findContact(f.store, keys, jeanne.email)).contact).toBeUndefined();
  });

  it('takes JSON and answers JSON; a base64 body (Function URLs) is read too', async () => {
    const body = JSON.stringify({ email: 'alex@example.org', list: 'open-data', lang: 'en' });
    const reply = await call(
      req('POST', '/subscribe', { body, headers: { 'content-type': 'application/json' } }),
    );
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(reply.body)).toMatchObject({ status: 'pending' });
    expect((await parse(f.mailer.sent[0] as never)).subject).toBe(
      'Confirm your subscription to “Open data barometer updates”',
    );
    const encoded = await call(
      req('POST', '/subscribe', {
        body: new URLSearchParams({ email: 'sam@example.org', list: 'lettre', lang: 'en' }).toString(),
        headers: formHeaders,
        base64: true,
      }),
    );
    expect(encoded.status).toBe(200);
    expect(encoded.body).toContain('Check your mailbox');
    expect(f.mailer.sent.map((m) => m.to)).toEqual(['alex@example.org', 'sam@example.org']);
  });

  it("chooses the language: the lang field, else the list's, else Accept-Language, else the default", async () => {
    const english = { 'accept-language': 'en-US,en;q=0.9' };
    const asked = await call(subscribeForm({ ...jeanne, lang: 'en' }, { headers: english }));
    expect(asked.body).toContain('<html lang="en">');
    f.now = new Date(f.now.getTime() + 11 * 60_000);
    const byList = await call(subscribeForm({ email: 'b@example.org', list: 'open-data' }));
    expect(byList.body).toContain('<html lang="en">');
    const byHeader = await call(subscribeForm({ email: 'x', list: 'nope' }, { headers: english }));
    expect(byHeader.body).toContain('<html lang="en">');
    const byDefault = await call(subscribeForm({ email: 'x', list: 'nope' }));
    expect(byDefault.body).toContain('<html lang="fr">');
  });

  describe('bad input: a clear page, its status, nothing stored and nothing mailed', () => {
    const cases: [string, () => ReturnType<typeof req>, number, string][] = [
      [
        'invalid address',
        () => subscribeForm({ ...jeanne, email: 'jeanne.martin@' }),
        400,
        '«\u202fjeanne.martin@\u202f» n’est pas une adresse électronique valide',
      ],
      ['no address', () => subscribeForm({ list: 'lettre' }), 400, 'Adresse non valide'],
      [
        'unknown list',
        () => subscribeForm({ ...jeanne, list: 'nope' }),
        400,
        'Aucune liste «\u202fnope\u202f» n’est ouverte',
      ],
      [
        'a list that exists but is not open (the press list)',
        () => subscribeForm({ ...jeanne, list: 'presse' }),
        400,
        'Liste inconnue',
      ],
      ['no list', () => subscribeForm({ email: jeanne.email }), 400, 'Liste inconnue'],
      [
        'a name of 101 characters',
        () => subscribeForm({ ...jeanne, name: 'x'.repeat(101) }),
        400,
        'Le champ «\u202fname\u202f» est trop long',
      ],
      [
        'control characters in a name',
        () => subscribeForm({ ...jeanne, lastName: 'Martin\r\nBcc: x@y' }),
        400,
        'caractères de contrôle',
      ],
      ['a body over 16 KB', () => subscribeForm({ ...jeanne, name: 'x'.repeat(17_000) }), 413, 'too large'],
      [
        'multipart',
        () =>
          req('POST', '/subscribe', {
            body: '--x',
            headers: { 'content-type': 'multipart/form-data; boundary=x' },
          }),
        415,
        'x-www-form-urlencoded',
      ],
      [
        'broken JSON',
        () =>
          req('POST', '/subscribe', { body: '{"email":', headers: { 'content-type': 'application/json' } }),
        400,
        'JSON object',
      ],
      [
        'a JSON array',
        () => req('POST', '/subscribe', { body: '[1]', headers: { 'content-type': 'application/json' } }),
        400,
        'JSON object',
      ],
    ];
    for (const [what, request, status, text] of cases) {
      it(what, async () => {
        const reply = await unchanged(() => call(request()));
        expect(reply.status).toBe(status);
        expect(reply.body).toContain(text);
        expect(f.mailer.sent).toEqual([]);
      });
    }

    it('escapes what it shows back', async () => {
      const reply = await call(subscribeForm({ email: '<script>alert(1)</script>@x', list: '<b>x</b>' }));
      expect(reply.status).toBe(400);
      expect(reply.body).not.toContain('<script>alert');
      expect(reply.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;@x');
    });

    it('answers JSON errors to JSON requests', async () => {
      const reply = await call(
        req('POST', '/subscribe', {
          body: JSON.stringify({ email: 'nope', list: 'lettre' }),
          headers: { 'content-type': 'application/json' },
        }),
      );
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body)).toMatchObject({ error: 'invalid-email' });
    });
  });

  it('a filled honeypot gets the answer anyone gets, and nothing happens', async () => {
    const bot = await unchanged(() =>
      call(subscribeForm({ ...jeanne, [honeypotField]: 'https://spam.example' })),
    );
    expect(f.mailer.sent).toEqual([]);
    const person = await call(subscribeForm(jeanne));
    expect(bot.status).toBe(person.status);
    expect(bot.body).toBe(person.body);
    expect(f.mailer.sent).toHaveLength(1);
  });

  it('does not tell a blocked address from a new one: same answer, and no email to the blocked one', async () => {
    await applyHardBounce(f.store, keys, 'bounced@example.org', f.now);
    const blocked = await unchanged(() =>
      call(subscribeForm({ email: 'bounced@example.org', list: 'lettre' })),
    );
    const fresh = await call(subscribeForm({ email: 'fresh@example.org', list: 'lettre' }));
    expect(blocked).toEqual(fresh);
    expect(f.mailer.sent.map((m) => m.to)).toEqual(['fresh@example.org']);
  });

  it('a mail provider that cannot send now: 503, and the address may try again at once', async () => {
    f.mailer.fail = new ThrottledError('Maximum sending rate exceeded');
    const failed = await call(subscribeForm(jeanne));
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toBe('300');
    expect(failed.body).toContain('Réessayez plus tard');
    f.mailer.fail = undefined;
    const again = await call(subscribeForm(jeanne));
    expect(again.status).toBe(200);
    expect(f.mailer.sent).toHaveLength(1);
  });
});

describe('/subscribe/confirm/<token>', () => {
  async function requested(fields = jeanne): Promise<string> {
    expect((await call(subscribeForm(fields))).status).toBe(200);
    return confirmPath(f.mailer.sent.at(-1) as never);
  }

  it('GET shows the list and the name with a button, and changes nothing (link scanners)', async () => {
    const link = await requested();
    const page = await unchanged(async () => {
      const reply = await call(req('GET', link));
      expect((await call(req('HEAD', link))).status).toBe(200);
      return reply;
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Recevoir «\u202fLa lettre de Villes Internet\u202f» à cette adresse\u202f?');
    expect(page.body).toContain('<dt>Nom</dt><dd>Jeanne Martin</dd>');
    expect(page.body).toContain('<input type="hidden" name="confirm" value="yes">');
    expect(page.body).toContain('<button type="submit">Confirmer mon inscription</button>');
    expect((await findContact(f.store, keys, jeanne.email)).contact).toBeUndefined();
  });

  it('POST confirm=yes adds the contact to the list with its consent; the link then says so again', async () => {
    const link = await requested();
    const requestedAt = f.now.toISOString();
    f.now = new Date(f.now.getTime() + 3600_000);
    const reply = await call(req('POST', link, confirmBody));
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('Inscription confirmée');
    const { contact } = await findContact(f.store, keys, jeanne.email);
    expect(contact).toMatchObject({
      email: 'Jeanne.Martin@example.org',
      firstName: 'Jeanne Martin',
      language: 'fr',
      lists: {
        lettre: {
          source: 'form',
          consent: { method: 'double-opt-in', requestedAt, confirmedAt: f.now.toISOString() },
        },
      },
    });
    // The request is gone with the address and name it held; the empty record is left for
    // the purge (deleting it here could delete a request written meanwhile).
    const id = keys.idOf(jeanne.email);
    const left = await f.store.get(`subscriptions/pending/${id}.json`);
    expect(JSON.parse(new TextDecoder().decode(left?.body))).toEqual({ id, requests: {} });
    expect(new TextDecoder().decode(left?.body)).not.toMatch(/jeanne|@/i);
    const again = await unchanged(() => call(req('POST', link, confirmBody)));
    expect(again.status).toBe(200);
    expect(again.body).toContain('Inscription confirmée');
  });

  it('a POST without confirm=yes gets 400 and changes nothing', async () => {
    const link = await requested();
    for (const body of ['', 'confirm=no', 'List-Unsubscribe=One-Click']) {
      const reply = await unchanged(() => call(req('POST', link, { body, headers: formHeaders })));
      expect(reply.status, body).toBe(400);
    }
  });

  it('tampered, forged, malformed: 400 and a clear page, nothing changed', async () => {
    const link = await requested();
    const token = link.slice('/subscribe/confirm/'.length);
    const [v, payload, mac] = token.split('.') as [string, string, string];
    const other = Buffer.from(JSON.stringify([keys.idOf(jeanne.email), 'open-data', 4_000_000_000])).toString(
      'base64url',
    );
    const bad = [
      `/subscribe/confirm/${v}.${payload}.${mac.slice(0, -2)}AA`,
      `/subscribe/confirm/${v}.${other}.${mac}`,
      `/subscribe/confirm/${signUnsubscribeToken(keys, { contact: keys.idOf(jeanne.email), list: 'lettre', campaign: 'x' })}`,
      '/subscribe/confirm/%E0%A4%A',
      '/subscribe/confirm/',
    ];
    for (const path of bad) {
      for (const method of ['GET', 'POST']) {
        const reply = await unchanged(() => call(req(method, path, confirmBody)));
        expect(reply.status, `${method} ${path}`).toBe(400);
        expect(reply.body).toContain('Ce lien de confirmation n’est pas valide ou a été modifié');
        expect(reply.body).not.toContain('<form');
      }
    }
  });

  it("expired after 48 hours: 410, in the request's language, nothing changed", async () => {
    const link = await requested({ ...jeanne, lang: 'en' } as typeof jeanne);
    f.now = new Date(f.now.getTime() + 48 * 3600_000);
    for (const method of ['GET', 'POST']) {
      const reply = await unchanged(() => call(req(method, link, confirmBody)));
      expect(reply.status).toBe(410);
      expect(reply.body).toContain('<html lang="en">');
      expect(reply.body).toContain('This confirmation link has expired or was already used.');
    }
    expect((await findContact(f.store, keys, jeanne.email)).contact).toBeUndefined();
  });

  it('a list closed since the request: 404, nothing changed', async () => {
    const link = await requested();
    const reply = await unchanged(() => call(req('POST', link, confirmBody), { lists: {} }));
    expect(reply.status).toBe(404);
    expect(reply.body).toContain('Liste inconnue');
  });

  it('a well-signed link with no request behind it (purged, or never made): 410', async () => {
    const token = signSubscriptionToken(keys, {
      contact: keys.idOf('nobody@example.org'),
      list: 'lettre',
      expiresAt: new Date(f.now.getTime() + 3600_000),
    });
    const reply = await unchanged(() => call(req('POST', `/subscribe/confirm/${token}`, confirmBody)));
    expect(reply.status).toBe(410);
  });
});

describe('/unsubscribe/<token> (moved into the core, unchanged)', () => {
  it('GET: a page with a one-click button; POST One-Click: unsubscribed; a bad token: 400', async () => {
    const contact = keys.idOf('jeanne@example.org');
    const link = `/unsubscribe/${signUnsubscribeToken(keys, { contact, list: 'lettre', campaign: 'c' })}`;
    const page = await unchanged(() => call(req('GET', link)));
    expect(page.status).toBe(200);
    expect(page.body).toContain('name="List-Unsubscribe" value="One-Click"');
    const done = await call(req('POST', link, { body: 'List-Unsubscribe=One-Click', headers: formHeaders }));
    expect(done).toMatchObject({ status: 200, body: 'Unsubscribed.\n' });
    expect((await findContact(f.store, keys, 'jeanne@example.org')).suppression?.lists?.lettre).toMatchObject(
      {
        reason: 'unsubscribed',
      },
    );
    const bad = await unchanged(() =>
      call(req('POST', `${link.slice(0, -3)}xyz`, { body: 'List-Unsubscribe=One-Click' })),
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('Lien non valide');
  });
});

describe('the unsubscribe page names lists as people know them', () => {
  const contact = keys.idOf('jeanne@example.org');
  /** French typography puts no-break spaces inside « »: compared as spaces. */
  const spaces = /[\u00a0\u202f]/g;
  const pageFor = (token: Parameters<typeof signUnsubscribeToken>[1], settings = {}) =>
    call(req('GET', `/unsubscribe/${signUnsubscribeToken(keys, token)}`), settings);

  it('shows an open list’s title, a declared list’s title, escaped, and the name of a list declared nowhere', async () => {
    const open = await pageFor({ contact, list: 'lettre', campaign: 'c' });
    expect(open.body.replace(spaces, ' ')).toContain('« La lettre de Villes Internet »');
    expect(open.body).not.toContain('« lettre »');

    const listTitles = { presse: { fr: 'Journalistes <b>& co</b>', en: 'Journalists' } };
    const closed = await pageFor({ contact, list: 'presse', campaign: 'c' }, { listTitles });
    expect(closed.body.replace(spaces, ' ')).toContain('« Journalistes &lt;b&gt;&amp; co&lt;/b&gt; »');
    expect(closed.body).not.toContain('<b>');

    const several = await pageFor(
      { contact, list: 'lettre', lists: ['lettre', 'presse'], campaign: 'c' },
      { listTitles },
    );
    expect(several.body.replace(spaces, ' ')).toContain(
      '« La lettre de Villes Internet, Journalistes &lt;b&gt;&amp; co&lt;/b&gt; »',
    );

    // A list that is no longer declared (or a name like "constructor"): its name, as it is.
    expect((await pageFor({ contact, list: 'ancienne', campaign: 'c' })).body.replace(spaces, ' ')).toContain(
      '« ancienne »',
    );
    expect(
      (await pageFor({ contact, list: 'constructor', campaign: 'c' }, { listTitles })).body.replace(
        spaces,
        ' ',
      ),
    ).toContain('« constructor »');
  });

  it('names them after unsubscribing too', async () => {
    const link = `/unsubscribe/${signUnsubscribeToken(keys, { contact, list: 'lettre', campaign: 'c' })}`;
    const done = await call(
      req('POST', link, {
        body: 'List-Unsubscribe=One-Click',
        headers: { ...formHeaders, accept: 'text/html' },
      }),
    );
    expect(done.status).toBe(200);
    expect(done.body.replace(spaces, ' ')).toContain('« La lettre de Villes Internet »');
  });
});
