import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleWorkspaceForFile } from '../support/cli.ts';

const seed = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
const workspace = exampleWorkspaceForFile('pressroom-cli-');
const { pressroom } = workspace;

describe('pressroom render', () => {
  it('writes every format and prints the paths', async () => {
    const { code, stdout } = await pressroom('render', seed, '--out', 'out/seed');
    expect(code).toBe(0);
    expect(stdout).toContain('out/seed/email.html');
    expect((await readdir(path.join(workspace.dir, 'out/seed'))).sort()).toEqual([
      '.pressroom-output',
      'email.html',
      'email.txt',
      'page.html',
      'preview.html',
      'preview.txt',
      'publication.json',
    ]);
    const data = JSON.parse(await readFile(path.join(workspace.dir, 'out/seed/publication.json'), 'utf8'));
    expect(data).toMatchObject({
      slug: 'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes',
      lang: 'fr',
    });
    expect(data.publishers.map((p: { name: string }) => p.name)).toEqual([
      'Villes Internet',
      'Villes de France',
    ]);
  });

  it('defaults to ./out/<slug>/ and reports JSON with --json', async () => {
    const { code, stdout } = await pressroom(
      'render',
      'examples/publications/2024-03-12-open-data-barometer.md',
      '--json',
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.slug).toBe('open-data-barometer-2024');
    expect(result.dir).toBe(path.join('out', 'open-data-barometer-2024'));
    expect(result.files).toContain(
      path.join('out/open-data-barometer-2024/files/attachments/open-data-barometer-summary.txt'),
    );
    const attachment = await readFile(
      path.join(
        workspace.dir,
        'out/open-data-barometer-2024/files/attachments/open-data-barometer-summary.txt',
      ),
    );
    expect(attachment).toEqual(
      await readFile(
        path.join(workspace.dir, 'examples/publications/attachments/open-data-barometer-summary.txt'),
      ),
    );
  });

  it('refuses bad input with every problem located, exits non-zero and writes nothing', async () => {
    await pressroom('render', seed, '--out', 'out/kept');
    const before = await readFile(path.join(workspace.dir, 'out/kept/email.html'), 'utf8');
    const original = await readFile(path.join(workspace.dir, seed), 'utf8');
    const broken = original
      .replace('date: 2021-06-08', 'date: 2021-06-31')
      .replace('author: Michaël Bideault', 'auteur: Michaël Bideault')
      .replace('  - villes-de-france', '  - villes-de-frnce');
    await writeFile(path.join(workspace.dir, 'examples/publications/broken.md'), broken);

    for (const out of ['out/kept', 'out/new']) {
      const { code, stdout, stderr } = await pressroom(
        'render',
        'examples/publications/broken.md',
        '--out',
        out,
      );
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toContain('problems found; nothing was written');
      expect(stderr).toContain('examples/publications/broken.md:3:7 date: must be a real calendar date');
      expect(stderr).toContain('(value: "2021-06-31")');
      expect(stderr).toMatch(/broken\.md:\d+:1 auteur: unknown field "auteur"/);
    }
    // The first problems stop validation before organisations are looked up; fix them to see the next.
    await writeFile(
      path.join(workspace.dir, 'examples/publications/broken.md'),
      original.replace('  - villes-de-france', '  - villes-de-frnce'),
    );
    const { code, stderr } = await pressroom('render', 'examples/publications/broken.md', '--out', 'out/new');
    expect(code).toBe(1);
    expect(stderr).toContain('publishers[1]: unknown organisation "villes-de-frnce"');
    expect(await readFile(path.join(workspace.dir, 'out/kept/email.html'), 'utf8')).toBe(before);
    await expect(readdir(path.join(workspace.dir, 'out/new'))).rejects.toThrow(/ENOENT/);
    expect((await readdir(path.join(workspace.dir, 'out'))).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('never replaces a folder it did not write', async () => {
    await mkdir(path.join(workspace.dir, 'mine'), { recursive: true });
    await writeFile(path.join(workspace.dir, 'mine/thesis.docx'), 'precious');
    const { code, stderr } = await pressroom('render', seed, '--out', 'mine');
    expect(code).toBe(1);
    expect(stderr).toContain('already holds files that pressroom did not write');
    expect(await readFile(path.join(workspace.dir, 'mine/thesis.docx'), 'utf8')).toBe('precious');
    expect(await readdir(path.join(workspace.dir, 'mine'))).toEqual(['thesis.docx']);
  });

  it('says when the file does not exist', async () => {
    const { code, stderr } = await pressroom('render', 'nope.md');
    expect(code).toBe(1);
    expect(stderr).toContain('nope.md: file not found');
  });

  it('has help for every command', async () => {
    const top = await pressroom('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('render [options] <publication>');
    const render = await pressroom('render', '--help');
    expect(render.code).toBe(0);
    expect(render.stdout).toContain('--out <dir>');
    expect(render.stdout).toContain('--data-dir <dir>');
    expect(render.stdout).toContain('PRESSROOM_DATA_DIR');
  });

  it('rejects an unknown option with usage and a non-zero exit', async () => {
    const { code, stderr } = await pressroom('render', seed, '--outt', 'x');
    expect(code).not.toBe(0);
    expect(stderr).toContain("unknown option '--outt'");
  });
});

describe('pressroom contacts export', () => {
  it('writes the list whole, readable by its owner only, or nothing', async () => {
    const data = ['--data-dir', 'export-data'];
    expect(
      (
        await pressroom(
          'contacts',
          'import',
          'examples/contacts/journalistes.csv',
          '--list',
          'presse',
          ...data,
        )
      ).code,
    ).toBe(0);
    const done = await pressroom('contacts', 'export', '--list', 'presse', '--out', 'presse.csv', ...data);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('Exported 30 contact(s) of presse into presse.csv');
    const csv = await readFile(path.join(workspace.dir, 'presse.csv'), 'utf8');
    expect(csv.split('\n').filter(Boolean)).toHaveLength(31);
    expect((await stat(path.join(workspace.dir, 'presse.csv'))).mode & 0o777).toBe(0o600);
    const refused = await pressroom(
      'contacts',
      'export',
      '--list',
      'presse',
      '--out',
      'missing/presse.csv',
      ...data,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('cannot write missing/presse.csv: its folder does not exist');
    expect((await readdir(workspace.dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
