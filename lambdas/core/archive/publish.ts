import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { PressroomError } from '../errors.ts';
import { readSourceText } from '../input.ts';
import { isPublishedFile, servedFile } from '../public/site-headers.ts';
import type { SourceFiles } from '../publication/load.ts';
import type { Language, Publication } from '../publication/schema.ts';
import { slugify } from '../publication/slug.ts';
import type { ImageProcessor } from '../release/press-kit.ts';
import { type RenderedReleaseFiles, renderReleaseFiles, withEmail } from '../release/render-release.ts';
import {
  legibleColor,
  processedGallery,
  type ReleaseRenderer,
  type RenderOptions,
} from '../render/document.ts';
import { inlineMarkdownToText } from '../render/markdown.ts';
import { anonymousCopy, type RecipientFields } from '../render/recipient.ts';
import type { TemplateSet } from '../render/templates.ts';
import {
  type Content,
  getJson,
  getText,
  listAll,
  ObjectExistsError,
  type ObjectStore,
  putContent,
  storedBody,
  updateJson,
  VersionConflictError,
} from '../store/object-store.ts';
import {
  catalogKeys,
  isPublic,
  type PendingIndex,
  type ReleaseSummary,
  readPending,
  recordRelease,
} from './catalog.ts';
import { type CoverageArticle, hasCoverage, readCoverage } from './coverage.ts';
import {
  archiveKeys,
  manifestText,
  type ReleaseManifest,
  type ReleaseState,
  readManifest,
  stateOf,
} from './manifest.ts';
import {
  createPressRoom,
  type PressRoom,
  type PressRoomSettings,
  releaseDownloads,
  siteKeys,
} from './press-room.ts';
import { recordSearchText, searchText } from './search.ts';
import {
  type CardPainter,
  cardFile,
  isPublicSiteUrl,
  releaseShareMeta,
  shareCardSvg,
  shareImage,
} from './share.ts';
import {
  checkTranslation,
  groupOf,
  readTranslationGroups,
  recordTranslation,
  type TranslationMember,
  withTranslationLinks,
} from './translations.ts';

/**
 * Publishing: a release's files are archived under a new version folder, then its manifest
 * is switched to that version (the commit point), then the catalogue and the press room are
 * updated. A failure before the switch leaves the previous release as it was; after it, the
 * press room may lag until the next publish or refresh, but never shows a half-written
 * release.
 *
 *   archive/<slug>/release.json            the manifest: current version, summary, source
 *   archive/<slug>/<version>/...           source.md, publication.json, email.html, email.txt,
 *                                          page.html, release.pdf, files/..., public/...
 */

/**
 * What a printed document says about itself beyond its page: its footer, and its document
 * information (what a PDF reader shows as its properties, and what screen readers and search
 * engines read first).
 */
export interface PrintedDocument {
  /** The release's title: the PDF's title, and printed in the footer of every page with "n / N". */
  title: string;
  /** Who publishes it (the publishers' names, in order): the PDF's author. */
  authors?: string[];
  /** What it is about, in plain text (the lead): the PDF's subject. */
  subject?: string;
  /** Its tags: the PDF's keywords. */
  keywords?: string[];
  /** Its language (`fr`, `en`), the same as the page's `lang`. */
  lang?: string;
  /**
   * When it was issued, the PDF's creation date: a day (`2021-06-08`), or a date-time with its
   * offset (`2021-06-08T08:00:00+02:00`) when the time is known.
   */
  date?: string;
  /** When it was last published, if after `date` (an ISO date-time): the PDF's modification date. */
  modified?: string;
}

/**
 * Prints a web page to PDF (headless Chromium locally). The page's `lang` is the PDF's
 * language, and its `<title>` the PDF's title unless `document` gives one; `document` gives
 * what the page cannot say in print.
 */
export interface PdfPrinter {
  print(html: string, document?: PrintedDocument): Promise<Uint8Array>;
}

/** No browser to print with: publishing goes on without a PDF. */
export class PdfUnavailableError extends PressroomError {
  override name = 'PdfUnavailableError';
}

/**
 * The slug (or a newsletter's id) is taken by another file. `reason` says so; the message
 * adds the command line's way out, `--replace`, which an upload to the stack does not have.
 */
export class SlugTakenError extends PressroomError {
  override name = 'SlugTakenError';
  constructor(
    readonly reason: string,
    replaced: string,
  ) {
    super(`${reason}, or publish with --replace to replace that ${replaced}.`);
  }
}

