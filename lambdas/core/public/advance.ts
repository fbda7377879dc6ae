import { isPublic } from '../archive/catalog.ts';
import { archiveKeys, ReleaseNotFoundError, readManifest } from '../archive/manifest.ts';
import {
  advancePaths,
  publicReleaseLinks,
  toPersonalCopy,
  verifyAdvanceCopyToken,
} from '../campaigns/advance-copy.ts';
import type { ContactKeys } from '../contacts/model.ts';
import { ExpiredTokenError, InvalidTokenError } from '../contacts/tokens.ts';
import type { Language } from '../publication/schema.ts';
import { fillPattern, formatDate } from '../render/locale.ts';
import type { TemplateSet } from '../render/templates.ts';
import { getText, type ObjectStore } from '../store/object-store.ts';
import { type PublicRequest, type PublicResponse, page, pathParameter, plain } from './http.ts';
import { pageContentSecurityPolicy } from './site-headers.ts';

/**
 * A journalist's advance copy (campaigns/advance-copy.ts): GET `/advance/<token>` is the
 * release's archived page (with its embargo line), `/advance/<token>/pdf` its PDF, and
 * `/advance/<token>/images/<name>` its press kit images' web sizes and thumbnails (the email's
 * lead image, the page's gallery: only the names its manifest lists), for the contact the token
 * names until it expires, while the release is under embargo. Never cached nor indexed
 * (`Cache-Control: private, no-store`, `X-Robots-Tag: noindex` and a robots meta). Once the
 * release is public, each redirects (302) to the same in the press room.
 */

export interface AdvanceCopyDeps {
  store: ObjectStore;
  keys: ContactKeys;
  templates: TemplateSet;
  now: Date;
  /** The language of pages that do not know the release's (an invalid link). */
  lang: Language;
}

/** Whether a path is an advance copy's. */
export const isAdvancePath = (path: string) => path.startsWith(advancePaths.prefix);

const copyHeaders = {
  'cache-control': 'private, no-store',
  'x-robots-tag': 'noindex, nofollow',
  'x-content-type-options': 'nosniff',
  // The token is in the path: no page may hand its URL to another site.
  'referrer-policy': 'no-referrer',
};

export async function advanceCopy(
  request: PublicRequest,
  method: string,
  deps: AdvanceCopyDeps,
): Promise<PublicResponse> {
  if (method !== 'GET' && method !== 'HEAD')
    return plain(405, 'Method not allowed\n', { allow: 'GET, HEAD' });
  const rest = pathParameter(request.path, advancePaths.prefix);
  // `<token>`, `<token>/pdf` or `<token>/images/<name>`: a token has no slash.
  const slash = rest?.indexOf('/') ?? -1;
  const token = slash < 0 ? rest : rest?.slice(0, slash);
  const below = slash < 0 ? '' : (rest?.slice(slash) ?? '');
  const pdf = below === advancePaths.pdfSuffix;
  const image = below.startsWith(advancePaths.imagesSuffix)
    ? `images/${below.slice(advancePaths.imagesSuffix.length)}`
    : undefined;
  if (below !== '' && !pdf && image === undefined) return plain(404, 'Not found\n', copyHeaders);
  const t = (lang: Language) => deps.templates.locales[lang];
  const invalid = (lang: Language) =>
    page(deps.templates, 400, lang, {
      title: t(lang).invalidLinkTitle,
      text: t(lang).advanceCopyInvalidText,
    });
  let slug: string;
  try {
    if (token === undefined) throw new InvalidTokenError('malformed escapes');
    ({ slug } = verifyAdvanceCopyToken(deps.keys, token, deps.now));
  } catch (error) {
    if (error instanceof ExpiredTokenError) {
      return page(deps.templates, 410, deps.lang, {
        title: t(deps.lang).confirmExpiredTitle,
        text: t(deps.lang).advanceCopyExpiredText,
      });
    }
    if (error instanceof InvalidTokenError) return invalid(deps.lang);
    throw error;
  }
  let manifest: Awaited<ReturnType<typeof readManifest>>;
  try {
    manifest = await readManifest(deps.store, slug);
  } catch (error) {
    if (error instanceof ReleaseNotFoundError) return invalid(deps.lang);
    throw error;
  }
  const { summary } = manifest;
  const lang = summary.lang;
  if (manifest.withdrawn) {
    return page(deps.templates, 410, lang, {
      title: t(lang).withdrawnTitle,
      text: fillPattern(t(lang).withdrawnText, {
        date: formatDate(manifest.withdrawn.at.slice(0, 10), lang),
      }),
    });
  }
  // Only the web sizes and thumbnails the manifest lists: never the originals (files/), nor a
  // name made up to reach another key.
  const images = new Set((manifest.images ?? []).flatMap((i) => [i.web, i.thumbnail]));
  if (image !== undefined && !(images.has(image) && manifest.files.includes(image))) return invalid(lang);
  if (isPublic(summary, deps.now) && manifest.siteUrl !== undefined) {
    const links = publicReleaseLinks(manifest.siteUrl, slug);
    const location =
      image !== undefined
        ? `${links.images}${image.slice('images/'.length)}`
        : pdf && summary.formats.pdf
          ? links.pdf
          : links.page.replace(/index\.html$/, '');
    return plain(302, `Found: ${location}\n`, { location });
  }
  const prefix = archiveKeys.version(slug, manifest.version);
  if (image !== undefined) {
    const object = await deps.store.get(`${prefix}${image}`);
    if (!object) return invalid(lang);
    return {
      status: 200,
      headers: { 'content-type': image.endsWith('.png') ? 'image/png' : 'image/jpeg', ...copyHeaders },
      body: Buffer.from(object.body).toString('base64'),
      isBase64Encoded: true,
    };
  }
  if (pdf) {
    const object = manifest.files.includes('release.pdf')
      ? await deps.store.get(`${prefix}release.pdf`)
      : undefined;
    if (!object) return invalid(lang);
    return {
      status: 200,
      headers: {
        'content-type': 'application/pdf',
        'content-disposition': `inline; filename="${slug}.pdf"`,
        ...copyHeaders,
      },
      body: Buffer.from(object.body).toString('base64'),
      isBase64Encoded: true,
    };
  }
  const archived = await getText(deps.store, `${prefix}page.html`);
  if (archived === undefined) return invalid(lang);
  // Its links to the release's page and PDF in the press room (there from the lift) lead to
  // this copy instead, on the host it was asked on.
  const copy = `${advancePaths.prefix}${token}`;
  const { html } =
    manifest.siteUrl === undefined
      ? { html: archived }
      : toPersonalCopy({ html: archived, text: '' }, publicReleaseLinks(manifest.siteUrl, slug), {
          page: copy,
          pdf: `${copy}${advancePaths.pdfSuffix}`,
          images: `${copy}${advancePaths.imagesSuffix}`,
        });
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': pageContentSecurityPolicy.replace(
        "frame-ancestors 'self'",
        "frame-ancestors 'none'",
      ),
      ...copyHeaders,
    },
    body: html.replace(/<head>/i, '<head>\n<meta name="robots" content="noindex, nofollow">'),
  };
}
