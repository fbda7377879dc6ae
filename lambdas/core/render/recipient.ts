import Handlebars from 'handlebars';

/**
 * The recipient stage: fills the per-recipient placeholders that the document stage left
 * in the email. It costs microseconds a recipient and never loads MJML, so the sending
 * path imports this module only.
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

type CompileOptions = Parameters<typeof Handlebars.compile>[1];

// A separate environment with no helpers but the built-in conditionals: stage-2 templates
// are our own output, but nothing in them should be able to call anything else.
const stage2 = Handlebars.create();
const compileOptions = {
  knownHelpers: { if: true, unless: true },
  knownHelpersOnly: true,
  strict: false,
  preventIndent: true,
} as const;

function withDefaults(fields: RecipientFields): RecipientFields {
  const r = fields.recipient;
  const fullName = r.fullName ?? ([r.firstName, r.lastName].filter(Boolean).join(' ') || r.email);
  return { ...fields, recipient: { ...r, fullName } };
}

type Filler = (data: RecipientFields) => string;

/** Compiles an email's HTML and text once; `fill` then costs a few microseconds. */
export function compileForRecipients(email: EmailDocument): PersonalizableEmail {
  const html = stage2.compile(email.html, compileOptions);
  const text = stage2.compile(email.text, { ...compileOptions, noEscape: true });
  const htmlSegments = segmentsOf(email.html, html, compileOptions);
  const textSegments = segmentsOf(email.text, text, { ...compileOptions, noEscape: true });
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
 * The template cut into runs of lines without placeholders (kept as they are) and lines
 * with some (each compiled on its own, with the lines of a block that spans several). Used only when it fills exactly as the whole
 * template does, checked here on sample recipients; otherwise (a block that spans lines,
 * whitespace control) the whole template is one segment.
 */
function segmentsOf(
  source: string,
  whole: Filler,
  options: CompileOptions,
): (data: RecipientFields) => string[] {
  const parts: (string | Filler)[] = [];
  let run = '';
  let block = '';
  let depth = 0;
  // Each line keeps its LF, so that Handlebars sees a block's lines as it sees them in the
  // whole template (a line holding only {{#if}} is dropped with its LF).
  for (const line of source.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    if (depth === 0 && !line.includes('{{')) {
      run += line;
      continue;
    }
    if (run) parts.push(run);
    run = '';
    block += line;
    // The lines of a block ({{#if}} ... {{/if}} over several lines) stay together.
    depth += (line.match(/\{\{[#^]/g)?.length ?? 0) - (line.match(/\{\{\//g)?.length ?? 0);
    if (depth <= 0) {
      parts.push(stage2.compile(block, options));
      block = '';
      depth = 0;
    }
  }
  if (block) parts.push(stage2.compile(block, options));
  if (run) parts.push(run);
  const fill = (data: RecipientFields) => parts.map((part) => (typeof part === 'string' ? part : part(data)));
  const samples: RecipientFields[] = [
    {
      recipient: { email: 'a@example.org', firstName: 'Zoé', lastName: 'Lefèvre' },
      unsubscribeUrl: 'https://x/u/1',
    },
    { recipient: { email: 'b@example.org' }, unsubscribeUrl: 'https://x/u/2' },
  ].map(withDefaults);
  try {
    if (samples.every((data) => fill(data).join('') === whole(data))) return fill;
  } catch {
    // A part that does not compile on its own: the whole template is one segment.
  }
  return (data) => [whole(data)];
}