/**
 * The files of an archived release, in one place: where each lies in the version folder,
 * its name in the press room when the release is public, in exports, and whether
 * `archive link` offers it. Attachments (`files/...`) keep their name everywhere.
 */
export const releaseFiles: readonly {
  format: string;
  archived: string;
  published?: string;
  exported?: string;
  linkable?: boolean;
}[] = [
  { format: 'page', archived: 'page.html', exported: 'page.html', linkable: true },
  { format: 'press-room-page', archived: 'public/index.html', published: releaseDownloads.page },
  {
    format: 'email',
    archived: 'public/email.html',
    published: releaseDownloads.email,
    exported: 'email.html',
    linkable: true,
  },
  {
    format: 'text',
    archived: 'public/release.txt',
    published: releaseDownloads.text,
    exported: 'release.txt',
    linkable: true,
  },
  {
    format: 'pdf',
    archived: 'release.pdf',
    published: releaseDownloads.pdf,
    exported: 'release.pdf',
    linkable: true,
  },
  // The link previews' card (share.ts), when the release has no image of its own.
  { format: 'card', archived: `public/${cardFile}`, published: cardFile },
  { format: 'source', archived: 'source.md', exported: 'source.md', linkable: true },
  { format: 'data', archived: 'publication.json', exported: 'publication.json' },
];

/** The formats `archive link` offers. */
export const linkFormats = releaseFiles.filter((f) => f.linkable).map((f) => f.format);

/**
 * Signed download links to an archived release (private and embargoed ones too): one
 * format, or every format and attachment with "all".
 */
export async function signedReleaseLinks(
  store: ObjectStore,
  slug: string,
  options: { format: string; expiresInSeconds: number },
): Promise<{ format: string; file: string; url: string }[]> {
  if (options.format !== 'all' && !linkFormats.includes(options.format)) {
    throw new PressroomError(
      `the format must be one of ${[...linkFormats, 'all'].join(', ')} (value: "${options.format}")`,
    );
  }
  const manifest = await readManifest(store, slug);
  if (manifest.withdrawn?.purgedAt) {
    throw new PressroomError(
      `${slug} was withdrawn and its archive purged on ${manifest.withdrawn.purgedAt.slice(0, 10)}: nothing is left to link to`,
    );
  }
  const prefix = archiveKeys.version(slug, manifest.version);
  const wanted = [
    ...releaseFiles
      .filter((f) => f.linkable && (options.format === 'all' || options.format === f.format))
      .map((f) => ({ format: f.format, name: f.archived })),
    ...(options.format === 'all'
      ? manifest.files.filter((f) => f.startsWith('files/')).map((name) => ({ format: 'attachment', name }))
      : []),
  ].filter((f) => manifest.files.includes(f.name));
  if (wanted.length === 0)
    throw new PressroomError(`${slug} has no ${options.format} (it was published without one)`);
  const links = [];
  for (const f of wanted) {
    // Pages open in the browser; everything else downloads under a name that says what it is.
    // The PDF is the release itself: `<slug>.pdf`, as in the press room.
    const downloadName =
      f.format === 'page'
        ? undefined
        : f.format === 'pdf'
          ? `${slug}.pdf`
          : `${slug}-${f.name.split('/').at(-1)}`;
    const url = await store.signedUrl(prefix + f.name, {
      expiresInSeconds: options.expiresInSeconds,
      ...(downloadName && { downloadName }),
    });
    links.push({ format: f.format, file: f.name, url });
  }
  return links;
}

export interface PublishDeps {
  store: ObjectStore;
  files: SourceFiles;
  renderer: ReleaseRenderer;
  pressRoom: PressRoom;
  sampleRecipient: RecipientFields;
  /** Absolute URL of the press room's top, ending in "/". */
  siteUrl: string;
  printer?: PdfPrinter;
  /** Draws the link previews' card (share.ts); without one, a release without images has no og:image. */
  cardPainter?: CardPainter;
  /** Makes press kit images' web sizes and thumbnails: needed to publish a release that lists images. */
  images?: ImageProcessor;
  clock?: () => Date;
  newId?: () => string;
}

/**
 * What publishing takes from the templates and the site's settings, the same for releases
 * and newsletter issues, on the command line and in the publish function.
 */
