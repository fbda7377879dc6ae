/**
 * Every field of a release in the admin's forms, in a real browser through `pressroom serve`
 * (a copy of the examples workspace, the admin's own Content-Security-Policy; axe is answered
 * by the test as a script of the admin's origin). Signed in, the seed release gets a quote
 * typed with the keyboard alone and a link through their sub-forms, a word made bold with the
 * Markdown toolbar; the desktop preview follows; saved, the file differs in those keys only. A
 * new release takes an attachment and an image chosen from the workspace's files (a symbolic
 * link out of the workspace is not offered). A bad email address of a publisher is shown beside
 * its field, in English, then in French once the language is switched. Hostile forms (500
 * rows, a field path injected in a name) are refused and write nothing. axe finds nothing on
 * any page; screenshots go to test-output/screenshots/admin-fields-*.png.
 */
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUnderTest } from '../support/admin.ts';
import { screenshotsDir } from '../support/browser.ts';
import { barometre, crise } from '../support/example-releases.ts';

const admin = new AdminUnderTest({
  prefix: 'pressroom-admin-fields-',
  secret: 'e2e-admin-fields-secret-0123456789abcdef',
  token: 'admin-fields-token-0123456789abcdefghijklmnop',
});
const token = admin.token;
let origin = '';
let page: Page;
/** Console errors and warnings, page errors and dialogs (a script that ran would open one). */
const noise = admin.problems;

