import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { type ImportOptions, importContacts } from '../../lambdas/core/contacts/import.ts';
import type { Contact } from '../../lambdas/core/contacts/model.ts';
import { shardOf } from '../../lambdas/core/contacts/model.ts';
import {
  contactShardBody,
  updateContactShard,
  updateSuppression,
} from '../../lambdas/core/contacts/repository.ts';
import { InvalidInputError } from '../../lambdas/core/errors.ts';
import { serializeJson } from '../../lambdas/core/store/object-store.ts';
import { chunked, folderStores, contactsKeys as keys } from '../support/contacts.ts';

/**
 * The import's fast paths (issue 19: shards serialised contact by contact, new contacts built
 * directly, UTF-8 checked without decoding) store the very bytes the import stored before
 * them. The digests below were taken with the import of commit 490858c, before those
 * changes, for this store, this file, this secret and these dates: characters outside the
 * Basic Multilingual Plane, typographic apostrophes, DEL refused, duplicates in another case
 * adding tags, contacts already stored with their keys in another order and a confirmed
 * subscription, suppressions of one list and of every list, an erased address, and the same
 * file imported again.
 */

const freshStore = folderStores('pressroom-import-bytes-');
const fixtures = path.join(import.meta.dirname, '../fixtures/contacts');

const options = (day: string, extra: Partial<ImportOptions> = {}): ImportOptions => ({
  list: 'presse',
  source: 'import:test.csv',
  now: new Date(`2026-03-${day}T09:00:00.000Z`),
  ...extra,
});

const file = [
  'Courriel,Prénom,Nom,Organisation,Fonction,Langue,Tags',
  'lou@exemple.fr,Lou 🎙️,Martin,Radio 𝄞 Cité,Chroniqueuse,fr,"Culture; 🎧 Podcast"',
  'deja@exemple.fr,Déjà,Là,L’Équipe,,en,sport',
  'desabonne@exemple.fr,Dés,Abonné,,,,',
  'efface@exemple.fr,Ef,Facé,,,,',
  'rebond@exemple.fr,Re,Bond,,,,',
  'LOU@Exemple.FR,,Martin-Durand,,,,"culture|Été"',
  'del@exemple.fr,De\u007fl,,,,,',
  'ana@exemple.org,Ana,Œuvre,"Journal ""Le Quotidien""",Pigiste,,tech',
  'Camille.N\'Diaye2@ladepeche.fr,Camille,N’Diaye,La Dépêche,Rédactrice en chef,,sciences|"guillemets"',
  'zoe@xn--exemple-mdia-bbb.fr,Zoé,,,,,',
  'zoe@exemple-média.fr,,,Média,,,numérique',
].join('\r\n');

/** The bytes of every contact shard the index names, in shard order, hashed. */
async function contactsDigest(root: string): Promise<string> {
  const index = JSON.parse(await readFile(path.join(root, 'contacts/index.json'), 'utf8')) as {
    shards: Record<string, string>;
  };
  const hash = createHash('sha256');
  for (const shard of Object.keys(index.shards).sort())
    hash.update(shard).update(await readFile(path.join(root, index.shards[shard] as string)));
  return hash.digest('hex');
}

async function prepare(store: FolderObjectStore): Promise<void> {
  const listA = path.join(fixtures, 'press-list-a.csv');
  await importContacts(chunked(await readFile(listA), 4096), listA, { store, keys }, options('01'));
  // A subscriber stored by the subscription code: its keys in another order, a consent.
  const id = keys.idOf('deja@exemple.fr');
  const subscriber = {
    email: 'deja@exemple.fr',
    id,
    lists: {
      newsletter: {
        addedAt: '2026-02-01T08:00:00.000Z',
        source: 'form',
        consent: {
          method: 'double-opt-in',
          requestedAt: '2026-02-01T08:00:00.000Z',
          confirmedAt: '2026-02-01T08:05:00.000Z',
        },
      },
    },
    updatedAt: '2026-02-01T08:05:00.000Z',
    language: 'fr',
    tags: ['lecteur'],
    createdAt: '2026-02-01T08:00:00.000Z',
  } as Contact;
  await updateContactShard(store, shardOf(id), (shard) => ({
    contacts: { ...shard.contacts, [id]: subscriber },
  }));
  const at = '2026-02-15T10:00:00.000Z';
  for (const [email, suppression] of [
    ['desabonne@exemple.fr', { lists: { presse: { reason: 'unsubscribed', at } } }],
    ['efface@exemple.fr', { all: { reason: 'erased', at } }],
    ['rebond@exemple.fr', { email: 'rebond@exemple.fr', all: { reason: 'hard-bounce', at } }],
  ] as const) {
    const sid = keys.idOf(email);
    await updateSuppression(store, sid, () => ({ id: sid, ...suppression }));
  }
}

