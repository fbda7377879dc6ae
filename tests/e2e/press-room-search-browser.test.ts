/**
 * The press room's search box in a real browser (chromium through playwright-core), on the
 * examples' press room as `pressroom publish` writes it and `pressroom serve` serves it, under
 * the pages' Content-Security-Policy: typed into on the home page, "federation" finds the
 * barometer (published by the Open Cities Federation), "resilientes" the French release whose
 * title says "résilientes"; the results are announced, reached with the keyboard and followed
 * with Enter. The search page shows the results for ?q=. axe finds no violation on the pages
 * with their results shown. Nothing reaches the network; no console error, no policy violation.
 * The same box works on the static site `pressroom site build` writes, served by a plain file
 * server under a folder of its own (`/presse/`), with no headers but the files' types.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaTypeOf } from '../../lambdas/core/public/site-headers.ts';
import { axeSource, axeViolations } from '../support/axe.ts';
import { launchChromium, requireChromium, screenshotsDir } from '../support/browser.ts';
import { exampleWorkspace, expectExit, runPressroom } from '../support/cli.ts';
import { barometer, crise } from '../support/example-releases.ts';
import { outboxEnv, type Server, startServer, stopServer } from '../support/serve.ts';
import { answerFrom, watchedPage } from '../support/watched-page.ts';

const secret = 'e2e-search-browser-secret-0123456789abcdef';
const publicUrl = 'https://press.example.org';

let work: string | undefined;
let server: Server | undefined;
let browser: Browser | undefined;
let axe = '';
let env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  await requireChromium();
  axe = await axeSource();
  work = await exampleWorkspace('pressroom-search-browser-');
  const cwd = work;
  env = outboxEnv({ data: path.join(cwd, 'data'), secret, publicUrl });
  for (const file of [crise.file, barometer.file])
    expectExit(await runPressroom(['publish', file, '--no-pdf'], { cwd, env }), 0);
  const [started, launched] = await Promise.all([
    startServer(['--lists', 'examples/lists.yaml'], { cwd, env }),
    launchChromium(),
  ]);
  server = started;
  browser = launched;
  await mkdir(screenshotsDir, { recursive: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stopServer(server, 'SIGTERM');
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * A page of the server, under its policy (or with `bypassCSP`, for axe, which the test injects),
 * recording console errors, page errors, policy violations and requests elsewhere.
 */
async function open(
  address: string,
  options: { bypassCSP?: boolean; width?: number } = {},
): Promise<{ page: Page; problems: string[] }> {
  if (!browser || !server)
    throw new Error('the browser or the server is missing: see the error of beforeAll');
  const origin = server.url.origin;
  const { page, problems } = await watchedPage(browser, {
    origin,
    publicUrl,
    ...(options.width !== undefined && { width: options.width }),
    ...(options.bypassCSP !== undefined && { bypassCSP: options.bypassCSP }),
  });
  const response = await page.goto(new URL(address, origin).href, { waitUntil: 'load' });
  expect(response?.status(), address).toBe(200);
  return { page, problems };
}

const status = (page: Page) => page.locator('.site-search-status');
const resultLinks = (page: Page) => page.locator('.site-search-list a');

