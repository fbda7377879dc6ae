import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import yauzl from 'yauzl';
import { FolderObjectStore } from '../lambdas/adapters/folder-store.ts';
import { localSourceFiles } from '../lambdas/adapters/local-files.ts';
import { sharpImages } from '../lambdas/adapters/sharp-images.ts';
import { loadTemplateFiles } from '../lambdas/adapters/template-files.ts';
import {
  catalogYears,
  type ReleaseSummary,
  readYear,
  recordRelease,
} from '../lambdas/core/archive/catalog.ts';
import { exportArchive } from '../lambdas/core/archive/export.ts';
import { archiveKeys, type ReleaseManifest } from '../lambdas/core/archive/manifest.ts';
import { createPressRoom, type PressRoom, siteKeys } from '../lambdas/core/archive/press-room.ts';
import {
  isReleaseFolderFile,
  type PublishDeps,
  publishRelease,
  releaseFiles,
} from '../lambdas/core/archive/publish.ts';
import {
  loadSearchIndex,
  readSearchTexts,
  recordSearchText,
  type SearchManifest,
  searchKeys,
} from '../lambdas/core/archive/search.ts';
import { slugify } from '../lambdas/core/publication/slug.ts';
import { createReleaseRenderer, type ReleaseRenderer } from '../lambdas/core/render/document.ts';
import {
  type Body,
  getText,
  listAll,
  type ObjectStore,
  type PutOptions,
} from '../lambdas/core/store/object-store.ts';
import { type Benchmark, type BenchRow, median, msSince } from './types.ts';

