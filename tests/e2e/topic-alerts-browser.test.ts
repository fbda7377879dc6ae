/**
 * The subscription form of an alert list in a real browser, served by the local server: axe
 * finds no violation at 375 and 1280 px (its topics are checkboxes in a fieldset with a
 * legend and a hint, its frequencies radio buttons in another); a person ticks two topics and
 * chooses the daily digest with the keyboard, submits, and the confirmation page they reach
 * from the email names the two topics and the frequency and shows no violation either.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalServer } from '../../lambdas/adapters/local-server.ts';
import { PreviewSigner } from '../../lambdas/adapters/signed-downloads.ts';
import { parseSubscribableLists } from '../../lambdas/core/contacts/subscription-lists.ts';
import { axeSource, axeViolations } from '../support/axe.ts';
import { launchChromium, requireChromium, screenshotsDir } from '../support/browser.ts';
import { alertListsYaml, confirmPath, type Fixture, fixture } from '../support/subscription-fixtures.ts';

const lists = parseSubscribableLists(
  `${alertListsYaml}    frequencies: [immediate, daily, weekly]\n`,
  'lists.yaml',
);

let browser: Browser | undefined;
let f: Fixture | undefined;
let server: Server | undefined;
let origin = '';
let axe = '';

beforeAll(async () => {
  await requireChromium();
  axe = await axeSource();
  f = await fixture(new Date());
  const { store, mailer } = f;
  const deps = f.deps({ lists });
  server = createLocalServer({
    store,
    sampleRecipient: { recipient: { email: 'sample@example.org' } } as never,
    previews: new PreviewSigner('topic-alerts-browser-secret'),
    endpoint: { keys: deps.keys, templates: deps.templates, mailer, settings: deps.settings },
    log: () => {},
  });
  await new Promise<void>((resolve, reject) => {
    server?.once('error', reject);
    server?.listen(0, '127.0.0.1', resolve);
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  await mkdir(screenshotsDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await f?.close();
});

async function newPage(width: number): Promise<Page> {
  if (!browser) throw new Error('the browser did not start: see the error of beforeAll');
  const page = await browser.newPage({ viewport: { width, height: 900 }, bypassCSP: true });
  await page.route('**/*', (route) =>
    route.request().url().startsWith(origin) ? route.continue() : route.abort('blockedbyclient'),
  );
  return page;
}

async function violations(page: Page): Promise<string[]> {
  const result = await axeViolations(page, axe);
  expect(result.passes).toBeGreaterThan(10);
  return result.violations;
}

describe('the form of an alert list in a browser', () => {
  for (const width of [375, 1280]) {
    it(`has no axe violation at ${width} px, its topics a group of labelled checkboxes`, async () => {
      const page = await newPage(width);
      try {
        await page.goto(`${origin}/subscribe?list=alertes`, { waitUntil: 'load' });
        await page.screenshot({
          path: path.join(screenshotsDir, `topic-alerts-form-${width}.png`),
          fullPage: true,
        });
        expect(await violations(page)).toEqual([]);
        const group = page.getByRole('group', { name: 'Thèmes' });
        expect(await group.getByRole('checkbox').count()).toBe(3);
        expect(await page.getByRole('checkbox', { name: 'Villes moyennes' }).isVisible()).toBe(true);
        const often = page.getByRole('group', { name: 'Fréquence' });
        expect(await often.getByRole('radio').count()).toBe(3);
        expect(await page.getByRole('radio', { name: 'À chaque communiqué' }).isChecked()).toBe(true);
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - window.innerWidth',
        );
        expect(overflow).toBeLessThanOrEqual(1);
      } finally {
        await page.context().close();
      }
    });
  }

  it('is filled with the keyboard; the confirmation page names the topics ticked', async () => {
    const page = await newPage(1280);
    try {
      await page.goto(`${origin}/subscribe?list=alertes`, { waitUntil: 'load' });
      await page.getByLabel('Adresse électronique').fill('camille@example.org');
      // From the name field, Tab reaches the checkboxes in order; space ticks one.
      await page.getByLabel('Nom (facultatif)').focus();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Space');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Space');
      expect(await page.getByRole('checkbox', { name: 'Numérique' }).isChecked()).toBe(true);
      expect(await page.getByRole('checkbox', { name: 'Villes moyennes' }).isChecked()).toBe(false);
      expect(await page.getByRole('checkbox', { name: 'Open data' }).isChecked()).toBe(true);
      // Tab leaves the last checkbox for the ticked radio button; an arrow moves the choice.
      await page.keyboard.press('Tab');
      await page.keyboard.press('ArrowDown');
      expect(await page.getByRole('radio', { name: /quotidien/ }).isChecked()).toBe(true);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'M’inscrire' }).click()]);
      expect(await page.locator('h1').textContent()).toBe('Consultez votre messagerie');
      const link = await confirmPath(f?.mailer.sent.at(-1) as never);
      await page.goto(origin + link, { waitUntil: 'load' });
      expect(await page.locator('dd').allTextContents()).toEqual([
        'Numérique, Open data',
        'Un récapitulatif quotidien (8\u00a0h)',
      ]);
      expect(await violations(page)).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});
