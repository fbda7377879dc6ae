/**
 * The web admin's sign-in (lambdas/core/admin/session.ts, admin.ts), called as the local
 * server calls it: the admin token (Bearer, constant-time), session cookies (signed, expiring,
 * HttpOnly, SameSite=Strict, Secure when asked), CSRF tokens bound to a session and the Origin
 * check on every change, the sign-in form's own CSRF token, limited tries, sign-out; and the
 * API's answers to signed-in requests.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAdminTemplates } from '../../lambdas/adapters/admin-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import {
  type AdminDeps,
  type AdminRequest,
  adminState,
  handleAdminRequest,
  isAdminPath,
} from '../../lambdas/core/admin/admin.ts';
import {
  adminKeys,
  cookieNames,
  csrfToken,
  generateAdminToken,
  isAdminToken,
  isCsrfToken,
  isSameOrigin,
  openSession,
  parseCookies,
  readSession,
  SignInLimiter,
  sessionSeconds,
} from '../../lambdas/core/admin/session.ts';
import type { PublicResponse } from '../../lambdas/core/public/http.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { memoryFiles } from '../support/memory-files.ts';

const token = 'T'.repeat(20) + generateAdminToken();
const secret = 's'.repeat(64);
const keys = adminKeys(token, secret);
const now = new Date('2026-12-07T10:00:00Z');

const publication = `---
title: Étude des villes « moyennes »
date: 2021-06-08
lang: fr
lead: Une enquête inédite.
tags: [numérique]
publishers:
  - name: Villes Internet
    about: L’association des villes numériques.
---
Le corps du communiqué.
`;

let deps: AdminDeps;
let clock = now;

beforeAll(async () => {
  const templates = await loadTemplateFiles();
  const written: Record<string, string> = { '/ws/publications/etude.md': publication };
  const files = memoryFiles(written);
  deps = {
    adminToken: token,
    keys,
    templates: await loadAdminTemplates(),
    releases: {
      sources: {
        folder: '/ws/publications',
        files,
        list: async () => [{ path: '/ws/publications/etude.md', name: 'publications/etude.md' }],
        write: async (file, text) => {
          written[file.path] = text;
        },
        create: async () => 'exists',
        organizations: async () => [],
      },
      renderer: createReleaseRenderer(templates),
      sampleRecipient: templates.sampleRecipient,
      siteUrl: 'https://press.example.org/',
    },
    lang: 'fr',
    secureCookies: false,
    ...adminState(),
    now: () => clock,
  };
});

function req(
  method: string,
  path: string,
  options: {
    headers?: Record<string, string>;
    body?: string;
    query?: Record<string, string>;
    ip?: string;
  } = {},
): AdminRequest {
  return {
    method,
    path,
    query: options.query ?? {},
    headers: { host: 'admin.test', ...options.headers },
    body: options.body ?? '',
    sourceIp: options.ip ?? '192.0.2.1',
    host: 'admin.test',
  };
}

const call = (request: AdminRequest, over: Partial<AdminDeps> = {}) =>
  handleAdminRequest(request, { ...deps, ...over });

/** The cookies a response sets, by name: value and attributes. */
function setCookies(response: PublicResponse): Record<string, string> {
  const lines = (response.headers['set-cookie'] ?? '').split('\n').filter(Boolean);
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line]));
}

const cookieValue = (line: string | undefined) => line?.slice(line.indexOf('=') + 1).split(';')[0] ?? '';

/** Signs in through the form as a browser does: GET the form, POST it with its cookie and token. */
async function signIn(
  given = token,
  ip = '192.0.2.1',
): Promise<{ response: PublicResponse; cookie?: string }> {
  const form = await call(req('GET', '/admin/sign-in'));
  const nonce = cookieValue(setCookies(form)[cookieNames.signIn]);
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  const response = await call(
    req('POST', '/admin/sign-in', {
      headers: {
        cookie: `${cookieNames.signIn}=${nonce}`,
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'http://admin.test',
      },
      body: new URLSearchParams({ csrf, token: given }).toString(),
      ip,
    }),
  );
  const session = setCookies(response)[cookieNames.session];
  return { response, ...(session && { cookie: `${cookieNames.session}=${cookieValue(session)}` }) };
}

