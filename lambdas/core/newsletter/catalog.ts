import { PressroomError } from '../errors.ts';
import type { Language } from '../publication/schema.ts';
import { getJson, type ObjectStore, updateJson } from '../store/object-store.ts';

/**
 * The archive of newsletter issues, beside the releases' (never mixed with them):
 *
 *   newsletters/<id>/issue.json           the manifest: current version, summary, source
 *   newsletters/<id>/<version>/...        source.md, issue.json, email.html, email.txt,
 *                                         page.html, public/...
 *   catalog/newsletters.json              every issue's summary, newest first
 *
 * One catalogue shard holds every issue: a newsletter comes out weekly at most, so ten
 * years of issues are a few hundred small entries, and the press room lists them all.
 */

/** What the press room and campaigns need to know about an issue. */
export interface IssueSummary {
  id: string;
  title: string;
  date: string;
  lang: Language;
  /** The intro as one line of text, shortened. */
  summary: string;
  publishers: string[];
  visibility: 'public' | 'private';
  /** Slugs of the releases the issue links to. */
  releases: string[];
  publishedAt: string;
  updatedAt: string;
}

export interface IssueManifest {
  summary: IssueSummary;
  version: string;
  source: { path: string; sha256: string };
  /** Names inside the version folder. */
  files: string[];
}

interface IssueCatalog {
  issues: IssueSummary[];
}

export const newsletterKeys = {
  manifest: (id: string) => `newsletters/${id}/issue.json`,
  version: (id: string, version: string) => `newsletters/${id}/${version}/`,
  catalog: 'catalog/newsletters.json',
};

const newestFirst = (a: IssueSummary, b: IssueSummary) =>
  b.date.localeCompare(a.date) || b.publishedAt.localeCompare(a.publishedAt) || a.id.localeCompare(b.id);

/** Puts an issue into the catalogue (replacing its previous summary), with compare-and-swap. */
export async function recordIssue(store: ObjectStore, summary: IssueSummary): Promise<void> {
  await updateJson<IssueCatalog>(
    store,
    newsletterKeys.catalog,
    () => ({ issues: [] }),
    (catalog) => ({
      issues: [...catalog.issues.filter((i) => i.id !== summary.id), summary].sort(newestFirst),
    }),
  );
}

/** Every issue, newest first. */
export async function readIssues(store: ObjectStore): Promise<IssueSummary[]> {
  return (await getJson<IssueCatalog>(store, newsletterKeys.catalog))?.value.issues ?? [];
}

/** Public issues: private ones never appear in the press room or feeds. */
export function isPublicIssue(issue: Pick<IssueSummary, 'visibility'>): boolean {
  return issue.visibility === 'public';
}

/** An archived issue's manifest, or a clear error. */
export async function readIssueManifest(store: ObjectStore, id: string): Promise<IssueManifest> {
  const manifest = await getJson<IssueManifest>(store, newsletterKeys.manifest(id));
  if (!manifest) {
    throw new IssueNotFoundError(
      `no newsletter issue "${id}" in the archive: publish it first with \`pressroom newsletter publish <issue.md>\``,
    );
  }
  return manifest.value;
}

export class IssueNotFoundError extends PressroomError {
  override name = 'IssueNotFoundError';
}
