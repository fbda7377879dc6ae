import { z } from 'zod';

/**
 * The publication format: YAML front matter of a publication file, and organisation files.
 * This is a user-facing contract: the README documents it and `schemas/*.schema.json` are
 * generated from these schemas, so editors validate and complete the same rules.
 */

const text = z.string().trim().min(1, 'must not be empty');

/** An absolute http(s) URL; other schemes (javascript:, data:, file:) are refused. */
export const httpUrl = z
  .url({
    protocol: /^https?$/,
    hostname: z.regexes.domain,
    error:
      'must be an absolute http:// or https:// URL with a domain name, e.g. "https://example.org/report"',
  })
  .describe('An absolute http:// or https:// URL');

/** A calendar date written YYYY-MM-DD (a real date: 2021-02-30 is refused). */
export const isoDate = z.iso
  .date({ error: 'must be a real calendar date written YYYY-MM-DD, e.g. 2021-06-08' })
  .describe('A calendar date, YYYY-MM-DD');

/** A date-time with an explicit UTC offset, e.g. 2021-06-08T08:00:00+02:00. */
export const isoDateTime = z.iso
  .datetime({
    offset: true,
    local: false,
    error: 'must be a date-time with its UTC offset, e.g. 2021-06-08T08:00:00+02:00',
  })
  .describe('A date-time with its UTC offset, e.g. 2021-06-08T08:00:00+02:00');

export const slugPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const slug = z
  .string()
  .regex(slugPattern, 'must be lower-case letters and digits joined by single hyphens, e.g. "etude-2021"')
  .max(120);

export const languages = ['fr', 'en'] as const;
export const language = z.enum(languages, { error: 'must be "fr" or "en"' });
export type Language = z.infer<typeof language>;

export const email = z.email('must be an email address such as press@example.org');

const color = z
  .string()
  .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'must be a hex colour such as "#0b5fa5"');

const phone = z
  .string()
  .regex(/^\+?[0-9 ().\u00a0-]{4,30}$/, 'must be a phone number such as "+33 1 55 06 09 30"');

export const pressContactSchema = z
  .strictObject({
    name: text,
    email: email.optional(),
    phone: phone.optional(),
  })
  .describe('The person journalists should call or write to');

/** An organisation that publishes releases: its identity and its "about" boilerplate. */
export const organizationSchema = z
  .strictObject({
    name: text.describe('Full name, as printed in releases'),
    about: text.describe('The boilerplate paragraph shown under "About" (Markdown)'),
    website: httpUrl.optional(),
    address: text.optional().describe('Postal address; new lines are kept'),
    phone: phone.optional(),
    email: email.optional(),
    social: z
      .partialRecord(
        z.enum(['twitter', 'x', 'mastodon', 'bluesky', 'linkedin', 'facebook', 'instagram', 'youtube']),
        text,
      )
      .optional()
      .describe('Handles by network, e.g. { twitter: "@Villes_Internet" }'),
    pressContact: pressContactSchema.optional(),
    logo: httpUrl.optional().describe('Absolute URL of the logo image (emails need absolute URLs)'),
    color: color.optional().describe('Brand colour, used for headings and links'),
  })
  .describe('An organisation that publishes releases');

export type OrganizationInput = z.input<typeof organizationSchema>;
export type Organization = z.output<typeof organizationSchema>;

const organizationId = z
  .string()
  .regex(slugPattern, 'must be the id of an organisation file, e.g. "villes-internet"')
  .describe(
    'Id of an organisations/<id>.yaml file, searched beside the publication and in its parent folder',
  );

export const quoteSchema = z.strictObject({
  text: text,
  author: text,
  role: text.optional(),
});

export const figureSchema = z.strictObject({
  value: z.union([text, z.number()]).transform(String),
  label: text,
});

export const linkSchema = z.strictObject({
  label: text,
  url: httpUrl,
});

const attachmentPath = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .refine((p) => !p.startsWith('/') && !/^[a-zA-Z]:[\\/]/.test(p) && !p.split(/[\\/]/).includes('..'), {
    message: 'must be a path relative to the publication file, inside its folder (no "..", not absolute)',
  });

export const attachmentSchema = z.union([
  attachmentPath.transform((file) => ({ file, label: undefined as string | undefined })),
  z.strictObject({ file: attachmentPath, label: text.optional() }),
]);

/** The front matter of a publication (press release) file. */
export const publicationFrontMatterSchema = z
  .strictObject({
    title: text.describe('The headline'),
    subtitle: text.optional(),
    date: isoDate.describe('The announcement date, YYYY-MM-DD'),
    embargo: isoDateTime.optional().describe('Not to be published before this date-time'),
    place: text.optional().describe('Where the release is issued, e.g. "Paris" (shown in the date line)'),
    lang: language.default('fr').describe('Language of the fixed strings and dates: fr or en'),
    slug: slug.optional().describe('URL name; derived from the title when absent'),
    lead: text.describe('The opening paragraph (inline Markdown)'),
    publishers: z
      .array(z.union([organizationId, organizationSchema]))
      .min(1, 'needs at least one publisher')
      .describe('Organisation ids or inline organisations, co-publishers in order'),
    quotes: z.array(quoteSchema).optional(),
    figures: z
      .array(figureSchema)
      .optional()
      .describe('Key numbers, e.g. { value: 97, label: contributions }'),
    links: z.array(linkSchema).optional(),
    attachments: z.array(attachmentSchema).optional().describe('Files relative to the publication file'),
    author: text.optional().describe('Byline'),
    tags: z.array(text).optional(),
    visibility: z
      .enum(['public', 'private'], { error: 'must be "public" or "private"' })
      .default('public')
      .describe('private: kept out of the public press room and feeds; reachable through signed links only'),
  })
  .describe('Front matter of a pressroom publication');

export type PublicationFrontMatterInput = z.input<typeof publicationFrontMatterSchema>;
export type PublicationFrontMatter = z.output<typeof publicationFrontMatterSchema>;

/** An organisation once resolved: its id is the file name, or derived from its name when inline. */
export interface Publisher extends Organization {
  id: string;
}

export interface Attachment {
  /** Path relative to the publication file, as written in the front matter. */
  file: string;
  label: string;
  /** Size in bytes. */
  size: number;
}

/** A validated publication with its organisations resolved: the input of rendering. */
export interface Publication {
  slug: string;
  title: string;
  subtitle?: string;
  date: string;
  embargo?: string;
  place?: string;
  lang: Language;
  lead: string;
  body: string;
  publishers: Publisher[];
  quotes: z.output<typeof quoteSchema>[];
  figures: z.output<typeof figureSchema>[];
  links: z.output<typeof linkSchema>[];
  attachments: Attachment[];
  author?: string;
  tags: string[];
  visibility: 'public' | 'private';
  /** The file the publication was read from, as given. */
  source: string;
}
