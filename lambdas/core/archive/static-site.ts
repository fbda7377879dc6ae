import { isPublicIssue, readIssues } from '../newsletter/catalog.ts';
import {
  commonSiteHeaders,
  fileContentSecurityPolicy,
  isPublishedFile,
  opensInBrowser,
  releasePdfName,
  servedFile,
} from '../public/site-headers.ts';
import { languages } from '../publication/languages.ts';
import {
  type Body,
  getJson,
  getText,
  type ListPage,
  listAll,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from '../store/object-store.ts';
import { isPublic, readTags, readYearIndex } from './catalog.ts';
import { archiveKeys, type ReleaseManifest } from './manifest.ts';
import { type PressRoom, releaseDownloads, siteKeys } from './press-room.ts';
import { isReleaseFolderFile, releaseFiles, siteTop, withLanguageLinks } from './publish.ts';
import { groupOf, readTranslationGroups } from './translation-groups.ts';

/**
 * The whole public press room as static files, for any static host: built from the archive
 * and the catalogue as they are now (releases whose embargo has passed are in, embargoed,
 * private and withdrawn ones are out), with every list page, feed and sitemap generated for
 * the configured site address. Nothing is written to the store: generated pages go to a
 * scratch layer over it.
 *
 * Headers cannot travel with static files: `_headers` (Netlify, Cloudflare Pages) says what
 * the host must send; docs/self-hosting.md has the same for nginx and Caddy. `404.html` is the
 * page hosts answer with when nothing is at an address (Netlify, Cloudflare Pages and GitHub
 * Pages find it by its name; nginx and Caddy are told in docs/self-hosting.md).
 */

/** One file of the site: its path under the site's top (no leading "/") and its bytes. */
export interface SiteFile {
  path: string;
  body: () => Promise<Uint8Array | AsyncIterable<Uint8Array>>;
}

export interface StaticSiteReport {
  /** Public releases in the site. */
  releases: number;
  /** Withdrawn releases whose address now holds a "withdrawn" page. */
  withdrawn: number;
  /** Public newsletter issues. */
  issues: number;
  files: number;
  /** Public releases rendered for another site address: `pressroom archive rebuild` renders them for this one. */
  otherSiteUrl: { slug: string; siteUrl: string }[];
  /** Published files that the host must serve as downloads (see `_headers`). */
  downloads: string[];
}

/**
 * The `_headers` file: what Netlify and Cloudflare Pages send with each path. `pdfs` are the
 * paths of release PDFs (`releases/<slug>/release.pdf`): each is saved as `<slug>.pdf`, one
 * rule each, as Netlify has no placeholders in header values.
 */
export function headersFile(pdfs: readonly string[] = []): string {
  const rule = (pattern: string, headers: Record<string, string>) =>
    [pattern, ...Object.entries(headers).map(([name, value]) => `  ${name}: ${value}`)].join('\n');
  const downloads = {
    'Content-Disposition': 'attachment',
    'Content-Security-Policy': fileContentSecurityPolicy,
  };
  return `${[
    '# Written by `pressroom site build` (docs/self-hosting.md). Pages carry their own',
    '# Content-Security-Policy in a <meta> tag; files people published download, and nothing',
    '# in them may run. A host that ignores this file must be set up to send the same headers.',
    rule('/*', commonSiteHeaders),
    rule('/releases/*/files/*', downloads),
    rule('/newsletters/*/files/*', downloads),
    ...pdfs.flatMap((pdf) => {
      const disposition = servedFile(pdf).headers['Content-Disposition'];
      return disposition ? [rule(`/${pdf}`, { 'Content-Disposition': disposition })] : [];
    }),
  ].join('\n')}\n`;
}

export async function buildStaticSite(
  deps: { store: ObjectStore; pressRoom: PressRoom; siteUrl: string; clock?: () => Date },
  emit: (file: SiteFile) => Promise<void>,
): Promise<StaticSiteReport> {
  const now = (deps.clock ?? (() => new Date()))();
  const { store } = deps;
  const site = siteTop(deps.siteUrl);
  const report: StaticSiteReport = {
    releases: 0,
    withdrawn: 0,
    issues: 0,
    files: 0,
    otherSiteUrl: [],
    downloads: [],
  };
  const emitted = new Set<string>();
  const pdfs: string[] = [];
  const put = async (path: string, body: SiteFile['body']) => {
    if (emitted.has(path)) return;
    emitted.add(path);
    report.files++;
    if (isPublishedFile(path) && !opensInBrowser(servedFile(path).contentType)) report.downloads.push(path);
    if (releasePdfName(path) !== undefined) pdfs.push(path);
    await emit({ path, body });
  };
  const fromStore = (key: string) => async () => {
    const body = await store.stream(key);
    if (!body) throw new Error(`the store is missing ${key}`);
    return body;
  };

  // Releases: public ones from their archived version, a notice where a withdrawn one was.
  const scratch = new ScratchStore(store);
  const yearIndex = await readYearIndex(store);
  const groups = await readTranslationGroups(store);
  for (const slug of Object.values(yearIndex)
    .flatMap((releases) => Object.keys(releases))
    .sort()) {
    const manifest = (await getJson<ReleaseManifest>(store, archiveKeys.manifest(slug)))?.value;
    if (!manifest) continue;
    const folder = `releases/${slug}/`;
    if (manifest.withdrawn?.wasPublic) {
      const page = deps.pressRoom.withdrawnPage(manifest.summary);
      await put(`${folder}index.html`, async () => new TextEncoder().encode(page));
      report.withdrawn++;
      continue;
    }
    if (!isPublic(manifest.summary, now)) continue;
    report.releases++;
    if (manifest.siteUrl !== undefined && manifest.siteUrl !== site)
      report.otherSiteUrl.push({ slug, siteUrl: manifest.siteUrl });
    const from = archiveKeys.version(slug, manifest.version);
    for (const file of releaseFiles) {
      if (!file.published || !manifest.files.includes(file.archived)) continue;
      // The page with the links to its translations public now (translations.ts).
      if (file.published === releaseDownloads.page) {
        const members = groupOf(groups, manifest.summary);
        const html = (await getText(store, from + file.archived)) ?? '';
        const linked = withLanguageLinks(deps, manifest, members, now, html, site);
        await put(folder + file.published, async () => new TextEncoder().encode(linked));
      } else await put(folder + file.published, fromStore(from + file.archived));
    }
    for (const name of manifest.files.filter(isReleaseFolderFile))
      await put(folder + name, fromStore(from + name));
  }

  // Newsletter issues: their copies in the press room (an issue has no embargo).
  for (const issue of (await readIssues(store)).filter(isPublicIssue)) {
    report.issues++;
    for await (const item of listAll(store, siteKeys.newsletterPrefix(issue.id)))
      await put(item.key.slice(siteKeys.prefix.length), fromStore(item.key));
  }

  // Every list page, feed and sitemap, generated now for this address.
  const years = Object.keys(yearIndex);
  const tags = Object.keys(await readTags(store));
  const generated = [
    ...(await deps.pressRoom.refresh(scratch, { years, tags, languages }, now)),
    ...(await deps.pressRoom.refreshNewsletters(scratch, now)),
    ...(await deps.pressRoom.refreshCoverage(scratch, now)),
  ];
  for (const key of generated) {
    const body = scratch.written(key);
    if (body) await put(key.slice(siteKeys.prefix.length), async () => body);
  }

  // Anything else the press room holds at its top (the search box's script, robots.txt…).
  for await (const item of listAll(store, siteKeys.prefix)) {
    const path = item.key.slice(siteKeys.prefix.length);
    if (!isGenerated(path)) await put(path, fromStore(item.key));
  }
  await put('_headers', async () => new TextEncoder().encode(headersFile(pdfs)));
  return report;
}

/** Paths the press room generates or copies per release and issue: never taken as they are. */
function isGenerated(path: string): boolean {
  return (
    /^(releases|newsletters|tags|sitemaps|coverage|search|\d{4})\//.test(path) ||
    languages.some((lang) => path.startsWith(`${lang}/`)) ||
    [
      'index.html',
      '404.html',
      'feed.xml',
      'atom.xml',
      'feed.json',
      'sitemap.xml',
      'robots.txt',
      '_headers',
    ].includes(path)
  );
}

/**
 * A layer over a store: reads see what was written here first (and not what was deleted
 * here), then the store; writes and deletes stay here. Listing is not needed by what runs on it.
 */
class ScratchStore implements ObjectStore {
  private readonly objects = new Map<string, StoredObject | null>();

  constructor(private readonly base: ObjectStore) {}

  /** What was written at `key` here, if anything. */
  written(key: string): Uint8Array | undefined {
    return this.objects.get(key)?.body;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const own = this.objects.get(key);
    return own === null ? undefined : (own ?? this.base.get(key));
  }

  async stream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const object = await this.get(key);
    return (
      object &&
      (async function* () {
        yield object.body;
      })()
    );
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const object = await this.get(key);
    if (!object) return undefined;
    const { body: _body, ...info } = object;
    return info;
  }

  async put(key: string, body: Body, options?: PutOptions): Promise<{ version: string }> {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const version = `scratch-${this.objects.size}`;
    this.objects.set(key, {
      key,
      body: bytes,
      size: bytes.length,
      version,
      lastModified: new Date(),
      ...(options?.contentType !== undefined && { contentType: options.contentType }),
    });
    return { version };
  }

  putIfAbsent(key: string, body: Body, options?: PutOptions): Promise<{ version: string }> {
    return this.put(key, body, options);
  }

  putIfVersion(
    key: string,
    body: Body,
    _expected: string,
    options?: PutOptions,
  ): Promise<{ version: string }> {
    return this.put(key, body, options);
  }

  list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<ListPage> {
    return this.base.list(prefix, options);
  }

  async delete(key: string): Promise<void> {
    this.objects.set(key, null);
  }

  /** The layer keeps no history, and the store under it is not changed through it. */
  async purgeHistory(): Promise<number> {
    return 0;
  }

  signedUrl(key: string, options: { expiresInSeconds: number; downloadName?: string }): Promise<string> {
    return this.base.signedUrl(key, options);
  }
}
