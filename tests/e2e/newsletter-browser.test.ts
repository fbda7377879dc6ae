/**
 * A newsletter issue built from the example releases, opened in headless Chromium: the
 * email as a recipient sees it (preview.html) and unfilled (email.html) at 375 and 600 px,
 * the web version and the press room's Newsletters pages at 375 and 1280 px. Nothing may
 * overflow horizontally, every image must load and fit; the item image is served by the
 * test itself (no network). Screenshots go to test-output/screenshots/.
 */

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { localSourceFiles } from '../../lambdas/adapters/local-files.ts';
import { writeFolderAtomically } from '../../lambdas/adapters/output-folder.ts';
import { sharpImages } from '../../lambdas/adapters/sharp-images.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { createPressRoom } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { publishIssue, renderIssueFiles } from '../../lambdas/core/newsletter/publish.ts';
import { createNewsletterRenderer } from '../../lambdas/core/newsletter/render.ts';
import type { SourceFiles } from '../../lambdas/core/publication/load.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { launchChromium, requireChromium, screenshotsDir } from '../support/browser.ts';

const imageHost = 'https://images.example.org/';
const issueFile = 'examples/newsletters/navigateur.md';

/** The example issue, with a wide image on one item and a long unbreakable word in another. */
const issueSource = `---
title: "La lettre de Villes Internet – numéro d’essai"
date: 2024-03-15
publishers:
  - villes-internet
  - villes-de-france
intro: Un numéro pour vérifier la mise en page, avec une image très large.
items:
  - release: open-data-barometer-2024
    image: ${imageHost}barometre.svg
  - release: gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes
  - title: Anticonstitutionnellementissimementextraordinairement
    summary: Un mot très long ne doit pas élargir la page.
    url: https://www.villes-internet.net/label
    image: ${imageHost}label.svg
events:
  - title: Assemblée générale
    date: 2024-04-04T14:00
    place: Paris
---

## En bref

Le réseau grandit.
`;

/** A 1600 × 900 picture: wider than any email or page, so it must be scaled down. */
const wideImage = `<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="900" viewBox="0 0 1600 900"><rect width="1600" height="900" fill="#0b7a5a"/><circle cx="800" cy="450" r="300" fill="#fff"/></svg>`;

const files: SourceFiles = {
  readBytes: (f) =>
    f === issueFile ? Promise.resolve(new TextEncoder().encode(issueSource)) : localSourceFiles.readBytes(f),
  size: (f) => (f === issueFile ? Promise.resolve(issueSource.length) : localSourceFiles.size(f)),
  stream: (f) => localSourceFiles.stream(f),
  within: () => files,
};

let browser: Browser | undefined;
let work: string | undefined;
const pages: Record<string, string> = {};

