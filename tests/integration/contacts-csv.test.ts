import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { exportContacts, listContacts } from '../../lambdas/core/contacts/audience.ts';
import { importContacts } from '../../lambdas/core/contacts/import.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { fromSpreadsheetSafe, type SpreadsheetFormat, spreadsheetSafe } from '../../lambdas/core/csv.ts';
import { InvalidInputError } from '../../lambdas/core/errors.ts';
import { limits } from '../../lambdas/core/limits.ts';
import { chunked, contactsKeys, folderStores } from '../support/contacts.ts';

const keys = contactsKeys;
const now = new Date('2026-03-01T10:00:00Z');
const freshStore = folderStores('pressroom-csv-');

function importBytes(store: FolderObjectStore, data: Uint8Array, size = 5) {
  return importContacts(
    chunked(data, size),
    'presse.csv',
    { store, keys },
    { list: 'presse', source: 'import:presse.csv', now },
  );
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const french =
  'Prénom;Nom;Courriel;Média\r\nZoé;L’Hôte;zoe@exemple.fr;Le Cœur — l’hebdo\r\nÉlise;Ñúñez;elise@exemple.fr;Télé «Sud»\r\n';

/** What Excel writes with "CSV (séparateur : point-virgule)" on a French Windows. */
function windows1252(text: string): Uint8Array {
  const special: Record<string, number> = {
    '’': 0x92,
    œ: 0x9c,
    Œ: 0x8c,
    '€': 0x80,
    '—': 0x97,
    '«': 0xab,
    '»': 0xbb,
  };
  return Uint8Array.from([...text].map((c) => special[c] ?? c.charCodeAt(0)));
}

/** What Excel writes with "Unicode text": UTF-16 with a byte-order mark, tab separated. */
function utf16(text: string, endian: 'le' | 'be', bom = true): Uint8Array {
  const le = Buffer.from(text, 'utf16le');
  if (endian === 'be') le.swap16();
  const mark = endian === 'le' ? [0xff, 0xfe] : [0xfe, 0xff];
  return Uint8Array.from([...(bom ? mark : []), ...le]);
}

async function names(store: FolderObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const { contact } of listContacts(store))
    out.push(`${contact.firstName} ${contact.lastName} (${contact.outlet})`);
  return out.sort();
}

const expectedNames = ['Zoé L’Hôte (Le Cœur — l’hebdo)', 'Élise Ñúñez (Télé «Sud»)'].sort();

describe('CSV files from spreadsheets that are not UTF-8', () => {
  it('converts Windows-1252 (Latin-1) and says so', async () => {
    const store = await freshStore();
    const report = await importBytes(store, windows1252(french));
    expect(report).toMatchObject({ encoding: 'windows-1252', added: 2, rejected: [] });
    expect(await names(store)).toEqual(expectedNames);
  });

  it.each([
    ['UTF-16 little-endian with a BOM', utf16(french.replaceAll(';', '\t'), 'le'), 'utf-16le'],
    ['UTF-16 big-endian with a BOM', utf16(french.replaceAll(';', '\t'), 'be'), 'utf-16be'],
    ['UTF-16 little-endian without a BOM', utf16(french, 'le', false), 'utf-16le'],
  ])('converts %s', async (_, data, encoding) => {
    const store = await freshStore();
    const report = await importBytes(store, data, 3);
    expect(report).toMatchObject({ encoding, added: 2, rejected: [] });
    expect(await names(store)).toEqual(expectedNames);
    expect(JSON.stringify(await names(store))).not.toContain('\uFFFD');
  });

  it('always takes valid UTF-8 as UTF-8, with or without a BOM', async () => {
    for (const data of [utf8(french), utf8(`\uFEFF${french}`)]) {
      const store = await freshStore();
      expect(await importBytes(store, data)).toMatchObject({ encoding: 'utf-8', added: 2 });
      expect(await names(store)).toEqual(expectedNames);
    }
  });

  it('refuses a file that turns out not to be UTF-8 far down, with the line, and writes nothing', async () => {
    const store = await freshStore();
    const lines = ['email;prénom'];
    for (let i = 0; i < 30_000; i++) lines.push(`p${i}@example.org;Zoé`);
    const late = Buffer.concat([
      Buffer.from(`${lines.join('\n')}\n`),
      Buffer.from([0x78, 0x40, 0x79, 0x2e, 0x66, 0x72, 0x3b, 0xe9, 0x0a]),
    ]);
    const error = await importBytes(store, late, 64 * 1024).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain('presse.csv:30002: this line is not UTF-8');
    expect((error as Error).message).toContain('Save it again as "CSV UTF-8"');
    expect((error as Error).message).toContain('nothing was written');
    expect(await readdir(store.root).catch(() => [])).toEqual([]);
  });

  it('refuses bytes that Windows-1252 leaves undefined, and binary files', async () => {
    const store = await freshStore();
    const undefinedByte = Uint8Array.from([...windows1252('email;nom\nx@example.org;Zo'), 0x81, 0x0a]);
    await expect(importBytes(store, undefinedByte)).rejects.toThrow(
      'byte 0x81 is not a character in UTF-8 nor in Windows-1252',
    );
    const xlsx = Uint8Array.from([
      0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00,
    ]);
    await expect(importBytes(store, xlsx)).rejects.toThrow('this is not a CSV text file');
    expect(await readdir(store.root).catch(() => [])).toEqual([]);
  });
});

