import { createHash } from 'node:crypto';
import path from 'node:path';
import { PressroomError } from '../errors.ts';
import { languages } from '../publication/languages.ts';
import type { SourceFiles } from '../publication/load.ts';
import {
  type Content,
  getJson,
  getText,
  isStreamed,
  type ObjectStore,
  storedBody,
} from '../store/object-store.ts';
import { readTags, readYearIndex } from './catalog.ts';
import { archiveKeys, type ReleaseManifest } from './manifest.ts';
import {
  archivedRelease,
  archiveVersion,
  installRelease,
  manifestImages,
  PdfUnavailableError,
  type PublishDeps,
  pageExtras,
  printedRelease,
  renderRelease,
  withoutPdfLink,
} from './publish.ts';
import { recordSearchText, searchText } from './search.ts';
import { restoreTranslationGroups } from './translations.ts';

/**
 * Rebuilding the public press room after a change of templates, organisations or site
 * address: every release is rendered again from its archived source (the Markdown as it was
 * published, its archived attachments) with the current templates and organisation files,
 * and the pages that list releases are regenerated. A release whose files come out the same
 * is left alone; one that changed gets a new version, switched in as a publish does, so each
 * release is rebuilt whole or not at all. Its publication dates stay: a new look is not news.
 *
 * A PDF is printed again only when the page it is printed from changed, and when there is a
 * printer; otherwise the archived PDF is kept as it is (the functions on AWS have no
 * Chromium). Withdrawn releases are left as they are. Newsletter issues are not re-rendered:
 * publish them again.
 */

export interface ReleaseRebuild {
  slug: string;
  /** `changed`: a new version; `unchanged`: nothing written; `skipped`: withdrawn; `failed`: left as it was. */
  outcome: 'changed' | 'unchanged' | 'skipped' | 'failed';
  /** Files of the version folder that changed (added, different or gone). */
  changed?: string[];
  /** What became of the PDF: printed again, kept from before (`kept-stale` when its page changed), or none. */
  pdf?: 'printed' | 'kept' | 'kept-stale' | 'none';
  /** Why it was skipped or failed. */
  reason?: string;
}

export interface RebuildReport {
  releases: ReleaseRebuild[];
  /** Press room objects written: release copies, list pages, feeds, sitemaps. */
  siteObjectsWritten: number;
}

/** Rebuilds the given releases (every release when none is given), then every list page. */
export async function rebuildPressRoom(
  deps: PublishDeps,
  options: { slugs?: string[] } = {},
): Promise<RebuildReport> {
  const now = (deps.clock ?? (() => new Date()))();
  const yearIndex = await readYearIndex(deps.store);
  const all = Object.values(yearIndex).flatMap((releases) => Object.keys(releases));
  const slugs = options.slugs?.length ? options.slugs : all.sort();
  // The groups of translations first, from the catalogue: the pages' language links read them.
  await restoreTranslationGroups(deps.store);
  const releases: ReleaseRebuild[] = [];
  let siteObjectsWritten = 0;
  for (const slug of slugs) {
    try {
      const result = await rebuildRelease(slug, deps, now);
      releases.push(result.report);
      siteObjectsWritten += result.written;
    } catch (error) {
      if (!(error instanceof PressroomError)) throw error;
      releases.push({ slug, outcome: 'failed', reason: error.message });
    }
  }
  // Every list page, feed and sitemap, since templates or the site's address may have changed.
  const years = Object.keys(await readYearIndex(deps.store));
  const tags = Object.keys(await readTags(deps.store));
  siteObjectsWritten += (await deps.pressRoom.refresh(deps.store, { years, tags, languages }, now)).length;
  siteObjectsWritten += (await deps.pressRoom.refreshNewsletters(deps.store, now)).length;
  siteObjectsWritten += (await deps.pressRoom.refreshCoverage(deps.store, now)).length;
  return { releases, siteObjectsWritten };
}

/**
 * After a release's coverage changed (`pressroom coverage add`, `remove`): its page rendered
 * again as a rebuild of it alone does (its other files are left as they are when they come
 * out the same), and the coverage page. The list pages are not rewritten: they do not show
 * coverage. A withdrawn release is skipped.
 */
export async function refreshReleaseCoverage(
  slug: string,
  deps: PublishDeps,
): Promise<{ release: ReleaseRebuild; siteObjectsWritten: number }> {
  const now = (deps.clock ?? (() => new Date()))();
  let release: ReleaseRebuild;
  let written = 0;
  try {
    const result = await rebuildRelease(slug, deps, now);
    release = result.report;
    written = result.written;
  } catch (error) {
    if (!(error instanceof PressroomError)) throw error;
    release = { slug, outcome: 'failed', reason: error.message };
  }
  written += (await deps.pressRoom.refreshCoverage(deps.store, now)).length;
  return { release, siteObjectsWritten: written };
}

