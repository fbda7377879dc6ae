/**
 * A campaign's proof page as `pressroom serve` answers it (its server, in this process, on
 * 127.0.0.1), in a real browser at phone (375 px) and desktop (1280 px) widths: both frames of
 * the email render (the made-up recipient's greeting in each, each frame as wide as it says),
 * the text part and the subject show, nothing overflows the page, nothing is blocked or logged
 * as an error (the Content-Security-Policy lets the frames load, and nothing else), and axe
 * finds no violation on the page. Screenshots go to test-output/screenshots/.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { makeProof } from '../../lambdas/core/campaigns/proof.ts';
import { axeSource, axeViolations } from '../support/axe.ts';
import { launchChromium, requireChromium, screenshotsDir } from '../support/browser.ts';
import { crise } from '../support/example-releases.ts';
import { type ExampleServer, serveExample } from '../support/example-server.ts';

const publicUrl = 'https://press.example.org';
const secret = 'e2e-proof-browser-secret-0123456789abcdef';

let browser: Browser | undefined;
let site: ExampleServer | undefined;
let proofPath = '';
let origin = '';
let axe = '';

beforeAll(async () => {
  await requireChromium();
  axe = await axeSource();
  site = await serveExample({
    prefix: 'pressroom-proof-browser-',
    secret,
    publicUrl,
    release: crise.file,
    settings: async () => ({ timeZone: 'Europe/Paris' }),
  });
  const definition = await loadCampaignFile(
    path.join(site.examples, 'campaigns/etude-2021-presse.yaml'),
    site.backend.files,
  );
  const { token } = await makeProof(definition, { store: site.backend.store, keys: site.backend.keys });
  proofPath = `/proof/${token}`;
  origin = site.origin;
  browser = await launchChromium();
  await mkdir(screenshotsDir, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('the proof page in a browser', () => {
  it.each([
    ['phone', 375],
    ['desktop', 1280],
  ])('at %s width (%i px): both frames render, nothing overflows or is blocked', async (name, width) => {
    if (!browser) throw new Error('no browser: see the error of beforeAll');
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const response = await page.goto(`${origin}${proofPath}`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toContain('gestion de crise avec le numérique');
    await expect(page.locator('#email-text').textContent()).resolves.toContain('97 contributions');

    for (const [id, frameWidth] of [
      ['email-desktop', 640],
      ['email-phone', 375],
    ] as const) {
      const element = page.locator(`#${id}`);
      const box = await element.boundingBox();
      expect(box?.width, id).toBeGreaterThanOrEqual(frameWidth);
      expect(box?.height, id).toBeGreaterThan(800);
      const frame = await (await element.elementHandle())?.contentFrame();
      if (!frame) throw new Error(`#${id} has no frame`);
      await frame.waitForLoadState('load');
      // The email, filled for the made-up recipient, laid out at the frame's width.
      await expect(frame.locator('body').textContent()).resolves.toContain('Prénom');
      const inner = await frame.evaluate<{ width: number; height: number }>(
        '({ width: window.innerWidth, height: document.documentElement.scrollHeight })',
      );
      expect(inner.width, id).toBe(frameWidth);
      expect(inner.height, id).toBeGreaterThan(600);
    }
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBe(0);
    expect(problems).toEqual([]);
    await page.screenshot({ path: path.join(screenshotsDir, `proof-${name}.png`), fullPage: true });
    await context.close();
  });

  it('has no axe violation at phone width', async () => {
    if (!browser) throw new Error('no browser: see the error of beforeAll');
    // The page's policy forbids scripts: axe is injected with the policy bypassed.
    const context = await browser.newContext({ viewport: { width: 375, height: 900 }, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${origin}${proofPath}`, { waitUntil: 'load' });
    const { violations, passes } = await axeViolations(page, axe);
    expect(violations).toEqual([]);
    expect(passes).toBeGreaterThan(10);
    await context.close();
  });
});
