import type { Language, Publication } from '../publication/schema.ts';
import type { LocaleStrings } from '../render/locale.ts';
import type { ReleaseSummary } from './catalog.ts';

/**
 * What a release's page in the press room tells link previews and search engines: its
 * canonical address, Open Graph and Twitter/X cards, a JSON-LD `NewsArticle`, and the image
 * they show: the release's first image, else a 1200×630 card drawn from its title and
 * publishers. It is only ever in the press room's copy of the page (`public/index.html`),
 * which is online once the embargo has lifted; the card lies beside it (`card.png`) and is
 * copied to the site with it, never before.
 *
 * Every absolute address starts with the site's; when that is not https (no public URL
 * configured: `http://localhost:3000/` on a laptop), the tags that need one (canonical,
 * og:url, og:image, JSON-LD's url and image) are left out rather than naming a local address.
 */

/** The generated card's size: what Facebook, LinkedIn and X show in full. */
export const cardSize = { width: 1200, height: 630 } as const;

/** Open Graph's locale of a language. */
export const ogLocale = (lang: Language): string => (lang === 'fr' ? 'fr_FR' : 'en_GB');

/** The card's name in the release's folder (archive `public/`, and the press room). */
export const cardFile = 'card.png';

/** Draws the card's SVG as a PNG (sharp locally: lambdas/adapters/sharp-card.ts). */
export interface CardPainter {
  paint(svg: string): Promise<Uint8Array>;
}

/** The image a release is shared with: its path in the release's folder, its size and text. */
export interface ShareImage {
  /** Relative to the release's folder in the press room (`card.png`, `files/photo.jpg`). */
  path: string;
  alt: string;
  width?: number;
  height?: number;
  /** The generated card, to be painted. */
  generated: boolean;
}

/**
 * The image a release is shared with: the web size of its first press kit image (`images:`
 * in the front matter, made at publish: at most 1600 px wide, a JPEG or a PNG), with its alt
 * text and size; else the generated card. Images of the body are not chosen: they illustrate
 * the text, the press kit is what the organisation offers for publication.
 */
export function shareImage(
  release: Pick<Publication, 'title'> & { gallery?: Publication['gallery'] },
): ShareImage {
  const first = release.gallery?.find((image) => 'web' in image);
  if (first && 'web' in first) {
    return {
      path: first.web.name.split('/').map(encodeURIComponent).join('/'),
      alt: first.alt,
      width: first.web.width,
      height: first.web.height,
      generated: false,
    };
  }
  return { path: cardFile, alt: release.title, ...cardSize, generated: true };
}

/** The day a release was published (its embargo's instant when it has one) and last changed. */
export function releaseDates(
  summary: Pick<ReleaseSummary, 'date' | 'embargo' | 'publishedAt' | 'updatedAt'>,
): {
  published: string;
  modified: string;
} {
  const published = summary.embargo ?? summary.date;
  // A new version after the first publication is a modification; the first one is not.
  const modified =
    summary.updatedAt !== summary.publishedAt && Date.parse(summary.updatedAt) > Date.parse(published)
      ? summary.updatedAt
      : published;
  return { published, modified };
}

/** Whether absolute addresses under this site may go into public metadata. */
export function isPublicSiteUrl(siteUrl: string): boolean {
  return /^https:\/\//i.test(siteUrl);
}

/**
 * JSON for a `<script type="application/ld+json">`: `<` written `\u003c` (and `>`, `&`, and
 * the two line separators JavaScript once refused), so that no value can close the script.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** What the `share-meta` partial prints in a release page's head. */
export interface ShareMeta {
  siteName: string;
  locale: string;
  canonical?: string;
  image?: { url: string; alt: string; width?: number; height?: number };
  /** The JSON-LD, ready for the script element (see {@link jsonForScript}). */
  jsonLd: string;
}

/**
 * The metadata of a release's page in the press room (`siteUrl` absolute, ending in "/").
 * `image`: what {@link shareImage} chose, when it is there (no card without a painter).
 */
