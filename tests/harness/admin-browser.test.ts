/**
 * Signing in to the web admin on the stack, in a real browser: Chromium's own cookie rules
 * (Secure, SameSite, Path) decide what reaches the admin function, as they would at
 * CloudFront's address. The browser resolves the press room's domain and the user pool's
 * sign-in domain to a small https server on 127.0.0.1 (a certificate for those names,
 * tests/support/tls; the browser told to accept it), which hands each request on: the press
 * room's to the distribution's /admin/* behaviour and the admin function's real bundle
 * (world.siteRequest), the sign-in domain's to a stand-in for Cognito's hosted page (a form
 * whose POST answers 302 to the callback with a code from the harness's Cognito, as the
 * hosted page does after a good password). The redirect back is a navigation from another
 * site: the browser sends the state cookie only if it is SameSite=Lax (a Strict one stays
 * home and the callback refuses), and the session cookie only on a navigation it deems
 * same-site, which is why the callback answers a page that goes on by itself.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../../lambdas/adapters/browser.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { requireChromium } from '../support/browser.ts';
import { repo } from '../support/cli.ts';
import { releaseWorkspace } from '../support/dispatch-fixtures.ts';
import { type Listening, listenLocally } from '../support/listen.ts';
import { adminClient } from './admin-client.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

let world: HarnessWorld;
useHarness({ sender: 'presse@villes-internet.net' }, (started) => {
  world = started;
});
const { site } = adminClient(() => world);

const files = releaseWorkspace();
const title = 'Étude : les villes moyennes résilientes';

let browser: Browser | undefined;
let context: BrowserContext | undefined;
/** The requests the browser made, as `METHOD url → status`, for the failure messages. */
const seen: string[] = [];
/** The authorize URLs the admin sent the browser to, by the state they carry. */
const authorizeUrls = new Map<string, string>();

