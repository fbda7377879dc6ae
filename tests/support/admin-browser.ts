/**
 * What the admin's browser tests share: a browser context that reaches the server under test
 * only, with axe served to its pages as a script of the admin's own origin (the admin's
 * Content-Security-Policy allows `script-src 'self'` and nothing inline, so nothing is
 * bypassed), and axe's violations on a page.
 */
import type { BrowserContext, Page } from 'playwright-core';

/** Where pages load axe from: answered by the test, never by the server. */
export const axeUnderTest = '/admin/assets/axe-under-test.js';

/** Lets `context` reach `origin` only, and answers axe's path there with `axe` (its source). */
export async function adminOnly(context: BrowserContext, origin: string, axe: string): Promise<void> {
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === origin + axeUnderTest)
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: axe });
    if (url.startsWith(origin)) return route.continue();
    return route.abort('blockedbyclient');
  });
}

/**
 * axe's violations on the page, not its frames (sandboxed previews, which have their own
 * tests), one line each: every rule it runs by default, every impact.
 */
export async function adminViolations(page: Page, origin: string): Promise<string[]> {
  await page.addScriptTag({ url: origin + axeUnderTest });
  const result = await page.evaluate<{
    violations: { id: string; help: string; nodes: { target: string[] }[] }[];
  }>(`axe.run(document, { iframes: false, resultTypes: ['violations'] })`);
  return result.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
  );
}