/**
 * Publishing into archives of 10, 100 and 1,000 releases (issue 19: the 1,001st publish costs
 * at most 1.2 × the 11th, printed as a figure beside its anchor and their ratio),
 * and the memory an export of 1,000 releases takes ("streamed: memory must not grow with
 * archive size").
 *
 * Seeding. Publishing 1,000 releases through `publishRelease` would render each one with
 * MJML and refresh the press room 1,000 times: minutes. The archives are instead seeded from
 * ONE real publish of the example (into a scratch store), whose stored objects are copied
 * for every synthetic release. Compared with real publishing, seeding:
 *   - does not render: every synthetic release archives the example's bytes (source.md,
 *     email.html/.txt, page.html, publication.json, the attachment, public/*), so the
 *     archived files' sizes are real, but `publication.json` and the pages still name the
 *     example (title, date, slug inside the page) — only the manifest and the catalogue
 *     carry the synthetic slug, title, date and tags;
 *   - writes the version folder and then `archive/<slug>/release.json` with putIfAbsent
 *     (same order and shape as publishRelease: a `ReleaseManifest`), then calls the real
 *     `recordRelease` (catalogue shards updated by compare-and-swap, one release at a time);
 *   - copies the press room's per-release files (`site/releases/<slug>/...`) from the
 *     example's copy, as publishRelease's private syncReleaseFiles would, for public
 *     releases only; the example's embargo is dropped, so catalog/pending.json stays empty;
 *   - refreshes the press room ONCE at the end, for every year and tag, instead of once per
 *     release: the site then holds every year and tag page, the home page, feeds, sitemaps.
 * Synthetic releases are dated evenly from 2014-03-01 to 2024-03-01 (ten years), carry 2–4
 * of 30 tags (including the example's three, so the tag pages a publish touches are as full
 * as the average tag's), and one in 37 is private. The release published in the measurement is the
 * example itself (dated 2024-03-12, newest of all) under a fresh slug each time, read from a
 * temporary copy of examples/, published through the real publishRelease without a PDF
 * printer.
 *
 * Export: each export runs in a fresh Node process (this file, with --export-child), so its
 * baseline and peak are its own: once sampling memory every 20 ms, once forcing a GC every
 * 100 ms to see the heap the export keeps alive. PRESSROOM_BENCH_KEEP=1 keeps the temporary
 * archives for profiling.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const thisFile = fileURLToPath(import.meta.url);
const exampleName = '2024-03-12-open-data-barometer.md';
const exampleSlug = 'open-data-barometer-2024';

const archiveSizes = [10, 100, 1_000];
const publishWarmups = 1;
const publishRuns = 15;
const exportSizes = [100, 1_000];
const exportChildFlag = '--export-child';

const suite = 'publish';
const siteUrl = 'https://press.example.org/';

export const publishBenchmark: Benchmark = {
  name: suite,
  description: `publish one release into archives of ${archiveSizes.join(', ')} releases; export memory`,
  async run(log) {
    const rows: BenchRow[] = [];
    const row = (name: string, value: number, unit: string, target?: BenchRow['target']) =>
      rows.push({ suite, name, value, unit, ...(target && { target }) });
    const gc = () => (globalThis as { gc?: () => void }).gc?.();
    const benchStart = process.hrtime.bigint();

    const temp = await mkdtemp(path.join(os.tmpdir(), 'pressroom-bench-publish-'));
    try {
      // The workspace: examples/ copied, so each run writes its own publication file.
      const workspace = path.join(temp, 'workspace');
      await cp(path.join(root, 'examples'), workspace, { recursive: true });
      const exampleSource = await readFile(path.join(workspace, 'publications', exampleName), 'utf8');
      if (!exampleSource.includes(`slug: ${exampleSlug}\n`)) {
        throw new Error(`${exampleName} no longer has "slug: ${exampleSlug}": update the benchmark`);
      }
      let fileCount = 0;
      const newPublicationFile = async (slug: string) => {
        const file = path.join(workspace, 'publications', `bench-${++fileCount}.md`);
        await writeFile(file, exampleSource.replace(`slug: ${exampleSlug}\n`, `slug: ${slug}\n`));
        return file;
      };

      const templates = await loadTemplateFiles();
      const timing = { renderMs: 0, refreshMs: 0 };
      const renderer = timedRenderer(createReleaseRenderer(templates), timing);
      const pressRoom = timedPressRoom(createPressRoom(templates, { siteUrl, lang: 'fr' }), timing);
      const depsFor = (store: ObjectStore): PublishDeps => ({
        store,
        files: localSourceFiles,
        renderer,
        pressRoom,
        sampleRecipient: templates.sampleRecipient,
        siteUrl,
        // The example lists press kit images: made by sharp, as the command line does.
        images: sharpImages(),
      });
      const openStore = (name: string) =>
        new FolderObjectStore({
          root: path.join(temp, name),
          signingSecret: 'bench-secret-bench-secret-bench-secret',
          publicUrl: 'http://localhost:3000',
        });

      // 1. The template: one real publish of the example (cold: loads MJML), then a second
      // one of the same file (an update in place), which also warms the code paths.
      log('template: publishing the example once for real');
      const scratch = openStore('scratch');
      let start = process.hrtime.bigint();
      const exampleFile = await newPublicationFile(exampleSlug);
      await publishRelease(exampleFile, depsFor(scratch));
      row('first publish in process (MJML load, empty archive)', msSince(start), 'ms');
      await publishRelease(exampleFile, depsFor(scratch));
      const template = await readTemplate(scratch, exampleSlug);
      for await (const item of listAll(scratch, 'site/assets/search-')) {
        const code = (await scratch.get(item.key))?.body ?? new Uint8Array();
        row('search box script (MiniSearch and ours)', code.byteLength / 1024, 'KiB');
        row('search box script, gzipped', gzipSync(code).byteLength / 1024, 'KiB');
      }

      // 2. The archives.
      const archives: { size: number; store: FolderObjectStore }[] = [];
      for (const size of archiveSizes) {
        log(`seeding an archive of ${size} releases (synthetic, see the comment in bench/publish.ts)`);
        const store = openStore(`archive-${size}`);
        start = process.hrtime.bigint();
        await seedArchive(store, template, size, pressRoom);
        row(`seed ${size} releases (not a product figure)`, msSince(start) / 1000, 's');
        const seeded = await releaseCount(store);
        if (seeded !== size) throw new Error(`archive-${size}: the catalogue lists ${seeded} releases`);
        if (!(await getText(store, siteKeys.index))?.includes('releases/seed-')) {
          throw new Error(`archive-${size}: site/index.html lists no seeded release`);
        }
        archives.push({ size, store });
        const search = await searchFigures(store);
        if (search.documents !== size - Math.floor(size / 37)) {
          throw new Error(`archive-${size}: the search index holds ${search.documents} releases`);
        }
        row(`search index of ${size} releases: JSON, ${search.years} years`, search.bytes / 1024, 'KiB');
        row(`search index of ${size} releases: gzipped`, search.gzipBytes / 1024, 'KiB');
        row(`search index of ${size} releases: largest year`, search.largest / 1024, 'KiB');
        row(
          `search index of ${size} releases: load every year and search (Node)`,
          search.loadAndSearchMs,
          'ms',
        );
      }

      // 3. Export memory, in a fresh process each (its own baseline and peak).
      for (const size of exportSizes) {
        const archive = archives.find((a) => a.size === size);
        if (!archive) continue;
        gc();
        log(`export of ${size} releases in a child process`);
        const out = path.join(temp, `export-${size}.zip`);
        const result = await exportInChild(archive.store.root, out, false);
        const entries = await zipEntries(out);
        const expectedFiles = size * template.exportedPerRelease;
        if (result.releases !== size) {
          throw new Error(`export of ${size}: ${result.releases} releases exported`);
        }
        if (entries.count !== result.files + 1 || result.files !== expectedFiles) {
          throw new Error(
            `export of ${size}: ${entries.count} ZIP entries for ${result.files} files (expected ${expectedFiles} + index.csv)`,
          );
        }
        if (entries.csvLines !== size + 1) {
          throw new Error(`export of ${size}: index.csv has ${entries.csvLines} lines for ${size} releases`);
        }
        const zipBytes = (await stat(out)).size;
        log(`export of ${size} releases again, forcing a GC every 100 ms (live heap)`);
        const live = await exportInChild(archive.store.root, out, true);
        const bounded = { max: 64, label: 'bounded (< 64 MiB)' };
        row(`export ${size}: time`, result.ms / 1000, 's');
        row(`export ${size}: peak RSS growth`, result.peakRssGrowth / 2 ** 20, 'MiB', bounded);
        row(
          `export ${size}: peak heap-used growth (garbage included)`,
          result.peakHeapGrowth / 2 ** 20,
          'MiB',
        );
        row(
          `export ${size}: peak live heap growth (GC each 100 ms)`,
          live.peakHeapGrowth / 2 ** 20,
          'MiB',
          bounded,
        );
        row(`export ${size}: heap retained after (GC)`, result.retainedHeapGrowth / 2 ** 20, 'MiB');
        row(`export ${size}: ZIP size`, zipBytes / 2 ** 20, 'MiB');
        row(`export ${size}: ZIP entries`, entries.count, 'entries');
        await rm(out, { force: true });
      }

      // 4. Publishing one new real release into each archive: runs interleaved across the
      // archives so that a change of machine load hits all sizes alike.
      const counted = new Map(archives.map((a) => [a.size, new CountingStore(a.store)]));
      const runs = new Map<number, PublishRun[]>(archives.map((a) => [a.size, []]));
      gc();
      log(`publishing: ${publishWarmups} warm-up + ${publishRuns} timed runs per archive, interleaved`);
      for (let run = -publishWarmups; run < publishRuns; run++) {
        for (const { size } of archives) {
          const store = counted.get(size) as CountingStore;
          const slug = `bench-new-release-${size}-${run + publishWarmups}`;
          const file = await newPublicationFile(slug);
          store.reset();
          timing.renderMs = 0;
          timing.refreshMs = 0;
          const runStart = process.hrtime.bigint();
          const result = await publishRelease(file, depsFor(store));
          const totalMs = msSince(runStart);
          const counts = store.snapshot();
          // Outside the timing: the release really is in the press room and the archive.
          const link = `releases/${slug}/index.html`;
          const index = (await getText(store, siteKeys.index)) ?? '';
          const year = (await getText(store, siteKeys.year('2024'))) ?? '';
          if (result.action !== 'created' || result.state !== 'public' || !index.includes(link)) {
            throw new Error(
              `archive-${size}: ${slug} was ${result.action}, ${result.state}, ${index.includes(link) ? '' : 'not '}on site/index.html`,
            );
          }
          if (!year.includes(link) || !(await store.head(siteKeys.release(slug)))) {
            throw new Error(`archive-${size}: ${slug} is missing from site/2024/index.html or its own page`);
          }
          if (run >= 0) {
            runs.get(size)?.push({
              totalMs,
              renderMs: timing.renderMs,
              refreshMs: timing.refreshMs,
              ...counts,
              siteObjects: result.siteObjectsWritten,
            });
          }
        }
      }
      // The figure of issue 19: the 1,001st publish against the 11th, measured in the same
      // run (interleaved), as a ratio; then each archive's breakdown.
      const first = runs.get(archiveSizes[0] as number) as PublishRun[];
      const last = runs.get(archiveSizes.at(-1) as number) as PublishRun[];
      const med = (r: PublishRun[], pick: (x: PublishRun) => number) => median(r.map(pick));
      const nth = (size: number) => `${(size + 1).toLocaleString('en')}${size + 1 === 11 ? 'th' : 'st'}`;
      const [small, large] = [archiveSizes[0] as number, archiveSizes.at(-1) as number];
      const versus = (what: string, pick: (x: PublishRun) => number, unit: string, limit?: number) => {
        const anchor = med(first, pick);
        rows.push({
          suite,
          name: `publish the ${nth(large)} release: ${what}`,
          value: med(last, pick),
          unit,
          anchor: { name: `the ${nth(small)}`, value: anchor },
          ...(limit !== undefined && {
            target: { max: anchor * limit, label: `≤ ${limit} × the ${nth(small)}` },
          }),
        });
      };
      versus(`time (median of ${last.length})`, (x) => x.totalMs, 'ms', 1.2);
      versus('objects written', (x) => x.puts, 'objects', 1.2);
      versus('objects read', (x) => x.gets, 'objects', 1.2);
      versus('bytes written', (x) => x.bytesWritten / 1024, 'KiB');
      versus('bytes read', (x) => x.bytesRead / 1024, 'KiB');
      for (const { size } of archives) {
        const r = runs.get(size) as PublishRun[];
        const m = (pick: (x: PublishRun) => number) => med(r, pick);
        const n = `publish into ${size}`;
        row(
          `${n}: total (median of ${r.length})`,
          m((x) => x.totalMs),
          'ms',
        );
        row(`${n}: total (min)`, Math.min(...r.map((x) => x.totalMs)), 'ms');
        row(
          `${n}: render, MJML + page (median)`,
          m((x) => x.renderMs),
          'ms',
        );
        row(
          `${n}: press room refresh (median)`,
          m((x) => x.refreshMs),
          'ms',
        );
        row(
          `${n}: rest: load, archive, catalogue (median)`,
          m((x) => x.totalMs - x.renderMs - x.refreshMs),
          'ms',
        );
        row(
          `${n}: catalogue store time (median)`,
          m((x) => x.catalogMs),
          'ms',
        );
        row(
          `${n}: objects written (puts)`,
          m((x) => x.puts),
          'objects',
        );
        row(
          `${n}: of which press room objects`,
          m((x) => x.siteObjects),
          'objects',
        );
        row(
          `${n}: objects read (gets)`,
          m((x) => x.gets),
          'objects',
        );
        row(
          `${n}: listings`,
          m((x) => x.lists),
          'lists',
        );
        row(`${n}: bytes written`, m((x) => x.bytesWritten) / 1024, 'KiB');
        row(`${n}: bytes read`, m((x) => x.bytesRead) / 1024, 'KiB');
        row(`${n}: of which catalogue bytes read`, m((x) => x.catalogBytesRead) / 1024, 'KiB');
      }
      row('load average (1 min) at the end', os.loadavg()[0] ?? 0, '');
      log(`publish benchmark took ${(msSince(benchStart) / 1000).toFixed(1)} s`);
      return rows;
    } finally {
      if (process.env.PRESSROOM_BENCH_KEEP) log(`kept the archives in ${temp} (PRESSROOM_BENCH_KEEP)`);
      else await rm(temp, { recursive: true, force: true });
    }
  },
};

interface PublishRun {
  totalMs: number;
  renderMs: number;
  refreshMs: number;
  catalogMs: number;
  puts: number;
  gets: number;
  lists: number;
  siteObjects: number;
  bytesWritten: number;
  bytesRead: number;
  catalogBytesRead: number;
}

function timedRenderer(inner: ReleaseRenderer, timing: { renderMs: number }): ReleaseRenderer {
  return {
    async render(publication, options) {
      const start = process.hrtime.bigint();
      try {
        return await inner.render(publication, options);
      } finally {
        timing.renderMs += msSince(start);
      }
    },
    renderPage(publication, options) {
      const start = process.hrtime.bigint();
      try {
        return inner.renderPage(publication, options);
      } finally {
        timing.renderMs += msSince(start);
      }
    },
  };
}

function timedPressRoom(inner: PressRoom, timing: { refreshMs: number }): PressRoom {
  return {
    ...inner,
    releasePageLinks: (release) => inner.releasePageLinks(release),
    async refresh(store, touched, now) {
      const start = process.hrtime.bigint();
      try {
        return await inner.refresh(store, touched, now);
      } finally {
        timing.refreshMs += msSince(start);
      }
    },
  };
}

/** Counts the objects and bytes a publish writes and reads; times catalogue operations. */
class CountingStore implements ObjectStore {
  private counts = CountingStore.zero();
  constructor(private readonly inner: ObjectStore) {}