export function siteDeps(
  templates: TemplateSet,
  site: {
    siteUrl: string;
    siteLang: Language;
    siteTitle?: string | undefined;
    siteOrganization?: PressRoomSettings['organization'];
  },
): Pick<PublishDeps, 'pressRoom' | 'sampleRecipient' | 'siteUrl'> {
  return {
    pressRoom: createPressRoom(templates, {
      siteUrl: site.siteUrl,
      lang: site.siteLang,
      ...(site.siteTitle !== undefined && { title: site.siteTitle }),
      ...(site.siteOrganization !== undefined && { organization: site.siteOrganization }),
    }),
    sampleRecipient: templates.sampleRecipient,
    siteUrl: site.siteUrl,
  };
}

export interface PublishResult {
  slug: string;
  title: string;
  version: string;
  state: ReleaseState;
  /** First publication, update of the same file, or replacement of another file's release. */
  action: 'created' | 'updated' | 'replaced';
  pdf: { stored: true } | { stored: false; reason: string };
  /** The release's page in the press room, when it is public. */
  url?: string;
  /** When it becomes public (UTC ISO), while it is embargoed. */
  embargo?: string;
  /** How many press room objects were written (pages, feeds, sitemaps, release files). */
  siteObjectsWritten: number;
  /** What the user should know that did not stop the publish (a file converted to UTF-8...). */
  notices: string[];
}

/** Validates, renders, archives and publishes one publication file. */
export async function publishRelease(
  file: string,
  deps: PublishDeps,
  options: { replace?: boolean } = {},
): Promise<PublishResult> {
  const now = (deps.clock ?? (() => new Date()))();
  // Rendered once, with the link to the PDF when a printer will make it (the page does not change).
  let rendered = await renderRelease(file, deps, { pdfLink: deps.printer !== undefined });
  const slug = rendered.publication.slug;
  const { source, sourcePath, previous } = await previousVersion<ReleaseManifest>(
    deps,
    file,
    archiveKeys.manifest(slug),
    options,
    {
      reason: (owner) =>
        `${file}: the slug "${slug}" is already used by ${owner}. Give this publication another "slug"`,
      replaced: 'release',
    },
  );
  // Publishing a withdrawn release again would put it back in the press room: only when asked.
  const withdrawn = previous?.value.withdrawn;
  if (withdrawn && !options.replace) {
    throw new SlugTakenError(
      `${file}: the release "${slug}" was withdrawn on ${withdrawn.at.slice(0, 10)} (${withdrawn.reason}). Give this publication another "slug"`,
      'withdrawn release and put it back in the press room',
    );
  }

  // Checked against the archive before anything is written (translations.ts).
  const original = await checkTranslation(deps.store, rendered.publication, { file, source });

  let pdf: PublishResult['pdf'] = { stored: false, reason: 'no PDF printer configured' };
  let pdfBytes: Uint8Array | undefined;
  if (deps.printer) {
    try {
      pdfBytes = await deps.printer.print(
        rendered.rendered.page,
        printedRelease(rendered.publication, now.toISOString()),
      );
      pdf = { stored: true };
    } catch (error) {
      if (!(error instanceof PdfUnavailableError)) throw error;
      pdf = { stored: false, reason: error.message };
      rendered = await withoutPdfLink(rendered, deps);
    }
  }

  const restoredAt = withdrawn ? now.toISOString() : previous?.value.restoredAt;
  const { summary, archived } = archivedRelease(
    deps,
    rendered,
    source,
    pdfBytes,
    {
      publishedAt: previous?.value.summary.publishedAt ?? now.toISOString(),
      updatedAt: now.toISOString(),
    },
    await pageExtras(deps, rendered.publication),
  );
  const manifest = await archiveVersion(deps, now, {
    manifest: {
      summary,
      source: { path: sourcePath, sha256: createHash('sha256').update(source).digest('hex') },
      ...manifestImages(rendered.publication),
      // Brought back from a withdrawal now, or before: a withdrawal asked earlier stays undone.
      ...(restoredAt && { restoredAt }),
    },
    archived,
    ...(previous && { previousVersion: previous.version }),
    conflict: `${file}: "${slug}" was published by someone else at the same time; publish again`,
  });
  const { version } = manifest;
  const siteObjectsWritten = await installRelease(deps, manifest, previous?.value, now, {
    searchText: searchText(rendered.publication),
    ...(original && { original }),
  });

  const state = stateOf(summary, now);
  return {
    slug,
    title: summary.title,
    version,
    state,
    action: !previous ? 'created' : previous.value.source.path === sourcePath ? 'updated' : 'replaced',
    pdf,
    ...(state === 'public' && { url: releaseUrl(deps.siteUrl, slug) + releaseDownloads.page }),
    ...(state === 'embargoed' && summary.embargo !== undefined && { embargo: summary.embargo }),
    siteObjectsWritten,
    notices: rendered.notices,
  };
}

