/**
 * The email read on a phone and its plain-text part (issue 16): the preview line, readable
 * sizes and colours, tag and social links, dark mode, and a text part as useful as the HTML.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { localSourceFiles } from '../../lambdas/adapters/local-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { renderRelease, summarize } from '../../lambdas/core/archive/publish.ts';
import { opensWithGreeting } from '../../lambdas/core/newsletter/render.ts';
import { loadPublication } from '../../lambdas/core/publication/load.ts';
import { organizationSchema, type Publication } from '../../lambdas/core/publication/schema.ts';
import { socialProfile } from '../../lambdas/core/publication/social.ts';
import {
  contrastRatio,
  createReleaseRenderer,
  excerpt,
  legibleColor,
  type RenderedRelease,
  wrapLine,
} from '../../lambdas/core/render/document.ts';
import { compileForRecipients } from '../../lambdas/core/render/recipient.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';

const seed = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
const english = 'examples/publications/2024-03-12-open-data-barometer.md';
const webUrl = 'https://press.example.org/releases/etude/index.html';
const pdfUrl = 'https://press.example.org/releases/etude/release.pdf';
const camille = {
  recipient: {
    email: 'camille@example.org',
    firstName: 'Camille',
    lastName: 'Martin',
    fullName: 'Camille Martin',
  },
  unsubscribeUrl: 'https://press.example.org/u/abc',
};

let templates: TemplateSet;
let publication: Publication;
let release: RenderedRelease;

beforeAll(async () => {
  templates = await loadTemplateFiles();
  publication = (await loadPublication(seed, localSourceFiles)).publication;
  release = await createReleaseRenderer(templates).render(publication, {
    webUrl,
    pdfUrl,
    tagUrl: (tag) => `https://press.example.org/tags/${encodeURIComponent(tag)}/`,
  });
});

/** The inline styles of visible elements (the hidden preview line left out). */
function visibleStyles(html: string): string[] {
  return [...html.matchAll(/style="([^"]*)"/g)]
    .map((m) => m[1] ?? '')
    .filter((s) => !/display:\s*none/.test(s) && !/mso-hide:all/.test(s));
}

