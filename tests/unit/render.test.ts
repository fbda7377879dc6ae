import { beforeAll, describe, expect, it } from 'vitest';
import { localSourceFiles } from '../../lambdas/adapters/local-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { loadPublication } from '../../lambdas/core/publication/load.ts';
import type { Publication } from '../../lambdas/core/publication/schema.ts';
import {
  createReleaseRenderer,
  type ReleaseRenderer,
  type RenderedRelease,
} from '../../lambdas/core/render/document.ts';
import { compileForRecipients, type RecipientFields } from '../../lambdas/core/render/recipient.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { memoryFiles, publicationText, villesInternet } from '../support/memory-files.ts';
import { seedFacts } from '../support/seed-facts.ts';

const seed = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
const camille: RecipientFields = {
  recipient: { email: 'camille@example.org', firstName: 'Camille', lastName: 'Martin' },
  unsubscribeUrl: 'https://press.example.org/u/abc?x=1&y=2',
};

let templates: TemplateSet;
let renderer: ReleaseRenderer;
let seedPublication: Publication;
let seedRelease: RenderedRelease;

beforeAll(async () => {
  templates = await loadTemplateFiles();
  renderer = createReleaseRenderer(templates);
  seedPublication = (await loadPublication(seed, localSourceFiles)).publication;
  seedRelease = await renderer.render(seedPublication);
});

/** Visible text of an HTML document, roughly: tags out, entities of interest decoded. */
function textOf(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/[ \t\r\n]+/g, ' ');
}

describe('the seed press release', () => {
  // Everything the reference release says must reach every format.
  const content = [...seedFacts];

  it.each(content)('email, text and page all say "%s"', (phrase) => {
    expect(textOf(seedRelease.email.html)).toContain(phrase);
    expect(seedRelease.email.text.replace(/[ \t\r\n]+/g, ' ')).toContain(phrase);
    expect(textOf(seedRelease.page)).toContain(phrase);
  });

  it('is valid MJML (strict validation, no errors) and uses no remote fonts', () => {
    expect(seedRelease.email.html).toMatch(/^<!doctype html>/i);
    expect(seedRelease.email.html).not.toContain('fonts.googleapis.com');
    expect(seedRelease.email.html).toContain('lang="fr"');
  });

  it('leaves the recipient placeholders in the email and none in the page', () => {
    expect(seedRelease.email.html).toMatch(/\{\{\s*recipient\.firstName\s*\}\}/);
    expect(seedRelease.email.html).toMatch(/href="\{\{\s*unsubscribeUrl\s*\}\}"/);
    expect(seedRelease.email.html).toMatch(/\{\{\s*recipient\.fullName\s*\}\}/);
    expect(seedRelease.email.text).toMatch(/\{\{\s*unsubscribeUrl\s*\}\}/);
    expect(seedRelease.page).not.toContain('{{');
  });

  it('fills the placeholders per recipient, escaping HTML but not text', () => {
    const email = compileForRecipients(seedRelease.email);
    const filled = email.fill(camille);
    expect(filled.html).toContain('Bonjour Camille,');
    expect(filled.html).toContain('en tant que Camille Martin.');
    expect(filled.html).toContain('href="https://press.example.org/u/abc?x&#x3D;1&amp;y&#x3D;2"');
    expect(filled.text).toContain('Se désabonner\u00a0: https://press.example.org/u/abc?x=1&y=2');
    expect(filled.html).not.toContain('{{');
    expect(filled.text).not.toContain('{{');

    const tricky = email.fill({
      recipient: { email: 'z@example.org', firstName: '<b>Zoé</b>' },
      unsubscribeUrl: 'https://x.example/u',
    });
    expect(tricky.html).toContain('Bonjour &lt;b&gt;Zoé&lt;/b&gt;,');
    expect(tricky.html).not.toContain('<b>Zoé');
    expect(tricky.text).toContain('Bonjour <b>Zoé</b>,');

    const anonymous = email.fill({
      recipient: { email: 'a@example.org' },
      unsubscribeUrl: 'https://x.example/u',
    });
    expect(anonymous.html).toContain('Bonjour,');
    expect(anonymous.html).toContain('en tant que a@example.org.');
  });
});

