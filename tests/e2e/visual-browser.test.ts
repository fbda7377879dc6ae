/**
 * Visual regression: the seed release's email at 375 and 600 px and its press room page at
 * 1280 px, screenshotted and compared with the baselines in tests/fixtures/visual/ (see
 * tests/support/visual.ts for the tolerance). `npm run test:visual:update` writes them again.
 *
 * Drawn the same on any Linux x64 machine: the Chromium of @sparticuz/chromium with only the
 * fonts it ships (never the machine's), device scale 1, a fixed viewport, light colour scheme,
 * French locale and Paris time, "now" fixed in Node and in the page, animations off, and
 * nothing from the network. The page is the one `publish` writes, with a PDF printer that
 * returns fixed bytes (the page links to the PDF; the PDF itself is not what is compared).
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { renderToFolders } from '../../bin/actions/render.ts';
import { loadConfig, localBackend } from '../../bin/context.ts';
import { launchBrowser } from '../../lambdas/adapters/browser.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { shippedFontsChromium } from '../support/browser.ts';
import { exampleWorkspace, repo } from '../support/cli.ts';
import { crise } from '../support/example-releases.ts';
import { artifactsDir, matchBaseline, tolerance, VisualMismatchError } from '../support/visual.ts';

/** "Now" for the render, the publish and the page: the seed's day, after its embargo. */
const now = new Date('2021-06-08T10:00:00+02:00');
const siteUrl = 'https://press.example.org/';

/** Flags on top of the printer's for pixels that do not depend on the machine. */
const screenshotArgs = ['--force-color-profile=srgb', '--font-render-hinting=none', '--hide-scrollbars'];

let browser: Browser | undefined;
let work: string | undefined;
let workspace: string | undefined;
let emailFile: string | undefined;
let pageFile: string | undefined;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'pressroom-visual-'));
  // Text without anti-aliasing: every glyph pixel is ink or paper, so no rounding of the
  // machine's CPU can tint an edge, and the PNGs are about a quarter the size.
  const found = await shippedFontsChromium(work, 'the visual regression tests compare screenshots drawn by', {
    antialias: false,
  });
  const launching = launchBrowser({ ...found, args: [...found.args, ...screenshotArgs] });
  vi.useFakeTimers({ toFake: ['Date'], now, shouldAdvanceTime: true });
  try {
    const [rendered] = await renderToFolders([path.resolve(repo, crise.file)], {
      outRoot: path.join(work, 'rendered'),
    });
    if (!rendered) throw new Error('renderToFolders returned nothing');
    emailFile = path.join(rendered.dir, 'preview.html');

    workspace = await exampleWorkspace('pressroom-visual-workspace-');
    const dataDir = path.join(workspace, 'data');
    // Only these variables: none of the machine's settings (its time zone...) reaches the page.
    const config = loadConfig(
      { dataDir },
      { PRESSROOM_SITE_URL: siteUrl, PRESSROOM_TIME_ZONE: 'Europe/Paris' },
    );
    const backend = await localBackend(config, { pdf: false });
    try {
      const result = await publishRelease(path.join(workspace, crise.file), {
        ...backend,
        printer: { print: async () => new TextEncoder().encode('%PDF-1.7\n%%EOF\n') },
        clock: () => new Date(now),
      });
      expect(result.url).toBe(`${siteUrl}releases/${crise.slug}/index.html`);
      pageFile = path.join(dataDir, 'site', new URL(result.url ?? '').pathname);
    } finally {
      await backend.close();
    }
  } finally {
    vi.useRealTimers();
    // Kept even when rendering failed, so that afterAll closes it.
    browser = await launching;
  }
});

afterAll(async () => {
  await browser?.close();
  for (const dir of [work, workspace]) if (dir) await rm(dir, { recursive: true, force: true });
});

/** The file opened at this width, ready to be screenshotted, nothing fetched from the network. */
async function open(file: string | undefined, width: number): Promise<Page> {
  if (!browser || !file)
    throw new Error('the browser or the rendered files are missing: see the error of beforeAll');
  const page = await browser.newPage({
    viewport: { width, height: 800 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
    reducedMotion: 'reduce',
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
  });
  await page.clock.setFixedTime(now);
  await page.route('**/*', (route) =>
    route.request().url().startsWith('file:') ? route.continue() : route.abort('blockedbyclient'),
  );
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.evaluate('document.fonts.ready');
  return page;
}

async function screenshot(page: Page): Promise<Buffer> {
  return page.screenshot({ fullPage: true, animations: 'disabled', caret: 'hide', scale: 'css' });
}

async function shoot(file: string | undefined, width: number, style?: string): Promise<Buffer> {
  const page = await open(file, width);
  try {
    if (style) await page.addStyleTag({ content: style });
    return await screenshot(page);
  } finally {
    await page.context().close();
  }
}

describe('the seed release looks as it did', () => {
  for (const width of [375, 600]) {
    it(`email at ${width} px`, async () => {
      const comparison = await matchBaseline(`seed-email-${width}`, await shoot(emailFile, width));
      expect(comparison.share).toBeLessThanOrEqual(tolerance.maxShare);
    });
  }

  it('press room page at 1280 px', async () => {
    const comparison = await matchBaseline('seed-page-1280', await shoot(pageFile, 1280));
    expect(comparison.share).toBeLessThanOrEqual(tolerance.maxShare);
  });
});

describe('the comparison sees a change', () => {
  /**
   * The mismatch of a screenshot altered on purpose, compared with the baseline (never written
   * over, even when updating); its images are left as `<name>-<what>-on-purpose.*.png`.
   */
  async function mismatch(name: string, screenshot: Buffer, what: string): Promise<VisualMismatchError> {
    const failure = await matchBaseline(name, screenshot, {
      update: false,
      artifactsName: `${name}-${what}-on-purpose`,
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(VisualMismatchError);
    return failure as VisualMismatchError;
  }

  it('fails on the email moved down 2 px, with the share that differs and the images to look at', async () => {
    const shifted = await shoot(emailFile, 375, 'body { padding-top: 2px !important; }');
    const { comparison, message } = await mismatch('seed-email-375', shifted, 'shifted');
    expect(comparison.share).toBeGreaterThan(tolerance.maxShare);
    expect(message).toMatch(/^seed-email-375: \d+\.\d{3} % of the pixels differ from the baseline/);
    expect(message).toContain('The size changed');
    for (const kind of ['actual', 'diff']) {
      const file = path.join(artifactsDir, `seed-email-375-shifted-on-purpose.${kind}.png`);
      expect(message).toContain(path.relative(repo, file));
      await access(file);
    }
  });

  it('fails on the key figures in another colour, the size unchanged', async () => {
    const recoloured = await shoot(emailFile, 600, '.figure-value { color: #1f2328 !important; }');
    const { comparison, message } = await mismatch('seed-email-600', recoloured, 'recoloured');
    expect(comparison.baselineSize).toBe(comparison.actualSize);
    expect(comparison.share).toBeGreaterThan(tolerance.maxShare);
    expect(message).not.toContain('The size changed');
  });
});
