/**
 * The admin's contacts (lambdas/core/admin/contacts.ts, contacts-pages.ts, contacts-api.ts):
 * search with paging over many contacts, lists and tags counted; the CSV import's steps
 * (staged, previewed with its mapping and dry run, confirmed once) with hostile files (Latin-1,
 * a BOM, empty, a header only, markup in a name); unsubscribe and erase, an id that does not
 * exist; and the router: sign-in needed, CSRF on every change, the upload's own body limit.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadContactsTemplates } from '../../lambdas/adapters/admin-contacts-files.ts';
import { loadAdminTemplates } from '../../lambdas/adapters/admin-files.ts';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import {
  type AdminDeps,
  type AdminRequest,
  adminState,
  handleAdminRequest,
} from '../../lambdas/core/admin/admin.ts';
import { openApiDocument } from '../../lambdas/core/admin/api.ts';
import {
  type AdminContactsDeps,
  claimStaleMs,
  confirmUpload,
  contactProfile,
  eraseContactById,
  ImportUploadError,
  importMaxBytes,
  previewUpload,
  searchContacts,
  stageUpload,
  unsubscribeContact,
  uploadName,
} from '../../lambdas/core/admin/contacts.ts';
import { adminKeys, cookieNames, csrfToken, openSession } from '../../lambdas/core/admin/session.ts';
import { campaignKeys } from '../../lambdas/core/campaigns/campaign.ts';
import type { LedgerEntry } from '../../lambdas/core/campaigns/ledger.ts';
import { importContacts } from '../../lambdas/core/contacts/import.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { languageSwitch } from '../support/admin.ts';
import { contactsKeys } from '../support/contacts.ts';

const now = new Date('2026-12-07T10:00:00Z');
let store: MemoryObjectStore;
let deps: AdminContactsDeps;

const newStore = () =>
  new MemoryObjectStore({ signingSecret: 'x'.repeat(40), publicUrl: 'https://press.example.org' });

beforeEach(() => {
  store = newStore();
  deps = { store, keys: contactsKeys, lists: [{ name: 'presse', title: 'Presse' }], now };
});

async function* once(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text, 'utf8');
}

/** Imports rows as the command line does. */
async function seed(csv: string, list = 'presse') {
  return importContacts(once(csv), 'seed.csv', deps, { list, source: 'import:seed.csv', now });
}

const latin1 = (text: string) => Buffer.from(text, 'latin1');

describe('search', () => {
  it('shows one page of 50 at a time, the last page when asked past it, and counts every list and tag', async () => {
    const rows = Array.from(
      { length: 120 },
      (_, i) => `p${String(i).padStart(3, '0')}@example.org,Nom${i},${i % 2 ? 'pair' : 'impair'}`,
    );
    await seed(`email,last name,tags\n${rows.join('\n')}\n`);
    await seed('email,first name,outlet\nzoe@example.org,Zoé,Le Numérique\n', 'abonnes');
    const first = await searchContacts(deps, {});
    expect(first).toMatchObject({ total: 121, all: 121, page: 1, pages: 3 });
    expect(first.contacts).toHaveLength(50);
    const third = await searchContacts(deps, { page: 3 });
    expect(third.contacts).toHaveLength(21);
    const past = await searchContacts(deps, { page: 99 });
    expect(past.page).toBe(3);
    expect(past.contacts.map((c) => c.id)).toEqual(third.contacts.map((c) => c.id));
    const pages = [first, await searchContacts(deps, { page: 2 }), third].flatMap((p) =>
      p.contacts.map((c) => c.id),
    );
    expect(new Set(pages).size).toBe(121);
    // In the order of the addresses, across pages.
    const emails = [first, await searchContacts(deps, { page: 2 }), third].flatMap((p) =>
      p.contacts.map((c) => c.email),
    );
    expect(emails[0]).toBe('p000@example.org');
    expect(emails).toEqual([...emails].sort());
    expect(first.lists).toEqual([
      { name: 'abonnes', count: 1 },
      { name: 'presse', title: 'Presse', count: 120 },
    ]);
    expect(first.tags).toEqual([
      { name: 'impair', count: 60 },
      { name: 'pair', count: 60 },
    ]);
  });

  it('finds every word, case and accents ignored, on a list and with a tag', async () => {
    await seed(
      'email,first name,outlet,tags\nzoe@example.org,Zoé,Le Numérique,radio\nmax@example.org,Max,Ouest,radio\n',
    );
    expect((await searchContacts(deps, { q: 'ZOE numerique' })).contacts.map((c) => c.email)).toEqual([
      'zoe@example.org',
    ]);
    expect((await searchContacts(deps, { tag: 'radio', list: 'presse' })).total).toBe(2);
    expect((await searchContacts(deps, { list: 'autre' })).total).toBe(0);
  });
});

