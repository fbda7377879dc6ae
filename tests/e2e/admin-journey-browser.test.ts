/**
 * A communication officer's day in the web admin, in one browser session, through `pressroom
 * serve` on a fresh copy of the examples (nothing published, no contact imported beforehand),
 * under the admin's own Content-Security-Policy (axe served as a script of the admin's origin):
 * sign in with the token form; write a release from scratch (a publisher, a quote), preview it
 * at phone width, publish it and find its page in the press room serve serves; import a small
 * CSV (the preview's mapping, the confirmation, the report's counts); compose a campaign of
 * that release to the imported list, make a proof and open its link, approve it, send it to
 * the outbox, watch the progress page reach "finished", open the report. Then the outbox holds
 * one message per imported contact, addressed to it, with the release's title as subject and a
 * List-Unsubscribe header. axe finds no violation on any page visited; nothing is written to the
 * console. The finished progress page is saved as test-output/screenshots/admin-journey-progress.png.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUnderTest, adminPublicUrl, expectFitsPhone, overflow, phoneFrame } from '../support/admin.ts';
import { axeSource, axeViolations } from '../support/axe.ts';
import { screenshotsDir } from '../support/browser.ts';
import { watchedPage } from '../support/watched-page.ts';

const admin = new AdminUnderTest({
  prefix: 'pressroom-admin-journey-',
  secret: 'e2e-admin-journey-secret-0123456789abcdef',
  token: 'admin-journey-token-0123456789abcdefghijklmnop',
});

const title = 'Les villes moyennes ouvrent leurs budgets';
const slug = 'les-villes-moyennes-ouvrent-leurs-budgets';
const campaign = 'budgets-ouverts-lettre';
/** The CSV imported: its people, in its order. */
const people = [
  { first: 'Aurélie', last: 'Morin', email: 'aurelie.morin@example.org' },
  { first: 'Bastien', last: 'Leroy', email: 'bastien.leroy@example.net' },
  { first: 'Chloé', last: 'Nguyen', email: 'chloe.nguyen@example.com' },
];
const csv = `Prénom,Nom,Courriel\n${people.map((p) => `${p.first},${p.last},${p.email}`).join('\n')}\n`;

/** Every page the journey opened, with axe's violations there (expected none). */
const axeFound: Record<string, string[]> = {};

beforeAll(async () => {
  await admin.serveToBrowser('fr-FR');
}, 180_000);

afterAll(() => admin.stop());

/** Records axe's violations on the page as it is now, under `step`, and expects none. */
async function checkAxe(page: Page, step: string): Promise<void> {
  axeFound[step] = await admin.violations(page);
  expect(axeFound[step], step).toEqual([]);
}

/** Clicks what `selector` names and waits for the page it leads to (a URL matching `to`). */
async function follow(page: Page, selector: string, to: string | RegExp): Promise<void> {
  await Promise.all([page.waitForURL(to), page.locator(selector).click()]);
}