describe('the fast import', () => {
  it('stores byte for byte what the import stored before it', async () => {
    const store = await freshStore();
    await prepare(store);
    const prepared = await contactsDigest(store.root);
    const first = await importContacts(
      chunked(file, 13),
      'test.csv',
      { store, keys },
      {
        ...options('02', { tags: ['Agence', 'Été'] }),
      },
    );
    const once = await contactsDigest(store.root);
    const again = await importContacts(chunked(file, 4096), 'test.csv', { store, keys }, options('03'));
    const twice = await contactsDigest(store.root);
    expect([first, again].map(({ encoding, delimiter, list, dryRun, ...counts }) => counts)).toEqual([
      {
        added: 4,
        updated: 2,
        unchanged: 0,
        suppressed: 3,
        rows: 11,
        rejected: [
          {
            line: 8,
            column: 'Prénom',
            reason:
              'control character U+007F in the value: the file is damaged or in another encoding (value: "De\u007fl")',
          },
        ],
      },
      {
        added: 0,
        updated: 0,
        unchanged: 6,
        suppressed: 3,
        rows: 11,
        rejected: [expect.objectContaining({ line: 8 })],
      },
    ]);
    // The digests of the import before it was made faster, with the profile columns (a "Média"
    // column is the outlet since issue 20): taken with that import's code (h/profiles), the same
    // file and store.
    expect({ prepared, once, twice }).toEqual({
      prepared: 'e1bfeddbdac19d941f7f63ac2324187cb80a91a814b091274dd7b694379b111d',
      once: 'b821577b0baa2ede764a36c3f5ccf0d267b6dba9a617526ba09e841e92e28516',
      twice: 'b821577b0baa2ede764a36c3f5ccf0d267b6dba9a617526ba09e841e92e28516',
    });
  });

  it('serialises any shard as serializeJson does: odd keys, their order, undefined left out', () => {
    const contact = (email: string) => ({
      id: email,
      email,
      tags: ['été', '😀'],
      lists: {},
      createdAt: 'x',
      updatedAt: 'y',
    });
    const odd = {
      contacts: {
        b: contact('b@x.fr'),
        '10': contact('ten@x.fr'),
        'é"\\': contact('zoé@x.fr'),
        '2': contact('two@x.fr'),
        gone: undefined,
        a: { ...contact('a@x.fr'), role: 'Rédactrice\u007f’' },
      },
    } as unknown as Parameters<typeof contactShardBody>[0];
    const text = (body: Uint8Array | string) =>
      typeof body === 'string' ? body : Buffer.from(body).toString('latin1');
    expect(text(contactShardBody(odd))).toBe(serializeJson(odd));
    const extra = { ...odd, note: 'é' } as typeof odd;
    expect(text(contactShardBody(extra))).toBe(serializeJson(extra));
  });

  it('serialises a shard as serializeJson does', async () => {
    const store = await freshStore();
    await prepare(store);
    const index = JSON.parse(await readFile(path.join(store.root, 'contacts/index.json'), 'utf8')) as {
      shards: Record<string, string>;
    };
    for (const key of Object.values(index.shards)) {
      const text = await readFile(path.join(store.root, key), 'utf8');
      expect(text).toBe(serializeJson(JSON.parse(text)));
    }
  });
});

describe('UTF-8 checked chunk by chunk', () => {
  // Past the first 256 KiB (what the encoding is detected on), 2-, 3- and 4-byte characters.
  const lines = ['email;prénom;nom'];
  for (let i = 0; i < 8_000; i++) lines.push(`p${i}@example.org;Zoé ${i};L’Hôte 𝄞 ${i}`);
  const valid = Buffer.from(`${lines.join('\n')}\n`);
  const badLine = lines.length + 1;

  it('reads characters cut by the ends of chunks of any size', async () => {
    const digests = [];
    for (const size of [3, 5, 64 * 1024 + 1]) {
      const store = await freshStore();
      const report = await importContacts(chunked(valid, size), 'utf8.csv', { store, keys }, options('01'));
      expect(report).toMatchObject({ encoding: 'utf-8', added: 8_000, rejected: [] });
      digests.push(await contactsDigest(store.root));
    }
    expect(new Set(digests).size).toBe(1);
  });

  it.each([
    ['a lone continuation byte', [0x41, 0x80, 0x0a]],
    ['an overlong encoding', [0xc0, 0xaf, 0x0a]],
    ['a surrogate', [0xed, 0xa0, 0x80, 0x0a]],
    ['a character cut short before a new line', [0xe2, 0x80, 0x0a]],
    ['a character cut short at the end of the file', [0x41, 0xf0, 0x9d, 0x84]],
  ])('refuses %s, with its line', async (_, bytes) => {
    const data = Buffer.concat([valid, Buffer.from('late@example.org;'), Buffer.from(bytes)]);
    for (const size of [7, 64 * 1024]) {
      const store = await freshStore();
      const error = await importContacts(
        chunked(data, size),
        'bad.csv',
        { store, keys },
        options('01'),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toContain(`bad.csv:${badLine}: this line is not UTF-8`);
    }
  });
});