/** Two confirmations at once of an upload of two new contacts: one imports them, once. */
async function confirmTwiceAtOnce(at: AdminContactsDeps, id: string) {
  const [one, two] = await Promise.all([
    confirmUpload(at, id, { list: 'presse' }),
    confirmUpload(at, id, { list: 'presse' }).catch((e: unknown) => e),
  ]);
  expect(one).toMatchObject({ imported: { added: 2 } });
  // The second found the claim: under way (409) or already done.
  if (two instanceof ImportUploadError) expect(two.status).toBe(409);
  else expect(two).toMatchObject({ already: { added: 2 } });
}

describe('import steps', () => {
  it('previews a Latin-1 file: encoding, columns mapped as the command line detects them, first rows, the refused row and its line', async () => {
    const csv = latin1(
      'Prénom;Nom;Courriel;Média\nJosé;Müller;jose@example.org;Ouest-France\nAnaïs;Lévêque;pas-une-adresse;Radio\n',
    );
    const { id } = await stageUpload(deps, { name: 'presse.csv', bytes: csv });
    const preview = await previewUpload(deps, id, { list: 'presse' });
    expect(preview.upload.encoding).toBe('Windows-1252 (Latin-1)');
    expect(preview.upload.delimiter).toBe(';');
    expect(preview.upload.columns.map((c) => [c.header, c.field])).toEqual([
      ['Prénom', 'firstName'],
      ['Nom', 'lastName'],
      ['Courriel', 'email'],
      ['Média', 'outlet'],
    ]);
    expect(preview.upload.rows[0]?.cells).toEqual(['José', 'Müller', 'jose@example.org', 'Ouest-France']);
    expect(preview.report).toMatchObject({ rows: 2, added: 1, dryRun: true });
    expect(preview.report?.rejected).toEqual([
      { line: 3, column: 'Courriel', reason: 'invalid email address "pas-une-adresse"' },
    ]);
    // A dry run: nothing written.
    expect((await searchContacts(deps, {})).all).toBe(0);
  });

  it('reads a file with a BOM: its first header is "email", not "\\ufeffemail"', async () => {
    const { id } = await stageUpload(deps, {
      name: 'bom.csv',
      bytes: Buffer.from('\ufeffemail,first name\na@example.org,A\n'),
    });
    const preview = await previewUpload(deps, id, { list: 'presse' });
    expect(preview.upload.columns[0]).toEqual({ header: 'email', field: 'email', detected: 'email' });
    expect(preview.report?.added).toBe(1);
  });

  it('follows an edited mapping: an unknown column mapped, a known one left out', async () => {
    const { id } = await stageUpload(deps, {
      name: 'crm.csv',
      bytes: Buffer.from('Adresse pro,Nom complet,Notes\na@example.org,Ada Lovelace,secret\n'),
    });
    const refused = await previewUpload(deps, id, { list: 'presse' });
    expect(refused.problem).toMatch(
      /no email column among the headers found: "Adresse pro", "Nom complet", "Notes"/,
    );
    const mapping = { 'Adresse pro': 'email', 'Nom complet': 'firstName', Notes: '' } as const;
    const preview = await previewUpload(deps, id, { list: 'presse', mapping });
    expect(preview.upload.columns.map((c) => c.field)).toEqual(['email', 'firstName', undefined]);
    expect(preview.upload.columns[2]?.detected).toBe('notes');
    await confirmUpload(deps, id, { list: 'presse', mapping });
    const { contact } = await findContact(store, contactsKeys, 'a@example.org');
    expect(contact?.firstName).toBe('Ada Lovelace');
    expect(contact?.notes).toBeUndefined();
  });

  it('refuses an empty file, and a file of only a header at confirmation, writing nothing', async () => {
    await expect(stageUpload(deps, { name: 'vide.csv', bytes: new Uint8Array(0) })).rejects.toThrow(
      /vide\.csv is empty/,
    );
    const { id } = await stageUpload(deps, { name: 'entete.csv', bytes: Buffer.from('email;prénom\n') });
    const preview = await previewUpload(deps, id, { list: 'presse' });
    expect(preview.report?.rows).toBe(0);
    const refusal = await confirmUpload(deps, id, { list: 'presse' }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ImportUploadError);
    expect((refusal as ImportUploadError).status).toBe(422);
    expect((refusal as Error).message).toMatch(/header and no contact rows/);
    expect((await searchContacts(deps, {})).all).toBe(0);
  });

  it('refuses a bad list name, a huge tag and an upload id that does not exist, changing nothing', async () => {
    const { id } = await stageUpload(deps, { name: 'a.csv', bytes: Buffer.from('email\na@example.org\n') });
    await expect(confirmUpload(deps, id, { list: 'Presse Écrite' })).rejects.toThrow(/is not a list name/);
    const huge = await previewUpload(deps, id, { list: 'presse', tags: `ok, ${'x'.repeat(5000)}` });
    expect(huge.problem).toMatch(/a tag has 5000 characters, more than the limit of 50/);
    await expect(confirmUpload(deps, id, { list: 'presse', tags: 'x'.repeat(51) })).rejects.toThrow(
      /a tag has 51/,
    );
    // No list chosen yet: the dry run still reports the rows.
    expect((await previewUpload(deps, id, { list: '' })).report?.added).toBe(1);
    await expect(previewUpload(deps, 'f'.repeat(24), { list: 'presse' })).rejects.toThrow(
      /upload the file again/,
    );
    await expect(previewUpload(deps, '../../secret', { list: 'presse' })).rejects.toThrow(
      /upload the file again/,
    );
    expect((await searchContacts(deps, {})).all).toBe(0);
  });

  it('imports once: a second confirmation, at once or later, answers the first report and imports nothing', async () => {
    const { id } = await stageUpload(deps, {
      name: 'a.csv',
      bytes: Buffer.from('email,tags\na@example.org,x\nb@example.org,y\n'),
    });
    await confirmTwiceAtOnce(deps, id);
    const later = await confirmUpload({ ...deps, now: new Date(now.getTime() + 60_000) }, id, {
      list: 'presse',
    });
    expect(later).toMatchObject({ already: { added: 2 } });
    const { contact } = await findContact(store, contactsKeys, 'a@example.org');
    expect(contact?.updatedAt).toBe(now.toISOString());
    // The file itself is gone once imported.
    expect(await store.get(`contacts/uploads/${id}/file.csv`)).toBeUndefined();
  });

  it('takes over a claim left by an import whose server was stopped, once it is stale; importing again is safe', async () => {
    const csv = 'email,tags\na@example.org,x\nb@example.org,y\n';
    const { id } = await stageUpload(deps, { name: 'a.csv', bytes: Buffer.from(csv) });
    // A confirmation that claimed the upload, then died before its report: its claim stays.
    await store.putIfAbsent(`contacts/uploads/${id}/claim.json`, JSON.stringify({ at: now.toISOString() }));
    const at = (ms: number) => ({ ...deps, now: new Date(now.getTime() + ms) });
    const soon = await confirmUpload(at(60_000), id, { list: 'presse' }).catch((e: unknown) => e);
    expect(soon).toBeInstanceOf(ImportUploadError);
    expect((soon as ImportUploadError).status).toBe(409);
    expect((await findContact(store, contactsKeys, 'a@example.org')).contact).toBeUndefined();
    // Past the limit the claim is stale: the import runs, once.
    const stale = at(claimStaleMs + 60_000);
    await confirmTwiceAtOnce(stale, id);
    expect(await store.get(`contacts/uploads/${id}/file.csv`)).toBeUndefined();

    // Killed after its commit (contacts written, no report): run again, it changes nothing.
    const again = await stageUpload(deps, { name: 'b.csv', bytes: Buffer.from(csv) });
    await store.putIfAbsent(
      `contacts/uploads/${again.id}/claim.json`,
      JSON.stringify({ at: now.toISOString() }),
    );
    expect(await confirmUpload(stale, again.id, { list: 'presse' })).toMatchObject({
      imported: { added: 0, unchanged: 2 },
    });
  });

  it('keeps upload names to one line of a base name, and refuses a file over the limit', async () => {
    expect(uploadName('C:\\Users\\x\\presse\n.csv')).toBe('presse.csv');
    expect(uploadName('')).toBe('upload.csv');
    await expect(
      stageUpload(deps, { name: 'big.csv', bytes: new Uint8Array(importMaxBytes + 1) }),
    ).rejects.toThrow(
      `big.csv is ${importMaxBytes + 1} bytes, more than the limit of ${importMaxBytes} bytes`,
    );
  });

  it('refuses, under a smaller limit (the stack), a file over its bytes or its rows, naming the command to use instead', async () => {
    const importLimit = { bytes: 100, rows: 2, instead: '`pressroom contacts import --backend aws`' };
    const limited = { ...deps, importLimit };
    await expect(
      stageUpload(limited, { name: 'big.csv', bytes: new Uint8Array(101).fill(65) }),
    ).rejects.toThrow(
      'big.csv is 101 bytes, more than the limit of 100 bytes here: split it, or use `pressroom contacts import --backend aws`',
    );
    const three = Buffer.from('email\na@example.org\nb@example.org\nc@example.org');
    await expect(stageUpload(limited, { name: 'rows.csv', bytes: three })).rejects.toMatchObject({
      status: 413,
      message: expect.stringContaining('rows.csv has 4 lines, more than the 2 contact rows (and a header)'),
    });
    // Two rows and a header (and a last line break) are taken.
    const two = Buffer.from('email\na@example.org\nb@example.org\n');
    expect((await stageUpload(limited, { name: 'two.csv', bytes: two })).id).toMatch(/^[0-9a-f]{24}$/);
  });

  it('removes uploads older than an hour when another is staged', async () => {
    const { id } = await stageUpload(deps, { name: 'a.csv', bytes: Buffer.from('email\na@example.org\n') });
    const later = { ...deps, now: new Date(Date.now() + 2 * 3600_000) };
    await stageUpload(later, { name: 'b.csv', bytes: Buffer.from('email\nb@example.org\n') });
    await expect(previewUpload(later, id, { list: 'presse' })).rejects.toThrow(/not there any more/);
  });
});

