/**
 * What the press room's files are served with, wherever they are served: `pressroom serve`,
 * a static host (the `_headers` file of `pressroom site build`, the nginx snippet of
 * docs/self-hosting.md), and S3 behind CloudFront (object metadata set when the press room is
 * written, and the distribution's response headers policies, lib/site.ts).
 *
 * Pages are ours (templates, sanitised Markdown): they may show images and their own inline
 * styles, and run one script of the site's own, the search box (site/assets/search-<hash>.js,
 * which fetches the site's search index: `script-src` and `connect-src` 'self'; its form
 * leads to the site's search page: `form-action 'self'`). Nothing inline runs. Files people publish (attachments, under `files/`) are
 * theirs: only PDF, raster images and plain text open in the browser; anything else (HTML,
 * SVG, scripts, files without an extension) downloads, and under a policy that lets nothing
 * run even if a browser renders it anyway.
 */

/**
 * The pages' policy. The templates carry the same one in a `<meta>` tag, which covers
 * `file://` and hosts that set no headers; `frame-ancestors` only works as a header.
 */
export const pageContentSecurityPolicy =
  "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' https: data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

/**
 * Published files that download: nothing runs, nothing loads, even if a browser renders one.
 * Files that open in the browser get no policy: Chrome's PDF viewer is a plugin in a page of
 * its own, which `default-src 'none'` or a sandbox would stop (crbug.com/271452).
 */
export const fileContentSecurityPolicy = "default-src 'none'; sandbox";

/** Headers every response of the press room carries (X-Frame-Options: frame-ancestors for every file). */
export const commonSiteHeaders = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'SAMEORIGIN',
} as const;

const mediaTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.yaml': 'application/yaml; charset=utf-8',
  '.yml': 'application/yaml; charset=utf-8',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.csv': 'text/csv; charset=utf-8',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.svg': 'image/svg+xml',
  '.zip': 'application/zip',
  '.eml': 'message/rfc822',
  '.js': 'text/javascript',
  '.css': 'text/css; charset=utf-8',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.ppt': 'application/vnd.ms-powerpoint',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.odt': 'application/vnd.oasis.opendocument.text',
  '.ods': 'application/vnd.oasis.opendocument.spreadsheet',
  '.odp': 'application/vnd.oasis.opendocument.presentation',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
};

/** Feeds have types of their own, by name. */
const namedTypes: Record<string, string> = {
  'feed.xml': 'application/rss+xml; charset=utf-8',
  'atom.xml': 'application/atom+xml; charset=utf-8',
  'feed.json': 'application/feed+json; charset=utf-8',
};

/** The media type of a file, from its extension; `application/octet-stream` when unknown. */
export function mediaTypeOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return (dot > 0 ? mediaTypes[base.slice(dot).toLowerCase()] : undefined) ?? 'application/octet-stream';
}

/** Types a browser shows without running anything: PDF, raster images, plain text. SVG can hold scripts. */
export function opensInBrowser(mediaType: string): boolean {
  const type = mediaType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type === 'application/pdf' ||
    type === 'text/plain' ||
    (type.startsWith('image/') && type !== 'image/svg+xml')
  );
}

/**
 * Whether a path of the press room (relative to its top, no leading "/") is a file someone
 * published rather than a page of ours: `releases/<slug>/files/...`, `newsletters/<id>/files/...`.
 */
export function isPublishedFile(sitePath: string): boolean {
  return /^(releases|newsletters)\/[^/]+\/files\//.test(sitePath);
}

/** How a path of the press room is served: its type, and whether it downloads. */
export interface ServedFile {
  contentType: string;
  /** `attachment`: the browser saves it instead of showing it. */
  disposition?: 'attachment';
  headers: Record<string, string>;
}

/**
 * The name a release's PDF is saved under, `<slug>.pdf`, for `releases/<slug>/release.pdf`
 * (press-room.ts's `releaseDownloads.pdf`): a folder of `release.pdf` files helps no one.
 */
export function releasePdfName(sitePath: string): string | undefined {
  const slug = /^releases\/([^/]+)\/release\.pdf$/.exec(sitePath)?.[1];
  return slug === undefined ? undefined : `${slug}.pdf`;
}

/**
 * Script types. The pages may run scripts of the site's own (`script-src 'self'`, for the
 * search box): a published script is sent as bytes, which browsers refuse to run under
 * `nosniff`, so that no page could run it even if one were made to name it.
 */
const scriptTypes = /^(text|application)\/(javascript|ecmascript)\b/;

/** The headers of one path of the press room (relative to its top, no leading "/"). */
export function servedFile(sitePath: string): ServedFile {
  const base = sitePath.slice(sitePath.lastIndexOf('/') + 1);
  const named = (!isPublishedFile(sitePath) && namedTypes[base]) || mediaTypeOf(sitePath);
  const contentType =
    isPublishedFile(sitePath) && scriptTypes.test(named) ? 'application/octet-stream' : named;
  if (isPublishedFile(sitePath) && !opensInBrowser(contentType)) {
    return {
      contentType,
      disposition: 'attachment',
      headers: {
        'Content-Type': contentType,
        ...commonSiteHeaders,
        'Content-Security-Policy': fileContentSecurityPolicy,
        'Content-Disposition': 'attachment',
      },
    };
  }
  // A release's PDF opens in the browser, and is saved under its release's name.
  const pdfName = releasePdfName(sitePath);
  return {
    contentType,
    headers: {
      'Content-Type': contentType,
      ...commonSiteHeaders,
      ...(contentType.startsWith('text/html') && { 'Content-Security-Policy': pageContentSecurityPolicy }),
      ...(pdfName !== undefined && { 'Content-Disposition': contentDisposition(pdfName, 'inline') }),
    },
  };
}

/**
 * A Content-Disposition value that offers `filename` for download (RFC 6266): an ASCII
 * fallback for old clients, and `filename*` (RFC 8187) with the exact UTF-8 name, so
 * `Étude «villes» 2021.pdf` keeps its accents in every current browser. `inline` shows the
 * file in the browser and names it when the reader saves it.
 */
export function contentDisposition(filename: string, type: 'attachment' | 'inline' = 'attachment'): string {
  const fallback = filename
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents off: é → e
    .replace(/[^\x20-\x7e]|["\\]/g, '_');
  // encodeURIComponent leaves ' ( ) * unescaped, which RFC 8187's attr-char does not allow.
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * The headers CloudFront adds to the requests it sends the public function (lib/site.ts): the
 * origin secret, and beside it the host the visitor asked for and the visitor's address.
 */
export const siteRequestHeaders = {
  origin: 'x-pressroom-origin',
  host: 'x-pressroom-host',
  viewer: 'x-pressroom-viewer',
} as const;