beforeAll(async () => {
  const workspace = await admin.copy();
  // A link in attachments/ to a file outside the workspace: never offered, never read.
  await writeFile(path.join(admin.work, 'outside.txt'), 'not for the press');
  await symlink(
    path.join(admin.work, 'outside.txt'),
    path.join(workspace, 'publications', 'attachments', 'linked.txt'),
  );
  await admin.serveToBrowser('fr-FR');
  origin = admin.origin;
  page = await admin.newPage(1280);
  page.on('dialog', (d) => {
    noise.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
}, 120_000);

afterAll(() => admin.stop());

/** axe's violations on the page (its frames are sandboxed; the email has its own axe test). */
const violations = () => admin.violations(page);

/** The id of the focused element. */
const focused = () => page.evaluate<string | undefined>('document.activeElement?.id');

/** The text of a preview frame, once it holds `expected` (it is posted a moment after each change). */
async function frameText(name: string, expected: string): Promise<string> {
  let text = '';
  try {
    await expect
      .poll(
        async () => {
          text =
            (await page
              .frame({ name })
              ?.locator('body')
              .textContent()
              .catch(() => '')) ?? '';
          return text;
        },
        { timeout: 20_000 },
      )
      .toContain(expected);
  } catch (error) {
    throw new Error(`the frame ${name} holds: ${text.replace(/\s+/g, ' ').slice(-2500)}`, { cause: error });
  }
  return text;
}

/** The top-level keys (and `body`) whose lines differ between two publication files. */
function changedParts(before: string, after: string): string[] {
  const parts = (text: string) => {
    const [, yaml = '', body = ''] = text.split(/^---$/m);
    const byKey = new Map<string, string>([['body', body]]);
    let key = '';
    for (const line of yaml.split('\n')) {
      key = /^([A-Za-z]+):/.exec(line)?.[1] ?? key;
      byKey.set(key, `${byKey.get(key) ?? ''}${line}\n`);
    }
    return byKey;
  };
  const a = parts(before);
  const b = parts(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

describe('every field of a release in the admin', { timeout: 240_000 }, () => {
  it('signs in with the keyboard', async () => {
    await page.goto(`${origin}/admin/sign-in`);
    await page.locator('#token').focus();
    await page.keyboard.type(token);
    await Promise.all([page.waitForURL(`${origin}/admin/releases`), page.keyboard.press('Enter')]);
  });

  it('edits the seed: a quote typed with the keyboard, a link, a word made bold with the toolbar; the desktop preview follows; saved, only those keys differ', async () => {
    const file = path.join(admin.work, crise.file);
    const before = await readFile(file, 'utf8');
    await page.goto(`${origin}/admin/releases/${crise.slug}/edit`);
    expect(await violations()).toEqual([]);
    // Every list is there, as fieldsets with their legends, each with one empty row.
    for (const legend of [
      'Émetteurs',
      'Citations',
      'Chiffres clés',
      'Liens',
      'Pièces jointes',
      'Images presse',
    ])
      expect(await page.locator('fieldset.list > legend', { hasText: legend }).count(), legend).toBe(1);
    expect(await page.locator('#f-quotes-1-author').inputValue()).toBe('Mathieu Vidal');
    expect(await page.getByLabel('Villes Internet').isChecked()).toBe(true);

    // The quote, with the keyboard alone: from the last field of the second quote, Tab past its
    // "remove" box into the empty row.
    await page.locator('#f-quotes-1-role').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('f-quotes-2-text');
    await page.keyboard.type('Une voix <script>alert(1)</script> ajoutée au clavier');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('f-quotes-2-author');
    await page.keyboard.type('Camille Martin');
    // The link, through its sub-form.
    await page.locator('#f-links-1-label').fill('Le site de Villes Internet');
    await page.locator('#f-links-1-url').fill('https://www.villes-internet.net/');

    // The toolbar: "contributions" selected in the body, then Gras.
    const body = page.locator('#f-body');
    await body.evaluate(
      (area: { value: string; focus(): void; setSelectionRange(a: number, b: number): void }) => {
        const at = area.value.indexOf('contributions');
        area.focus();
        area.setSelectionRange(at, at + 'contributions'.length);
      },
    );
    const toolbar = page.getByRole('toolbar', { name: 'Mise en forme' });
    expect(await toolbar.isVisible()).toBe(true);
    await toolbar.getByRole('button', { name: 'Gras' }).click();
    expect(await body.inputValue()).toContain('Avec 97 **contributions** recueillies');
    await toolbar.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-fields-toolbar-1280.png') });
    expect(await focused()).toBe('f-body');
    // Keyboard along the toolbar: one tab stop, the arrows move; Enter presses.
    await toolbar.getByRole('button', { name: 'Gras' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate<string | null | undefined>('document.activeElement?.textContent')).toBe(
      'Italique',
    );
    await page.keyboard.press('ArrowLeft');

    // The desktop preview (640 px) shows the quote as text and the bold word.
    const desktop = await frameText(
      'preview-desktop',
      'Une voix <script>alert(1)</script> ajoutée au clavier',
    );
    expect(desktop).toContain('Le site de Villes Internet');
    const desktopFrame = page.frame({ name: 'preview-desktop' });
    expect(await desktopFrame?.evaluate<number>('window.innerWidth')).toBe(640);
    expect(await desktopFrame?.locator('strong', { hasText: 'contributions' }).count()).toBeGreaterThan(0);
    await page.locator('#preview-desktop').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-fields-preview-1280.png') });
    await frameText('preview-frame', 'ajoutée au clavier');
    await frameText('preview-text', 'ajoutée au clavier');
    await frameText('preview-page', 'ajoutée au clavier');
    expect(await page.frame({ name: 'preview-frame' })?.evaluate<number>('window.innerWidth')).toBe(375);
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-fields-edit-1280.png'), fullPage: true });
    await page.locator('#f-quotes-2-text').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-fields-quotes-1280.png') });

    await Promise.all([page.waitForURL(/saved=written$/), page.locator('#save-button').click()]);
    const after = await readFile(file, 'utf8');
    expect(changedParts(before, after)).toEqual(['body', 'links', 'quotes']);
    expect(after).toContain(
      '  - text: Une voix <script>alert(1)</script> ajoutée au clavier\n    author: Camille Martin\n',
    );
    expect(after).toContain(
      '  - label: Le site de Villes Internet\n    url: https://www.villes-internet.net/\n',
    );
    expect(after.replace('**contributions**', 'contributions').split('\n---\n')[1]).toBe(
      before.split('\n---\n')[1],
    );
    expect(await violations()).toEqual([]);
  });

  it('opened and saved unchanged, the seed is not written', async () => {
    const file = path.join(admin.work, crise.file);
    const before = await readFile(file, 'utf8');
    await page.goto(`${origin}/admin/releases/${crise.slug}/edit`);
    await Promise.all([page.waitForURL(/saved=unchanged$/), page.locator('#save-button').click()]);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('creates a release with an attachment and an image chosen from the workspace; a link out of it is not offered', async () => {
    await page.goto(`${origin}/admin/new-release`);
    expect(await violations()).toEqual([]);
    const attachments = await page.locator('#f-attachments-0-file option').allTextContents();
    expect(attachments).toContain('attachments/open-data-barometer-summary.txt');
    expect(attachments.join()).not.toContain('linked.txt');
    await page.locator('#f-title').fill('Un communiqué avec ses fichiers');
    await page.locator('#f-lead').fill('Le chapô.');
    await page.getByLabel('Villes Internet').check();
    await page.locator('#f-attachments-0-file').selectOption('attachments/open-data-barometer-summary.txt');
    await page.locator('#f-attachments-0-label').fill('La synthèse');
    await page.locator('#f-images-0-file').selectOption('images/barometer-chart.jpg');
    await page.locator('#f-images-0-alt').fill('Un graphique en barres');
    await page.locator('#f-body').fill('Le texte.');
    await Promise.all([page.waitForURL(/saved=created$/), page.locator('#create-button').click()]);
    const name = (await page.locator('.saved code').textContent()) ?? '';
    const text = await readFile(path.join(admin.work, 'examples', name), 'utf8');
    expect(text).toContain(
      'attachments:\n  - file: attachments/open-data-barometer-summary.txt\n    label: La synthèse\n',
    );
    expect(text).toContain(
      'images:\n  - file: images/barometer-chart.jpg\n    alt: Un graphique en barres\n',
    );
    // It renders: the release page shows its preview, no problem.
    expect(await page.locator('.problems').count()).toBe(0);
  });

  it('a bad email address of a publisher is beside its field, in English, then in French once switched', async () => {
    const badPublisher = async () => {
      await page.locator('#f-title').fill('Un émetteur à corriger');
      await page.locator('#f-lead').fill('Le chapô.');
      // The empty row of an organisation written in the release is folded until opened.
      expect(await page.locator('#f-publishers-0-name').isVisible()).toBe(false);
      await page.locator('details.new-row > summary').click();
      await page.locator('#f-publishers-0-name').fill('Une association');
      await page.locator('#f-publishers-0-about').fill('Ce qu’elle fait.');
      await page.locator('#f-publishers-0-email').fill('pas-une-adresse');
      await page.locator('#create-button').click();
      await page.waitForLoadState('load');
    };
    const folder = path.join(admin.work, 'examples', 'publications');
    const files = await readdir(folder);
    await page.goto(`${origin}/admin/new-release`);
    await Promise.all([
      page.waitForURL(`${origin}/admin/new-release`),
      page.locator('a[hreflang="en"]').click(),
    ]);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await badPublisher();
    const field = page.locator('#f-publishers-0-email');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#f-publishers-0-email-error').textContent()).toContain(
      'must be an email address such as',
    );
    expect(await field.inputValue()).toBe('pas-une-adresse');
    expect(await violations()).toEqual([]);

    await Promise.all([
      page.waitForURL(`${origin}/admin/new-release`),
      page.locator('a[hreflang="fr"]').click(),
    ]);
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    await badPublisher();
    expect(await page.locator('#f-publishers-0-email-error').textContent()).toContain(
      'doit être une adresse électronique, comme press@example.org',
    );
    expect(await violations()).toEqual([]);
    await page.locator('#f-publishers-0-email').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(screenshotsDir, 'admin-fields-publisher-error-1280.png') });
    // The live preview says it too, in French, naming the field.
    await page.locator('#f-publishers-0-email').press('End');
    await page.keyboard.type('!');
    await frameText('preview-desktop', 'publishers[0].email: doit être une adresse électronique');
    expect(await readdir(folder)).toEqual(files);
  });

  it('refuses 500 rows and a field path injected in a name, writing nothing', async () => {
    const folder = path.join(admin.work, 'examples', 'publications');
    const files = await readdir(folder);
    await page.goto(`${origin}/admin/new-release`);
    const csrf = await page.locator('#release-form input[name="csrf"]').inputValue();
    const post = (extra: [string, string][]) =>
      page.evaluate(
        async (fields: [string, string][]) => {
          const response = await fetch('/admin/new-release', {
            method: 'POST',
            body: new URLSearchParams(fields),
          });
          return { status: response.status, text: await response.text() };
        },
        [
          ['csrf', csrf],
          ['title', 'Hostile'],
          ['lead', 'x'],
          ['publishers', 'villes-internet'],
          ...extra,
        ] as [string, string][],
      );
    const rows: [string, string][] = [];
    for (let i = 0; i < 500; i++)
      rows.push([`quotes[${i}].text`, `Citation ${i}`], [`quotes[${i}].author`, 'X']);
    const many = await post(rows);
    expect(many.status).toBe(422);
    expect(many.text).toContain('a trop de lignes : au plus 50 citations ; supprimez-en');
    const injected = await post([
      ['quotes[__proto__]', 'x'],
      ['quotes[0].constructor', 'y'],
    ]);
    expect(injected.status).toBe(422);
    expect(injected.text).toContain('le formulaire a envoyé un champ qu’il n’a pas, « quotes[__proto__] »');
    expect(await readdir(folder)).toEqual(files);
  });

  it('without JavaScript: a row added with the "add" button, another removed with its box, then saved', async () => {
    const context = await admin.browser?.newContext({ locale: 'fr-FR', javaScriptEnabled: false });
    if (!context) throw new Error('the browser did not start');
    await context.route('**/*', (route) =>
      route.request().url().startsWith(origin) ? route.continue() : route.abort('blockedbyclient'),
    );
    const plain = await context.newPage();
    await plain.goto(`${origin}/admin/sign-in`);
    await plain.locator('#token').fill(token);
    await Promise.all([plain.waitForURL(`${origin}/admin/releases`), plain.locator('#token').press('Enter')]);
    const file = path.join(admin.work, barometre.file);
    const before = await readFile(file, 'utf8');
    await plain.goto(`${origin}/admin/releases/${barometre.slug}/edit`);
    // No script: no toolbar.
    expect(await plain.locator('.md-toolbar').isVisible()).toBe(false);
    await plain.locator('#f-quotes-1-text').fill('Une deuxième voix.');
    await plain.locator('#f-quotes-1-author').fill('Sam Placeholder');
    await Promise.all([
      plain.waitForURL(`**/admin/releases/${barometre.slug}/edit#f-quotes`),
      plain.getByRole('button', { name: 'Ajouter une citation' }).click(),
    ]);
    // The form again, as typed, with one more empty row; nothing written yet.
    expect(await plain.locator('#f-quotes-1-author').inputValue()).toBe('Sam Placeholder');
    expect(await plain.locator('#f-quotes-2-text').inputValue()).toBe('');
    expect(await readFile(file, 'utf8')).toBe(before);
    await plain.locator('#f-links-0 input[name="links[0].remove"]').check();
    await Promise.all([plain.waitForURL(/saved=written$/), plain.locator('#save-button').click()]);
    const after = await readFile(file, 'utf8');
    expect(changedParts(before, after)).toEqual(['links', 'quotes']);
    expect(after).not.toContain('links:');
    expect(after).toContain('  - text: Une deuxième voix.\n    author: Sam Placeholder\n');
    await context.close();
  });

  it('without sign-in, the text preview and the preview posts are refused; the language switch answers, holding nothing', async () => {
    const text = await fetch(`${origin}/admin/releases/${crise.slug}/text`, { redirect: 'manual' });
    expect(text.status).toBe(303);
    expect(text.headers.get('location')).toBe('/admin/sign-in');
    const posted = await fetch(`${origin}/admin/releases/${crise.slug}/edit`, {
      method: 'POST',
      body: new URLSearchParams([
        ['preview', 'text'],
        ['title', 'x'],
      ]),
      redirect: 'manual',
    });
    expect(posted.status).toBe(401);
    expect(await posted.text()).not.toContain('Gestion de crise');
    const language = await fetch(`${origin}/admin/language?lang=en&back=/admin/sign-in`, {
      redirect: 'manual',
    });
    expect(language.status).toBe(303);
    expect(language.headers.get('location')).toBe('/admin/sign-in');
    expect(language.headers.get('set-cookie')).toMatch(/^pressroom_admin_lang=en; Path=\/admin;/);
  });

  it('wrote nothing to the console, and no script of the data ran', () => {
    // But the refused forms' status (422), which Chrome reports for the page it loads.
    expect(noise.filter((line) => !line.includes('status of 422'))).toEqual([]);
  });
});
