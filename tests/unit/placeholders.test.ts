/**
 * The recipient placeholders are filled without Handlebars' compiler (placeholders.ts), so
 * the sending function does not carry it: the fill must give Handlebars' bytes, on the real
 * emails and on any template the stage-2 language allows, and refuse the rest by name.
 */
import Handlebars from 'handlebars';
import { beforeAll, describe, expect, it } from 'vitest';
import { localSourceFiles } from '../../lambdas/adapters/local-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { TemplateError } from '../../lambdas/core/errors.ts';
import { loadPublication } from '../../lambdas/core/publication/load.ts';
import { createReleaseRenderer, type RenderedRelease } from '../../lambdas/core/render/document.ts';
import { compilePlaceholders } from '../../lambdas/core/render/placeholders.ts';
import { compileForRecipients, type RecipientFields } from '../../lambdas/core/render/recipient.ts';

/** Stage 2 as it was compiled with Handlebars: the reference. */
const handlebars = Handlebars.create();
const stage2 = {
  knownHelpers: { if: true, unless: true },
  knownHelpersOnly: true,
  strict: false,
  preventIndent: true,
};
const withHandlebars = (source: string, html: boolean) =>
  handlebars.compile(source, { ...stage2, noEscape: !html });

const recipients: RecipientFields[] = [
  {
    recipient: { email: 'zoe@example.org', firstName: 'Zoé', lastName: 'Lefèvre', fullName: 'Zoé Lefèvre' },
    unsubscribeUrl: 'https://press.example.org/unsubscribe/abc?x=1&y=2',
  },
  {
    recipient: { email: "o'brien+<tag>@example.org", fullName: "o'brien+<tag>@example.org" },
    unsubscribeUrl: 'https://press.example.org/unsubscribe/"quoted"=`tick`',
  },
  // The press room's copy: filled for nobody.
  { recipient: { email: '' }, unsubscribeUrl: '' },
];