/**
 * Archives a release's files as a new version and switches its manifest to it (see
 * {@link commitVersion}); the manifest names the files and the site address they were
 * rendered for. Returns it.
 */
export async function archiveVersion(
  deps: Pick<PublishDeps, 'store' | 'siteUrl' | 'newId'>,
  now: Date,
  args: {
    manifest: Omit<ReleaseManifest, 'version' | 'files' | 'siteUrl'>;
    archived: ArchivedFile[];
    previousVersion?: string;
    conflict: string;
  },
): Promise<ReleaseManifest> {
  const slug = args.manifest.summary.slug;
  const version = newVersion(now, deps.newId);
  const manifest: ReleaseManifest = {
    ...args.manifest,
    version,
    files: args.archived.map((f) => f.name),
    siteUrl: siteTop(deps.siteUrl),
  };
  await commitVersion(deps.store, {
    prefix: archiveKeys.version(slug, version),
    files: args.archived,
    manifestKey: archiveKeys.manifest(slug),
    manifest,
    ...(args.previousVersion !== undefined && { previousVersion: args.previousVersion }),
    conflict: args.conflict,
  });
  return manifest;
}

/** The press room's top, ending in "/". */
export function siteTop(siteUrl: string): string {
  return siteUrl.endsWith('/') ? siteUrl : `${siteUrl}/`;
}

export function releaseUrl(siteUrl: string, slug: string): string {
  return `${siteTop(siteUrl)}releases/${slug}/`;
}

/** Loads and renders a publication, its links pointing at its place in the press room. */
export function renderRelease(
  file: string,
  deps: Pick<PublishDeps, 'files' | 'renderer' | 'sampleRecipient' | 'siteUrl' | 'images'>,
  options: { pdfLink?: boolean } = {},
): Promise<RenderedReleaseFiles> {
  return renderReleaseFiles(file, deps, (p) =>
    releaseRenderOptions(deps.siteUrl, p, options.pdfLink === true),
  );
}

/** Where a release's email and page link to, once in the press room. */
function releaseRenderOptions(siteUrl: string, p: Publication, pdfLink = false): RenderOptions {
  return {
    filesUrl: `${releaseUrl(siteUrl, p.slug)}files/`,
    releaseUrl: releaseUrl(siteUrl, p.slug),
    ...(p.visibility === 'public' && {
      webUrl: releaseUrl(siteUrl, p.slug) + releaseDownloads.page,
      // The email links to the PDF in the press room (so for a public release only).
      ...(pdfLink && { pdfUrl: releaseUrl(siteUrl, p.slug) + releaseDownloads.pdf }),
      // The tag's page as the press room names it (summarize's slug).
      tagUrl: (tag: string) => `${siteTop(siteUrl)}tags/${slugify(tag) || 'tag'}/index.html`,
    }),
  };
}

/**
 * The email again without its link to the PDF, when the PDF it was rendered for could not be
 * printed (no browser): the rare path; the page, which links to no PDF, does not change.
 */
export async function withoutPdfLink(
  release: RenderedReleaseFiles,
  deps: Pick<PublishDeps, 'renderer' | 'sampleRecipient' | 'siteUrl'>,
): Promise<RenderedReleaseFiles> {
  const p = release.publication;
  if (p.visibility !== 'public') return release;
  const again = await deps.renderer.render(p, releaseRenderOptions(deps.siteUrl, p));
  return withEmail(release, again.email, deps.sampleRecipient);
}

/** What the press room's copy of a release page shows besides the release: its card, its coverage. */
export interface PageExtras {
  /** The generated card (PNG), when the release is shared with it and a painter drew it. */
  card?: Uint8Array;
  /** The articles that cite it (`pressroom coverage add`), newest first. */
  coverage?: CoverageArticle[];
}

/**
 * What the press room's copy of a release page needs from elsewhere: its coverage, and its
 * card when it is shared with one (no image of its own) and there is a painter.
 */
export async function pageExtras(
  deps: Pick<PublishDeps, 'cardPainter' | 'pressRoom' | 'store'>,
  publication: Publication,
): Promise<PageExtras> {
  const coverage = await readCoverage(deps.store, publication.slug);
  const extras = coverage.length > 0 ? { coverage } : {};
  if (!deps.cardPainter || !shareImage(publication).generated) return extras;
  const svg = shareCardSvg({
    title: publication.title,
    publishers: publication.publishers.map((p) => p.name),
    // The pages' accent: the first publisher's colour, legible on white.
    accentColor: legibleColor(publication.publishers[0]?.color ?? '#0b5fa5'),
    t: deps.pressRoom.strings(publication.lang),
  });
  return { ...extras, card: await deps.cardPainter.paint(svg) };
}

