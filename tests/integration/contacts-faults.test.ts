import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { S3ObjectStore } from '../../lambdas/adapters/s3-store.ts';
import { listContacts } from '../../lambdas/core/contacts/audience.ts';
import { unsubscribeAddress } from '../../lambdas/core/contacts/feedback.ts';
import { ImportNotSavedError, importContacts } from '../../lambdas/core/contacts/import.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { findContact, UnknownOutcomeError } from '../../lambdas/core/contacts/repository.ts';
import {
  type Body,
  CorruptObjectError,
  listAll,
  type ObjectStore,
  type PutOptions,
} from '../../lambdas/core/store/object-store.ts';
import { s3rverClientConfig, startS3rver } from '../support/s3rver.ts';

/**
 * An import is all or nothing: a store that fails its Nth write, for every N, leaves the
 * contacts byte for byte as they were, with a message that says so. Also when the write
 * happened and only its answer was lost (a timeout after S3 stored the object).
 */

const keys = contactKeys('a-secret-of-at-least-thirty-two-characters');
const now = new Date('2026-03-01T10:00:00Z');
const roots: string[] = [];

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** Fails the Nth write (put, putIfAbsent, putIfVersion) with a full disk, before or after doing it. */
class FailingStore implements ObjectStore {
  writes = 0;
  constructor(
    private readonly inner: ObjectStore,
    private readonly failAt: number,
    private readonly mode: 'before' | 'after',
  ) {}

  private async write<T>(op: () => Promise<T>): Promise<T> {
    if (++this.writes !== this.failAt) return op();
    if (this.mode === 'after') await op();
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  }

  get(key: string) {
    return this.inner.get(key);
  }
  stream(key: string) {
    return this.inner.stream(key);
  }
  head(key: string) {
    return this.inner.head(key);
  }
  put(key: string, body: Body, options?: PutOptions) {
    return this.write(() => this.inner.put(key, body, options));
  }
  putIfAbsent(key: string, body: Body, options?: PutOptions) {
    return this.write(() => this.inner.putIfAbsent(key, body, options));
  }
  putIfVersion(key: string, body: Body, version: string, options?: PutOptions) {
    return this.write(() => this.inner.putIfVersion(key, body, version, options));
  }
  list(prefix: string, options?: { cursor?: string; limit?: number }) {
    return this.inner.list(prefix, options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  purgeHistory(prefix: string) {
    return this.inner.purgeHistory(prefix);
  }
  signedUrl(key: string, options: { expiresInSeconds: number }) {
    return this.inner.signedUrl(key, options);
  }
}

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text);
}

const options = { list: 'presse', source: 'import:test.csv', now };
const seedCsv = ['email;prénom', ...Array.from({ length: 30 }, (_, i) => `p${i}@example.org;Avant${i}`)].join(
  '\n',
);
// Fifteen contacts changed, fifteen new: about thirty shards touched.
const importCsv = [
  'email;prénom;tags',
  ...Array.from({ length: 15 }, (_, i) => `p${i}@example.org;Après${i};t`),
  ...Array.from({ length: 15 }, (_, i) => `n${i}@example.org;Nouveau${i};t`),
].join('\n');

/** Every object of the store with its bytes. */
async function snapshot(store: ObjectStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const item of listAll(store, '')) {
    const object = await store.get(item.key);
    out[item.key] = Buffer.from(object?.body ?? []).toString('base64');
  }
  return out;
}

/** The contacts as data, whatever objects hold them. */
async function contactsOf(store: ObjectStore): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const entry of listContacts(store)) out.push(entry);
  return out;
}

interface World {
  store: ObjectStore;
  /** The folder store's temporary files. */
  temps(): Promise<string[]>;
}

async function seeded(kind: 'memory' | 'folder', template?: string): Promise<World> {
  if (kind === 'memory') {
    const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'http://localhost:3000' });
    await importContacts(bytes(seedCsv), 'seed.csv', { store, keys }, options);
    await unsubscribeAddress(store, keys, 'p3@example.org', now);
    return { store, temps: async () => [] };
  }
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-faults-'));
  roots.push(root);
  if (template) await cp(template, root, { recursive: true });
  const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
  if (!template) {
    await importContacts(bytes(seedCsv), 'seed.csv', { store, keys }, options);
    await unsubscribeAddress(store, keys, 'p3@example.org', now);
  }
  return {
    store,
    temps: async () => readdir(path.join(root, '.pressroom-store/tmp')).catch(() => []),
  };
}

/**
 * A seeded store to copy (folder stores), and the same import without a fault: how many
 * writes it makes, and the contacts it leaves.
 */
async function withoutFault(kind: 'memory' | 'folder') {
  const template = kind === 'folder' ? (await seeded('folder')).store : undefined;
  const templateRoot = template instanceof FolderObjectStore ? template.root : undefined;
  const clean = await seeded(kind, templateRoot);
  const counting = new FailingStore(clean.store, 0, 'before');
  await importContacts(bytes(importCsv), 'test.csv', { store: counting, keys }, options);
  return { templateRoot, writes: counting.writes, expected: await contactsOf(clean.store) };
}

