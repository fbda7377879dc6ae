import { describe, expect, it } from 'vitest';
import { InvalidInputError, type Problem } from '../../lambdas/core/errors.ts';
import { loadPublication } from '../../lambdas/core/publication/load.ts';
import { slugify } from '../../lambdas/core/publication/slug.ts';
import { memoryFiles, publicationText, villesInternet } from '../support/memory-files.ts';

const org = { 'organizations/villes-internet.yaml': villesInternet };

async function problemsOf(files: Record<string, string>, file = 'publications/p.md'): Promise<Problem[]> {
  try {
    await loadPublication(file, memoryFiles(files));
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).problems;
  }
  throw new Error('expected the publication to be refused');
}

describe('loadPublication', () => {
  it('reads a valid publication and resolves organisations from the parent folder', async () => {
    const { publication: pub } = await loadPublication(
      'publications/p.md',
      memoryFiles({ ...org, 'publications/p.md': publicationText() }),
    );
    expect(pub.slug).toBe('gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes');
    expect(pub.lang).toBe('fr');
    expect(pub.publishers[0]).toMatchObject({ id: 'villes-internet', name: 'Villes Internet' });
    expect(pub.body).toContain('## Une section');
    expect(pub.title).toContain('\u00a0:');
  });

  it('prefers organisations beside the publication over the parent folder', async () => {
    const { publication: pub } = await loadPublication(
      'publications/p.md',
      memoryFiles({
        ...org,
        'publications/organizations/villes-internet.yaml': villesInternet.replace(
          'Villes Internet',
          'VI local',
        ),
        'publications/p.md': publicationText(),
      }),
    );
    expect(pub.publishers[0]?.name).toBe('VI local');
  });

  it('accepts inline organisations and derives their id', async () => {
    const text = publicationText().replace(
      '  - villes-internet\n',
      '  - villes-internet\n  - name: Villes de France\n    about: Association d’élus.\n',
    );
    const { publication: pub } = await loadPublication(
      'publications/p.md',
      memoryFiles({ ...org, 'publications/p.md': text }),
    );
    expect(pub.publishers.map((p) => p.id)).toEqual(['villes-internet', 'villes-de-france']);
  });

  it('names the file, line, field and a likely spelling for an unknown field', async () => {
    const problems = await problemsOf({ ...org, 'publications/p.md': publicationText('auther: Michaël\n') });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'publications/p.md', line: 7, path: 'auther' });
    expect(problems[0]?.message).toContain('did you mean "author"');
  });

  it('reads translationOf, and refuses one that is not a slug or names the release itself, at its line', async () => {
    const { publication } = await loadPublication(
      'publications/p.md',
      memoryFiles({ ...org, 'publications/p.md': publicationText('lang: en\ntranslationOf: etude-2021\n') }),
    );
    expect(publication).toMatchObject({ lang: 'en', translationOf: 'etude-2021' });
    const [notSlug] = await problemsOf({
      ...org,
      'publications/p.md': publicationText('translationOf: Étude 2021\n'),
    });
    expect(notSlug).toMatchObject({
      file: 'publications/p.md',
      line: 7,
      path: 'translationOf',
      value: 'Étude 2021',
    });
    expect(notSlug?.message).toContain('lower-case letters and digits');
    const [itself] = await problemsOf({
      ...org,
      'publications/p.md': publicationText('slug: soi\ntranslationOf: soi\n'),
    });
    expect(itself).toMatchObject({ line: 8, path: 'translationOf', value: 'soi' });
    expect(itself?.message).toContain('names this release itself');
  });

  it('reports every problem at once, with lines', async () => {
    const text = `---
title: ""
date: 2021-02-30
embargo: 2021-06-08 08:00
lang: de
lead: x
publishers: [villes-internet]
links:
  - label: Étude
    url: javascript:alert(1)
---
`;
    const problems = await problemsOf({ ...org, 'publications/p.md': text });
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(Object.keys(byPath).sort()).toEqual(['date', 'embargo', 'lang', 'links[0].url', 'title']);
    expect(byPath.date).toMatchObject({ line: 3, value: '2021-02-30' });
    expect(byPath.date?.message).toContain('YYYY-MM-DD');
    expect(byPath['links[0].url']).toMatchObject({ line: 10, value: 'javascript:alert(1)' });
    expect(byPath.lang?.message).toContain('"fr" or "en"');
    expect(byPath.embargo?.message).toContain('UTC offset');
  });

  it('says a required field is missing', async () => {
    const text = publicationText().replace(/^lead: .*\n/m, '');
    const problems = await problemsOf({ ...org, 'publications/p.md': text });
    expect(problems).toEqual([
      expect.objectContaining({ path: 'lead', message: expect.stringContaining('required') }),
    ]);
  });

  it('reports YAML syntax errors with their line in the file', async () => {
    const text = publicationText('tags: [a, b\nauthor: x\n');
    const problems = await problemsOf({ ...org, 'publications/p.md': text });
    expect(problems[0]?.message).toContain('YAML syntax error');
    expect(problems[0]?.line).toBeGreaterThanOrEqual(7);
  });

  it('refuses duplicate keys', async () => {
    const problems = await problemsOf({ ...org, 'publications/p.md': publicationText('title: again\n') });
    expect(problems[0]?.message).toContain('YAML syntax error');
    expect(problems[0]?.line).toBe(7);
  });

  it('refuses a file without front matter', async () => {
    const problems = await problemsOf({ 'publications/p.md': '# Just Markdown\n' });
    expect(problems[0]?.message).toContain('no front matter');
  });

  it('names an unknown organisation and where it was looked for', async () => {
    const problems = await problemsOf({ 'publications/p.md': publicationText() });
    expect(problems[0]).toMatchObject({ path: 'publishers[0]', line: 6, value: 'villes-internet' });
    expect(problems[0]?.message).toContain('organizations/villes-internet.yaml');
  });

  it('reports problems inside an organisation file against that file', async () => {
    const bad = villesInternet.replace('color: "#c8102e"', 'color: red\nwebsite: ftp://x.org');
    const problems = await problemsOf({
      'organizations/villes-internet.yaml': bad,
      'publications/p.md': publicationText(),
    });
    expect(problems.map((p) => [p.file, p.path, p.line])).toEqual([
      ['organizations/villes-internet.yaml', 'website', 10],
      ['organizations/villes-internet.yaml', 'color', 9],
    ]);
  });

  it('reports the branch of a union that matches what was written', async () => {
    const text = publicationText().replace('  - villes-internet\n', '  - name: Inline\n    abuot: typo\n');
    const problems = await problemsOf({ 'publications/p.md': text });
    expect(problems.map((p) => p.path).sort()).toEqual(['publishers[0].about', 'publishers[0].abuot']);
  });

  it('checks that attachments exist, relative to the publication', async () => {
    const text = publicationText(
      'attachments:\n  - file: rapport.pdf\n    label: Rapport\n  - missing.pdf\n',
    );
    const problems = await problemsOf({
      ...org,
      'publications/p.md': text,
      'publications/rapport.pdf': '%PDF',
    });
    expect(problems).toEqual([
      expect.objectContaining({ path: 'attachments[1].file', value: 'missing.pdf', line: 10 }),
    ]);
    const { publication: ok } = await loadPublication(
      'publications/p.md',
      memoryFiles({
        ...org,
        'publications/p.md': text.replace('  - missing.pdf\n', ''),
        'publications/rapport.pdf': '%PDF',
      }),
    );
    expect(ok.attachments).toEqual([{ file: 'rapport.pdf', label: 'Rapport', size: 4 }]);
  });

  it('refuses attachments outside the publication folder', async () => {
    const problems = await problemsOf({
      ...org,
      'publications/p.md': publicationText('attachments: [../secret.txt]\n'),
    });
    expect(problems[0]?.message).toContain('no ".."');
  });
});

describe('slugify', () => {
  it.each([
    [
      'Gestion de crise avec le numérique\u00a0: les villes moyennes résilientes',
      'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes',
    ],
    ['À l’œuvre : Élus & Cœurs', 'a-l-oeuvre-elus-coeurs'],
    ['  Open Data Barometer 2024!  ', 'open-data-barometer-2024'],
    ['@@@', ''],
  ])('%s → %s', (title, slug) => {
    expect(slugify(title)).toBe(slug);
  });

  it('cuts long titles at a word boundary', () => {
    const slug = slugify('mot '.repeat(60));
    expect(slug.length).toBeLessThanOrEqual(80);
    expect(slug.endsWith('-')).toBe(false);
  });
});