/** A rendered release's summary, and every file its version folder holds. */
export function archivedRelease(
  deps: Pick<PublishDeps, 'renderer' | 'pressRoom' | 'siteUrl'>,
  { publication, rendered, files }: RenderedReleaseFiles,
  source: string,
  pdfBytes: Uint8Array | undefined,
  times: { publishedAt: string; updatedAt: string },
  extras: PageExtras = {},
): { summary: ReleaseSummary; archived: ArchivedFile[] } {
  const chosen = shareImage(publication);
  const image = chosen.generated && !extras.card ? undefined : chosen;
  const summary = summarize(publication, {
    pdf: pdfBytes !== undefined,
    ...times,
    ...(image && { image: image.path }),
  });
  const publicEmail = anonymousCopy(rendered.email);
  // The press room's copy is only ever online once the embargo has lifted (syncReleaseFiles):
  // it says nothing of an embargo. The archived page (advance copies, the PDF) keeps its line.
  const { embargo: _embargo, ...lifted } = publication;
  const archived: ArchivedFile[] = [
    ...sourceAndRendered(source, files),
    ...(pdfBytes ? [{ name: 'release.pdf', content: pdfBytes, contentType: 'application/pdf' }] : []),
    {
      name: 'public/index.html',
      content: deps.renderer.renderPage(lifted, {
        filesUrl: 'files/',
        imagesUrl: `${releaseUrl(deps.siteUrl, publication.slug)}files/`,
        releaseUrl: releaseUrl(deps.siteUrl, publication.slug),
        pressRoom: deps.pressRoom.releasePageLinks(summary),
        share: releaseShareMeta(
          publication,
          summary,
          { siteUrl: siteTop(deps.siteUrl), siteName: deps.pressRoom.title },
          image,
        ),
        ...(extras.coverage && { coverage: extras.coverage }),
      }),
      contentType: 'text/html; charset=utf-8',
    },
    ...(extras.card ? [{ name: `public/${cardFile}`, content: extras.card, contentType: 'image/png' }] : []),
    { name: 'public/email.html', content: publicEmail.html, contentType: 'text/html; charset=utf-8' },
    { name: 'public/release.txt', content: publicEmail.text, contentType: 'text/plain; charset=utf-8' },
  ];
  return { summary, archived };
}

/**
 * After a release's manifest changed (a new version, a withdrawal): the catalogue (and its
 * words for search, when given), its copy
 * in the press room, the pages that list it (unless `refresh` is false: the caller refreshes
 * them all at the end), and the previous version's folder, no longer referenced, deleted.
 * Returns how many press room objects were written.
 */
export async function installRelease(
  deps: Pick<PublishDeps, 'store' | 'pressRoom'>,
  manifest: ReleaseManifest,
  previous: ReleaseManifest | undefined,
  now: Date,
  options: {
    refresh?: boolean;
    /** Its words for the search index (search.ts); null takes them out; absent keeps them. */
    searchText?: string | null;
    /** The release it translates, when it is a translation (translations.ts: checkTranslation). */
    original?: ReleaseSummary;
  } = {},
): Promise<number> {
  const { summary } = manifest;
  await recordRelease(deps.store, summary, previous?.summary, now);
  const groups = await recordTranslation(deps.store, summary, previous?.summary, options.original);
  if (options.searchText !== undefined) {
    const year = summary.date.slice(0, 4);
    await recordSearchText(
      deps.store,
      summary.slug,
      year,
      options.searchText,
      previous?.summary.date.slice(0, 4),
    );
  }
  let written = await syncReleaseFiles(deps, manifest, now);
  // The other members' pages link to it now that it is public, or no longer do.
  for (const group of groups) written += await relinkTranslations(deps, group, now, summary.slug);
  if (options.refresh !== false) {
    const pages = await deps.pressRoom.refresh(
      deps.store,
      {
        years: [
          summary.date.slice(0, 4),
          ...(previous ? [previous.summary.date.slice(0, 4)] : []),
          // The sitemaps of its group's years name it among each member's alternates.
          ...groups.flat().map((m) => m.year),
        ],
        tags: [...summary.tags, ...(previous?.summary.tags ?? [])].map((t) => t.slug),
        languages: [summary.lang, ...(previous ? [previous.summary.lang] : [])],
      },
      now,
    );
    written += pages.length;
  }
  if (previous && previous.version !== manifest.version) {
    await deleteUnder(deps.store, archiveKeys.version(summary.slug, previous.version));
  }
  // The coverage page names the release (its title, whether it is public): only when it has coverage.
  if (options.refresh !== false && (await hasCoverage(deps.store, summary.slug)))
    written += (await deps.pressRoom.refreshCoverage(deps.store, now)).length;
  return written;
}

