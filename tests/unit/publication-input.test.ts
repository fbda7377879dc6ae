/**
 * Hostile and careless publication input, in the loaders: over-long fields and lists,
 * control characters, YAML traps (alias bombs, deep nesting, unquoted colons), Markdown that
 * rendering cannot take, images, encodings, embargo times, bare-slug newsletter items.
 * Every case ends in located problems (an InvalidInputError), never another exception.
 * The same inputs through the real command are in tests/e2e/hostile-publications.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError, type Problem } from '../../lambdas/core/errors.ts';
import { limits, publicationLimits as max, parseByteSize } from '../../lambdas/core/limits.ts';
import { loadIssue } from '../../lambdas/core/newsletter/load.ts';
import { loadPublication } from '../../lambdas/core/publication/load.ts';
import { markdownToHtml } from '../../lambdas/core/render/markdown.ts';
import { decodeText } from '../../lambdas/core/text-encoding.ts';
import { memoryFiles, publicationText, villesInternet } from '../support/memory-files.ts';

const org = { 'organizations/villes-internet.yaml': villesInternet };
const file = 'publications/p.md';

async function problemsOf(files: Record<string, string | Uint8Array>, at = file): Promise<Problem[]> {
  try {
    await loadPublication(at, memoryFiles(files));
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems;
    throw error;
  }
  throw new Error('expected the publication to be refused');
}

/** A publication whose front matter ends with `extra` (YAML) and whose body is `body`. */
const withFields = (extra: string, body?: string) => ({ ...org, [file]: publicationText(extra, body) });

const long = (n: number) => 'x'.repeat(n + 1);

