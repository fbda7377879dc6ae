/**
 * The press room and the public pages as `pressroom serve` answers them (its server, in this
 * process, on 127.0.0.1), in a real browser with axe at 375 and 1280 px: the home page, a
 * release page in the site's language and one in another, a tag page, the 404 page, the
 * subscription form, the confirmation page and the unsubscribe page, and the pages their
 * buttons lead to. No violation of any impact (minor to critical). The examples' workspace is
 * used as it is (its organisation names the site, its lists name the lists); axe-core (a
 * devDependency) is injected into each page: nothing is fetched from the network.
 */
import { mkdir, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBackend, loadConfig, localBackend, subscriptionLists } from '../../bin/context.ts';
import { createLocalServer } from '../../lambdas/adapters/local-server.ts';
import { PreviewSigner } from '../../lambdas/adapters/signed-downloads.ts';
import { addCoverage } from '../../lambdas/core/archive/coverage.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { refreshReleaseCoverage } from '../../lambdas/core/archive/rebuild.ts';
import { signUnsubscribeToken } from '../../lambdas/core/contacts/tokens.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { axeSource, axeViolations } from '../support/axe.ts';
import { launchChromium, requireChromium, screenshotsDir } from '../support/browser.ts';
import { exampleWorkspace } from '../support/cli.ts';
import { barometer, crise } from '../support/example-releases.ts';
import { confirmPath, MemoryMailer } from '../support/subscription-fixtures.ts';

const publicUrl = 'https://press.example.org';
const secret = 'e2e-press-room-a11y-secret-0123456789abcdef';

let browser: Browser | undefined;
let work: string | undefined;
let backend: LocalBackend | undefined;
let server: Server | undefined;
let origin = '';
let axe = '';
const mailer = new MemoryMailer();
/** Paths of the pages to check, by name. */
const paths: Record<string, string> = {};

