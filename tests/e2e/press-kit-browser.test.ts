/**
 * The press kit gallery of a published release, as `pressroom serve` answers it (its server, in
 * this process, on 127.0.0.1), in a real browser: the English example lists an image. Its
 * thumbnail loads, links to the web size, and the download button saves the original byte for
 * byte; the keyboard reaches both links; the email's lead image loads; axe finds no violation
 * at 375 and 1280 px. The release is published for the public address press.example.org: the
 * browser's requests there are answered by the local server (nothing reaches the network).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptionLists } from '../../bin/context.ts';
import { axeSource, axeViolations } from '../support/axe.ts';
import { launchChromium, requireChromium, screenshotsDir } from '../support/browser.ts';
import { barometer } from '../support/example-releases.ts';
import { type ExampleServer, serveExample } from '../support/example-server.ts';

const publicUrl = 'https://press.example.org';
const secret = 'e2e-press-kit-secret-0123456789abcdef0123';
const original = 'examples/publications/images/barometer-chart.jpg';
const releasePath = `/releases/${barometer.slug}/`;

let browser: Browser | undefined;
let site: ExampleServer | undefined;
let origin = '';
let axe = '';

beforeAll(async () => {
  await requireChromium();
  axe = await axeSource();
  site = await serveExample({
    prefix: 'pressroom-press-kit-',
    secret,
    publicUrl,
    release: barometer.file,
    settings: async (config) => ({
      lists: (await subscriptionLists(undefined, config)).lists,
      listTitles: {},
    }),
  });
  origin = site.origin;
  browser = await launchChromium();
  await mkdir(screenshotsDir, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/**
 * A page that reaches this server only: the press room's public address is answered by it
 * (the page names images by their absolute URLs there), anything else is blocked.
 */
async function newPage(width: number): Promise<Page> {
  if (!browser) throw new Error('the browser did not start: see the error of beforeAll');
  const page = await browser.newPage({
    viewport: { width, height: 900 },
    bypassCSP: true,
    acceptDownloads: true,
  });
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(origin)) return route.continue();
    if (url.startsWith(`${publicUrl}/`)) {
      return route.fulfill({ response: await route.fetch({ url: origin + url.slice(publicUrl.length) }) });
    }
    return route.abort('blockedbyclient');
  });
  return page;
}

/** Waits for every image of `selector` to be loaded (lazy ones scrolled to), and returns their natural widths. */
async function loadedWidths(page: Page, selector: string): Promise<number[]> {
  const images = page.locator(selector);
  const widths: number[] = [];
  for (let i = 0; i < (await images.count()); i++) {
    const image = images.nth(i);
    await image.scrollIntoViewIfNeeded();
    // Lazy images load once scrolled to: wait for this one (a broken one ends with width 0).
    await image.evaluate(
      (img: { complete: boolean; onload: unknown; onerror: unknown }) =>
        img.complete ||
        new Promise((resolve) => {
          img.onload = resolve;
          img.onerror = resolve;
        }),
    );
    widths.push(await image.evaluate((img: { naturalWidth: number }) => img.naturalWidth));
  }
  return widths;
}

describe('the press kit gallery of a published release', () => {
  it('shows the thumbnail, links to the web size and downloads the original as it was given', async () => {
    const page = await newPage(1280);
    try {
      expect((await page.goto(origin + releasePath, { waitUntil: 'load' }))?.status()).toBe(200);
      const gallery = page.locator('section.gallery');
      expect(await gallery.locator('h2').textContent()).toBe('Press images');
      expect(await loadedWidths(page, 'section.gallery img')).toEqual([400]);
      const img = gallery.locator('img').first();
      expect(await img.getAttribute('alt')).toMatch(/^Bar chart: the share of surveyed authorities/);
      expect(await gallery.locator('figcaption').textContent()).toContain('Credit: Open Cities Federation');

      // The thumbnail's link opens the web size: a JPEG, as wide as the original (1200 px, never enlarged).
      const view = await gallery.locator('a.gallery-view').getAttribute('href');
      expect(view).toBe(`${publicUrl}${releasePath}images/web/barometer-chart.jpg`);
      const web = await page.request.get(origin + (view ?? '').slice(publicUrl.length));
      expect(web.status()).toBe(200);
      expect(web.headers()['content-type']).toBe('image/jpeg');

      // The download button saves the original, byte for byte, under its own name.
      const button = gallery.locator('.gallery-download a');
      expect(await button.getAttribute('href')).toBe('files/images/barometer-chart.jpg');
      const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
      expect(download.suggestedFilename()).toBe('barometer-chart.jpg');
      const saved = await readFile((await download.path()) ?? '');
      const given = await readFile(path.join(site?.work ?? '', original));
      expect(createHash('sha256').update(saved).digest('hex')).toBe(
        createHash('sha256').update(given).digest('hex'),
      );
      expect(await gallery.locator('.detail').textContent()).toBe('JPEG, 1200 × 800 px, 32.9 kB');
      await page.screenshot({
        path: path.join(screenshotsDir, 'press-kit-gallery-1280.png'),
        fullPage: true,
      });
    } finally {
      await page.context().close();
    }
  });

  it('lets the keyboard reach the thumbnail’s link and the download button', async () => {
    const page = await newPage(1280);
    try {
      await page.goto(origin + releasePath, { waitUntil: 'load' });
      const reached: string[] = [];
      for (let i = 0; i < 60 && reached.length < 2; i++) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate<string | null>(
          `document.activeElement?.closest('section.gallery') ? document.activeElement.className : null`,
        );
        if (focused !== null && !reached.includes(focused)) reached.push(focused);
      }
      expect(reached).toEqual(['gallery-view', 'button']);
      // The focused button is visibly outlined.
      const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
      expect(outline).toBe('solid');
    } finally {
      await page.context().close();
    }
  });

  it('shows the lead image in the email, by its absolute URL, 600 px wide', async () => {
    const page = await newPage(600);
    try {
      await page.goto(`${origin}${releasePath}email.html`, { waitUntil: 'load' });
      const lead = page.locator(`img[src="${publicUrl}${releasePath}images/web/barometer-chart.jpg"]`);
      expect(await lead.count()).toBe(1);
      expect(await lead.getAttribute('width')).toBe('600');
      expect(await loadedWidths(page, `img[src$="images/web/barometer-chart.jpg"]`)).toEqual([1200]);
    } finally {
      await page.context().close();
    }
  });

  for (const width of [375, 1280]) {
    it(`has no axe violation with the gallery, at ${width} px`, async () => {
      const page = await newPage(width);
      try {
        await page.goto(origin + releasePath, { waitUntil: 'load' });
        expect((await loadedWidths(page, 'section.gallery img')).every((w) => w > 0)).toBe(true);
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
});
