/**
 * The admin's Newsletters section and the releases' PDF in a real browser, through `pressroom
 * serve` (a child process on 127.0.0.1, in a copy of the examples workspace whose releases are
 * published first with `pressroom publish --no-pdf`), under the admin's own
 * Content-Security-Policy (axe is served to the page as a script of the admin's origin):
 * sign in, draft an issue from the published releases with the keyboard alone, move an item
 * (focus stays on it), edit its text, save, find the file on disk, preview the email at 375
 * px; open a release's PDF preview (a PDF with the release's title in its text) and publish a
 * release from the admin with its PDF stored, printed by the browser `serve` starts on its
 * first PDF. axe finds no violation on any page. Screenshots go to
 * test-output/screenshots/admin-newsletters-*.png.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminUnderTest,
  autofocusedId,
  expectFitsPhone,
  overflow,
  phoneFrame,
  tabTo,
} from '../support/admin.ts';
import { screenshotsDir } from '../support/browser.ts';
import { barometer, barometre, crise } from '../support/example-releases.ts';
import { openPdf } from '../support/pdf.ts';

const admin = new AdminUnderTest({
  prefix: 'pressroom-admin-newsletters-browser-',
  secret: 'e2e-admin-newsletters-secret-0123456789abcdef',
  token: 'admin-newsletters-token-0123456789abcdefghijklmnop',
  env: { PRESSROOM_TIME_ZONE: 'UTC' },
});
const token = admin.token;
let origin = '';
let workspace = '';

beforeAll(async () => {
  workspace = await admin.copy();
  await admin.publish(crise.file, barometer.file, barometre.file);
  await admin.serveToBrowser('fr-FR');
  origin = admin.origin;
}, 180_000);

afterAll(() => admin.stop());

const violations = (page: Page) => admin.violations(page);

describe('the Newsletters section and the PDF in a browser', { timeout: 240_000 }, () => {
  let page: Page;
  const today = new Date().toISOString().slice(0, 10);
  const draftFile = () => path.join(workspace, 'newsletters', `newsletter-${today}.md`);

  it('drafts an issue from the published releases with the keyboard alone', async () => {
    page = await admin.newPage(1280);
    await page.goto(`${origin}/admin/sign-in`);
    await tabTo(page, 'token');
    await page.keyboard.type(token);
    await Promise.all([page.waitForURL(`${origin}/admin/releases`), page.keyboard.press('Enter')]);
    // The main navigation reaches the section.
    await page.keyboard.press('Tab');
    const nav = page.locator('nav a[href="/admin/newsletters"]');
    await nav.focus();
    await Promise.all([page.waitForURL(`${origin}/admin/newsletters`), page.keyboard.press('Enter')]);
    expect(await page.locator('h1').textContent()).toBe('Lettres d’information');
    expect(await page.locator('#issues a[href="/admin/newsletters/2024-03-lettre"]').count()).toBe(1);
    expect(await violations(page)).toEqual([]);
    await page.screenshot({
      path: path.join(screenshotsDir, 'admin-newsletters-list-1280.png'),
      fullPage: true,
    });
    await tabTo(page, 'f-since');
    // A date field takes its digits typed in the locale's order (jj/mm/aaaa).
    await page.keyboard.type('01012021');
    expect(await page.locator('#f-since').inputValue()).toBe('2021-01-01');
    await tabTo(page, 'draft-button');
    await Promise.all([
      page.waitForURL(/\/admin\/newsletters\/newsletter-.*\?saved=created$/),
      page.keyboard.press('Enter'),
    ]);
    expect(await page.locator('.saved').textContent()).toContain(`newsletters/newsletter-${today}.md`);
    const text = await readFile(draftFile(), 'utf8');
    expect(text).toContain(`items:\n  - release: ${barometre.slug} # 2024-03-12:`);
    expect(text).toContain(`  - release: ${crise.slug} # 2021-06-08:`);
    expect(await violations(page)).toEqual([]);

    // Move the first item down: the page comes back with the focus on its button, at its new place.
    await tabTo(page, 'down-0', 120);
    await Promise.all([
      page.waitForURL(`**/admin/newsletters/newsletter-${today}`),
      page.keyboard.press('Enter'),
    ]);
    expect(await autofocusedId(page, 'up-1')).toBe('up-1');
    expect(await page.locator('#unsaved').textContent()).toContain('Pas encore enregistré');
    const legends = await page.locator('.issue-items legend').allTextContents();
    expect(legends[0]).toBe(`1. ${crise.title}`);
    expect(legends[1]).toMatch(/^2\. Baromètre de l’open data 2024/);
    // Nothing written yet.
    expect(await readFile(draftFile(), 'utf8')).toBe(text);
  });

  it('edits the moved item, saves it into the file, and previews the email at 375 px', async () => {
    const before = await readFile(draftFile(), 'utf8');
    await page.locator('#item-1-title').fill('Le baromètre <script>alert(1)</script>');
    await page.locator('#item-1-summary').fill('Deux villes sur trois publient leur budget.');
    await Promise.all([page.waitForURL(/\?saved=written$/), page.locator('#save-button').click()]);
    const after = await readFile(draftFile(), 'utf8');
    // The two items swapped with their comments, the second given a title and a summary; the rest as it was.
    const items = (t: string) => t.slice(t.indexOf('items:'), t.indexOf('\n#', t.indexOf('items:')));
    expect(after.replace(items(after), '')).toBe(before.replace(items(before), ''));
    const [first, second] = items(before).split('\n').slice(1);
    expect(items(after).trimEnd()).toBe(
      `items:\n${second}\n${first}\n    title: Le baromètre <script>alert(1)</script>\n    summary: Deux villes sur trois publient leur budget.`,
    );
    expect(await page.locator('.issue-items legend').first().textContent()).toBe(`1. ${crise.title}`);
    expect(await page.locator('#item-1-title').inputValue()).toBe('Le baromètre <script>alert(1)</script>');
    expect(await violations(page)).toEqual([]);
    // The form and its two items (a full-page picture leaves the sandboxed frames blank).
    await page.setViewportSize({ width: 1280, height: 1500 });
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-newsletters-issue-1280.png') });

    await page.setViewportSize({ width: 375, height: 900 });
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    const frame = await phoneFrame(page);
    await expectFitsPhone(frame);
    const body = (await frame.locator('body').textContent()) ?? '';
    // The markup is text, in the order saved.
    expect(body).toContain('Le baromètre <script>alert(1)</script>');
    expect(await frame.locator('script').count()).toBe(0);
    expect(body.indexOf('Gestion de crise')).toBeLessThan(body.indexOf('Le baromètre'));
    expect(await page.locator('#email-phone').getAttribute('sandbox')).toBe(
      'allow-popups allow-popups-to-escape-sandbox',
    );
    expect(await page.locator('#email-text').textContent()).toContain(
      'Deux villes sur trois publient leur budget.',
    );
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-newsletters-phone-375.png') });
    // Sending hands over to the campaigns section, the issue chosen.
    expect(await page.locator('#send-link').getAttribute('href')).toBe(
      `/admin/campaigns/new?newsletter=newsletter-${today}`,
    );
  });

  it("opens a release's PDF preview: a PDF with the release's title in it", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${origin}/admin/releases/${barometer.slug}`);
    const link = page.locator('#pdf-link');
    expect(await link.getAttribute('href')).toBe(`/admin/releases/${barometer.slug}/pdf`);
    expect(await violations(page)).toEqual([]);
    const response = await page.request.get(`${origin}/admin/releases/${barometer.slug}/pdf`);
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toBe('application/pdf');
    expect(response.headers()['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'self'");
    const bytes = new Uint8Array(await response.body());
    expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe('%PDF-');
    const pdf = await openPdf(bytes);
    try {
      const first = await (await pdf.getPage(1)).getTextContent();
      const text = first.items.map((i) => ('str' in i ? i.str : '')).join(' ');
      expect(text).toContain('Open Data Barometer 2024');
      expect((await pdf.getMetadata()).info).toMatchObject({ Title: barometer.title });
    } finally {
      await pdf.destroy();
    }
  });

  it('publishes a release from the admin with its PDF stored', async () => {
    await page.goto(`${origin}/admin/releases/${barometer.slug}/publish`);
    expect(await violations(page)).toEqual([]);
    await page.locator('#confirm-button').click();
    await page.locator('#result').waitFor();
    expect(await page.locator('#pdf-stored').textContent()).toBe('Le PDF a été imprimé et archivé avec lui.');
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-newsletters-published-pdf-1280.png') });
    // In the archive, and in the press room that serve serves.
    const folder = path.join(workspace, '.pressroom', 'archive', barometer.slug);
    const versions = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory());
    const stored = await Promise.all(
      versions.map((v) => readFile(path.join(folder, v.name, 'release.pdf')).catch(() => undefined)),
    );
    expect(stored.some((b) => b?.subarray(0, 5).toString() === '%PDF-')).toBe(true);
    const served = await page.request.get(`${origin}/releases/${barometer.slug}/release.pdf`);
    expect(served.status()).toBe(200);
    expect(served.headers()['content-type']).toBe('application/pdf');
  });

  it('wrote nothing to the console', () => {
    expect(admin.problems).toEqual([]);
  });
});
