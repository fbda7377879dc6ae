/**
 * Translations (issue 21, item 3): a release names the release it translates
 * (`translationOf`); publishing checks it against the archive, the press room's pages of the
 * group link to each other (switcher and hreflang alternates, x-default the original), the
 * sitemaps carry the alternates, each language has its page and feeds, and a translation
 * under embargo is named nowhere before its own lift.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease, releaseDueEmbargoes } from '../../lambdas/core/archive/publish.ts';
import { rebuildPressRoom } from '../../lambdas/core/archive/rebuild.ts';
import { buildStaticSite } from '../../lambdas/core/archive/static-site.ts';
import { readTranslationGroups } from '../../lambdas/core/archive/translation-groups.ts';
import { withdrawRelease } from '../../lambdas/core/archive/withdraw.ts';
import { InvalidInputError } from '../../lambdas/core/errors.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { releaseDeps } from '../support/dispatch-fixtures.ts';
import { memoryFiles, releaseText, villesInternet } from '../support/memory-files.ts';

let templates: TemplateSet;
beforeAll(async () => {
  templates = await loadTemplateFiles();
});

const original = releaseText('etude-2021', 'Étude 2021');
const english = (extra = '') =>
  releaseText('study-2021', 'Study 2021', `lang: en\ntranslationOf: etude-2021\n${extra}`);

function setup(files: Record<string, string>, clock?: () => Date) {
  const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'https://press.example.org' });
  const all: Record<string, string> = { 'organizations/villes-internet.yaml': villesInternet, ...files };
  const deps = releaseDeps(store, templates, memoryFiles(all), clock);
  return { store, deps, files: all };
}

const site = async (store: MemoryObjectStore, key: string) => (await getText(store, key)) ?? '';

/** The problem a publish is refused with: its line, field, value and message. */
async function refusal(run: Promise<unknown>) {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidInputError);
  const [problem] = (error as InvalidInputError).problems;
  return problem;
}

describe('translationOf, checked when publishing', () => {
  it('refuses a release the archive does not hold, naming file, line, field and value', async () => {
    const { deps, store } = setup({ 'publications/en.md': english() });
    const problem = await refusal(publishRelease('publications/en.md', deps));
    expect(problem).toMatchObject({ file: 'publications/en.md', path: 'translationOf', value: 'etude-2021' });
    expect(problem?.line).toBe(english().split('\n').indexOf('translationOf: etude-2021') + 1);
    expect(problem?.message).toContain('publish the release it translates first');
    // Nothing was written.
    expect(await store.get('archive/study-2021/release.json')).toBeUndefined();
  });

  it('refuses the same language, a chain, a second translation in one language and itself', async () => {
    const { deps } = setup({
      'publications/fr.md': original,
      'publications/en.md': english(),
      'publications/same.md': releaseText('meme-langue', 'Même langue', 'translationOf: etude-2021\n'),
      'publications/chain.md': releaseText('chaine', 'Chaîne', 'translationOf: study-2021\n'),
      'publications/twin.md': releaseText('twin', 'Twin', 'lang: en\ntranslationOf: etude-2021\n'),
      'publications/self.md': releaseText('soi', 'Soi', 'lang: en\ntranslationOf: soi\n'),
    });
    await publishRelease('publications/fr.md', deps);
    await publishRelease('publications/en.md', deps);
    expect((await refusal(publishRelease('publications/same.md', deps)))?.message).toContain(
      'same language ("fr")',
    );
    expect((await refusal(publishRelease('publications/chain.md', deps)))?.message).toContain(
      'name the original, "etude-2021"',
    );
    expect((await refusal(publishRelease('publications/twin.md', deps)))?.message).toContain(
      'already has a translation in "en": "study-2021"',
    );
    const self = await refusal(publishRelease('publications/self.md', deps));
    expect(self).toMatchObject({ path: 'translationOf', value: 'soi' });
    expect(self?.message).toContain('names this release itself');
  });

  it('refuses to make a release with translations a translation, or give it their language', async () => {
    const { deps, files } = setup({
      'publications/fr.md': original,
      'publications/en.md': english(),
      'publications/autre.md': releaseText('autre', 'Autre', 'lang: en\n'),
    });
    await publishRelease('publications/fr.md', deps);
    await publishRelease('publications/en.md', deps);
    await publishRelease('publications/autre.md', deps);
    files['publications/fr.md'] = original.replace(
      'slug: etude-2021\n',
      'slug: etude-2021\ntranslationOf: autre\n',
    );
    expect((await refusal(publishRelease('publications/fr.md', deps)))?.message).toContain(
      'has translations of its own (study-2021)',
    );
    files['publications/fr.md'] = original.replace('slug: etude-2021\n', 'slug: etude-2021\nlang: en\n');
    const lang = await refusal(publishRelease('publications/fr.md', deps));
    expect(lang).toMatchObject({ path: 'lang', value: 'en' });
  });
});

