/**
 * The admin's Newsletters section (lambdas/core/admin/newsletters*.ts) and the releases' PDF
 * (release-pdf.ts), called as the local server calls the admin, on a copy of the examples
 * workspace whose releases are published into a folder store: drafting as `pressroom
 * newsletter draft` does (the same text, never over a file), an issue's page and its form
 * (move, edit, remove, add, save: only what changed; saved unchanged, the same bytes), the
 * JSON API and its OpenAPI paths, the hostile cases (markup in a title, an index out of range,
 * an id with ../, a file changed meanwhile, no sign-in, another site), and the PDF: printed by
 * the printer publishing uses, or the reason there is none.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  loadCampaignTemplates,
  workspaceCampaignFiles,
} from '../../lambdas/adapters/admin-campaign-files.ts';
import { loadAdminTemplates, workspaceReleaseSources } from '../../lambdas/adapters/admin-files.ts';
import { loadNewsletterPages } from '../../lambdas/adapters/admin-newsletter-files.ts';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { localFiles } from '../../lambdas/adapters/local-files.ts';
import { sharpImages } from '../../lambdas/adapters/sharp-images.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import {
  type AdminDeps,
  type AdminRequest,
  adminState,
  handleAdminRequest,
} from '../../lambdas/core/admin/admin.ts';
import { adminSendRole, CampaignRuns } from '../../lambdas/core/admin/campaign-runs.ts';
import { editIssueText, normalizedItem } from '../../lambdas/core/admin/newsletters.ts';
import { adminKeys, generateAdminToken } from '../../lambdas/core/admin/session.ts';
import {
  type PdfPrinter,
  PdfUnavailableError,
  type PublishDeps,
  publishRelease,
  siteDeps,
} from '../../lambdas/core/archive/publish.ts';
import { draftIssue } from '../../lambdas/core/newsletter/draft.ts';
import { createNewsletterRenderer } from '../../lambdas/core/newsletter/render.ts';
import type { PublicResponse } from '../../lambdas/core/public/http.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { languageSwitch } from '../support/admin.ts';
import { exampleWorkspace } from '../support/cli.ts';
import { importCsv, keys, MemoryMailer } from '../support/dispatch-fixtures.ts';
import { barometer, crise } from '../support/example-releases.ts';

const token = `${'N'.repeat(8)}${generateAdminToken()}`;
const now = new Date('2026-12-07T10:00:00Z');
const bearer = { authorization: `Bearer ${token}` };

let work = '';
let workspace = '';
let deps: AdminDeps;
let publishing: PublishDeps;
/** What the fake printer does: print bytes with the page's title, or have no browser. */
let printer: PdfPrinter & { printed: string[] };
let noBrowser = false;

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-admin-newsletters-');
  workspace = path.join(work, 'examples');
  const templates = await loadTemplateFiles();
  const store = new FolderObjectStore({
    root: path.join(workspace, '.pressroom'),
    signingSecret: 's'.repeat(64),
    publicUrl: 'http://localhost:3000',
  });
  const files = localFiles();
  printer = {
    printed: [],
    async print(html, document) {
      if (noBrowser) throw new PdfUnavailableError('no browser found: set CHROMIUM_PATH to a Chromium');
      this.printed.push(document?.title ?? '');
      return new TextEncoder().encode(`%PDF-1.7 fake ${document?.title} ${html.length}`);
    },
  };
  publishing = {
    store,
    files,
    renderer: createReleaseRenderer(templates),
    images: sharpImages(),
    ...siteDeps(templates, { siteUrl: 'http://localhost:3000/', siteLang: 'fr' }),
  };
  // The example releases, published as `pressroom publish --no-pdf` would.
  for (const file of [crise.file, barometer.file, 'examples/publications/2024-03-12-barometre-open-data.md'])
    await publishRelease(path.join(work, file), publishing);
  deps = {
    adminToken: token,
    keys: adminKeys(token, 's'.repeat(64)),
    templates: await loadAdminTemplates(),
    releases: {
      sources: workspaceReleaseSources(workspace, files),
      renderer: publishing.renderer,
      sampleRecipient: templates.sampleRecipient,
      store,
      siteUrl: 'http://localhost:3000/',
      publishing: { ...publishing, printer },
      newsletters: {
        sources: workspaceReleaseSources(workspace, files, 'newsletters'),
        renderer: createNewsletterRenderer(templates),
        locales: templates.locales,
        timeZone: 'Europe/Paris',
        lang: 'fr',
        pages: await loadNewsletterPages(),
      },
      // pressroom.yaml declares no list here: compose offers the lists contacts are on.
      campaigns: {
        files: workspaceCampaignFiles(workspace, files),
        defaults: { from: { name: 'Villes Internet', address: 'presse@villes-internet.example.org' } },
        lists: {},
        senders: async () => ['Villes Internet <presse@villes-internet.example.org>'],
        send: {
          store,
          mailer: new MemoryMailer(),
          keys,
          publicUrl: 'http://localhost:3000',
          owner: { holder: `${adminSendRole} test pid 1`, host: 'test', pid: 1 },
          lists: [],
        },
        runs: new CampaignRuns(),
        publicUrl: 'http://localhost:3000',
        timeZone: 'Europe/Paris',
        templates: await loadCampaignTemplates(),
      },
    },
    lang: 'en',
    secureCookies: false,
    ...adminState(),
    now: () => now,
  };
}, 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function req(
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: string } = {},
) {
  const url = new URL(target, 'http://admin.test');
  const request: AdminRequest = {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { host: 'admin.test', 'accept-language': 'en', ...options.headers },
    body: options.body ?? '',
    sourceIp: '192.0.2.1',
    host: 'admin.test',
  };
  return handleAdminRequest(request, deps);
}

