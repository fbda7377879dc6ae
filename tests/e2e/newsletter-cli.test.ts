/**
 * `pressroom newsletter render | publish | draft`, run as a user would in a temporary
 * workspace holding a copy of the examples.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exampleWorkspaceForFile, expectExit } from '../support/cli.ts';
import { barometer, barometre, crise } from '../support/example-releases.ts';

const issue = 'examples/newsletters/2024-03-lettre.md';
const workspace = exampleWorkspaceForFile('pressroom-newsletter-cli-');
const { pressroom } = workspace;

beforeAll(async () => {
  // Every example release; a translation after the release it translates.
  const examples = [crise, barometer, barometre].map((release) => release.file);
  const files = (await readdir(path.join(workspace.dir, 'examples/publications'))).filter((f) =>
    f.endsWith('.md'),
  );
  expect(files.map((f) => `examples/publications/${f}`).sort()).toEqual([...examples].sort());
  for (const file of examples) expectExit(await pressroom('publish', file, '--no-pdf'), 0);
});

describe('pressroom newsletter', () => {
  it('render writes every format into ./out/newsletters/<id>/ and archives nothing', async () => {
    const run = await pressroom('newsletter', 'render', issue);
    expectExit(run, 0);
    expect(run.stdout).toContain(
      `Rendered 2024-03-lettre into ${path.join('out', 'newsletters', '2024-03-lettre')}/`,
    );
    const dir = path.join(workspace.dir, 'out/newsletters/2024-03-lettre');
    expect((await readdir(dir)).sort()).toEqual([
      '.pressroom-output',
      'email.html',
      'email.txt',
      'issue.json',
      'page.html',
      'preview.html',
      'preview.txt',
    ]);
    expect(await readFile(path.join(dir, 'preview.txt'), 'utf8')).toContain('Bonjour Camille,');
    await expect(readdir(path.join(workspace.dir, '.pressroom/newsletters'))).rejects.toThrow();
  });

  it('publish archives the issue and prints its page; --json gives the result', async () => {
    const run = await pressroom('newsletter', 'publish', issue, '--json');
    expectExit(run, 0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      id: '2024-03-lettre',
      state: 'public',
      action: 'created',
      url: 'http://localhost:3000/newsletters/2024-03-lettre/index.html',
      releases: [
        'open-data-barometer-2024',
        'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes',
      ],
    });
    expect(await readFile(result.newslettersIndex, 'utf8')).toContain('La lettre de Villes Internet');
    const again = await pressroom('newsletter', 'publish', issue);
    expectExit(again, 0);
    expect(again.stdout).toContain('Updated newsletter 2024-03-lettre (public)');
    expect(again.stdout).toContain('"newsletter: 2024-03-lettre"');
  });

  it('refuses a bad issue with each problem located, exits 1 and writes nothing', async () => {
    const broken = (await readFile(path.join(workspace.dir, issue), 'utf8'))
      .replace('date: 2024-03-15', 'date: 2024-03-32')
      .replace('  - release: open-data-barometer-2024', '  - release: barometre-inconnu');
    await writeFile(path.join(workspace.dir, 'examples/newsletters/broken.md'), broken);
    const render = await pressroom(
      'newsletter',
      'render',
      'examples/newsletters/broken.md',
      '--out',
      'out/broken',
    );
    expectExit(render, 1);
    expect(render.stderr).toContain('examples/newsletters/broken.md:6:7 date: must be a real calendar date');
    await expect(readdir(path.join(workspace.dir, 'out/broken'))).rejects.toThrow();

    const dated = broken.replace('date: 2024-03-32', 'date: 2024-03-31');
    await writeFile(path.join(workspace.dir, 'examples/newsletters/broken.md'), dated);
    const publish = await pressroom('newsletter', 'publish', 'examples/newsletters/broken.md');
    expectExit(publish, 1);
    expect(publish.stderr).toContain(
      'examples/newsletters/broken.md:15:14 items[0].release: no published release has this slug',
    );
    expect(publish.stderr).toContain('(value: "barometre-inconnu")');
    await expect(readdir(path.join(workspace.dir, '.pressroom/newsletters/broken'))).rejects.toThrow();
  });

  it('draft writes a starting issue, refuses to overwrite it without --force', async () => {
    const out = 'examples/newsletters/brouillon.md';
    const first = await pressroom('newsletter', 'draft', '--since', '2024-01-01', '--out', out);
    expectExit(first, 0);
    expect(first.stdout).toContain(`Wrote ${out}: 1 release(s) since 2024-01-01`);
    const text = await readFile(path.join(workspace.dir, out), 'utf8');
    // One version of a translated release: the one in the issue's language (French here).
    expect(text).toContain(`  - release: ${barometre.slug}`);
    expect(text).not.toContain(`release: ${barometer.slug}`);
    expect(text).not.toContain('gestion-de-crise');
    // It renders as it stands.
    expectExit(await pressroom('newsletter', 'render', out, '--out', 'out/brouillon'), 0);

    await writeFile(path.join(workspace.dir, out), 'my edits');
    const refused = await pressroom('newsletter', 'draft', '--since', '2021-01-01', '--out', out);
    expectExit(refused, 1);
    expect(refused.stderr).toContain(`${out} already exists: nothing was written`);
    expect(await readFile(path.join(workspace.dir, out), 'utf8')).toBe('my edits');

    const forced = await pressroom(
      'newsletter',
      'draft',
      '--since',
      '2021-01-01',
      '--out',
      out,
      '--force',
      '--json',
    );
    expectExit(forced, 0);
    expect(JSON.parse(forced.stdout).releases).toHaveLength(2);
    expect(await readFile(path.join(workspace.dir, out), 'utf8')).toContain('gestion-de-crise');
    expect(
      (await readdir(path.join(workspace.dir, 'examples/newsletters'))).filter((f) => f.includes('.tmp-')),
    ).toEqual([]);
  });

  it('draft refuses a bad --since, and needs one', async () => {
    const bad = await pressroom('newsletter', 'draft', '--since', '2024-13-01', '--out', 'x.md');
    expectExit(bad, 1);
    expect(bad.stderr).toContain('--since must be a real calendar date written YYYY-MM-DD');
    expect(bad.stderr).toContain('"2024-13-01"');
    const missing = await pressroom('newsletter', 'draft');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("required option '--since <YYYY-MM-DD>' not specified");
    await expect(readFile(path.join(workspace.dir, 'x.md'))).rejects.toThrow();
  });
});
