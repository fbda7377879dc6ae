/**
 * Renders the two example publications and opens what they produce in a real browser (the
 * Chromium lambdas/adapters/browser.ts finds, driven by playwright-core): the email as a
 * recipient sees it (preview.html, and the unfilled email.html) at phone and desktop-client
 * widths, and the web page at desktop and phone widths. Nothing may reach the network; each
 * case saves a full-page screenshot under test-output/screenshots/.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderToFolders } from '../../bin/actions/render.ts';
import { launchChromium, requireChromium, screenshotsDir } from '../support/browser.ts';
import { repo } from '../support/cli.ts';

/** What a reader must see in every rendering of an example, written out by hand. */
interface Example {
  file: string;
  publishers: string[];
  quotes: { author: string; start: string }[];
}

const examples: Example[] = [
  {
    file: 'examples/publications/2021-06-08-numerique-gestion-de-crise.md',
    publishers: ['Villes Internet', 'Villes de France'],
    quotes: [
      { author: 'Caroline Cayeux', start: 'Si cette crise a révélé tout le potentiel' },
      { author: 'Mathieu Vidal', start: 'Et si la crise nous permettait de tout repenser' },
    ],
  },
  {
    file: 'examples/publications/2024-03-12-open-data-barometer.md',
    publishers: ['Open Cities Federation', 'Institute for Civic Information'],
    quotes: [{ author: 'Maria Sample', start: 'Open data is no longer a pilot project' }],
  },
];

type View = 'preview' | 'email' | 'page';

/** The files opened and the viewport widths they are opened at. */
const views: { view: View; file: string; widths: number[]; filled: boolean }[] = [
  { view: 'preview', file: 'preview.html', widths: [375, 600], filled: true },
  { view: 'email', file: 'email.html', widths: [375, 600], filled: false },
  { view: 'page', file: 'page.html', widths: [1280, 375], filled: true },
];

/** The press room the examples are rendered for. */
const siteUrl = 'https://press.example.org/';

let browser: Browser | undefined;
let outRoot: string | undefined;
/** The folder each example was rendered into, by the example's file. */
const renderedDirs = new Map<string, { slug: string; dir: string }>();

beforeAll(async () => {
  await requireChromium();
  outRoot = await mkdtemp(path.join(os.tmpdir(), 'pressroom-e2e-'));
  const [rendered, launched] = await Promise.all([
    renderToFolders(
      examples.map((e) => path.resolve(repo, e.file)),
      { outRoot, siteUrl },
    ),
    launchChromium(),
  ]);
  browser = launched;
  for (const [i, example] of examples.entries()) {
    const result = rendered[i];
    if (!result) throw new Error(`renderToFolders returned nothing for ${example.file}`);
    renderedDirs.set(example.file, { slug: result.slug, dir: result.dir });
  }
  await mkdir(screenshotsDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (outRoot) await rm(outRoot, { recursive: true, force: true });
});

/**
 * Opens a file:// page with every other request blocked, and records what went wrong. The
 * release's images are named by their absolute URLs in the press room (rendered for
 * `siteUrl`, https as in production: the pages' policy lets images load from https only):
 * those are answered from the rendered folder.
 */
async function open(url: string, width: number, rendered: { slug: string; dir: string }) {
  if (!browser) throw new Error('the browser did not start: see the error of beforeAll');
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const blocked: string[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const published = `${siteUrl}releases/${rendered.slug}/`;
  await page.route('**/*', (route) => {
    const requested = route.request().url();
    if (requested.startsWith('file:')) return route.continue();
    if (requested.startsWith(published) && !requested.includes('..'))
      return route.fulfill({
        path: path.join(rendered.dir, decodeURIComponent(requested.slice(published.length))),
      });
    blocked.push(requested);
    return route.abort('blockedbyclient');
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(url, { waitUntil: 'load' });
  return { page, blocked, consoleErrors, pageErrors };
}

/** Each `{{` in the text, with a little of what surrounds it. */
function placeholders(text: string): string[] {
  return [...text.matchAll(/.{0,30}\{\{.{0,30}/g)].map((m) => m[0]);
}

async function isShown(page: Page, text: string): Promise<boolean> {
  return page.getByText(text, { exact: false }).filter({ visible: true }).first().isVisible();
}

for (const example of examples) {
  describe(path.basename(example.file, '.md'), () => {
    for (const { view, file, widths, filled } of views) {
      for (const width of widths) {
        it(`${file} at ${width} px`, async () => {
          const rendered = renderedDirs.get(example.file);
          if (!rendered) throw new Error(`${example.file} was not rendered: see the error of beforeAll`);
          const url = pathToFileURL(path.join(rendered.dir, file)).href;
          const { page, blocked, consoleErrors, pageErrors } = await open(url, width, rendered);
          try {
            await page.screenshot({
              path: path.join(screenshotsDir, `${rendered.slug}-${view}-${width}.png`),
              fullPage: true,
            });

            const size = await page.evaluate<{ scrollWidth: number; innerWidth: number }>(
              '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
            );
            expect
              .soft(size.scrollWidth, 'horizontal overflow: the page is wider than the window')
              .toBeLessThanOrEqual(size.innerWidth + 1);

            const missing: string[] = [];
            for (const name of example.publishers) {
              if (!(await isShown(page, name))) missing.push(`publisher "${name}"`);
            }
            for (const quote of example.quotes) {
              if (!(await isShown(page, quote.author))) missing.push(`quote author "${quote.author}"`);
              if (!(await isShown(page, quote.start))) missing.push(`quote "${quote.start}…"`);
            }
            expect.soft(missing, 'not visible on the page').toEqual([]);

            if (filled) {
              // biome-ignore lint/performance/useDomNodeTextContent: the text as laid out, hidden parts left out, is what a reader sees
              const text = await page.locator('body').innerText();
              expect.soft(placeholders(text), 'Handlebars placeholders left in the visible text').toEqual([]);
              // Nor in links and hidden parts (the inbox preview line, the unsubscribe link).
              expect
                .soft(placeholders(await page.content()), 'Handlebars placeholders left in the HTML')
                .toEqual([]);
            } else {
              // email.html keeps them for sending: without any, the preview check above proves nothing.
              expect.soft(placeholders(await page.content()), 'placeholders in email.html').not.toEqual([]);
            }

            expect.soft(blocked, 'requests to the network (only file: is allowed)').toEqual([]);
            expect.soft(consoleErrors, 'console errors').toEqual([]);
            expect.soft(pageErrors, 'page errors').toEqual([]);
          } finally {
            await page.context().close();
          }
        });
      }
    }
  });
}
