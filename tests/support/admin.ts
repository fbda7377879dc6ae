/**
 * What the web admin's tests share: a signed-in session through the sign-in form (as a browser
 * gets one), and, in a browser, a context that reaches the server only, with axe served as a
 * script of the admin's own origin (its policy allows `script-src 'self'` only: no bypass).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type Reply, rawRequest } from './serve.ts';

/** The session's cookie pair (`pressroom_admin=…`) after signing in through the form with `token`. */
export async function adminSession(origin: URL, token: string): Promise<string> {
  const cookiesOf = (reply: Reply) => (reply.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? '');
  const form = await rawRequest(origin, '/admin/sign-in');
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  const signedIn = await rawRequest(origin, '/admin/sign-in', {
    method: 'POST',
    headers: {
      cookie: cookiesOf(form)[0] ?? '',
      'content-type': 'application/x-www-form-urlencoded',
      origin: origin.origin,
    },
    body: new URLSearchParams({ csrf, token }).toString(),
  });
  const session = cookiesOf(signedIn).find((c) => c.startsWith('pressroom_admin='));
  if (signedIn.status !== 303 || !session)
    throw new Error(`signing in failed: ${signedIn.status} ${signedIn.body}`);
  return session;
}

/** Where admin pages load axe from in a browser test: answered by the test, never by the server. */
const axePath = '/admin/assets/axe-under-test.js';

/**
 * A browser context (French) that reaches `origin` only, and gets axe (`axe`, its source) as
 * a script of that origin; `problems` collects its pages' console errors and warnings.
 */
export async function adminBrowserContext(
  browser: Browser,
  origin: string,
  axe: string,
): Promise<{ context: BrowserContext; problems: string[]; newPage(width: number): Promise<Page> }> {
  const context = await browser.newContext({ locale: 'fr-FR' });
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === origin + axePath)
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: axe });
    if (url.startsWith(origin)) return route.continue();
    return route.abort('blockedbyclient');
  });
  const problems: string[] = [];
  return {
    context,
    problems,
    async newPage(width) {
      const page = await context.newPage();
      await page.setViewportSize({ width, height: 900 });
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
      return page;
    },
  };
}

/** axe's violations on an admin page of `origin` (every rule it runs by default, every impact), one line each. */
export async function adminViolations(page: Page, origin: string): Promise<string[]> {
  await page.addScriptTag({ url: origin + axePath });
  const result = await page.evaluate<{
    violations: { id: string; help: string; nodes: { target: string[] }[] }[];
  }>(`axe.run(document, { resultTypes: ['violations'] })`);
  return result.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
  );
}

/** The query of a page's language switch (`/admin/language?lang=…&back=…`), as a browser follows it. */
export function languageSwitch(body: string): Record<string, string> {
  const href = /<a href="(\/admin\/language\?[^"]*)"/.exec(body)?.[1];
  if (href === undefined) throw new Error('the page has no language switch');
  return Object.fromEntries(new URL(href.replaceAll('&amp;', '&'), 'http://admin.test').searchParams);
}
