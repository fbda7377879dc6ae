/**
 * The press room's own pages (issue 16, item 5): the site named after the workspace's
 * organisation, one language per room (the site's chrome, a release in another language
 * marked as such), the embargo line gone from the press room's copy of a release once it is
 * online (publish, the lift, a rebuild, a static build), and the 404 page.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { archiveKeys, readManifest } from '../../lambdas/core/archive/manifest.ts';
import { createPressRoom, siteKeys, siteTitle } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease, releaseDueEmbargoes } from '../../lambdas/core/archive/publish.ts';
import { rebuildPressRoom } from '../../lambdas/core/archive/rebuild.ts';
import { buildStaticSite } from '../../lambdas/core/archive/static-site.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { getText, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { releaseDeps, siteUrl } from '../support/dispatch-fixtures.ts';
import { memoryFiles, publicationText, villesInternet } from '../support/memory-files.ts';

let templates: TemplateSet;
const roots: string[] = [];

beforeAll(async () => {
  templates = await loadTemplateFiles();
});
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function setup(
  files: Record<string, string>,
  options: Parameters<typeof createPressRoom>[1] = { siteUrl, lang: 'fr' },
) {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-room-pages-'));
  roots.push(root);
  const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
  const clock = { now: new Date('2026-01-15T09:00:00Z') };
  const deps = {
    ...releaseDeps(
      store,
      templates,
      memoryFiles({
        'organizations/villes-internet.yaml': villesInternet,
        // Where a rebuild looks: beside the file as it was published (an absolute path).
        [path.resolve('organizations/villes-internet.yaml')]: villesInternet,
        ...files,
      }),
      () => clock.now,
    ),
    pressRoom: createPressRoom(templates, options),
  };
  return { store, clock, deps };
}

/** A static build, file by file as text. */
async function build(deps: Parameters<typeof buildStaticSite>[0]): Promise<Map<string, string>> {
  const built = new Map<string, string>();
  await buildStaticSite(deps, async (file) => {
    const body = await file.body();
    const chunks: Uint8Array[] = [];
    if (body instanceof Uint8Array) chunks.push(body);
    else for await (const chunk of body) chunks.push(chunk);
    built.set(file.path, Buffer.concat(chunks).toString('utf8'));
  });
  return built;
}

const site = (store: ObjectStore, key: string) => getText(store, key).then((t) => t ?? '');
const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1];
const h1Of = (html: string) => /<h1><a [^>]*>([^<]*)<\/a><\/h1>/.exec(html)?.[1];

const english = `---
title: "Open data barometer"
date: 2021-03-12
lang: en
lead: Two cities in three publish their budgets.
publishers:
  - villes-internet
tags: [Open data]
attachments:
  - file: summary.txt
    label: Summary (text)
---
The body.
`;

describe('the site title', () => {
  it('is the organisation’s press room, elided in French, when no title is configured', () => {
    const fr = templates.locales.fr;
    const en = templates.locales.en;
    expect(siteTitle(fr, { lang: 'fr', organization: { name: 'Villes Internet' } })).toBe(
      'Salle de presse de Villes Internet',
    );
    expect(siteTitle(fr, { lang: 'fr', organization: { name: 'Intercommunalités de France' } })).toBe(
      'Salle de presse d’Intercommunalités de France',
    );
    expect(siteTitle(fr, { lang: 'fr', organization: { name: 'Fédération', article: 'la' } })).toBe(
      'Salle de presse de la Fédération',
    );
    expect(siteTitle(en, { lang: 'en', organization: { name: 'Open Cities Federation' } })).toBe(
      'Open Cities Federation press room',
    );
    // No organisation: the language's generic title.
    expect(siteTitle(fr, { lang: 'fr' })).toBe('Salle de presse');
    expect(siteTitle(en, { lang: 'en' })).toBe('Press room');
  });

  it('names every list page, escaped; a configured title wins', async () => {
    const { store, deps } = await setup(
      { 'publications/a.md': publicationText('tags: [Numérique]\n') },
      { siteUrl, lang: 'fr', organization: { name: 'Villes <Internet> & Co' } },
    );
    await publishRelease('publications/a.md', deps);
    for (const key of [siteKeys.index, siteKeys.year('2021'), siteKeys.tag('numerique'), siteKeys.notFound]) {
      const html = await site(store, key);
      expect(h1Of(html), key).toBe('Salle de presse de Villes &lt;Internet&gt; &amp; Co');
      expect(html, key).not.toContain('<Internet>');
    }
    expect(titleOf(await site(store, siteKeys.index))).toBe(
      'Salle de presse de Villes &lt;Internet&gt; &amp; Co',
    );
    expect(titleOf(await site(store, siteKeys.year('2021')))).toBe(
      'Communiqués de 2021 – Salle de presse de Villes &lt;Internet&gt; &amp; Co',
    );

    const titled = await setup(
      { 'publications/a.md': publicationText() },
      { siteUrl, lang: 'fr', title: 'Espace presse', organization: { name: 'Villes Internet' } },
    );
    await publishRelease('publications/a.md', titled.deps);
    expect(titleOf(await site(titled.store, siteKeys.index))).toBe('Espace presse');
  });
});

