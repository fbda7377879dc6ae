/**
 * The source-file adapters confine what a publication reads: on disk, regular files inside
 * its workspace, reached without a symbolic link, under the size limit; in the bucket, keys
 * under publications/ and under the size limit. A refused file is a RefusedFileError saying
 * why and what to do, never a read.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFiles, workspaceOf } from '../../lambdas/adapters/local-files.ts';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { storeSourceFiles } from '../../lambdas/adapters/store-files.ts';
import { defaultTemplatesDir, loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { FileTooLargeError, RefusedFileError } from '../../lambdas/core/errors.ts';
import { collect } from '../../lambdas/core/store/object-store.ts';

let top: string;
let ws: string;
let outside: string;

beforeAll(async () => {
  top = await mkdtemp(path.join(tmpdir(), 'pressroom-source-files-'));
  ws = path.join(top, 'ws');
  outside = path.join(top, 'outside');
  await mkdir(path.join(ws, 'publications', 'attachments'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(ws, 'pressroom.yaml'), '# a workspace\n');
  await writeFile(path.join(ws, 'publications', 'p.md'), 'publication');
  await writeFile(path.join(ws, 'publications', 'attachments', 'ok.txt'), 'ok');
  await writeFile(path.join(ws, 'publications', 'attachments', 'big.bin'), Buffer.alloc(2048));
  await writeFile(path.join(outside, 'secret.txt'), 'secret');
  const at = (name: string) => path.join(ws, 'publications', 'attachments', name);
  await symlink('/proc/self/environ', at('environ'));
  await symlink(path.join(outside, 'secret.txt'), at('secret.txt'));
  await symlink(at('ok.txt'), at('inside-link.txt'));
  await symlink(path.join(top, 'nowhere'), at('dangling.txt'));
  await symlink('/dev/zero', at('zero'));
  await symlink(outside, path.join(ws, 'publications', 'linked-folder'));
  await mkdir(at('folder.pdf'));
  execFileSync('mkfifo', [at('pipe.pdf')]);
});

afterAll(async () => {
  if (top) await rm(top, { recursive: true, force: true });
});

const publication = () => path.join(ws, 'publications', 'p.md');
const attachment = (name: string) => path.join(ws, 'publications', 'attachments', name);

describe('local files of a publication', () => {
  const files = () => localFiles({ maxFileSize: 1000 }).within(publication());

  it('finds the workspace upwards, and falls back to the file’s folder outside any', () => {
    expect(workspaceOf(publication())).toBe(ws);
    expect(workspaceOf(path.join(outside, 'secret.txt'))).toBe(outside);
  });

  it('reads a regular file inside the workspace, and says when there is none', async () => {
    expect(new TextDecoder().decode(await files().readBytes(attachment('ok.txt')))).toBe('ok');
    expect(await files().size(attachment('ok.txt'))).toBe(2);
    expect(await files().readBytes(attachment('missing.txt'))).toBeUndefined();
    expect(await files().size(attachment('missing.txt'))).toBeUndefined();
    expect(await files().stream(attachment('missing.txt'))).toBeUndefined();
  });

  it('streams a file, checked when it is measured and again when it is opened', async () => {
    const body = await files().stream(attachment('ok.txt'));
    expect(body?.size).toBe(2);
    expect(Buffer.from(await collect((await body?.open()) ?? [])).toString()).toBe('ok');
    // Swapped for a link after it was measured: refused when it is opened.
    const swapped = path.join(ws, 'publications', 'attachments', 'swapped.txt');
    await writeFile(swapped, 'fine');
    const later = await files().stream(swapped);
    await rm(swapped);
    await symlink(path.join(outside, 'secret.txt'), swapped);
    await expect(later?.open()).rejects.toMatchObject({ kind: 'link' });
  });

  it.each([
    ['a link to /proc/self/environ', 'environ', 'link', /symbolic link.*\/proc\//],
    [
      'a link to a file outside',
      'secret.txt',
      'link',
      /symbolic link.*outside\/secret\.txt.*copy the file itself/,
    ],
    ['a link to a file inside', 'inside-link.txt', 'link', /symbolic link/],
    ['a link to nothing', 'dangling.txt', 'link', /symbolic link/],
    ['a link to /dev/zero', 'zero', 'link', /symbolic link.*\/dev\/zero/],
    ['a named pipe', 'pipe.pdf', 'special', /named pipe \(FIFO\), not a regular file/],
    ['a folder', 'folder.pdf', 'special', /a folder, not a regular file/],
    ['a file over the size limit', 'big.bin', 'size', /2\.0 kB|2 kB/],
  ])('refuses %s, for reading and for measuring', async (_name, name, kind, message) => {
    for (const read of [
      () => files().readBytes(attachment(name)),
      () => files().size(attachment(name)),
      () => files().stream(attachment(name)),
    ]) {
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RefusedFileError);
      expect(error).toMatchObject({ kind });
      expect((error as RefusedFileError).reason).toMatch(message);
    }
  });

  it('refuses a file over a read’s own limit from its size, with the size and the limit', async () => {
    const error = await files()
      .readBytes(attachment('big.bin'), { maxSize: 100 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileTooLargeError);
    expect(error).toMatchObject({ kind: 'size', size: 2048, maxSize: 100 });
    expect(await files().readBytes(attachment('ok.txt'), { maxSize: 2 })).toEqual(Buffer.from('ok'));
    // The adapter's own limit stays the most a read may ask for.
    await expect(files().readBytes(attachment('big.bin'), { maxSize: 10_000 })).rejects.toMatchObject({
      maxSize: 1000,
    });
  });

  it('names the limit in the size refusal', async () => {
    await expect(files().readBytes(attachment('big.bin'))).rejects.toThrow(
      /more than the 1 kB a publication may bring in one file \(PRESSROOM_MAX_FILE_SIZE\)/,
    );
  });

  it('refuses a file in a linked folder, and a path that leaves the workspace', async () => {
    await expect(
      files().readBytes(path.join(ws, 'publications', 'linked-folder', 'secret.txt')),
    ).rejects.toMatchObject({ kind: 'link' });
    await expect(files().readBytes(path.join(outside, 'secret.txt'))).rejects.toMatchObject({
      kind: 'outside',
    });
    await expect(files().readBytes(path.join(ws, '..', 'outside', 'secret.txt'))).rejects.toMatchObject({
      kind: 'outside',
    });
  });

  it('refuses a NUL in a path instead of crashing', async () => {
    await expect(files().readBytes(attachment('a\0b.txt'))).rejects.toBeInstanceOf(RefusedFileError);
  });

  it('confines a file read on its own (a campaign) to its own workspace', async () => {
    const direct = localFiles();
    expect(await direct.size(attachment('ok.txt'))).toBe(2);
    await expect(direct.readBytes(attachment('environ'))).rejects.toMatchObject({ kind: 'link' });
  });
});

describe('template folders', () => {
  it('trusts pressroom’s own templates', async () => {
    const templates = await loadTemplateFiles(defaultTemplatesDir, { workspace: ws });
    expect(templates.pressRelease.email).toContain('<mjml');
  });

  it('refuses a template folder linked from inside the workspace', async () => {
    await symlink(defaultTemplatesDir, path.join(ws, 'my-templates'));
    await expect(loadTemplateFiles(path.join(ws, 'my-templates'), { workspace: ws })).rejects.toThrow(
      /symbolic link/,
    );
  });

  it('refuses a template folder outside the workspace, and reads one inside', async () => {
    await cp(defaultTemplatesDir, path.join(outside, 'templates'), { recursive: true });
    await expect(loadTemplateFiles(path.join(outside, 'templates'), { workspace: ws })).rejects.toThrow(
      /outside the workspace/,
    );
    await cp(defaultTemplatesDir, path.join(ws, 'templates'), { recursive: true });
    const inside = await loadTemplateFiles(path.join(ws, 'templates'), { workspace: ws });
    expect(inside.pressRelease.email).toContain('<mjml');
  });
});

describe('files of a publication in the bucket', () => {
  const store = new MemoryObjectStore({
    signingSecret: 'a-secret-of-at-least-32-characters-long',
    publicUrl: 'https://p.example.org',
  });
  const files = storeSourceFiles(store, { root: 'publications/', maxFileSize: 1000 });

  beforeAll(async () => {
    await store.put('publications/2021/a.md', 'publication');
    await store.put('publications/attachments/big.bin', new Uint8Array(2000));
    await store.put('contacts/contacts.json', '{}');
  });

  it('reads keys under publications/, written with or without a leading slash', async () => {
    expect(new TextDecoder().decode(await files.readBytes('/publications/2021/a.md'))).toBe('publication');
    expect(await files.size('publications/2021/a.md')).toBe(11);
    expect(await files.readBytes('/publications/2021/missing.md')).toBeUndefined();
  });

  it('refuses a key that climbs out of publications/, and an absolute path elsewhere', async () => {
    await expect(files.readBytes('/publications/2021/../../contacts/contacts.json')).rejects.toMatchObject({
      kind: 'outside',
    });
    await expect(files.readBytes('/contacts/contacts.json')).rejects.toMatchObject({ kind: 'outside' });
  });

  it('refuses an object over a read’s own limit from its head, without getting it', async () => {
    const got: string[] = [];
    const watched = Object.create(store, {
      get: {
        value: (key: string) => {
          got.push(key);
          return store.get(key);
        },
      },
    }) as MemoryObjectStore;
    const watchedFiles = storeSourceFiles(watched, { root: 'publications/', maxFileSize: 1000 });
    await expect(watchedFiles.readBytes('/publications/2021/a.md', { maxSize: 5 })).rejects.toMatchObject({
      size: 11,
      maxSize: 5,
    });
    await expect(watchedFiles.readBytes('/publications/attachments/big.bin')).rejects.toMatchObject({
      size: 2000,
      maxSize: 1000,
    });
    expect(got).toEqual([]);
  });

  it('refuses an object over the size limit', async () => {
    await expect(files.readBytes('/publications/attachments/big.bin')).rejects.toMatchObject({
      kind: 'size',
    });
    await expect(files.size('/publications/attachments/big.bin')).rejects.toMatchObject({ kind: 'size' });
    await expect(files.stream('/publications/attachments/big.bin')).rejects.toMatchObject({ kind: 'size' });
    const body = await files.stream('/publications/2021/a.md');
    expect(body?.size).toBe(11);
    expect(Buffer.from(await collect((await body?.open()) ?? [])).toString()).toBe('publication');
  });
});
