/**
 * The admin's files on disk (lambdas/adapters/admin-files.ts): a new publication file is
 * created whole and never replaces one, only directly in the publications folder; the
 * workspace's organisations are listed with their names.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspaceSenders } from '../../lambdas/adapters/admin-campaign-files.ts';
import { workspaceReleaseSources } from '../../lambdas/adapters/admin-files.ts';
import { localFiles } from '../../lambdas/adapters/local-files.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pressroom-admin-files-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('creating a publication file', () => {
  it('writes it whole in publications/ (made if missing), and never replaces a file', async () => {
    const sources = workspaceReleaseSources(root, localFiles());
    const created = await sources.create('2026-12-07-essai.md', '---\ntitle: Essai\n---\n\nUn.\n');
    expect(created).toEqual({
      path: path.join(root, 'publications', '2026-12-07-essai.md'),
      name: path.join('publications', '2026-12-07-essai.md'),
    });
    expect(await sources.create('2026-12-07-essai.md', 'autre chose')).toBe('exists');
    const folder = path.join(root, 'publications');
    expect(await readFile(path.join(folder, '2026-12-07-essai.md'), 'utf8')).toBe(
      '---\ntitle: Essai\n---\n\nUn.\n',
    );
    // No temporary file is left behind, after a success or a refusal.
    expect(await readdir(folder)).toEqual(['2026-12-07-essai.md']);
    expect((await sources.list()).map((f) => f.name)).toEqual([
      path.join('publications', '2026-12-07-essai.md'),
    ]);
  });

  it('refuses a name outside the folder, hidden, or not .md, and works only in a workspace', async () => {
    const sources = workspaceReleaseSources(root, localFiles());
    for (const name of ['../x.md', 'sub/x.md', '.x.md', 'x.yaml'])
      await expect(sources.create(name, 'x'), name).rejects.toThrow('not a publication file name');
    await expect(workspaceReleaseSources(undefined, localFiles()).create('x.md', 'x')).rejects.toThrow(
      'no workspace',
    );
    expect(await readdir(root)).toEqual([]);
  });
});

describe('the organisations', () => {
  it('are the organizations/*.yaml files, by id, with the name each gives (its id when unreadable or invalid)', async () => {
    const dir = path.join(root, 'organizations');
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'villes-internet.yaml'),
      'name: Villes Internet\nabout: Une association.\nemail: presse@villes-internet.example.org\n',
    );
    await writeFile(path.join(dir, 'broken.yaml'), 'name: [unclosed\n');
    // Parses, but is no organisation: an address that is not one, no "about".
    await writeFile(path.join(dir, 'invalid.yaml'), 'name: Invalide\nemail: "x <y@example.org>"\n');
    await writeFile(path.join(dir, 'notes.txt'), 'not one');
    expect(await workspaceReleaseSources(root, localFiles()).organizations()).toEqual([
      { id: 'broken', name: 'broken' },
      { id: 'invalid', name: 'invalid' },
      { id: 'villes-internet', name: 'Villes Internet' },
    ]);
    expect(await workspaceReleaseSources(undefined, localFiles()).organizations()).toEqual([]);
    // The compose form's senders read them the same way: the invalid one offers none.
    expect(await workspaceSenders(root, undefined)).toEqual([
      'Villes Internet <presse@villes-internet.example.org>',
    ]);
  });
});