describe('limits on fields and lists', () => {
  const inline = (fields: string) => `  - name: Villes de France\n    about: Association.\n${fields}`;
  it.each([
    ['title', `title: ${long(max.title)}\n`, 'title'],
    ['subtitle', `subtitle: ${long(max.subtitle)}\n`, 'subtitle'],
    ['place', `place: ${long(max.name)}\n`, 'place'],
    ['lead', `lead: ${long(max.lead)}\n`, 'lead'],
    ['author', `author: ${long(max.name)}\n`, 'author'],
    ['a tag', `tags: [${long(max.label)}]\n`, 'tags[0]'],
    ['a quote', `quotes:\n  - text: ${long(max.quote)}\n    author: A\n`, 'quotes[0].text'],
    ['a speaker', `quotes:\n  - text: T\n    author: ${long(max.name)}\n`, 'quotes[0].author'],
    ['a role', `quotes:\n  - text: T\n    author: A\n    role: ${long(max.name)}\n`, 'quotes[0].role'],
    ['a figure label', `figures:\n  - { value: 1, label: ${long(max.label)} }\n`, 'figures[0].label'],
    ['a figure value', `figures:\n  - { value: ${long(max.label)}, label: l }\n`, 'figures[0].value'],
    ['a link label', `links:\n  - { label: ${long(max.label)}, url: "https://a.org" }\n`, 'links[0].label'],
    ['a link URL', `links:\n  - { label: l, url: "https://a.org/${long(max.url)}" }\n`, 'links[0].url'],
    [
      'an attachment label',
      `attachments:\n  - { file: a.pdf, label: ${long(max.label)} }\n`,
      'attachments[0].label',
    ],
    ['an attachment path', `attachments:\n  - ${long(max.path)}\n`, 'attachments[0]'],
  ])('refuses an over-long %s, naming the limit', async (_name, yaml, path) => {
    // title and lead are in every publication: replaced; the others added.
    const field = /^(title|lead):/.exec(yaml)?.[1];
    const text = field
      ? publicationText().replace(new RegExp(`^${field}: .*\n`, 'm'), yaml)
      : publicationText(yaml);
    const problems = await problemsOf({ ...org, [file]: text });
    expect(problems).toEqual([
      expect.objectContaining({
        path,
        message: expect.stringMatching(/too long: \d+ characters, at most [\d,]+/),
      }),
    ]);
    expect(problems[0]?.line).toBeGreaterThan(1);
  });

  it.each([
    ['an organisation name', inline(`  - name: ${long(max.name)}\n    about: A.\n`), 'publishers[2].name'],
    ['an about', inline(`  - name: N\n    about: ${long(max.about)}\n`), 'publishers[2].about'],
    [
      'an address',
      inline(`  - name: N\n    about: A.\n    address: ${long(max.address)}\n`),
      'publishers[2].address',
    ],
    [
      'a press contact email',
      inline(
        `  - name: N\n    about: A.\n    pressContact: { name: P, email: "${'a'.repeat(250)}@example.org" }\n`,
      ),
      'publishers[2].pressContact.email',
    ],
  ])('refuses %s over its limit in an inline organisation', async (_name, publishers, path) => {
    const text = publicationText().replace('  - villes-internet\n', `  - villes-internet\n${publishers}`);
    const problems = await problemsOf({ ...org, [file]: text });
    expect(problems.map((p) => p.path)).toContain(path);
    expect(problems.find((p) => p.path === path)?.message).toMatch(/too long/);
  });

  it('keeps the email limit of RFC 5321', () => {
    expect(limits.email).toBe(254);
  });

  it.each([
    ['tags', `tags: [${Array.from({ length: max.tags + 1 }, (_, i) => `t${i}`).join(', ')}]\n`, max.tags],
    ['figures', `figures:\n${'  - { value: 1, label: l }\n'.repeat(max.figures + 1)}`, max.figures],
    ['quotes', `quotes:\n${'  - { text: t, author: a }\n'.repeat(max.quotes + 1)}`, max.quotes],
    ['links', `links:\n${'  - { label: l, url: "https://a.org" }\n'.repeat(max.links + 1)}`, max.links],
    ['attachments', `attachments:\n${'  - a.pdf\n'.repeat(max.attachments + 1)}`, max.attachments],
  ])('refuses more %s than allowed, before looking at any file', async (name, yaml, limit) => {
    const problems = await problemsOf(withFields(yaml));
    expect(problems).toEqual([
      expect.objectContaining({ path: name, message: `has ${limit + 1} ${name}, at most ${limit}` }),
    ]);
  });

  it('refuses a publication file over 2 MB from its size, before decoding or parsing it', async () => {
    // Invalid YAML and a NUL: neither is reported, the size alone is.
    const text = `---\ntitle: [\n---\n\u0000${'x'.repeat(max.publicationFile)}`;
    const problems = await problemsOf({ ...org, [file]: text });
    expect(problems).toEqual([
      {
        file,
        path: '',
        message: expect.stringMatching(
          /^this file is 2 MB, more than the 2 MB a publication or issue file \(front matter and Markdown\) may be.*put the full text in an attachment$/,
        ),
      },
    ]);
    expect(max.publicationFile).toBeGreaterThanOrEqual(2 * (max.body + max.frontMatter));
  });

  it('refuses a newsletter issue over 2 MB the same way', async () => {
    const issue = 'newsletters/n.md';
    const text = `---\ntitle: La lettre\n---\n${'x'.repeat(3_000_000)}`;
    const error = await loadIssue(issue, memoryFiles({ ...org, [issue]: text })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems).toEqual([
      expect.objectContaining({
        file: issue,
        message: expect.stringContaining('is 3 MB, more than the 2 MB'),
      }),
    ]);
  });

  it('refuses a body over the limit before parsing it, at the line where it starts', async () => {
    const body = 'Du texte. '.repeat(max.body / 10 + 1);
    const problems = await problemsOf(withFields('', body));
    expect(problems).toEqual([
      expect.objectContaining({ path: 'body', line: 8, message: expect.stringContaining('200,000 allowed') }),
    ]);
  });

  it('refuses a front matter over the limit (a closing "---" forgotten)', async () => {
    const problems = await problemsOf(withFields(`author: ${'x'.repeat(max.frontMatter)}\n`));
    expect(problems[0]).toMatchObject({ line: 2, message: expect.stringContaining('closing "---" missing') });
  });
});

describe('control characters', () => {
  it('refuses a NUL written as a YAML escape in a field', async () => {
    const problems = await problemsOf(withFields('author: "Michaël\\0Bideault"\n'));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'author',
        line: 7,
        message: expect.stringContaining('control character'),
      }),
    ]);
  });

  it('refuses a NUL in an attachment path', async () => {
    const problems = await problemsOf(withFields('attachments: ["a\\0b.pdf"]\n'));
    expect(problems[0]).toMatchObject({
      path: 'attachments[0]',
      message: expect.stringContaining('control'),
    });
  });

  it('refuses a raw NUL byte in the body, at its line and column', async () => {
    const problems = await problemsOf(withFields('', 'Ligne un.\n\nLigne tr\u0000ois.'));
    expect(problems).toEqual([
      expect.objectContaining({ line: 10, column: 9, message: expect.stringContaining('U+0000 (NUL)') }),
    ]);
  });
});

