/**
 * The web admin in a real browser, through `pressroom serve` (a child process on 127.0.0.1, in
 * a copy of the examples workspace), under its own Content-Security-Policy (no bypass: axe is
 * served to the page as a script of the admin's own origin): sign in with the keyboard, list
 * the releases, search as one types (admin.js), open a release and its email preview at phone
 * width. axe finds no violation on any page; nothing is written to the console (a blocked
 * script or style would be); no page overflows sideways at 375 px. Screenshots go to
 * test-output/screenshots/admin-*.png.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUnderTest, expectFitsPhone, overflow, phoneFrame } from '../support/admin.ts';
import { screenshotsDir } from '../support/browser.ts';
import { barometer, crise } from '../support/example-releases.ts';

const admin = new AdminUnderTest({
  prefix: 'pressroom-admin-browser-',
  secret: 'e2e-admin-browser-secret-0123456789abcdef',
  token: 'admin-browser-token-0123456789abcdefghijklmnop',
});
const token = admin.token;
let origin = '';

beforeAll(async () => {
  await admin.serveToBrowser('fr-FR');
  origin = admin.origin;
}, 120_000);

afterAll(() => admin.stop());

const violations = (page: Page) => admin.violations(page);

describe('the admin in a browser', { timeout: 180_000 }, () => {
  let page: Page;

  it('signs in with the keyboard alone', async () => {
    page = await admin.newPage(1280);
    await page.goto(`${origin}/admin/`);
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    expect(await violations(page)).toEqual([]);
    // The skip link first, then the token field.
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | null | undefined>('document.activeElement?.textContent')).toBe(
      'Aller au contenu',
    );
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe('token');
    await page.keyboard.type(token);
    await Promise.all([page.waitForURL(`${origin}/admin/releases`), page.keyboard.press('Enter')]);
    expect(await page.locator('h1').textContent()).toBe('Communiqués');
  });

  it('lists the releases, and the search box narrows them as one types', async () => {
    const rows = page.locator('#releases tbody tr');
    // The example releases: the seed, the barometer and its French translation.
    expect(await rows.count()).toBe(3);
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-releases-1280.png'), fullPage: true });
    // Accents and case ignored: the seed's tag is "numérique".
    await page.locator('#q').fill('NUMERIQUE');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
    expect(await rows.first().locator('a').getAttribute('href')).toBe(`/admin/releases/${crise.slug}`);
    await page.locator('#q').fill('barometer');
    await expect
      .poll(() => rows.first().locator('a').getAttribute('href'), { timeout: 10_000 })
      .toBe(`/admin/releases/${barometer.slug}`);
    expect(new URL(page.url()).searchParams.get('q')).toBe('barometer');
    await page.locator('#q').fill('');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
  });

  it('opens a release and previews its email at phone width', async () => {
    await page.setViewportSize({ width: 375, height: 900 });
    await Promise.all([
      page.waitForURL(`**/admin/releases/${crise.slug}`),
      page.locator(`a[href="/admin/releases/${crise.slug}"]`).click(),
    ]);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    const frame = await phoneFrame(page);
    expect(await frame.locator('body').textContent()).toContain('97 contributions');
    // The frame is a phone's 375 px window (its border outside), and the email fits it.
    await expectFitsPhone(frame);
    // Sandboxed: no script could run in it.
    expect(await page.locator('#email-phone').getAttribute('sandbox')).toBe(
      'allow-popups allow-popups-to-escape-sandbox',
    );
    expect(await page.locator('#email-text').textContent()).toContain('Bonjour Camille');
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-release-375.png'), fullPage: false });
  });

  it('saves a release from its form: untouched, the file is the same; edited, only what changed', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const file = path.join(admin.work, barometer.file);
    const before = await readFile(file, 'utf8');
    await page.goto(`${origin}/admin/releases/${barometer.slug}/edit`);
    expect(await page.locator('#f-title').inputValue()).toBe(barometer.title);
    expect(await violations(page)).toEqual([]);
    await Promise.all([page.waitForURL(/saved=unchanged$/), page.locator('#save-button').click()]);
    expect(await page.locator('.saved').textContent()).toBe(
      'Rien n’a changé ; le fichier n’a pas été réécrit.',
    );
    expect(await readFile(file, 'utf8')).toBe(before);

    await page.goto(`${origin}/admin/releases/${barometer.slug}/edit`);
    await page.locator('#f-date').fill('2024-03-13');
    await page.locator('#f-tags').fill('open data, barometer, local government, budgets');
    await Promise.all([page.waitForURL(/saved=written$/), page.locator('#save-button').click()]);
    const after = await readFile(file, 'utf8');
    // Those two lines, and nothing else: the folded lead, the publishers, the body are as they were.
    expect(after).toBe(
      before
        .replace('date: 2024-03-12\n', 'date: 2024-03-13\n')
        .replace('  - local government\n', '  - local government\n  - budgets\n'),
    );
  });

  it('shows a problem beside its field, and writes nothing', async () => {
    const file = path.join(admin.work, barometer.file);
    const before = await readFile(file, 'utf8');
    await page.goto(`${origin}/admin/releases/${barometer.slug}/edit`);
    await page.locator('#f-embargo').fill('2024-03-12 08:00');
    await page.locator('#save-button').click();
    await page.waitForLoadState('load');
    const field = page.locator('#f-embargo');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    // In French, as the interface (the problems' messages are translated: admin-fields.test.ts).
    expect(await page.locator('#f-embargo-error').textContent()).toContain('n’a pas de fuseau horaire');
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-edit-1280.png') });
    expect(await field.inputValue()).toBe('2024-03-12 08:00');
    expect(await violations(page)).toEqual([]);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('previews the email as one types, and saves nothing', async () => {
    const file = path.join(admin.work, barometer.file);
    const before = await readFile(file, 'utf8');
    await page.goto(`${origin}/admin/releases/${barometer.slug}/edit`);
    await page.locator('#f-title').fill('A title typed a moment ago');
    const frame = () => page.frame({ name: 'preview-frame' });
    await expect
      .poll(
        async () =>
          (await frame()
            ?.locator('body')
            .textContent()
            .catch(() => '')) ?? '',
        { timeout: 15_000 },
      )
      .toContain('A title typed a moment ago');
    expect(await frame()?.evaluate<number>('window.innerWidth')).toBe(375);
    expect(new URL(page.url()).pathname).toBe(`/admin/releases/${barometer.slug}/edit`);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('creates a release from scratch, previews it at phone width, publishes it, and finds it in the press room', async () => {
    const title = 'Les villes ouvrent leurs données « budgétaires »';
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${origin}/admin/releases`);
    await Promise.all([page.waitForURL('**/admin/new-release'), page.locator('#new-release').click()]);
    expect(await page.locator('h1').textContent()).toBe('Nouveau communiqué');
    expect(await violations(page)).toEqual([]);
    await page.locator('#f-title').fill(title);
    await page.locator('#f-lead').fill('Une **première** : les budgets publiés en données ouvertes.');
    await page.locator('#f-tags').fill('données ouvertes, budgets');
    await page.getByLabel('Villes Internet').check();
    await page.locator('#f-body').fill('Le détail des chiffres.\n\n## Ce qui change\n\nTout.');
    // The preview beside the form follows what is typed.
    await expect
      .poll(
        async () =>
          (await page
            .frame({ name: 'preview-frame' })
            ?.locator('body')
            .textContent()
            .catch(() => '')) ?? '',
        { timeout: 15_000 },
      )
      .toContain('Le détail des chiffres.');
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-new-release-1280.png'), fullPage: true });
    await Promise.all([page.waitForURL(/saved=created$/), page.locator('#create-button').click()]);
    const slug = 'les-villes-ouvrent-leurs-donnees-budgetaires';
    expect(new URL(page.url()).pathname).toBe(`/admin/releases/${slug}`);
    const today = (await page.locator('.saved code').textContent()) ?? '';
    expect(today).toMatch(new RegExp(`^publications/\\d{4}-\\d{2}-\\d{2}-${slug}\\.md$`));
    const text = await readFile(path.join(admin.work, 'examples', today), 'utf8');
    expect(text).toContain('publishers:\n  - villes-internet\n');

    // At phone width: the page fits, and so does the email in its frame.
    await page.setViewportSize({ width: 375, height: 900 });
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    const frame = await phoneFrame(page);
    expect(await frame.locator('body').textContent()).toContain('Le détail des chiffres.');
    await expectFitsPhone(frame);
    expect(await violations(page)).toEqual([]);

    // Publish: a confirmation first, then the result.
    await Promise.all([
      page.waitForURL(`**/admin/releases/${slug}/publish`),
      page.locator('#publish-link').click(),
    ]);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await violations(page)).toEqual([]);
    await page.locator('#confirm-button').click();
    await page.locator('#result').waitFor();
    expect(await page.locator('#result').textContent()).toContain('Publié.');
    const published = (await page.locator('#published-url').getAttribute('href')) ?? '';
    expect(published).toBe(`http://localhost:3000/releases/${slug}/index.html`);
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-published-375.png'), fullPage: true });

    // The press room that pressroom serve serves has it: its page, and the list on its home page.
    await page.goto(`${origin}${new URL(published).pathname}`);
    expect(await page.locator('h1').textContent()).toContain('budgétaires');
    await page.goto(`${origin}/`);
    expect(await page.locator(`a[href*="${slug}"]`).count()).toBeGreaterThan(0);

    // Withdraw is offered now, behind its own confirmation, which asks for a reason.
    await page.goto(`${origin}/admin/releases/${slug}`);
    await Promise.all([
      page.waitForURL(`**/admin/releases/${slug}/withdraw`),
      page.locator('#withdraw-link').click(),
    ]);
    expect(await page.locator('#f-reason').getAttribute('required')).not.toBeNull();
    expect(await violations(page)).toEqual([]);
    await page.locator('#f-reason').fill('Chiffres à revoir');
    await page.locator('#confirm-button').click();
    await page.locator('#result').waitFor();
    expect(await page.locator('#result').textContent()).toContain('Chiffres à revoir');
    expect(await page.locator('.state').textContent()).toBe('Retiré');
    expect(await violations(page)).toEqual([]);
    // Out of the press room's list.
    await page.goto(`${origin}/`);
    expect(await page.locator(`a[href*="${slug}"]`).count()).toBe(0);
    // Withdrawn: neither publish nor withdraw is offered any more.
    await page.goto(`${origin}/admin/releases/${slug}`);
    expect(await page.locator('.state').first().textContent()).toBe('Retiré');
    expect(await page.locator('#publish-link, #withdraw-link').count()).toBe(0);
    expect(await page.locator('#edit-link').count()).toBe(1);
  });

  it('is in English for a browser that asks for it, and signs out', async () => {
    const english = await admin.browser?.newContext({ locale: 'en-GB' });
    const other = await english?.newPage();
    await other?.route('**/*', (route) =>
      route.request().url().startsWith(origin) ? route.continue() : route.abort('blockedbyclient'),
    );
    await other?.goto(`${origin}/admin/sign-in`);
    expect(await other?.locator('label[for="token"]').textContent()).toBe('Admin token');
    await english?.close();
    await Promise.all([page.waitForURL(`${origin}/admin/sign-in`), page.locator('.sign-out button').click()]);
    await page.goto(`${origin}/admin/releases`);
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');
  });

  it('wrote nothing to the console: no script or style was blocked', () => {
    // But the refused save's status (422), which Chrome reports for the page it loads.
    const refused = `${origin}/admin/releases/${barometer.slug}/edit: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)`;
    expect(admin.problems.filter((p) => p !== refused)).toEqual([]);
  });
});