  static zero() {
    return { puts: 0, gets: 0, lists: 0, bytesWritten: 0, bytesRead: 0, catalogBytesRead: 0, catalogMs: 0 };
  }
  reset(): void {
    this.counts = CountingStore.zero();
  }
  snapshot() {
    return { ...this.counts };
  }

  private async timed<T>(key: string, op: () => Promise<T>): Promise<T> {
    if (!key.startsWith('catalog/')) return op();
    const start = process.hrtime.bigint();
    try {
      return await op();
    } finally {
      this.counts.catalogMs += msSince(start);
    }
  }
  private wrote(body: Body): void {
    this.counts.puts++;
    this.counts.bytesWritten += typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  }

  async get(key: string) {
    const object = await this.timed(key, () => this.inner.get(key));
    this.counts.gets++;
    if (object) {
      this.counts.bytesRead += object.body.byteLength;
      if (key.startsWith('catalog/')) this.counts.catalogBytesRead += object.body.byteLength;
    }
    return object;
  }
  stream(key: string) {
    this.counts.gets++;
    return this.inner.stream(key);
  }
  head(key: string) {
    return this.inner.head(key);
  }
  put(key: string, body: Body, options?: PutOptions) {
    this.wrote(body);
    return this.timed(key, () => this.inner.put(key, body, options));
  }
  putIfAbsent(key: string, body: Body, options?: PutOptions) {
    this.wrote(body);
    return this.timed(key, () => this.inner.putIfAbsent(key, body, options));
  }
  putIfVersion(key: string, body: Body, expectedVersion: string, options?: PutOptions) {
    this.wrote(body);
    return this.timed(key, () => this.inner.putIfVersion(key, body, expectedVersion, options));
  }
  list(prefix: string, options?: { cursor?: string; limit?: number }) {
    this.counts.lists++;
    return this.timed(prefix, () => this.inner.list(prefix, options));
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  purgeHistory(prefix: string) {
    return this.inner.purgeHistory(prefix);
  }
  signedUrl(key: string, options: { expiresInSeconds: number; downloadName?: string }) {
    return this.inner.signedUrl(key, options);
  }
}

interface Template {
  manifest: ReleaseManifest;
  /** Files of the version folder, by name inside it. */
  archived: { name: string; body: Uint8Array }[];
  /** The press room's copy, by name inside site/releases/<slug>/. */
  site: { name: string; body: Uint8Array }[];
  /** How many files an export takes per release. */
  exportedPerRelease: number;
  /** Its words for search (catalog/search/), varied per synthetic release. */
  searchText: string;
}

async function readTemplate(store: ObjectStore, slug: string): Promise<Template> {
  const manifestText = await getText(store, archiveKeys.manifest(slug));
  if (!manifestText) throw new Error(`template: no manifest for ${slug}`);
  const manifest = JSON.parse(manifestText) as ReleaseManifest;
  const read = async (prefix: string) => {
    const files: Template['archived'] = [];
    for await (const item of listAll(store, prefix)) {
      const object = await store.get(item.key);
      if (object) files.push({ name: item.key.slice(prefix.length), body: object.body });
    }
    return files;
  };
  const archived = await read(archiveKeys.version(slug, manifest.version));
  if (archived.length !== manifest.files.length) {
    throw new Error(
      `template: ${archived.length} archived files for ${manifest.files.length} in the manifest`,
    );
  }
  // What exportArchive takes of a release: its formats and its folder's files (attachments, images).
  const exportedNames = releaseFiles.flatMap((f) => (f.exported ? [f.archived] : []));
  return {
    manifest,
    archived,
    site: await read(siteKeys.releasePrefix(slug)),
    exportedPerRelease: manifest.files.filter((n) => exportedNames.includes(n) || isReleaseFolderFile(n))
      .length,
    searchText: (await readSearchTexts(store, manifest.summary.date.slice(0, 4)))[slug] ?? '',
  };
}

const tagNames = [
  'open data',
  'barometer',
  'local government',
  'digital inclusion',
  'smart cities',
  'public procurement',
  'transparency',
  'mobility',
  'climate',
  'energy',
  'housing',
  'education',
  'health',
  'culture',
  'tourism',
  'budget',
  'elections',
  'cybersecurity',
  'broadband',
  'water',
  'waste',
  'biodiversity',
  'employment',
  'youth',
  'ageing',
  'sport',
  'security',
  'agriculture',
  'innovation',
  'europe',
];

/** Seeds `count` synthetic releases (see the comment at the top), then refreshes the press room once. */
async function seedArchive(
  store: ObjectStore,
  template: Template,
  count: number,
  pressRoom: PressRoom,
): Promise<void> {
  const first = Date.UTC(2014, 2, 1);
  const span = Date.UTC(2024, 2, 1) - first;
  const sha256 = createHash('sha256').update('synthetic').digest('hex');
  let random = 20240312;
  const next = () => {
    random = (random * 1103515245 + 12345) % 2 ** 31;
    return random / 2 ** 31;
  };
  const years = new Set<string>();
  const tagSlugs = new Set<string>();
  const { embargo: _noEmbargo, ...base } = template.manifest.summary;
  for (let i = 0; i < count; i++) {
    const date = new Date(first + Math.floor(((i + 0.5) * span) / count)).toISOString().slice(0, 10);
    const slug = `seed-${date}-release-${String(i).padStart(4, '0')}`;
    const picked = new Set<string>();
    const tagCount = 2 + Math.floor(next() * 3);
    while (picked.size < tagCount) picked.add(tagNames[Math.floor(next() * tagNames.length)] as string);
    const tags = [...picked].map((name) => ({ slug: slugify(name), name }));
    const stamp = `${date}T09:00:00.000Z`;
    const summary: ReleaseSummary = {
      ...base,
      slug,
      title: `Synthetic release ${i + 1}: ${template.manifest.summary.title}`,
      date,
      tags,
      visibility: i % 37 === 36 ? 'private' : 'public',
      publishedAt: stamp,
      updatedAt: stamp,
    };
    const version = `${stamp.replace(/[-:.]/g, '')}-seed${String(i).padStart(4, '0')}`;
    const manifest: ReleaseManifest = {
      summary,
      version,
      source: { path: `synthetic/${slug}.md`, sha256 },
      files: template.manifest.files,
    };
    const prefix = archiveKeys.version(slug, version);
    await Promise.all(template.archived.map((f) => store.put(prefix + f.name, f.body)));
    await store.putIfAbsent(archiveKeys.manifest(slug), `${JSON.stringify(manifest, null, 2)}\n`);
    await recordRelease(store, summary, undefined, new Date());
    await recordSearchText(store, slug, date.slice(0, 4), variedText(template.searchText, next));
    if (summary.visibility === 'public') {
      const sitePrefix = siteKeys.releasePrefix(slug);
      await Promise.all(template.site.map((f) => store.put(sitePrefix + f.name, f.body)));
    }
    years.add(date.slice(0, 4));
    for (const t of tags) tagSlugs.add(t.slug);
  }
  await pressRoom.refresh(store, { years, tags: tagSlugs }, new Date());
}

/**
 * The example's words for search with one word in four replaced by one of 5,000 made-up
 * words, so that the index's vocabulary grows with the archive as real releases' would.
 */
function variedText(text: string, next: () => number): string {
  return text
    .split(' ')
    .map((word, i) => (i % 4 === 3 ? `w${Math.floor(next() ** 2 * 5000).toString(36)}x` : word))
    .join(' ');
}

/** The search index of a press room: its files' sizes, and loading every year's index and querying it. */
async function searchFigures(store: ObjectStore) {
  const manifest = JSON.parse((await getText(store, searchKeys.manifest)) ?? '{}') as SearchManifest;
  const shards: string[] = [];
  for (const year of manifest.years) shards.push((await getText(store, searchKeys.shard(year))) ?? '');
  const start = process.hrtime.bigint();
  const indexes = shards.map(loadSearchIndex);
  const results = indexes.flatMap((index) => index.search('federation barometer'));
  const ms = msSince(start);
  const sizes = shards.map((json) => Buffer.byteLength(json));
  return {
    years: shards.length,
    documents: indexes.reduce((n, index) => n + index.documentCount, 0),
    results: results.length,
    bytes: sizes.reduce((a, b) => a + b, 0),
    gzipBytes: shards.reduce((n, json) => n + gzipSync(json).byteLength, 0),
    largest: Math.max(0, ...sizes),
    loadAndSearchMs: ms,
  };
}

async function releaseCount(store: ObjectStore): Promise<number> {
  let count = 0;
  for (const year of await catalogYears(store)) count += (await readYear(store, year)).length;
  return count;
}

interface ExportFigures {
  releases: number;
  files: number;
  ms: number;
  peakRssGrowth: number;
  peakHeapGrowth: number;
  retainedHeapGrowth: number;
}

/**
 * Runs the export in a fresh Node process (same loader, with --expose-gc) and reads its
 * figures. With `live`, the child forces a GC at each sample, so the heap figure is what the
 * export keeps alive rather than garbage awaiting collection (and the export runs slower).
 */
async function exportInChild(dataDir: string, out: string, live: boolean): Promise<ExportFigures> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...process.execArgv, '--expose-gc', thisFile, exportChildFlag, dataDir, out, live ? 'live' : 'plain'],
    { cwd: root, maxBuffer: 1 << 20 },
  );
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as ExportFigures;
}