describe('a contact', () => {
  it('has a profile with its lists and status; none for an id that does not exist', async () => {
    await seed('email,first name\na@example.org,Ada\n');
    const [row] = (await searchContacts(deps, {})).contacts;
    const profile = await contactProfile(deps, row?.id ?? '');
    expect(profile?.contact.firstName).toBe('Ada');
    expect(profile?.lists).toMatchObject([
      { name: 'presse', status: 'subscribed', source: 'import:seed.csv' },
    ]);
    expect(await contactProfile(deps, '0'.repeat(32))).toBeUndefined();
    expect(await contactProfile(deps, 'not-an-id')).toBeUndefined();
  });

  it('is unsubscribed from one of its lists only; another list is refused', async () => {
    await seed('email\na@example.org\n');
    await seed('email\na@example.org\n', 'abonnes');
    const id = contactsKeys.idOf('a@example.org');
    expect(await unsubscribeContact(deps, id, 'presse')).toEqual({
      done: { list: 'presse', already: false },
    });
    expect(await unsubscribeContact(deps, id, 'presse')).toEqual({ done: { list: 'presse', already: true } });
    expect(await unsubscribeContact(deps, id, 'autre')).toMatchObject({
      refused: expect.stringMatching(/not on the list "autre"/),
    });
    const profile = await contactProfile(deps, id);
    expect(profile?.lists.map((l) => [l.name, l.status])).toEqual([
      ['abonnes', 'subscribed'],
      ['presse', 'unsubscribed'],
    ]);
    expect(await unsubscribeContact(deps, '0'.repeat(32), 'presse')).toHaveProperty('missing');
  });

  it('is erased with a hashed suppression left; a second erase finds nobody', async () => {
    await seed('email\na@example.org\n');
    const id = contactsKeys.idOf('a@example.org');
    expect(await eraseContactById(deps, id)).toMatchObject({ id, hadContact: true });
    const found = await findContact(store, contactsKeys, 'a@example.org');
    expect(found.contact).toBeUndefined();
    expect(found.suppression?.all?.reason).toBe('erased');
    expect(found.suppression?.email).toBeUndefined();
    expect(await eraseContactById(deps, id)).toBeUndefined();
  });
});

