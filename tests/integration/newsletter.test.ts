/**
 * Publishing newsletter issues into a real folder store: the archive (versions, manifest,
 * catalogue), the press room's Newsletters section and its feeds, private issues leaving no
 * public trace, and drafting an issue from the examples' releases.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseFeed } from '@rowanmanning/feed-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { localSourceFiles } from '../../lambdas/adapters/local-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease, SlugTakenError } from '../../lambdas/core/archive/publish.ts';
import { InvalidInputError, PressroomError } from '../../lambdas/core/errors.ts';
import { newsletterKeys, readIssueManifest, readIssues } from '../../lambdas/core/newsletter/catalog.ts';
import { draftIssue } from '../../lambdas/core/newsletter/draft.ts';
import { loadIssue } from '../../lambdas/core/newsletter/load.ts';
import { publishIssue } from '../../lambdas/core/newsletter/publish.ts';
import { resolveIssue } from '../../lambdas/core/newsletter/resolve.ts';
import type { SourceFiles } from '../../lambdas/core/publication/load.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { getText, listAll, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { issueDeps, releaseDeps, siteUrl } from '../support/dispatch-fixtures.ts';
import { memoryFiles, releaseText, villesInternet } from '../support/memory-files.ts';

const roots: string[] = [];
let templates: TemplateSet;

beforeAll(async () => {
  templates = await loadTemplateFiles();
});
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** An issue file; `items` and `extra` go into its front matter. */
function issueText(title: string, items: string, extra = ''): string {
  return `---
title: "${title}"
date: 2026-03-15
publishers:
  - villes-internet
intro: Bonjour à toutes et à tous, voici **les nouvelles** du mois.
items:
${items}${extra}---

## En bref

Le réseau grandit.
`;
}

/** A store with three releases (public, private, embargoed until 2026-04-01) and a workspace. */
async function setup(workspace: Record<string, string> = {}) {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-newsletter-'));
  roots.push(root);
  const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
  const clock = { now: new Date('2026-01-15T09:00:00Z') };
  const files = memoryFiles({
    'organizations/villes-internet.yaml': villesInternet,
    'publications/etude.md': releaseText(
      'etude-villes',
      'Étude : les villes moyennes résilientes',
      '',
      'Texte.\n\n![Carte](https://img.example.org/carte.png)\n',
    ),
    'publications/privee.md': releaseText('note-privee', 'Note interne', 'visibility: private\n'),
    'publications/embargo.md': releaseText('sous-embargo', 'Annonce', 'embargo: 2026-04-01T08:00:00+02:00\n'),
    ...workspace,
  });
  const releases = releaseDeps(store, templates, files, () => clock.now);
  for (const f of ['etude', 'privee', 'embargo']) await publishRelease(`publications/${f}.md`, releases);
  clock.now = new Date('2026-03-15T08:00:00Z');
  const deps = issueDeps(releases, templates);
  return { store, clock, deps };
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of listAll(store, prefix)) keys.push(item.key);
  return keys.sort();
}

async function site(store: ObjectStore, key: string): Promise<string> {
  const text = await getText(store, key);
  if (text === undefined) throw new Error(`no ${key} in the store`);
  return text;
}

const items = `  - release: etude-villes
  - title: "Un rapport <partenaire> & co"
    summary: Deux phrases sur le rapport.
    url: https://partner.example.org/rapport
`;

