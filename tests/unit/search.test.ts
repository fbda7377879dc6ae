/**
 * The press room's search (lambdas/core/archive/search.ts): words as they are indexed, the
 * index written at publish on a store in memory and loaded back with MiniSearch.loadJSON as
 * the browser loads it, embargoed releases out of it until the lift, withdrawn ones out of it
 * at once, the static site carrying it, and the browser's copy of MiniSearch and of the word
 * normalisation kept the same as the server's.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { publishRelease, releaseDueEmbargoes } from '../../lambdas/core/archive/publish.ts';
import { rebuildPressRoom } from '../../lambdas/core/archive/rebuild.ts';
import {
  loadSearchIndex,
  readSearchTexts,
  type SearchManifest,
  searchKeys,
  searchLimits,
  searchTerm,
} from '../../lambdas/core/archive/search.ts';
import { buildStaticSite } from '../../lambdas/core/archive/static-site.ts';
import { withdrawRelease } from '../../lambdas/core/archive/withdraw.ts';
import { getText, listAll, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { releaseDeps } from '../support/dispatch-fixtures.ts';
import { memoryFiles, releaseText, villesInternet } from '../support/memory-files.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const embargo = '2021-06-10T06:00:00.000Z';

function workspace(): Record<string, string> {
  return {
    'organizations/villes-internet.yaml': villesInternet,
    // A rebuild reads the organisation where the release was published from (an absolute path).
    [path.resolve('organizations/villes-internet.yaml')]: villesInternet,
    'publications/etude.md': releaseText(
      'etude-villes',
      'Étude : la Fédération des villes moyennes résilientes',
      'tags: [numérique, crise]\n',
      'Les **cœurs** de ville ont tenu.\n\n## Méthode\n\nQuatre-vingt-dix-sept contributions, de [31 villes](https://example.org/villes).',
    ),
    'publications/embargo.md': releaseText(
      'sous-embargo',
      'Annonce des lauréats du label',
      `embargo: ${embargo}\n`,
      'Les lauréats seront connus jeudi.',
    ),
    'publications/long.md': releaseText('long', 'Un long communiqué', '', `${'mot '.repeat(2000)}fin`),
  };
}

async function setup() {
  const store = new MemoryObjectStore({
    signingSecret: 's'.repeat(32),
    publicUrl: 'https://press.example.org',
  });
  const clock = { now: new Date('2021-06-08T10:00:00Z') };
  const deps = releaseDeps(store, await loadTemplateFiles(), memoryFiles(workspace()), () => clock.now);
  for (const file of ['etude', 'embargo', 'long']) await publishRelease(`publications/${file}.md`, deps);
  return { store, clock, deps };
}

/** The slugs a query finds in the press room's index, as the browser would load it. */
async function found(store: ObjectStore, query: string): Promise<string[]> {
  const manifest = JSON.parse((await getText(store, searchKeys.manifest)) ?? 'null') as SearchManifest;
  const results = [];
  for (const year of manifest.years) {
    const json = await getText(store, searchKeys.shard(year));
    if (json === undefined) throw new Error(`index.json names ${year}, which has no index`);
    results.push(...loadSearchIndex(json).search(query));
  }
  return results.sort((a, b) => b.score - a.score).map((r) => String(r.id));
}

describe('words as they are indexed and searched', () => {
  it('are in lower case, without accents or ligatures; stop words and single letters are dropped', () => {
    expect(searchTerm('Fédération')).toBe('federation');
    expect(searchTerm('ÉTUDE')).toBe('etude');
    expect(searchTerm('Cœurs')).toBe('coeurs');
    expect(searchTerm('l')).toBeNull();
    expect(searchTerm('Les')).toBeNull();
    expect(searchTerm('the')).toBeNull();
    expect(searchTerm('numérique')).toBe('numerique');
  });

  it('are the same in the browser script as on the server', async () => {
    const script = await readFile(path.join(repo, 'templates/press-room/search.js'), 'utf8');
    const source = /const termOf = (\(stopWords\) => \(term\) => \{[\s\S]*?\n {2}\};)/.exec(script)?.[1];
    if (!source) throw new Error('templates/press-room/search.js has no termOf: update this test');
    const termOf = new Function(`return ${source.replace(/;$/, '')}`)() as (
      stop: Set<string>,
    ) => (t: string) => string | null;
    const stopWords = new Set(
      (JSON.parse((await getText((await setup()).store, searchKeys.manifest)) ?? '{}') as SearchManifest)
        .stopWords,
    );
    const browser = termOf(stopWords);
    for (const word of ['Fédération', 'ŒUVRE', 'Æther', 'l', 'les', 'The', 'Élus', 'naïve', 'Ça', '97'])
      expect(browser(word), word).toBe(searchTerm(word));
  });
});