/**
 * Makes the press room's copy of a release match its state: the public files copied from the
 * archive when it is public, nothing left when it is not (private, or embargoed), and a page
 * saying so at its address once it has been withdrawn after being public.
 */
export async function syncReleaseFiles(
  deps: Pick<PublishDeps, 'store' | 'pressRoom'>,
  manifest: ReleaseManifest,
  now: Date,
): Promise<number> {
  const { store } = deps;
  const slug = manifest.summary.slug;
  const sitePrefix = siteKeys.releasePrefix(slug);
  const wanted = new Map<string, string>();
  if (isPublic(manifest.summary, now)) {
    const from = archiveKeys.version(slug, manifest.version);
    for (const file of releaseFiles) {
      if (file.published && manifest.files.includes(file.archived)) {
        wanted.set(sitePrefix + file.published, from + file.archived);
      }
    }
    for (const name of manifest.files.filter(isReleaseFolderFile)) wanted.set(sitePrefix + name, from + name);
  }
  const notice = manifest.withdrawn?.wasPublic ? siteKeys.release(slug) : undefined;
  const page = siteKeys.release(slug);
  const members = wanted.has(page) ? groupOf(await readTranslationGroups(store), manifest.summary) : [];
  let written = await syncSiteCopy(store, sitePrefix, wanted, notice, {
    key: page,
    change: (html) => withLanguageLinks(deps, manifest, members, now, html),
  });
  if (notice) {
    await store.put(notice, deps.pressRoom.withdrawnPage(manifest.summary), {
      contentType: 'text/html; charset=utf-8',
      cacheControl: 'public, max-age=300',
    });
    written++;
  }
  return written;
}

/**
 * A release page of the press room with the language links of its group (translations.ts),
 * its alternates at `siteUrl` (default: the address it was rendered for).
 */
export function withLanguageLinks(
  deps: Pick<PublishDeps, 'pressRoom'>,
  manifest: ReleaseManifest,
  members: readonly TranslationMember[],
  now: Date,
  html: string,
  site = manifest.siteUrl ?? '/',
): string {
  const siteUrl = siteTop(site);
  return withTranslationLinks(html, manifest.summary, members, {
    now,
    siteUrl,
    absolute: isPublicSiteUrl(siteUrl),
    label: deps.pressRoom.strings(manifest.summary.lang).languages,
  });
}

/**
 * Writes again the press room's page of each public member of a group but `except`, with the
 * group's links as they are at `now` (a member published, lifted or withdrawn). Returns how
 * many pages were written.
 */
export async function relinkTranslations(
  deps: Pick<PublishDeps, 'store' | 'pressRoom'>,
  members: readonly TranslationMember[],
  now: Date,
  except: string,
): Promise<number> {
  let written = 0;
  for (const member of members) {
    if (member.slug === except || !isPublic(member, now)) continue;
    const manifest = await getJson<ReleaseManifest>(deps.store, archiveKeys.manifest(member.slug));
    if (!manifest || !isPublic(manifest.value.summary, now)) continue;
    const archived = await getText(
      deps.store,
      `${archiveKeys.version(member.slug, manifest.value.version)}public/index.html`,
    );
    if (archived === undefined) continue;
    await deps.store.put(
      siteKeys.release(member.slug),
      withLanguageLinks(deps, manifest.value, members, now, archived),
      { contentType: 'text/html; charset=utf-8', cacheControl: 'public, max-age=300' },
    );
    written++;
  }
  return written;
}

/**
 * What publishing a file (a release, a newsletter issue) reads first: its source, its path
 * (the same file named another way, ./a.md or an absolute path, is the same publication),
 * and the manifest of what is published under its slug. Another file's publication there is
 * refused unless replacing: `taken` gives the reason, given who holds it, and what is replaced.
 */
export async function previousVersion<
  M extends { source: { path: string }; summary: { publishedAt: string } },
