import { createHash } from 'node:crypto';
import { readdir, readFile, utimes } from 'node:fs/promises';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/s3-store.ts';
import { type ImportOptions, importContacts } from '../../lambdas/core/contacts/import.ts';
import { InvalidInputError } from '../../lambdas/core/errors.ts';
import { getJson, listAll, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { chunked, folderStores, contactsKeys as keys } from '../support/contacts.ts';
import { s3rverClientConfig, startS3rver } from '../support/s3rver.ts';

/**
 * The streamed import (import-staging.ts): rows past a memory budget are staged in the store
 * and read back shard by shard. These tests force that path with a budget of a few thousand
 * characters and check that it stores what the import stored before it existed, that it is
 * still all or nothing, and what a killed import leaves behind.
 */

const freshStore = folderStores('pressroom-import-stream-');
const fixtures = path.join(import.meta.dirname, '../fixtures/contacts');

const options = (day: string, extra: Partial<ImportOptions> = {}): ImportOptions => ({
  list: 'presse',
  source: 'import:test.csv',
  now: new Date(`2026-03-${day}T09:00:00.000Z`),
  ...extra,
});

/** Every file of the store (path → bytes in hex-free text), but the store's own bookkeeping. */
async function filesOf(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.relative(root, path.join(entry.parentPath, entry.name));
    if (file.startsWith('.')) continue;
    files[file] = await readFile(path.join(root, file), 'utf8');
  }
  return files;
}

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

/** The bytes of every contact shard the index names, through the store port. */
async function storedDigest(store: ObjectStore): Promise<string> {
  const index = (await getJson<{ shards: Record<string, string> }>(store, 'contacts/index.json'))?.value;
  const hash = createHash('sha256');
  for (const shard of Object.keys(index?.shards ?? {}).sort())
    hash.update(shard).update((await store.get(index?.shards[shard] as string))?.body ?? new Uint8Array());
  return hash.digest('hex');
}

/** Two press lists (generated as bench/contacts.ts does, with odd rows added to the second). */
async function importFixtures(store: ObjectStore, stagingBudget?: number) {
  const reports = [];
  const files: [string, string, Partial<ImportOptions>][] = [
    ['a', '01', {}],
    ['b', '02', { tags: ['Agence'] }],
  ];
  for (const [name, day, extra] of files) {
    const file = path.join(fixtures, `press-list-${name}.csv`);
    reports.push(
      await importContacts(
        chunked(await readFile(file), 4096),
        file,
        { store, keys },
        {
          // "Média" is an outlet since press contact profiles: mapped as it was then, the
          // bytes stay those of the digest below.
          ...options(day, { source: `import:${name}`, map: { Média: 'organization' }, ...extra }),
          ...(stagingBudget !== undefined && { stagingBudget }),
        },
      ),
    );
  }
  return reports;
}

/** `count` valid rows, one per line after the header. */
function rows(count: number, domain = 'example.org'): string {
  const lines = ['Courriel;Prénom;Nom;Média;Tags'];
  for (let i = 0; i < count; i++) lines.push(`journaliste${i}@${domain};Zoé;Martin ${i};Radio Cité;culture`);
  return `${lines.join('\r\n')}\r\n`;
}