describe('data is escaped', () => {
  const hostile = {
    'organizations/villes-internet.yaml': villesInternet.replace(
      'about: Association d’élus fondée en 2002.',
      'about: "Texte <script>alert(1)</script> <a href=\\"javascript:alert(2)\\" onclick=\\"x()\\">lien</a>"',
    ),
    'publications/p.md': publicationText(
      [
        'subtitle: "<img src=x onerror=alert(3)>"',
        'quotes:',
        '  - text: "</mj-text><mj-raw><script>alert(4)</script></mj-raw>"',
        '    author: "\\"><svg onload=alert(5)>"',
        'figures:',
        '  - { value: "<b>97</b>", label: contributions }',
        'author: "{{recipient.email}} {{#each x}}"',
        '',
      ].join('\n'),
      'Corps <script>alert(6)</script> <iframe src="https://evil.example"></iframe> {{unsubscribeUrl}}',
    ),
  };

  it('in the email, the text and the page', async () => {
    const { publication: pub } = await loadPublication('publications/p.md', memoryFiles(hostile));
    const release = await renderer.render(pub);
    const filled = compileForRecipients(release.email).fill(camille);
    for (const html of [release.email.html, release.page, filled.html]) {
      expect(html).not.toMatch(/<script|<svg|<iframe|<img src=x|onerror=|onclick=|onload=|javascript:|<mj-/i);
      expect(html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(3)&gt;');
      expect(html).toContain('&lt;b&gt;97&lt;/b&gt;');
    }
  });

  it('and never becomes template code for the recipient stage', async () => {
    const { publication: pub } = await loadPublication('publications/p.md', memoryFiles(hostile));
    const release = await renderer.render(pub);
    const filled = compileForRecipients(release.email).fill(camille);
    // The byline and body asked for the recipient's address and link: they show the braces, not the values.
    expect(filled.html).not.toContain('camille@example.org');
    expect(filled.text).not.toContain('camille@example.org');
    expect(filled.html).toContain('{\u2060{recipient.email}}');
    expect(filled.text).toContain('{\u2060{recipient.email}} {\u2060{#each x}}');
    expect(filled.text.match(/https:\/\/press\.example\.org/g)).toHaveLength(1);
  });
});

describe('English releases', () => {
  it('use English strings and dates', async () => {
    const { publication: pub } = await loadPublication(
      'examples/publications/2024-03-12-open-data-barometer.md',
      localSourceFiles,
    );
    const release = await renderer.render(pub, { filesUrl: 'https://press.example.org/r/x/files/' });
    const text = textOf(release.page);
    expect(text).toContain('Press release');
    expect(text).toContain('Tuesday 12 March 2024');
    expect(text).toContain('About Open Cities Federation');
    expect(release.page).toContain('lang="en"');
    expect(release.page).toContain(
      'href="https://press.example.org/r/x/files/attachments/open-data-barometer-summary.txt"',
    );
    const filled = compileForRecipients(release.email).fill(camille);
    expect(filled.html).toContain('Dear Camille,');
    expect(filled.text).toContain('Unsubscribe: https://press.example.org/u/abc?x=1&y=2');
  });
});

describe('the recipient stage in segments (what messages are composed from)', () => {
  it('joins to exactly what fill gives, for each example release and every kind of recipient', async () => {
    const recipients: RecipientFields[] = [
      camille,
      { recipient: { email: 'sans.nom@example.org' }, unsubscribeUrl: 'https://press.example.org/u/2' },
      {
        recipient: { email: 'x@example.org', firstName: 'Zoé <b>&' },
        unsubscribeUrl: 'https://press.example.org/u/3',
      },
    ];
    for (const file of [seed, 'examples/publications/2024-03-12-open-data-barometer.md']) {
      const release = await renderer.render((await loadPublication(file, localSourceFiles)).publication);
      const email = compileForRecipients(release.email);
      for (const fields of recipients) {
        const whole = email.fill(fields);
        const segments = email.fillSegments(fields);
        expect(segments.html.join('')).toBe(whole.html);
        expect(segments.text.join('')).toBe(whole.text);
        // Cut, not one piece: the lines without placeholders are shared by every message.
        expect(segments.html.length).toBeGreaterThan(2);
        expect(segments.text.length).toBeGreaterThan(2);
      }
    }
  });

  it('falls back to one segment when a block is written in a way lines cannot be cut', () => {
    const email = compileForRecipients({
      html: '<p>\n{{~#if recipient.firstName}}\nBonjour {{recipient.firstName}}\n{{~/if}}\n</p>\n',
      text: 'a\n{{#if recipient.firstName}}b{{else}}\nc{{/if}}\nd\n',
    });
    for (const fields of [
      camille,
      { recipient: { email: 'a@example.org' }, unsubscribeUrl: 'https://x/u' },
    ]) {
      const whole = email.fill(fields);
      const segments = email.fillSegments(fields);
      expect(segments.html.join('')).toBe(whole.html);
      expect(segments.text.join('')).toBe(whole.text);
    }
  });
});