beforeAll(async () => {
  await requireChromium();
  axe = await axeSource();
  work = await exampleWorkspace('pressroom-room-a11y-');
  // The examples' own workspace (examples/pressroom.yaml): Villes Internet, in French.
  const examples = path.join(work, 'examples');
  const config = loadConfig(
    {},
    { ...process.env, PRESSROOM_SECRET: secret, PRESSROOM_PUBLIC_URL: publicUrl },
    examples,
  );
  const opened = await localBackend(config, { pdf: false });
  backend = opened;
  for (const file of [crise.file, barometer.file]) await publishRelease(path.join(work, file), opened);
  // An article about the seed (one in English): its page's "Dans la presse" and the coverage page.
  for (const [url, language] of [
    ['https://www.quotidien-ouest.example.com/2021/06/09/villes', 'fr'],
    ['https://www.cities-weekly.example.com/crisis', 'en'],
  ] as const)
    await addCoverage(
      opened.store,
      crise.slug,
      {
        url,
        outlet: 'Quotidien de l’Ouest',
        date: '2021-06-09',
        title: 'Les villes face à la crise',
        language,
      },
      new Date(),
    );
  expect((await refreshReleaseCoverage(crise.slug, opened)).release.outcome).toBe('changed');
  const { lists } = await subscriptionLists(undefined, config);
  server = createLocalServer({
    store: opened.store,
    sampleRecipient: opened.sampleRecipient,
    previews: new PreviewSigner(secret),
    endpoint: {
      keys: opened.keys,
      templates: opened.templates,
      mailer,
      settings: {
        publicUrl,
        lang: config.siteLang,
        lists,
        listTitles: Object.fromEntries(Object.values(config.lists).map((l) => [l.name, l.title])),
      },
    },
    log: () => {},
  });
  await new Promise<void>((resolve, reject) => {
    server?.once('error', reject);
    server?.listen(0, '127.0.0.1', resolve);
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A subscription asked for, its confirmation link from the message; a journalist's unsubscribe link.
  const asked = await fetch(`${origin}/subscribe`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ email: 'camille@example.org', list: 'lettre', name: 'Camille' }).toString(),
  });
  expect(asked.status).toBe(200);
  const message = mailer.sent[0];
  if (!message) throw new Error('no confirmation message was sent');
  const contact = opened.keys.idOf('alex.taylor@example.org');
  Object.assign(paths, {
    index: '/',
    release: `/releases/${crise.slug}/`,
    'release-en': `/releases/${barometer.slug}/`,
    tag: '/tags/open-data/',
    coverage: '/coverage/',
    'not-found': '/releases/no-such-release/',
    subscribe: '/subscribe?list=lettre',
    confirm: await confirmPath(message),
    unsubscribe: `/unsubscribe/${signUnsubscribeToken(opened.keys, { contact, list: 'presse', campaign: 'c' })}`,
  });
  browser = await launchChromium();
  await mkdir(screenshotsDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await backend?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A page that reaches this server only. */
async function newPage(width: number): Promise<Page> {
  if (!browser) throw new Error('the browser did not start: see the error of beforeAll');
  // The pages forbid scripts (Content-Security-Policy): axe, injected by the test, is let in.
  const page = await browser.newPage({ viewport: { width, height: 900 }, bypassCSP: true });
  await page.route('**/*', (route) =>
    route.request().url().startsWith(origin) ? route.continue() : route.abort('blockedbyclient'),
  );
  return page;
}

/** axe's violations on the page, one line each; axe looked at it (rules passed). */
async function violations(page: Page): Promise<string[]> {
  const result = await axeViolations(page, axe);
  expect(result.passes).toBeGreaterThan(10);
  return result.violations;
}

describe('axe on the press room and the public pages', () => {
  const pages = [
    'index',
    'release',
    'release-en',
    'tag',
    'coverage',
    'not-found',
    'subscribe',
    'confirm',
    'unsubscribe',
  ];
  for (const width of [375, 1280]) {
    for (const name of pages) {
      it(`finds no violation on the ${name} page at ${width} px`, async () => {
        const page = await newPage(width);
        try {
          const response = await page.goto(origin + paths[name], { waitUntil: 'load' });
          expect(response?.status()).toBe(name === 'not-found' ? 404 : 200);
          await page.screenshot({
            path: path.join(screenshotsDir, `press-room-a11y-${name}-${width}.png`),
            fullPage: true,
          });
          expect(await violations(page)).toEqual([]);
          // No horizontal scrolling on a phone.
          const overflow = await page.evaluate<number>(
            'document.documentElement.scrollWidth - window.innerWidth',
          );
          expect(overflow, 'the page is wider than the window').toBeLessThanOrEqual(1);
        } finally {
          await page.context().close();
        }
      });
    }

    it(`finds no violation on the pages the confirm and unsubscribe buttons lead to, at ${width} px`, async () => {
      for (const name of ['confirm', 'unsubscribe']) {
        const page = await newPage(width);
        try {
          await page.goto(origin + paths[name], { waitUntil: 'load' });
          // Once confirmed (at the first width), the confirmation link shows the result at once.
          const button = page.locator('button[type="submit"]');
          if ((await button.count()) > 0) await Promise.all([page.waitForNavigation(), button.click()]);
          expect(await page.locator('h1').textContent(), name).toMatch(/Inscription confirmée|C’est fait/);
          expect(await violations(page), name).toEqual([]);
        } finally {
          await page.context().close();
        }
      }
    });
  }
});

describe('what the pages say', () => {
  it('names the press room after the workspace’s organisation, in French', async () => {
    const page = await newPage(1280);
    try {
      await page.goto(`${origin}/`, { waitUntil: 'load' });
      expect(await page.title()).toBe('Salle de presse de Villes Internet');
      expect(await page.locator('html').getAttribute('lang')).toBe('fr');
      expect(await page.locator('header.site h1').textContent()).toBe('Salle de presse de Villes Internet');
    } finally {
      await page.context().close();
    }
  });

  it('answers an unknown address with the 404 page, as HTML, status 404, with a link home', async () => {
    const reply = await fetch(`${origin}/2019/nothing.html`);
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(reply.headers.get('content-security-policy')).toContain("default-src 'none'");
    const body = await reply.text();
    expect(body).toBe(await getText(backend?.store ?? (undefined as never), siteKeys.notFound));
    expect(body).toContain('<a href="/index.html">Aller à l’accueil de la salle de presse</a>');
    const head = await fetch(`${origin}/nothing`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(await head.text()).toBe('');
  });

  it('answers with the endpoint’s HTML "not found" page while the press room has no 404 page yet', async () => {
    const store = backend?.store;
    if (!store) throw new Error('no store');
    const page404 = (await getText(store, siteKeys.notFound)) ?? '';
    await store.delete(siteKeys.notFound);
    try {
      const reply = await fetch(`${origin}/nothing`, { headers: { 'accept-language': 'en' } });
      expect(reply.status).toBe(404);
      expect(reply.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await reply.text()).toContain('<h1>Not found</h1>');
    } finally {
      await store.put(siteKeys.notFound, page404, { contentType: 'text/html; charset=utf-8' });
    }
  });

  it('shows lists by their titles on the unsubscribe and confirmation pages', async () => {
    const spaces = /[\u00a0\u202f]/g;
    const unsubscribe = (await (await fetch(origin + paths.unsubscribe)).text()).replace(spaces, ' ');
    expect(unsubscribe).toContain('« Journalistes »');
    expect(unsubscribe).not.toContain('« presse »');
    const confirm = (await (await fetch(origin + paths.confirm)).text()).replace(spaces, ' ');
    expect(confirm).toMatch(/« La lettre de Villes Internet »/);
  });
});