const api = (method: string, target: string, body?: unknown) =>
  req(method, `/admin/api${target}`, {
    headers: { ...bearer, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
const post = (target: string, fields: Record<string, string>) =>
  req('POST', target, {
    headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
/** Each page's language switch names the other language and comes back to the page. */
async function switchesLanguageOn(targets: string[]): Promise<void> {
  for (const target of targets) {
    const page = await req('GET', target, { headers: bearer });
    const query = languageSwitch(page.body);
    expect(query, target).toEqual({ lang: 'fr', back: target });
    const back = await req('GET', `/admin/language?${new URLSearchParams(query)}`);
    expect(back.status, target).toBe(303);
    expect(back.headers.location).toBe(target);
  }
}
const bodyJson = (response: PublicResponse) => JSON.parse(response.body) as Record<string, unknown>;

const lettre = () => path.join(workspace, 'newsletters', '2024-03-lettre.md');

/** The issue page's form as a browser would post it: every field it shows, then `extra`. */
function formOf(page: string, extra: Record<string, string>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of page.matchAll(/<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"/g))
    fields[m[1] ?? ''] = decode(m[2] ?? '');
  for (const m of page.matchAll(/<textarea[^>]*\bname="([^"]+)"[^>]*>\n([\s\S]*?)<\/textarea>/g))
    fields[m[1] ?? ''] = decode(m[2] ?? '');
  delete fields.csrf;
  return { ...fields, ...extra };
}

function decode(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#x3D;/g, '=')
    .replace(/&#x60;/g, '`')
    .replace(/&amp;/g, '&');
}

describe('saving an issue file', () => {
  it('saved unchanged, the example issue stays byte for byte the same', async () => {
    const text = await readFile(lettre(), 'utf8');
    const data = parse(text.split('---\n')[1] ?? '') as { title: string; intro: string; items: unknown[] };
    const edit = { title: data.title, intro: data.intro, items: data.items.map(normalizedItem) };
    expect(editIssueText(text, edit, 'lettre.md')).toBe(text);
  });

  it('moves an item with its comment, and rewrites no other field', () => {
    const text = [
      '---',
      '# A draft.',
      'title: "Lettre"',
      'date: 2026-12-07',
      'publishers:',
      '  - villes-internet',
      'intro: Bonjour.',
      'items:',
      '  - release: a # 2024-01-01: A',
      '  - b # 2023-01-01: B',
      '# Hints at the end.',
      '---',
      '',
    ].join('\n');
    const moved = editIssueText(
      text,
      {
        title: 'Lettre',
        intro: 'Bonjour.',
        items: [{ release: 'b' }, { release: 'a', title: 'Un autre titre' }],
      },
      'x.md',
    );
    expect(moved).toBe(
      text.replace(
        '  - release: a # 2024-01-01: A\n  - b # 2023-01-01: B\n',
        '  - b # 2023-01-01: B\n  - release: a # 2024-01-01: A\n    title: Un autre titre\n',
      ),
    );
  });
});

describe('drafting an issue', () => {
  it('writes the file `pressroom newsletter draft` writes, and never over it', async () => {
    const list = await req('GET', '/admin/newsletters', { headers: bearer });
    expect(list.status).toBe(200);
    expect(list.body).toContain('/admin/newsletters/2024-03-lettre');
    const made = await post('/admin/newsletters/new', { since: '2021-01-01', lang: 'fr' });
    expect(made.status).toBe(303);
    expect(made.headers.location).toBe('/admin/newsletters/newsletter-2026-12-07?saved=created');
    const file = path.join(workspace, 'newsletters', 'newsletter-2026-12-07.md');
    const written = await readFile(file, 'utf8');
    const expected = await draftIssue(
      { store: publishing.store, files: publishing.files, locales: (await loadTemplateFiles()).locales },
      { since: '2021-01-01', now, lang: 'fr', outFile: file },
    );
    expect(written).toBe(expected.text);
    // One release per translation group: the barometer in French, and the seed.
    expect(expected.releases.map((r) => r.slug)).toEqual(['barometre-open-data-2024', crise.slug]);

    // The same day again: refused, the file as it was.
    await writeFile(file, `${written}# edited by hand\n`);
    const again = await post('/admin/newsletters/new', { since: '2021-01-01' });
    expect(again.status).toBe(409);
    expect(again.body).toContain('newsletter-2026-12-07.md already exists');
    expect(await readFile(file, 'utf8')).toBe(`${written}# edited by hand\n`);
    await writeFile(file, written);
  });

  it('refuses a bad date and a day with no release after it, writing nothing', async () => {
    const bad = await api('POST', '/newsletters', { since: '2024-02-30' });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bodyJson(bad).problems)).toContain('real calendar date');
    const none = await post('/admin/newsletters/new', { since: '2030-01-01' });
    expect(none.status).toBe(422);
    expect(none.body).toContain('aria-invalid="true"');
    expect(none.body).toContain('no public release dated 2030-01-01');
  });
});

describe("an issue's page", () => {
  it('lists its items in order, previews the saved issue, and links to the campaign compose page', async () => {
    const page = await req('GET', '/admin/newsletters/2024-03-lettre', { headers: bearer });
    expect(page.status).toBe(200);
    const legends = [...page.body.matchAll(/<legend>(\d)\. ([^<]*)<\/legend>/g)].map((m) => m[2]);
    expect(legends).toEqual([
      barometer.title,
      crise.title,
      'Label Territoires, Villes et Villages Internet : les candidatures sont ouvertes',
    ]);
    expect(page.body).toContain('href="/admin/campaigns/new?newsletter=2024-03-lettre"');
    expect(page.body).toContain('src="/admin/newsletters/2024-03-lettre/email"');
    expect(page.body).toMatch(/<pre id="email-text" tabindex="0">[\s\S]*Bonjour Camille/);
    const email = await req('GET', '/admin/newsletters/2024-03-lettre/email', { headers: bearer });
    expect(email.headers['content-security-policy']).toContain('sandbox allow-popups');
    expect(email.body).toContain('Open Data Barometer 2024');
  });

  it('moves an item without saving, then saves only what changed', async () => {
    const before = await readFile(lettre(), 'utf8');
    const page = (await req('GET', '/admin/newsletters/2024-03-lettre', { headers: bearer })).body;
    const moved = await post('/admin/newsletters/2024-03-lettre', formOf(page, { action: 'down-0' }));
    expect(moved.status).toBe(200);
    expect(moved.body).toContain('Not saved yet');
    // The moved item's button keeps the focus, at its new place.
    expect(moved.body).toMatch(/id="down-1" autofocus/);
    expect(await readFile(lettre(), 'utf8')).toBe(before);
    const saved = await post('/admin/newsletters/2024-03-lettre', formOf(moved.body, { action: 'save' }));
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe('/admin/newsletters/2024-03-lettre?saved=written');
    const after = await readFile(lettre(), 'utf8');
    const itemsOf = (text: string) => text.slice(text.indexOf('items:'), text.indexOf('events:'));
    expect(after.replace(itemsOf(after), '')).toBe(before.replace(itemsOf(before), ''));
    expect(itemsOf(after).indexOf('gestion-de-crise')).toBeLessThan(
      itemsOf(after).indexOf('open-data-barometer'),
    );
    // Saved again as it is: nothing written.
    const again = (await req('GET', '/admin/newsletters/2024-03-lettre', { headers: bearer })).body;
    const unchanged = await post('/admin/newsletters/2024-03-lettre', formOf(again, { action: 'save' }));
    expect(unchanged.headers.location).toBe('/admin/newsletters/2024-03-lettre?saved=unchanged');
    expect(await readFile(lettre(), 'utf8')).toBe(after);
    await writeFile(lettre(), before);
  });

  it('escapes markup typed into an item, in the page and in the email', async () => {
    const before = await readFile(lettre(), 'utf8');
    const page = (await req('GET', '/admin/newsletters/2024-03-lettre', { headers: bearer })).body;
    const hostile = '<script>alert(1)</script> & <b>co</b>';
    const saved = await post(
      '/admin/newsletters/2024-03-lettre',
      formOf(page, { 'item-2-title': hostile, action: 'save' }),
    );
    expect(saved.status).toBe(303);
    const shown = (await req('GET', '/admin/newsletters/2024-03-lettre', { headers: bearer })).body;
    expect(shown).not.toContain('<script>alert');
    expect(shown).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const email = (await req('GET', '/admin/newsletters/2024-03-lettre/email', { headers: bearer })).body;
    expect(email).not.toContain('<script>alert');
    expect(email).toContain('&lt;script&gt;');
    await writeFile(lettre(), before);
  });

  it('refuses a move out of range, an unknown release, a stale version and a bad field, writing nothing', async () => {
    const before = await readFile(lettre(), 'utf8');
    const page = (await req('GET', '/admin/newsletters/2024-03-lettre', { headers: bearer })).body;
    const out = await post('/admin/newsletters/2024-03-lettre', formOf(page, { action: 'down-7' }));
    expect(out.status).toBe(400);
    expect(out.body).toContain('There is no item 8 to move or remove here: the issue has 3 item(s)');
    const edge = await post('/admin/newsletters/2024-03-lettre', formOf(page, { action: 'up-0' }));
    expect(edge.status).toBe(400);
    const unknown = await post(
      '/admin/newsletters/2024-03-lettre',
      formOf(page, { action: 'add', add: 'not-published' }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain('not a public release');
    const stale = await post(
      '/admin/newsletters/2024-03-lettre',
      formOf(page, { version: 'f'.repeat(64), 'item-0-summary': 'Changed.', action: 'save' }),
    );
    expect(stale.status).toBe(409);
    expect(stale.body).toContain('changed since it was opened');
    // What was typed is kept.
    expect(stale.body).toContain('Changed.');
    const bad = await post(
      '/admin/newsletters/2024-03-lettre',
      formOf(page, { 'item-2-url': 'javascript:alert(1)', action: 'save' }),
    );
    expect(bad.status).toBe(422);
    expect(bad.body).toMatch(/id="item-2-url"[^>]*aria-invalid="true"/);
    expect(await readFile(lettre(), 'utf8')).toBe(before);
  });

  it('saves one of two saves made at once from the same page, and refuses a huge intro', async () => {
    const before = await readFile(lettre(), 'utf8');
    const page = (await req('GET', '/admin/newsletters/2024-03-lettre', { headers: bearer })).body;
    const [one, two] = await Promise.all([
      post('/admin/newsletters/2024-03-lettre', formOf(page, { intro: 'Première.', action: 'save' })),
      post('/admin/newsletters/2024-03-lettre', formOf(page, { intro: 'Seconde.', action: 'save' })),
    ]);
    // Whichever came first is saved; the other finds the file changed.
    expect([one?.status, two?.status].sort()).toEqual([303, 409]);
    const kept = one?.status === 303 ? 'Première.' : 'Seconde.';
    expect(await readFile(lettre(), 'utf8')).toContain(`intro: >-\n  ${kept}\n`);
    await writeFile(lettre(), before);
    const huge = await post(
      '/admin/newsletters/2024-03-lettre',
      formOf(page, { intro: 'x'.repeat(20_000), action: 'save' }),
    );
    expect(huge.status).toBe(422);
    expect(huge.body).toMatch(/id="f-intro-error">[^<]*10,000/);
    expect(await readFile(lettre(), 'utf8')).toBe(before);
  });

  it('adds a published release and removes an item', async () => {
    const before = await readFile(lettre(), 'utf8');
    const page = (await req('GET', '/admin/newsletters/2024-03-lettre', { headers: bearer })).body;
    const removed = await post('/admin/newsletters/2024-03-lettre', formOf(page, { action: 'remove-2' }));
    expect(removed.status).toBe(200);
    const added = await post(
      '/admin/newsletters/2024-03-lettre',
      formOf(removed.body, { action: 'add', add: 'barometre-open-data-2024' }),
    );
    expect(added.body).toContain('name="item-2-release" value="barometre-open-data-2024"');
    const saved = await post('/admin/newsletters/2024-03-lettre', formOf(added.body, { action: 'save' }));
    expect(saved.status).toBe(303);
    const text = await readFile(lettre(), 'utf8');
    expect(text).toContain('  - release: barometre-open-data-2024\n');
    expect(text).not.toContain('Label Territoires');
    await writeFile(lettre(), before);
  });

  it('has the language switch of every admin page, and shows problems in French to a French user', async () => {
    await switchesLanguageOn(['/admin/newsletters', '/admin/newsletters/2024-03-lettre']);
    const before = await readFile(lettre(), 'utf8');
    const french = { ...bearer, 'accept-language': 'fr' };
    const page = (await req('GET', '/admin/newsletters/2024-03-lettre', { headers: french })).body;
    const bad = await req('POST', '/admin/newsletters/2024-03-lettre', {
      headers: { ...french, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(formOf(page, { 'item-2-url': 'ftp://x', action: 'save' })).toString(),
    });
    expect(bad.status).toBe(422);
    expect(bad.body).toContain('doit être une adresse http:// ou https:// complète');
    expect(bad.body).not.toContain('must be an absolute');
    expect(await readFile(lettre(), 'utf8')).toBe(before);
  });

  it('finds no issue by an id with ../ or one that does not exist', async () => {
    for (const target of [
      '/admin/newsletters/..%2F..%2Fpressroom',
      '/admin/newsletters/nope',
      '/admin/newsletters/%E0%A4%A',
    ]) {
      expect((await req('GET', target, { headers: bearer })).status).toBe(404);
    }
    expect((await api('GET', '/newsletters/..%2Fpublications%2Fx')).status).toBe(404);
    expect((await api('PUT', '/newsletters/..%2Fx', { version: 'x', items: [] })).status).toBe(404);
  });
});

describe('the API', () => {
  it('lists, reads, saves and previews an issue; the OpenAPI document has its routes', async () => {
    const before = await readFile(lettre(), 'utf8');
    const list = bodyJson(await api('GET', '/newsletters')) as { issues: { id: string }[] };
    expect(list.issues.map((i) => i.id)).toContain('2024-03-lettre');
    const issue = bodyJson(await api('GET', '/newsletters/2024-03-lettre')) as {
      version: string;
      intro: string;
      title: string;
      itemList: { release?: string; releaseTitle?: string }[];
    };
    expect(issue.itemList[0]).toMatchObject({ release: barometer.slug, releaseTitle: barometer.title });
    const items = issue.itemList.map(({ releaseTitle: _t, ...item }) => item);
    // What GET gave, put back as it is: nothing written.
    const same = bodyJson(
      await api('PUT', '/newsletters/2024-03-lettre', { version: issue.version, items: issue.itemList }),
    );
    expect(same.written).toBe(false);
    expect(await readFile(lettre(), 'utf8')).toBe(before);
    const reordered = await api('PUT', '/newsletters/2024-03-lettre', {
      version: issue.version,
      intro: 'Bonjour à toutes et à tous.',
      items: [items[2], items[0], items[1]],
    });
    expect(reordered.status).toBe(200);
    expect(bodyJson(reordered).written).toBe(true);
    const stale = await api('PUT', '/newsletters/2024-03-lettre', { version: issue.version, items });
    expect(stale.status).toBe(409);
    const preview = bodyJson(await api('GET', '/newsletters/2024-03-lettre/preview')) as {
      email: { text: string };
    };
    expect(preview.email.text.indexOf('Label Territoires')).toBeLessThan(
      preview.email.text.indexOf('Open Data'),
    );
    expect(preview.email.text).toContain('Bonjour à toutes et à tous.');
    await writeFile(lettre(), before);
    const doc = bodyJson(await api('GET', '/openapi.json')) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/admin/api/newsletters',
        '/admin/api/newsletters/{id}',
        '/admin/api/newsletters/{id}/preview',
      ]),
    );
    expect(Object.keys(doc.paths['/admin/api/newsletters/{id}'] ?? {})).toEqual(['get', 'put']);
  });

  it('answers 503 where the section is not set up', async () => {
    const { newsletters: _n, ...without } = deps.releases;
    const response = await handleAdminRequest(
      {
        method: 'GET',
        path: '/admin/api/newsletters',
        query: {},
        headers: { host: 'admin.test', ...bearer },
        body: '',
        host: 'admin.test',
      },
      { ...deps, releases: without },
    );
    expect(response.status).toBe(503);
  });
});

describe('without sign-in, or from another site', () => {
  it('refuses every page and route of the section', async () => {
    const page = await req('GET', '/admin/newsletters/2024-03-lettre');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/admin/sign-in');
    for (const [method, target] of [
      ['GET', '/admin/api/newsletters'],
      ['PUT', '/admin/api/newsletters/2024-03-lettre'],
      ['POST', '/admin/newsletters/new'],
      ['GET', '/admin/releases/open-data-barometer-2024/pdf'],
    ] as const) {
      const response = await req(method, target);
      expect([401, 303]).toContain(response.status);
      expect(response.body).not.toContain('Villes Internet');
    }
    const signIn = await req('GET', '/admin/sign-in');
    const nonce = /pressroom_admin_sign_in=([^;]+)/.exec(signIn.headers['set-cookie'] ?? '')?.[1] ?? '';
    const csrf = /name="csrf" value="([^"]+)"/.exec(signIn.body)?.[1] ?? '';
    const opened = await req('POST', '/admin/sign-in', {
      headers: {
        cookie: `pressroom_admin_sign_in=${nonce}`,
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'http://admin.test',
        'sec-fetch-site': 'same-origin',
      },
      body: new URLSearchParams({ csrf, token }).toString(),
    });
    const session = /pressroom_admin=([^;]+)/.exec(opened.headers['set-cookie'] ?? '')?.[1] ?? '';
    expect(session).not.toBe('');
    const crossSite = await req('POST', '/admin/newsletters/new', {
      headers: {
        cookie: `pressroom_admin=${session}`,
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'since=2021-01-01',
    });
    expect(crossSite.status).toBe(403);
  });
});

describe("a release's PDF", () => {
  it('is printed from its file by the printer publishing uses, served inline under a closed policy', async () => {
    const response = await req('GET', `/admin/releases/${barometer.slug}/pdf`, { headers: bearer });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'self'");
    expect(response.headers['content-disposition']).toBe(`inline; filename="${barometer.slug}.pdf"`);
    expect(Buffer.from(response.body, 'base64').toString()).toContain(`%PDF-1.7 fake ${barometer.title}`);
    const page = await req('GET', `/admin/releases/${barometer.slug}`, { headers: bearer });
    expect(page.body).toContain(`href="/admin/releases/${barometer.slug}/pdf"`);
  });

  it('is stored when publishing from the admin', async () => {
    const published = bodyJson(await api('POST', `/releases/${barometer.slug}/publish`)) as {
      pdf: { stored: boolean };
    };
    expect(published.pdf).toEqual({ stored: true });
    const page = await post(`/admin/releases/${barometer.slug}/publish`, {});
    expect(page.body).toContain('id="pdf-stored"');
  });

  it('without a browser, the page says why, and publishing goes on without it', async () => {
    noBrowser = true;
    try {
      const response = await req('GET', `/admin/releases/${barometer.slug}/pdf`, { headers: bearer });
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toContain('text/html');
      expect(response.body).toMatch(/id="pdf-unavailable">No PDF here: no browser found: set CHROMIUM_PATH/);
      const published = bodyJson(await api('POST', `/releases/${barometer.slug}/publish`)) as {
        pdf: { stored: boolean; reason?: string };
      };
      expect(published.pdf).toEqual({
        stored: false,
        reason: 'no browser found: set CHROMIUM_PATH to a Chromium',
      });
      const page = await post(`/admin/releases/${barometer.slug}/publish`, {});
      expect(page.body).toMatch(/id="pdf-missing">No PDF was printed: no browser found/);
    } finally {
      noBrowser = false;
    }
  });

  it('answers 404 for an unknown release', async () => {
    expect((await req('GET', '/admin/releases/nope/pdf', { headers: bearer })).status).toBe(404);
  });
});

describe('saving a release', () => {
  it('saves one of two saves made at once from the same version; the other is refused (409)', async () => {
    const file = path.join(work, crise.file);
    const before = await readFile(file, 'utf8');
    const release = bodyJson(await api('GET', `/releases/${crise.slug}`)) as {
      version: string;
      frontMatter: Record<string, unknown>;
      body: string;
    };
    const edit = (place: string) =>
      api('PUT', `/releases/${crise.slug}`, {
        version: release.version,
        frontMatter: { ...release.frontMatter, place },
        body: release.body,
      });
    const [one, two] = await Promise.all([edit('Lyon'), edit('Nantes')]);
    // Whichever came first is written; the other finds the file changed, and loses nothing silently.
    expect([one.status, two.status].sort()).toEqual([200, 409]);
    const kept = one.status === 200 ? 'Lyon' : 'Nantes';
    expect(await readFile(file, 'utf8')).toMatch(new RegExp(`^place: ${kept}$`, 'm'));
    expect(bodyJson(one.status === 409 ? one : two).error).toMatch(/changed since it was opened/);
    await writeFile(file, before);
  });
});

describe('without a workspace (`serve --data-dir` outside one)', () => {
  it('creating a release and drafting an issue answer 503 saying to run serve in a workspace', async () => {
    const files = localFiles();
    const inWorkspace = deps;
    deps = {
      ...deps,
      releases: {
        ...deps.releases,
        sources: workspaceReleaseSources(undefined, files),
        newsletters: {
          ...(deps.releases.newsletters as NonNullable<AdminDeps['releases']['newsletters']>),
          sources: workspaceReleaseSources(undefined, files, 'newsletters'),
        },
      },
    };
    try {
      const release = await api('POST', '/releases', {
        frontMatter: {
          title: 'Sans espace de travail',
          date: '2026-12-07',
          lang: 'fr',
          lead: 'Un chapô.',
          publishers: [{ name: 'Une association', about: 'Une association fictive.' }],
        },
        body: 'Le texte.\n',
      });
      const issue = await api('POST', '/newsletters', { since: '2021-01-01' });
      const page = await post('/admin/newsletters/new', { since: '2021-01-01', lang: 'fr' });
      for (const [reply, what] of [
        [release, 'publications/'],
        [issue, 'newsletters/'],
        [page, 'newsletters/'],
      ] as const) {
        expect(reply.status).toBe(503);
        expect(reply.body).toContain(`no workspace here, so ${what}`);
        expect(reply.body).toContain('run `pressroom serve` inside a workspace');
      }
      expect(bodyJson(release).error).toMatch(/^no workspace here/);
    } finally {
      deps = inWorkspace;
    }
  });
});

describe('sending an issue: published from its page, then composed', () => {
  const compose = (fields: Record<string, string>) =>
    post('/admin/campaigns/new', {
      content: 'newsletter:2024-03-lettre',
      from: 'Villes Internet <presse@villes-internet.example.org>',
      ...fields,
    });
  const campaignFiles = async () =>
    (await readdir(path.join(workspace, 'campaigns'))).filter((f) => f.endsWith('.yaml')).sort();

  it('has the language switch of every admin page in the campaigns too', async () => {
    await switchesLanguageOn(['/admin/campaigns', '/admin/campaigns/new']);
  });

  it('says how to get a list when there is none, and offers the lists contacts are on, with counts', async () => {
    const none = await req('GET', '/admin/campaigns/new', { headers: bearer });
    expect(none.body).toContain('No list yet: import contacts into a list');
    expect(none.body).not.toContain('name="lists"');
    const before = await campaignFiles();
    const refused = await compose({ name: 'sans-liste' });
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('import contacts into a list');
    expect(refused.body).toContain('pressroom.yaml');
    expect(await campaignFiles()).toEqual(before);
    await importCsv({ store: publishing.store, keys }, 'email\na@example.org\nb@example.org\n', {
      file: 'lettre.csv',
      list: 'lettre',
      now,
    });
    const offered = await req('GET', '/admin/campaigns/new', { headers: bearer });
    expect(offered.body).toMatch(
      /<input type="checkbox" name="lists" value="lettre"> <code>lettre<\/code> \(2\)/,
    );
  });

  it('refuses a sender not offered and a subject with a line break, beside their fields, writing nothing', async () => {
    const before = await campaignFiles();
    const forged = await compose({ lists: 'lettre', from: 'Evil <evil@example.org>', name: 'forgee' });
    expect(forged.status).toBe(422);
    expect(forged.body).toMatch(/id="c-from-error">[^<]*is not one of the senders offered/);
    const header = await compose({
      lists: 'lettre',
      subject: 'Lettre\r\nBcc: x@example.org',
      name: 'entete',
    });
    expect(header.status).toBe(422);
    expect(header.body).toMatch(/id="c-subject-error">[^<]*holds a line break or another control character/);
    const tab = await compose({ lists: 'lettre', subject: 'Lettre\tde mars', name: 'tab' });
    expect(tab.status).toBe(422);
    const french = await req('POST', '/admin/campaigns/new', {
      headers: { ...bearer, 'accept-language': 'fr', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        content: 'newsletter:2024-03-lettre',
        from: 'Evil <evil@example.org>',
        subject: 'Lettre\tde mars',
      }).toString(),
    });
    expect(french.body).toContain('écrivez l’objet sur une seule ligne');
    expect(french.body).toContain('n’est pas l’un des expéditeurs proposés');
    expect(french.body).toContain('choisissez au moins une liste');
    expect(await campaignFiles()).toEqual(before);
  });

  it('publishes a drafted issue from its page after a confirmation, then composes its campaign from Send…', async () => {
    const page = await req('GET', '/admin/newsletters/2024-03-lettre', { headers: bearer });
    expect(page.body).toMatch(/id="publish-state">Not published yet/);
    // Send… before it is published: compose says why it cannot be chosen yet.
    const early = await req('GET', '/admin/campaigns/new?newsletter=2024-03-lettre', { headers: bearer });
    expect(early.body).toContain('This is not published yet: publish it first');
    expect(early.body).not.toContain('value="newsletter:2024-03-lettre" selected');
    const confirm = await req('GET', '/admin/newsletters/2024-03-lettre/publish', { headers: bearer });
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('id="publish-button"');
    const published = await post('/admin/newsletters/2024-03-lettre/publish', {});
    expect(published.status).toBe(303);
    expect(published.headers.location).toBe('/admin/newsletters/2024-03-lettre?published=created');
    const after = await req('GET', published.headers.location ?? '', { headers: bearer });
    expect(after.body).toMatch(/id="publish-state">Published in the archive/);
    expect(after.body).toContain('id="published"');
    const chosen = await req('GET', '/admin/campaigns/new?newsletter=2024-03-lettre', { headers: bearer });
    expect(chosen.body).toContain('<option value="newsletter:2024-03-lettre" selected>');
    const releasePage = await req('GET', `/admin/releases/${crise.slug}`, { headers: bearer });
    expect(releasePage.body).toContain(`href="/admin/campaigns/new?release=${crise.slug}" id="send-link"`);
    const release = await req('GET', `/admin/campaigns/new?release=${crise.slug}`, { headers: bearer });
    expect(release.body).toContain(`<option value="release:${crise.slug}" selected>`);
    const composed = await compose({ lists: 'lettre', name: 'lettre-de-mars' });
    expect(composed.status).toBe(303);
    expect(composed.headers.location).toBe('/admin/campaigns/lettre-de-mars?composed=1');
    const file = parse(await readFile(path.join(workspace, 'campaigns', 'lettre-de-mars.yaml'), 'utf8'));
    expect(file).toMatchObject({ newsletter: '2024-03-lettre', audience: { list: 'lettre' } });
  });

  it('publishes an issue from the API too; an unknown one is 404', async () => {
    const again = await api('POST', '/newsletters/2024-03-lettre/publish');
    expect(again.status).toBe(200);
    expect(bodyJson(again)).toMatchObject({ id: '2024-03-lettre', state: 'public' });
    expect((await api('POST', '/newsletters/nulle-part/publish')).status).toBe(404);
    const doc = bodyJson(await api('GET', '/openapi.json')) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths['/admin/api/newsletters/{id}/publish'] ?? {})).toEqual(['post']);
  });
});
