/**
 * The generated press room in a real browser (the Chromium lambdas/adapters/browser.ts
 * finds, driven by playwright-core), opened from the data folder over file://, as a journalist would browse a synced copy:
 * the index without the embargoed release, the first release's page and each of its
 * downloads, the way back, a year page and a tag page; no horizontal overflow on a phone.
 * The archive is published in-process with the same adapters as the CLI (bin/context.ts),
 * PDFs included. Nothing may reach the network; screenshots go to test-output/screenshots/.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, localBackend } from '../../bin/context.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { launchChromium, requireChromium, screenshotsDir } from '../support/browser.ts';
import { exampleWorkspace } from '../support/cli.ts';
import { barometer, crise } from '../support/example-releases.ts';

/** A copy of the barometer under embargo until long after this test: same year, same tags. */
const embargoed = {
  file: 'examples/publications/embargo-2024.md',
  slug: 'annonce-sous-embargo-2024',
  title: 'Annonce sous embargo : à ne pas publier avant 2099',
};

let browser: Browser | undefined;
let work: string | undefined;
let siteDir: string | undefined;

/** The press room's public address the releases are published for. */
const pressRoomUrl = 'https://press.example.org/';

beforeAll(async () => {
  await requireChromium();
  work = await exampleWorkspace('pressroom-browser-');
  const dataDir = path.join(work, 'data');
  siteDir = path.join(dataDir, 'site');
  const source = await readFile(path.join(work, barometer.file), 'utf8');
  const copy = source
    .replace(/^title: .*$/m, `title: "${embargoed.title}"`)
    .replace(/^slug: .*$/m, `slug: ${embargoed.slug}`)
    .replace(/^embargo: .*$/m, 'embargo: 2099-01-01T09:00:00+01:00');
  expect(copy.match(new RegExp(`${embargoed.slug}|2099-01-01`, 'g'))).toHaveLength(2);
  await writeFile(path.join(work, embargoed.file), copy);

  const publishAll = async () => {
    const config = loadConfig({ dataDir }, { ...process.env, PRESSROOM_SITE_URL: pressRoomUrl });
    const backend = await localBackend(config, { pdf: true });
    try {
      for (const file of [crise.file, barometer.file, embargoed.file]) {
        const result = await publishRelease(path.join(work ?? '', file), backend);
        expect(result.pdf, `${file}: PDF`).toEqual({ stored: true });
      }
    } finally {
      await backend.close();
    }
  };
  const [, launched] = await Promise.all([
    publishAll(),
    launchChromium(),
    mkdir(screenshotsDir, { recursive: true }),
  ]);
  browser = launched;
});

