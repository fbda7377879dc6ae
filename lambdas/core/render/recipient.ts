import { compilePlaceholders, type PlaceholderFill } from './placeholders.ts';

/**
 * The recipient stage: fills the per-recipient placeholders that the document stage left
 * in the email. It costs microseconds a recipient and loads neither MJML nor Handlebars'
 * compiler (placeholders.ts fills them as Handlebars would), so the sending function stays small.
 */

/** What a message knows about its recipient. Every value is optional but the address. */
export interface RecipientFields {
  recipient: {
    email: string;
    firstName?: string;
    lastName?: string;
    /** Defaults to first and last name, then to the address. */
    fullName?: string;
  };
  /** The recipient's own signed unsubscribe link. */
  unsubscribeUrl: string;
  /** An advance copy's links, personal and signed (campaigns/advance-copy.ts). */
  advanceCopy?: { page: string; pdf: string; images: string };
  /** The recipient's signed open image and links, when the campaign tracks them (campaigns/tracking.ts). */
  tracking?: { open?: string; links?: string[] };
}

/** A rendered email whose placeholders are still to be filled. */
export interface EmailDocument {
  html: string;
  text: string;
}

/**
 * A filled email in segments: joined they are the filled HTML and text. The lines
 * that hold no placeholder come in runs that are the very same strings for every
 * recipient, so whatever is derived from them (their MIME encoding) is done once.
 */
export interface EmailSegments {
  html: string[];
  text: string[];
}

/** A compiled email, ready to be filled for each recipient. */
export interface PersonalizableEmail {
  fill(fields: RecipientFields): EmailDocument;
  fillSegments(fields: RecipientFields): EmailSegments;
}

/** HTML is escaped as Handlebars escapes it; the text version is filled as it is. */
const htmlOptions = { escape: true } as const;
const textOptions = { escape: false } as const;
type CompileOptions = typeof htmlOptions | typeof textOptions;

function withDefaults(fields: RecipientFields): RecipientFields {
  const r = fields.recipient;
  const fullName = r.fullName ?? ([r.firstName, r.lastName].filter(Boolean).join(' ') || r.email);
  return { ...fields, recipient: { ...r, fullName } };
}

type Filler = PlaceholderFill;

/** Compiles an email's HTML and text once; `fill` then costs a few microseconds. */
export function compileForRecipients(email: EmailDocument): PersonalizableEmail {
  const html = compilePlaceholders(email.html, htmlOptions);
  const text = compilePlaceholders(email.text, textOptions);
  const htmlSegments = segmentsOf(email.html, html, htmlOptions);
  const textSegments = segmentsOf(email.text, text, textOptions);
  return {
    fill(fields) {
      const data = withDefaults(fields);
      return { html: html(data), text: text(data) };
    },
    fillSegments(fields) {
      const data = withDefaults(fields);
      return { html: htmlSegments(data), text: textSegments(data) };
    },
  };
}

/**
 * The template cut into the text between placeholders (the same string for every
 * recipient) and the placeholders themselves, a block ({{#if}} ... {{/if}}) kept whole.
 * Used only when it fills exactly as the whole template does, checked here on sample
 * recipients; otherwise cut at line ends (a block's lines together, each line with its
 * LF, as Handlebars' standalone lines need), and failing that the whole template is one
 * segment.
 */
function segmentsOf(
  source: string,
  whole: Filler,
  options: CompileOptions,
): (data: RecipientFields) => string[] {
  const samples: RecipientFields[] = [
    {
      recipient: { email: 'a@example.org', firstName: 'Zoé', lastName: 'Lefèvre' },
      unsubscribeUrl: 'https://x/u/1',
    },
    { recipient: { email: 'b@example.org' }, unsubscribeUrl: 'https://x/u/2' },
  ].map(withDefaults);
  for (const cut of [cutAtPlaceholders, cutAtLines]) {
    try {
      const parts = cut(source)?.map((part) =>
        part.dynamic ? compilePlaceholders(part.text, options) : part.text,
      );
      if (!parts) continue;
      const fill = (data: RecipientFields) =>
        parts.map((part) => (typeof part === 'string' ? part : part(data)));
      if (samples.every((data) => fill(data).join('') === whole(data))) return fill;
    } catch {
      // A part that does not compile on its own: try the next cut.
    }
  }
  return (data) => [whole(data)];
}

interface Part {
  text: string;
  dynamic: boolean;
}

const mustache = /\{\{\{?[\s\S]*?\}?\}\}/g;
const depthChange = (tag: string) => (/^\{\{~?[#^]/.test(tag) ? 1 : /^\{\{~?\//.test(tag) ? -1 : 0);

function cutAtPlaceholders(source: string): Part[] | undefined {
  const parts: Part[] = [];
  let at = 0;
  let start = 0;
  let depth = 0;
  for (const match of source.matchAll(mustache)) {
    const tag = match[0];
    if (depth === 0) {
      if (match.index > at) parts.push({ text: source.slice(at, match.index), dynamic: false });
      start = match.index;
    }
    depth += depthChange(tag);
    if (depth <= 0) {
      at = match.index + tag.length;
      parts.push({ text: source.slice(start, at), dynamic: true });
      depth = 0;
    }
  }
  if (depth > 0) return undefined;
  if (at < source.length) parts.push({ text: source.slice(at), dynamic: false });
  return parts;
}

function cutAtLines(source: string): Part[] | undefined {
  const parts: Part[] = [];
  let run = '';
  let block = '';
  let depth = 0;
  for (const line of source.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    if (depth === 0 && !line.includes('{{')) {
      run += line;
      continue;
    }
    if (run) parts.push({ text: run, dynamic: false });
    run = '';
    block += line;
    for (const match of line.matchAll(mustache)) depth += depthChange(match[0]);
    if (depth <= 0) {
      parts.push({ text: block, dynamic: true });
      block = '';
      depth = 0;
    }
  }
  if (block) parts.push({ text: block, dynamic: true });
  if (run) parts.push({ text: run, dynamic: false });
  return parts;
}

/** The email as the press room shows it: the placeholders filled for nobody. */
export function anonymousCopy(email: EmailDocument): EmailDocument {
  return compileForRecipients(email).fill({ recipient: { email: '' }, unsubscribeUrl: '' });
}