describe('the press room of a translated release', () => {
  it('links the pages to each other, with hreflang alternates, sitemap alternates and a page and feeds per language', async () => {
    const { deps, store } = setup({ 'publications/fr.md': original, 'publications/en.md': english() });
    await publishRelease('publications/fr.md', deps);
    const alone = await site(store, siteKeys.release('etude-2021'));
    expect(alone).not.toContain('hreflang');
    expect(alone).not.toContain('pressroom:translations');
    await publishRelease('publications/en.md', deps);

    const fr = await site(store, siteKeys.release('etude-2021'));
    const en = await site(store, siteKeys.release('study-2021'));
    for (const page of [fr, en]) {
      expect(page).toContain(
        '<link rel="alternate" hreflang="en" href="https://press.example.org/releases/study-2021/index.html">',
      );
      expect(page).toContain(
        '<link rel="alternate" hreflang="fr" href="https://press.example.org/releases/etude-2021/index.html">',
      );
      expect(page).toContain(
        '<link rel="alternate" hreflang="x-default" href="https://press.example.org/releases/etude-2021/index.html">',
      );
      expect(page).not.toContain('pressroom:translations');
    }
    // The switcher, in the page's language, the current language marked.
    expect(fr).toContain('<nav class="languages" aria-label="Langues"');
    expect(fr).toContain('<a href="../study-2021/index.html" hreflang="en" lang="en">English</a>');
    expect(fr).toMatch(/<a href="index.html" hreflang="fr" lang="fr" aria-current="page"[^>]*>Français<\/a>/);
    expect(en).toContain('<nav class="languages" aria-label="Languages"');
    expect(en).toContain('<a href="../etude-2021/index.html" hreflang="fr" lang="fr">Français</a>');

    const sitemap = await site(store, siteKeys.yearSitemap('2021'));
    expect(sitemap).toContain('xmlns:xhtml="http://www.w3.org/1999/xhtml"');
    expect(sitemap).toContain(
      '<url><loc>https://press.example.org/releases/etude-2021/index.html</loc><lastmod>2021-06-08</lastmod><xhtml:link rel="alternate" hreflang="en" href="https://press.example.org/releases/study-2021/index.html"/><xhtml:link rel="alternate" hreflang="fr" href="https://press.example.org/releases/etude-2021/index.html"/></url>',
    );

    // Each language: its page and feeds, listing its releases only; linked from the lists.
    const enIndex = await site(store, siteKeys.languageIndex('en'));
    expect(enIndex).toContain('Study 2021');
    expect(enIndex).not.toContain('Étude 2021');
    expect(enIndex).toContain('<h2>Communiqués en anglais</h2>');
    expect(await site(store, siteKeys.languageIndex('fr'))).toContain('Étude 2021');
    const enFeed = await site(store, siteKeys.languageRss('en'));
    expect(enFeed).toContain('<language>en</language>');
    expect(enFeed).toContain('Study 2021');
    expect(enFeed).not.toContain('Étude 2021');
    expect(await site(store, siteKeys.languageAtom('fr'))).toContain('Étude 2021');
    expect(JSON.parse(await site(store, siteKeys.languageJson('en'))).items).toHaveLength(1);
    expect(await site(store, siteKeys.index)).toContain(
      '<a href="en/index.html" hreflang="en" lang="en">English</a>',
    );
    expect(await site(store, siteKeys.pagesSitemap)).toContain('https://press.example.org/en/index.html');
  });

  it('names an embargoed translation nowhere before its lift, then links both pages', async () => {
    let now = new Date('2026-01-15T09:00:00Z');
    const { deps, store } = setup(
      {
        'publications/fr.md': original,
        'publications/en.md': english('embargo: 2026-01-20T08:00:00Z\n'),
      },
      () => now,
    );
    await publishRelease('publications/fr.md', deps);
    await publishRelease('publications/en.md', deps);
    expect((await readTranslationGroups(store))['etude-2021']?.map((m) => m.slug)).toEqual([
      'etude-2021',
      'study-2021',
    ]);
    const keys: string[] = [];
    for (const item of (await store.list('site/', { limit: 1000 })).items) keys.push(item.key);
    for (const key of keys) {
      const text = await site(store, key);
      expect(text, key).not.toContain('study-2021');
      expect(text, key).not.toContain('Study 2021');
    }
    expect(await store.get(siteKeys.languageIndex('en'))).toBeUndefined();

    now = new Date('2026-01-20T08:00:01Z');
    expect(await releaseDueEmbargoes({ ...deps, clock: () => now })).toEqual(['study-2021']);
    expect(await site(store, siteKeys.release('etude-2021'))).toContain(
      '<a href="../study-2021/index.html" hreflang="en" lang="en">English</a>',
    );
    expect(await site(store, siteKeys.release('study-2021'))).toContain('hreflang="x-default"');
    expect(await site(store, siteKeys.languageIndex('en'))).toContain('Study 2021');
    expect(await site(store, siteKeys.yearSitemap('2021'))).toContain('hreflang="en"');
  });

  it('takes the link out of the original’s page when the translation is withdrawn', async () => {
    const { deps, store } = setup({ 'publications/fr.md': original, 'publications/en.md': english() });
    await publishRelease('publications/fr.md', deps);
    await publishRelease('publications/en.md', deps);
    await withdrawRelease('study-2021', { reason: 'Published in error', by: 'test' }, deps);
    const fr = await site(store, siteKeys.release('etude-2021'));
    expect(fr).not.toContain('study-2021');
    expect(fr).not.toContain('hreflang');
    expect(await store.get(siteKeys.languageIndex('en'))).toBeUndefined();
    expect(await site(store, siteKeys.index)).not.toContain('en/index.html');
  });

  it('unlinks both pages when the translation no longer names the original', async () => {
    const { deps, store, files } = setup({ 'publications/fr.md': original, 'publications/en.md': english() });
    await publishRelease('publications/fr.md', deps);
    await publishRelease('publications/en.md', deps);
    files['publications/en.md'] = english().replace('translationOf: etude-2021\n', '');
    await publishRelease('publications/en.md', deps);
    expect(await readTranslationGroups(store)).toEqual({});
    for (const slug of ['etude-2021', 'study-2021']) {
      const page = await site(store, siteKeys.release(slug));
      expect(page, slug).not.toContain('hreflang');
      expect(page, slug).not.toContain('class="languages"');
    }
  });

  it('makes the groups again from the catalogue on a rebuild, when their index is lost', async () => {
    const { deps, store } = setup({
      'publications/fr.md': original,
      'publications/en.md': english(),
      'publications/other.md': releaseText('autre', 'Autre'),
    });
    await publishRelease('publications/other.md', deps);
    // A room without translations gets no index from a rebuild.
    await rebuildPressRoom(deps);
    expect(await store.get('catalog/translations.json')).toBeUndefined();
    await publishRelease('publications/fr.md', deps);
    await publishRelease('publications/en.md', deps);
    const groups = await readTranslationGroups(store);
    expect(Object.keys(groups)).toEqual(['etude-2021']);
    await store.delete('catalog/translations.json');
    await rebuildPressRoom(deps);
    expect(await readTranslationGroups(store)).toEqual(groups);
    // A damaged group (the translation missing) is made whole again too.
    await store.put(
      'catalog/translations.json',
      JSON.stringify({ groups: { 'etude-2021': [groups['etude-2021']?.[0]] } }),
    );
    await rebuildPressRoom(deps);
    expect(await readTranslationGroups(store)).toEqual(groups);
    const fr = await site(store, siteKeys.release('etude-2021'));
    expect(fr).toContain('<a href="../study-2021/index.html" hreflang="en" lang="en">English</a>');
  });

  it('keeps the links in the static site `site build` writes, at its own address', async () => {
    const { deps, store } = setup({ 'publications/fr.md': original, 'publications/en.md': english() });
    await publishRelease('publications/fr.md', deps);
    await publishRelease('publications/en.md', deps);
    const written = new Map<string, string>();
    await buildStaticSite(
      { store, pressRoom: deps.pressRoom, siteUrl: 'https://example.org/presse/', clock: deps.clock },
      async (file) => {
        const body = await file.body();
        const chunks: Uint8Array[] = [];
        if (body instanceof Uint8Array) chunks.push(body);
        else for await (const chunk of body) chunks.push(chunk);
        written.set(file.path, Buffer.concat(chunks).toString('utf8'));
      },
    );
    const fr = written.get('releases/etude-2021/index.html') ?? '';
    expect(fr).toContain('<a href="../study-2021/index.html" hreflang="en" lang="en">English</a>');
    expect(fr).toContain(
      '<link rel="alternate" hreflang="en" href="https://example.org/presse/releases/study-2021/index.html">',
    );
    expect(fr).not.toContain('pressroom:translations');
    expect(written.get('en/index.html')).toContain('Study 2021');
    expect(written.get('en/feed.xml')).toContain('releases/study-2021/index.html');
  });
});
