import Handlebars from 'handlebars';
import { InvalidInputError, type Problem } from '../errors.ts';
import { languageNames } from '../publication/languages.ts';
import { getJson, type ObjectStore, updateJson } from '../store/object-store.ts';
import { catalogYears, isPublic, type ReleaseSummary, readYear } from './catalog.ts';
import { archiveKeys, type ReleaseManifest } from './manifest.ts';
import {
  readTranslationGroups,
  type TranslationIndex,
  type TranslationMember,
  translationKeys,
} from './translation-groups.ts';

export { groupOf, readTranslationGroups, type TranslationMember } from './translation-groups.ts';

/**
 * Translations: a release may name the release it translates (`translationOf: <slug>` in its
 * front matter). The original and its translations form a group, one release per language,
 * kept in one small index so that publishing a release reads one object to know its group:
 *
 *   catalog/translations.json   original slug → its members (the original first), each with
 *                               its language, year, title and what decides whether it is public
 *
 * Only groups are kept: a release nobody translates is not in it. A translation never names
 * another translation (no chains, so no cycles), and a group has one release per language.
 * Links between members are made when the press room's copy of a page is written
 * (publish.ts: syncReleaseFiles) from the members public at that moment: a translation
 * still under embargo is never linked, nor named, from a public page.
 */

function memberOf(summary: ReleaseSummary): TranslationMember {
  return {
    slug: summary.slug,
    lang: summary.lang,
    year: summary.date.slice(0, 4),
    visibility: summary.visibility,
    ...(summary.embargo && { embargo: summary.embargo }),
    ...(summary.withdrawn && { withdrawn: summary.withdrawn }),
  };
}

/** The line of a front matter field in a publication's source (1 when it is not found). */
function lineOf(source: string, field: string): number {
  const index = source.split('\n').findIndex((line) => line.startsWith(`${field}:`));
  return index < 0 ? 1 : index + 1;
}

/**
 * Checks what a release says of translations against the archive, before anything of it is
 * written: the release it translates exists, is not withdrawn, is not a translation itself,
 * is in another language, and has no other translation in this one; a release with
 * translations does not become a translation, nor take the language of one of them.
 * Returns the original's summary (for the group's index) when the release is a translation.
 */
export async function checkTranslation(
  store: ObjectStore,
  release: Pick<ReleaseSummary, 'slug' | 'lang' | 'translationOf'>,
  where: { file: string; source: string },
): Promise<ReleaseSummary | undefined> {
  const groups = await readTranslationGroups(store);
  const problem = (field: 'translationOf' | 'lang', value: string, message: string): never => {
    const p: Problem = { file: where.file, line: lineOf(where.source, field), path: field, value, message };
    throw new InvalidInputError([p]);
  };
  const own = (groups[release.slug] ?? []).filter((m) => m.slug !== release.slug);
  const target = release.translationOf;
  if (target === undefined) {
    const clash = own.find((m) => m.lang === release.lang && !m.withdrawn);
    if (clash) {
      problem(
        'lang',
        release.lang,
        `is the language of its translation "${clash.slug}": a release and its translations are each in another language`,
      );
    }
    return undefined;
  }
  if (own.length > 0) {
    problem(
      'translationOf',
      target,
      `cannot be set: this release has translations of its own (${own.map((m) => m.slug).join(', ')}), and translations are not chained. Name this release in theirs instead`,
    );
  }
  const original = (await getJson<ReleaseManifest>(store, archiveKeys.manifest(target)))?.value;
  if (!original) {
    return problem(
      'translationOf',
      target,
      `names no release in the archive: publish the release it translates first (\`pressroom archive list\` shows the slugs)`,
    );
  }
  if (original.withdrawn) {
    problem('translationOf', target, `names a release withdrawn on ${original.withdrawn.at.slice(0, 10)}`);
  }
  if (original.summary.translationOf !== undefined) {
    problem(
      'translationOf',
      target,
      `names a translation (of "${original.summary.translationOf}"): name the original, "${original.summary.translationOf}", instead (translations are not chained)`,
    );
  }
  if (original.summary.lang === release.lang) {
    problem(
      'translationOf',
      target,
      `names a release in the same language ("${release.lang}"): set "lang" to the language of this translation`,
    );
  }
  const twin = (groups[target] ?? []).find(
    (m) => m.slug !== release.slug && m.lang === release.lang && !m.withdrawn,
  );
  if (twin) {
    problem(
      'translationOf',
      target,
      `already has a translation in "${release.lang}": "${twin.slug}". A release has one translation per language`,
    );
  }
  return original.summary;
}

/**
 * Records a release in its group (and out of the group it left), when it is in one or was:
 * the original's entry comes from `original`. Returns each group it touched, its members as
 * they are now (the group it left without it), whose pages may need their links again.
 */