describe('YAML traps', () => {
  it('refuses an alias bomb (billion laughs) with a message, not a crash', async () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'tags: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    ].join('\n');
    const problems = await problemsOf(withFields(`${bomb}\n`));
    expect(problems).toEqual([
      expect.objectContaining({ line: 2, message: expect.stringContaining('aliases') }),
    ]);
  });

  it('refuses YAML nested deeper than the parser follows', async () => {
    const problems = await problemsOf(withFields(`tags: ${'['.repeat(5000)}${']'.repeat(5000)}\n`));
    expect(problems[0]?.message).toContain('nested too deeply');
  });

  it('explains an unquoted colon in a value and gives the quoted line', async () => {
    const text = publicationText().replace(/^title: .*$/m, 'title: Gestion de crise : les villes');
    const problems = await problemsOf({ ...org, [file]: text });
    expect(problems).toEqual([
      expect.objectContaining({
        line: 2,
        message: expect.stringContaining(
          'put the whole value in double quotes, as in title: "Gestion de crise : les villes"',
        ),
      }),
    ]);
  });

  it('gives the quoted line inside a list of mappings', async () => {
    const problems = await problemsOf(withFields('quotes:\n  - text: Il a dit : bonjour\n    author: A\n'));
    expect(problems[0]).toMatchObject({ line: 8 });
    expect(problems[0]?.message).toContain('as in   - text: "Il a dit : bonjour"');
  });

  it('explains a list item YAML silently read as a field', async () => {
    const problems = await problemsOf(withFields('tags:\n  - numérique : avenir\n'));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'tags[0]',
        line: 8,
        message: expect.stringContaining('as in - "numérique : avenir"'),
      }),
    ]);
  });
});

describe('Markdown that rendering cannot take', () => {
  it('refuses 2,000 nested tags at their line', async () => {
    const body = `Intro.\n\n${'<blockquote>'.repeat(2000)}x${'</blockquote>'.repeat(2000)}`;
    const problems = await problemsOf(withFields('', body));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'body',
        line: 10,
        message: expect.stringContaining('2000 levels deep'),
      }),
    ]);
  });

  it('refuses a body made of too many elements', async () => {
    const problems = await problemsOf(withFields('', '*a* '.repeat(max.bodyElements + 1)));
    expect(problems[0]?.message).toContain(`more than the ${max.bodyElements.toLocaleString('en')}`);
  });

  it('accepts ordinary nesting and HTML blocks', async () => {
    const body = `${'<div>\n\nParagraphe.\n\n</div>\n\n'.repeat(300)}- a\n  - b\n    - c\n`;
    const { publication } = await loadPublication(file, memoryFiles(withFields('', body)));
    expect(publication.body).toContain('- c');
  });

  it('refuses deep nesting in the lead, at the lead', async () => {
    const text = publicationText().replace(/^lead: .*$/m, `lead: "${'<em>'.repeat(150)}x"`);
    const problems = await problemsOf({ ...org, [file]: text });
    expect(problems).toEqual([expect.objectContaining({ path: 'lead', line: 4 })]);
  });
});