describe('one language per room', () => {
  it('writes the lists in the site’s language; a release in another keeps its lang on its title and lead, and its page', async () => {
    const { store, deps } = await setup({
      'publications/a.md': publicationText('tags: [Open data]\n'),
      'publications/en.md': english,
      'publications/summary.txt': 'Two in three.\n',
    });
    await publishRelease('publications/a.md', deps);
    await publishRelease('publications/en.md', deps);
    for (const key of [siteKeys.index, siteKeys.year('2021'), siteKeys.tag('open-data')]) {
      const html = await site(store, key);
      expect(html, key).toMatch(/^<!DOCTYPE html>\n<html lang="fr">/);
      // The English release: its words marked, the site's words (date, downloads) in French.
      const entries = html.split('<article class="release">').slice(1);
      const entry = entries.find((e) => e.includes('Open data barometer')) ?? '';
      expect(entry, key).toContain('<h3 lang="en"><a href=');
      expect(entry, key).toContain(
        '<p class="lead" lang="en">Two cities in three publish their budgets.</p>',
      );
      expect(entry, key).toContain('vendredi 12 mars 2021');
      expect(entry, key).toContain('>Version e-mail (HTML)<');
      expect(entry, key).not.toMatch(/Friday|March|Plain text|Email version/);
      // The French one: nothing to mark.
      const french = entries.find((e) => e.includes('Gestion de crise')) ?? '';
      expect(french, key).toContain('<h3><a href=');
      expect(french, key).not.toContain('lang="en"');
      // Its attachment's label is its own words too.
      expect(entry, key).toMatch(
        /<a href="(\.\.\/)*releases\/open-data-barometer\/files\/summary\.txt" lang="en">Summary \(text\)<\/a>/,
      );
      // Three in the entry, and the English page's link among the language links (a room in two languages).
      expect(html.match(/ lang="en"/g), key).toHaveLength(4);
      expect(html, key).toMatch(/<a href="(\.\.\/)*en\/index\.html" hreflang="en" lang="en">English<\/a>/);
    }
    // The release's own page is the document, in its language throughout.
    const page = await site(store, siteKeys.release('open-data-barometer'));
    expect(page).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(page).toContain('Downloads');
    expect(page).not.toContain('Téléchargements');
  });
});

describe('the embargo line', () => {
  const embargoed = publicationText('embargo: 2026-01-20T08:00:00+01:00\n');
  const line = /Sous embargo jusqu’au/;

  it('is in the advance copy only: never on the press room’s page, after the lift, a rebuild or a static build', async () => {
    const { store, deps, clock } = await setup({ 'publications/a.md': embargoed });
    const slug = (await publishRelease('publications/a.md', deps)).slug;
    const manifest = await readManifest(store, slug);
    const prefix = archiveKeys.version(slug, manifest.version);
    // The archived page (advance copies, the PDF): the embargo holds, it says so.
    expect(await site(store, `${prefix}page.html`)).toMatch(line);
    expect(await site(store, `${prefix}public/index.html`)).not.toMatch(line);
    expect(await site(store, siteKeys.release(slug))).toBe('');

    clock.now = new Date('2026-01-20T07:00:00Z');
    expect(await releaseDueEmbargoes(deps)).toEqual([slug]);
    const online = await site(store, siteKeys.release(slug));
    expect(online).toContain('<h1>Gestion de crise');
    expect(online).not.toMatch(line);
    expect(online).not.toContain('class="embargo"');

    const rebuilt = await rebuildPressRoom({ ...deps, clock: () => clock.now });
    expect(rebuilt.releases).toEqual([{ slug, outcome: 'unchanged', pdf: 'none' }]);
    expect(await site(store, siteKeys.release(slug))).not.toMatch(line);

    const built = await build({ store, pressRoom: deps.pressRoom, siteUrl, clock: () => clock.now });
    expect(built.get(`releases/${slug}/index.html`)).toContain('<h1>Gestion de crise');
    expect(built.get(`releases/${slug}/index.html`)).not.toMatch(line);
  });
});

describe('the 404 page', () => {
  it('is written with the home page, in the site’s language and look, with links from the site’s top', async () => {
    const { store, deps } = await setup(
      { 'publications/a.md': publicationText('tags: [Numérique]\n') },
      { siteUrl: 'https://example.org/presse/', lang: 'fr', organization: { name: 'Villes Internet' } },
    );
    await publishRelease('publications/a.md', deps);
    const html = await site(store, siteKeys.notFound);
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="fr">/);
    expect(titleOf(html)).toBe('Page introuvable – Salle de presse de Villes Internet');
    expect(html).toContain('<meta name="robots" content="noindex">');
    expect(html).toContain('<p class="notice">Il n’y a rien à cette adresse.</p>');
    expect(html).toContain('<a href="/presse/index.html">Aller à l’accueil de la salle de presse</a>');
    // The navigation of the home page, every link from the top: it is answered at any depth.
    expect(html).toContain('href="/presse/2021/index.html"');
    expect(html).toContain('href="/presse/tags/numerique/index.html"');
    expect(html).toContain('href="/presse/feed.xml"');
    expect(html).not.toMatch(/href="(?!\/presse\/|https?:)/);

    const built = await build({ store, pressRoom: deps.pressRoom, siteUrl: 'https://example.org/presse/' });
    expect(built.get('404.html')).toBe(html);
  });

  it('is in English in an English room', async () => {
    const { store, deps } = await setup(
      { 'publications/en.md': english, 'publications/summary.txt': 'Two in three.\n' },
      { siteUrl, lang: 'en' },
    );
    await publishRelease('publications/en.md', deps);
    const html = await site(store, siteKeys.notFound);
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(html).toContain('<a href="/index.html">Go to the press room home page</a>');
    expect(titleOf(html)).toBe('Not found – Press room');
  });
});
