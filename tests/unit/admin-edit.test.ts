/**
 * Saving a publication edited in the admin (lambdas/core/admin/edit.ts): a file opened and
 * saved unchanged is byte for byte the same (the examples, and a file written by hand with
 * comments, odd quoting, CRLF line endings and a BOM); an edit rewrites only what changed,
 * keeping comments and the style of a text.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { editPublicationText } from '../../lambdas/core/admin/edit.ts';
import { parseYaml, splitFrontMatter } from '../../lambdas/core/input.ts';
import { repo } from '../support/cli.ts';

/** What the admin reads of a file: its front matter as data, its body (as the API gives them). */
function opened(text: string): { frontMatter: Record<string, unknown>; body: string } {
  const split = splitFrontMatter(text, 'x.md');
  return {
    frontMatter: parseYaml(split.yaml, 'x.md', split.yamlFirstLine).data as Record<string, unknown>,
    body: split.body,
  };
}

/** The lines of `b` that differ from those of `a`, by position. */
function changedLines(a: string, b: string): string[] {
  const x = a.split('\n');
  const y = b.split('\n');
  return y.filter((line, i) => line !== x[i]);
}

const handWritten = [
  '\uFEFF---',
  '# Relu par Camille le 3 juin.',
  "title: 'Étude « villes » : l’essentiel'   # le titre court",
  'date: 2021-06-08',
  'place:   Paris',
  '',
  '# Le chapô tient en deux phrases.',
  'lead: >-',
  '  Une enquête inédite',
  '  sur deux lignes.',
  'publishers: [villes-internet, villes-de-france]',
  'tags:',
  '    - numérique',
  '    - "villes moyennes"',
  '---',
  '',
  'Le corps.',
  '',
].join('\r\n');

describe('a file saved unchanged', () => {
  const examples = [
    'examples/publications/2021-06-08-numerique-gestion-de-crise.md',
    'examples/publications/2024-03-12-open-data-barometer.md',
  ];
  it.each(examples)('%s stays byte for byte the same', (file) => {
    const text = readFileSync(path.join(repo, file), 'utf8');
    expect(editPublicationText(text, opened(text), file)).toBe(text);
  });

  it('a file written by hand (comments, quoting, CRLF, BOM) stays byte for byte the same', () => {
    expect(editPublicationText(handWritten, opened(handWritten), 'x.md')).toBe(handWritten);
  });
});

describe('an edit', () => {
  it('rewrites the one field that changed, and keeps the comments', () => {
    const data = opened(handWritten);
    const edited = editPublicationText(
      handWritten,
      { ...data, frontMatter: { ...data.frontMatter, title: 'Un autre titre : court' } },
      'x.md',
    );
    // Its quotes and its comment kept.
    expect(changedLines(handWritten, edited)).toEqual(["title: 'Un autre titre : court' # le titre court\r"]);
    expect(edited).toContain('# Relu par Camille le 3 juin.');
    expect(opened(edited).frontMatter.title).toBe('Un autre titre : court');
  });

  it('keeps a folded text folded, and the comment before the next field', () => {
    const data = opened(handWritten);
    const edited = editPublicationText(
      handWritten,
      { ...data, frontMatter: { ...data.frontMatter, place: 'Lyon', lead: 'Un nouveau chapô.' } },
      'x.md',
    );
    expect(edited).toContain(
      'place: Lyon\r\n\r\n# Le chapô tient en deux phrases.\r\nlead: >-\r\n  Un nouveau chapô.\r\n',
    );
    expect(opened(edited).frontMatter).toEqual({
      ...data.frontMatter,
      place: 'Lyon',
      lead: 'Un nouveau chapô.',
    });
  });

  it('removes a field, adds one at the end, and replaces the body alone', () => {
    const data = opened(handWritten);
    const { place: _place, ...rest } = data.frontMatter;
    const edited = editPublicationText(
      handWritten,
      { frontMatter: { ...rest, subtitle: 'Sous-titre' }, body: '\nUn autre corps.\n' },
      'x.md',
    );
    expect(edited).not.toContain('place:');
    expect(edited).toContain(
      '    - "villes moyennes"\r\nsubtitle: Sous-titre\r\n---\r\n\r\nUn autre corps.\r\n',
    );
    expect(edited.startsWith('\uFEFF---\r\n# Relu par Camille')).toBe(true);
    expect(opened(edited)).toEqual({
      frontMatter: { ...rest, subtitle: 'Sous-titre' },
      body: '\nUn autre corps.\n',
    });
  });
});
