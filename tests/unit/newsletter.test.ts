/**
 * The newsletter issue format and its errors, the rendering of an issue (HTML email, text,
 * web page) from resolved data, and the campaign file's `newsletter:`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { archiveKeys } from '../../lambdas/core/archive/manifest.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { InvalidInputError, type Problem } from '../../lambdas/core/errors.ts';
import { issueIdOf, loadIssue } from '../../lambdas/core/newsletter/load.ts';
import {
  createNewsletterRenderer,
  formatEventDate,
  type NewsletterRenderer,
} from '../../lambdas/core/newsletter/render.ts';
import { resolveIssue } from '../../lambdas/core/newsletter/resolve.ts';
import type { ResolvedIssue } from '../../lambdas/core/newsletter/schema.ts';
import { compileForRecipients } from '../../lambdas/core/render/recipient.ts';
import type { ObjectStore, StoredObject } from '../../lambdas/core/store/object-store.ts';
import { memoryFiles, villesInternet } from '../support/memory-files.ts';
import { visibleText } from '../support/reference-facts.ts';

/** A minimal issue file; `extra` lines are added to its front matter. */
function issueText(extra = '', items = '  - release: etude-villes\n', body = ''): string {
  return `---
title: "La lettre : mars 2026"
date: 2026-03-15
publishers:
  - villes-internet
intro: Les nouvelles du mois.
items:
${items}${extra}---
${body}`;
}

async function problemsOf(text: string, file = 'lettres/mars.md'): Promise<Problem[]> {
  const files = memoryFiles({ [file]: text, 'organizations/villes-internet.yaml': villesInternet });
  try {
    await loadIssue(file, files);
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems;
    throw error;
  }
  throw new Error('the issue was accepted');
}

describe('the issue file', () => {
  it('loads a valid issue; the id is the file name unless written', async () => {
    const files = memoryFiles({
      'lettres/2026-03 Lettre.md': issueText(),
      'lettres/autre.md': issueText('id: lettre-speciale\n'),
      'organizations/villes-internet.yaml': villesInternet,
    });
    const { issue } = await loadIssue('lettres/2026-03 Lettre.md', files);
    expect(issue).toMatchObject({
      id: '2026-03-lettre',
      title: 'La lettre : mars 2026',
      date: '2026-03-15',
      lang: 'fr',
      visibility: 'public',
      items: [{ release: 'etude-villes' }],
      events: [],
    });
    expect(issue.publishers[0]).toMatchObject({ id: 'villes-internet', name: 'Villes Internet' });
    expect((await loadIssue('lettres/autre.md', files)).issue.id).toBe('lettre-speciale');
    expect(issueIdOf('examples/newsletters/2024-03-lettre.md')).toBe('2024-03-lettre');
  });

  it('reports a bad field with its file, line, field and value', async () => {
    const problems = await problemsOf(issueText('events:\n  - title: AG\n    date: 2026-02-30\n'));
    expect(problems).toEqual([
      expect.objectContaining({
        file: 'lettres/mars.md',
        line: 11,
        path: 'events[0].date',
        value: '2026-02-30',
        message: expect.stringContaining('YYYY-MM-DD'),
      }),
    ]);
    expect(new InvalidInputError(problems).message).toContain(
      'lettres/mars.md:11:11 events[0].date: must be a real date',
    );
  });

  it('suggests the right spelling of an unknown field, and lists what is allowed', async () => {
    const [problem] = await problemsOf(issueText('itnro: x\n'));
    expect(problem).toMatchObject({ line: 9, path: 'itnro' });
    expect(problem?.message).toContain('did you mean "intro"?');
  });

  it('says which fields an inline item lacks, and refuses a url on a release item', async () => {
    const problems = await problemsOf(
      issueText(
        '',
        '  - title: Un rapport\n    url: https://example.org/r\n  - release: etude-villes\n    url: https://example.org/x\n',
      ),
    );
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['items[0].summary', 8],
      ['items[1].url', 11],
    ]);
    expect(problems[0]?.message).toContain('required in an inline item');
    expect(problems[1]?.message).toContain('links to its page in the press room');
  });

  it('refuses images that are not https, javascript: links, and an empty list of items', async () => {
    const problems = await problemsOf(
      issueText(
        '',
        '  - title: T\n    summary: S\n    url: "javascript:alert(1)"\n    image: http://example.org/a.jpg\n',
      ),
    );
    expect(problems.map((p) => p.path).sort()).toEqual(['items[0].image', 'items[0].url']);
    const empty = await problemsOf(issueText('', '  []\n').replace('items:\n  []', 'items: []'));
    expect(empty[0]).toMatchObject({ path: 'items', message: expect.stringContaining('at least one item') });
  });

  it('reports an unknown organisation with its line', async () => {
    const [problem] = await problemsOf(issueText().replace('- villes-internet', '- villes-inconnues'));
    expect(problem).toMatchObject({ path: 'publishers[0]', line: 5, value: 'villes-inconnues' });
  });
});