describe('images', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);

  it('takes a relative image beside the publication as one of its files', async () => {
    const { publication } = await loadPublication(
      file,
      memoryFiles({
        ...withFields('', 'Texte.\n\n![Carte](images/carte.png) et ![Logo](<./images/mon logo.png>)'),
        'publications/images/carte.png': png,
        'publications/images/mon logo.png': png,
      }),
    );
    expect(publication.images).toEqual([
      { file: 'images/carte.png', size: 4 },
      { file: 'images/mon logo.png', size: 4 },
    ]);
  });

  it('refuses a missing image with its line and value', async () => {
    const problems = await problemsOf(withFields('', 'Un.\n\nDeux ![x](photo.jpg).'));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'body',
        line: 10,
        value: 'photo.jpg',
        message: expect.stringContaining('image not found at publications/photo.jpg'),
      }),
    ]);
  });

  it.each([
    ['an http image', '![x](http://example.org/a.png)', 'https://'],
    ['a data: image', '<img src="data:image/png;base64,AAAA">', 'https://'],
    ['an image above the folder', '![x](../secret.png)', 'no ".."'],
    ['an absolute path', '<img src="/etc/a.png">', 'no ".."'],
    ['an SVG file', '![x](logo.svg)', '.png, .jpg'],
  ])('refuses %s, at its line', async (_name, markdown, fragment) => {
    const problems = await problemsOf(withFields('', `Texte.\n\n${markdown}`));
    expect(problems).toEqual([
      expect.objectContaining({ path: 'body', line: 10, message: expect.stringContaining(fragment) }),
    ]);
  });

  it('refuses a local image in the lead', async () => {
    const text = publicationText().replace(/^lead: .*$/m, 'lead: Voir ![x](a.png)');
    const problems = await problemsOf({ ...org, [file]: text, 'publications/a.png': png });
    expect(problems).toEqual([
      expect.objectContaining({ path: 'lead', value: 'a.png', message: expect.stringContaining('https://') }),
    ]);
  });

  it('never leaves a relative src in HTML: unknown files are dropped, known ones made absolute', () => {
    const html = markdownToHtml(
      '![a](a.png) <img src="b.png"> ![c](https://x.org/c.png) ![d](http://x.org/d.png)',
      {
        imageUrl: (f) => (f === 'a.png' ? 'http://localhost:3000/releases/r/files/a.png' : undefined),
      },
    );
    const sources = [...html.matchAll(/src="([^"]*)"/g)].map((m) => m[1]);
    expect(sources).toEqual(['http://localhost:3000/releases/r/files/a.png', 'https://x.org/c.png']);
  });
});

describe('encodings', () => {
  const win1252 = (text: string) =>
    new Uint8Array([...text].map((c) => ({ é: 0xe9, è: 0xe8, '’': 0x92, œ: 0x9c })[c] ?? c.charCodeAt(0)));

  it('converts a Windows-1252 publication and says so; no replacement character', async () => {
    const text = publicationText('author: Michaël\n', 'Le cœur de l’été.');
    const { publication, notices } = await loadPublication(
      file,
      memoryFiles({ ...org, [file]: win1252(text.replace(/\u00a0/g, ' ').replace('ë', 'e')) }),
    );
    expect(publication.body).toBe('Le cœur de l’été.');
    expect(JSON.stringify(publication)).not.toContain('\ufffd');
    expect(notices).toEqual([expect.stringContaining(`${file} is not UTF-8: read as Windows-1252`)]);
  });

  it('converts an organisation file that is not UTF-8', async () => {
    const { notices, publication } = await loadPublication(
      file,
      memoryFiles({
        [file]: publicationText(),
        'organizations/villes-internet.yaml': win1252(villesInternet.replace('’', 'é')),
      }),
    );
    expect(publication.publishers[0]?.about).toContain('é');
    expect(notices).toEqual([expect.stringContaining('organizations/villes-internet.yaml is not UTF-8')]);
  });

  it.each([
    ['UTF-16 LE with its mark', [0xff, 0xfe, ...utf16('Été', 'le')], 'little-endian'],
    ['UTF-16 BE with its mark', [0xfe, 0xff, ...utf16('Été', 'be')], 'big-endian'],
    ['UTF-16 LE without a mark', utf16('title: Été à Paris', 'le'), 'little-endian'],
  ])('converts %s', (_name, bytes, kind) => {
    const decoded = decodeText(new Uint8Array(bytes), 'f.md');
    expect(decoded.text.endsWith('Été') || decoded.text === 'title: Été à Paris').toBe(true);
    expect(decoded.notice).toContain(kind);
  });

  it('maps the bytes where Windows-1252 differs from Latin-1 (Node decodes them as Latin-1)', () => {
    const decoded = decodeText(new Uint8Array([0x80, 0x92, 0x93, 0x94, 0x96, 0x9c, 0x85, 0xe9]), 'f.md');
    expect(decoded.text).toBe('€’“”–œ…é');
  });

  it('takes valid UTF-8 as UTF-8, whatever it looks like, and drops its mark', () => {
    for (const text of ['Été', 'Ã©tÃ© (already mojibake, still valid UTF-8)', 'plain ASCII', '日本語', '']) {
      expect(decodeText(new TextEncoder().encode(text), 'f.md')).toEqual({ text });
    }
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]), 'f.md')).toEqual({ text: 'A' });
  });
});