beforeAll(async () => {
  await requireChromium();
  work = await mkdtemp(path.join(os.tmpdir(), 'pressroom-newsletter-browser-'));
  const store = new FolderObjectStore({
    root: path.join(work, 'store'),
    signingSecret: 's',
    publicUrl: 'http://x',
  });
  const templates = await loadTemplateFiles();
  const siteUrl = 'https://press.example.org/';
  const pressRoom = createPressRoom(templates, { siteUrl, lang: 'fr' });
  const clock = () => new Date('2024-03-15T12:00:00Z');
  const base = {
    store,
    files,
    pressRoom,
    sampleRecipient: templates.sampleRecipient,
    siteUrl,
    clock,
    images: sharpImages(),
  };
  const [launched] = await Promise.all([
    launchChromium(),
    (async () => {
      for (const f of ['2021-06-08-numerique-gestion-de-crise.md', '2024-03-12-open-data-barometer.md']) {
        await publishRelease(`examples/publications/${f}`, {
          ...base,
          renderer: createReleaseRenderer(templates),
        });
      }
    })(),
  ]);
  browser = launched;
  const issueDeps = { ...base, renderer: createNewsletterRenderer(templates) };
  const rendered = await renderIssueFiles(issueFile, issueDeps);
  const out = path.join(work, 'out');
  await writeFolderAtomically(out, rendered.files);
  await publishIssue(issueFile, issueDeps);
  for (const name of ['preview.html', 'email.html', 'page.html']) pages[name] = path.join(out, name);
  pages['press-room-issue'] = store.fileOf('site/newsletters/navigateur/index.html');
  pages['press-room-index'] = store.fileOf('site/newsletters/index.html');
  await mkdir(screenshotsDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const views: { name: string; widths: number[]; filled: boolean; items: boolean }[] = [
  { name: 'preview.html', widths: [375, 600], filled: true, items: true },
  { name: 'email.html', widths: [375, 600], filled: false, items: true },
  { name: 'page.html', widths: [375, 1280], filled: true, items: true },
  { name: 'press-room-issue', widths: [375, 1280], filled: true, items: true },
  { name: 'press-room-index', widths: [375, 1280], filled: true, items: false },
];

describe('a newsletter issue in the browser', () => {
  for (const view of views) {
    for (const width of view.widths) {
      it(`${view.name} at ${width} px`, async () => {
        if (!browser) throw new Error('the browser did not start: see the error of beforeAll');
        const file = pages[view.name];
        if (!file) throw new Error(`${view.name} was not written: see the error of beforeAll`);
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        const blocked: string[] = [];
        const errors: string[] = [];
        await page.route('**/*', (route) => {
          const url = route.request().url();
          if (url.startsWith('file:')) return route.continue();
          if (url.startsWith(imageHost))
            return route.fulfill({ contentType: 'image/svg+xml', body: wideImage });
          blocked.push(url);
          return route.abort('blockedbyclient');
        });
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(e.message));
        try {
          await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
          await page.screenshot({
            path: path.join(screenshotsDir, `newsletter-${view.name.replace('.html', '')}-${width}.png`),
            fullPage: true,
          });
          const layout = await page.evaluate<{
            scrollWidth: number;
            innerWidth: number;
            images: { src: string; loaded: boolean; left: number; right: number; width: number }[];
          }>(`({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            images: [...document.images].map((img) => {
              const box = img.getBoundingClientRect();
              return { src: img.src, loaded: img.complete && img.naturalWidth > 0, left: box.left, right: box.right, width: box.width };
            }),
          })`);
          expect.soft(layout.scrollWidth, 'horizontal overflow').toBeLessThanOrEqual(layout.innerWidth + 1);
          if (view.items) {
            expect
              .soft(layout.images.map((i) => i.src).sort())
              .toEqual([`${imageHost}barometre.svg`, `${imageHost}label.svg`]);
          }
          for (const image of layout.images) {
            expect.soft(image.loaded, `${image.src} loaded`).toBe(true);
            expect.soft(image.left, `${image.src} left edge`).toBeGreaterThanOrEqual(0);
            expect.soft(image.right, `${image.src} right edge`).toBeLessThanOrEqual(layout.innerWidth + 1);
            expect.soft(image.width, `${image.src} scaled down`).toBeLessThan(1600);
          }
          const visible = async (text: string) =>
            page.getByText(text, { exact: false }).filter({ visible: true }).first().isVisible();
          const expected = view.items
            ? [
                'Open Data Barometer 2024',
                'Gestion de crise avec le numérique',
                'Anticonstitutionnellement',
                'Assemblée générale',
              ]
            : ['La lettre de Villes Internet – numéro d’essai'];
          for (const text of expected) expect.soft(await visible(text), `"${text}" visible`).toBe(true);
          const html = await page.content();
          if (view.filled) expect.soft(html.match(/.{0,20}\{\{.{0,20}/g), 'placeholders left').toBeNull();
          else
            expect
              .soft(html, 'email.html keeps its placeholders for sending')
              .toContain('{{unsubscribeUrl}}');
          expect.soft(blocked, 'requests to the network').toEqual([]);
          expect.soft(errors, 'console and page errors').toEqual([]);
        } finally {
          await page.context().close();
        }
      });
    }
  }
});
