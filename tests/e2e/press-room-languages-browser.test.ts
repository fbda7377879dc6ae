/**
 * The language switcher of a translated release in a real browser (chromium through
 * playwright-core), on the examples' press room as `pressroom publish` writes it and
 * `pressroom serve` serves it: the English barometer and its French translation. The switcher
 * is a navigation landmark named in the page's language, its links carry `hreflang` and
 * `lang`, the current language is marked; it is reached with Tab and followed with Enter to the
 * other page, which links back. The head names both pages and x-default. axe finds no
 * violation on either page at 1280 and 375 px, nor on the language pages (`/en/`, `/fr/`).
 * Nothing reaches the network; no console error, no policy violation.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeSource, axeViolations } from '../support/axe.ts';
import { launchChromium, requireChromium } from '../support/browser.ts';
import { exampleWorkspace, expectExit, runPressroom } from '../support/cli.ts';
import { barometer, barometre } from '../support/example-releases.ts';
import { outboxEnv, type Server, startServer, stopServer } from '../support/serve.ts';
import { watchedPage } from '../support/watched-page.ts';

const secret = 'e2e-languages-browser-secret-0123456789abcdef';
const publicUrl = 'https://press.example.org';

let work: string | undefined;
let server: Server | undefined;
let browser: Browser | undefined;
let axe = '';

beforeAll(async () => {
  await requireChromium();
  axe = await axeSource();
  work = await exampleWorkspace('pressroom-languages-browser-');
  const cwd = work;
  const env = outboxEnv({ data: path.join(cwd, 'data'), secret, publicUrl });
  // The original first: a translation names a release of the archive.
  for (const file of [barometer.file, barometre.file])
    expectExit(await runPressroom(['publish', file, '--no-pdf'], { cwd, env }), 0);
  const [started, launched] = await Promise.all([
    startServer(['--lists', 'examples/lists.yaml'], { cwd, env }),
    launchChromium(),
  ]);
  server = started;
  browser = launched;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stopServer(server, 'SIGTERM');
  if (work) await rm(work, { recursive: true, force: true });
});

/** A page of the server, recording console errors, policy violations and requests elsewhere ({@link watchedPage}). */
async function open(
  address: string,
  options: { bypassCSP?: boolean; width?: number } = {},
): Promise<{ page: Page; problems: string[] }> {
  if (!browser || !server)
    throw new Error('the browser or the server is missing: see the error of beforeAll');
  const origin = server.url.origin;
  const { page, problems } = await watchedPage(browser, { origin, publicUrl, ...options });
  const response = await page.goto(new URL(address, origin).href, { waitUntil: 'load' });
  expect(response?.status(), address).toBe(200);
  return { page, problems };
}

const pageOf = (slug: string) => `/releases/${slug}/index.html`;

/** Presses Tab until the focused element's text is `text` (at most `max` times). */
async function tabTo(page: Page, text: string, max = 20): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if ((await page.evaluate<string | undefined>('document.activeElement?.textContent')) === text) return;
  }
  throw new Error(`${text} was not reached with ${max} presses of Tab`);
}

describe('the language switcher of a translated release', () => {
  it('is a named navigation with hreflang links, reached with Tab and followed with Enter, both ways', async () => {
    const { page, problems } = await open(pageOf(barometer.slug));
    try {
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      const nav = page.getByRole('navigation', { name: 'Languages' });
      expect(await nav.isVisible()).toBe(true);
      const french = nav.getByRole('link', { name: 'Français' });
      expect(await french.getAttribute('hreflang')).toBe('fr');
      expect(await french.getAttribute('lang')).toBe('fr');
      const current = nav.getByRole('link', { name: 'English' });
      expect(await current.getAttribute('aria-current')).toBe('page');
      // The head: each language's page, and x-default the original, by their public addresses.
      const alternates = await page
        .locator('link[rel="alternate"][hreflang]')
        .evaluateAll((links) => links.map((l) => `${l.getAttribute('hreflang')} ${l.getAttribute('href')}`));
      expect(alternates).toEqual([
        `en ${publicUrl}${pageOf(barometer.slug)}`,
        `fr ${publicUrl}${pageOf(barometre.slug)}`,
        `x-default ${publicUrl}${pageOf(barometer.slug)}`,
      ]);

      await tabTo(page, 'Français');
      await Promise.all([page.waitForURL(`**${pageOf(barometre.slug)}`), page.keyboard.press('Enter')]);
      expect(await page.locator('html').getAttribute('lang')).toBe('fr');
      expect(await page.locator('h1').textContent()).toBe(barometre.title);
      const back = page.getByRole('navigation', { name: 'Langues' }).getByRole('link', { name: 'English' });
      expect(await back.getAttribute('hreflang')).toBe('en');
      await tabTo(page, 'English');
      await Promise.all([page.waitForURL(`**${pageOf(barometer.slug)}`), page.keyboard.press('Enter')]);
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('lists each language’s releases on its page, linked from the home page', async () => {
    const { page, problems } = await open('/index.html');
    try {
      const languages = page.getByRole('navigation', { name: 'Langues' });
      await Promise.all([
        page.waitForURL('**/en/index.html'),
        languages.getByRole('link', { name: 'English' }).click(),
      ]);
      expect(await page.locator('article.release h3').allTextContents()).toEqual([barometer.title]);
      expect(
        await page
          .getByRole('navigation', { name: 'Langues' })
          .getByRole('link', { name: 'English' })
          .getAttribute('aria-current'),
      ).toBe('page');
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  for (const width of [1280, 375]) {
    it(`has no axe violation at ${width} px: both release pages and the language pages`, async () => {
      for (const address of [
        pageOf(barometer.slug),
        pageOf(barometre.slug),
        '/en/index.html',
        '/fr/index.html',
      ]) {
        const { page } = await open(address, { bypassCSP: true, width });
        try {
          const result = await axeViolations(page, axe);
          expect(result.violations, `${address} at ${width} px`).toEqual([]);
          expect(result.passes, address).toBeGreaterThan(10);
        } finally {
          await page.context().close();
        }
      }
    });
  }
});