async function rebuildRelease(
  slug: string,
  deps: PublishDeps,
  now: Date,
): Promise<{ report: ReleaseRebuild; written: number }> {
  const current = await getJson<ReleaseManifest>(deps.store, archiveKeys.manifest(slug));
  if (!current) {
    throw new PressroomError(
      `no release "${slug}" in the archive: \`pressroom archive list\` shows the slugs`,
    );
  }
  const before = current.value;
  if (before.withdrawn) return { report: { slug, outcome: 'skipped', reason: 'withdrawn' }, written: 0 };
  const prefix = archiveKeys.version(slug, before.version);
  const source = await getText(deps.store, `${prefix}source.md`);
  if (source === undefined) throw new PressroomError(`the archive of "${slug}" has no source.md`);
  // The file as it was named when published (publication.json keeps that name), read where it was.
  const given =
    (await getJson<{ source?: string }>(deps.store, `${prefix}publication.json`))?.value.source ??
    before.source.path;
  // With the link to the PDF when the release will have one (kept, or printed now).
  const pdfExpected = deps.printer !== undefined || before.files.includes('release.pdf');
  const rendered = await renderRelease(
    given,
    { ...deps, files: archivedSources(deps.files, deps.store, before, given) },
    { pdfLink: pdfExpected },
  );
  if (rendered.publication.slug !== slug) {
    throw new PressroomError(
      `its source now gives the slug "${rendered.publication.slug}": publish it instead`,
    );
  }

  const oldPdf = before.files.includes('release.pdf')
    ? (await deps.store.get(`${prefix}release.pdf`))?.body
    : undefined;
  const pageChanged = (await getText(deps.store, `${prefix}page.html`)) !== rendered.rendered.page;
  let pdfBytes = oldPdf;
  let pdf: ReleaseRebuild['pdf'] = oldPdf ? (pageChanged ? 'kept-stale' : 'kept') : 'none';
  if (deps.printer && (pageChanged || !oldPdf)) {
    try {
      pdfBytes = await deps.printer.print(
        rendered.rendered.page,
        printedRelease(rendered.publication, before.summary.updatedAt),
      );
      pdf = 'printed';
    } catch (error) {
      if (!(error instanceof PdfUnavailableError)) throw error;
    }
  }
  const emailed = pdfExpected && !pdfBytes ? await withoutPdfLink(rendered, deps) : rendered;

  const { summary, archived } = archivedRelease(
    deps,
    emailed,
    source,
    pdfBytes,
    { publishedAt: before.summary.publishedAt, updatedAt: before.summary.updatedAt },
    await pageExtras(deps, emailed.publication),
  );
  const changed: string[] = [];
  for (const file of archived) {
    const same =
      before.files.includes(file.name) && (await isStored(deps.store, prefix + file.name, file.content));
    if (!same) changed.push(file.name);
  }
  changed.push(...before.files.filter((name) => !archived.some((f) => f.name === name)));
  const summaryChanged = JSON.stringify(summary) !== JSON.stringify(before.summary);
  // Its words for search, even when nothing else changed: releases published before search.
  const text = searchText(rendered.publication);
  if (changed.length === 0 && !summaryChanged) {
    await recordSearchText(deps.store, slug, summary.date.slice(0, 4), text);
    return { report: { slug, outcome: 'unchanged', pdf }, written: 0 };
  }

  const { version: _version, files: _files, siteUrl: _siteUrl, images: _images, ...kept } = before;
  const manifest = await archiveVersion(deps, now, {
    manifest: { ...kept, summary, ...manifestImages(emailed.publication) },
    archived,
    previousVersion: current.version,
    conflict: `"${slug}" was published by someone else during the rebuild: run the rebuild again`,
  });
  const written = await installRelease(deps, manifest, before, now, { refresh: false, searchText: text });
  return { report: { slug, outcome: 'changed', changed: changed.sort(), pdf }, written };
}

/** True when `key` holds exactly `content`; streamed content is compared by size and hash. */
async function isStored(store: ObjectStore, key: string, content: Content): Promise<boolean> {
  if (!isStreamed(content)) {
    const old = await store.get(key);
    return old !== undefined && Buffer.from(old.body).equals(Buffer.from(content));
  }
  const old = await storedBody(store, key);
  if (!old || old.info.size !== content.size) return false;
  const [a, b] = await Promise.all([sha256Of(await old.body.open()), sha256Of(await content.open())]);
  return a === b;
}

async function sha256Of(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * A release's sources as they were published: its Markdown and attachments from the archive,
 * anything else (organisation files) from `files`, where the publication was. `given` is the
 * name it was published under (`examples/x.md`, relative to where that command ran): paths
 * relative to it are read relative to the file's recorded place.
 */
export function archivedSources(
  files: SourceFiles,
  store: ObjectStore,
  manifest: ReleaseManifest,
  given: string = manifest.source.path,
): SourceFiles {
  const prefix = archiveKeys.version(manifest.summary.slug, manifest.version);
  const source = path.resolve(manifest.source.path);
  const place = (file: string) =>
    path.resolve(path.dirname(source), path.relative(path.dirname(given), file));
  const archived = (file: string): string | undefined => {
    const at = place(file);
    if (at === source) return `${prefix}source.md`;
    const relative = path.relative(path.dirname(source), at).split(path.sep).join('/');
    const name = `files/${relative}`;
    return !relative.startsWith('../') && manifest.files.includes(name) ? prefix + name : undefined;
  };
  return {
    async size(file) {
      const key = archived(file);
      return key === undefined ? files.size(place(file)) : (await store.head(key))?.size;
    },
    async stream(file) {
      const key = archived(file);
      if (key === undefined) return files.stream(place(file));
      const object = await storedBody(store, key);
      if (!object) throw new PressroomError(`the archive is missing ${key}`);
      return object.body;
    },
    async readBytes(file, options) {
      const key = archived(file);
      if (key === undefined) return files.readBytes(place(file), options);
      const object = await store.get(key);
      if (!object) throw new PressroomError(`the archive is missing ${key}`);
      return object.body;
    },
    // What is not in the archive is read inside the workspace of the publication's place.
    within: (publicationFile) =>
      archivedSources(files.within(place(publicationFile)), store, manifest, given),
  };
}