describe('the admin token', () => {
  it('is recognised whole, and nothing else is', () => {
    expect(isAdminToken(token, token)).toBe(true);
    for (const other of [undefined, '', token.slice(0, -1), `${token}x`, token.toLowerCase(), ` ${token}`])
      expect(isAdminToken(token, other), String(other)).toBe(false);
  });

  it('is generated random and long', () => {
    const a = generateAdminToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateAdminToken()).not.toBe(a);
  });
});

describe('sessions', () => {
  it('are read back until they expire, then refused', () => {
    const { cookie, session } = openSession(keys, now);
    expect(readSession(keys, cookie, now)).toEqual(session);
    expect(session.expiresAt.getTime() - now.getTime()).toBe(sessionSeconds * 1000);
    expect(readSession(keys, cookie, new Date(session.expiresAt.getTime() - 1000))?.id).toBe(session.id);
    expect(readSession(keys, cookie, session.expiresAt)).toBeUndefined();
  });

  it('are refused when changed, forged, or signed for another admin token or secret', () => {
    const { cookie } = openSession(keys, now);
    const [kind, payload, mac] = cookie.split('.');
    const changed = `${kind}.${Buffer.from(JSON.stringify(['other', 9999999999])).toString('base64url')}.${mac}`;
    for (const bad of [changed, `${cookie}x`, `${kind}.${payload}`, 'a1..', '', undefined])
      expect(readSession(keys, bad, now), String(bad)).toBeUndefined();
    expect(readSession(adminKeys(`${token}2`, secret), cookie, now)).toBeUndefined();
    expect(readSession(adminKeys(token, `${secret}2`), cookie, now)).toBeUndefined();
  });

  it('have CSRF tokens bound to them', () => {
    const a = openSession(keys, now).session;
    const b = openSession(keys, now).session;
    const csrf = csrfToken(keys, 'session', a.id);
    expect(isCsrfToken(keys, 'session', a.id, csrf)).toBe(true);
    expect(isCsrfToken(keys, 'session', b.id, csrf)).toBe(false);
    expect(isCsrfToken(keys, 'sign-in', a.id, csrf)).toBe(false);
    expect(isCsrfToken(keys, 'session', a.id, undefined)).toBe(false);
    expect(isCsrfToken(keys, 'session', a.id, csrf.slice(1))).toBe(false);
  });
});

describe('the Origin check', () => {
  it('takes our own origin, and clients that send no Origin at all', () => {
    expect(isSameOrigin({ origin: 'http://admin.test' }, 'admin.test')).toBe(true);
    expect(isSameOrigin({ origin: 'https://ADMIN.test' }, 'admin.test')).toBe(true);
    expect(isSameOrigin({ 'sec-fetch-site': 'same-origin' }, 'admin.test')).toBe(true);
    expect(isSameOrigin({}, 'admin.test')).toBe(true);
  });

  it('refuses other origins, opaque ones and cross-site fetches', () => {
    expect(isSameOrigin({ origin: 'https://evil.example' }, 'admin.test')).toBe(false);
    expect(isSameOrigin({ origin: 'http://admin.test.evil.example' }, 'admin.test')).toBe(false);
    expect(isSameOrigin({ origin: 'null' }, 'admin.test')).toBe(false);
    expect(isSameOrigin({ origin: 'not a url' }, 'admin.test')).toBe(false);
    expect(isSameOrigin({ 'sec-fetch-site': 'cross-site' }, 'admin.test')).toBe(false);
    expect(isSameOrigin({ 'sec-fetch-site': 'same-site' }, 'admin.test')).toBe(false);
  });
});

