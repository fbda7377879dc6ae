import MiniSearch, { type Options, type SearchOptions } from 'minisearch';
import type { Publication } from '../publication/schema.ts';
import { htmlToText, inlineMarkdownToText, markdownToHtml } from '../render/markdown.ts';
import { getJson, type ObjectStore, updateJson } from '../store/object-store.ts';
import type { ReleaseSummary } from './catalog.ts';

/**
 * The press room's search, which needs no server: at each publish, withdrawal, embargo lift
 * and rebuild, the press room writes a MiniSearch index (JSON) of its public releases, which
 * the pages' search box (`site/assets/search-<hash>.js`: MiniSearch's browser build and a
 * few lines of ours) loads and queries in the browser.
 *
 * The index is cut by year, like the year pages, so that a publish rewrites its year's part
 * only and costs the same in an archive of 10 releases or 1,000:
 *
 *   catalog/search/<yyyy>.json   private: slug → the words of each release of that year that
 *                                the summary does not hold (subtitle, body, quotes, figures),
 *                                cut to {@link searchLimits.textChars}; embargoed ones too
 *   site/search/<yyyy>.json      a MiniSearch index of that year's public releases
 *   site/search/index.json       the years that have one (newest first), and the options to
 *                                load and query them with
 *   site/search/index.html       the search page (the form's target when scripts are off)
 *
 * A release is in the public index only while it is public: an embargoed one enters at the
 * lift (which rewrites its year), a withdrawn or private one leaves at once.
 */

export const searchKeys = {
  texts: (year: string) => `catalog/search/${year}.json`,
  shard: (year: string) => `site/search/${year}.json`,
  manifest: 'site/search/index.json',
  page: 'site/search/index.html',
  /** The browser script: its name carries a hash of its content, so it can be cached for good. */
  script: (hash: string) => `site/assets/search-${hash}.js`,
};

export const searchLimits = {
  /** Characters of a release's own words kept for search beyond its title, lead and tags. */
  textChars: 1500,
  /** Characters of the lead shown with a result. */
  leadChars: 300,
};

/** What `catalog/search/<yyyy>.json` holds. */
export interface SearchTexts {
  year: string;
  /** slug → its words (see {@link searchText}). */
  texts: Record<string, string>;
}

/** What `site/search/index.json` holds: what the browser needs to load and query the shards. */
export interface SearchManifest {
  version: 1;
  /** The years that have an index, newest first: `site/search/<yyyy>.json`. */
  years: string[];
  /** MiniSearch's options, but `processTerm` (the browser script has the same). */
  options: Pick<Options, 'idField' | 'fields' | 'storeFields'> & { searchOptions: SearchOptions };
  /** Words that are not indexed (French and English). */
  stopWords: string[];
}

/** A result as the index stores it: enough to list it without loading anything else. */
export interface StoredResult {
  title: string;
  /** The release's page, relative to the site's top. */
  url: string;
  date: string;
  /** The date as the site writes it. */
  dateText: string;
  /** The lead, cut to {@link searchLimits.leadChars}. */
  summary: string;
  /** The release's language, when it is not the site's. */
  lang?: string;
}

/**
 * Words too common to help, French and English; the browser drops them from queries too
 * (the list travels in `index.json`).
 */
const stopWords = [
  ...['au', 'aux', 'avec', 'ce', 'ces', 'cette', 'dans', 'de', 'des', 'du', 'elle', 'en', 'est', 'et'],
  ...['il', 'la', 'le', 'les', 'leur', 'leurs', 'mais', 'ne', 'ni', 'nous', 'ou', 'par', 'pas', 'pour'],
  ...['qu', 'que', 'qui', 'sa', 'se', 'ses', 'son', 'sont', 'sur', 'un', 'une', 'vous', 'ont', 'ete'],
  ...['an', 'and', 'are', 'as', 'at', 'be', 'by', 'for', 'from', 'has', 'have', 'in', 'is', 'it', 'its'],
  ...['of', 'on', 'or', 'that', 'the', 'their', 'this', 'to', 'was', 'were', 'will', 'with'],
];
const stopWordSet = new Set(stopWords);