describe('publishing an issue', () => {
  it('archives it under a version, records it, and gives it a Newsletters section with feeds', async () => {
    const { store, deps } = await setup({ 'lettres/mars.md': issueText('La lettre de mars', items) });
    const result = await publishIssue('lettres/mars.md', deps);
    expect(result).toMatchObject({
      id: 'mars',
      state: 'public',
      action: 'created',
      url: 'https://press.example.org/newsletters/mars/index.html',
      releases: ['etude-villes'],
    });

    const manifest = await readIssueManifest(store, 'mars');
    expect(manifest.source.path).toBe(path.resolve('lettres/mars.md'));
    expect(await keysUnder(store, newsletterKeys.version('mars', manifest.version))).toEqual(
      [
        'email.html',
        'email.txt',
        'issue.json',
        'page.html',
        'public/email.html',
        'public/index.html',
        'public/newsletter.txt',
        'source.md',
      ].map((f) => newsletterKeys.version('mars', manifest.version) + f),
    );
    expect(await readIssues(store)).toEqual([
      expect.objectContaining({ id: 'mars', title: 'La lettre de mars', releases: ['etude-villes'] }),
    ]);

    // The issue's pages: the release item pulled from the archive, linked relatively.
    expect(await keysUnder(store, siteKeys.newsletterPrefix('mars'))).toEqual(
      ['email.html', 'index.html', 'newsletter.txt'].map((f) => siteKeys.newsletterPrefix('mars') + f),
    );
    const page = await site(store, 'site/newsletters/mars/index.html');
    expect(page).toContain(
      'href="../../releases/etude-villes/index.html">Étude\u00a0: les villes moyennes résilientes',
    );
    expect(page).toContain('src="https://img.example.org/carte.png"');
    expect(page).toContain('Un rapport &lt;partenaire&gt; &amp; co');
    // The public email copy carries no placeholder and no personal line.
    const email = await site(store, 'site/newsletters/mars/email.html');
    expect(email).not.toContain('{{');
    expect(email).toContain('Voir la version en ligne');
    expect(await site(store, 'site/newsletters/mars/newsletter.txt')).not.toContain('Vous recevez');

    // The section's page, linked from every list page.
    const index = await site(store, siteKeys.newsletters);
    expect(index).toContain('href="mars/index.html">La lettre de mars');
    for (const key of [siteKeys.index, siteKeys.year('2021')]) {
      expect(await site(store, key), key).toContain('newsletters/index.html');
    }
    const sitemap = await site(store, siteKeys.sitemap);
    expect(sitemap).toContain('https://press.example.org/sitemaps/newsletters.xml');
    expect(await site(store, siteKeys.newslettersSitemap)).toContain(
      '<loc>https://press.example.org/newsletters/mars/index.html</loc>',
    );

    // Feeds of its own; the releases' feeds carry releases only.
    const rss = parseFeed(await site(store, siteKeys.newsletterRss));
    expect(rss.items.map((i) => [i.title, i.url])).toEqual([
      ['La lettre de mars', 'https://press.example.org/newsletters/mars/index.html'],
    ]);
    expect(parseFeed(await site(store, siteKeys.newsletterAtom)).items[0]?.description).toContain(
      'Bonjour à toutes et à tous, voici les nouvelles du mois.',
    );
    expect(JSON.parse(await site(store, siteKeys.newsletterJson)).items).toHaveLength(1);
    const releases = parseFeed(await site(store, siteKeys.rss));
    expect(releases.items.map((i) => i.title)).toEqual(['Étude : les villes moyennes résilientes']);
  });

  it('updates the same file in place, and refuses its id to another file unless replacing', async () => {
    const { store, clock, deps } = await setup({
      'lettres/mars.md': issueText('La lettre de mars', items),
      'autres/mars.md': issueText('Une autre lettre', items),
    });
    const first = await publishIssue('lettres/mars.md', deps);
    clock.now = new Date('2026-03-16T08:00:00Z');
    const second = await publishIssue('./lettres/mars.md', deps);
    expect(second.action).toBe('updated');
    expect(await keysUnder(store, newsletterKeys.version('mars', first.version))).toEqual([]);
    expect((await readIssues(store))[0]).toMatchObject({
      publishedAt: '2026-03-15T08:00:00.000Z',
      updatedAt: '2026-03-16T08:00:00.000Z',
    });

    const taken = await publishIssue('autres/mars.md', deps).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(SlugTakenError);
    expect((taken as Error).message).toContain('--replace');
    expect((await readIssues(store))[0]?.title).toBe('La lettre de mars');
    const replaced = await publishIssue('autres/mars.md', deps, { replace: true });
    expect(replaced.action).toBe('replaced');
    expect(await site(store, 'site/newsletters/mars/index.html')).toContain('Une autre lettre');
  });

  it('refuses an issue that links to a private or embargoed release, and writes nothing', async () => {
    const { store, deps } = await setup({
      'lettres/mars.md': issueText(
        'La lettre de mars',
        '  - release: note-privee\n  - release: sous-embargo\n  - release: inconnue\n',
      ),
    });
    const before = await keysUnder(store, '');
    const error = await publishIssue('lettres/mars.md', deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(
      'lettres/mars.md:8:14 items[0].release: this release is private',
    );
    expect((error as Error).message).toContain(
      'lettres/mars.md:9:14 items[1].release: this release is under embargo',
    );
    expect((error as Error).message).toContain(
      'lettres/mars.md:10:14 items[2].release: no published release',
    );
    expect(await keysUnder(store, '')).toEqual(before);
  });

  it('keeps a private issue out of the press room entirely, and removes an issue made private', async () => {
    const { store, clock, deps } = await setup({
      'lettres/adherents.md': issueText('Réservé aux adhérents', items, 'visibility: private\n'),
      'lettres/mars.md': issueText('La lettre de mars', items),
    });
    const siteBefore = await keysUnder(store, 'site/');
    const privateIssue = await publishIssue('lettres/adherents.md', deps);
    expect(privateIssue).toMatchObject({ state: 'private' });
    expect(privateIssue.url).toBeUndefined();
    expect(await readIssueManifest(store, 'adherents')).toBeDefined();
    expect(await keysUnder(store, 'site/')).toEqual(siteBefore);
    // Not even its name: no page of the site mentions it.
    for (const key of await keysUnder(store, 'site/')) {
      const text = await site(store, key);
      expect(text, key).not.toContain('adhérents');
      expect(text, key).not.toContain('adherents');
    }

    // Published publicly, then made private: its pages and the section go.
    await publishIssue('lettres/mars.md', deps);
    expect(await store.head(siteKeys.newsletters)).toBeDefined();
    deps.files = overlay(deps.files, {
      'lettres/mars.md': issueText('La lettre de mars', items, 'visibility: private\n'),
    });
    clock.now = new Date('2026-03-16T08:00:00Z');
    await publishIssue('lettres/mars.md', deps);
    expect(await keysUnder(store, 'site/newsletters/')).toEqual([]);
    expect(await store.head(siteKeys.newslettersSitemap)).toBeUndefined();
    expect(await site(store, siteKeys.index)).not.toContain('newsletters/');
    expect(await site(store, siteKeys.sitemap)).not.toContain('newsletters');
  });
});

/** Source files with some files replaced or added. */
function overlay(files: SourceFiles, replaced: Record<string, string>): SourceFiles {
  const extra = memoryFiles(replaced);
  const has = (file: string) => file.replace(/^\.\//, '') in replaced;
  return {
    size: (file) => (has(file) ? extra.size(file) : files.size(file)),
    readBytes: (file) => (has(file) ? extra.readBytes(file) : files.readBytes(file)),
    stream: (file) => (has(file) ? extra.stream(file) : files.stream(file)),
    within: (publicationFile) => overlay(files.within(publicationFile), replaced),
  };
}

describe('drafting an issue from the examples', () => {
  const examples = ['2021-06-08-numerique-gestion-de-crise.md', '2024-03-12-open-data-barometer.md'].map(
    (f) => path.join('examples/publications', f),
  );

  async function examplesStore() {
    const root = await mkdtemp(path.join(tmpdir(), 'pressroom-draft-'));
    roots.push(root);
    const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
    const deps = releaseDeps(store, templates, localSourceFiles, () => new Date('2024-03-15T08:00:00Z'));
    for (const file of examples) await publishRelease(file, deps);
    return store;
  }

  it('lists the public releases since the date, newest first, and loads as a valid issue', async () => {
    const store = await examplesStore();
    const outFile = 'examples/newsletters/brouillon.md';
    const now = new Date('2024-03-15T08:00:00Z');
    const draft = await draftIssue(
      { store, files: localSourceFiles, locales: templates.locales },
      { since: '2021-01-01', now, lang: 'fr', outFile },
    );
    expect(draft.releases.map((r) => r.slug)).toEqual([
      'open-data-barometer-2024',
      'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes',
    ]);
    expect(draft.text).toContain('title: Lettre d’information – mars 2024\n');
    expect(draft.text).toContain(
      '  - release: open-data-barometer-2024 # 2024-03-12: Open Data Barometer 2024',
    );
    // The newest release's publishers: an organisation file found from the draft's folder
    // is named by its id, an inline one is written out.
    expect(draft.text).toContain('  - open-cities-federation\n');
    expect(draft.text).toContain('  - name: Institute for Civic Information\n');

    const files = overlay(localSourceFiles, { [outFile]: draft.text });
    const issue = await resolveIssue(await loadIssue(outFile, files), { store, siteUrl, now });
    expect(issue).toMatchObject({ id: 'brouillon', date: '2024-03-15', lang: 'fr' });
    expect(issue.items.map((i) => i.title)).toEqual([
      'Open Data Barometer 2024: two cities in three now publish their budgets openly',
      'Gestion de crise avec le numérique\u00a0: les villes moyennes résilientes',
    ]);
    expect(issue.publishers.map((p) => p.name)).toEqual([
      'Open Cities Federation',
      'Institute for Civic Information',
    ]);

    const recent = await draftIssue(
      { store, files: localSourceFiles, locales: templates.locales },
      { since: '2024-03-12', now, lang: 'en', outFile },
    );
    expect(recent.releases.map((r) => r.slug)).toEqual(['open-data-barometer-2024']);
    expect(recent.text).toContain('title: Newsletter – March 2024\n');
  });

  it('refuses a bad date, and a date after every release', async () => {
    const store = await examplesStore();
    const deps = { store, files: localSourceFiles, locales: templates.locales };
    const options = { now: new Date('2024-03-15T08:00:00Z'), lang: 'fr' as const, outFile: 'x.md' };
    await expect(draftIssue(deps, { ...options, since: '2024-02-30' })).rejects.toThrow(
      '--since must be a real calendar date written YYYY-MM-DD',
    );
    const late = await draftIssue(deps, { ...options, since: '2024-03-13' }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(PressroomError);
    expect((late as Error).message).toContain('no public release dated 2024-03-13 or later');
  });
});