describe('the search box of the home page', () => {
  it('finds "federation" typed without accents, announces it, and follows the result with the keyboard', async () => {
    const { page, problems } = await open('/');
    try {
      const box = page.getByLabel('Rechercher dans les communiqués');
      await box.focus();
      await page.keyboard.type('federation');
      await expect.poll(() => status(page).textContent()).toBe('1 communiqué trouvé');
      expect(await resultLinks(page).allTextContents()).toEqual([barometer.title]);
      // The barometer is in English on a French site: its title says so.
      expect(await resultLinks(page).first().getAttribute('lang')).toBe('en');
      expect(await status(page).getAttribute('role')).toBe('status');
      await page.screenshot({ path: path.join(screenshotsDir, 'press-room-search-results.png') });

      // Down from the box to the result, Enter follows it.
      await page.keyboard.press('ArrowDown');
      expect(await page.evaluate<string | null | undefined>('document.activeElement?.textContent')).toBe(
        barometer.title,
      );
      await Promise.all([
        page.waitForURL(`**/releases/${barometer.slug}/index.html`),
        page.keyboard.press('Enter'),
      ]);
      expect(await page.locator('h1').textContent()).toContain('Open Data Barometer 2024');
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('finds the French release by a word of its title typed without accents, reached with Tab', async () => {
    const { page, problems } = await open('/');
    try {
      await page.getByLabel('Rechercher dans les communiqués').fill('resilientes');
      await page.keyboard.press('Enter');
      await expect.poll(() => status(page).textContent()).toBe('1 communiqué trouvé');
      expect(await resultLinks(page).allTextContents()).toEqual([crise.title]);
      // Tab from the box: the button, then the result.
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      expect(await page.evaluate<string | null | undefined>('document.activeElement?.textContent')).toBe(
        crise.title,
      );
      await Promise.all([
        page.waitForURL(`**/releases/${crise.slug}/index.html`),
        page.keyboard.press('Enter'),
      ]);
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('says when nothing matches, and clears when the box is emptied', async () => {
    const { page, problems } = await open('/');
    try {
      const box = page.getByLabel('Rechercher dans les communiqués');
      await box.fill('zzzyxw');
      await box.press('Enter');
      await expect
        .poll(() => status(page).textContent())
        .toBe('Aucun communiqué ne correspond à cette recherche.');
      expect(await page.locator('.site-search-list').isHidden()).toBe(true);
      await box.fill('');
      await box.press('Enter');
      await expect.poll(() => status(page).textContent()).toBe('');
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});

describe('the search box elsewhere', () => {
  it('works from a release page, two folders down', async () => {
    const { page, problems } = await open(`/releases/${crise.slug}/`);
    try {
      // The release page is in its own language, French here.
      await page.getByLabel('Rechercher dans les communiqués').fill('barometer');
      await page.keyboard.press('Enter');
      await expect.poll(() => resultLinks(page).allTextContents()).toEqual([barometer.title]);
      expect(await resultLinks(page).first().getAttribute('href')).toBe(
        `${server?.url.origin}/releases/${barometer.slug}/index.html`,
      );
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('shows the results for ?q= on the search page, where the form leads without scripts', async () => {
    const { page, problems } = await open('/search/index.html?q=Num%C3%89rique');
    try {
      await expect.poll(() => resultLinks(page).allTextContents()).toEqual([crise.title]);
      expect(await page.getByLabel('Rechercher dans les communiqués').inputValue()).toBe('NumÉrique');
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});

describe('axe with results shown', () => {
  for (const width of [375, 1280]) {
    for (const address of ['/', `/releases/${crise.slug}/`, '/search/index.html?q=federation']) {
      it(`finds no violation on ${address} at ${width} px`, async () => {
        // axe is injected by the test: the page's policy would refuse it.
        const { page } = await open(address, { bypassCSP: true, width });
        try {
          if (!address.includes('?q=')) {
            await page.getByLabel('Rechercher dans les communiqués').fill('federation');
            await page.keyboard.press('Enter');
          }
          await expect.poll(() => resultLinks(page).count()).toBe(1);
          const result = await axeViolations(page, axe);
          expect(result.passes).toBeGreaterThan(10);
          expect(result.violations).toEqual([]);
          const overflow = await page.evaluate<number>(
            'document.documentElement.scrollWidth - window.innerWidth',
          );
          expect(overflow, 'the page is wider than the window').toBeLessThanOrEqual(1);
        } finally {
          await page.context().close();
        }
      });
    }
  }
});

describe('without scripts', () => {
  it('leads the form to the search page, which says search needs JavaScript and links the years', async () => {
    if (!browser || !server) throw new Error('the browser or the server is missing');
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      await page.goto(new URL('/', server.url.origin).href);
      await page.getByLabel('Rechercher dans les communiqués').fill('federation');
      await Promise.all([page.waitForURL('**/search/index.html?q=federation'), page.keyboard.press('Enter')]);
      expect(await page.locator('main').textContent()).toContain(
        'La recherche fonctionne dans le navigateur',
      );
      expect(await page.locator('aside a', { hasText: '2024' }).count()).toBe(1);
    } finally {
      await context.close();
    }
  });
});

describe('on a static host', () => {
  it('searches the site `pressroom site build` writes, served under /presse/ with the files’ types only', async () => {
    if (!browser || !work) throw new Error('the browser is missing: see the error of beforeAll');
    const out = path.join(work, 'static');
    expectExit(await runPressroom(['site', 'build', '--out', out], { cwd: work, env }), 0);
    // A host such as any: files as they are, `x/` → `x/index.html`, under /presse/; no policy header.
    const host = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://static');
      const inside = url.pathname.startsWith('/presse/') ? url.pathname.slice('/presse'.length) : undefined;
      let file = inside === undefined ? '' : path.join(out, decodeURIComponent(inside));
      if (file.endsWith('/')) file = path.join(file, 'index.html');
      const info = file.startsWith(out) ? await stat(file).catch(() => undefined) : undefined;
      if (!info?.isFile()) {
        res.writeHead(404).end('Not found');
        return;
      }
      res.writeHead(200, { 'content-type': mediaTypeOf(file), 'content-length': info.size });
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    try {
      await page.route('**/*', (route) => {
        const requested = route.request().url();
        if (requested.startsWith(origin)) return route.continue();
        if (requested.startsWith(`${publicUrl}/`)) return answerFrom(route, publicUrl, `${origin}/presse/`);
        return route.abort('blockedbyclient');
      });
      await page.goto(`${origin}/presse/`, { waitUntil: 'load' });
      await page.getByLabel('Rechercher dans les communiqués').fill('federation');
      await page.keyboard.press('Enter');
      await expect.poll(() => status(page).textContent()).toBe('1 communiqué trouvé');
      expect(await resultLinks(page).first().getAttribute('href')).toBe(
        `${origin}/presse/releases/${barometer.slug}/index.html`,
      );
      await page.keyboard.press('ArrowDown');
      await Promise.all([
        page.waitForURL(`**/presse/releases/${barometer.slug}/index.html`),
        page.keyboard.press('Enter'),
      ]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await new Promise((resolve) => host.close(resolve));
    }
  });
});