describe('the index written at publish', () => {
  it('finds a public release by its title, tags, lead and body, whatever the accents and case', async () => {
    const { store } = await setup();
    expect(await found(store, 'federation')).toEqual(['etude-villes']);
    expect(await found(store, 'RÉSILIENTES')).toEqual(['etude-villes']);
    expect(await found(store, 'numerique')).toEqual(['etude-villes']);
    expect(await found(store, 'coeurs ville')).toEqual(['etude-villes']);
    expect(await found(store, 'contributions')).toEqual(['etude-villes']);
    // Prefixes and a small typo.
    expect(await found(store, 'resil')).toEqual(['etude-villes']);
    expect(await found(store, 'federatoin')).toEqual(['etude-villes']);
    // Link targets are not words of the release.
    expect(await found(store, 'example')).toEqual([]);
  });

  it('stores what a result shows: title, address from the site’s top, date as the site writes it, lead', async () => {
    const { store } = await setup();
    const json = (await getText(store, searchKeys.shard('2021'))) ?? '';
    const [result] = loadSearchIndex(json).search('federation');
    expect(result).toMatchObject({
      id: 'etude-villes',
      title: 'Étude : la Fédération des villes moyennes résilientes',
      url: 'releases/etude-villes/index.html',
      date: '2021-06-08',
      dateText: 'mardi 8 juin 2021',
      summary: 'Les associations d’élus publient ce mardi 8 juin une étude.',
    });
    expect(await store.head(searchKeys.shard('2021'))).toMatchObject({ contentType: 'application/json' });
  });

  it('keeps a release’s words within the documented length', async () => {
    const { store } = await setup();
    const texts = await readSearchTexts(store, '2021');
    expect(texts.long?.length).toBeLessThanOrEqual(searchLimits.textChars + 1);
    expect(texts.long).toMatch(/^mot mot .*…$/);
    expect(await found(store, 'fin')).toEqual([]);
  });

  it('leaves an embargoed release out until the lift, which puts it in', async () => {
    const { store, clock, deps } = await setup();
    expect(await found(store, 'laureats')).toEqual([]);
    // Its words wait in the private catalogue, not in the site.
    expect((await readSearchTexts(store, '2021'))['sous-embargo']).toContain('lauréats');
    for await (const item of listAll(store, 'site/'))
      expect(await getText(store, item.key), item.key).not.toMatch(/lauréats|laureats/);
    clock.now = new Date('2021-06-10T06:00:01Z');
    expect(await releaseDueEmbargoes(deps)).toEqual(['sous-embargo']);
    expect(await found(store, 'laureats')).toEqual(['sous-embargo']);
  });

  it('takes a withdrawn release out at once, and its words out of the catalogue when purged', async () => {
    const { store, deps } = await setup();
    await withdrawRelease('etude-villes', { reason: 'erreur', by: 't@host' }, deps);
    expect(await found(store, 'federation')).toEqual([]);
    expect((await readSearchTexts(store, '2021'))['etude-villes']).toBeDefined();
    await withdrawRelease('etude-villes', { reason: 'erreur', by: 't@host', purge: true }, deps);
    expect((await readSearchTexts(store, '2021'))['etude-villes']).toBeUndefined();
  });

  it('is written again by a rebuild, words included, for releases published before search', async () => {
    const { store, deps } = await setup();
    await store.delete(searchKeys.texts('2021'));
    await store.delete(searchKeys.shard('2021'));
    const report = await rebuildPressRoom(deps);
    expect(report.releases.map((r) => r.outcome)).not.toContain('failed');
    expect(await found(store, 'contributions')).toEqual(['etude-villes']);
  });

  it('comes with its page and the script the pages name', async () => {
    const { store } = await setup();
    const home = (await getText(store, 'site/index.html')) ?? '';
    const script = /<script src="(assets\/search-[0-9a-f]{12}\.js)" defer><\/script>/.exec(home)?.[1];
    expect(script).toBeDefined();
    const stored = await store.head(`site/${script}`);
    expect(stored?.contentType).toBe('text/javascript; charset=utf-8');
    const code = (await getText(store, `site/${script}`)) ?? '';
    expect(code).toContain('global.MiniSearch = factory()');
    expect(code).not.toContain('sourceMappingURL');
    expect(home).toContain('<form role="search" class="site-search" action="search/index.html" method="get"');
    expect(home).toContain('<label for="site-search-q">Rechercher dans les communiqués</label>');
    expect(home).toMatch(/<p class="site-search-status" role="status"><\/p>/);
    const release = (await getText(store, 'site/releases/etude-villes/index.html')) ?? '';
    expect(release).toContain(`<script src="../../${script}" defer></script>`);
    expect(release).toContain('data-root="../../"');
    const page = (await getText(store, searchKeys.page)) ?? '';
    expect(page).toContain('<noscript><p>La recherche fonctionne dans le navigateur');
    expect(page).toContain('<meta name="robots" content="noindex">');
    expect(page).toContain('<a href="../2021/index.html">2021</a>');
  });
});

describe('the static site', () => {
  it('carries the index of what is public now, its page and the script, never an embargoed release', async () => {
    const { deps } = await setup();
    const files = new Map<string, string>();
    await buildStaticSite(deps, async (file) => {
      const body = await file.body();
      const chunks: Uint8Array[] = [];
      if (body instanceof Uint8Array) chunks.push(body);
      else for await (const chunk of body) chunks.push(chunk);
      files.set(file.path, Buffer.concat(chunks).toString('utf8'));
    });
    expect(JSON.parse(files.get('search/index.json') ?? '{}').years).toEqual(['2021']);
    const index = loadSearchIndex(files.get('search/2021.json') ?? '');
    expect(index.search('federation').map((r) => r.id)).toEqual(['etude-villes']);
    expect(index.search('laureats')).toEqual([]);
    expect(files.has('search/index.html')).toBe(true);
    expect([...files.keys()].some((p) => /^assets\/search-[0-9a-f]{12}\.js$/.test(p))).toBe(true);
  });
});

describe('MiniSearch in the browser', () => {
  it('is the browser build of the installed minisearch, byte for byte', async () => {
    const installed = path.join(
      path.dirname(createRequire(import.meta.url).resolve('minisearch')),
      '../umd/index.js',
    );
    const copy = await readFile(path.join(repo, 'templates/press-room/minisearch.js'), 'utf8');
    expect(
      copy === (await readFile(installed, 'utf8')),
      `templates/press-room/minisearch.js differs from ${installed}: copy it there (cp ${installed} templates/press-room/minisearch.js)`,
    ).toBe(true);
  });
});
