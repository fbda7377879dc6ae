import { getJson, type ObjectStore, updateJson } from '../store/object-store.ts';

/**
 * The catalogue of the archive: small JSON shards that the press room is generated from,
 * so that publishing one release reads and rewrites a year and a few tags, never the whole
 * archive. Shards are updated with compare-and-swap, so concurrent publishes lose nothing.
 *
 *   catalog/years/<yyyy>.json   every release of that year, newest first
 *   catalog/tags.json           tag slug → display name, and how many of its releases are public
 *                               (a few bytes a tag: every page's navigation needs it, every
 *                               publish reads it, whatever the size of the archive)
 *   catalog/tags/<tag>.json     every release with that tag, newest first
 *   catalog/years.json          year → the releases of that year and their visibility (which years to show)
 *   catalog/pending.json        releases not yet public because of an embargo
 */

export type Visibility = 'public' | 'private';

/** What the press room needs to list a release. */
export interface ReleaseSummary {
  slug: string;
  title: string;
  date: string;
  lead: string;
  lang: 'fr' | 'en';
  /** The release it translates (`translationOf`), when it is a translation. */
  translationOf?: string;
  tags: { slug: string; name: string }[];
  publishers: string[];
  visibility: Visibility;
  embargo?: string;
  /** When it was withdrawn (ISO): out of the press room for good (`pressroom archive withdraw`). */
  withdrawn?: string;
  /** Formats offered for download, besides the web page. */
  formats: { pdf: boolean; attachments: { file: string; label: string; size: number }[] };
  publishedAt: string;
  updatedAt: string;
  /** The image it is shared with, relative to its folder in the press room (`card.png`, `files/…`): link previews and the sitemap. */
  image?: string;
}

/** What decides whether a release is public now. */
export type PublicityOf = Pick<ReleaseSummary, 'visibility' | 'embargo' | 'withdrawn'>;

export interface YearShard {
  year: string;
  releases: ReleaseSummary[];
}

export interface TagShard {
  tag: string;
  releases: ReleaseSummary[];
  /** One more at each change: orders the shard's states, so the tag index keeps the newest. */
  revision?: number;
}

/** What the tag index keeps of a tag: enough to count its public releases at any time. */
export interface TagEntry {
  name: string;
  /** The tag shard's revision it was counted from. */
  revision?: number;
  /** Releases public for good: public, no embargo, not withdrawn. */
  public?: number;
  /** Public releases with an embargo (slug → embargo): public once it has passed. */
  embargoed?: Record<string, string>;
  /** Before issue 19: every release carrying the tag. Still read; replaced at the tag's next change. */
  releases?: Record<string, PublicityOf>;
}

export interface TagIndex {
  /** tag slug → display name and public count (a tag with no release left is taken out). */
  tags: Record<string, TagEntry>;
}

export interface YearIndex {
  /** year → release slug → what decides whether it is public now. */
  years: Record<string, Record<string, PublicityOf>>;
}

export interface PendingIndex {
  /** slug → embargo (ISO) of releases waiting for their embargo to pass. */
  releases: Record<string, string>;
}

export const catalogKeys = {
  year: (year: string) => `catalog/years/${year}.json`,
  yearsPrefix: 'catalog/years/',
  tags: 'catalog/tags.json',
  years: 'catalog/years.json',
  tag: (tag: string) => `catalog/tags/${tag}.json`,
  pending: 'catalog/pending.json',
};

/** Public now: visibility public, no embargo ahead, not withdrawn. */
export function isPublic(release: PublicityOf, now: Date): boolean {
  return (
    !release.withdrawn &&
    release.visibility === 'public' &&
    (!release.embargo || Date.parse(release.embargo) <= now.getTime())
  );
}

/** The fields of a summary that say whether it is public, as the indexes keep them. */
function publicityOf(release: ReleaseSummary): PublicityOf {
  return {
    visibility: release.visibility,
    ...(release.embargo && { embargo: release.embargo }),
    ...(release.withdrawn && { withdrawn: release.withdrawn }),
  };
}

const newestFirst = (a: ReleaseSummary, b: ReleaseSummary) =>
  b.date.localeCompare(a.date) || b.publishedAt.localeCompare(a.publishedAt) || a.slug.localeCompare(b.slug);

