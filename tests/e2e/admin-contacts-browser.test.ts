/**
 * The admin's contacts in a real browser, through `pressroom serve` (a child process on
 * 127.0.0.1, in a copy of the examples workspace whose press list `pressroom contacts import`
 * loaded), under the admin's own Content-Security-Policy (axe is served as a script of the
 * admin's origin): sign in; import a Latin-1 CSV with one bad row through the preview (the
 * mapping, the bad row's line and reason), confirm it as it is; find a contact by searching,
 * with the keyboard alone, and open its profile; unsubscribe it from a list; erase another
 * through its confirmation. axe finds no violation on any page; nothing is written to the
 * console. Screenshots go to test-output/screenshots/admin-contacts-*.png.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUnderTest, focusedId, overflow } from '../support/admin.ts';
import { screenshotsDir } from '../support/browser.ts';

const admin = new AdminUnderTest({
  prefix: 'pressroom-admin-contacts-browser-',
  secret: 'e2e-admin-contacts-browser-secret-0123456789',
  token: 'admin-contacts-browser-token-0123456789abcdefgh',
});
let origin = '';
/** The page of the contact erased: opened after the erasure, it answers 404. */
let erasedProfile = '';

beforeAll(async () => {
  await admin.copy();
  await admin.importPressList();
  await admin.serveToBrowser('en-GB');
  origin = admin.origin;
}, 180_000);

afterAll(() => admin.stop());

const violations = (page: Page) => admin.violations(page);

const shot = (page: Page, name: string, fullPage = true) =>
  page.screenshot({ path: path.join(screenshotsDir, `admin-contacts-${name}.png`), fullPage });