export async function recordTranslation(
  store: ObjectStore,
  summary: ReleaseSummary,
  previous: ReleaseSummary | undefined,
  original: ReleaseSummary | undefined,
): Promise<TranslationMember[][]> {
  const before = previous?.translationOf;
  const after = summary.translationOf;
  if (before === undefined && after === undefined) {
    // An original: recorded only when it has a group (the index holds groups only).
    const groups = await readTranslationGroups(store);
    if (!groups[summary.slug]) return [];
  }
  let touched: TranslationMember[][] = [];
  await updateJson<TranslationIndex>(
    store,
    translationKeys.index,
    () => ({ groups: {} }),
    (index) => {
      const groups = { ...index.groups };
      touched = [];
      if (before !== undefined && before !== after) {
        const left = (groups[before] ?? []).filter((m) => m.slug !== summary.slug);
        if (left.length > 1) groups[before] = left;
        else delete groups[before];
        touched.push(left);
      }
      const key = after ?? summary.slug;
      let members = groups[key] ?? [];
      if (after !== undefined && original && !members.some((m) => m.slug === after)) {
        members = [memberOf(original)];
      }
      // A release alone is no group: a former translation that translates nothing now has none.
      if (!members.some((m) => m.slug !== summary.slug)) return { groups };
      members = members.some((m) => m.slug === summary.slug)
        ? members.map((m) => (m.slug === summary.slug ? memberOf(summary) : m))
        : [...members, memberOf(summary)];
      groups[key] = members;
      touched.push(members);
      return { groups };
    },
  );
  return touched;
}

/**
 * The groups made again from the catalogue, where each translation names the release it
 * translates (`pressroom archive rebuild`: catalog/translations.json lost, damaged or from
 * before a restore). Each group is the original, then its translations in the order they were
 * first published. Writes only when the groups differ; returns how many groups there are.
 */
export async function restoreTranslationGroups(store: ObjectStore): Promise<number> {
  const years = await catalogYears(store);
  const summaries = (await Promise.all(years.map((year) => readYear(store, year)))).flat();
  const bySlug = new Map(summaries.map((s) => [s.slug, s]));
  const translations = summaries
    .filter((s) => s.translationOf !== undefined && bySlug.has(s.translationOf))
    .sort((a, b) => a.publishedAt.localeCompare(b.publishedAt));
  // A room without translations, and without an index, is left without one.
  if (translations.length === 0 && (await getJson(store, translationKeys.index)) === undefined) return 0;
  const groups: TranslationIndex['groups'] = {};
  for (const translation of translations) {
    const original = bySlug.get(translation.translationOf ?? '');
    if (!original) continue;
    groups[original.slug] = [...(groups[original.slug] ?? [memberOf(original)]), memberOf(translation)];
  }
  await updateJson<TranslationIndex>(
    store,
    translationKeys.index,
    () => ({ groups: {} }),
    (index) => (JSON.stringify(index.groups) === JSON.stringify(groups) ? index : { groups }),
  );
  return Object.keys(groups).length;
}

/** A member's page, from another release's page in the press room (`releases/<slug>/`). */
const pageOf = (slug: string) => `../${slug}/index.html`;

/**
 * A release page of the press room with its language links: the alternates in its head
 * (`hreflang`, with `x-default` the original, absolute addresses only when `absolute`) and the
 * switcher under the way back, from the members of its group public at `now`. With none public
 * but itself, the page stays as it is (the markers go).
 */
export function withTranslationLinks(
  html: string,
  release: Pick<ReleaseSummary, 'slug' | 'lang'>,
  members: readonly TranslationMember[],
  options: { now: Date; siteUrl: string; absolute: boolean; label: string },
): string {
  const visible = members.filter((m) => m.slug === release.slug || isPublic(m, options.now));
  const others = visible.filter((m) => m.slug !== release.slug);
  if (others.length === 0) {
    return html.replace(translationMarkers.head, '').replace(translationMarkers.body, '');
  }
  const e = Handlebars.Utils.escapeExpression;
  const absolute = (slug: string) => `${options.siteUrl}releases/${slug}/index.html`;
  const ordered = [...visible].sort((a, b) => a.lang.localeCompare(b.lang));
  const head = options.absolute
    ? `\n${[
        ...ordered.map((m) => `<link rel="alternate" hreflang="${m.lang}" href="${e(absolute(m.slug))}">`),
        `<link rel="alternate" hreflang="x-default" href="${e(absolute(visible[0]?.slug ?? release.slug))}">`,
      ].join('\n')}`
    : '';
  const items = ordered.map((m) =>
    m.slug === release.slug
      ? `<li style="display: inline; margin-right: 12px"><a href="index.html" hreflang="${m.lang}" lang="${m.lang}" aria-current="page" style="font-weight: 700; color: inherit">${e(languageNames[m.lang])}</a></li>`
      : `<li style="display: inline; margin-right: 12px"><a href="${e(pageOf(m.slug))}" hreflang="${m.lang}" lang="${m.lang}">${e(languageNames[m.lang])}</a></li>`,
  );
  const body = `\n  <nav class="languages" aria-label="${e(options.label)}" style="margin-bottom: 16px; font-size: .95rem"><ul style="list-style: none; margin: 0; padding: 0">${items.join('')}</ul></nav>`;
  return html.replace(translationMarkers.head, head).replace(translationMarkers.body, body);
}

/** Where a release page (templates/press-release/page.html.hbs) takes its language links. */
export const translationMarkers = {
  head: '<!--pressroom:translations-head-->',
  body: '<!--pressroom:translations-nav-->',
};