export function releaseShareMeta(
  publication: Publication,
  summary: ReleaseSummary,
  site: { siteUrl: string; siteName: string },
  image: ShareImage | undefined,
): ShareMeta {
  const absolute = isPublicSiteUrl(site.siteUrl);
  const releaseUrl = `${site.siteUrl}releases/${publication.slug}/`;
  const canonical = `${releaseUrl}index.html`;
  const imageUrl = image && releaseUrl + image.path;
  const dates = releaseDates(summary);
  const organization = (p: Publication['publishers'][number]) => ({
    '@type': 'Organization',
    name: p.name,
    ...(p.website && { url: p.website }),
    ...(p.logo && { logo: { '@type': 'ImageObject', url: p.logo } }),
  });
  const [first] = publication.publishers;
  const jsonLd = {
    '@context': 'https://schema.org',
    '@type': 'NewsArticle',
    headline: publication.title,
    ...(summary.lead && { description: summary.lead }),
    inLanguage: publication.lang,
    datePublished: dates.published,
    dateModified: dates.modified,
    author: publication.author
      ? { '@type': 'Person', name: publication.author }
      : publication.publishers.map(organization),
    ...(first && { publisher: organization(first) }),
    ...(publication.tags.length > 0 && { keywords: publication.tags.join(', ') }),
    ...(absolute && {
      url: canonical,
      mainEntityOfPage: { '@type': 'WebPage', '@id': canonical },
      ...(imageUrl && { image: [imageUrl] }),
    }),
  };
  return {
    siteName: site.siteName,
    locale: ogLocale(publication.lang),
    ...(absolute && { canonical }),
    ...(absolute &&
      image &&
      imageUrl && {
        image: {
          url: imageUrl,
          alt: image.alt,
          ...(image.width !== undefined && { width: image.width }),
          ...(image.height !== undefined && { height: image.height }),
        },
      }),
    jsonLd: jsonForScript(jsonLd),
  };
}

/** Characters XML 1.0 cannot hold at all: dropped from the card's text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
const notXml = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

function xmlText(s: string): string {
  return s.replace(notXml, '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Words into lines of at most `width` characters (a long word alone on its line is cut),
 * at most `maxLines`, the last one ending in "…" when text was left over.
 */
export function wrapLines(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  const words = text.trim().split(/\s+/);
  for (let i = 0; i < words.length; i++) {
    let word = words[i] as string;
    while (word.length > width) {
      if (line) {
        lines.push(line);
        line = '';
      }
      lines.push(`${word.slice(0, width - 1)}-`);
      word = word.slice(width - 1);
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1] as string;
  kept[maxLines - 1] = `${last.length >= width ? last.slice(0, width - 1) : last}…`;
  return kept;
}

/**
 * The generated card, 1200×630: the kicker ("Communiqué de presse"), the title over up to five
 * lines (smaller when long), the publishers, on white with the accent colour's band. Text is
 * drawn with DejaVu Sans (Debian's default fonts, and what librsvg finds through fontconfig),
 * else any sans-serif font the machine has.
 */
export function shareCardSvg(card: {
  title: string;
  publishers: readonly string[];
  accentColor: string;
  t: Pick<LocaleStrings, 'pressRelease'>;
}): string {
  const { width, height } = cardSize;
  const accent = /^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(card.accentColor) ? card.accentColor : '#0b5fa5';
  const long = card.title.length > 90;
  const fontSize = long ? 50 : 64;
  // DejaVu Sans Bold's average letter is about 0.62 em wide; 1040 px of text per line.
  const lines = wrapLines(card.title, Math.floor(1040 / (fontSize * 0.62)), long ? 5 : 4);
  const lineHeight = Math.round(fontSize * 1.2);
  const titleTop = 200;
  const publishers = wrapLines(card.publishers.join(' · '), 52, 1)[0] ?? '';
  const font = "'DejaVu Sans', 'Open Sans', 'Liberation Sans', Arial, sans-serif";
  const tspans = lines
    .map((l, i) => `<tspan x="80" y="${titleTop + i * lineHeight}">${xmlText(l)}</tspan>`)
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<rect width="${width}" height="16" fill="${accent}"/>`,
    `<rect x="0" y="${height - 120}" width="${width}" height="120" fill="#f6f8fa"/>`,
    `<text x="80" y="110" font-family="${font}" font-size="28" letter-spacing="3" fill="#59636e">${xmlText(card.t.pressRelease.toUpperCase())}</text>`,
    `<text font-family="${font}" font-size="${fontSize}" font-weight="bold" fill="#1f2328">${tspans}</text>`,
    `<text x="80" y="${height - 48}" font-family="${font}" font-size="34" font-weight="bold" fill="${accent}">${xmlText(publishers)}</text>`,
    '</svg>',
  ].join('\n');
}