describe('the admin’s contacts in a browser', { timeout: 180_000 }, () => {
  let page: Page;

  it('signs in and lists the contacts with their lists and tags', async () => {
    page = await admin.newPage(1280);
    await page.goto(`${origin}/admin/sign-in`);
    await page.locator('#token').fill(admin.token);
    await Promise.all([page.waitForURL(`${origin}/admin/releases`), page.keyboard.press('Enter')]);
    await Promise.all([
      page.waitForURL(`${origin}/admin/contacts`),
      page.getByRole('link', { name: 'Contacts' }).click(),
    ]);
    expect(await page.locator('h1').textContent()).toBe('Contacts');
    expect(await page.locator('#contacts tbody tr').count()).toBe(30);
    expect(await page.locator('#list-counts').textContent()).toContain('presse · Journalistes: 30');
    expect(await violations(page)).toEqual([]);
    await shot(page, 'list', false);
    // At phone width the page does not overflow sideways: the table scrolls in its own region.
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('imports a CSV with a bad row through the preview, and confirms it as it is', async () => {
    await Promise.all([page.waitForURL('**/admin/contacts/import'), page.locator('#import-link').click()]);
    expect(await violations(page)).toEqual([]);
    await page.locator('#f-file').setInputFiles({
      name: 'abonnés.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'Prénom;Nom;Courriel;Société\nJosé;Müller;jose@example.org;Ville de Nantes\nAnaïs;Lévêque;anais-at-example.org;Ville de Brest\nLéa;Roux;lea@example.org;Ville de Lyon\n',
        'latin1',
      ),
    });
    await page.locator('#f-list').fill('lettre');
    await Promise.all([
      page.waitForURL(/\/admin\/contacts\/import\/[0-9a-f]{24}\?/),
      page.locator('#upload-button').click(),
    ]);
    expect(await page.locator('h1').textContent()).toBe('Check the import');
    expect(await page.locator('#file-facts').textContent()).toContain('Windows-1252 (Latin-1)');
    // Each column with the field the header detection gives it, in a select that can change it.
    expect(await page.locator('#column-0').inputValue()).toBe('firstName');
    expect(await page.locator('#column-2').inputValue()).toBe('email');
    expect(await page.locator('#column-3').inputValue()).toBe('organization');
    expect(await page.locator('#first-rows').textContent()).toContain('José');
    expect(await page.locator('#rejected').textContent()).toBe(
      'line 3, column “Courriel”: invalid email address "anais-at-example.org"',
    );
    expect(await page.locator('#dry-run').textContent()).toContain('3 row(s) read');
    expect(await violations(page)).toEqual([]);
    await shot(page, 'preview');
    await page.locator('#confirm-import').click();
    await page.waitForSelector('#result');
    expect(await page.locator('h1').textContent()).toBe('Import done');
    expect(await page.locator('#report-counts').textContent()).toContain('Added: 2');
    expect(await page.locator('#rejected').textContent()).toContain('line 3');
    expect(await violations(page)).toEqual([]);
    await shot(page, 'imported');
    // Back to the preview: it says the file was imported, and shows its report; nothing twice.
    await page.goBack();
    await page.waitForSelector('#result');
    expect(await page.locator('#already').textContent()).toContain('imported already');
    await page.goto(`${origin}/admin/contacts?list=lettre`);
    expect(await page.locator('#contacts tbody tr').count()).toBe(2);
  });

  it('finds a contact with the keyboard alone, opens its profile, and unsubscribes it from a list', async () => {
    await page.goto(`${origin}/admin/contacts`);
    for (let i = 0; i < 12 && (await focusedId(page)) !== 'q'; i++) await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('q');
    await page.keyboard.type('lefevre radio');
    await Promise.all([page.waitForURL(/q=lefevre/), page.keyboard.press('Enter')]);
    const rows = page.locator('#contacts tbody tr');
    expect(await rows.count()).toBe(1);
    // On to the one result's link, and open it.
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      const href = await page.evaluate<string | null | undefined>(
        "document.activeElement?.getAttribute('href')",
      );
      if (href?.startsWith('/admin/contacts/') && href !== '/admin/contacts/import') break;
    }
    await Promise.all([page.waitForURL(/\/admin\/contacts\/[0-9a-f]{32}$/), page.keyboard.press('Enter')]);
    expect(await page.locator('h1').textContent()).toBe('j.lefevre@radio-cite.example.org');
    expect(await page.locator('#profile').textContent()).toContain('Radio Cité');
    expect(await page.locator('#contact-lists').textContent()).toContain('import:journalistes.csv');
    expect(await violations(page)).toEqual([]);
    await shot(page, 'profile');
    await Promise.all([page.waitForURL(/unsubscribed=presse$/), page.locator('#unsubscribe-presse').click()]);
    expect(await page.locator('#done').textContent()).toContain('Unsubscribed from the list presse');
    expect(await page.locator('#contact-lists tbody tr').first().textContent()).toContain('unsubscribed');
    expect(await page.locator('#history').textContent()).toContain('Unsubscribed from: presse');
    expect(await violations(page)).toEqual([]);
  });

  it('erases another contact after a confirmation that says what erasing does', async () => {
    await page.goto(`${origin}/admin/contacts?q=camille`);
    await Promise.all([
      page.waitForURL(/\/admin\/contacts\/[0-9a-f]{32}$/),
      page.locator('#contacts a').first().click(),
    ]);
    const profile = page.url();
    erasedProfile = profile;
    await Promise.all([page.waitForURL(/\/erase$/), page.locator('#erase-link').click()]);
    expect(await page.locator('#erase-what').textContent()).toContain('cannot be undone');
    expect(await violations(page)).toEqual([]);
    await shot(page, 'erase');
    await page.locator('#confirm-erase').click();
    await page.waitForSelector('#result');
    expect(await page.locator('#result').textContent()).toContain('Erased.');
    expect(await violations(page)).toEqual([]);
    const gone = await page.goto(profile);
    expect(gone?.status()).toBe(404);
    expect(await violations(page)).toEqual([]);
    await page.goto(`${origin}/admin/contacts?q=camille`);
    expect(await page.locator('#contacts').count()).toBe(0);
  });

  it('wrote nothing to the console', () => {
    // But the 404 of the erased contact's page, opened on purpose.
    expect(
      admin.problems.filter(
        (p) =>
          !p.includes(`${erasedProfile}: Failed to load resource: the server responded with a status of 404`),
      ),
    ).toEqual([]);
  });
});
