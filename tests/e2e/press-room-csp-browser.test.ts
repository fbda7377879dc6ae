/**
 * Every kind of page of the press room, served by `pressroom serve` with its
 * Content-Security-Policy header and opened in a real browser (chromium through
 * playwright-core): the home page, a year, a tag, a release and its email version, the
 * Newsletters page and an issue, a withdrawn release's notice, and the subscription form.
 * Each loads without a single console error, page error, policy violation or request that
 * leaves the server, while the policy is in force (a control shows that the browser does
 * report what the policy refuses).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.ts';
import { exampleWorkspace, expectExit, runPressroom } from '../support/cli.ts';
import { barometer, crise } from '../support/example-releases.ts';
import { outboxEnv, type Server, startServer, stopServer } from '../support/serve.ts';
import { watchedPage } from '../support/watched-page.ts';

const secret = 'e2e-csp-browser-secret-0123456789abcdef';
const publicUrl = 'https://press.example.org';
const withdrawn = { file: 'examples/publications/retire.md', slug: 'communique-retire-2024' };
const issue = '2024-03-lettre';

let work: string | undefined;
let server: Server | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-csp-browser-');
  const cwd = work;
  const env = outboxEnv({ data: path.join(cwd, 'data'), secret, publicUrl });
  const pressroom = async (...args: string[]) => expectExit(await runPressroom(args, { cwd, env }), 0);
  const source = await readFile(path.join(cwd, barometer.file), 'utf8');
  await writeFile(
    path.join(cwd, withdrawn.file),
    source.replace(/^slug: .*$/m, `slug: ${withdrawn.slug}`).replace(/^title: .*$/m, 'title: "À retirer"'),
  );
  for (const file of [crise.file, barometer.file, withdrawn.file])
    await pressroom('publish', file, '--no-pdf');
  await pressroom('newsletter', 'publish', `examples/newsletters/${issue}.md`);
  await pressroom('archive', 'withdraw', withdrawn.slug, '--reason', 'publié par erreur');
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

/**
 * A page that records console errors, page errors, policy violations and requests to elsewhere.
 * The press room's public address (pages name images by their absolute URLs there) is answered
 * by the server, as it would be in production, under the same policy.
 */
async function open(url: string): Promise<{ page: Page; problems: string[]; status: number; csp?: string }> {
  if (!browser || !server)
    throw new Error('the browser or the server is missing: see the error of beforeAll');
  const origin = server.url.origin;
  const { page, problems } = await watchedPage(browser, { origin, publicUrl });
  const response = await page.goto(new URL(url, origin).href, { waitUntil: 'load' });
  const csp = (await response?.allHeaders())?.['content-security-policy'];
  return { page, problems, status: response?.status() ?? 0, ...(csp && { csp }) };
}

const pages: [string, string, number][] = [
  ['home page', '/', 200],
  ['year', '/2024/index.html', 200],
  ['tag', '/tags/open-data/index.html', 200],
  ['release', `/releases/${barometer.slug}/`, 200],
  ['release, email version', `/releases/${barometer.slug}/email.html`, 200],
  ['release in French', `/releases/${crise.slug}/index.html`, 200],
  ['Newsletters', '/newsletters/index.html', 200],
  ['newsletter issue', `/newsletters/${issue}/index.html`, 200],
  ['newsletter issue, email version', `/newsletters/${issue}/email.html`, 200],
  ['withdrawn release', `/releases/${withdrawn.slug}/`, 410],
  ['subscription form', '/subscribe?list=lettre', 200],
];

describe('every page under its Content-Security-Policy', { timeout: 180_000 }, () => {
  it.each(pages)('%s (%s) loads without a console error', async (_name, url, status) => {
    const { page, problems, status: got, csp } = await open(url);
    try {
      expect(got).toBe(status);
      expect(csp, 'the policy header').toMatch(/default-src 'none'/);
      // biome-ignore lint/performance/useDomNodeTextContent: what a reader sees
      expect((await page.locator('body').innerText()).trim().length).toBeGreaterThan(20);
      // Chromium logs the status of a page that is not 2xx: for 410 Gone, that is the point.
      const expected = `console error: Failed to load resource: the server responded with a status of ${status} (Gone)`;
      expect(problems.filter((p) => status === 200 || p !== expected)).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('reports what the policy refuses (the control: an inline script and an image from elsewhere)', async () => {
    const { page, problems } = await open('/');
    try {
      await page.evaluate(`(() => {
        const s = document.createElement('script');
        s.textContent = 'window.ran = true';
        document.body.append(s);
        const img = document.createElement('img');
        img.src = 'http://elsewhere.example/pixel.png';
        document.body.append(img);
      })()`);
      await expect.poll(() => problems.some((p) => p.includes('script-src'))).toBe(true);
      await expect.poll(() => problems.some((p) => p.includes('img-src'))).toBe(true);
      expect(problems.some((p) => p.startsWith('request to the network'))).toBe(false);
      expect(await page.evaluate('window.ran === true')).toBe(false);
    } finally {
      await page.context().close();
    }
  });
});
