import { describe, expect, it } from 'vitest';
import type { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { type AudienceFilter, resolveAudience } from '../../lambdas/core/contacts/audience.ts';
import { type ImportOptions, importContacts } from '../../lambdas/core/contacts/import.ts';
import { combineContacts } from '../../lambdas/core/contacts/merge.ts';
import type { Contact } from '../../lambdas/core/contacts/model.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { chunked, folderStores, contactsKeys as keys } from '../support/contacts.ts';
import { memoryFiles } from '../support/memory-files.ts';

/** Press contact profiles: what an import reads into them, and how a re-import treats them. */

const now = new Date('2026-03-01T10:00:00Z');
const later = new Date('2026-03-08T10:00:00Z');
const freshStore = folderStores('pressroom-profiles-');

function importCsv(store: FolderObjectStore, csv: string, extra: Partial<ImportOptions> = {}) {
  return importContacts(
    chunked(csv),
    'presse.csv',
    { store, keys },
    { list: 'presse', source: 'import:presse.csv', now, ...extra },
  );
}

const contactOf = async (store: FolderObjectStore, email: string) =>
  (await findContact(store, keys, email)).contact;

const frenchList = [
  'Prénom;Nom;Courriel;Média;Fonction;Rubrique;Langue;Téléphone;Portable;Notes;Ne pas contacter',
  'Camille;Martin;camille@ouest.example;Quotidien de l’Ouest;Rédactrice en chef;"Économie; Numérique";fr;+33 2 99 00 00 01;06 12 34 56 78;"Préfère les appels\nle matin";',
  'Julien;Lefèvre;julien@radio.example;Radio Cité;Journaliste;Culture;Français;;;;oui',
].join('\n');

describe('importing press contact profiles', () => {
  it('reads French headers into outlet, role, beats, language, phone, notes and do-not-contact', async () => {
    const store = await freshStore();
    const report = await importCsv(store, frenchList);
    expect(report).toMatchObject({ added: 2, rejected: [] });
    expect(await contactOf(store, 'camille@ouest.example')).toMatchObject({
      outlet: 'Quotidien de l’Ouest',
      role: 'Rédactrice en chef',
      beats: ['Économie', 'Numérique'],
      language: 'fr',
      phone: '+33 2 99 00 00 01 / 06 12 34 56 78',
      notes: 'Préfère les appels\nle matin',
    });
    expect((await contactOf(store, 'camille@ouest.example'))?.doNotContact).toBeUndefined();
    expect(await contactOf(store, 'julien@radio.example')).toMatchObject({
      language: 'fr',
      doNotContact: { at: now.toISOString(), source: 'import:presse.csv' },
    });
  });

  it('reads English headers the same way', async () => {
    const store = await freshStore();
    const csv =
      'Email,Outlet,Job title,Beats,Language,Phone,Notes,Do not contact\n' +
      'mia@daily.example,Daily News,Reporter,"tech; policy",en-gb,+44 20 7946 0000,Met at the fair,no\n';
    expect(await importCsv(store, csv)).toMatchObject({ added: 1, rejected: [] });
    expect(await contactOf(store, 'mia@daily.example')).toMatchObject({
      outlet: 'Daily News',
      role: 'Reporter',
      beats: ['tech', 'policy'],
      language: 'en-GB',
      phone: '+44 20 7946 0000',
      notes: 'Met at the fair',
    });
  });

  it('rejects bad values with their line, column and value, and takes the other rows', async () => {
    const store = await freshStore();
    const csv = [
      'Courriel;Langue;Téléphone;Ne pas contacter;Rubrique',
      'ok@example.org;fr;01 23 45 67 89;;Santé',
      'lang@example.org;klingon;;;',
      'tel@example.org;fr;"01 23\n45";;',
      'dnc@example.org;fr;;peut-être;',
      `beat@example.org;fr;;;${'b'.repeat(101)}`,
      'ctrl@example.org;fr;01\u000723;;',
    ].join('\n');
    const report = await importCsv(store, csv);
    expect(report.added).toBe(1);
    expect(report.rejected).toEqual([
      {
        line: 3,
        column: 'Langue',
        reason: expect.stringMatching(/^not a language pressroom knows: .* \(value: "klingon"\)$/),
      },
      {
        line: 4,
        column: 'Téléphone',
        reason: expect.stringMatching(/^a phone number is one line.* \(value: "01 23\\n45"\)$/),
      },
      {
        line: 6,
        column: 'Ne pas contacter',
        reason: expect.stringMatching(/^do-not-contact is .* \(value: "peut-être"\)$/),
      },
      { line: 7, column: 'Rubrique', reason: expect.stringContaining('a beat has 101 characters') },
      { line: 8, column: 'Téléphone', reason: expect.stringContaining('control character U+0007') },
    ]);
  });

  it('keeps profile fields a re-import leaves out (no column, empty cell), replaces those it gives', async () => {
    const store = await freshStore();
    await importCsv(store, frenchList);
    // No phone, notes nor beats column; an empty role; a new outlet.
    const again = 'Courriel;Média;Fonction\ncamille@ouest.example;Ouest Matin;\n';
    expect(await importCsv(store, again, { now: later })).toMatchObject({ updated: 1 });
    expect(await contactOf(store, 'camille@ouest.example')).toMatchObject({
      outlet: 'Ouest Matin',
      role: 'Rédactrice en chef',
      beats: ['Économie', 'Numérique'],
      phone: '+33 2 99 00 00 01 / 06 12 34 56 78',
      notes: 'Préfère les appels\nle matin',
      language: 'fr',
    });
    // Beats given again replace the person's beats (tags add up instead).
    await importCsv(store, 'Courriel;Rubrique\ncamille@ouest.example;Santé\n', { now: later });
    expect((await contactOf(store, 'camille@ouest.example'))?.beats).toEqual(['Santé']);
    // The same file twice: nothing changes.
    expect(await importCsv(store, 'Courriel;Rubrique\ncamille@ouest.example;santé\n')).toMatchObject({
      updated: 1,
    });
    expect(await importCsv(store, 'Courriel;Rubrique\ncamille@ouest.example;santé\n')).toMatchObject({
      unchanged: 1,
    });
  });

  it('lets an import set do-not-contact but never lift it', async () => {
    const store = await freshStore();
    await importCsv(store, frenchList);
    const lift = 'Courriel;Ne pas contacter\njulien@radio.example;non\ncamille@ouest.example;non\n';
    expect(await importCsv(store, lift, { now: later })).toMatchObject({ unchanged: 2 });
    expect((await contactOf(store, 'julien@radio.example'))?.doNotContact).toEqual({
      at: now.toISOString(),
      source: 'import:presse.csv',
    });
    await importCsv(store, 'Courriel;Ne pas contacter\ncamille@ouest.example;x\n', { now: later });
    expect((await contactOf(store, 'camille@ouest.example'))?.doNotContact?.at).toBe(later.toISOString());
  });

  it('adds up the beats of one address given twice in a file; do-not-contact in one row holds', async () => {
    const store = await freshStore();
    const csv = 'email;rubrique;dnc\na@example.org;Économie;\nA@example.org;Santé, economie;oui\n';
    expect(await importCsv(store, csv)).toMatchObject({ added: 1 });
    const a = await contactOf(store, 'a@example.org');
    expect(a?.beats).toEqual(['Économie', 'Santé']);
    expect(a?.doNotContact).toBeDefined();
  });
});

describe('contacts merge with profiles', () => {
  it('keeps the newest value of each profile field, and do-not-contact from any form', () => {
    const base = { tags: [], lists: {}, createdAt: now.toISOString() };
    const older: Contact = {
      ...base,
      id: 'a',
      email: 'jose@exämple.fr',
      outlet: 'Ancien',
      phone: '01',
      beats: ['Culture'],
      doNotContact: { at: now.toISOString(), source: 'cli' },
      updatedAt: now.toISOString(),
    };
    const newer: Contact = {
      ...base,
      id: 'b',
      email: 'jose@xn--exmple-cua.fr',
      outlet: 'Nouveau',
      updatedAt: later.toISOString(),
    };
    expect(combineContacts('c', [newer, older])).toMatchObject({
      outlet: 'Nouveau',
      phone: '01',
      beats: ['Culture'],
      doNotContact: { at: now.toISOString(), source: 'cli' },
    });
    expect(combineContacts('c', [newer]).doNotContact).toBeUndefined();
  });
});

describe('audiences by beat, outlet and language', () => {
  const press = [
    'email;média;société;rubrique;langue;ne pas contacter;tags',
    'eco@example.org;Quotidien de l’Ouest;;Économie;fr;;national',
    'num@example.org;Radio Cité;;Numérique, Économie;fr-BE;;radio',
    'culture@example.org;Radio Cité;;Culture;en;;radio',
    'dnc@example.org;L’Hebdo local;;Économie;fr;oui;national',
    // Imported before outlets existed: the "Média" is its organisation.
    'old@example.org;;L’Hebdo local;;;;',
  ].join('\n');

  async function audienceOf(store: FolderObjectStore, selectors: Partial<AudienceFilter>) {
    const excluded = { doNotContact: 0 };
    const emails: string[] = [];
    for await (const c of resolveAudience(store, { list: 'presse', ...selectors }, [], excluded))
      emails.push(c.email);
    return { emails: emails.sort(), doNotContact: excluded.doNotContact };
  }

  it('selects by beat, outlet and language, each narrowing the others; never a do-not-contact person', async () => {
    const store = await freshStore();
    expect(await importCsv(store, press)).toMatchObject({ added: 5, rejected: [] });
    expect(await audienceOf(store, {})).toEqual({
      emails: ['culture@example.org', 'eco@example.org', 'num@example.org', 'old@example.org'],
      doNotContact: 1,
    });
    expect(await audienceOf(store, { beats: ['economie'] })).toEqual({
      emails: ['eco@example.org', 'num@example.org'],
      doNotContact: 1,
    });
    expect(await audienceOf(store, { outlets: ['radio cite'] })).toEqual({
      emails: ['culture@example.org', 'num@example.org'],
      doNotContact: 0,
    });
    // `fr` takes in `fr-BE`; contacts without a language are not selected by a language.
    expect(await audienceOf(store, { languages: ['fr'] })).toEqual({
      emails: ['eco@example.org', 'num@example.org'],
      doNotContact: 1,
    });
    expect(await audienceOf(store, { languages: ['fr-BE'] })).toEqual({
      emails: ['num@example.org'],
      doNotContact: 0,
    });
    expect(
      await audienceOf(store, { beats: ['Économie'], outlets: ['Radio Cité'], languages: ['fr'] }),
    ).toEqual({
      emails: ['num@example.org'],
      doNotContact: 0,
    });
    // An outlet matches the organisation of a contact that has no outlet.
    expect(await audienceOf(store, { outlets: ['l’hebdo local'] })).toEqual({
      emails: ['old@example.org'],
      doNotContact: 1,
    });
    // Tags and selectors together.
    expect(await audienceOf(store, { tags: ['radio'], beats: ['culture'] })).toEqual({
      emails: ['culture@example.org'],
      doNotContact: 0,
    });
  });

  const campaignFile = (audience: string) =>
    loadCampaignFile(
      'campaigns/c.yaml',
      memoryFiles({
        'campaigns/c.yaml': `name: c\npublication: p\naudience:\n  list: presse\n${audience}\nfrom: "A <a@example.org>"\n`,
      }),
    );

  it('reads the selectors of a campaign file, languages as tags', async () => {
    const definition = await campaignFile(
      '  beats: [Numérique, Économie]\n  outlets: ["Radio Cité"]\n  languages: [FR, fr_be]',
    );
    expect(definition.audience).toEqual({
      lists: ['presse'],
      tagsMode: 'any',
      beats: ['Numérique', 'Économie'],
      outlets: ['Radio Cité'],
      languages: ['fr', 'fr-BE'],
    });
  });

  it('refuses an unknown language or an empty selector, with the file, line and value', async () => {
    const bad = await campaignFile('  languages: [fr, klingon]').catch((e: unknown) => e);
    expect((bad as Error).message).toMatch(
      /campaigns\/c\.yaml:5:\d+ audience\.languages\[1\]: not a language pressroom knows: .*\(value: "klingon"\)/,
    );
    const empty = await campaignFile('  beats: []').catch((e: unknown) => e);
    expect((empty as Error).message).toContain('audience.beats: name at least one beat');
  });
});