describe('the sign-in limit', () => {
  it('stops a client after its failures, and everyone after too many, until the window ends', () => {
    const limiter = new SignInLimiter({ perClient: 3, overall: 5, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfter('a', now)).toBe(0);
      limiter.failed('a', now);
    }
    expect(limiter.retryAfter('a', now)).toBe(60);
    expect(limiter.retryAfter('b', now)).toBe(0);
    limiter.failed('b', now);
    limiter.failed('c', now);
    expect(limiter.retryAfter('d', now)).toBe(60);
    expect(limiter.retryAfter('a', new Date(now.getTime() + 30_000))).toBe(30);
    expect(limiter.retryAfter('a', new Date(now.getTime() + 60_000))).toBe(0);
  });
});

describe('signing in through the form', () => {
  it('sets a signed session cookie: HttpOnly, SameSite=Strict, under /admin, expiring', async () => {
    clock = now;
    const { response, cookie } = await signIn();
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/admin/releases');
    const line = setCookies(response)[cookieNames.session] ?? '';
    expect(line).toContain('HttpOnly');
    expect(line).toContain('SameSite=Strict');
    expect(line).toContain('Path=/admin');
    expect(line).toContain(`Max-Age=${sessionSeconds}`);
    expect(line).not.toContain('Secure');
    // The form's own cookie is cleared.
    expect(setCookies(response)[cookieNames.signIn]).toContain('Max-Age=0');
    const page = await call(req('GET', '/admin/releases', { headers: { cookie: cookie ?? '' } }));
    expect(page.status).toBe(200);
    expect(page.body).toContain('Étude des villes « moyennes »');
  });

  it('marks cookies Secure when the server is reached through https', async () => {
    const form = await call(req('GET', '/admin/sign-in'), { secureCookies: true });
    expect(setCookies(form)[cookieNames.signIn]).toMatch(/; Secure$/);
  });

  it('refuses a wrong token with 401 and the form again, and sets no session', async () => {
    const { response, cookie } = await signIn('wrong', '192.0.2.50');
    expect(response.status).toBe(401);
    expect(cookie).toBeUndefined();
    expect(response.body).toContain('Ce jeton n’est pas le bon');
  });

  it('refuses a form posted without its cookie, with another form token, or from another origin', async () => {
    const form = await call(req('GET', '/admin/sign-in'));
    const nonce = cookieValue(setCookies(form)[cookieNames.signIn]);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    const post = (headers: Record<string, string>, fields: Record<string, string>) =>
      call(
        req('POST', '/admin/sign-in', {
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams(fields).toString(),
        }),
      );
    const cookie = `${cookieNames.signIn}=${nonce}`;
    for (const [headers, fields] of [
      [{}, { csrf, token }],
      [{ cookie }, { csrf: csrfToken(keys, 'sign-in', 'another'), token }],
      [{ cookie }, { token }],
      [
        { cookie, origin: 'https://evil.example' },
        { csrf, token },
      ],
    ] as const) {
      const response = await post(headers, fields);
      expect(response.status).toBe(403);
      expect(setCookies(response)[cookieNames.session]).toBeUndefined();
    }
  });

  it('limits tries per client: past five failures, even the right token waits', async () => {
    const ip = '198.51.100.7';
    for (let i = 0; i < 5; i++) expect((await signIn('wrong', ip)).response.status).toBe(401);
    const { response, cookie } = await signIn(token, ip);
    expect(response.status).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(cookie).toBeUndefined();
    // Another client is not held.
    expect((await signIn(token, '198.51.100.8')).response.status).toBe(303);
  });
});

