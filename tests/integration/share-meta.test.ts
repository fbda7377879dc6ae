/**
 * Sharing and search engines (issue 21, item 4): a release page's canonical address, Open
 * Graph and Twitter/X tags, its JSON-LD NewsArticle, the generated 1200×630 card, the sitemap
 * with lastmod and images, robots.txt, and none of it before an embargo lifts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DomUtils, parseDocument } from 'htmlparser2';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { createSharpCardPainter } from '../../lambdas/adapters/sharp-card.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { createPressRoom, siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease, releaseDueEmbargoes } from '../../lambdas/core/archive/publish.ts';
import { jsonForScript, wrapLines } from '../../lambdas/core/archive/share.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { getText, listAll, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { releaseDeps, siteUrl } from '../support/dispatch-fixtures.ts';
import { memoryFiles, releaseText, villesInternet } from '../support/memory-files.ts';

let templates: TemplateSet;
const roots: string[] = [];
beforeAll(async () => {
  templates = await loadTemplateFiles();
});
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const hostile = 'Bilan </script><script>alert(1)</script> & « suite »';

async function setup(files: Record<string, string>, url = siteUrl) {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-share-'));
  roots.push(root);
  const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
  const clock = { now: new Date('2026-01-15T09:00:00Z') };
  const deps = {
    ...releaseDeps(
      store,
      templates,
      memoryFiles({ 'organizations/villes-internet.yaml': villesInternet, ...files }),
      () => clock.now,
    ),
    pressRoom: createPressRoom(templates, { siteUrl: url, lang: 'fr' }),
    siteUrl: url,
    cardPainter: createSharpCardPainter(),
  };
  return { store, clock, deps };
}

const text = (store: ObjectStore, key: string) => getText(store, key).then((t) => t ?? '');

/** The page's head as a parsed document: its meta tags by name or property, its links, its scripts. */
function head(html: string) {
  const doc = parseDocument(html);
  const metas = DomUtils.getElementsByTagName('meta', doc);
  const meta = (key: string) =>
    metas.find((m) => m.attribs.property === key || m.attribs.name === key)?.attribs.content;
  const canonical = DomUtils.getElementsByTagName('link', doc).find((l) => l.attribs.rel === 'canonical')
    ?.attribs.href;
  const scripts = DomUtils.getElementsByTagName('script', doc);
  return { meta, canonical, scripts };
}

/** The text of the page's JSON-LD script. */
function ldJson(scripts: ReturnType<typeof head>['scripts']): string {
  const script = scripts.find((x) => x.attribs.type === 'application/ld+json');
  if (!script) throw new Error('no JSON-LD script on the page');
  return DomUtils.textContent(script);
}

describe('a release page in the press room', () => {
  it('has its canonical address, Open Graph and Twitter cards, and a NewsArticle that stays inert', async () => {
    const { store, deps } = await setup({
      'publications/a.md': releaseText('bilan', hostile, 'author: Camille Martin\ntags: [Numérique]\n'),
    });
    await publishRelease('publications/a.md', deps);
    const html = await text(store, siteKeys.release('bilan'));
    const page = head(html);
    const url = `${siteUrl}releases/bilan/index.html`;
    expect(page.canonical).toBe(url);
    expect(page.meta('og:url')).toBe(url);
    expect(page.meta('og:site_name')).toBe('Salle de presse');
    expect(page.meta('og:locale')).toBe('fr_FR');
    expect(page.meta('og:image')).toBe(`${siteUrl}releases/bilan/card.png`);
    expect(new URL(page.meta('og:image') ?? '').protocol).toBe('https:');
    expect(page.meta('og:image:width')).toBe('1200');
    expect(page.meta('og:image:height')).toBe('630');
    expect(page.meta('og:image:alt')).toBe(hostile);
    expect(page.meta('twitter:card')).toBe('summary_large_image');
    expect(page.meta('twitter:image')).toBe(page.meta('og:image'));

    // One inline script, the JSON-LD, whole: the title did not close it nor open another. The
    // only other is the search box's, a same-origin file with nothing inline.
    const inline = page.scripts.filter((s) => s.attribs.src === undefined);
    expect(inline).toHaveLength(1);
    for (const other of page.scripts.filter((s) => s.attribs.src !== undefined)) {
      expect(other.attribs.src).toMatch(/^(\.\.\/)*[\w/-]*search-[0-9a-f]+\.js$/);
      expect(DomUtils.textContent(other)).toBe('');
    }
    const [script] = inline;
    expect(script?.attribs.type).toBe('application/ld+json');
    const raw = DomUtils.textContent(script as NonNullable<typeof script>);
    expect(raw).not.toContain('<');
    const article = JSON.parse(raw);
    expect(article).toMatchObject({
      '@context': 'https://schema.org',
      '@type': 'NewsArticle',
      headline: hostile,
      datePublished: '2021-06-08',
      dateModified: '2021-06-08',
      inLanguage: 'fr',
      author: { '@type': 'Person', name: 'Camille Martin' },
      publisher: { '@type': 'Organization', name: 'Villes Internet' },
      url,
      mainEntityOfPage: { '@id': url },
      image: [`${siteUrl}releases/bilan/card.png`],
      keywords: 'Numérique',
    });

    // Published again later: modified then.
    deps.clock = () => new Date('2026-02-01T10:00:00Z');
    await publishRelease('publications/a.md', deps);
    const again = head(await text(store, siteKeys.release('bilan')));
    const second = JSON.parse(
      DomUtils.textContent(again.scripts[0] as NonNullable<(typeof again.scripts)[0]>),
    );
    expect(second.dateModified).toBe('2026-02-01T10:00:00.000Z');
    expect(await text(store, siteKeys.yearSitemap('2021'))).toContain(
      '<lastmod>2026-02-01T10:00:00.000Z</lastmod>',
    );
  });

  it('has a 1200×630 PNG card beside it', async () => {
    const { store, deps } = await setup({ 'publications/a.md': releaseText('carte', hostile) });
    await publishRelease('publications/a.md', deps);
    const card = await store.get('site/releases/carte/card.png');
    expect(card).toBeDefined();
    const info = await sharp(card?.body as Uint8Array).metadata();
    expect(info).toMatchObject({ format: 'png', width: 1200, height: 630 });
  });

  it('names no address when the site has no https one (no public URL configured)', async () => {
    const local = 'http://localhost:3000/';
    const { store, deps } = await setup({ 'publications/a.md': releaseText('local', 'Local') }, local);
    await publishRelease('publications/a.md', deps);
    const html = await text(store, siteKeys.release('local'));
    expect(head(html).canonical).toBeUndefined();
    expect(head(html).meta('og:image')).toBeUndefined();
    expect(html).not.toContain('localhost');
    expect(await text(store, siteKeys.robots)).toBe('User-agent: *\nAllow: /\n');
  });
});