/** Puts a release into its year's shard (and takes it out of another year's if its date moved). */
export async function recordRelease(
  store: ObjectStore,
  release: ReleaseSummary,
  previous: ReleaseSummary | undefined,
  now: Date,
): Promise<void> {
  const year = release.date.slice(0, 4);
  const previousYear = previous?.date.slice(0, 4);
  if (previousYear && previousYear !== year) await removeFromYear(store, previousYear, release.slug);
  await updateJson<YearShard>(
    store,
    catalogKeys.year(year),
    () => ({ year, releases: [] }),
    (shard) => ({
      year,
      releases: [...shard.releases.filter((r) => r.slug !== release.slug), release].sort(newestFirst),
    }),
  );

  await updateJson<YearIndex>(
    store,
    catalogKeys.years,
    () => ({ years: {} }),
    (index) => {
      const years = { ...index.years };
      if (previousYear && years[previousYear]) {
        const { [release.slug]: _moved, ...rest } = years[previousYear];
        if (Object.keys(rest).length > 0) years[previousYear] = rest;
        else delete years[previousYear];
      }
      years[year] = { ...years[year], [release.slug]: publicityOf(release) };
      return { years };
    },
  );

  const before = new Set(previous?.tags.map((t) => t.slug) ?? []);
  const after = new Set(release.tags.map((t) => t.slug));
  const counted: Record<string, TagEntry> = {};
  const empty = new Set<string>();
  for (const tag of new Set([...before, ...after])) {
    const shard = await updateJson<TagShard>(
      store,
      catalogKeys.tag(tag),
      () => ({ tag, releases: [] }),
      (current) => ({
        tag,
        releases: [
          ...current.releases.filter((r) => r.slug !== release.slug),
          ...(after.has(tag) ? [release] : []),
        ].sort(newestFirst),
        revision: (current.revision ?? 0) + 1,
      }),
    );
    counted[tag] = tagEntry(shard, release.tags.find((t) => t.slug === tag)?.name);
    if (shard.releases.length === 0) empty.add(tag);
  }
  if (Object.keys(counted).length > 0) {
    // Each tag as its shard now counts it; a slower publish's older count never wins.
    await updateJson<TagIndex>(
      store,
      catalogKeys.tags,
      () => ({ tags: {} }),
      (index) => {
        const tags = { ...index.tags };
        for (const [slug, entry] of Object.entries(counted)) {
          const known = tags[slug];
          if (known?.revision !== undefined && known.revision >= (entry.revision ?? 0)) continue;
          // A tag keeps the name it was first given; one with no release left goes.
          if (empty.has(slug)) delete tags[slug];
          else tags[slug] = { ...entry, name: known?.name ?? entry.name };
        }
        return { tags };
      },
    );
  }

  // Pending: public, with an embargo still ahead; refresh publishes it when the time comes.
  const wasPending = previous?.embargo !== undefined;
  const isPending =
    release.embargo !== undefined &&
    release.visibility === 'public' &&
    !release.withdrawn &&
    Date.parse(release.embargo) > now.getTime();
  if (wasPending || isPending) {
    await updateJson<PendingIndex>(
      store,
      catalogKeys.pending,
      () => ({ releases: {} }),
      (index) => {
        const releases = { ...index.releases };
        delete releases[release.slug];
        if (isPending && release.embargo) releases[release.slug] = release.embargo;
        return { releases };
      },
    );
  }
}

/** A tag's entry in the tag index, counted from its shard; named `name` when given. */
function tagEntry(shard: TagShard, name: string | undefined): TagEntry {
  let count = 0;
  const embargoed: Record<string, string> = {};
  for (const r of shard.releases) {
    if (r.withdrawn || r.visibility !== 'public') continue;
    if (r.embargo) embargoed[r.slug] = r.embargo;
    else count++;
  }
  return {
    name: name ?? shard.releases[0]?.tags.find((t) => t.slug === shard.tag)?.name ?? shard.tag,
    revision: shard.revision ?? 0,
    public: count,
    ...(Object.keys(embargoed).length > 0 && { embargoed }),
  };
}

/** How many of a tag's releases are public at `now`. */
export function publicTagCount(entry: TagEntry, now: Date): number {
  let count = entry.public ?? 0;
  for (const slug in entry.embargoed)
    if (Date.parse(entry.embargoed[slug] as string) <= now.getTime()) count++;
  for (const slug in entry.releases) if (isPublic(entry.releases[slug] as PublicityOf, now)) count++;
  return count;
}

async function removeFromYear(store: ObjectStore, year: string, slug: string): Promise<void> {
  await updateJson<YearShard>(
    store,
    catalogKeys.year(year),
    () => ({ year, releases: [] }),
    (shard) => ({ year, releases: shard.releases.filter((r) => r.slug !== slug) }),
  );
}

/** The years that have releases, newest first. */
export async function catalogYears(store: ObjectStore): Promise<string[]> {
  const page = await store.list(catalogKeys.yearsPrefix, { limit: 1000 });
  return page.items
    .map((i) => i.key.slice(catalogKeys.yearsPrefix.length).replace(/\.json$/, ''))
    .filter((y) => /^\d{4}$/.test(y))
    .sort()
    .reverse();
}

export async function readYear(store: ObjectStore, year: string): Promise<ReleaseSummary[]> {
  return (await getJson<YearShard>(store, catalogKeys.year(year)))?.value.releases ?? [];
}

/** The newest `count` releases that pass `keep`, reading year shards only as far as needed. */
export async function newestReleases(
  store: ObjectStore,
  count: number,
  keep: (r: ReleaseSummary) => boolean,
): Promise<ReleaseSummary[]> {
  const out: ReleaseSummary[] = [];
  for (const year of await catalogYears(store)) {
    for (const r of await readYear(store, year)) {
      if (keep(r)) out.push(r);
      if (out.length >= count) return out;
    }
  }
  return out;
}

export async function readTags(store: ObjectStore): Promise<TagIndex['tags']> {
  return (await getJson<TagIndex>(store, catalogKeys.tags))?.value.tags ?? {};
}

export async function readYearIndex(store: ObjectStore): Promise<YearIndex['years']> {
  return (await getJson<YearIndex>(store, catalogKeys.years))?.value.years ?? {};
}

export async function readTag(store: ObjectStore, tag: string): Promise<ReleaseSummary[]> {
  return (await getJson<TagShard>(store, catalogKeys.tag(tag)))?.value.releases ?? [];
}

export async function readPending(store: ObjectStore): Promise<Record<string, string>> {
  return (await getJson<PendingIndex>(store, catalogKeys.pending))?.value.releases ?? {};
}
