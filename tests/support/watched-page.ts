/**
 * Browser pages of a local server that record what a browser test must not see, shared by the
 * press room's browser tests (tests/e2e/*-browser.test.ts).
 */
import type { Browser, Page, Route } from 'playwright-core';

/**
 * A request to the press room's public address `publicUrl` (pages name press kit images by
 * their absolute URLs there), answered by the local server that holds the same files under
 * `base` (a URL ending in `/`).
 */
export async function answerFrom(route: Route, publicUrl: string, base: string): Promise<void> {
  const local = new URL(
    route
      .request()
      .url()
      .slice(publicUrl.length + 1),
    base,
  );
  const response = await fetch(local);
  await route.fulfill({
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: Buffer.from(await response.arrayBuffer()),
  });
}

/**
 * A new page (in a context of its own, `width` × 900, under the pages' policy unless
 * `bypassCSP`) that records console errors and warnings, page errors, Content-Security-Policy
 * violations and requests that leave the server at `origin`, as `problems`. The press room's
 * public address is answered by the server ({@link answerFrom}, its root). Close it with
 * `page.context().close()`.
 */
export async function watchedPage(
  browser: Browser,
  options: { origin: string; publicUrl: string; width?: number; bypassCSP?: boolean },
): Promise<{ page: Page; problems: string[] }> {
  const { origin, publicUrl } = options;
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    bypassCSP: options.bypassCSP === true,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  await page.route('**/*', (route) => {
    const requested = route.request().url();
    if (requested.startsWith(origin)) return route.continue();
    if (requested.startsWith(`${publicUrl}/`)) return answerFrom(route, publicUrl, `${origin}/`);
    problems.push(`request to the network: ${requested}`);
    return route.abort('blockedbyclient');
  });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))",
  );
  return { page, problems };
}
