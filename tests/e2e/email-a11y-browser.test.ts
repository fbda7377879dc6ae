/**
 * axe in the browser on the seed release's email as a recipient sees it (preview.html), at
 * 375 and 600 px, light and dark: no violation of any impact (minor to critical). Needs
 * axe-core (a devDependency), whose source is injected into the page: nothing is fetched.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderToFolders } from '../../bin/actions/render.ts';
import { launchChromium, requireChromium } from '../support/browser.ts';
import { repo } from '../support/cli.ts';

const seed = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';

let browser: Browser | undefined;
let outRoot: string | undefined;
let dir = '';
let axeSource = '';

beforeAll(async () => {
  await requireChromium();
  axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core'), 'utf8');
  outRoot = await mkdtemp(path.join(os.tmpdir(), 'pressroom-email-axe-'));
  const [rendered, launched] = await Promise.all([
    renderToFolders([path.resolve(repo, seed)], { outRoot }),
    launchChromium(),
  ]);
  browser = launched;
  dir = rendered[0]?.dir ?? '';
});

afterAll(async () => {
  await browser?.close();
  if (outRoot) await rm(outRoot, { recursive: true, force: true });
});

interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

describe('axe on the email', () => {
  for (const width of [375, 600]) {
    for (const colorScheme of ['light', 'dark'] as const) {
      it(`finds no violation at ${width} px, ${colorScheme}`, async () => {
        if (!browser) throw new Error('the browser did not start: see the error of beforeAll');
        const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme });
        try {
          await page.route('**/*', (route) =>
            route.request().url().startsWith('file:') ? route.continue() : route.abort('blockedbyclient'),
          );
          await page.goto(pathToFileURL(path.join(dir, 'preview.html')).href, { waitUntil: 'load' });
          await page.addScriptTag({ content: axeSource });
          const result = await page.evaluate<{ violations: Violation[]; passes: unknown[] }>(
            // Every rule axe runs by default: WCAG 2.x A and AA, and best practices, of every impact.
            `axe.run(document, { resultTypes: ['violations'] })`,
          );
          const summary = result.violations.map(
            (v) =>
              `${v.impact} ${v.id}: ${v.help} (${v.nodes
                .map((n) => n.target.join(' '))
                .slice(0, 3)
                .join(', ')})`,
          );
          expect(summary).toEqual([]);
          expect(result.passes.length + 1).toBeGreaterThan(0);
        } finally {
          await page.context().close();
        }
      });
    }
  }
});
