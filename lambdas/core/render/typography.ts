import type { Language } from '../publication/schema.ts';

/**
 * French typography for rendered documents (Imprimerie nationale's conventions): a no-break
 * space (U+00A0) before ":", a narrow no-break space (U+202F) before ";", "!", "?" and inside
 * « », and typographic apostrophes (’). Applied to text only: never inside URLs, e-mail
 * addresses, Handlebars placeholders, HTML tags and attributes, comments, code or styles.
 * Idempotent, so data already typeset and a second pass change nothing. Other languages are
 * left exactly as written: English gets none of the French spacing.
 */

export const noBreakSpace = '\u00a0';
export const narrowNoBreakSpace = '\u202f';

/** Spaces a writer may have put where a no-break space belongs (not line breaks). */
const space = '[ \\u00a0\\u202f]';
/** What may stand right before a French high punctuation mark: a word, a number, a closing sign. */
const before = '[\\p{L}\\p{N}»”’)\\]…%€$]';
/** What may follow a punctuation mark that gets a space inserted: the end, a space, closing signs. */
const after = '(?=$|[\\s»”’)\\]"\'.,;:!?<])';

const rules: [RegExp, string][] = [
  // l'avenir → l’avenir (between letters only: a quoted 'word' keeps its marks)
  [/(?<=\p{L})'(?=\p{L})/gu, '’'],
  // « x » with narrow no-break spaces inside, whatever spacing was written
  [new RegExp(`«${space}*(?=\\S)`, 'gu'), `«${narrowNoBreakSpace}`],
  [new RegExp(`(?<=\\S)${space}*»`, 'gu'), `${narrowNoBreakSpace}»`],
  // a space written before ; ! ? becomes narrow and no-break; none written: one is added
  [new RegExp(`(?<=${before})${space}+(?=[;!?])`, 'gu'), narrowNoBreakSpace],
  [new RegExp(`(?<=${before})(?=[;!?]${after})`, 'gu'), narrowNoBreakSpace],
  // the same for ":" with a full no-break space; "08:00", "https:" are not followed by a space
  [new RegExp(`(?<=${before})${space}+(?=:)`, 'gu'), noBreakSpace],
  [/(?<=[\p{L}»”)])(?=:(?:$|\s))/gu, noBreakSpace],
];

/**
 * What is never touched inside text: Handlebars placeholders, character references
 * (`&gt;`: not a word before ";"), URLs (with a scheme or starting "www."), e-mail addresses.
 */
const protectedText =
  /&#?[a-z0-9]+;|\{\{[\s\S]*?\}\}|\b[a-z][a-z0-9+.-]*:\/\/[^\s<>"]*|\b(?:mailto|tel):[^\s<>"]*|\bwww\.[^\s<>"]+|[^\s@<>()"'«»:;,]+@[^\s@<>()"'«»]+\.[^\s@<>()"'«».,;:!?]+/giu;

/** French spacing and apostrophes in a piece of text that holds nothing protected. */
function frenchPlain(text: string): string {
  let result = text;
  for (const [pattern, replacement] of rules) result = result.replace(pattern, replacement);
  return result;
}

/** French typography in plain text, URLs, addresses and placeholders left as they are. */
export function typesetFrenchText(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(protectedText)) {
    out += frenchPlain(text.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  return out + frenchPlain(text.slice(last));
}

/** Plain text typeset for its language (French only; others unchanged). */
export function typesetText(text: string, lang: Language): string {
  return lang === 'fr' ? typesetFrenchText(text) : text;
}

/** Markup that is not text: comments, conditional comments, CDATA, doctype, tags with their attributes. */
const markup = /<!--[\s\S]*?-->|<!\[[\s\S]*?\]>|<![^>]*>|<\/?[a-zA-Z][^>]*>/g;
/** Elements whose content is not prose. */
const verbatim = new Set(['code', 'pre', 'kbd', 'samp', 'script', 'style', 'textarea']);

/** The apostrophe and spaces as HTML escapes them (Handlebars writes ' as &#x27;). */
function decodeTypographicEntities(text: string): string {
  return text.replace(/&#x27;|&#39;|&apos;/gi, "'").replace(/&nbsp;|&#160;|&#xa0;/gi, noBreakSpace);
}

/**
 * French typography in the text of an HTML document or fragment: tags, attributes,
 * comments and the content of code, pre, script and style are left as they are.
 */
export function typesetFrenchHtml(html: string): string {
  let out = '';
  let last = 0;
  let verbatimDepth = 0;
  const text = (chunk: string) =>
    verbatimDepth > 0 ? chunk : typesetFrenchText(decodeTypographicEntities(chunk));
  for (const match of html.matchAll(markup)) {
    out += text(html.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
    const tag = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/.exec(match[0]);
    if (tag && verbatim.has((tag[2] ?? '').toLowerCase()) && !match[0].endsWith('/>')) {
      verbatimDepth = Math.max(0, verbatimDepth + (tag[1] ? -1 : 1));
    }
  }
  return out + text(html.slice(last));
}

/** HTML typeset for its language (French only; others unchanged). */
export function typesetHtml(html: string, lang: Language): string {
  return lang === 'fr' ? typesetFrenchHtml(html) : html;
}

/** Elided "de": before a vowel, and before the mute h of the commonest words. */
const elidingStart =
  /^(?:[aeiouàâäéèêëîïôöùûüœæ]|y[^aeiouy]|h(?:abit|ôp|op|omm|uma|ist|ôt|ot|eur|erb|ydr|yg|ospit|orizon|armon|ebdo|érit|erit|onneur|uile|uît))/i;

/** The article an organisation file may give its name, for French headings. */
export type FrenchArticle = 'le' | 'la' | 'les' | 'l’' | "l'";

/**
 * "de" + a name, in French: `de la Fédération`, `du Réseau`, `des Villes`, `de l’Association`
 * with the article given; without one, `d’Intercommunalités de France` before a vowel or a
 * mute h, `de Villes Internet` otherwise.
 */
export function frenchOf(name: string, article?: FrenchArticle): string {
  switch (article) {
    case 'le':
      return `du ${name}`;
    case 'la':
      return `de la ${name}`;
    case 'les':
      return `des ${name}`;
    case 'l’':
    case "l'":
      return `de l’${name}`;
    default:
      return elidingStart.test(name) ? `d’${name}` : `de ${name}`;
  }
}