/**
 * A word as it is indexed and searched: lower case, without accents or ligatures, so that
 * "federation" finds "Fédération" and "coeur" finds "cœur". Stop words and single letters
 * (the "l" of "l’État") are dropped. `site/assets/search.js` does the same in the browser.
 */
export function searchTerm(term: string): string | null {
  const word = term
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae');
  return word.length < 2 || stopWordSet.has(word) ? null : word;
}

const indexOptions = {
  idField: 'slug',
  fields: ['title', 'lead', 'tags', 'publishers', 'text'],
  storeFields: ['title', 'url', 'date', 'dateText', 'summary', 'lang'],
};

/** Ranked: the title counts most, then tags and the lead; prefixes and small typos match. */
const searchOptions: SearchOptions = {
  boost: { title: 3, tags: 2, lead: 1.5 },
  prefix: true,
  fuzzy: 0.2,
  combineWith: 'AND',
};

/** MiniSearch as the press room configures it (the browser loads the same with {@link SearchManifest.options}). */
export function newSearchIndex(): MiniSearch {
  return new MiniSearch({ ...indexOptions, processTerm: searchTerm, searchOptions });
}

/** A year's index, loaded from its JSON (tests, benchmarks: the browser does the same). */
export function loadSearchIndex(json: string): MiniSearch {
  return MiniSearch.loadJSON(json, { ...indexOptions, processTerm: searchTerm, searchOptions });
}

export function searchManifest(years: string[]): SearchManifest {
  return { version: 1, years, options: { ...indexOptions, searchOptions }, stopWords };
}

/**
 * The words of a release that its summary does not hold, as plain text, cut at a word
 * boundary to {@link searchLimits.textChars} characters: subtitle, body, quotes and who said
 * them, key figures.
 */
export function searchText(p: Publication): string {
  const body = htmlToText(markdownToHtml(p.body)).replace(/\s*\[[^\]\s]+\]/g, '');
  const text = [
    p.subtitle ?? '',
    body,
    ...p.quotes.map((q) => `${inlineMarkdownToText(q.text)} ${q.author} ${q.role ?? ''}`),
    ...p.figures.map((f) => `${f.value} ${f.label}`),
  ]
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return cut(text, searchLimits.textChars);
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = text.lastIndexOf(' ', max);
  return `${text.slice(0, end > max / 2 ? end : max)}…`;
}

/**
 * Records a release's words in its year's texts (taking them out of another year's when its
 * date moved); `text` null takes them out (a purged release).
 */
export async function recordSearchText(
  store: ObjectStore,
  slug: string,
  year: string,
  text: string | null,
  previousYear?: string,
): Promise<void> {
  if (previousYear && previousYear !== year) await setText(store, previousYear, slug, null);
  await setText(store, year, slug, text);
}

async function setText(store: ObjectStore, year: string, slug: string, text: string | null) {
  await updateJson<SearchTexts>(
    store,
    searchKeys.texts(year),
    () => ({ year, texts: {} }),
    (current) => {
      if (text === null ? !(slug in current.texts) : current.texts[slug] === text) return current;
      const texts = { ...current.texts };
      if (text === null) delete texts[slug];
      else texts[slug] = text;
      return { year, texts };
    },
  );
}

export async function readSearchTexts(store: ObjectStore, year: string): Promise<Record<string, string>> {
  return (await getJson<SearchTexts>(store, searchKeys.texts(year)))?.value.texts ?? {};
}

/**
 * The JSON of a year's index: `releases` are the year's public releases, `texts` their words,
 * `item` what a result shows of each.
 */
export function searchShard(
  releases: readonly ReleaseSummary[],
  texts: Record<string, string>,
  item: (r: ReleaseSummary) => Omit<StoredResult, 'summary'>,
): string {
  const index = newSearchIndex();
  index.addAll(
    releases.map((r) => ({
      ...item(r),
      summary: cut(r.lead, searchLimits.leadChars),
      slug: r.slug,
      lead: r.lead,
      tags: r.tags.map((t) => t.name).join(' '),
      publishers: r.publishers.join(' '),
      text: texts[r.slug] ?? '',
    })),
  );
  return JSON.stringify(index);
}