describe('embargo', () => {
  const embargo = async (value: string) => {
    const { publication } = await loadPublication(file, memoryFiles(withFields(`embargo: ${value}\n`)));
    return publication.embargo;
  };

  it('accepts a time with an IANA zone, as campaigns do, and keeps its offset', async () => {
    expect(await embargo('2021-06-08 08:00 Europe/Paris')).toBe('2021-06-08T08:00:00+02:00');
    expect(await embargo('2021-12-08T08:00 Europe/Paris')).toBe('2021-12-08T08:00:00+01:00');
    expect(await embargo('2021-06-08T08:00:00+02:00')).toBe('2021-06-08T08:00:00+02:00');
  });

  it.each([
    ['2021-06-08 08:00', '"2021-06-08 08:00 Europe/Paris"'],
    ['2021-06-08', '"2021-06-08 08:00 Europe/Paris"'],
    ['2021-06-08T08:00:00', '"2021-06-08T08:00:00+02:00"'],
  ])('refuses %s, which has no zone, saying how to write it', async (value, fix) => {
    const problems = await problemsOf(withFields(`embargo: ${value}\n`));
    expect(problems).toEqual([
      expect.objectContaining({ path: 'embargo', line: 7, message: expect.stringContaining(fix) }),
    ]);
  });

  it('refuses an unknown zone', async () => {
    const problems = await problemsOf(withFields('embargo: 2021-06-08 08:00 Europe/Parsi\n'));
    expect(problems[0]?.message).toContain('unknown time zone');
  });
});

describe('organisations are looked up inside the workspace only', () => {
  it('does not search, nor name, a folder outside it', async () => {
    const files = memoryFiles(
      { 'ws/p.md': publicationText(), 'organizations/villes-internet.yaml': villesInternet },
      { root: 'ws/' },
    );
    await expect(loadPublication('ws/p.md', files)).rejects.toThrow(
      /unknown organisation "villes-internet": no file ws\/organizations\/villes-internet.yaml\. /,
    );
  });
});

describe('newsletter issues', () => {
  const issue = (items: string, body = '') => `---
title: La lettre
date: 2026-03-15
publishers: [villes-internet]
intro: Bonjour.
items:
${items}---
${body}`;
  const load = (text: string) =>
    loadIssue('lettres/mars.md', memoryFiles({ 'lettres/mars.md': text, ...org }));

  it('accepts a bare release slug as an item, as people write it', async () => {
    const { issue: loaded } = await load(issue('  - etude-villes\n  - release: autre-etude\n'));
    expect(loaded.items).toEqual([{ release: 'etude-villes' }, { release: 'autre-etude' }]);
  });

  it('refuses a bare item that is not a slug, at its line', async () => {
    await expect(load(issue('  - Étude des villes\n'))).rejects.toMatchObject({
      problems: [
        expect.objectContaining({
          path: 'items[0]',
          line: 7,
          message: expect.stringContaining('lower-case'),
        }),
      ],
    });
  });

  it('refuses a local image in an issue, which carries no files', async () => {
    await expect(load(issue('  - etude\n', 'Texte.\n\n![x](photo.jpg)\n'))).rejects.toMatchObject({
      problems: [expect.objectContaining({ path: 'body', line: 11, value: 'photo.jpg' })],
    });
  });

  it('refuses an over-long summary and too many items', async () => {
    await expect(load(issue(`  - { release: a, summary: ${long(max.lead)} }\n`))).rejects.toMatchObject({
      problems: [expect.objectContaining({ path: 'items[0].summary' })],
    });
    await expect(load(issue('  - a\n'.repeat(max.items + 1)))).rejects.toMatchObject({
      problems: [
        expect.objectContaining({
          path: 'items',
          message: `has ${max.items + 1} items, at most ${max.items}`,
        }),
      ],
    });
  });
});

describe('sizes in the configuration', () => {
  it.each([
    ['50MB', 50_000_000],
    ['500kB', 500_000],
    ['1.5 MiB', 1_572_864],
    ['20000', 20_000],
  ])('reads %s', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['', 'lots', '-1MB', '0', '5 parsecs'])('refuses %j', (text) => {
    expect(parseByteSize(text)).toBeUndefined();
  });
});

function utf16(text: string, order: 'le' | 'be'): number[] {
  return [...text].flatMap((c) => {
    const code = c.charCodeAt(0);
    return order === 'le' ? [code & 0xff, code >> 8] : [code >> 8, code & 0xff];
  });
}