describe('rows with bad values', () => {
  it('are rejected with their line, column and value: overlong fields, control characters, lost characters', async () => {
    const store = await freshStore();
    const longName = 'N'.repeat(limits.contactName + 1);
    const longEmail = `${'a'.repeat(60)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.fr`;
    const report = await importBytes(
      store,
      utf8(
        [
          'Courriel;Prénom;Média;Tags',
          `ok@example.org;Zoé;Radio;a`,
          `long@example.org;${longName};Radio;a`,
          `${longEmail};Zoé;Radio;a`,
          'nul@example.org;Zo\u0000é;Radio;a',
          'lost@example.org;Fran\uFFFDois;Radio;a',
          `tag@example.org;Zoé;Radio;${'t'.repeat(limits.contactTag + 1)}`,
        ].join('\n'),
      ),
    );
    expect(report.added).toBe(1);
    expect(report.rejected).toEqual([
      {
        line: 3,
        column: 'Prénom',
        reason: `101 characters, more than the limit of 100 (value: "${'N'.repeat(76)}...)`,
      },
      {
        line: 4,
        column: 'Courriel',
        reason: expect.stringMatching(/^255 characters, more than the limit of 254 \(value: "a{20}/),
      },
      {
        line: 5,
        column: 'Prénom',
        reason:
          'control character U+0000 in the value: the file is damaged or in another encoding (value: "Zo\\u0000é")',
      },
      {
        line: 6,
        column: 'Prénom',
        reason: expect.stringContaining('a character lost when the file was converted before'),
      },
      {
        line: 7,
        column: 'Tags',
        reason: expect.stringContaining('a tag has 51 characters, more than the limit of 50'),
      },
    ]);
  });
});

describe('exports for spreadsheets', () => {
  const risky = ['=1+1', '+33 1 02', '-5', '@SUM(A1)', "'quoted", 'plain'];

  it('neutralise every cell of every column that a spreadsheet would run, and read back the same data', async () => {
    const store = await freshStore();
    await importBytes(
      store,
      utf8(
        [
          'email;first name;last name;organisation;outlet;role;beats;language;phone;notes;tags;do not contact',
          // The language is checked (a tag): every other column may start like a formula.
          `-dash@example.org;=HYPERLINK("http://evil.example");+33 1 02;-Libé;=Média;@rédaction;-Social, +Santé;fr;+33 6 12 34 56 78;=1+1;-a, +b;oui`,
          "plain@example.org;'Zoé;Dupont;Le Monde;Le Monde;Journaliste;Économie;fr;01 23 45 67 89;Appeler le matin;x;",
        ].join('\n'),
      ),
    );
    const formats: SpreadsheetFormat[] = [{}, { delimiter: ';' }, { delimiter: '\t', bom: false }];
    for (const format of formats) {
      let csv = '';
      for await (const chunk of exportContacts(store, { list: 'presse' }, format)) csv += chunk;
      const d = format.delimiter ?? ',';
      expect(csv.startsWith(format.bom === false ? 'email' : '\uFEFFemail')).toBe(true);
      const cells = csv
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\n')
        .flatMap((line) => line.split(d))
        .map((cell) => cell.replace(/^"|"$/g, ''));
      // No cell starts with a character a spreadsheet would act on.
      expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
      expect(cells).toContain("'-dash@example.org");
      expect(cells).toContain(`'=HYPERLINK(""http://evil.example"")`);
      expect(cells).toContain("''Zoé");
      // Read back: the same contacts, field for field.
      const other = await freshStore();
      const report = await importBytes(other, utf8(csv));
      expect(report).toMatchObject({ added: 2, rejected: [] });
      for (const email of ['-dash@example.org', 'plain@example.org']) {
        const { contact: original } = await findContact(store, keys, email);
        const { contact: copy } = await findContact(other, keys, email);
        const { lists: _a, ...a } = original ?? {};
        const { lists: _b, ...b } = copy ?? {};
        expect(b).toEqual(a);
      }
    }
  });

  it('spreadsheetSafe and fromSpreadsheetSafe are exact inverses, tab and carriage return included', () => {
    for (const value of [...risky, '\tx', '\rx', "''", "'", '', 'é']) {
      expect(fromSpreadsheetSafe(spreadsheetSafe(value))).toBe(value);
      expect(spreadsheetSafe(value)).not.toMatch(/^[=+\-@\t\r]/);
    }
  });
});
