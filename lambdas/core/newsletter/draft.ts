import { Document, isMap, isScalar, isSeq } from 'yaml';
import { catalogYears, isPublic, type ReleaseSummary, readYear } from '../archive/catalog.ts';
import { archiveKeys, readManifest } from '../archive/manifest.ts';
import { PressroomError } from '../errors.ts';
import { organizationSearchPaths, type SourceFiles } from '../publication/load.ts';
import { isoDate, type Language, type Publication, type Publisher } from '../publication/schema.ts';
import { fillPattern, type LocaleStrings } from '../render/locale.ts';
import { getJson, type ObjectStore } from '../store/object-store.ts';

/**
 * `pressroom newsletter draft`: a starting issue file that lists the public releases dated
 * on or after a day, newest first, for an editor to complete (intro, order, inline items,
 * events). The file it writes is a valid issue as it stands.
 */

export interface DraftOptions {
  /** The first release date to list, YYYY-MM-DD. */
  since: string;
  now: Date;
  lang: Language;
  /** Where the draft will be written: organisation ids are kept when their file is found from there. */
  outFile: string;
}

export interface DraftResult {
  text: string;
  releases: Pick<ReleaseSummary, 'slug' | 'title' | 'date'>[];
}

const monthYear = {
  fr: new Intl.DateTimeFormat('fr-FR', { month: 'long', year: 'numeric', timeZone: 'UTC' }),
  en: new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }),
};

const hints = [
  ' More items: a published release, or an inline item:',
  '   - release: another-release-slug',
  '   - title: A partner’s report',
  '     summary: One or two sentences (inline Markdown).',
  '     url: https://example.org/report',
  '     image: https://example.org/report.jpg   # optional, https only',
  ' Coming events (optional):',
  ' events:',
  '   - title: Annual meeting',
  '     date: 2024-06-20T18:30              # or a day, 2024-06-20',
  '     place: Paris',
  '     url: https://example.org/meeting',
  ' After the closing "---": free Markdown sections (## headings), shown after the items.',
];

/** The text of a starting issue file, and the releases it lists. */
export async function draftIssue(
  deps: { store: ObjectStore; files: SourceFiles; locales: Record<Language, LocaleStrings> },
  options: DraftOptions,
): Promise<DraftResult> {
  if (!isoDate.safeParse(options.since).success) {
    throw new PressroomError(
      `--since must be a real calendar date written YYYY-MM-DD, e.g. 2024-03-01 (value: ${JSON.stringify(options.since)})`,
    );
  }
  const listed: ReleaseSummary[] = [];
  for (const year of await catalogYears(deps.store)) {
    if (year < options.since.slice(0, 4)) break;
    for (const r of await readYear(deps.store, year)) {
      if (r.date >= options.since && isPublic(r, options.now)) listed.push(r);
    }
  }
  const releases = oneVersionEach(listed, options.lang);
  const newest = releases[0];
  if (!newest) {
    throw new PressroomError(
      `no public release dated ${options.since} or later in the archive: nothing to draft from. Choose an earlier --since (\`pressroom archive list\` shows the releases), or publish releases first.`,
    );
  }

  // The publishers of the newest release: by id when the organisation file is found from
  // where the draft goes, written out in full otherwise.
  const manifest = await readManifest(deps.store, newest.slug);
  const publication = await getJson<Publication>(
    deps.store,
    `${archiveKeys.version(newest.slug, manifest.version)}publication.json`,
  );
  const publishers: (string | Omit<Publisher, 'id'>)[] = [];
  for (const { id, ...organization } of publication?.value.publishers ?? []) {
    let found = false;
    for (const candidate of organizationSearchPaths(options.outFile, id)) {
      found = (await deps.files.size(candidate)) !== undefined;
      if (found) break;
    }
    publishers.push(found ? id : organization);
  }
  if (publishers.length === 0) publishers.push('your-organisation-id');

  const t = deps.locales[options.lang];
  const doc = new Document({
    title: fillPattern(t.newsletterDraftTitle, { month: monthYear[options.lang].format(options.now) }),
    date: options.now.toISOString().slice(0, 10),
    lang: options.lang,
    publishers,
    intro: t.newsletterDraftIntro,
    items: releases.map((r) => ({ release: r.slug })),
  });
  const items = doc.get('items', true);
  if (isSeq(items)) {
    for (const [i, node] of items.items.entries()) {
      const release = releases[i];
      const value = isMap(node) ? node.items[0]?.value : undefined;
      if (release && isScalar(value))
        value.comment = ` ${release.date}: ${release.title.replace(/\s+/g, ' ')}`;
    }
  }
  doc.commentBefore = ` Newsletter issue drafted by \`pressroom newsletter draft --since ${options.since}\`.\n Its id is the file name, unless you add "id: ...". Edit, then: pressroom newsletter render <file>`;
  doc.comment = hints.join('\n');
  return {
    text: `---\n${doc.toString({ lineWidth: 0 })}---\n`,
    releases: releases.map((r) => ({ slug: r.slug, title: r.title, date: r.date })),
  };
}

/**
 * One release per group of translations, where it stands in the list (newest first): the
 * version in the issue's language, else the release the others translate, else the first.
 */
function oneVersionEach(releases: ReleaseSummary[], lang: Language): ReleaseSummary[] {
  const groupOf = (r: ReleaseSummary) => r.translationOf ?? r.slug;
  const chosen = new Map<string, ReleaseSummary>();
  for (const r of releases) {
    const held = chosen.get(groupOf(r));
    const better =
      !held || (held.lang !== lang && (r.lang === lang || (!r.translationOf && held.translationOf)));
    if (better) chosen.set(groupOf(r), r);
  }
  const seen = new Set<string>();
  const result: ReleaseSummary[] = [];
  for (const r of releases) {
    const group = groupOf(r);
    if (seen.has(group)) continue;
    seen.add(group);
    const pick = chosen.get(group);
    if (pick) result.push(pick);
  }
  return result;
}
