import { createHash } from 'node:crypto';
import { issueDownloads, type PressRoom, siteKeys } from '../archive/press-room.ts';
import {
  type ArchivedFile,
  commitVersion,
  deleteUnder,
  newVersion,
  previousVersion,
  sourceAndRendered,
  syncSiteCopy,
} from '../archive/publish.ts';
import type { SourceFiles } from '../publication/load.ts';
import { inlineMarkdownToText } from '../render/markdown.ts';
import { anonymousCopy, compileForRecipients, type RecipientFields } from '../render/recipient.ts';
import type { ObjectStore } from '../store/object-store.ts';
import {
  type IssueManifest,
  type IssueSummary,
  isPublicIssue,
  newsletterKeys,
  recordIssue,
} from './catalog.ts';
import { loadIssue } from './load.ts';
import type { IssueRenderOptions, NewsletterRenderer, RenderedIssue } from './render.ts';
import { resolveIssue } from './resolve.ts';
import type { ResolvedIssue } from './schema.ts';

/**
 * Rendering and publishing newsletter issues. An issue is archived like a release: a new
 * version folder first, then its manifest switched to it with compare-and-swap (the commit
 * point), then the catalogue and the press room's Newsletters section.
 */

export interface IssueFilesDeps {
  files: SourceFiles;
  store: ObjectStore;
  renderer: NewsletterRenderer;
  sampleRecipient: RecipientFields;
  /** Absolute URL of the press room's top: release items link to their pages there. */
  siteUrl: string;
  clock?: () => Date;
}

export interface RenderedIssueFiles {
  issue: ResolvedIssue;
  rendered: RenderedIssue;
  files: ArchivedFile[];
  /** What the user should know that did not stop the render (a file converted to UTF-8...). */
  notices: string[];
}

const htmlType = 'text/html; charset=utf-8';
const textType = 'text/plain; charset=utf-8';

/** The public web page of an issue, when it is public. */
export function issuePageUrl(siteUrl: string, id: string): string {
  const top = siteUrl.endsWith('/') ? siteUrl : `${siteUrl}/`;
  return `${top}newsletters/${id}/${issueDownloads.page}`;
}

/**
 * Loads an issue, pulls its release items from the archive, renders it once and lays out
 * its files: `email.html`, `email.txt` (placeholders still in), `page.html`, `preview.html`
 * and `preview.txt` (filled for the sample recipient), `issue.json`. Nothing is written.
 */
export async function renderIssueFiles(file: string, deps: IssueFilesDeps): Promise<RenderedIssueFiles> {
  const now = (deps.clock ?? (() => new Date()))();
  const loaded = await loadIssue(file, deps.files);
  const issue = await resolveIssue(loaded, { store: deps.store, siteUrl: deps.siteUrl, now });
  const options: IssueRenderOptions =
    issue.visibility === 'public' ? { webUrl: issuePageUrl(deps.siteUrl, issue.id) } : {};
  const rendered = await deps.renderer.render(issue, options);
  const preview = compileForRecipients(rendered.email).fill(deps.sampleRecipient);
  return {
    issue,
    rendered,
    files: [
      { name: 'email.html', content: rendered.email.html, contentType: htmlType },
      { name: 'email.txt', content: rendered.email.text, contentType: textType },
      { name: 'page.html', content: rendered.page, contentType: htmlType },
      { name: 'preview.html', content: preview.html, contentType: htmlType },
      { name: 'preview.txt', content: preview.text, contentType: textType },
      { name: 'issue.json', content: `${JSON.stringify(issue, null, 2)}\n`, contentType: 'application/json' },
    ],
    notices: loaded.notices,
  };
}

export interface PublishIssueDeps extends IssueFilesDeps {
  pressRoom: PressRoom;
  newId?: () => string;
}

export interface PublishIssueResult {
  id: string;
  title: string;
  version: string;
  state: 'public' | 'private';
  action: 'created' | 'updated' | 'replaced';
  /** The issue's page in the press room, when it is public. */
  url?: string;
  /** The releases the issue links to. */
  releases: string[];
  siteObjectsWritten: number;
  /** What the user should know that did not stop the publish (a file converted to UTF-8...). */
  notices: string[];
}

