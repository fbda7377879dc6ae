import * as z from 'zod';
import { mapConcurrent } from '../concurrency.ts';
import { hasControlCharacter } from '../control-characters.ts';
import { type SpreadsheetFormat, spreadsheetLines } from '../csv.ts';
import { PressroomError } from '../errors.ts';
import { isoDate } from '../publication/schema.ts';
import { getJson, type ObjectStore, updateJson } from '../store/object-store.ts';
import { isPublic, type ReleaseSummary } from './catalog.ts';
import { archiveKeys, type ReleaseManifest, ReleaseNotFoundError, readManifest } from './manifest.ts';

/**
 * Press coverage: articles that cite a release, recorded by hand (`pressroom coverage add`).
 * A release's articles are one object beside its manifest, `archive/<slug>/coverage.json`
 * (newest first), and `catalog/coverage.json` counts them by release, so that the coverage
 * page reads only the releases that have some; both change with compare-and-swap, the
 * release's first. They lie under `archive/` and `catalog/`, which the publish function
 * already reads: it shows a release's coverage when it publishes the release again. The
 * release's page in the press room shows them ("Dans la presse"), and the press room's
 * coverage page lists those of every public release.
 */

export const coverageKeys = {
  release: (slug: string) => `archive/${slug}/coverage.json`,
  index: 'catalog/coverage.json',
};

/** `catalog/coverage.json`: how many articles each release has (releases without any are absent). */
export interface CoverageIndex {
  releases: Record<string, number>;
}

/** One article about a release. */
export interface CoverageArticle {
  /** The article's https address: what identifies it among the release's coverage. */
  url: string;
  outlet: string;
  /** When it appeared, YYYY-MM-DD. */
  date: string;
  title?: string;
  /** Its language (BCP 47: `fr`, `en`, `de-CH`), when it is not the release's. */
  language?: string;
  /** When it was recorded (ISO). */
  addedAt: string;
}

/** `coverage/<slug>.json`. */
export interface CoverageFile {
  slug: string;
  articles: CoverageArticle[];
}

const printable = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !hasControlCharacter(s), 'must not hold control characters');

/**
 * Only https: the press room is served over https and links to the article from its pages;
 * an http link would send readers to a page anyone on their network can change. Outlets
 * without https are rare enough that refusing them is the safer default.
 */
const articleUrl = z
  .string()
  .trim()
  .refine((s) => {
    try {
      const url = new URL(s);
      return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'must be the https address of the article, such as https://www.example.com/2026/article')
  .transform((s) => new URL(s).href);

export const coverageInputSchema = z.strictObject({
  url: articleUrl,
  outlet: printable(200),
  date: isoDate,
  title: printable(300).optional(),
  language: z
    .string()
    .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'must be a language code such as fr, en or de-CH')
    .optional(),
});

export type CoverageInput = z.input<typeof coverageInputSchema>;

/** What was wrong with an article: the field, its value, and what it must be. */
export class CoverageInputError extends PressroomError {
  override name = 'CoverageInputError';
}

/** Checks an article's fields; the error names each wrong field and its value. */
export function parseCoverageInput(input: CoverageInput): z.output<typeof coverageInputSchema> {
  const parsed = coverageInputSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? 'article');
    const value = (input as Record<string, unknown>)[field];
    return `${field} ${issue.message}${value === undefined ? '' : ` (value: ${JSON.stringify(value)})`}`;
  });
  throw new CoverageInputError(`${problems.join('; ')}. Nothing was recorded.`);
}

/** A release's coverage, newest first (none: an empty list). */
export async function readCoverage(store: ObjectStore, slug: string): Promise<CoverageArticle[]> {
  return (
    (await getJson<CoverageFile>(store, coverageKeys.release(slug), { repair: coverageRepair }))?.value
      .articles ?? []
  );
}

/** Sets a release's count in the coverage index. */
async function countCoverage(store: ObjectStore, slug: string, count: number): Promise<void> {
  await updateJson<CoverageIndex>(
    store,
    coverageKeys.index,
    () => ({ releases: {} }),
    (index) => {
      if ((index.releases[slug] ?? 0) === count) return index;
      const releases = { ...index.releases };
      if (count > 0) releases[slug] = count;
      else delete releases[slug];
      return { releases };
    },
    { repair: 'delete it: the next `pressroom coverage add` writes it again (from that release only)' },
  );
}

/** Whether a release has articles recorded (one read). */
export async function hasCoverage(store: ObjectStore, slug: string): Promise<boolean> {
  return (await readCoverage(store, slug)).length > 0;
}

const coverageRepair = 'restore it from a backup, or delete it and add the articles again';

/** Newest first; the same day, the last recorded first. */
function newestFirst(a: CoverageArticle, b: CoverageArticle): number {
  return b.date.localeCompare(a.date) || b.addedAt.localeCompare(a.addedAt);
}