describe.each(['memory', 'folder'] as const)('an import into a %s store that fails its Nth write', (kind) => {
  it('leaves the contacts byte for byte as they were, for every N, and says so', async () => {
    const { templateRoot, writes, expected } = await withoutFault(kind);
    expect(writes).toBeGreaterThan(25);

    for (let n = 1; n <= writes; n++) {
      const world = await seeded(kind, templateRoot);
      const before = await snapshot(world.store);
      const store = new FailingStore(world.store, n, 'before');
      const error = await importContacts(bytes(importCsv), 'test.csv', { store, keys }, options).catch(
        (e: unknown) => e,
      );
      expect(error, `write ${n}`).toBeInstanceOf(ImportNotSavedError);
      expect((error as Error).message).toContain('test.csv was not imported');
      expect((error as Error).message).toContain('no space left on device');
      expect((error as Error).message).toContain(
        'Nothing was written: the contacts are exactly as they were before this import',
      );
      expect(await snapshot(world.store), `write ${n}`).toEqual(before);
      expect(await world.temps(), `write ${n}`).toEqual([]);
    }

    // Past the last write, nothing fails, and the import is whole.
    const world = await seeded(kind, templateRoot);
    const store = new FailingStore(world.store, writes + 1, 'before');
    await importContacts(bytes(importCsv), 'test.csv', { store, keys }, options);
    expect(await contactsOf(world.store)).toEqual(expected);
  });

  it('when a write is done but its answer is lost, the import is whole or not at all', async () => {
    const { templateRoot, writes, expected } = await withoutFault(kind);
    let whole = 0;
    for (let n = 1; n <= writes; n++) {
      const world = await seeded(kind, templateRoot);
      const before = await snapshot(world.store);
      const store = new FailingStore(world.store, n, 'after');
      const outcome = await importContacts(bytes(importCsv), 'test.csv', { store, keys }, options).then(
        () => 'imported',
        (e: unknown) => e,
      );
      if (outcome === 'imported') {
        whole++;
        expect(await contactsOf(world.store), `write ${n}`).toEqual(expected);
      } else {
        expect(outcome, `write ${n}`).toBeInstanceOf(ImportNotSavedError);
        expect(await snapshot(world.store), `write ${n}`).toEqual(before);
      }
      expect(await world.temps(), `write ${n}`).toEqual([]);
    }
    // The index was the last write: its answer lost, it is read back and found in place.
    expect(whole).toBe(1);
  });
});

describe('an import whose switch of the index cannot be confirmed', () => {
  it.each([true, false])(
    'says the outcome is unknown, never "nothing was written", and removes nothing (the write landed: %s)',
    async (landed) => {
      const world = await seeded('memory');
      const before = await contactsOf(world.store);
      let down = false;
      // The index write fails (after landing or not), and then the store stops answering.
      const store = new Proxy(world.store, {
        get(target, prop, receiver) {
          if (prop === 'putIfVersion')
            return async (key: string, body: Body, version: string) => {
              if (key !== 'contacts/index.json') return target.putIfVersion(key, body, version);
              if (landed) await target.putIfVersion(key, body, version);
              down = true;
              throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
            };
          if (prop === 'get' || prop === 'delete')
            return async (key: string) => {
              if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
              return (target[prop] as (key: string) => Promise<unknown>)(key);
            };
          return Reflect.get(target, prop, receiver);
        },
      });
      const error = await importContacts(bytes(importCsv), 'test.csv', { store, keys }, options).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnknownOutcomeError);
      expect((error as Error).message).toContain(
        'did not answer whether the change of the contacts was saved',
      );
      expect((error as Error).message).not.toContain('Nothing was written');
      // Once the store answers again: the import is whole, or the contacts are as they were.
      const after = await contactsOf(world.store);
      if (landed) expect(after).not.toEqual(before);
      else expect(after).toEqual(before);
      if (landed) expect((await findContact(world.store, keys, 'n3@example.org')).contact).toBeDefined();
    },
  );
});

describe('an import into S3 (s3rver) that fails a write', () => {
  // The same core code as above; over HTTP a few writes stand for all: the first, one in the
  // middle, and the switch of the index.
  it('leaves the objects as they were; a damaged object is named by its s3:// URL', {
    timeout: 180_000,
  }, async () => {
    const s3rver = await startS3rver(['contacts-faults']);
    try {
      const client = new S3Client(s3rverClientConfig(s3rver.endpoint));
      let run = 0;
      const fresh = async () => {
        const store = new S3ObjectStore({ bucket: 'contacts-faults', prefix: `run-${++run}`, client });
        await importContacts(bytes(seedCsv), 'seed.csv', { store, keys }, options);
        return store;
      };
      const counting = new FailingStore(await fresh(), 0, 'before');
      await importContacts(bytes(importCsv), 'test.csv', { store: counting, keys }, options);
      for (const n of [1, Math.ceil(counting.writes / 2), counting.writes]) {
        const store = await fresh();
        const before = await snapshot(store);
        const error = await importContacts(
          bytes(importCsv),
          'test.csv',
          { store: new FailingStore(store, n, 'before'), keys },
          options,
        ).catch((e: unknown) => e);
        expect(error, `write ${n}`).toBeInstanceOf(ImportNotSavedError);
        expect(await snapshot(store), `write ${n}`).toEqual(before);
      }
      const store = await fresh();
      await importContacts(bytes(importCsv), 'test.csv', { store, keys }, options);
      expect((await findContact(store, keys, 'n3@example.org')).contact?.firstName).toBe('Nouveau3');
      // A shard damaged outside pressroom.
      const index = JSON.parse(new TextDecoder().decode((await store.get('contacts/index.json'))?.body));
      const shard = Object.values(index.shards)[0] as string;
      await store.put(shard, '{"contacts":');
      const damaged = await contactsOf(store).catch((e: unknown) => e);
      expect(damaged).toBeInstanceOf(CorruptObjectError);
      expect((damaged as Error).message).toContain(
        `file s3://contacts-faults/run-${run}/${shard} is damaged`,
      );
    } finally {
      await s3rver.stop();
    }
  });
});
