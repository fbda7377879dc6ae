import { describe, expect, it } from 'vitest';
import { contactFields } from '../../lambdas/core/contacts/fields.ts';
import {
  addProfileValue,
  fieldOfHeader,
  headerAliases,
  languageMatches,
  languageTag,
  matchKey,
  type ProfileValues,
  readYesNo,
  splitBeats,
} from '../../lambdas/core/contacts/profile.ts';
import { limits } from '../../lambdas/core/limits.ts';

describe('column headers', () => {
  it.each([
    ['Média', 'outlet'],
    ['MEDIA', 'outlet'],
    ['Outlet', 'outlet'],
    ['Publication', 'outlet'],
    ['Titre de presse', 'outlet'],
    ['Fonction', 'role'],
    ['Job title', 'role'],
    ['Title', 'role'],
    ['Rubrique', 'beats'],
    ['Rubriques', 'beats'],
    ['Beat(s)', 'beats'],
    ['Topics', 'beats'],
    ['Langue', 'language'],
    ['Language', 'language'],
    ['Téléphone', 'phone'],
    ['TÉLÉPHONE ', 'phone'],
    ['Tél.', 'phone'],
    ['Mobile', 'phone'],
    ['Phone', 'phone'],
    ['Notes', 'notes'],
    ['Commentaires', 'notes'],
    ['Ne pas contacter', 'doNotContact'],
    ['ne  pas   CONTACTER', 'doNotContact'],
    ['Do not contact', 'doNotContact'],
    ['Do-Not-Contact', 'doNotContact'],
    ['Société', 'organization'],
    ['Courriel', 'email'],
    ['Prénom', 'firstName'],
  ])('%s is %s, whatever the case, accents and spaces', (header, field) => {
    expect(fieldOfHeader(header)).toBe(field);
  });

  it('leaves unknown headers unmapped, and gives every field at least one English and one French name', () => {
    expect(fieldOfHeader('Nom complet')).toBeUndefined();
    expect(fieldOfHeader('')).toBeUndefined();
    for (const field of contactFields) expect(headerAliases[field].length).toBeGreaterThan(1);
    // No header means two fields.
    const seen = new Map<string, string>();
    for (const [field, names] of Object.entries(headerAliases))
      for (const name of names) {
        const key = name.toLowerCase();
        expect(seen.get(key) ?? field, key).toBe(field);
        seen.set(key, field);
      }
  });
});

describe('profile values', () => {
  it.each([
    ['fr', 'fr'],
    ['FR', 'fr'],
    ['fr_be', 'fr-BE'],
    ['fr-ca', 'fr-CA'],
    ['zh-hant-tw', 'zh-Hant-TW'],
    ['Français', 'fr'],
    ['francais', 'fr'],
    ['English', 'en'],
    ['Anglais', 'en'],
    ['allemand', 'de'],
  ])('reads the language %s as %s', (value, tag) => {
    expect(languageTag(value)).toBe(tag);
  });

  it.each(['xx', 'klingon', 'f', 'fr-', '=fr', 'fr en', 'x-private', 'fr-BE-toolongsubtag'])(
    'refuses the language %s',
    (value) => {
      expect(languageTag(value)).toBeUndefined();
      const row: ProfileValues = {};
      expect(addProfileValue(row, 'language', value)).toContain('not a language pressroom knows');
      expect(row.language).toBeUndefined();
    },
  );

  it('matches a language range as BCP 47 filtering does', () => {
    expect(languageMatches('fr-BE', 'fr')).toBe(true);
    expect(languageMatches('fr', 'fr')).toBe(true);
    expect(languageMatches('fr', 'fr-BE')).toBe(false);
    expect(languageMatches('fr-BE', 'FR-be')).toBe(true);
    expect(languageMatches('fro', 'fr')).toBe(false);
    expect(languageMatches(undefined, 'fr')).toBe(false);
  });

  it('splits beats on ; , and |, each once whatever its case or accents, kept as written', () => {
    expect(splitBeats('Économie; numérique, Santé | economie ;; ')).toEqual([
      'Économie',
      'numérique',
      'Santé',
    ]);
    const row: ProfileValues = {};
    expect(addProfileValue(row, 'beats', 'Économie; Numérique')).toBeUndefined();
    expect(addProfileValue(row, 'beats', 'numérique, Territoires')).toBeUndefined();
    expect(row.beats).toEqual(['Économie', 'Numérique', 'Territoires']);
    expect(addProfileValue({}, 'beats', 'b'.repeat(limits.contactBeat + 1))).toContain(
      `a beat has ${limits.contactBeat + 1} characters`,
    );
    const many = Array.from({ length: limits.contactBeats + 1 }, (_, i) => `beat ${i}`).join(';');
    expect(addProfileValue({}, 'beats', many)).toContain(`more than the limit of ${limits.contactBeats}`);
  });

  it('compares outlets and beats without case, accents, spaces or punctuation', () => {
    expect(matchKey('L’Hebdo local')).toBe(matchKey("l'hebdo  LOCAL"));
    expect(matchKey('Économie')).toBe(matchKey('economie'));
    expect(matchKey('Radio Cité')).not.toBe(matchKey('Radio Cite 2'));
  });

  it('keeps a phone number as written on one line, joins several columns, and bounds it', () => {
    const row: ProfileValues = {};
    expect(addProfileValue(row, 'phone', '+33 1 23 45 67 89')).toBeUndefined();
    expect(addProfileValue(row, 'phone', '06 12 34 56 78')).toBeUndefined();
    expect(addProfileValue(row, 'phone', '06 12 34 56 78')).toBeUndefined();
    expect(row.phone).toBe('+33 1 23 45 67 89 / 06 12 34 56 78');
    expect(addProfileValue({}, 'phone', '01 23\n45')).toContain('a phone number is one line');
    expect(addProfileValue({}, 'phone', '1'.repeat(limits.contactPhone + 1))).toContain(
      `${limits.contactPhone + 1} characters, more than the limit of ${limits.contactPhone}`,
    );
    const notes: ProfileValues = {};
    addProfileValue(notes, 'notes', 'Préfère le téléphone');
    addProfileValue(notes, 'notes', 'Pas avant 10 h');
    expect(notes.notes).toBe('Préfère le téléphone\nPas avant 10 h');
  });

  it('reads do-not-contact as yes or no, in French or English, and refuses anything else', () => {
    for (const value of ['oui', 'OUI', 'yes', 'x', 'X', '1', 'true', 'Vrai', '✓'])
      expect(readYesNo(value)).toBe(true);
    for (const value of ['non', 'No', '0', 'false', 'faux']) expect(readYesNo(value)).toBe(false);
    const row: ProfileValues = {};
    expect(addProfileValue(row, 'doNotContact', 'non')).toBeUndefined();
    expect(row.doNotContact).toBeUndefined();
    expect(addProfileValue(row, 'doNotContact', 'Oui')).toBeUndefined();
    expect(row.doNotContact).toBe(true);
    expect(addProfileValue({}, 'doNotContact', 'peut-être')).toContain('do-not-contact is "oui"/"yes"');
  });
});