describe('the recipient placeholders, filled without Handlebars', () => {
  const releases: [string, RenderedRelease][] = [];
  beforeAll(async () => {
    const renderer = createReleaseRenderer(await loadTemplateFiles());
    for (const file of [
      'examples/publications/2021-06-08-numerique-gestion-de-crise.md',
      'examples/publications/2024-03-12-open-data-barometer.md',
    ]) {
      const { publication } = await loadPublication(file, localSourceFiles);
      releases.push([file, await renderer.render(publication, { webUrl: 'https://press.example.org/r/' })]);
      // Data that looks like placeholders stays text.
      const hostile = {
        ...publication,
        title: 'Titre {{recipient.email}} \\{{unsubscribeUrl}} {{#if x}}',
        lead: 'Chapô {{{recipient.fullName}}} {{> footer}}',
      };
      releases.push([`${file} (braces in the data)`, await renderer.render(hostile, {})]);
    }
  });

  it('gives the bytes Handlebars gives for the real emails, HTML and text, whole and in segments', () => {
    expect(releases.length).toBe(4);
    for (const [name, release] of releases) {
      const email = compileForRecipients(release.email);
      const html = withHandlebars(release.email.html, true);
      const text = withHandlebars(release.email.text, false);
      expect(release.email.html, name).toContain('{{#if unsubscribeUrl}}');
      for (const fields of recipients) {
        const filled = email.fill(fields);
        const data = { ...fields, recipient: { fullName: fields.recipient.email, ...fields.recipient } };
        expect(filled.html, name).toBe(html(data));
        expect(filled.text, name).toBe(text(data));
        const segments = email.fillSegments(fields);
        expect(segments.html.join(''), name).toBe(filled.html);
        expect(segments.text.join(''), name).toBe(filled.text);
      }
      // The placeholders were filled: none is left, and the data's braces are still there.
      const zoe = email.fill(recipients[0] as RecipientFields);
      expect(zoe.html).toContain('https://press.example.org/unsubscribe/abc?x&#x3D;1&amp;y&#x3D;2');
      expect(zoe.text).toContain('https://press.example.org/unsubscribe/abc?x=1&y=2');
      if (name.includes('braces')) expect(zoe.text).toContain('{\u2060{recipient.email}}');
    }
  });

  it('gives the bytes Handlebars gives for generated templates: blocks, else, ~, standalone lines, comments, escapes', () => {
    // A fixed pseudo-random sequence: the same templates on every run.
    let seed = 19;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pieces = [
      'a',
      ' ',
      '  ',
      '\t',
      '\n',
      '\r\n',
      ' \n',
      'x\n',
      '<&>"\'`=',
      '{{a}}',
      '{{ b }}',
      '{{{c}}}',
      '{{&c}}',
      '{{~a~}}',
      '{{d.e}}',
      '{{{g.[1]}}}',
      '{{g.[0]}}',
      '{{!c}}',
      '{{!-- c --}}',
      '{{~! c ~}}',
      '\\{{a}}',
      '\\\\{{a}}',
    ];
    const template = (depth: number): string => {
      let s = '';
      for (let i = next(5); i > 0; i--) {
        if (depth < 3 && next(3) === 0) {
          const helper = next(2) ? 'if' : 'unless';
          const tilde = () => (next(3) === 0 ? '~' : '');
          const space = () => ['', '\n', ' \n', '\n  ', '  '][next(5)];
          const path = ['a', 'b', 'c', 'd.e', 'f'][next(5)];
          s += `${space()}{{${tilde()}#${helper} ${path}${tilde()}}}${space()}${template(depth + 1)}${space()}`;
          if (next(2)) s += `{{${tilde()}else${tilde()}}}${space()}${template(depth + 1)}${space()}`;
          s += `{{${tilde()}/${helper}${tilde()}}}${space()}`;
        } else s += pieces[next(pieces.length)];
      }
      return s;
    };
    const data = [
      { a: 'A<', b: '', c: '<b>"c"</b>', d: { e: 'E' }, f: [], g: ['https://a.example/?x=1&y=<2>', 'G1'] },
      { a: '', b: 'B', c: '', d: {}, f: ['x'], g: [] },
      {},
      { b: 'constructor', d: 'not an object' },
    ];
    for (let n = 0; n < 400; n++) {
      const source = template(0);
      for (const html of [true, false]) {
        const ours = compilePlaceholders(source, { escape: html });
        const theirs = withHandlebars(source, html);
        for (const d of data) expect(ours(d), JSON.stringify(source)).toBe(theirs(d));
      }
    }
  });

  it('refuses, with the tag and its line, what stage 2 does not fill', () => {
    const refusals: [string, RegExp][] = [
      ['<p>\n{{#each items}}x{{/each}}</p>', /block stage 2 does not fill: "\{\{#each items\}\}" at line 2/],
      ['{{> footer}}', /tag stage 2 does not fill: "\{\{> footer\}\}" at line 1/],
      ['{{lookup a "b"}}', /placeholder stage 2 does not fill: "\{\{lookup a \\"b\\"\}\}"/],
      ['{{../a}}', /placeholder stage 2 does not fill/],
      ['{{#if a}}x', /block that is not closed: "\{\{#if a\}\}" at line 1/],
      ['{{#if a}}x{{/unless}}', /closing tag with no block of its own: "\{\{\/unless\}\}"/],
      ['x{{else}}', /\{\{else\}\} with no block of its own/],
      ['{{#if a}}x{{else if b}}y{{/if}}', /placeholder stage 2 does not fill: "\{\{else if b\}\}"/],
      ['{{a', /tag that does not end/],
    ];
    for (const [source, message] of refusals) {
      expect(() => compilePlaceholders(source, { escape: true }), source).toThrow(TemplateError);
      expect(() => compilePlaceholders(source, { escape: true }), source).toThrow(message);
      // Handlebars refuses the broken ones too; `each`, `lookup`, `../` and `else if` it would
      // fill, but the document stage never writes them for stage 2.
      if (!/each|lookup|\.\.\/|else if/.test(source))
        expect(() => withHandlebars(source, true)({}), source).toThrow();
    }
  });
});