describe('a user’s journey through the admin', { timeout: 300_000 }, () => {
  let page: Page;

  it('signs in with the token form', async () => {
    page = await admin.newPage(1280);
    await page.goto(`${admin.origin}/admin/`);
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');
    await checkAxe(page, 'sign-in');
    await page.locator('#token').fill(admin.token);
    await follow(page, 'form button[type="submit"]', `${admin.origin}/admin/releases`);
    expect(await page.locator('h1').textContent()).toBe('Communiqués');
    await checkAxe(page, 'releases');
  });

  it('writes a release from scratch, with a publisher and a quote', async () => {
    await follow(page, '#new-release', '**/admin/new-release');
    await checkAxe(page, 'new release');
    await page.locator('#f-title').fill(title);
    await page.locator('#f-lead').fill('Trente villes publient leur budget en données ouvertes.');
    await page.locator('#f-tags').fill('budgets, données ouvertes');
    await page.getByLabel('Villes Internet').check();
    await page.locator('#f-quotes-0-text').fill('Chacun peut lire où va l’argent public.');
    await page.locator('#f-quotes-0-author').fill('Florence Poznanski');
    await page.locator('#f-quotes-0-role').fill('déléguée générale');
    await page.locator('#f-body').fill('Les budgets de trente villes.\n\n## La méthode\n\nUn même format.');
    await follow(page, '#create-button', /saved=created$/);
    expect(new URL(page.url()).pathname).toBe(`/admin/releases/${slug}`);
    const file = (await page.locator('.saved code').textContent()) ?? '';
    expect(file).toMatch(new RegExp(`^publications/\\d{4}-\\d{2}-\\d{2}-${slug}\\.md$`));
    const written = await readFile(path.join(admin.workspace, file), 'utf8');
    expect(written).toContain('publishers:\n  - villes-internet\n');
    expect(written).toContain('Florence Poznanski');
    await checkAxe(page, 'release');
  });

  it('previews it at phone width: the phone frame shows the title, nothing overflows', async () => {
    await page.setViewportSize({ width: 375, height: 900 });
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    const frame = await phoneFrame(page);
    const email = (await frame.locator('body').textContent()) ?? '';
    expect(email).toContain(title);
    expect(email).toContain('Chacun peut lire où va l’argent public.');
    await expectFitsPhone(frame);
    await checkAxe(page, 'release at 375 px');
  });

  it('publishes it, and the press room that serve serves has its page', async () => {
    await follow(page, '#publish-link', `**/admin/releases/${slug}/publish`);
    await checkAxe(page, 'publish confirmation');
    await page.locator('#confirm-button').click();
    await page.locator('#result').waitFor();
    expect(await page.locator('#result').textContent()).toContain('Publié.');
    const published = (await page.locator('#published-url').getAttribute('href')) ?? '';
    expect(published).toBe(`${adminPublicUrl}/releases/${slug}/index.html`);
    await checkAxe(page, 'published');
    await page.setViewportSize({ width: 1280, height: 900 });
    const room = await page.goto(`${admin.origin}${new URL(published).pathname}`);
    expect(room?.status()).toBe(200);
    expect(await page.locator('h1').textContent()).toContain(title);
    await checkAxe(page, 'press room page');
  });

  it('imports a CSV: the preview shows the mapping, the confirmation reports the counts', async () => {
    await page.goto(`${admin.origin}/admin/contacts`);
    await checkAxe(page, 'contacts');
    await follow(page, '#import-link', '**/admin/contacts/import');
    await checkAxe(page, 'import form');
    await page.locator('#f-file').setInputFiles({
      name: 'lettre.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv, 'utf8'),
    });
    await page.locator('#f-list').fill('lettre');
    await follow(page, '#upload-button', /\/admin\/contacts\/import\/[0-9a-f]{24}\?/);
    expect(await page.locator('#column-0').inputValue()).toBe('firstName');
    expect(await page.locator('#column-1').inputValue()).toBe('lastName');
    expect(await page.locator('#column-2').inputValue()).toBe('email');
    expect(await page.locator('#first-rows').textContent()).toContain(people[0]?.email);
    expect(await page.locator('#dry-run').textContent()).toMatch(/^3 ligne\(s\) lue\(s\) · Ajoutés\s:\s3 /);
    await checkAxe(page, 'import preview');
    await page.locator('#confirm-import').click();
    await page.waitForSelector('#result');
    const counts = (await page.locator('#report-counts').textContent()) ?? '';
    expect(counts).toMatch(/Ajoutés\s:\s3\b/);
    expect(counts).toMatch(/Refusées\s:\s0\b/);
    await checkAxe(page, 'import report');
  });

  it('composes a campaign of that release to the imported list, makes a proof and opens it, approves it', async () => {
    await page.goto(`${admin.origin}/admin/campaigns`);
    await checkAxe(page, 'campaigns');
    await follow(page, '#new-campaign', '**/admin/campaigns/new');
    await checkAxe(page, 'compose');
    await page.locator('#c-content').selectOption(`release:${slug}`);
    await page.locator('input[name="lists"][value="lettre"]').check();
    await Promise.all([page.waitForLoadState('load'), page.locator('#count-button').click()]);
    await page.waitForSelector('#counted');
    expect(await page.locator('#counted').textContent()).toBe(`${people.length} destinataires`);
    await page.locator('#c-subject').fill(title);
    await page.locator('#c-name').fill(campaign);
    await page.locator('#c-approval').check();
    await follow(page, '#compose-button', `**/admin/campaigns/${campaign}?composed=1`);
    expect(await page.locator('#recipient-count').textContent()).toBe(String(people.length));
    await checkAxe(page, 'campaign');

    await Promise.all([page.waitForLoadState('load'), page.locator('#proof-button').click()]);
    const link = new URL((await page.locator('#proof-link').textContent()) ?? '');
    expect(link.origin).toBe(adminPublicUrl);
    await checkAxe(page, 'proof made');
    const proof = await admin.newPage(1280);
    expect((await proof.goto(admin.origin + link.pathname))?.status()).toBe(200);
    const proofText = (await proof.locator('body').textContent()) ?? '';
    expect(proofText).toContain(title);
    expect(proofText).toContain('Chacun peut lire où va l’argent public.');
    await proof.close();
    // The proof is the email under its own policy (default-src 'none'): axe is injected there.
    // The proof is the email under its own policy (default-src 'none', no script of the admin's
    // origin): axe is injected in a context of the same browser that bypasses it.
    if (!admin.browser) throw new Error('the browser did not start');
    const bypass = await watchedPage(admin.browser, {
      origin: admin.origin,
      publicUrl: adminPublicUrl,
      bypassCSP: true,
    });
    await bypass.page.goto(admin.origin + link.pathname);
    // What the page wrote (axe's own messages to the proof's sandboxed frame come after).
    expect(bypass.problems).toEqual([]);
    const found = await axeViolations(bypass.page, await axeSource());
    axeFound.proof = found.violations;
    expect(found.passes).toBeGreaterThan(0);
    expect(found.violations).toEqual([]);
    await bypass.page.context().close();

    await page.locator('#c-by').fill('Florence Poznanski');
    await Promise.all([page.waitForLoadState('load'), page.locator('#approve-button').click()]);
    expect(await page.locator('#approval').textContent()).toContain('Florence Poznanski');
    await checkAxe(page, 'approved');
  });

  it('sends it to the outbox, watches the progress page reach “finished”, and opens the report', async () => {
    await follow(page, '#send-link', `**/admin/campaigns/${campaign}/send`);
    expect(await page.locator('#confirm-count strong').textContent()).toBe(String(people.length));
    await checkAxe(page, 'send confirmation');
    await follow(page, '#confirm-button', `**/admin/campaigns/${campaign}/progress`);
    // The page's own script polls the progress and fills it in; the test reads the page.
    await expect
      .poll(() => page.locator('#progress-state').textContent(), { timeout: 60_000 })
      .toBe('terminée');
    expect(await page.locator('#progress-sent').textContent()).toBe(String(people.length));
    await checkAxe(page, 'progress');
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-journey-progress.png'), fullPage: true });
    await follow(page, '#report-link', `**/admin/campaigns/${campaign}/report`);
    expect(await page.locator('#report-sent').textContent()).toBe(String(people.length));
    expect(await page.locator('#report-rows tbody tr').count()).toBe(people.length);
    await checkAxe(page, 'report');
  });

  it('left one message per imported contact in the outbox: to it, the release’s title as subject, List-Unsubscribe', async () => {
    const outbox = path.join(admin.workspace, '.pressroom', 'outbox', campaign);
    const files = (await readdir(outbox)).filter((n) => n.endsWith('.eml')).sort();
    expect(files).toHaveLength(people.length);
    // Nothing else was mailed: the proof is a link, not a message.
    const everywhere = await readdir(path.dirname(outbox), { recursive: true });
    expect(everywhere.filter((n) => n.endsWith('.eml')).sort()).toEqual(
      files.map((f) => path.join(campaign, f)),
    );
    const addressed: string[] = [];
    for (const name of files) {
      const raw = await readFile(path.join(outbox, name));
      const message = await simpleParser(raw);
      const to = (Array.isArray(message.to) ? message.to : [message.to]).flatMap((a) => a?.value ?? []);
      expect(to, name).toHaveLength(1);
      const person = people.find((p) => p.email === to[0]?.address);
      if (!person) throw new Error(`${name} is addressed to ${to[0]?.address}, whom the CSV does not name`);
      addressed.push(person.email);
      expect(message.subject, name).toBe(title);
      expect(raw.toString('utf8'), name).toMatch(/^List-Unsubscribe: <http:\/\/localhost:3000\/\S+>/im);
      expect(message.text, name).toContain(title);
    }
    // Each contact once.
    expect(addressed.sort()).toEqual(people.map((p) => p.email).sort());
  });

  it('met no accessibility violation on any page, and wrote nothing to the console', () => {
    expect(Object.keys(axeFound)).toEqual([
      'sign-in',
      'releases',
      'new release',
      'release',
      'release at 375 px',
      'publish confirmation',
      'published',
      'press room page',
      'contacts',
      'import form',
      'import preview',
      'import report',
      'campaigns',
      'compose',
      'campaign',
      'proof made',
      'proof',
      'approved',
      'send confirmation',
      'progress',
      'report',
    ]);
    expect(Object.values(axeFound).flat()).toEqual([]);
    expect(admin.problems).toEqual([]);
  });
});
