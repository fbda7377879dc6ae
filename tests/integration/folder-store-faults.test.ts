import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { FolderObjectStore, FolderStoreError } from '../../lambdas/adapters/folder-store.ts';
import { ImportNotSavedError, importContacts } from '../../lambdas/core/contacts/import.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { listAll } from '../../lambdas/core/store/object-store.ts';

/**
 * The folder store under a full disk or a permission error, injected into the file system
 * calls it makes to write (the Nth of them, for every N): the import names the file and the
 * problem, the contacts are byte for byte as they were, and no temporary file is left.
 */

const fault = vi.hoisted(() => ({ at: 0, calls: 0, code: 'ENOSPC' }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const failing =
    <A extends unknown[], R>(name: string, real: (...args: A) => R) =>
    (...args: A): R => {
      if (fault.at > 0 && ++fault.calls === fault.at) {
        // A full disk lets a write start: part of the file is there when it fails.
        if (name === 'writeFileSync') real(...([args[0], 'par', args[2]] as unknown as A));
        throw Object.assign(new Error(`${fault.code}: injected, ${name} '${String(args[0])}'`), {
          code: fault.code,
          path: String(args[0]),
          syscall: name,
        });
      }
      if (fault.at === 0) fault.calls++;
      return real(...args);
    };
  const replaced = {
    writeFileSync: failing('writeFileSync', fs.writeFileSync),
    linkSync: failing('linkSync', fs.linkSync),
    renameSync: failing('renameSync', fs.renameSync),
    mkdirSync: failing('mkdirSync', fs.mkdirSync),
  };
  return { ...fs, ...replaced, default: { ...fs, ...replaced } };
});

const keys = contactKeys('a-secret-of-at-least-thirty-two-characters');
const now = new Date('2026-03-01T10:00:00Z');
const options = { list: 'presse', source: 'import:test.csv', now };
const roots: string[] = [];

afterEach(() => {
  fault.at = 0;
  fault.calls = 0;
});
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text);
}

const seedCsv = ['email', ...Array.from({ length: 12 }, (_, i) => `p${i}@example.org`)].join('\n');
const importCsv = [
  'email;prénom',
  ...Array.from({ length: 6 }, (_, i) => `p${i}@example.org;Après`),
  ...Array.from({ length: 6 }, (_, i) => `n${i}@example.org;Nouveau`),
].join('\n');

async function storeAt(root: string): Promise<FolderObjectStore> {
  return new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
}

async function copyOf(template: string): Promise<FolderObjectStore> {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-fs-faults-'));
  roots.push(root);
  await cp(template, root, { recursive: true });
  return storeAt(root);
}

async function snapshot(store: FolderObjectStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const item of listAll(store, '')) {
    out[item.key] = Buffer.from((await store.get(item.key))?.body ?? []).toString('base64');
  }
  return out;
}

describe.each([
  ['ENOSPC', 'the disk is full'],
  ['EACCES', 'permission denied'],
])('an import when the file system answers %s', (code, problem) => {
  it('names the file, changes nothing and leaves no temporary file, whichever write fails', async () => {
    const template = await mkdtemp(path.join(tmpdir(), 'pressroom-fs-faults-'));
    roots.push(template);
    await importContacts(bytes(seedCsv), 'seed.csv', { store: await storeAt(template), keys }, options);

    // How many file system writes the import makes.
    const counted = await copyOf(template);
    fault.calls = 0;
    await importContacts(bytes(importCsv), 'test.csv', { store: counted, keys }, options);
    const calls = fault.calls;
    expect(calls).toBeGreaterThan(12);

    for (let n = 1; n <= calls; n++) {
      const store = await copyOf(template);
      const before = await snapshot(store);
      Object.assign(fault, { at: n, calls: 0, code });
      const error = await importContacts(bytes(importCsv), 'test.csv', { store, keys }, options).catch(
        (e: unknown) => e,
      );
      Object.assign(fault, { at: 0, calls: 0 });
      expect(error, `call ${n}`).toBeInstanceOf(ImportNotSavedError);
      const cause = (error as Error).cause;
      expect(cause, `call ${n}`).toBeInstanceOf(FolderStoreError);
      const message = (error as Error).message;
      expect(message).toMatch(new RegExp(`cannot write ${store.root}/contacts/\\S+ \\(${code}`));
      expect(message).toContain(problem);
      expect(message).toContain('Nothing was written: the contacts are exactly as they were');
      expect(await snapshot(store), `call ${n}`).toEqual(before);
      expect(await readdir(path.join(store.root, '.pressroom-store/tmp')), `call ${n}`).toEqual([]);
    }
  });
});