/** The files of an archived issue that the press room shows, when the issue is public. */
const publicCopies = [
  { archived: 'public/index.html', published: issueDownloads.page },
  { archived: 'public/email.html', published: issueDownloads.email },
  { archived: 'public/newsletter.txt', published: issueDownloads.text },
] as const;

/** Validates, renders, archives and publishes one newsletter issue file. */
export async function publishIssue(
  file: string,
  deps: PublishIssueDeps,
  options: { replace?: boolean } = {},
): Promise<PublishIssueResult> {
  const now = (deps.clock ?? (() => new Date()))();
  const { issue, rendered, files, notices } = await renderIssueFiles(file, { ...deps, clock: () => now });
  const id = issue.id;
  const { source, sourcePath, previous } = await previousVersion<IssueManifest>(
    deps,
    file,
    newsletterKeys.manifest(id),
    options,
    {
      reason: (owner) =>
        `${file}: the newsletter id "${id}" is already used by ${owner}. Give this issue another "id" (or file name)`,
      replaced: 'issue',
    },
  );

  const releases = issue.items.flatMap((item) => (item.release ? [item.release.slug] : []));
  const summary: IssueSummary = {
    id,
    title: issue.title,
    date: issue.date,
    lang: issue.lang,
    summary: shorten(inlineMarkdownToText(issue.intro), 280),
    publishers: issue.publishers.map((p) => p.name),
    visibility: issue.visibility,
    releases: [...new Set(releases)],
    publishedAt: previous?.value.summary.publishedAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
  const publicEmail = anonymousCopy(rendered.email);
  const archived: ArchivedFile[] = [
    ...sourceAndRendered(source, files),
    {
      name: 'public/index.html',
      content: deps.renderer.renderPage(issue, { pressRoom: deps.pressRoom.issuePageLinks(summary) }),
      contentType: htmlType,
    },
    { name: 'public/email.html', content: publicEmail.html, contentType: htmlType },
    { name: 'public/newsletter.txt', content: publicEmail.text, contentType: textType },
  ];

  const version = newVersion(now, deps.newId);
  const manifest: IssueManifest = {
    summary,
    version,
    source: { path: sourcePath, sha256: createHash('sha256').update(source).digest('hex') },
    files: archived.map((f) => f.name),
  };
  await commitVersion(deps.store, {
    prefix: newsletterKeys.version(id, version),
    files: archived,
    manifestKey: newsletterKeys.manifest(id),
    manifest,
    ...(previous && { previousVersion: previous.version }),
    conflict: `${file}: the newsletter "${id}" was published by someone else at the same time; publish again`,
  });

  // The catalogue, then the press room: the issue's own pages (or none, when private), then
  // the section listing the issues.
  await recordIssue(deps.store, summary);
  const wanted = new Map<string, string>();
  if (isPublicIssue(summary)) {
    for (const copy of publicCopies) {
      wanted.set(
        siteKeys.newsletterPrefix(id) + copy.published,
        newsletterKeys.version(id, version) + copy.archived,
      );
    }
  }
  let siteObjectsWritten = await syncSiteCopy(deps.store, siteKeys.newsletterPrefix(id), wanted);
  siteObjectsWritten += (await deps.pressRoom.refreshNewsletters(deps.store, now)).length;

  // The previous version is no longer referenced.
  if (previous && previous.value.version !== version) {
    await deleteUnder(deps.store, newsletterKeys.version(id, previous.value.version));
  }
  return {
    id,
    title: issue.title,
    version,
    state: summary.visibility,
    action: !previous ? 'created' : previous.value.source.path === sourcePath ? 'updated' : 'replaced',
    ...(isPublicIssue(summary) && { url: issuePageUrl(deps.siteUrl, id) }),
    releases: summary.releases,
    siteObjectsWritten,
    notices,
  };
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}