/** The child's side: export `dataDir` to `out`, sampling memory every 20 ms (100 ms with GC). */
async function exportChild(dataDir: string, out: string, live: boolean): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the export child needs --expose-gc');
  const store = new FolderObjectStore({
    root: dataDir,
    signingSecret: 'bench-secret-bench-secret-bench-secret',
    publicUrl: 'http://localhost:3000',
  });
  gc();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const sample = () => {
    if (live) gc();
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, live ? 100 : 20);
  const start = process.hrtime.bigint();
  const result = await exportArchive(store, createWriteStream(out));
  const ms = msSince(start);
  clearInterval(timer);
  sample();
  gc();
  const figures: ExportFigures = {
    ...result,
    ms,
    peakRssGrowth: peakRss - before.rss,
    peakHeapGrowth: peakHeap - before.heapUsed,
    retainedHeapGrowth: process.memoryUsage().heapUsed - before.heapUsed,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/** The number of entries in a ZIP (from its central directory) and the lines of its index.csv. */
function zipEntries(file: string): Promise<{ count: number; csvLines: number }> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error(`cannot open ${file}`));
      const count = zip.entryCount;
      let csvLines = -1;
      zip.on('error', reject);
      zip.on('end', () => resolve({ count, csvLines }));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== 'index.csv') return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError ?? new Error('no index.csv stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            csvLines = Buffer.concat(chunks).toString('utf8').trimEnd().split(/\r?\n/).length;
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

if (process.argv[2] === exportChildFlag && process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  const [dataDir, out, mode] = process.argv.slice(3);
  if (!dataDir || !out) throw new Error(`usage: ${exportChildFlag} DATA_DIR OUT.zip [live|plain]`);
  await mkdir(path.dirname(out), { recursive: true });
  await exportChild(dataDir, out, mode === 'live');
}