>(
  deps: Pick<PublishDeps, 'files' | 'store'>,
  file: string,
  manifestKey: string,
  options: { replace?: boolean },
  taken: { reason: (owner: string) => string; replaced: string },
): Promise<{ source: string; sourcePath: string; previous: { value: M; version: string } | undefined }> {
  const source = (await readSourceText(deps.files.within(file), file))?.text ?? '';
  const sourcePath = path.resolve(file);
  const previous = await getJson<M>(deps.store, manifestKey);
  if (previous && previous.value.source.path !== sourcePath && !options.replace) {
    const owner = `${previous.value.source.path} (published ${previous.value.summary.publishedAt.slice(0, 10)})`;
    throw new SlugTakenError(taken.reason(owner), taken.replaced);
  }
  return { source, sourcePath, previous };
}

/**
 * Files a release brings into its folder, published and exported under the same name:
 * attachments, the body's images and press kit originals (`files/`), and the press kit's
 * web sizes and thumbnails (`images/`).
 */
export function isReleaseFolderFile(name: string): boolean {
  return name.startsWith('files/') || name.startsWith('images/');
}

/** The press kit images as the manifest records them (none: no field). */
export function manifestImages(p: Publication): Pick<ReleaseManifest, 'images'> {
  const gallery = processedGallery(p);
  if (gallery.length === 0) return {};
  return {
    images: gallery.map((i) => ({
      original: `files/${i.file}`,
      sha256: i.sha256,
      bytes: i.size,
      format: i.format,
      width: i.width,
      height: i.height,
      web: i.web.name,
      thumbnail: i.thumbnail.name,
    })),
  };
}

/** The start of every archived version: the source, and the rendered files but the previews. */
export function sourceAndRendered(source: string, files: readonly ArchivedFile[]): ArchivedFile[] {
  return [
    { name: 'source.md', content: source, contentType: 'text/markdown; charset=utf-8' },
    ...files.filter((f) => !f.name.startsWith('preview.')),
  ];
}

/** A file to archive in a version folder. */
export interface ArchivedFile {
  name: string;
  content: Content;
  contentType: string;
}