describe('the streamed import', () => {
  it('stores byte for byte what the import stored before streaming, staged or not', async () => {
    // The digest of the contact shards the import wrote before import-staging.ts existed
    // (commit fa2a408), for these two files, this secret and these dates.
    const before = '5727a103866ea40b5830e9fbceb9f4dcadbad578112427a3d0d4f614710fe14e';
    const inMemory = await freshStore();
    const staged = await freshStore();
    const reports = await importFixtures(inMemory);
    // A budget of 3,000 characters: each file is staged in a dozen parts per shard.
    expect(await importFixtures(staged, 3_000)).toEqual(reports);
    expect(
      reports.map(({ added, updated, unchanged, rows, rejected }) => [
        added,
        updated,
        unchanged,
        rows,
        rejected.length,
      ]),
    ).toEqual([
      [389, 0, 0, 400, 7],
      [3, 242, 0, 256, 7],
    ]);
    // Lines as in the file: a quoted new line (line 252) and a blank line come before them.
    expect(reports[1]?.rejected.slice(-2)).toEqual([
      { line: 258, column: 'Courriel', reason: 'invalid email address "pas-une-adresse"' },
      { line: 262, column: 'Nom', reason: expect.stringContaining('control character U+0001') },
    ]);
    expect(await contactsDigest(inMemory.root)).toBe(before);
    expect(await contactsDigest(staged.root)).toBe(before);
    expect(await readdir(path.join(staged.root, 'contacts'))).not.toContain('staging');
  });

  it('stages through the store port on S3 too, and leaves nothing staged', async () => {
    const s3rver = await startS3rver(['import-stream']);
    try {
      const client = new S3Client(s3rverClientConfig(s3rver.endpoint));
      const store = new S3ObjectStore({ bucket: 'import-stream', prefix: 'staged', client });
      const folder = await freshStore();
      // 30 KB: the first file is staged in two parts per shard, the second in one.
      expect(await importFixtures(store, 30_000)).toEqual(await importFixtures(folder));
      expect(await storedDigest(store)).toBe(await contactsDigest(folder.root));
      const staging = [];
      for await (const item of listAll(store, 'contacts/staging/')) staging.push(item.key);
      expect(staging).toEqual([]);
    } finally {
      await s3rver.stop();
    }
  }, 120_000);

  it('is all or nothing: a bad byte on the last line of a big file leaves the contacts as they were', async () => {
    const store = await freshStore();
    await importContacts(chunked(rows(50)), 'first.csv', { store, keys }, options('01'));
    const before = await filesOf(store.root);
    const count = 20_000;
    const text = new TextEncoder().encode(`${rows(count, 'exemple.fr')}late@example.org;Fran`);
    const bad = new Uint8Array([...text, 0xff, 0x0d, 0x0a]);
    const staging: string[] = [];
    const watched = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name === 'put')
          return (key: string, ...rest: unknown[]) => {
            if (key.startsWith('contacts/staging/')) staging.push(key);
            return (value as (...args: unknown[]) => unknown).call(target, key, ...rest);
          };
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const error = await importContacts(
      chunked(bad, 65_536),
      'big.csv',
      { store: watched, keys },
      { ...options('02'), stagingBudget: 200_000 },
    ).catch((e: unknown) => e);
    // The rows were staged in parts before the bad byte was read.
    expect(staging.length).toBeGreaterThan(256);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems).toEqual([
      expect.objectContaining({
        file: 'big.csv',
        line: count + 2,
        message: expect.stringContaining('not UTF-8'),
      }),
    ]);
    // The staging parts written while reading are gone, and nothing else changed.
    expect(await filesOf(store.root)).toEqual(before);
  });

  it('a killed import leaves the contacts as they were; the next one ignores its leftovers, and removes them an hour later', async () => {
    const store = await freshStore();
    await importContacts(chunked(rows(50)), 'first.csv', { store, keys }, options('01'));
    const before = await filesOf(store.root);
    // Killed half-way through writing its shards: the tenth new shard object never lands,
    // and nothing after it runs (no clean-up, as with kill -9).
    let shardWrites = 0;
    const killed = new Proxy(store, {
      get(target, name, receiver) {
        if (name === 'putIfAbsent')
          return (
            key: string,
            ...rest: Parameters<ObjectStore['putIfAbsent']> extends [string, ...infer R] ? R : never
          ) =>
            key.startsWith('contacts/shards/') && ++shardWrites >= 10
              ? new Promise(() => {})
              : target.putIfAbsent(key, ...rest);
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const big = rows(5_000, 'exemple.fr');
    void importContacts(
      chunked(big, 65_536),
      'big.csv',
      { store: killed, keys },
      {
        ...options('02'),
        stagingBudget: 20_000,
      },
    );
    await expect.poll(() => shardWrites, { timeout: 20_000 }).toBeGreaterThanOrEqual(10);
    const left = await filesOf(store.root);
    const leftovers = Object.keys(left).filter((file) => !(file in before));
    expect(leftovers.some((file) => file.startsWith('contacts/staging/'))).toBe(true);
    expect(leftovers.filter((file) => file.startsWith('contacts/shards/')).length).toBe(9);
    // The contacts are those of before: the index still names the same shards.
    for (const [file, text] of Object.entries(before)) expect(left[file]).toBe(text);

    // The next import stores exactly what it stores in a store without leftovers.
    const clean = await freshStore();
    await importContacts(chunked(rows(50)), 'first.csv', { store: clean, keys }, options('01'));
    const again = rows(300, 'exemple.fr');
    const [report, cleanReport] = [
      await importContacts(chunked(again), 'again.csv', { store, keys }, options('03')),
      await importContacts(chunked(again), 'again.csv', { store: clean, keys }, options('03')),
    ];
    expect(report).toEqual(cleanReport);
    expect(await contactsDigest(store.root)).toBe(await contactsDigest(clean.root));
    const young = Object.keys(await filesOf(store.root)).filter((file) => leftovers.includes(file));
    expect(young.length).toBe(leftovers.length);

    // An hour later, an import removes them.
    const hoursAgo = new Date(Date.now() - 2 * 60 * 60_000);
    for (const file of leftovers) await utimes(path.join(store.root, file), hoursAgo, hoursAgo);
    await importContacts(chunked(rows(10)), 'small.csv', { store, keys }, options('04'));
    const after = Object.keys(await filesOf(store.root));
    expect(after.filter((file) => leftovers.includes(file))).toEqual([]);
    expect(after.filter((file) => file.startsWith('contacts/staging/'))).toEqual([]);
  });
});
