import { compile } from 'html-to-text';
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

/**
 * Markdown from publication data → sanitised HTML, and HTML → plain text.
 * Raw HTML is allowed in Markdown but only an allowlist survives sanitising: no scripts,
 * styles, frames, forms or event handlers, and links only to http(s), mailto and tel.
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
  allowedSchemesByTag: { img: ['https'] },
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
  // A Markdown "# Title" would compete with the release's own headline.
  transformTags: { h1: 'h2' },
};

/** A Markdown document (body, "about" boilerplate) as safe HTML. */
export function markdownToHtml(source: string): string {
  return sanitizeHtml(markdown.render(source), sanitizeOptions).trim();
}

/** One paragraph of inline Markdown (a lead) as safe HTML, without the surrounding <p>. */
export function inlineMarkdownToHtml(source: string): string {
  return sanitizeHtml(markdown.renderInline(source), sanitizeOptions).trim();
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