describe('the press room for crawlers', () => {
  it('lists releases with lastmod and image in the sitemap, names it in robots.txt, and gives the index a canonical', async () => {
    const { store, deps } = await setup({ 'publications/a.md': releaseText('bilan', 'Bilan') });
    await publishRelease('publications/a.md', deps);
    const sitemap = await text(store, siteKeys.yearSitemap('2021'));
    expect(sitemap).toContain('xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"');
    expect(sitemap).toContain(
      `<url><loc>${siteUrl}releases/bilan/index.html</loc><lastmod>2021-06-08</lastmod><image:image><image:loc>${siteUrl}releases/bilan/card.png</image:loc></image:image></url>`,
    );
    expect(await text(store, siteKeys.robots)).toBe(
      `User-agent: *\nAllow: /\n\nSitemap: ${siteUrl}sitemap.xml\n`,
    );
    const index = head(await text(store, siteKeys.index));
    expect(index.canonical).toBe(`${siteUrl}index.html`);
    expect(index.meta('og:type')).toBe('website');
    expect(head(await text(store, siteKeys.year('2021'))).canonical).toBe(`${siteUrl}2021/index.html`);
  });

  it('shows nothing of an embargoed release before the lift: no page, no card, no sitemap entry', async () => {
    const { store, clock, deps } = await setup({
      'publications/e.md': releaseText('secret', 'Annonce secrète', 'embargo: 2026-01-20T08:00:00+01:00\n'),
    });
    await publishRelease('publications/e.md', deps);
    const siteKeysNow: string[] = [];
    for await (const item of listAll(store, 'site/')) siteKeysNow.push(item.key);
    expect(siteKeysNow.filter((k) => k.includes('secret'))).toEqual([]);
    for (const key of siteKeysNow) expect(await text(store, key), key).not.toContain('Annonce secrète');
    expect(await store.head('site/releases/secret/card.png')).toBeUndefined();

    clock.now = new Date('2026-01-20T07:00:01Z');
    expect(await releaseDueEmbargoes(deps)).toEqual(['secret']);
    expect(await store.head('site/releases/secret/card.png')).toBeDefined();
    expect(await text(store, siteKeys.yearSitemap('2021'))).toContain(
      `<loc>${siteUrl}releases/secret/index.html</loc><lastmod>2026-01-20T07:00:00.000Z</lastmod>`,
    );
    const page = await text(store, siteKeys.release('secret'));
    expect(JSON.parse(ldJson(head(page).scripts)).datePublished).toBe('2026-01-20T07:00:00.000Z');
  });
});

describe('helpers', () => {
  it('escapes what could close a script in JSON-LD', () => {
    const json = jsonForScript({ a: '</script><!-- & \u2028' });
    expect(json).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(json)).toEqual({ a: '</script><!-- & \u2028' });
  });

  it('wraps a title into lines and ends a cut one with an ellipsis', () => {
    expect(wrapLines('un deux trois quatre', 9, 3)).toEqual(['un deux', 'trois', 'quatre']);
    expect(wrapLines('un deux trois quatre cinq', 9, 2)).toEqual(['un deux', 'trois…']);
    expect(wrapLines('anticonstitutionnellement', 10, 4)).toEqual(['anticonst-', 'itutionne-', 'llement']);
  });
});