describe('the preview line (preheader)', () => {
  it('is the lead, cut between two words with an ellipsis, about 100 characters', () => {
    const hidden = /<div style="display:none[^>]*>([\s\S]*?)<\/div>/.exec(release.email.html)?.[1] ?? '';
    const text = hidden.split('&#847;')[0] ?? '';
    expect(text.length).toBeGreaterThanOrEqual(90);
    expect(text.length).toBeLessThanOrEqual(110);
    expect(text.endsWith('…')).toBe(true);
    const kept = text.slice(0, -1);
    const lead = publication.lead.replace(/\s+/g, ' ');
    expect(lead.startsWith(kept)).toBe(true);
    // The next character of the lead after what was kept is a space (or punctuation): no word cut.
    expect(lead.charAt(kept.length)).toMatch(/[\s,;:.!?”]/);
  });

  it('is padded so that clients do not append the start of the body', () => {
    const hidden = /<div style="display:none[^>]*>([\s\S]*?)<\/div>/.exec(release.email.html)?.[1] ?? '';
    // The no-break space as an entity or as the character (the French typesetting writes it as a character).
    expect(hidden.match(/&#847;&zwnj;(?:&nbsp;|\u00a0)/g)?.length ?? 0).toBeGreaterThanOrEqual(50);
  });

  it("cuts the page's description between two words, as the preheader", () => {
    const description = /<meta name="description" content="([^"]*)">/.exec(release.page)?.[1] ?? '';
    expect(description).toMatch(/…$/);
    expect(description.length).toBeLessThanOrEqual(151);
    const kept = description
      .slice(0, -1)
      .replace(/&#x27;|&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    const lead = publication.lead.replace(/\s+/g, ' ');
    expect(lead.startsWith(kept)).toBe(true);
    expect(lead.charAt(kept.length)).toMatch(/[\s,;:.!?”]/);
  });

  it('keeps a short text whole and never ends on a dangling comma', () => {
    expect(excerpt('Court.', 105)).toBe('Court.');
    const cut = excerpt(`${'mot, '.repeat(40)}fin`, 105);
    expect(cut).toMatch(/mot…$/);
    expect(cut.length).toBeLessThanOrEqual(106);
  });
});

describe('sizes and colours', () => {
  it('sets no visible text under 14 px', () => {
    const sizes = visibleStyles(release.email.html).flatMap((s) =>
      [...s.matchAll(/font-size:\s*(\d+)px/g)].map((m) => Number(m[1])),
    );
    expect(sizes.length).toBeGreaterThan(20);
    // 0 and 1 px are MJML’s layout tricks (between columns, in dividers): no text there.
    expect(sizes.filter((px) => px > 1 && px < 14)).toEqual([]);
  });

  it('writes every text colour at 4.5:1 at least on the email’s light backgrounds', () => {
    const colours = new Set(
      visibleStyles(release.email.html).flatMap((s) =>
        [...s.matchAll(/(?:^|;)\s*color:\s*(#[0-9a-fA-F]{3,6})/g)].map((m) => m[1] ?? ''),
      ),
    );
    expect(colours.size).toBeGreaterThan(2);
    const weak = [...colours].filter(
      (c) => contrastRatio(c, '#f3f4f6') < 4.5 || contrastRatio(c, '#ffffff') < 4.5,
    );
    expect(weak).toEqual([]);
  });

  it('keeps a contact’s label on the line of its value, and the press contact’s address on a line of its own', () => {
    expect(release.email.html).toContain('Twitter\u00a0:\u00a0<a href="https://x.com/Villes_Internet"');
    expect(release.email.html).toMatch(
      /Florence Poznanski<br><a href="mailto:florence\.poznanski@villes-internet\.example\.org"/,
    );
  });

  it('shows the press contacts at 15 px in the text colour', () => {
    const contact = /<p[^>]*style="([^"]*)"[^>]*>\s*<strong[^>]*>Contact [Pp]resse/.exec(release.email.html);
    expect(contact?.[1]).toContain('font-size: 15px');
    expect(contact?.[1]).toContain('color: #1f2328');
  });

  it('darkens a pale brand colour until it reads', () => {
    expect(legibleColor('#c8102e')).toBe('#c8102e');
    const yellow = legibleColor('#ffd500');
    expect(contrastRatio(yellow, '#f3f4f6')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio('#ffd500', '#f3f4f6')).toBeLessThan(4.5);
  });
});

describe('links', () => {
  it('makes each tag chip a link to its page', () => {
    for (const tag of publication.tags) {
      expect(release.email.html).toContain(
        `href="https://press.example.org/tags/${encodeURIComponent(tag)}/"`,
      );
    }
    expect(release.page).toContain(
      `href="https://press.example.org/tags/${encodeURIComponent('numérique')}/"`,
    );
  });

  it('links the tags of a published release to the press room’s tag pages', async () => {
    const rendered = await renderRelease(seed, {
      files: localSourceFiles,
      renderer: createReleaseRenderer(templates),
      sampleRecipient: templates.sampleRecipient,
      siteUrl: 'https://press.example.org',
    });
    const summary = summarize(rendered.publication, { pdf: false, publishedAt: '', updatedAt: '' });
    expect(summary.tags.length).toBe(3);
    for (const tag of summary.tags) {
      // The press room writes a tag's page at site/tags/<slug>/index.html.
      expect(rendered.rendered.email.html).toContain(
        `href="https://press.example.org/tags/${tag.slug}/index.html"`,
      );
    }
  });

  it('links every social profile an organisation declares, as text', async () => {
    const en = (await loadPublication(english, localSourceFiles)).publication;
    const out = await createReleaseRenderer(templates).render(en);
    for (const href of [
      'https://social.example.org/@opencities',
      'https://www.linkedin.com/company/open-cities-federation',
    ]) {
      expect(out.email.html).toContain(`href="${href}"`);
      expect(out.page).toContain(`href="${href}"`);
    }
    expect(release.email.html).toMatch(/href="https:\/\/x\.com\/Villes_Internet"[^>]*>@Villes_Internet<\/a>/);
    expect(release.email.html).not.toMatch(/<img[^>]*(twitter|linkedin|mastodon)/i);
  });

  it('accepts a handle or an https URL per network, and refuses what cannot be a link', () => {
    const org = (social: Record<string, string>) =>
      organizationSchema.safeParse({ name: 'Org', about: 'About.', social });
    expect(
      org({
        linkedin: 'company/villes-internet',
        mastodon: '@villes@mastodon.social',
        facebook: 'villesinternet',
        youtube: '@VillesInternet',
        x: '@Villes_Internet',
        bluesky: 'villes-internet.bsky.social',
      }).success,
    ).toBe(true);
    expect(org({ facebook: 'https://www.facebook.com/villesinternet' }).success).toBe(true);
    for (const bad of <Record<string, string>[]>[
      { facebook: 'http://www.facebook.com/villesinternet' },
      { linkedin: 'javascript:alert(1)' },
      { mastodon: '@villes' },
      { youtube: 'Villes Internet' },
    ]) {
      const result = org(bad);
      expect(result.success, JSON.stringify(bad)).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['social', Object.keys(bad)[0]]);
    }
    expect(socialProfile('youtube', '@VillesInternet').url).toBe('https://www.youtube.com/@VillesInternet');
    expect(socialProfile('bluesky', '@a.bsky.social').url).toBe('https://bsky.app/profile/a.bsky.social');
  });
});

describe('landmarks', () => {
  it('marks the header, the release and the footer, so a screen reader can jump between them', () => {
    for (const [cls, role] of [
      ['pr-head', 'banner'],
      ['pr-card', 'main'],
      ['pr-footer', 'contentinfo'],
    ]) {
      expect(release.email.html).toMatch(new RegExp(`<div class="${cls}"[^>]* role="${role}"`));
    }
  });
});

describe('dark mode', () => {
  it('declares both colour schemes and has dark styles that keep logos on a light pad', () => {
    const html = release.email.html;
    expect(html).toContain('<meta name="color-scheme" content="light dark">');
    expect(html).toContain('<meta name="supported-color-schemes" content="light dark">');
    const dark = /@media \(prefers-color-scheme: dark\) \{([\s\S]*?)\n\s*\}\s*\n/.exec(html)?.[1] ?? '';
    expect(dark).toContain('.pr-logo img { background-color: #ffffff !important;');
    expect(dark).toMatch(/\.pr-card div[^{]*\{ color: #e6e8eb !important; \}/);
    // The classes the dark styles use are on the email's parts.
    for (const cls of ['pr-body', 'pr-card', 'pr-head', 'pr-footer', 'pr-figures'])
      expect(html).toContain(cls);
  });
});

describe('the plain-text part', () => {
  it('has the online version, the PDF, the press contacts and the unsubscribe link', () => {
    const text = compileForRecipients(release.email).fill(camille).text;
    expect(text).toContain(`Voir la version en ligne\u00a0: ${webUrl}`);
    expect(text).toContain(`- PDF\u00a0: ${pdfUrl}`);
    expect(text).toContain(
      'Contact Presse\u00a0: Florence Poznanski\nflorence.poznanski@villes-internet.example.org',
    );
    expect(text).toContain('Contact Presse\u00a0: Adrian Philip\nadrian.philip@villesdefrance.example.org');
    expect(text).toContain('Se désabonner\u00a0: https://press.example.org/u/abc');
    expect(text).toContain('Twitter\u00a0: @Villes_Internet');
  });

  it('fills the same personal fields as the HTML', () => {
    const filled = compileForRecipients(release.email).fill(camille);
    for (const part of ['Bonjour Camille,', 'Camille Martin']) {
      expect(filled.text).toContain(part);
      expect(filled.html).toContain(part);
    }
    const anonymous = compileForRecipients(release.email).fill({
      recipient: { email: 'x@example.org' },
      unsubscribeUrl: 'https://press.example.org/u/x',
    });
    expect(anonymous.text).toContain('Bonjour,');
    expect(anonymous.html).toContain('Bonjour,');
  });

  it('wraps at 78 characters, but for a URL', () => {
    const text = compileForRecipients(release.email).fill(camille).text;
    const long = text.split('\n').filter((l) => l.length > 78 && !/https?:\/\/\S{40,}/.test(l));
    expect(long).toEqual([]);
    expect(text.split('\n').length).toBeGreaterThan(40);
  });

  it('wraps a line at spaces, never at a no-break space, indenting a list item’s following lines', () => {
    const item = `- ${'mot '.repeat(30)}fin`;
    const wrapped = wrapLine(item, 20).split('\n');
    expect(wrapped.every((l) => l.length <= 20)).toBe(true);
    expect(wrapped.slice(1).every((l) => l.startsWith('  mot') || l.startsWith('  fin'))).toBe(true);
    expect(wrapLine('a\u00a0b\u00a0c\u00a0d', 3)).toBe('a\u00a0b\u00a0c\u00a0d');
    expect(
      wrapLine('Bonjour {{#if recipient.firstName}}{{recipient.firstName}}{{/if}} et bienvenue', 20),
    ).toContain('{{#if recipient.firstName}}');
  });
});

describe('the newsletter', () => {
  it('greets once: the personal greeting gives way to an intro that greets', () => {
    expect(opensWithGreeting('Bonjour à toutes et à tous.')).toBe(true);
    expect(opensWithGreeting('Chères adhérentes, chers adhérents,')).toBe(true);
    expect(opensWithGreeting('Dear members,')).toBe(true);
    expect(opensWithGreeting('Ce mois-ci, nous revenons sur l’enquête.')).toBe(false);
    expect(opensWithGreeting('Highlights of the month.')).toBe(false);
  });
});