/**
 * Records an article about an archived release; the same address again replaces what was
 * recorded of it. Throws, storing nothing, on a wrong field or an unknown release.
 */
export async function addCoverage(
  store: ObjectStore,
  slug: string,
  input: CoverageInput,
  now: Date,
): Promise<{ action: 'added' | 'updated'; article: CoverageArticle }> {
  const fields = parseCoverageInput(input);
  await readManifest(store, slug);
  const article: CoverageArticle = { ...fields, addedAt: now.toISOString() };
  let action: 'added' | 'updated' = 'added';
  const file = await updateJson<CoverageFile>(
    store,
    coverageKeys.release(slug),
    () => ({ slug, articles: [] }),
    (file) => {
      const old = file.articles.find((a) => a.url === article.url);
      action = old ? 'updated' : 'added';
      const kept = file.articles.filter((a) => a.url !== article.url);
      return {
        slug,
        articles: [...kept, old ? { ...article, addedAt: old.addedAt } : article].sort(newestFirst),
      };
    },
    { repair: coverageRepair },
  );
  await countCoverage(store, slug, file.articles.length);
  return { action, article };
}

/** Removes the article at `url` from a release's coverage; an error when it is not there. */
export async function removeCoverage(
  store: ObjectStore,
  slug: string,
  url: string,
): Promise<CoverageArticle> {
  await readManifest(store, slug);
  let href: string;
  try {
    href = new URL(url.trim()).href;
  } catch {
    href = url.trim();
  }
  const articles = await readCoverage(store, slug);
  const removed = articles.find((a) => a.url === href);
  if (!removed) {
    throw new PressroomError(
      `no article at ${JSON.stringify(url)} in the coverage of "${slug}": \`pressroom coverage list ${slug}\` shows the addresses`,
    );
  }
  const file = await updateJson<CoverageFile>(
    store,
    coverageKeys.release(slug),
    () => ({ slug, articles: [] }),
    (current) => ({ slug, articles: current.articles.filter((a) => a.url !== href) }),
    { repair: coverageRepair },
  );
  // The file stays, emptied: deleting it could race with an article added meanwhile.
  await countCoverage(store, slug, file.articles.length);
  return removed;
}

/** An article with the release it is about. */
export interface CoverageRow extends CoverageArticle {
  slug: string;
  release: Pick<ReleaseSummary, 'title' | 'lang' | 'visibility' | 'embargo' | 'withdrawn'>;
}

/** Covered releases read at once by {@link listCoverage}: a few, not every one together. */
export const coverageReadConcurrency = 8;

/**
 * The coverage of one release, or of every release, newest first. The releases are read a few
 * at a time ({@link coverageReadConcurrency}: a manifest and a coverage file each); the rows
 * are in the same order as one release after the other would give.
 */
export async function listCoverage(store: ObjectStore, slug?: string): Promise<CoverageRow[]> {
  const slugs =
    slug !== undefined
      ? [slug]
      : Object.keys((await getJson<CoverageIndex>(store, coverageKeys.index))?.value.releases ?? {}).sort();
  const perRelease = await mapConcurrent(slugs, coverageReadConcurrency, async (s) => {
    const manifest = await getJson<ReleaseManifest>(store, archiveKeys.manifest(s));
    if (!manifest) {
      if (slug === undefined) return []; // the coverage of a release no longer archived: left out
      throw new ReleaseNotFoundError(
        `no release "${s}" in the archive: \`pressroom archive list\` shows the slugs`,
      );
    }
    const { summary } = manifest.value;
    const release = {
      title: summary.title,
      lang: summary.lang,
      visibility: summary.visibility,
      ...(summary.embargo !== undefined && { embargo: summary.embargo }),
      ...(summary.withdrawn !== undefined && { withdrawn: summary.withdrawn }),
    };
    return (await readCoverage(store, s)).map((article): CoverageRow => ({ ...article, slug: s, release }));
  });
  return perRelease.flat().sort(newestFirst);
}

/** The articles the public may see: those of public releases. */
export function publicCoverage(rows: CoverageRow[], now: Date): CoverageRow[] {
  return rows.filter((r) => isPublic(r.release, now));
}

/** The coverage as CSV for a spreadsheet: one line an article, formulas neutralised. */
export function coverageCsv(rows: CoverageRow[], format: SpreadsheetFormat = {}): string {
  return spreadsheetLines(
    [
      ['date', 'outlet', 'title', 'url', 'language', 'release', 'release_title', 'added_at'],
      ...rows.map((r) => [r.date, r.outlet, r.title, r.url, r.language, r.slug, r.release.title, r.addedAt]),
    ],
    format,
  );
}