/** An object store holding only what a test put in it: enough for reading releases. */
function storeWith(objects: Record<string, unknown>): ObjectStore {
  const unused = () => {
    throw new Error('not used by this test');
  };
  return {
    async get(key): Promise<StoredObject | undefined> {
      if (!(key in objects)) return undefined;
      const body = new TextEncoder().encode(JSON.stringify(objects[key]));
      return { key, body, size: body.byteLength, version: '1', lastModified: new Date(0) };
    },
    stream: unused,
    head: unused,
    put: unused,
    putIfAbsent: unused,
    putIfVersion: unused,
    list: unused,
    delete: unused,
    purgeHistory: unused,
    signedUrl: unused,
  };
}

/** A release as the archive holds it: manifest and normalised data. */
function archivedRelease(slug: string, extra: { embargo?: string; visibility?: 'public' | 'private' } = {}) {
  return {
    [archiveKeys.manifest(slug)]: {
      version: 'v1',
      summary: {
        slug,
        title: 'Étude',
        date: '2026-01-15',
        visibility: extra.visibility ?? 'public',
        ...extra,
      },
    },
    [`${archiveKeys.version(slug, 'v1')}publication.json`]: {
      slug,
      title: 'Étude : les villes <moyennes> résilientes',
      date: '2026-01-15',
      lang: 'fr',
      lead: 'Une **enquête** inédite.',
      body: 'Texte.\n\n![Carte](https://img.example.org/carte.png?a=1&b=2)\n',
    },
  };
}