type Answer = { status: number; headers?: Record<string, string>; cookies?: string[]; body?: string };

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The stand-in for Cognito's hosted sign-in page and logout endpoint. */
function cognitoPage(method: string, url: URL, body: string): Answer {
  if (method === 'GET' && url.pathname === '/oauth2/authorize') {
    const state = url.searchParams.get('state') ?? '';
    authorizeUrls.set(state, url.href);
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!DOCTYPE html><html lang="en"><title>Sign in</title><main><h1>Sign in</h1>
<form method="post" action="/login"><input type="hidden" name="state" value="${encodeURIComponent(state)}">
<label>Username <input name="username"></label><label>Password <input name="password" type="password"></label>
<button>Sign in</button></form></main>`,
    };
  }
  if (method === 'POST' && url.pathname === '/login') {
    const form = new URLSearchParams(body);
    const authorize = authorizeUrls.get(decodeURIComponent(form.get('state') ?? ''));
    if (!authorize || form.get('password') !== 'correct horse battery')
      return { status: 400, body: 'wrong password' };
    // As the hosted page does: back to the app client's callback, with a code.
    return { status: 302, headers: { location: world.cognito.signIn(authorize) } };
  }
  if (method === 'GET' && url.pathname === '/logout') {
    const back = url.searchParams.get('logout_uri');
    if (url.searchParams.get('client_id') !== world.cognito.clientId || !back)
      return { status: 400, body: 'bad logout request' };
    return { status: 302, headers: { location: back } };
  }
  return { status: 404, body: `no ${url.pathname} here` };
}

/** A request to the press room's domain, through the distribution to the admin function. */
async function pressRoom(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<Answer> {
  const delivery = await world.siteRequest(url.href, {
    method,
    headers,
    ...(method !== 'GET' && method !== 'HEAD' && { body }),
  });
  if (!delivery.invocation.ok) throw new Error(delivery.invocation.error.errorMessage);
  const answer = delivery.invocation.result as {
    statusCode: number;
    headers?: Record<string, string>;
    cookies?: string[];
    body?: string;
  };
  return { status: answer.statusCode, ...answer };
}

/** Both domains' https server: each request by its Host. */
async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', `https://${request.headers.host}`);
  const method = request.method ?? 'GET';
  const body = await bodyOf(request);
  const headers = Object.fromEntries(
    Object.entries(request.headers).flatMap(([name, value]) =>
      typeof value === 'string' && name !== 'host' ? [[name, value]] : [],
    ),
  );
  let result: Answer;
  try {
    if (url.origin === site()) result = await pressRoom(method, url, headers, body);
    else if (url.origin === world.cognito.domainUrl) result = cognitoPage(method, url, body);
    else result = { status: 421, body: `${url.host} is not served here` };
  } catch (error) {
    result = { status: 500, body: (error as Error).message };
  }
  seen.push(
    `${method} ${url.host === new URL(site()).host ? '' : url.host}${url.pathname} → ${result.status}`,
  );
  response.writeHead(result.status, {
    ...result.headers,
    ...(result.cookies?.length && { 'set-cookie': result.cookies }),
  });
  response.end(result.body ?? '');
}

let listening: Listening | undefined;

beforeAll(async () => {
  await world.store.put(
    'publications/organizations/villes-internet.yaml',
    files['organizations/villes-internet.yaml'] as string,
  );
  await world.store.put('publications/2026/etude.md', files['publications/etude.md'] as string);
  const tls = path.join(repo, 'tests', 'support', 'tls');
  const server: Server = createServer(
    {
      key: await readFile(path.join(tls, 'harness-key.pem')),
      cert: await readFile(path.join(tls, 'harness-cert.pem')),
    },
    (request, response) => void answer(request, response),
  );
  listening = await listenLocally(server);
  const port = new URL(listening.endpoint).port;
  const hosts = [new URL(site()).host, new URL(world.cognito.domainUrl).host];
  const found = await requireChromium();
  browser = await launchBrowser({
    ...found,
    args: [
      ...found.args,
      `--host-resolver-rules=${hosts.map((h) => `MAP ${h} 127.0.0.1:${port}`).join(', ')}`,
    ],
  });
  context = await browser.newContext({ locale: 'fr-FR', ignoreHTTPSErrors: true });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await listening?.close();
});

/** The cookies the browser holds for the press room's domain, by name. */
async function cookies(): Promise<Record<string, { path: string; sameSite: string; secure: boolean }>> {
  const host = new URL(site()).host;
  const all = ((await context?.cookies()) ?? []).filter((c) => c.domain === host);
  return Object.fromEntries(
    all.map((c) => [c.name, { path: c.path, sameSite: c.sameSite, secure: c.secure }]),
  );
}

describe("signing in to the stack's admin in a real browser", () => {
  it('goes from the admin to the sign-in page of the user pool and back, signed in, then out again', async () => {
    if (!context) throw new Error('the browser did not start: see the error of beforeAll');
    const page: Page = await context.newPage();
    await page.goto(`${site()}/admin/releases`);
    // Not signed in: the admin sends the browser to the user pool's page.
    expect(new URL(page.url()).host, seen.join('\n')).toBe(new URL(world.cognito.domainUrl).host);
    expect(await cookies()).toMatchObject({
      pressroom_admin_sign_in: { path: '/admin/auth/callback', sameSite: 'Lax', secure: true },
    });

    await page.getByLabel('Username').fill('attachee.presse');
    await page.getByLabel('Password').fill('correct horse battery');
    await Promise.all([
      page.waitForURL(`${site()}/admin/releases`),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    expect(seen.join('\n')).toMatch(/GET \/admin\/auth\/callback → 200\nGET \/admin\/releases → 200/);
    expect(await page.content()).toContain(title);
    expect(await cookies()).toMatchObject({
      pressroom_admin: { path: '/admin', sameSite: 'Strict', secure: true },
    });

    // The session works on: a release's page, then the API from the page's own origin.
    await Promise.all([
      page.waitForURL(/\/admin\/releases\/etude-villes$/),
      page.getByRole('link', { name: title }).click(),
    ]);
    expect(await page.locator('h1').textContent()).toContain(title);
    const api = await page.evaluate(async () => {
      const response = await fetch('/admin/api/releases');
      return { status: response.status, body: await response.text() };
    });
    expect(api.status).toBe(200);
    expect(JSON.parse(api.body).releases.map((r: { slug: string }) => r.slug)).toContain('etude-villes');

    // Signing out goes through Cognito's logout and back to the admin's sign-in, which sends
    // the browser to the user pool's page again.
    await page.getByRole('button', { name: /Se déconnecter|Sign out/ }).click();
    await page.waitForURL(`${world.cognito.domainUrl}/oauth2/authorize?**`).catch((error: Error) => {
      throw new Error(`${error.message}\nthe browser asked:\n${seen.join('\n')}\nnow at ${page.url()}`);
    });
    expect(seen.slice(-4).join('\n')).toMatch(
      /POST \/admin\/sign-out → 200\n.+\/logout → 302\nGET \/admin\/sign-in → 303\n.+\/oauth2\/authorize → 200/,
    );
    expect((await cookies()).pressroom_admin).toBeUndefined();
    await page.goto(`${site()}/admin/releases`);
    expect(new URL(page.url()).host).toBe(new URL(world.cognito.domainUrl).host);
    expect(await getText(world.store, 'publications/2026/etude.md')).toBe(files['publications/etude.md']);
    expect(takeDenials(world)).toEqual([]);
  }, 120_000);
});