describe('through the router', () => {
  const token = `${'T'.repeat(40)}`;
  const keys = adminKeys(token, 's'.repeat(64));
  let admin: AdminDeps;
  let cookie: string;
  let csrf: string;

  beforeAll(async () => {
    const session = openSession(keys, now);
    cookie = `${cookieNames.session}=${session.cookie}`;
    csrf = csrfToken(keys, 'session', session.session.id);
  });

  beforeEach(async () => {
    admin = {
      adminToken: token,
      keys,
      templates: await loadAdminTemplates(),
      releases: {
        // The contacts pages need no release.
        sources: {} as never,
        renderer: {} as never,
        sampleRecipient: {} as never,
        siteUrl: 'https://press.example.org/',
      },
      lang: 'en',
      secureCookies: false,
      contacts: { store, keys: contactsKeys, lists: deps.lists, templates: await loadContactsTemplates() },
      ...adminState(),
      now: () => now,
    };
  });

  const req = (
    method: string,
    path: string,
    options: {
      headers?: Record<string, string>;
      body?: string | Buffer;
      query?: Record<string, string>;
    } = {},
  ): AdminRequest => ({
    method,
    path,
    query: options.query ?? {},
    headers: { host: 'admin.test', origin: 'http://admin.test', ...options.headers },
    body: Buffer.isBuffer(options.body) ? options.body.toString('base64') : (options.body ?? ''),
    ...(Buffer.isBuffer(options.body) && { isBase64Encoded: true }),
    host: 'admin.test',
  });
  const signedIn = (method: string, path: string, options: Parameters<typeof req>[2] = {}) =>
    handleAdminRequest(req(method, path, { ...options, headers: { cookie, ...options.headers } }), admin);
  const form = (fields: Record<string, string>) => ({
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });

  it('has the language switch of every admin page, which goes back to the page', async () => {
    await seed('email\na@example.org\n');
    const id = contactsKeys.idOf('a@example.org');
    for (const target of ['/admin/contacts', '/admin/contacts/import', `/admin/contacts/${id}`]) {
      const page = await signedIn('GET', target);
      expect(page.status, target).toBe(200);
      const query = languageSwitch(page.body);
      expect(query, target).toEqual({ lang: 'fr', back: target });
      const back = await handleAdminRequest(req('GET', '/admin/language', { query }), admin);
      expect(back.status, target).toBe(303);
      expect(back.headers.location).toBe(target);
    }
  });

  it('refuses a form over the admin limit (1 MB) with 413, changing nothing', async () => {
    await seed('email\na@example.org\n');
    const id = contactsKeys.idOf('a@example.org');
    // With the token (a session's form that large is refused before: its CSRF token is not read).
    const huge = await handleAdminRequest(
      req('POST', `/admin/contacts/${id}/unsubscribe`, {
        ...form({ list: 'presse', padding: 'x'.repeat(1024 * 1024) }),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      }),
      admin,
    );
    expect(huge.status).toBe(413);
    expect((await contactProfile(deps, id))?.lists).toEqual([
      expect.objectContaining({ name: 'presse', status: 'subscribed' }),
    ]);
  });

  it('answers problems and errors with the one schema of the API, in every section', () => {
    const doc = openApiDocument() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const releases = doc.paths['/admin/api/releases']?.post?.responses;
    const campaigns = doc.paths['/admin/api/campaigns']?.post?.responses;
    const contacts = doc.paths['/admin/api/contacts/{id}']?.get?.responses;
    const content = (response: unknown) => (response as { content?: unknown } | undefined)?.content;
    expect(content(releases?.[422])).toBeDefined();
    expect(content(campaigns?.[422])).toEqual(content(releases?.[422]));
    expect(content(campaigns?.[409])).toEqual(content(releases?.[409]));
    expect(content(contacts?.[404])).toEqual(content(releases?.[409]));
  });

  it('refuses every page and API route without sign-in', async () => {
    const id = contactsKeys.idOf('a@example.org');
    for (const [method, path] of [
      ['GET', '/admin/contacts'],
      ['GET', `/admin/contacts/${id}`],
      ['GET', `/admin/contacts/${id}/erase`],
      ['GET', '/admin/contacts/import'],
      ['GET', `/admin/contacts/import/${'a'.repeat(24)}`],
    ] as const) {
      const response = await handleAdminRequest(req(method, path), admin);
      expect(response.status, path).toBe(303);
      expect(response.headers.location).toBe('/admin/sign-in');
    }
    for (const [method, path] of [
      ['POST', `/admin/contacts/${id}/erase`],
      ['POST', `/admin/contacts/${id}/unsubscribe`],
      ['POST', '/admin/contacts/import'],
      ['GET', '/admin/api/contacts'],
      ['GET', `/admin/api/contacts/${id}`],
      ['POST', `/admin/api/contacts/${id}/erase`],
      ['POST', '/admin/api/contacts/imports'],
    ] as const) {
      expect((await handleAdminRequest(req(method, path), admin)).status, path).toBe(401);
    }
  });

  it('escapes a name holding <script> on the list and the profile', async () => {
    await seed('email,first name\na@example.org,<script>alert(1)</script>\n');
    const list = await signedIn('GET', '/admin/contacts');
    expect(list.status).toBe(200);
    expect(list.headers['content-security-policy']).toContain("script-src 'self'");
    expect(list.headers).toMatchObject({ 'cache-control': 'no-store', 'x-frame-options': 'DENY' });
    const profile = await signedIn('GET', `/admin/contacts/${contactsKeys.idOf('a@example.org')}`);
    for (const page of [list, profile]) {
      expect(page.body).not.toContain('<script>alert');
      expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('shows a contact’s sends and consent in its history', async () => {
    await seed('email\na@example.org\n');
    const id = contactsKeys.idOf('a@example.org');
    await store.put(campaignKeys.index, JSON.stringify({ names: ['etude-2021'] }));
    const entry: LedgerEntry = {
      contact: id,
      email: 'a@example.org',
      status: 'sent',
      messageId: `<etude-2021.${id}@example.org>`,
      attempts: 1,
      claimedAt: '2026-03-02T07:00:00.000Z',
      sentAt: '2026-03-02T07:00:01.000Z',
    };
    await store.put(campaignKeys.ledger('etude-2021', id), JSON.stringify(entry));
    const profile = await signedIn('GET', `/admin/contacts/${id}`);
    expect(profile.body).toMatch(/Received: <strong>etude-2021<\/strong> · 2026-03-02T07:00:01.000Z/);
    expect(profile.body).toContain('Last contacted: 2026-03-02T07:00:01.000Z');
  });

  it('answers 404 for a contact id that does not exist, on the pages and the API', async () => {
    for (const path of [
      `/admin/contacts/${'0'.repeat(32)}`,
      '/admin/contacts/%E0%A4%A',
      `/admin/contacts/${'0'.repeat(32)}/erase`,
    ]) {
      const page = await signedIn('GET', path);
      expect(page.status, path).toBe(404);
      expect(page.body).toContain('No contact has this id');
    }
    const api = await handleAdminRequest(
      req('GET', `/admin/api/contacts/${'0'.repeat(32)}`, { headers: { authorization: `Bearer ${token}` } }),
      admin,
    );
    expect(api.status).toBe(404);
  });

  it('refuses an erase without the CSRF token (or from another origin), and erases with it', async () => {
    await seed('email\na@example.org\n');
    const id = contactsKeys.idOf('a@example.org');
    const noToken = await signedIn('POST', `/admin/contacts/${id}/erase`, form({}));
    expect(noToken.status).toBe(403);
    const otherSite = await signedIn('POST', `/admin/contacts/${id}/erase`, {
      ...form({ csrf }),
      headers: { ...form({}).headers, origin: 'https://evil.example' },
    });
    expect(otherSite.status).toBe(403);
    expect((await findContact(store, contactsKeys, 'a@example.org')).contact).toBeDefined();
    const confirm = await signedIn('GET', `/admin/contacts/${id}/erase`);
    expect(confirm.body).toContain('cannot be undone');
    const erased = await signedIn('POST', `/admin/contacts/${id}/erase`, form({ csrf }));
    expect(erased.status).toBe(200);
    expect(erased.body).toContain('Erased.');
    expect(erased.body).not.toContain('a@example.org');
    expect((await findContact(store, contactsKeys, 'a@example.org')).contact).toBeUndefined();
  });

  it('says so when an erasure could not remove the store’s old versions', async () => {
    await seed('email\na@example.org\n');
    const failing = Object.assign(Object.create(store) as MemoryObjectStore, {
      purgeHistory: async () => Promise.reject(new Error('AccessDenied: s3:ListBucketVersions')),
    });
    const contacts = { ...(admin.contacts as NonNullable<AdminDeps['contacts']>), store: failing };
    const response = await handleAdminRequest(
      req('POST', `/admin/contacts/${contactsKeys.idOf('a@example.org')}/erase`, {
        headers: { cookie, ...form({}).headers },
        body: form({ csrf }).body,
      }),
      { ...admin, contacts },
    );
    expect(response.status).toBe(502);
    expect(response.body).toContain('the address is erased, but the old versions');
    expect((await findContact(store, contactsKeys, 'a@example.org')).contact).toBeUndefined();
  });

  it('takes a multipart upload with its CSRF field, previews it and imports it once on a double submit', async () => {
    const boundary = '----pressroom';
    const part = (name: string, value: string, file?: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${file}"\r\nContent-Type: text/csv` : ''}\r\n\r\n${value}\r\n`;
    const body = Buffer.concat([
      Buffer.from(part('csrf', csrf) + part('list', 'presse') + part('tags', '')),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="presse.csv"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      latin1('Prénom;Courriel\nJosé;jose@example.org\nBad;nope\n'),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const upload = await signedIn('POST', '/admin/contacts/import', {
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(upload.status).toBe(303);
    const location = upload.headers.location ?? '';
    const id = /\/admin\/contacts\/import\/([0-9a-f]{24})\?/.exec(location)?.[1] ?? '';
    expect(id).not.toBe('');
    const preview = await signedIn('GET', `/admin/contacts/import/${id}`, { query: { list: 'presse' } });
    expect(preview.status, preview.body).toBe(200);
    expect(preview.body).toContain('José');
    expect(preview.body).toMatch(/line 3, column “Courriel”: invalid email address &quot;nope&quot;/);
    expect(preview.body).toContain('id="column-1"');
    const confirm = form({
      csrf,
      list: 'presse',
      step: 'confirm',
      'column-0': 'firstName',
      'column-1': 'email',
    });
    const [first, second] = [
      await signedIn('POST', `/admin/contacts/import/${id}`, confirm),
      await signedIn('POST', `/admin/contacts/import/${id}`, confirm),
    ];
    expect(first.status).toBe(200);
    expect(first.body).not.toContain('imported already');
    expect(second.status).toBe(200);
    expect(second.body).toContain('imported already');
    expect((await searchContacts(deps, {})).all).toBe(1);
  });

  it('takes CSV text pasted in a plain urlencoded form, and speaks French when asked', async () => {
    const upload = await signedIn('POST', '/admin/contacts/import', {
      ...form({ csrf, list: 'presse', tags: 'salon', csv: 'courriel;prénom\nzoe@example.org;Zoé\n' }),
    });
    expect(upload.status).toBe(303);
    const preview = await signedIn('GET', upload.headers.location?.split('?')[0] ?? '', {
      query: { list: 'presse', tags: 'salon' },
      headers: { 'accept-language': 'fr-FR' },
    });
    expect(preview.body).toContain('<h1>Vérifier l’import</h1>');
    expect(preview.body).toContain('pasted.csv');
    expect(preview.body).toMatch(/Ajoutés : 1/);
    const empty = await signedIn('POST', '/admin/contacts/import', form({ csrf, list: 'presse', csv: '' }));
    expect(empty.status).toBe(422);
    expect(empty.body).toContain('No file: choose a CSV file');
  });

  it('shows the preview again, saying why, when a confirmation is refused', async () => {
    const upload = await signedIn(
      'POST',
      '/admin/contacts/import',
      form({ csrf, list: 'presse', csv: 'email;prénom\n' }),
    );
    const to = upload.headers.location?.split('?')[0] ?? '';
    const confirm = await signedIn('POST', to, form({ csrf, list: 'presse', step: 'confirm' }));
    expect(confirm.status).toBe(422);
    expect(confirm.body).toContain('id="preview-form"');
    expect(confirm.body).toContain('has a header and no contact rows');
    const tag = await signedIn(
      'POST',
      to,
      form({ csrf, list: 'presse', tags: 'y'.repeat(60), step: 'check' }),
    );
    expect(tag.status).toBe(422);
    expect(tag.body).toContain('a tag has 60 characters');
    expect(tag.body).toContain(`value="${'y'.repeat(60)}"`);
    expect((await searchContacts(deps, {})).all).toBe(0);
  });

  it('answers 503 without a contacts setup, saying why', async () => {
    const { contacts: _none, ...without } = admin;
    const page = await handleAdminRequest(req('GET', '/admin/contacts', { headers: { cookie } }), without);
    expect(page.status).toBe(503);
    expect(page.body).toContain('pressroom serve');
    const api = await handleAdminRequest(
      req('GET', '/admin/api/contacts', { headers: { authorization: `Bearer ${token}` } }),
      without,
    );
    expect(api.status).toBe(503);
  });

  it('tells an empty file chosen from no file chosen', async () => {
    const upload = (filename: string) =>
      signedIn('POST', '/admin/contacts/import', {
        headers: { 'content-type': 'multipart/form-data; boundary=----pressroom' },
        body: Buffer.from(
          `------pressroom\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n${csrf}\r\n------pressroom\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n------pressroom--\r\n`,
        ),
      });
    const empty = await upload('vide.csv');
    expect(empty.status).toBe(422);
    expect(empty.body).toContain('vide.csv is empty: choose the CSV file of your contacts');
    const none = await upload('');
    expect(none.status).toBe(422);
    expect(none.body).toContain('No file: choose a CSV file');
  });

  it('refuses an upload over its limit with the size and the limit, before anything reads it', async () => {
    const response = await signedIn('POST', '/admin/contacts/import', {
      headers: {
        'content-type': 'multipart/form-data; boundary=x',
        'content-length': String(importMaxBytes + 10),
      },
      body: Buffer.alloc(importMaxBytes + 1),
    });
    expect(response.status).toBe(413);
    expect(response.body).toContain(
      `${importMaxBytes + 10} bytes, more than the limit of ${importMaxBytes} bytes`,
    );
  });

  it('answers the API: search, upload, preview and confirm with a Bearer token', async () => {
    const bearer = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const api = (method: string, path: string, body?: unknown, query: Record<string, string> = {}) =>
      handleAdminRequest(
        req(method, path, {
          headers: bearer,
          query,
          ...(body !== undefined && { body: JSON.stringify(body) }),
        }),
        admin,
      );
    const staged = await api('POST', '/admin/api/contacts/imports', {
      name: 'x.csv',
      csvBase64: latin1('email;prénom\nzoe@example.org;Zoé\n').toString('base64'),
    });
    expect(staged.status).toBe(201);
    const { id } = JSON.parse(staged.body) as { id: string };
    const preview = await api('POST', `/admin/api/contacts/imports/${id}/preview`, { list: 'presse' });
    expect(JSON.parse(preview.body).upload.rows[0].cells).toEqual(['zoe@example.org', 'Zoé']);
    const done = await api('POST', `/admin/api/contacts/imports/${id}/confirm`, { list: 'presse' });
    expect(JSON.parse(done.body)).toMatchObject({ already: false, report: { added: 1 } });
    const again = await api('POST', `/admin/api/contacts/imports/${id}/confirm`, { list: 'presse' });
    expect(JSON.parse(again.body)).toMatchObject({ already: true });
    const found = JSON.parse((await api('GET', '/admin/api/contacts', undefined, { q: 'zoe' })).body);
    expect(found.contacts[0].name).toBe('Zoé');
    expect((await api('POST', '/admin/api/contacts/imports', { csv: 'a', csvBase64: 'b' })).status).toBe(400);
    const paths = Object.keys((openApiDocument().paths ?? {}) as object);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/admin/api/contacts',
        '/admin/api/contacts/{id}',
        '/admin/api/contacts/{id}/erase',
        '/admin/api/contacts/imports/{id}/confirm',
      ]),
    );
  });
});
