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

/** A compiled email, ready to be filled for each recipient. */
export interface PersonalizableEmail {
  fill(fields: RecipientFields): EmailDocument;
}

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

/** Compiles an email's HTML and text once; `fill` then costs a few microseconds. */
export function compileForRecipients(email: EmailDocument): PersonalizableEmail {
  const html = stage2.compile(email.html, compileOptions);
  const text = stage2.compile(email.text, { ...compileOptions, noEscape: true });
  return {
    fill(fields) {
      const data = withDefaults(fields);
      return { html: html(data), text: text(data) };
    },
  };
}
