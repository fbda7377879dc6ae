/**
 * The admin's campaigns in a real browser, through `pressroom serve` (a child process on
 * 127.0.0.1, in a copy of the examples workspace, the seed release published and the example
 * journalists imported beforehand with `pressroom contacts import`, the core's import, not
 * the admin), under its own Content-Security-Policy (axe served as a script of the admin's
 * origin): sign in, compose a campaign with the keyboard alone, make a proof and open its
 * link, approve it, send it to the outbox with a confirmation, watch the progress page (its
 * script polls the JSON route) reach "finished", open the report. axe finds no violation on
 * any page; nothing is written to the console; nothing overflows at 375 px. Screenshots go to
 * test-output/screenshots/admin-campaigns-*.png.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUnderTest, overflow, tabTo } from '../support/admin.ts';
import { screenshotsDir } from '../support/browser.ts';
import { crise } from '../support/example-releases.ts';

const campaign = 'etude-admin-navigateur';
const admin = new AdminUnderTest({
  prefix: 'pressroom-admin-campaigns-browser-',
  secret: 'e2e-admin-campaigns-browser-0123456789abcdef',
  token: 'admin-campaigns-token-0123456789abcdefghijklm',
});
let origin = '';
let workspace = '';
let audience = 0;

beforeAll(async () => {
  workspace = await admin.copy();
  await admin.publish(crise.file);
  await admin.importPressList();
  audience = await admin.exampleCampaignAudience();
  await admin.serveToBrowser('fr-FR');
  origin = admin.origin;
}, 180_000);

afterAll(() => admin.stop());

// Into the pages' frames too, as this test always ran axe.
const violations = (page: Page) => admin.violations(page, { frames: true });

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(screenshotsDir, `admin-campaigns-${name}.png`), fullPage: true });

describe('campaigns in a browser', { timeout: 240_000 }, () => {
  let page: Page;

  it('signs in, and lists the campaigns', async () => {
    page = await admin.newPage(1280);
    await page.goto(`${origin}/admin/sign-in`);
    await page.locator('#token').fill(admin.token);
    await Promise.all([page.waitForURL(`${origin}/admin/releases`), page.locator('#token').press('Enter')]);
    await Promise.all([
      page.waitForURL(`${origin}/admin/campaigns`),
      page.locator('a[href="/admin/campaigns"]').click(),
    ]);
    expect(await page.locator('h1').textContent()).toBe('Campagnes');
    expect(await page.locator('#campaigns tbody tr').count()).toBe(1);
    expect(await violations(page)).toEqual([]);
    await shot(page, 'list');
  });

  it('composes a campaign with the keyboard alone, its recipients counted first', async () => {
    await Promise.all([page.waitForURL('**/admin/campaigns/new'), page.locator('#new-campaign').click()]);
    expect(await violations(page)).toEqual([]);
    await tabTo(page, 'c-content');
    // The first choice after the prompt: the published seed release.
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('#c-content').inputValue()).toBe(`release:${crise.slug}`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    expect(await page.locator('input[name="lists"][value="presse"]').isChecked()).toBe(true);
    await tabTo(page, 'count-button');
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    await page.waitForSelector('#counted');
    expect(await page.locator('#counted').textContent()).toBe(`${audience} destinataires`);
    await page.keyboard.press('Tab');
    await tabTo(page, 'c-subject');
    await page.keyboard.type('Communiqué : les villes moyennes résilientes');
    await tabTo(page, 'c-name');
    await page.keyboard.type(campaign);
    await tabTo(page, 'c-approval');
    await page.keyboard.press('Space');
    await shot(page, 'compose');
    await tabTo(page, 'compose-button');
    await Promise.all([
      page.waitForURL(`**/admin/campaigns/${campaign}?composed=1`),
      page.keyboard.press('Enter'),
    ]);
    expect(await page.locator('h1').textContent()).toBe(campaign);
    expect(await page.locator('#recipient-count').textContent()).toBe(String(audience));
    const file = await readFile(path.join(workspace, 'campaigns', `${campaign}.yaml`), 'utf8');
    expect(file).toContain('approval: required');
    expect(file).toContain('subject: "Communiqué : les villes moyennes résilientes"');
  });

  it('makes a proof and opens its link, then approves it', async () => {
    await Promise.all([page.waitForLoadState('load'), page.locator('#proof-button').click()]);
    const link = page.locator('#proof-link');
    const url = new URL((await link.textContent()) ?? '');
    expect(url.origin).toBe('http://localhost:3000');
    expect(url.pathname).toMatch(/^\/proof\/\S+$/);
    expect(await violations(page)).toEqual([]);
    await shot(page, 'proof');
    const proof = await admin.newPage(1280);
    const opened = await proof.goto(origin + url.pathname);
    expect(opened?.status()).toBe(200);
    expect(await proof.locator('body').textContent()).toContain(
      'Communiqué : les villes moyennes résilientes',
    );
    await proof.close();
    await page.locator('#c-by').fill('Florence Poznanski');
    await Promise.all([page.waitForLoadState('load'), page.locator('#approve-button').click()]);
    expect(await page.locator('#notice').textContent()).toBe('Validée par Florence Poznanski');
    expect(await page.locator('#approval').textContent()).toContain('Florence Poznanski');
  });

  it('sends to the outbox after a confirmation, and the progress page reaches “finished”', async () => {
    await Promise.all([
      page.waitForURL(`**/admin/campaigns/${campaign}/send`),
      page.locator('#send-link').click(),
    ]);
    expect(await page.locator('#confirm-count strong').textContent()).toBe(String(audience));
    expect(await violations(page)).toEqual([]);
    await shot(page, 'confirm');
    await Promise.all([
      page.waitForURL(`**/admin/campaigns/${campaign}/progress`),
      page.locator('#confirm-button').click(),
    ]);
    await expect
      .poll(() => page.locator('#progress-state').textContent(), { timeout: 30_000 })
      .toBe('terminée');
    expect(await page.locator('#progress-sent').textContent()).toBe(String(audience));
    expect(await violations(page)).toEqual([]);
    await shot(page, 'progress');
    const outbox = path.join(workspace, '.pressroom', 'outbox', campaign);
    expect((await readdir(outbox)).filter((n) => n.endsWith('.eml'))).toHaveLength(audience);
  });

  it('opens the report, at phone width too', async () => {
    await Promise.all([
      page.waitForURL(`**/admin/campaigns/${campaign}/report`),
      page.locator('#report-link').click(),
    ]);
    expect(await page.locator('#report-sent').textContent()).toBe(String(audience));
    expect(await page.locator('#report-rows tbody tr').count()).toBe(audience);
    expect(await violations(page)).toEqual([]);
    await shot(page, 'report');
    await page.setViewportSize({ width: 375, height: 900 });
    await page.goto(`${origin}/admin/campaigns/${campaign}`);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await violations(page)).toEqual([]);
  });

  it('wrote nothing to the console', () => {
    expect(admin.problems).toEqual([]);
  });
});
