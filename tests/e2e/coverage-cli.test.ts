/**
 * `pressroom coverage` (issue 21, item 6): articles that cite a release, recorded on the
 * command line, shown on the release's page ("Dans la presse") and on the press room's
 * coverage page, exported as CSV; a wrong field or an unknown release changes nothing.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { DomUtils, parseDocument } from 'htmlparser2';
import { beforeAll, describe, expect, it } from 'vitest';
import { exampleWorkspaceForFile, expectExit, folderSnapshot } from '../support/cli.ts';

const workspace = exampleWorkspaceForFile('pressroom-coverage-');
const { pressroom } = workspace;
const seed = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
const slug = 'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes';
const article = 'https://www.quotidien-ouest.example.com/2021/06/09/villes-moyennes';
const hostile = 'Villes </a><script>alert(1)</script> & crise';

const site = (file: string) => readFile(path.join(workspace.dir, '.pressroom/site', file), 'utf8');
const store = () => folderSnapshot(path.join(workspace.dir, '.pressroom'), ['.pressroom-store']);

beforeAll(async () => {
  expectExit(await pressroom('publish', seed, '--no-pdf'), 0);
});

describe('pressroom coverage', () => {
  it('records an article: the release page shows it, escaped, and the room gets a coverage page', async () => {
    const run = await pressroom(
      'coverage',
      'add',
      slug,
      article,
      '--outlet',
      'Quotidien de l’Ouest',
      '--date',
      '2021-06-09',
      '--title',
      hostile,
      '--language',
      'fr',
    );
    expectExit(run, 0);
    expect(run.stdout).toContain(
      `Added ${article} (Quotidien de l’Ouest, 2021-06-09) to the coverage of ${slug}`,
    );

    const page = parseDocument(await site(`releases/${slug}/index.html`));
    // The title opened no script: the inline one is the JSON-LD, the other the search box's file.
    expect(
      DomUtils.getElementsByTagName('script', page).map(
        (s) => s.attribs.type ?? s.attribs.src?.replace(/.*\/|-[0-9a-f]+(?=\.js$)/g, ''),
      ),
    ).toEqual(['application/ld+json', 'search.js']);
    const section = DomUtils.findOne(
      (e) => e.name === 'section' && e.attribs.class === 'coverage',
      page.children,
    );
    expect(section).toBeTruthy();
    const text = DomUtils.textContent(section as NonNullable<typeof section>).replace(/\s+/g, ' ');
    expect(text).toContain('Dans la presse');
    expect(text).toContain(`${hostile} – Quotidien de l’Ouest, mercredi 9 juin 2021`);
    const link = DomUtils.findOne((e) => e.name === 'a', [section as NonNullable<typeof section>]);
    expect(link?.attribs).toMatchObject({ href: article, rel: 'noopener' });

    const coverage = await site('coverage/index.html');
    expect(coverage).toContain('Retombées presse');
    expect(coverage).toContain(`href="${article}" rel="noopener"`);
    expect(coverage).toContain(`href="../releases/${slug}/index.html"`);
    expect(coverage).not.toContain('<script>alert(1)');
    expect(await site('index.html')).toContain('<a href="coverage/index.html">Toutes les retombées</a>');
  });

  it('lists the articles, and writes them as CSV', async () => {
    const json = await pressroom('coverage', 'list', '--json');
    expectExit(json, 0);
    expect(JSON.parse(json.stdout).articles).toMatchObject([
      {
        slug,
        url: article,
        outlet: 'Quotidien de l’Ouest',
        date: '2021-06-09',
        title: hostile,
        language: 'fr',
      },
    ]);
    const csv = await pressroom('coverage', 'list', slug, '--csv', 'retombees.csv');
    expectExit(csv, 0);
    expect(csv.stdout).toContain('Wrote 1 article(s) into retombees.csv');
    const rows = parse(await readFile(path.join(workspace.dir, 'retombees.csv'), 'utf8'), {
      bom: true,
      columns: true,
    }) as Record<string, string>[];
    expect(rows).toEqual([
      {
        date: '2021-06-09',
        outlet: 'Quotidien de l’Ouest',
        title: hostile,
        url: article,
        language: 'fr',
        release: slug,
        release_title: 'Gestion de crise avec le numérique\u00a0: les villes moyennes résilientes',
        added_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
  });

  it('refuses an http address or a wrong date, naming each value, and changes nothing', async () => {
    const before = await store();
    const run = await pressroom(
      'coverage',
      'add',
      slug,
      'http://www.journal.example.com/a',
      '--outlet',
      'Journal',
      '--date',
      '9 juin 2021',
    );
    expectExit(run, 1);
    expect(run.stderr).toContain('url must be the https address of the article');
    expect(run.stderr).toContain('(value: "http://www.journal.example.com/a")');
    expect(run.stderr).toContain('date must be a real calendar date written YYYY-MM-DD');
    expect(run.stderr).toContain('(value: "9 juin 2021")');
    expect(run.stderr).toContain('Nothing was recorded.');
    expect(await store()).toEqual(before);
  });

  it('refuses an unknown release, saying where the slugs are', async () => {
    const before = await store();
    const run = await pressroom(
      'coverage',
      'add',
      'pas-de-communique',
      article,
      '--outlet',
      'Journal',
      '--date',
      '2021-06-09',
    );
    expectExit(run, 1);
    expect(run.stderr).toContain(
      'no release "pas-de-communique" in the archive: `pressroom archive list` shows the slugs',
    );
    expect(await store()).toEqual(before);
  });

  it('removes an article: the section, the coverage page and its link go', async () => {
    const missing = await pressroom('coverage', 'remove', slug, 'https://ailleurs.example.com/');
    expectExit(missing, 1);
    expect(missing.stderr).toContain('no article at "https://ailleurs.example.com/"');

    expectExit(await pressroom('coverage', 'remove', slug, article), 0);
    expect(await site(`releases/${slug}/index.html`)).not.toContain('class="coverage"');
    await expect(site('coverage/index.html')).rejects.toThrow(/ENOENT/);
    expect(await site('index.html')).not.toContain('coverage/index.html');
    const list = await pressroom('coverage', 'list');
    expect(list.stdout).toContain('No article recorded.');
  });
});