/** A new version folder's name: the time, then a few random characters. */
export function newVersion(now: Date, newId: () => string = randomUUID): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${newId().slice(0, 8)}`;
}

/**
 * Archives one version: its files first, under a version folder nobody reads yet, then the
 * switch, the manifest naming the new version, written with compare-and-swap (against the
 * version read before, or create-if-absent). On a conflict the new folder is removed and
 * `conflict` is the error's message. Releases and newsletter issues are archived this way.
 */
export async function commitVersion(
  store: ObjectStore,
  args: {
    prefix: string;
    files: readonly ArchivedFile[];
    manifestKey: string;
    manifest: unknown;
    /** The store version of the manifest read before; absent for a first publication. */
    previousVersion?: string;
    conflict: string;
  },
): Promise<void> {
  const body = manifestText(args.manifest);
  try {
    // 1. New objects first, under a version folder nobody reads yet.
    for (const f of args.files)
      await putContent(store, args.prefix + f.name, f.content, { contentType: f.contentType });
    // 2. The switch: the manifest now names the new version.
    if (args.previousVersion !== undefined)
      await store.putIfVersion(args.manifestKey, body, args.previousVersion);
    else await store.putIfAbsent(args.manifestKey, body);
  } catch (error) {
    // Nothing names the new folder: it goes (as far as the store lets it), the error stays.
    await deleteUnder(store, args.prefix).catch(() => undefined);
    if (error instanceof VersionConflictError || error instanceof ObjectExistsError) {
      throw new PressroomError(args.conflict, { cause: error });
    }
    throw error;
  }
}

/**
 * Makes a folder of the press room hold exactly `wanted` (press room key → archive key):
 * each copied from the archive, anything else under the folder deleted but `keep`. Published
 * files get the type of their name and, when they must download, `Content-Disposition:
 * attachment`; a release's PDF its `<slug>.pdf` name (S3 serves both as they are; see
 * site-headers.ts). Returns how many objects were written.
 */
export async function syncSiteCopy(
  store: ObjectStore,
  sitePrefix: string,
  wanted: ReadonlyMap<string, string>,
  keep?: string,
  /** A page written changed (its language links): read whole, as text. */
  edit?: { key: string; change: (text: string) => string },
): Promise<number> {
  let written = 0;
  for (const [to, from] of wanted) {
    if (to === edit?.key) {
      const text = await getText(store, from);
      if (text === undefined) throw new PressroomError(`archive is missing ${from}`);
      await store.put(to, edit.change(text), {
        contentType: 'text/html; charset=utf-8',
        cacheControl: 'public, max-age=300',
      });
      written++;
      continue;
    }
    // Streamed from the archive: a 50 MB attachment is never held whole.
    const object = await storedBody(store, from);
    if (!object) throw new PressroomError(`archive is missing ${from}`);
    const sitePath = to.slice(siteKeys.prefix.length);
    const served = servedFile(sitePath);
    const contentType = isPublishedFile(sitePath) ? served.contentType : object.info.contentType;
    await putContent(store, to, object.body, {
      ...(contentType !== undefined && { contentType }),
      cacheControl: 'public, max-age=300',
      ...(served.headers['Content-Disposition'] !== undefined && {
        contentDisposition: served.headers['Content-Disposition'],
      }),
    });
    written++;
  }
  for await (const item of listAll(store, sitePrefix)) {
    if (!wanted.has(item.key) && item.key !== keep) await store.delete(item.key);
  }
  return written;
}

/** Releases whose embargo has passed appear in the press room. Returns their slugs. */
export async function releaseDueEmbargoes(
  deps: Pick<PublishDeps, 'store' | 'pressRoom' | 'clock'>,
): Promise<string[]> {
  const now = (deps.clock ?? (() => new Date()))();
  const due = Object.entries(await readPending(deps.store))
    .filter(([, embargo]) => Date.parse(embargo) <= now.getTime())
    .map(([slug]) => slug);
  if (due.length === 0) return [];
  const years = new Set<string>();
  const tags = new Set<string>();
  const languages = new Set<Language>();
  let covered = false;
  const groups = await readTranslationGroups(deps.store);
  for (const slug of due) {
    const manifest = await getJson<ReleaseManifest>(deps.store, archiveKeys.manifest(slug));
    if (manifest) {
      await syncReleaseFiles(deps, manifest.value, now);
      const group = groupOf(groups, manifest.value.summary);
      // Its translations public already link to it from now on.
      await relinkTranslations(deps, group, now, slug);
      for (const m of group) years.add(m.year);
      years.add(manifest.value.summary.date.slice(0, 4));
      for (const t of manifest.value.summary.tags) tags.add(t.slug);
      languages.add(manifest.value.summary.lang);
      covered ||= await hasCoverage(deps.store, slug);
    }
  }
  await updateJson<PendingIndex>(
    deps.store,
    catalogKeys.pending,
    () => ({ releases: {} }),
    (index) => {
      const releases = { ...index.releases };
      for (const slug of due) delete releases[slug];
      return { releases };
    },
  );
  await deps.pressRoom.refresh(deps.store, { years, tags, languages }, now);
  if (covered) await deps.pressRoom.refreshCoverage(deps.store, now);
  return due;
}

export function summarize(
  p: Publication,
  extra: { pdf: boolean; publishedAt: string; updatedAt: string; image?: string },
): ReleaseSummary {
  return {
    slug: p.slug,
    title: p.title,
    date: p.date,
    lead: inlineMarkdownToText(p.lead),
    lang: p.lang,
    ...(p.translationOf !== undefined && { translationOf: p.translationOf }),
    tags: p.tags.map((name) => ({ slug: slugify(name) || 'tag', name })),
    publishers: p.publishers.map((o) => o.name),
    visibility: p.visibility,
    ...(p.embargo !== undefined && { embargo: new Date(p.embargo).toISOString() }),
    formats: { pdf: extra.pdf, attachments: p.attachments },
    publishedAt: extra.publishedAt,
    updatedAt: extra.updatedAt,
    ...(extra.image !== undefined && { image: extra.image }),
  };
}

/**
 * What a release's PDF says about itself: its title, publishers, lead, tags and language, the
 * day it is issued (with the embargo's time when the embargo ends that day), and `updatedAt`,
 * when this version was published, as its modification if later.
 */
export function printedRelease(p: Publication, updatedAt: string): PrintedDocument {
  const date = p.embargo?.startsWith(p.date) ? p.embargo : p.date;
  return {
    title: p.title,
    authors: p.publishers.map((o) => o.name),
    subject: inlineMarkdownToText(p.lead),
    keywords: p.tags,
    lang: p.lang,
    date,
    ...(Date.parse(updatedAt) > Date.parse(date) && { modified: updatedAt }),
  };
}

/** Deletes every object under a prefix. */
export async function deleteUnder(store: ObjectStore, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const item of listAll(store, prefix)) keys.push(item.key);
  for (const key of keys) await store.delete(key);
}
