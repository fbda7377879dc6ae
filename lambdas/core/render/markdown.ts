import path from 'node:path';
import { compile } from 'html-to-text';
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { hasControlCharacter } from '../input.ts';
import { publicationLimits } from '../limits.ts';

/**
 * Markdown from publication data → sanitised HTML, and HTML → plain text.
 * Raw HTML is allowed in Markdown but only an allowlist survives sanitising: no scripts,
 * styles, frames, forms or event handlers, and links only to http(s), mailto and tel.
 * Images are https URLs, or files of the release given their absolute URL by `imageUrl`;
 * any other image is dropped, so no relative `src` ever reaches an email.
 */

const markdown = new MarkdownIt({ html: true, linkify: true, typographer: false, breaks: false });

const sanitizeOptions: sanitizeHtml.IOptions = {
  allowedTags: [
    'p',
    'br',
    'strong',
    'b',
    'em',
    'i',
    'u',
    's',
    'del',
    'sup',
    'sub',
    'small',
    'mark',
    'abbr',
    'a',
    'ul',
    'ol',
    'li',
    'blockquote',
    'h2',
    'h3',
    'h4',
    'hr',
    'code',
    'pre',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
    'img',
  ],
  allowedAttributes: {
    a: ['href', 'title'],
    abbr: ['title'],
    img: ['src', 'alt', 'width', 'height'],
    th: ['align'],
    td: ['align'],
    ol: ['start'],
  },
  allowedSchemes: ['https', 'http', 'mailto', 'tel'],
  // https only for images written in the text; `imageSrc` below keeps those and the
  // release's own files (whose URL may be the local press room's http://localhost).
  allowedSchemesByTag: { img: ['https', 'http'] },
  allowProtocolRelative: false,
  // Dropped along with everything inside them, not just unwrapped.
  nonTextTags: [
    'script',
    'style',
    'textarea',
    'option',
    'noscript',
    'iframe',
    'object',
    'embed',
    'template',
    'svg',
    'math',
  ],
  disallowedTagsMode: 'discard',
  // Deeper elements are dropped (their text kept): the text converter recurses per level.
  // Loaders refuse such input first, with its line (`inspectMarkdown`).
  nestingLimit: publicationLimits.nesting,
  // A Markdown "# Title" would compete with the release's own headline.
  transformTags: { h1: 'h2' },
  // An image left without a source by `imageSrc` is removed.
  exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
};

/** How images of the text are written in the HTML. */
export interface ImageOptions {
  /**
   * The absolute URL of a local image (a file of the release, path relative to the
   * publication, as `imageSource` gives it); undefined drops the image.
   */
  imageUrl?: (file: string) => string | undefined;
}

function optionsFor(images: ImageOptions): sanitizeHtml.IOptions {
  return {
    ...sanitizeOptions,
    transformTags: {
      ...sanitizeOptions.transformTags,
      img: (tagName, attribs) => {
        const { src, ...rest } = attribs;
        const url = src === undefined ? undefined : imageSrc(src, images);
        return { tagName, attribs: url === undefined ? rest : { ...rest, src: url } };
      },
    },
  };
}

function imageSrc(src: string, images: ImageOptions): string | undefined {
  const source = imageSource(src);
  if (source.kind === 'https') return src;
  return source.kind === 'file' ? images.imageUrl?.(source.file) : undefined;
}

/** A Markdown document (body, "about" boilerplate) as safe HTML. */
export function markdownToHtml(source: string, images: ImageOptions = {}): string {
  return sanitizeHtml(markdown.render(source), optionsFor(images)).trim();
}

/** One paragraph of inline Markdown (a lead) as safe HTML, without the surrounding <p>. */
export function inlineMarkdownToHtml(source: string, images: ImageOptions = {}): string {
  return sanitizeHtml(markdown.renderInline(source), optionsFor(images)).trim();
}

/** The image files a release may bring, by extension: the formats mail clients show. */
const imageExtensions: readonly string[] = ['.png', '.jpg', '.jpeg', '.gif', '.webp'];

/** What an image's `src` names: a remote https image, a file beside the publication, or neither. */
export type ImageSource =
  | { kind: 'https' }
  | { kind: 'file'; file: string }
  | { kind: 'refused'; reason: string };

/**
 * Classifies an image source as Markdown gives it (percent-encoded) or as written in HTML.
 * A file is a path relative to the publication, inside its folder, normalised
 * (`./images/mon%20logo.png` → `images/mon logo.png`).
 */
export function imageSource(src: string): ImageSource {
  if (/^https:\/\/[^/]/i.test(src)) return { kind: 'https' };
  if (/^[a-z][a-z0-9+.-]*:/i.test(src) || src.startsWith('//')) {
    return {
      kind: 'refused',
      reason:
        'an image must be an https:// URL or a file beside the publication (e.g. images/photo.jpg): mail clients and browsers block the others',
    };
  }
  let file = src;
  try {
    file = decodeURIComponent(src);
  } catch {
    // a "%" that is not an escape: the name as written
  }
  const inside =
    'an image file must be named relative to the publication, inside its folder (e.g. images/photo.jpg): no "..", not absolute';
  if (file.trim() === '' || hasControlCharacter(file) || file.length > publicationLimits.path)
    return { kind: 'refused', reason: 'is not a usable file name' };
  if (file.startsWith('/') || file.includes('\\') || file.split('/').includes('..'))
    return { kind: 'refused', reason: inside };
  if (!imageExtensions.includes(path.posix.extname(file).toLowerCase())) {
    return {
      kind: 'refused',
      reason: `an image file must be ${imageExtensions.join(', ')} (what mail clients show): convert it, or attach it instead`,
    };
  }
  return { kind: 'file', file: path.posix.normalize(file) };
}

