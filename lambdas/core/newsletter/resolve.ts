import { archiveKeys, type ReleaseManifest, stateOf } from '../archive/manifest.ts';
import { releaseDownloads } from '../archive/press-room.ts';
import { InvalidInputError, type Problem } from '../errors.ts';
import { formatPath } from '../input.ts';
import type { Publication } from '../publication/schema.ts';
import { releaseImageUrl } from '../render/document.ts';
import { markdownToHtml } from '../render/markdown.ts';
import { getJson, type ObjectStore } from '../store/object-store.ts';
import type { LoadedIssue } from './load.ts';
import type { ResolvedIssue, ResolvedItem } from './schema.ts';

/** The press-room page of a public release, relative to the site's top. */
export function releaseSitePath(slug: string): string {
  return `releases/${slug}/${releaseDownloads.page}`;
}

/**
 * Fills in the release items of an issue from the archive: title, lead, date, first image of
 * the body, link to the press-room page. A newsletter links only to releases that are
 * public now: an unknown, private or embargoed release is a problem with its line, so an
 * issue can never reveal what the press room does not show.
 */
export async function resolveIssue(
  loaded: LoadedIssue,
  deps: { store: ObjectStore; siteUrl: string; now: Date },
): Promise<ResolvedIssue> {
  const { issue } = loaded;
  const siteUrl = deps.siteUrl.endsWith('/') ? deps.siteUrl : `${deps.siteUrl}/`;
  const problems: Problem[] = [];
  const items: ResolvedItem[] = [];
  for (const [i, item] of issue.items.entries()) {
    if (item.release === undefined) {
      // The schema made sure an inline item has its title, summary and url.
      items.push({
        title: item.title ?? '',
        ...(item.summary !== undefined && { summary: item.summary }),
        url: item.url ?? '',
        ...(item.image !== undefined && { image: item.image }),
      });
      continue;
    }
    const at = ['items', i, 'release'];
    const where = { file: issue.source, ...loaded.locate(at), path: formatPath(at), value: item.release };
    const manifest = await getJson<ReleaseManifest>(deps.store, archiveKeys.manifest(item.release));
    if (!manifest) {
      problems.push({
        ...where,
        message:
          'no published release has this slug: publish it first, or check the slug with `pressroom archive list`',
      });
      continue;
    }
    const state = stateOf(manifest.value.summary, deps.now);
    if (state !== 'public') {
      problems.push({
        ...where,
        message:
          state === 'private'
            ? 'this release is private: a newsletter only links to public releases'
            : state === 'withdrawn'
              ? 'this release was withdrawn from the press room (`pressroom archive list`): take it out of the issue'
              : `this release is under embargo until ${manifest.value.summary.embargo}: a newsletter only links to public releases; publish the issue after the embargo`,
      });
      continue;
    }
    const data = await getJson<Publication>(
      deps.store,
      `${archiveKeys.version(item.release, manifest.value.version)}publication.json`,
    );
    if (!data) {
      problems.push({
        ...where,
        message: 'the archive of this release has no publication.json: publish it again',
      });
      continue;
    }
    const publication = data.value;
    // The release's own images are in its press-room folder, which is public now.
    const imageUrl = releaseImageUrl(publication, `${siteUrl}releases/${item.release}/files/`);
    const image = item.image ?? firstImage(markdownToHtml(publication.body, { imageUrl }));
    items.push({
      title: item.title ?? publication.title,
      summary: item.summary ?? publication.lead,
      url: siteUrl + releaseSitePath(item.release),
      ...(image !== undefined && { image }),
      release: { slug: item.release, date: publication.date, lang: publication.lang },
    });
  }
  if (problems.length > 0) throw new InvalidInputError(problems);
  return { ...issue, items };
}

/** The first image of sanitised HTML (attribute entities decoded). */
function firstImage(html: string): string | undefined {
  const src = /<img\b[^>]*\ssrc="(https?:[^"]+)"/.exec(html)?.[1];
  return src
    ?.replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