afterAll(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * A page with every non-file request blocked, recording console errors, page errors and blocked
 * requests. The press room's address (pages name images by their absolute URLs there) is
 * answered from the site folder.
 */
async function newPage(width: number) {
  if (!browser || !siteDir)
    throw new Error('the browser or the archive is missing: see the error of beforeAll');
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const problems: string[] = [];
  await page.route('**/*', (route) => {
    const requested = route.request().url();
    if (requested.startsWith('file:')) return route.continue();
    if (requested.startsWith(pressRoomUrl) && !requested.includes('..'))
      return route.fulfill({
        path: path.join(siteDir ?? '', decodeURIComponent(requested.slice(pressRoomUrl.length))),
      });
    problems.push(`request to the network: ${requested}`);
    return route.abort('blockedbyclient');
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error on ${page.url()}: ${error.message}`));
  page.on('requestfailed', (request) => {
    if (request.url().startsWith('file:')) problems.push(`failed to load ${request.url()}`);
  });
  return { page, problems };
}

const indexUrl = () => pathToFileURL(path.join(siteDir ?? '', 'index.html')).href;

async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: path.join(screenshotsDir, `press-room-${name}.png`), fullPage: true });
}

/** Every file: link of the page that points to a missing or empty file. */
async function brokenLocalLinks(page: Page): Promise<string[]> {
  const hrefs = await page
    .locator('a[href]')
    .evaluateAll((links) => links.map((a) => (a as unknown as { href: string }).href));
  const broken: string[] = [];
  for (const href of new Set(hrefs.filter((h) => h.startsWith('file:')))) {
    const info = await stat(fileURLToPath(href)).catch(() => undefined);
    if (!info?.isFile() || info.size === 0) broken.push(href);
  }
  return broken;
}

const mainHeadings = (page: Page) => page.locator('article.release h3 a').allTextContents();

describe('press room index', () => {
  it('lists the public releases newest first, with working links, and not the embargoed one', async () => {
    const { page, problems } = await newPage(1280);
    try {
      await page.goto(indexUrl(), { waitUntil: 'load' });
      await screenshot(page, 'index-1280');
      expect(await mainHeadings(page)).toEqual([barometer.title, crise.title]);
      // biome-ignore lint/performance/useDomNodeTextContent: what a reader sees
      const text = await page.locator('body').innerText();
      expect(text).not.toContain('Annonce sous embargo');
      expect(await page.content()).not.toContain(embargoed.slug);
      expect(await brokenLocalLinks(page)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('has no horizontal overflow at 375 px', async () => {
    const { page, problems } = await newPage(375);
    try {
      await page.goto(indexUrl(), { waitUntil: 'load' });
      await screenshot(page, 'index-375');
      const size = await page.evaluate<{ scrollWidth: number; innerWidth: number }>(
        '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
      );
      expect(size.scrollWidth, 'the page is wider than the window').toBeLessThanOrEqual(size.innerWidth + 1);
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});

describe('browsing the press room', () => {
  it('follows the first release, each of its downloads, the way back, a year page and a tag page', async () => {
    const { page, problems } = await newPage(1280);
    try {
      await page.goto(indexUrl(), { waitUntil: 'load' });

      // The first release of the index: the newest one.
      await page.locator('article.release h3 a').first().click();
      await page.waitForURL(`**/releases/${barometer.slug}/index.html`);
      await expect.poll(() => page.locator('h1').first().isVisible()).toBe(true);
      expect(await page.locator('h1').first().textContent()).toBe(barometer.title);
      await screenshot(page, 'release-1280');
      expect(problems, 'console errors or failed loads on the release page').toEqual([]);

      // Each download: the file exists and is not empty; pages and text open without error.
      const downloads = await page
        .locator('section.downloads a[href]')
        .evaluateAll((links) =>
          links.map((a) => ({ label: a.textContent ?? '', href: (a as unknown as { href: string }).href })),
        );
      const local = downloads.filter((d) => d.href.startsWith('file:'));
      expect(local.map((d) => d.href.split(`/releases/${barometer.slug}/`)[1]).sort()).toEqual(
        [
          'email.html',
          'files/attachments/open-data-barometer-summary.txt',
          'files/attachments/open-data-barometer-summary.txt',
          'release.pdf',
          'release.txt',
        ].sort(),
      );
      for (const { label, href } of local) {
        const body = await readFile(fileURLToPath(href));
        expect(body.length, `${label}: ${href}`).toBeGreaterThan(0);
        if (href.endsWith('.pdf')) {
          expect(body.subarray(0, 5).toString('latin1'), href).toBe('%PDF-');
          continue;
        }
        const { page: download, problems: downloadProblems } = await newPage(1280);
        try {
          const response = await download.goto(href, { waitUntil: 'load' });
          expect(response?.ok(), href).toBe(true);
          expect((await download.locator('body').textContent())?.trim().length, href).toBeGreaterThan(0);
          expect(downloadProblems, href).toEqual([]);
        } finally {
          await download.context().close();
        }
      }

      // The way back to the index.
      const back = page.locator('nav.back a');
      expect(await back.textContent()).toMatch(/^← /);
      await back.click();
      await page.waitForURL(indexUrl());
      expect(await mainHeadings(page)).toEqual([barometer.title, crise.title]);

      // A year page lists the release, and not the embargoed one of the same year.
      await page.locator('aside a', { hasText: '2024' }).click();
      await page.waitForURL('**/2024/index.html');
      expect(await mainHeadings(page)).toEqual([barometer.title]);
      expect(await brokenLocalLinks(page)).toEqual([]);
      await screenshot(page, 'year-2024-1280');

      // A tag page, from the release's tags on the year page.
      await page.locator('article.release .tags a', { hasText: barometer.tag }).first().click();
      await page.waitForURL('**/tags/open-data/index.html');
      expect(await mainHeadings(page)).toEqual([barometer.title]);
      expect(await page.content()).not.toContain(embargoed.slug);
      expect(await brokenLocalLinks(page)).toEqual([]);
      await screenshot(page, 'tag-open-data-1280');

      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});
