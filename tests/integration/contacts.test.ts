import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import {
  eraseContact,
  exportContacts,
  listContacts,
  resolveAudience,
} from '../../lambdas/core/contacts/audience.ts';
import {
  applyComplaint,
  applyDelivery,
  applyHardBounce,
  applySoftBounce,
  applyUnsubscribe,
  unsubscribeAddress,
} from '../../lambdas/core/contacts/feedback.ts';
import { type ImportOptions, importContacts } from '../../lambdas/core/contacts/import.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import {
  InvalidTokenError,
  signUnsubscribeToken,
  verifyUnsubscribeToken,
} from '../../lambdas/core/contacts/tokens.ts';
import { InvalidInputError } from '../../lambdas/core/errors.ts';
import { chunked, contactsKeys, folderStores } from '../support/contacts.ts';

const keys = contactsKeys;
const now = new Date('2026-03-01T10:00:00Z');
const freshStore = folderStores('pressroom-contacts-');

/** Encodes text as Windows-1252, as French Excel saves "CSV (séparateur: point-virgule)". */
function windows1252(text: string): Uint8Array {
  const special: Record<string, number> = { '’': 0x92, œ: 0x9c, '€': 0x80, '…': 0x85, Œ: 0x8c };
  return Uint8Array.from(
    [...text].map((c) => special[c] ?? (c.charCodeAt(0) < 256 ? c.charCodeAt(0) : 0x3f)),
  );
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const options = (extra: Partial<ImportOptions> = {}): ImportOptions => ({
  list: 'presse',
  source: 'import:test.csv',
  now,
  ...extra,
});

async function importText(store: FolderObjectStore, data: Uint8Array, extra: Partial<ImportOptions> = {}) {
  return importContacts(chunked(data), 'test.csv', { store, keys }, options(extra));
}

async function audience(store: FolderObjectStore, filter: Parameters<typeof resolveAudience>[1]) {
  const emails = [];
  for await (const c of resolveAudience(store, filter)) emails.push(c.email);
  return emails.sort();
}

describe('importContacts', () => {
  it('reads a French Excel export: semicolons, Windows-1252, quoted new lines, duplicates, bad rows', async () => {
    const store = await freshStore();
    const file = windows1252(
      [
        'Prénom;Nom;Adresse électronique;Société;Fonction;Étiquettes;',
        'Zoé;L’Hôte;zoe.lhote@Exemple-Média.example.com;"Le Cœur; l’hebdo";"Rédactrice\nen chef";culture;',
        '',
        'Jean;Dupont;pas-une-adresse;Radio Cité;;;',
        ';;;;;;',
        'Zoé;L’Hôte-Martin;ZOE.LHOTE@exemple-média.example.com;;;société, numérique;extra;columns',
        'Ana;Œuvre;  ana@example.org  ;"Journal ""Le Quotidien""";Pigiste;;',
        'Sans;Adresse;;X;;;',
      ].join('\r\n'),
    );
    const report = await importText(store, file);
    expect(report).toMatchObject({
      encoding: 'windows-1252',
      delimiter: ';',
      added: 2,
      updated: 0,
      unchanged: 0,
      suppressed: 0,
    });
    expect(report.rejected).toEqual([
      { line: 5, column: 'Adresse électronique', reason: 'invalid email address "pas-une-adresse"' },
      { line: 9, reason: 'no email address' },
    ]);
    const zoe = await findContact(store, keys, 'zoe.lhote@exemple-média.example.com');
    expect(zoe.contact).toMatchObject({
      // The same mailbox in another case: one contact, shown as last written.
      email: 'ZOE.LHOTE@exemple-média.example.com',
      firstName: 'Zoé',
      lastName: 'L’Hôte-Martin',
      organization: 'Le Cœur; l’hebdo',
      role: 'Rédactrice\nen chef',
      tags: ['culture', 'numérique', 'société'],
      lists: { presse: { addedAt: now.toISOString(), source: 'import:test.csv' } },
    });
    expect((await findContact(store, keys, 'ANA@EXAMPLE.ORG')).contact).toMatchObject({
      email: 'ana@example.org',
      lastName: 'Œuvre',
      organization: 'Journal "Le Quotidien"',
    });
  });

  it('reads UTF-8 with a BOM, commas and English headers; then tabs', async () => {
    const store = await freshStore();
    const csv = utf8(
      '\uFEFFEmail,First name,Last name,Organization,Language,Tags\r\nmia@example.org,Mia,Wong,Daily News,en,"tech, policy"\r\n',
    );
    expect(await importText(store, csv)).toMatchObject({ encoding: 'utf-8', delimiter: ',', added: 1 });
    const tabs = utf8('courriel\tprénom\tlangue\nmia@example.org\tMia\ten\nbob@example.org\tBob\tfr\n');
    expect(await importText(store, tabs, { tags: ['Agenda'] })).toMatchObject({
      delimiter: '\t',
      added: 1,
      updated: 1,
    });
    expect((await findContact(store, keys, 'mia@example.org')).contact?.tags).toEqual([
      'agenda',
      'policy',
      'tech',
    ]);
  });

  it('reports unchanged and updated contacts on a re-import, and --map handles other headers', async () => {
    const store = await freshStore();
    const csv = 'Mail;Nom complet\na@example.org;Alice\n';
    expect(await importText(store, utf8(csv), { map: { 'Nom complet': 'firstName' } })).toMatchObject({
      added: 1,
    });
    expect(await importText(store, utf8(csv), { map: { 'Nom complet': 'firstName' } })).toMatchObject({
      unchanged: 1,
      added: 0,
    });
    expect(
      await importText(store, utf8('Mail;Nom complet\na@example.org;Alicia\n'), {
        map: { 'Nom complet': 'firstName' },
      }),
    ).toMatchObject({
      updated: 1,
    });
  });

  it('refuses a file without an email column, naming the headers found, and writes nothing', async () => {
    const store = await freshStore();
    const error = await importText(store, utf8('Nom;Téléphone\nDupont;0102030405\n')).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain('no email column among the headers found: "Nom", "Téléphone"');
    expect(await readdir(store.root).catch(() => [])).toEqual([]);
  });

  it('writes nothing on a dry run but reports what would change', async () => {
    const store = await freshStore();
    const report = await importText(store, utf8('email\na@example.org\nb@example.org\n'), { dryRun: true });
    expect(report).toMatchObject({ added: 2, dryRun: true });
    expect((await readdir(store.root).catch(() => [])).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('never resubscribes a suppressed address, and never brings back an erased one', async () => {
    const store = await freshStore();
    const csv = utf8(
      'email;prénom\nleft@example.org;Left\nbounced@example.org;Bounce\nerased@example.org;Gone\nstays@example.org;Stay\n',
    );
    await importText(store, csv);
    await unsubscribeAddress(store, keys, 'LEFT@example.org', now, 'presse');
    await applyHardBounce(store, keys, 'bounced@example.org', now);
    await eraseContact(store, keys, 'erased@example.org', now);
    const again = await importText(store, csv);
    expect(again).toMatchObject({ suppressed: 3, unchanged: 1, added: 0 });
    expect(await audience(store, { list: 'presse' })).toEqual(['stays@example.org']);
    const erased = await findContact(store, keys, 'erased@example.org');
    expect(erased.contact).toBeUndefined();
    expect(erased.suppression).toEqual({ id: erased.id, all: { reason: 'erased', at: now.toISOString() } });
    expect(JSON.stringify(erased)).not.toContain('erased@example.org');
  });

  it('merges a repeated address across a file of many shards', async () => {
    const store = await freshStore();
    const lines = ['email;tags'];
    for (let i = 0; i < 250; i++) lines.push(`p${i}@example.org;t${i % 3}`);
    lines.push('P7@EXAMPLE.ORG;extra');
    const report = await importText(store, utf8(lines.join('\n')));
    expect(report).toMatchObject({ added: 250, updated: 0, rows: 251 });
    expect((await findContact(store, keys, 'p7@example.org')).contact?.tags).toEqual(['extra', 't1']);
  });

  it('keeps a re-import idempotent when the same address comes in another case', async () => {
    const store = await freshStore();
    const csv = utf8('email\ncamille@example.org\nleo@example.org\nCAMILLE@example.org\n');
    expect(await importText(store, csv)).toMatchObject({ added: 2 });
    for (let i = 0; i < 2; i++) {
      expect(await importText(store, csv)).toMatchObject({ added: 0, updated: 0, unchanged: 2 });
    }
    // Shown as the latest row wrote it; another file's spelling then replaces it.
    expect((await findContact(store, keys, 'Camille@example.org')).contact?.email).toBe(
      'CAMILLE@example.org',
    );
    expect(await importText(store, utf8('email\nCamille@Example.org\n'))).toMatchObject({ updated: 1 });
    expect((await findContact(store, keys, 'camille@example.org')).contact?.email).toBe(
      'Camille@example.org',
    );
  });

  it('loses nothing when an import and unsubscribes run at the same time', async () => {
    const store = await freshStore();
    const lines = ['email'];
    for (let i = 0; i < 600; i++) lines.push(`r${i}@example.org`);
    await Promise.all([
      importText(store, utf8(lines.join('\n'))),
      ...Array.from({ length: 30 }, (_, i) =>
        unsubscribeAddress(store, keys, `r${i * 20}@example.org`, now, 'presse'),
      ),
    ]);
    let contacts = 0;
    for await (const _ of listContacts(store, { list: 'presse' })) contacts++;
    expect(contacts).toBe(600);
    expect((await audience(store, { list: 'presse' })).length).toBe(570);
  });

  it('round-trips an export, with formula-like cells neutralised', async () => {
    const store = await freshStore();
    await importText(
      store,
      utf8(
        'email;organisation;fonction;tags\nx@example.org;=HYPERLINK("http://evil.example");+33 1 02;a, b\ny@example.org;@ Média;-;\n',
      ),
    );
    let csv = '';
    for await (const chunk of exportContacts(store, { list: 'presse' })) csv += chunk;
    expect(
      csv.startsWith(
        '\uFEFFemail,first name,last name,organisation,outlet,role,beats,language,phone,notes,tags,do not contact,status\n',
      ),
    ).toBe(true);
    expect(csv).toContain(
      `x@example.org,,,"'=HYPERLINK(""http://evil.example"")",,'+33 1 02,,,,,"a, b",,subscribed`,
    );
    expect(csv).toContain("y@example.org,,,'@ Média,,'-,,,,,,,subscribed");
    const other = await freshStore();
    await importText(other, utf8(csv));
    const report = await importText(other, utf8(csv));
    expect(report).toMatchObject({ unchanged: 2 });
    expect((await findContact(other, keys, 'x@example.org')).contact).toMatchObject({
      organization: '=HYPERLINK("http://evil.example")',
      role: '+33 1 02',
      tags: ['a', 'b'],
    });
  });
});

describe('audience resolution', () => {
  it('filters by list, any or all tags, and suppressions', async () => {
    const store = await freshStore();
    await importText(
      store,
      utf8(
        'email;tags\na@example.org;radio, national\nb@example.org;radio\nc@example.org;tv\nd@example.org;\n',
      ),
    );
    await importText(store, utf8('email\nnews@example.org\na@example.org\n'), { list: 'newsletter' });
    await unsubscribeAddress(store, keys, 'b@example.org', now, 'newsletter');
    expect(await audience(store, { list: 'presse' })).toEqual([
      'a@example.org',
      'b@example.org',
      'c@example.org',
      'd@example.org',
    ]);
    expect(await audience(store, { list: 'presse', tags: ['radio', 'tv'] })).toEqual([
      'a@example.org',
      'b@example.org',
      'c@example.org',
    ]);
    expect(await audience(store, { list: 'presse', tags: ['radio', 'national'], tagsMode: 'all' })).toEqual([
      'a@example.org',
    ]);
    expect(await audience(store, { list: 'newsletter' })).toEqual(['a@example.org', 'news@example.org']);
    await applyComplaint(store, keys, 'a@example.org', now);
    expect(await audience(store, { list: 'newsletter' })).toEqual(['news@example.org']);
    expect(await audience(store, { list: 'presse', tags: ['radio'] })).toEqual(['b@example.org']);
  });
});

describe('unsubscribe tokens', () => {
  const token = signUnsubscribeToken(keys, {
    contact: keys.idOf('a@example.org'),
    list: 'presse',
    campaign: 'etude-2021',
  });

  it('carry the contact id, list and campaign, never the address', () => {
    expect(verifyUnsubscribeToken(keys, token)).toEqual({
      contact: keys.idOf('a@example.org'),
      list: 'presse',
      campaign: 'etude-2021',
    });
    const payload = Buffer.from(token.split('.')[1] ?? '', 'base64url').toString();
    expect(payload).not.toContain('@');
    expect(token).not.toContain('example.org');
  });

  it('cannot be forged or altered', () => {
    const [v, payload, signature] = token.split('.') as [string, string, string];
    const otherList = Buffer.from(
      JSON.stringify([keys.idOf('a@example.org'), 'newsletter', 'etude-2021']),
    ).toString('base64url');
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'AB' : 'AA');
    for (const bad of [
      `${v}.${otherList}.${signature}`,
      `${v}.${payload}.${flipped}`,
      signUnsubscribeToken(
        contactKeys('another-secret-of-at-least-32-chars!'),
        verifyUnsubscribeToken(keys, token),
      ),
      'u1.e30.',
      'garbage',
      '',
    ]) {
      expect(() => verifyUnsubscribeToken(keys, bad), bad).toThrow(InvalidTokenError);
    }
  });

  it('unsubscribe from that list only, once; a tampered token changes nothing', async () => {
    const store = await freshStore();
    await importText(store, utf8('email\na@example.org\n'));
    await importText(store, utf8('email\na@example.org\n'), { list: 'newsletter' });
    const tampered = `${token.slice(0, -3)}xyz`;
    await expect(applyUnsubscribe(store, keys, tampered, now)).rejects.toBeInstanceOf(InvalidTokenError);
    expect(await audience(store, { list: 'presse' })).toEqual(['a@example.org']);
    expect(await applyUnsubscribe(store, keys, token, now)).toMatchObject({ list: 'presse', already: false });
    expect(await applyUnsubscribe(store, keys, token, now)).toMatchObject({ already: true });
    expect(await audience(store, { list: 'presse' })).toEqual([]);
    expect(await audience(store, { list: 'newsletter' })).toEqual(['a@example.org']);
  });
});

describe('provider feedback', () => {
  it('suppresses after three soft bounces in a row, counts each event once, and a delivery resets the run', async () => {
    const store = await freshStore();
    await importText(store, utf8('email\nsoft@example.org\n'));
    await applySoftBounce(store, keys, 'soft@example.org', now, 'evt-1');
    await applySoftBounce(store, keys, 'soft@example.org', now, 'evt-1');
    await applySoftBounce(store, keys, 'soft@example.org', now, 'evt-2');
    expect((await findContact(store, keys, 'soft@example.org')).suppression?.softBounces?.count).toBe(2);
    await applyDelivery(store, keys, 'soft@example.org');
    const reset = (await findContact(store, keys, 'soft@example.org')).suppression;
    expect(reset?.softBounces).toBeUndefined();
    expect(reset?.all).toBeUndefined();
    for (const id of ['evt-3', 'evt-4']) await applySoftBounce(store, keys, 'soft@example.org', now, id);
    expect(await audience(store, { list: 'presse' })).toEqual(['soft@example.org']);
    await applySoftBounce(store, keys, 'soft@example.org', now, 'evt-5');
    expect((await findContact(store, keys, 'soft@example.org')).suppression?.all?.reason).toBe(
      'soft-bounces',
    );
    expect(await audience(store, { list: 'presse' })).toEqual([]);
  });

  it('keeps the first reason when a hard bounce and a complaint arrive, whatever the order or repeats', async () => {
    const store = await freshStore();
    await applyHardBounce(store, keys, 'h@example.org', now, 'e1');
    await applyComplaint(store, keys, 'h@example.org', new Date('2026-03-02T00:00:00Z'), 'e2');
    await applyHardBounce(store, keys, 'h@example.org', now, 'e1');
    const { suppression } = await findContact(store, keys, 'h@example.org');
    expect(suppression?.all).toEqual({ reason: 'hard-bounce', at: now.toISOString() });
    expect(suppression?.events).toEqual(['e1', 'e2']);
  });
});
