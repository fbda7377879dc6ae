/**
 * The seed release's email read on a phone (375 px) and in a desktop client (600 px), in
 * light and dark mode, in headless Chromium: no word cut inside, every text 14 px or more
 * at 4.5:1 against what is really behind it, a language, alternative texts and link names
 * (the checks axe would make that we can make ourselves). Screenshots go to
 * test-output/screenshots/.
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

const examples = [
  'examples/publications/2021-06-08-numerique-gestion-de-crise.md',
  'examples/publications/2024-03-12-open-data-barometer.md',
];

let browser: Browser | undefined;
let outRoot: string | undefined;
const dirs: { slug: string; dir: string }[] = [];

beforeAll(async () => {
  await requireChromium();
  outRoot = await mkdtemp(path.join(os.tmpdir(), 'pressroom-email-phone-'));
  const [rendered, launched] = await Promise.all([
    renderToFolders(
      examples.map((e) => path.resolve(repo, e)),
      { outRoot },
    ),
    launchChromium(),
  ]);
  browser = launched;
  dirs.push(...rendered.map((r) => ({ slug: r.slug, dir: r.dir })));
  await mkdir(screenshotsDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (outRoot) await rm(outRoot, { recursive: true, force: true });
});

/**
 * Every word (a run of letters and digits) of the visible text whose boxes lie on more
 * than one line: a word broken inside. Breaking at a hyphen or between the parts of an
 * address is not breaking a word.
 */
const splitWords = `(() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const style = getComputedStyle(n.parentElement);
    if (style.display === 'none' || style.visibility === 'hidden' || style.opacity === '0') continue;
    const re = /[\\p{L}\\p{N}]{2,}/gu;
    let m;
    while ((m = re.exec(n.data))) {
      const range = document.createRange();
      range.setStart(n, m.index);
      range.setEnd(n, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
      if (new Set(rects.map((r) => Math.round(r.bottom))).size > 1) out.push(m[0]);
    }
  }
  return out;
})()`;

/**
 * For each visible text: its size, and its contrast with the first opaque background
 * behind it (the page's white when none), computed as WCAG 2 does.
 */
const textStyles = `(() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return parse(getComputedStyle(document.documentElement).backgroundColor)?.a ? parse(getComputedStyle(document.documentElement).backgroundColor) : { r: 255, g: 255, b: 255 };
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.data.replace(/[\\s\\u00a0\\u034f\\u200c]+/g, ' ').trim();
    if (!text) continue;
    const el = n.parentElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.display === 'none' || style.visibility === 'hidden' || Number(style.opacity) === 0 || box.width === 0 || box.height === 0) continue;
    if (el.closest('[style*="display:none"], [style*="display: none"]')) continue;
    const fg = parse(style.color);
    const bg = background(el);
    const [a, b] = [lum(fg), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    out.push({ text: text.slice(0, 40), size: parseFloat(style.fontSize), ratio: Math.round(ratio * 100) / 100 });
  }
  return out;
})()`;

/** What a screen reader needs that axe checks: a language, alternative texts, link names. */
const basics = `(() => ({
  lang: document.documentElement.lang,
  title: document.title,
  imagesWithoutAlt: [...document.images].filter((i) => !i.hasAttribute('alt')).map((i) => i.src),
  linksWithoutName: [...document.links].filter((a) => !(a.textContent.trim() || a.getAttribute('aria-label') || a.querySelector('img[alt]:not([alt=""])'))).map((a) => a.href),
  colorScheme: document.querySelector('meta[name="color-scheme"]')?.content,
}))()`;

async function open(file: string, width: number, colorScheme: 'light' | 'dark'): Promise<Page> {
  if (!browser) throw new Error('the browser did not start: see the error of beforeAll');
  const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme });
  await page.route('**/*', (route) =>
    route.request().url().startsWith('file:') ? route.continue() : route.abort('blockedbyclient'),
  );
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return page;
}

describe('the email on a phone and in a desktop client', () => {
  for (const [i, example] of examples.entries()) {
    for (const width of [375, 600]) {
      for (const scheme of ['light', 'dark'] as const) {
        it(`${path.basename(example, '.md')} at ${width} px, ${scheme}`, async () => {
          const rendered = dirs[i];
          if (!rendered) throw new Error(`${example} was not rendered: see the error of beforeAll`);
          const page = await open(path.join(rendered.dir, 'preview.html'), width, scheme);
          try {
            await page.screenshot({
              path: path.join(screenshotsDir, `${rendered.slug}-email-${width}-${scheme}.png`),
              fullPage: true,
            });
            expect.soft(await page.evaluate<string[]>(splitWords), 'words broken inside').toEqual([]);

            const texts = await page.evaluate<{ text: string; size: number; ratio: number }[]>(textStyles);
            expect(texts.length).toBeGreaterThan(40);
            expect
              .soft(
                texts.filter((t) => t.size < 14),
                'text under 14 px',
              )
              .toEqual([]);
            expect
              .soft(
                texts.filter((t) => t.ratio < 4.5),
                'text under 4.5:1',
              )
              .toEqual([]);

            const found = await page.evaluate<{
              lang: string;
              title: string;
              imagesWithoutAlt: string[];
              linksWithoutName: string[];
              colorScheme?: string;
            }>(basics);
            expect.soft(found.lang).toMatch(/^(fr|en)$/);
            expect.soft(found.title).not.toBe('');
            expect.soft(found.imagesWithoutAlt).toEqual([]);
            expect.soft(found.linksWithoutName).toEqual([]);
            expect.soft(found.colorScheme).toBe('light dark');

            const size = await page.evaluate<{ scrollWidth: number; innerWidth: number }>(
              '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
            );
            expect.soft(size.scrollWidth, 'horizontal overflow').toBeLessThanOrEqual(size.innerWidth + 1);
          } finally {
            await page.context().close();
          }
        });
      }
    }
  }

  it('leaves no word broken inside on the web page at 375 px either (the key figures)', async () => {
    const rendered = dirs[0];
    if (!rendered) throw new Error('the seed was not rendered: see the error of beforeAll');
    const page = await open(path.join(rendered.dir, 'page.html'), 375, 'light');
    try {
      // "intercommunalités" was cut in two in a key figure's box, two boxes to a row.
      expect(await page.evaluate<string[]>(splitWords)).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('puts the press contacts at 15 px in the text colour, and the tag chips link to tag pages', async () => {
    const rendered = dirs[0];
    if (!rendered) throw new Error('the seed was not rendered: see the error of beforeAll');
    const page = await open(path.join(rendered.dir, 'preview.html'), 375, 'light');
    try {
      const contact = await page.evaluate<{ fontSize: string; color: string } | null>(`(() => {
        const p = [...document.querySelectorAll('p')].find((e) => e.textContent.includes('Florence Poznanski'));
        return p ? { fontSize: getComputedStyle(p).fontSize, color: getComputedStyle(p).color } : null;
      })()`);
      expect(contact).toEqual({ fontSize: '15px', color: 'rgb(31, 35, 40)' });
      const tags = await page.evaluate<string[]>(
        `[...document.querySelectorAll('a.tag')].map((a) => a.href)`,
      );
      expect(tags).toEqual([
        'http://localhost:3000/tags/numerique/index.html',
        'http://localhost:3000/tags/gestion-de-crise/index.html',
        'http://localhost:3000/tags/villes-moyennes/index.html',
      ]);
    } finally {
      await page.context().close();
    }
  });
});