describe('signed-in requests', () => {
  it('take the admin token as a Bearer token, and nothing else', async () => {
    const ok = await call(
      req('GET', '/admin/api/releases', { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).releases).toHaveLength(1);
    for (const authorization of [
      `Bearer ${token}x`,
      `Basic ${token}`,
      'Bearer',
      `Bearer ${openSession(keys, now).cookie}`,
    ]) {
      const refused = await call(req('GET', '/admin/api/releases', { headers: { authorization } }));
      expect(refused.status, authorization).toBe(401);
      expect(refused.body).not.toContain('villes');
    }
  });

  it('need the session’s CSRF token and our origin to change anything, under a session', async () => {
    clock = now;
    const { cookie = '' } = await signIn();
    const session = readSession(keys, parseCookies(cookie)[cookieNames.session], now);
    const csrf = csrfToken(keys, 'session', session?.id ?? '');
    const body = JSON.stringify({
      frontMatter: { title: 'Essai', date: '2021-06-08', lead: 'x', publishers: [] },
      body: '',
    });
    const post = (headers: Record<string, string>) =>
      call(req('POST', '/admin/api/releases/preview', { headers: { cookie, ...headers }, body }));
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-csrf-token': csrfToken(keys, 'session', 'other') })).status).toBe(403);
    expect((await post({ 'x-csrf-token': csrf, origin: 'https://evil.example' })).status).toBe(403);
    expect((await post({ 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // Checked, it reaches the API: this publication has no publisher.
    const checked = await post({ 'x-csrf-token': csrf, origin: 'http://admin.test' });
    expect(checked.status).toBe(422);
    expect(JSON.parse(checked.body).problems).toContainEqual(
      expect.objectContaining({ field: 'publishers', message: 'needs at least one publisher' }),
    );
  });

  it('end at sign-out (CSRF-checked): the old cookie is refused afterwards', async () => {
    const { cookie = '' } = await signIn();
    const session = readSession(keys, parseCookies(cookie)[cookieNames.session], now);
    const csrf = csrfToken(keys, 'session', session?.id ?? '');
    const refused = await call(req('POST', '/admin/sign-out', { headers: { cookie } }));
    expect(refused.status).toBe(403);
    const out = await call(
      req('POST', '/admin/sign-out', {
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: `csrf=${encodeURIComponent(csrf)}`,
      }),
    );
    expect(out.status).toBe(303);
    expect(setCookies(out)[cookieNames.session]).toContain('Max-Age=0');
    expect((await call(req('GET', '/admin/api/releases', { headers: { cookie } }))).status).toBe(401);
  });

  it('end when the session expires', async () => {
    clock = now;
    const { cookie = '' } = await signIn();
    clock = new Date(now.getTime() + sessionSeconds * 1000);
    const page = await call(req('GET', '/admin/releases', { headers: { cookie } }));
    clock = now;
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/admin/sign-in');
  });
});

describe('the interface strings', () => {
  it('are in French and in English alike, and every one a page names exists', async () => {
    const { locales, pages } = await loadAdminTemplates();
    expect(Object.keys(locales.en).sort()).toEqual(Object.keys(locales.fr).sort());
    const named = new Set(
      Object.values(pages).flatMap((source) => [...source.matchAll(/\bt\.([\w.]+)/g)].map((m) => m[1] ?? '')),
    );
    expect(named).toContain('publishNow');
    expect([...named].filter((key) => !(key in locales.en) && !key.startsWith('field.'))).toEqual([]);
  });
});

describe('unauthenticated requests', () => {
  const workspace = ['villes', 'Étude', 'etude', 'numérique', 'publications/'];
  it('get 401 (API, changes) or a redirect to sign-in (pages), with nothing of the workspace', async () => {
    const paths = [
      ['GET', '/admin'],
      ['GET', '/admin/'],
      ['GET', '/admin/releases'],
      ['GET', '/admin/releases?q=etude'],
      ['GET', '/admin/releases/etude-des-villes-moyennes'],
      ['GET', '/admin/releases/etude-des-villes-moyennes/email'],
      ['GET', '/admin/releases/etude-des-villes-moyennes/page'],
      ['GET', '/admin/releases/etude-des-villes-moyennes/edit'],
      ['POST', '/admin/releases/etude-des-villes-moyennes/edit'],
      ['PUT', '/admin/api/releases/etude-des-villes-moyennes'],
      ['GET', '/admin/nothing'],
      ['GET', '/admin/api/releases'],
      ['GET', '/admin/api/releases/etude-des-villes-moyennes'],
      ['GET', '/admin/api/openapi.json'],
      ['POST', '/admin/api/releases/preview'],
      ['POST', '/admin/sign-out'],
      ['PUT', '/admin/releases'],
      ['GET', '/admin/new-release'],
      ['POST', '/admin/new-release'],
      ['POST', '/admin/api/releases'],
      ['GET', '/admin/releases/etude-des-villes-moyennes/publish'],
      ['POST', '/admin/releases/etude-des-villes-moyennes/publish'],
      ['GET', '/admin/releases/etude-des-villes-moyennes/withdraw'],
      ['POST', '/admin/releases/etude-des-villes-moyennes/withdraw'],
      ['POST', '/admin/api/releases/etude-des-villes-moyennes/publish'],
      ['POST', '/admin/api/releases/etude-des-villes-moyennes/withdraw'],
    ] as const;
    for (const [method, path] of paths) {
      const response = await call(
        req(method, path, { headers: { cookie: `${cookieNames.session}=forged` } }),
      );
      const api = path.startsWith('/admin/api') || method !== 'GET';
      expect(response.status, `${method} ${path}`).toBe(api ? 401 : 303);
      if (!api) expect(response.headers.location).toBe('/admin/sign-in');
      for (const word of workspace) expect(response.body, `${method} ${path}`).not.toContain(word);
    }
  });

  it('reach only the sign-in form and the two static files', async () => {
    expect(isAdminPath('/admin')).toBe(true);
    expect(isAdminPath('/administration')).toBe(false);
    for (const path of ['/admin/sign-in', '/admin/assets/admin.js', '/admin/assets/admin.css']) {
      const response = await call(req('GET', path));
      expect(response.status, path).toBe(200);
      for (const word of workspace) expect(response.body, path).not.toContain(word);
    }
    for (const path of ['/admin/assets/other.js', '/admin/assets/constructor', '/admin/assets/__proto__'])
      expect((await call(req('GET', path))).status, path).toBe(303);
  });
});

describe('pages', () => {
  it('are in the browser’s language, French or English, under a strict policy', async () => {
    const en = await call(req('GET', '/admin/sign-in', { headers: { 'accept-language': 'en-GB,en;q=0.8' } }));
    expect(en.body).toContain('<html lang="en">');
    expect(en.body).toContain('Admin token');
    const fr = await call(req('GET', '/admin/sign-in', { headers: { 'accept-language': 'de' } }));
    expect(fr.body).toContain('<html lang="fr">');
    expect(fr.body).toContain('Jeton d’administration');
    expect(en.headers['content-security-policy']).toContain("script-src 'self'");
    expect(en.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(en.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(en.body).not.toMatch(/<script>|style="/);
  });

  it('show a release with its email preview in sandboxed frames, rendered from its file', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const page = await call(req('GET', '/admin/releases/etude-des-villes-moyennes', { headers: auth }));
    expect(page.status).toBe(200);
    expect(page.body).toContain('Étude des villes « moyennes »');
    expect(page.body).toMatch(
      /<iframe id="email-phone"[^>]+sandbox="allow-popups allow-popups-to-escape-sandbox"/,
    );
    expect(page.body).toContain('Le corps du communiqué.');
    const email = await call(
      req('GET', '/admin/releases/etude-des-villes-moyennes/email', { headers: auth }),
    );
    expect(email.status).toBe(200);
    expect(email.headers['content-security-policy']).toContain('sandbox');
    expect(email.body).toContain('Une enquête inédite.');
    // Filled for the sample recipient: no placeholder is left.
    expect(email.body).not.toMatch(/\{\{/);
  });
});
