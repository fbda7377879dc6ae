import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { fetchSignedFrom, objectStoreContract } from '../contract/object-store.contract.ts';

const run = promisify(execFile);
const roots: string[] = [];

async function folderStore(): Promise<FolderObjectStore> {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-store-'));
  roots.push(root);
  return new FolderObjectStore({ root, signingSecret: 'test-secret', publicUrl: 'http://localhost:3000' });
}

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

objectStoreContract('folder', async () => {
  const store = await folderStore();
  return { store, fetchSigned: fetchSignedFrom(store) };
});

describe('folder store on disk', () => {
  it('mirrors keys as files, keeps its bookkeeping out of listings and leaves no temporary files', async () => {
    const store = await folderStore();
    await store.put('site/index.html', '<p>x</p>');
    await store.putIfAbsent('ledger/c1/a.json', '{}');
    await store.putIfVersion(
      'site/index.html',
      '<p>y</p>',
      (await store.head('site/index.html'))?.version ?? '',
    );
    expect(await readFile(path.join(store.root, 'site/index.html'), 'utf8')).toBe('<p>y</p>');
    expect((await store.list('')).items.map((i) => i.key)).toEqual(['ledger/c1/a.json', 'site/index.html']);
    expect(await readdir(path.join(store.root, '.pressroom-store/tmp'))).toEqual([]);
    await expect(store.put('.pressroom-store/x', 'no')).rejects.toThrow(/invalid store key/);
  });

  it('purgeHistory removes temporary files a killed writer left over an hour ago, and nothing else', async () => {
    const store = await folderStore();
    await store.put('contacts/shards/0a-x.json', '{"contacts":{}}');
    const tmp = path.join(store.root, '.pressroom-store/tmp');
    // What a writer killed between writing and renaming leaves: the bytes of a contact shard.
    await writeFile(path.join(tmp, '123-abandoned'), '{"contacts":{"x":{"email":"zoe@example.org"}}}');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(path.join(tmp, '123-abandoned'), twoHoursAgo, twoHoursAgo);
    await writeFile(path.join(tmp, '456-in-flight'), '{}');
    expect(await store.purgeHistory('contacts/shards/0a')).toBe(1);
    expect(await readdir(tmp)).toEqual(['456-in-flight']);
    expect(await readFile(path.join(store.root, 'contacts/shards/0a-x.json'), 'utf8')).toBe(
      '{"contacts":{}}',
    );
    expect(await store.purgeHistory('contacts/shards/0a')).toBe(0);
  });

  it('removes folders left empty by a delete', async () => {
    const store = await folderStore();
    await store.put('archive/a/b/c.txt', 'x');
    await store.delete('archive/a/b/c.txt');
    expect((await readdir(store.root)).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('writes into a folder again after a delete removed it (folders it made are remembered, not trusted)', async () => {
    const store = await folderStore();
    await store.put('outbox/c/a.eml', 'one');
    await store.delete('outbox/c/a.eml');
    await store.put('outbox/c/b.eml', 'two');
    expect(await readFile(path.join(store.root, 'outbox/c/b.eml'), 'utf8')).toBe('two');
  });

  it('breaks a lock left empty by a taker killed while taking it, once it is a second old, not before', async () => {
    const store = await folderStore();
    const key = 'campaigns/c/ledger/a.json';
    const { version } = await store.putIfAbsent(key, '{"status":"claimed"}');
    const locks = path.join(store.root, '.pressroom-store', 'locks');
    const lock = path.join(locks, createHmac('sha256', 'lock').update(key).digest('hex'));
    await mkdir(locks, { recursive: true });
    // Fresh and empty: a taker between creating and writing it. The write waits for it.
    await writeFile(lock, '');
    const removed = new Promise((r) => setTimeout(r, 300)).then(() => rm(lock, { force: true }));
    const started = performance.now();
    const { version: second } = await store.putIfVersion(key, '{"status":"sent"}', version);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    await removed;
    // Empty for over a second: its taker died. Broken, and the write goes through.
    await writeFile(lock, '');
    const old = new Date(Date.now() - 5_000);
    await utimes(lock, old, old);
    await store.putIfVersion(key, '{"status":"sent","again":true}', second);
    expect(await readFile(path.join(store.root, key), 'utf8')).toBe('{"status":"sent","again":true}');
    expect(await readdir(locks)).toEqual([]);
  });

  it('loses no update when two processes race with compare-and-swap', async () => {
    const store = await folderStore();
    await store.put('counter', '0');
    const script = `
      import { FolderObjectStore } from ${JSON.stringify(path.resolve('lambdas/adapters/folder-store.ts'))};
      import { VersionConflictError } from ${JSON.stringify(path.resolve('lambdas/core/store/object-store.ts'))};
      const store = new FolderObjectStore({ root: process.argv[1], signingSecret: 's', publicUrl: 'http://localhost' });
      for (let i = 0; i < 40; i++) {
        for (;;) {
          const cur = await store.get('counter');
          try { await store.putIfVersion('counter', String(Number(new TextDecoder().decode(cur.body)) + 1), cur.version); break; }
          catch (e) { if (!(e instanceof VersionConflictError)) throw e; }
        }
      }`;
    const child = () =>
      run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, store.root], {
        cwd: process.cwd(),
      });
    await Promise.all([child(), child(), child()]);
    expect(new TextDecoder().decode((await store.get('counter'))?.body)).toBe('120');
  });

  it('refuses a signed URL signed with another secret', async () => {
    const store = await folderStore();
    const other = new FolderObjectStore({
      root: store.root,
      signingSecret: 'other',
      publicUrl: 'http://localhost:3000',
    });
    await store.put('private/r.pdf', '%PDF');
    const url = new URL(await other.signedUrl('private/r.pdf', { expiresInSeconds: 60 }));
    expect(store.verifySignedUrl(url.pathname + url.search)).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    const good = new URL(
      await store.signedUrl('private/r.pdf', { expiresInSeconds: 60, downloadName: 'Étude.pdf' }),
    );
    expect(store.verifySignedUrl(good.pathname + good.search)).toEqual({
      ok: true,
      key: 'private/r.pdf',
      downloadName: 'Étude.pdf',
    });
  });
});