describe('release items are pulled from the archive', () => {
  const now = new Date('2026-03-15T08:00:00Z');
  const load = (items: string) =>
    loadIssue(
      'lettres/mars.md',
      memoryFiles({
        'lettres/mars.md': issueText('', items),
        'organizations/villes-internet.yaml': villesInternet,
      }),
    );

  it('takes the title, lead, date and first image of the release, and links to its page', async () => {
    const store = storeWith(archivedRelease('etude-villes'));
    const issue = await resolveIssue(await load('  - release: etude-villes\n'), {
      store,
      siteUrl: 'https://press.example.org',
      now,
    });
    expect(issue.items).toEqual([
      {
        title: 'Étude : les villes <moyennes> résilientes',
        summary: 'Une **enquête** inédite.',
        url: 'https://press.example.org/releases/etude-villes/index.html',
        image: 'https://img.example.org/carte.png?a=1&b=2',
        release: { slug: 'etude-villes', date: '2026-01-15', lang: 'fr' },
      },
    ]);
  });

  it('refuses unknown, private and embargoed releases, each with its line', async () => {
    const store = storeWith({
      ...archivedRelease('privee', { visibility: 'private' }),
      ...archivedRelease('embargo', { embargo: '2026-03-20T07:00:00.000Z' }),
    });
    const loaded = await load('  - release: inconnue\n  - release: privee\n  - release: embargo\n');
    const error = await resolveIssue(loaded, { store, siteUrl: 'https://press.example.org/', now }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    const problems = (error as InvalidInputError).problems;
    expect(problems.map((p) => [p.path, p.line, p.value])).toEqual([
      ['items[0].release', 8, 'inconnue'],
      ['items[1].release', 9, 'privee'],
      ['items[2].release', 10, 'embargo'],
    ]);
    expect(problems[0]?.message).toContain('pressroom archive list');
    expect(problems[1]?.message).toContain('private');
    expect(problems[2]?.message).toContain('under embargo until 2026-03-20T07:00:00.000Z');
  });
});

/** HTML with the entities Handlebars writes in URLs decoded, to compare URLs as written. */
function decodeAttributes(html: string): string {
  return html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
}

describe('rendering an issue', () => {
  let renderer: NewsletterRenderer;
  const hostile = '<script>alert(1)</script> {{recipient.email}} & “guillemets”';
  const issue: ResolvedIssue = {
    id: 'lettre-mars',
    title: `La lettre ${hostile}`,
    date: '2026-03-15',
    lang: 'fr',
    publishers: [
      {
        id: 'villes-internet',
        name: 'Villes Internet',
        about: 'Association d’élus fondée en 2002.',
        color: '#c8102e',
      },
    ],
    intro: 'Les nouvelles **du mois**. <img src=x onerror=alert(1)> [lien](javascript:alert(1))',
    items: [
      {
        title: `Étude ${hostile}`,
        summary: 'Une *enquête* inédite.',
        url: 'https://press.example.org/releases/etude/index.html',
        image: 'https://img.example.org/carte.png?a=1&b=2',
        release: { slug: 'etude', date: '2026-01-15', lang: 'fr' },
      },
      {
        title: 'Un rapport partenaire',
        summary: 'Deux phrases.',
        url: 'https://partner.example.org/r?x=1&y=2',
      },
    ],
    events: [
      {
        title: 'Assemblée générale',
        date: '2026-04-04T14:00',
        place: 'Paris',
        url: 'https://example.org/ag',
      },
      { title: 'Remise des labels', date: '2026-06-20' },
    ],
    body: "## En bref\n\nLe réseau grandit ; qui l'eût cru ? « Tous » : oui !",
    visibility: 'public',
    source: 'lettres/mars.md',
  };

  beforeAll(async () => {
    renderer = createNewsletterRenderer(await loadTemplateFiles());
  });

  it('renders the email with the items, events, sections and shared header, about and footer', async () => {
    const rendered = await renderer.render(issue, {
      webUrl: 'https://press.example.org/newsletters/lettre-mars/',
    });
    const { text } = rendered.email;
    const html = decodeAttributes(rendered.email.html);
    expect(rendered.subject).toBe(issue.title);
    for (const part of [
      'Lettre d’information',
      'Dimanche 15 mars 2026',
      'Au sommaire',
      'Jeudi 15 janvier 2026',
      'href="https://press.example.org/releases/etude/index.html"',
      'src="https://img.example.org/carte.png?a=1&b=2"',
      'href="https://partner.example.org/r?x=1&y=2"',
      'Agenda',
      'Samedi 4 avril 2026 à 14:00 · Paris',
      'En bref</h2>',
      'À propos de Villes Internet',
      'Voir la version en ligne',
    ]) {
      expect(html).toContain(part);
    }
    for (const part of [
      'Au sommaire',
      '* Un rapport partenaire',
      'Lire la suite\u00a0: https://partner.example.org/r?x=1&y=2',
      // Wrapped at 78 characters: the link goes on the next line, under the item's text.
      '- Samedi 4 avril 2026 à 14:00, Paris\u00a0: Assemblée générale\n  [https://example.org/ag]',
      '- Samedi 20 juin 2026\u00a0: Remise des labels',
      'En bref',
      'Voir la version en ligne\u00a0: https://press.example.org/newsletters/lettre-mars/',
    ]) {
      expect(text).toContain(part);
    }
    // French typography in every part: no plain space before high punctuation or inside « ».
    for (const part of [text, visibleText(rendered.page), visibleText(html)]) {
      expect(part).not.toMatch(/[\p{L}»)] [:;!?»]|« /u);
      expect(part).toContain(
        'Le réseau grandit\u202f; qui l’eût cru\u202f? «\u202fTous\u202f»\u00a0: oui\u202f!',
      );
    }
    // The page is the web version: same content, no recipient placeholders.
    expect(rendered.page).toContain('Un rapport partenaire');
    expect(rendered.page).not.toContain('{{');
  });

  it('escapes data everywhere and never lets it become a placeholder', async () => {
    const rendered = await renderer.render(issue);
    for (const out of [rendered.email.html, rendered.page]) {
      expect(out).not.toContain('<script>alert(1)</script>');
      expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(out).not.toMatch(/onerror|href="javascript:/);
    }
    expect(rendered.email.text).toContain('<script>alert(1)</script>');
    // Filled for a recipient, the data's braces stay text: the address is never put in.
    const filled = compileForRecipients(rendered.email).fill({
      recipient: { email: 'camille@example.org', firstName: 'Camille' },
      unsubscribeUrl: 'https://press.example.org/unsubscribe/t',
    });
    expect(filled.html).not.toContain('camille@example.org');
    expect(filled.text).not.toContain('camille@example.org');
    expect(filled.html).toContain('Bonjour Camille,');
    expect(filled.html).toContain('href="https://press.example.org/unsubscribe/t"');
    expect(filled.text).toContain('Vous recevez cette lettre d’information en tant que Camille.');
  });

  it('links releases relatively on the press room page, so the site works from a folder', () => {
    const page = renderer.renderPage(issue, {
      pressRoom: {
        indexUrl: '../../index.html',
        newslettersUrl: '../index.html',
        siteRoot: '../../',
        downloads: [],
      },
    });
    expect(page).toContain('href="../../releases/etude/index.html"');
    expect(decodeAttributes(page)).toContain('href="https://partner.example.org/r?x=1&y=2"');
    expect(page).toContain('href="../index.html">Toutes les lettres d’information');
  });

  it('writes event times as given, in the issue language', () => {
    expect(formatEventDate('2026-04-04T14:00', 'en')).toBe('Saturday 4 April 2026 at 14:00');
    expect(formatEventDate('2026-06-20', 'fr')).toBe('Samedi 20 juin 2026');
    expect(formatEventDate('2026-05-01T09:30', 'fr')).toBe('Vendredi 1er mai 2026 à 09:30');
    expect(formatEventDate('2026-05-01', 'fr')).toBe('Vendredi 1er mai 2026');
  });
});

describe('campaign files', () => {
  const campaign = (what: string, extra = '') => `name: lettre-mars
${what}audience:
  list: adherents
from: "Villes Internet <lettre@villes-internet.example.org>"
${extra}`;

  async function load(text: string) {
    return loadCampaignFile('c.yaml', memoryFiles({ 'c.yaml': text }));
  }

  it('accept "newsletter: <issue id>" instead of a publication', async () => {
    expect(await load(campaign('newsletter: lettre-mars\n'))).toMatchObject({ newsletter: 'lettre-mars' });
    const release = await load(campaign('publication: etude-villes\n'));
    expect(release).toMatchObject({ publication: 'etude-villes' });
    expect(release.newsletter).toBeUndefined();
  });

  it('need exactly one of publication and newsletter, and no PDF for a newsletter', async () => {
    const both = await load(campaign('publication: etude\nnewsletter: lettre\n')).catch((e: unknown) => e);
    expect((both as InvalidInputError).problems).toEqual([
      expect.objectContaining({
        file: 'c.yaml',
        line: 3,
        path: 'newsletter',
        message: expect.stringContaining('not both'),
      }),
    ]);
    const neither = await load(campaign('')).catch((e: unknown) => e);
    expect((neither as InvalidInputError).message).toContain(
      'publication: is required: write "publication: <release slug>" or "newsletter: <issue id>"',
    );
    const pdf = await load(campaign('newsletter: lettre\n', 'attachPdf: true\n')).catch((e: unknown) => e);
    expect((pdf as InvalidInputError).problems).toEqual([
      expect.objectContaining({ line: 6, path: 'attachPdf', message: expect.stringContaining('no PDF') }),
    ]);
  });
});