/** Elements without content or closing tag. */
const voidElements = new Set([
  'area',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'wbr',
]);

/** Elements whose end tag HTML lets one leave out before a sibling. */
const impliedEnd = new Set(['p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option']);

/** A tag in raw HTML, its attributes (quoted values may hold ">"), and a self-closing slash. */
const htmlTag =
  /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+(?:[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?|\/))*)\s*>/g;
const srcAttribute = /(?:^|\s)src\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i;

/** What `inspectMarkdown` finds in a text. */
export interface MarkdownFacts {
  /** Every image, in order: its source as the converters see it, and its line in the text (0-based). */
  images: { src: string; line: number }[];
  /** Elements, written as HTML or made by Markdown. */
  elements: number;
  /** The deepest nesting of elements, and the first line (0-based) that reaches it. */
  depth: { max: number; line: number };
}

/**
 * Looks through a Markdown text (block, or inline with `inline`) without rendering it: its
 * images with their lines, how many elements it makes and how deep they nest, so that a
 * loader can refuse what rendering cannot take, at the right line.
 */
export function inspectMarkdown(source: string, options: { inline?: boolean } = {}): MarkdownFacts {
  const facts: MarkdownFacts = { images: [], elements: 0, depth: { max: 0, line: 0 } };
  // The open elements, innermost last: a closing tag closes up to its own opening.
  const stack: string[] = [];
  const open = (name: string, line: number) => {
    facts.elements++;
    // `<li>a<li>b`: HTML lets these end where the next one starts.
    if (impliedEnd.has(name) && stack.at(-1) === name) stack.pop();
    stack.push(name);
    if (stack.length > facts.depth.max) facts.depth = { max: stack.length, line };
  };
  const close = (name: string) => {
    const at = stack.lastIndexOf(name);
    if (at >= 0) stack.length = at;
  };
  const scanHtml = (html: string, line: number) => {
    for (const tag of html.matchAll(htmlTag)) {
      const [, closing, rawName, attributes = ''] = tag;
      const name = (rawName ?? '').toLowerCase();
      const at = line + (html.slice(0, tag.index).match(/\n/g)?.length ?? 0);
      if (closing) {
        close(name);
        continue;
      }
      if (name === 'img') {
        const src = srcAttribute.exec(attributes);
        const value = src?.[1] ?? src?.[2] ?? src?.[3];
        if (value !== undefined) facts.images.push({ src: decodeEntities(value), line: at });
      }
      if (voidElements.has(name) || attributes.trimEnd().endsWith('/')) facts.elements++;
      else open(name, at);
    }
  };
  const env = {};
  const tokens = options.inline ? markdown.parseInline(source, env) : markdown.parse(source, env);
  let line = 0;
  for (const token of tokens) {
    if (token.map) line = token.map[0];
    if (token.type === 'html_block') scanHtml(token.content, line);
    else if (token.nesting === 1) open(token.tag, line);
    else if (token.nesting === -1) close(token.tag);
    else if (token.type !== 'inline' && token.type !== 'text') facts.elements++;
    let inlineLine = line;
    for (const child of token.children ?? []) {
      if (child.type === 'softbreak' || child.type === 'hardbreak') inlineLine++;
      if (child.type === 'html_inline') scanHtml(child.content, inlineLine);
      else if (child.type === 'image') {
        facts.elements++;
        facts.images.push({ src: String(child.attrGet('src') ?? ''), line: inlineLine });
      } else if (child.nesting === 1) open(child.tag, inlineLine);
      else if (child.nesting === -1) close(child.tag);
      else if (child.type !== 'text' && child.type !== 'softbreak') facts.elements++;
    }
  }
  return facts;
}

/** The character references an attribute value may hold (`&amp;`, `&#233;`, `&#xE9;`). */
function decodeEntities(value: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  return value.replace(/&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi, (all, dec, hex, name) => {
    if (dec || hex) {
      const code = Number.parseInt(dec ?? hex, dec ? 10 : 16);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return named[String(name).toLowerCase()] ?? all;
  });
}

// Built once: html-to-text rebuilds its selectors on every convert() call otherwise.
const toText = compile({
  wordwrap: 76,
  selectors: [
    { selector: 'h2', options: { uppercase: false, leadingLineBreaks: 2, trailingLineBreaks: 1 } },
    { selector: 'h3', options: { uppercase: false, leadingLineBreaks: 2, trailingLineBreaks: 1 } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'table', format: 'dataTable' },
  ],
});

/** Safe HTML → readable plain text: headings on their own lines, links as "text [url]". */
export function htmlToText(html: string): string {
  return toText(html).trim();
}

const toLine = compile({ wordwrap: false, selectors: [{ selector: 'a', options: { ignoreHref: true } }] });

/** Inline Markdown as one line of plain text (lists, feeds): formatting and link targets dropped. */
export function inlineMarkdownToText(source: string): string {
  return toLine(inlineMarkdownToHtml(source))
    .replace(/[ \t\r\n]+/g, ' ')
    .trim();
}
