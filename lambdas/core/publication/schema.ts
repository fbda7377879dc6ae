import * as z from 'zod';
import { isoWithOffset, parseSendTime } from '../campaigns/time.ts';
import { hasControlCharacter } from '../control-characters.ts';
import { limits, publicationLimits as max } from '../limits.ts';
import type { PressImageFormat } from './image-format.ts';
import { type Language, languages } from './languages.ts';
import { socialHandleHelp, socialNetworks, socialProfile } from './social.ts';

/**
 * The publication format: YAML front matter of a publication file, and organisation files.
 * This is a user-facing contract: docs/publication-format.md documents it (with the limits
 * of lambdas/core/limits.ts) and `schemas/*.schema.json` are generated from these schemas,
 * so editors validate and complete the same rules. The Markdown of fields (lead, about...)
 * is checked by the loaders, which render it: the send function loads these schemas
 * and no Markdown parser.
 */

const controlMessage =
  'contains a control character (such as NUL, U+0000), which no text should hold: remove it';

/** The error of a text over `limit` characters, with its length. */
export function tooLong(limit: number) {
  return {
    error: (issue: { input?: unknown }) =>
      `is too long: ${String(issue.input).length} characters, at most ${limit.toLocaleString('en')}`,
  };
}

/** Text written by a person: trimmed, not empty, at most `limit` characters, no control characters. */
export function text(limit: number) {
  return z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(limit, tooLong(limit))
    .refine((value) => !hasControlCharacter(value), controlMessage);
}

/** A list of at most `limit` things: a longer one is refused, never cut. */
export function list<T extends z.ZodType>(item: T, limit: number, what: string) {
  return z.array(item).max(limit, {
    error: (issue) => `has ${(issue.input as unknown[]).length} ${what}, at most ${limit}`,
  });
}

/** An absolute http(s) URL; other schemes (javascript:, data:, file:) are refused. */
export const httpUrl = z
  .url({
    protocol: /^https?$/,
    hostname: z.regexes.domain,
    error:
      'must be an absolute http:// or https:// URL with a domain name, e.g. "https://example.org/report"',
  })
  .max(max.url, tooLong(max.url))
  .describe('An absolute http:// or https:// URL');

/** A calendar date written YYYY-MM-DD (a real date: 2021-02-30 is refused). */
export const isoDate = z.iso
  .date({ error: 'must be a real calendar date written YYYY-MM-DD, e.g. 2021-06-08' })
  .describe('A calendar date, YYYY-MM-DD');

/** A wall-clock date-time written without its zone or offset (which instant is unknown). */
const zoneless = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?$/;

/**
 * An embargo: a date-time with its IANA zone (`2021-06-08 08:00 Europe/Paris`, as campaigns
 * write send times) or its UTC offset (`2021-06-08T08:00:00+02:00`), normalised to the
 * second form. Without either, the instant is unknown: refused, saying how to write it.
 */
export const embargoTime = z
  .string()
  .transform((value, ctx) => {
    const written = value.trim();
    if (zoneless.test(written)) {
      const time = written.length === 10 ? `${written} 08:00` : written.replace('T', ' ');
      ctx.addIssue({
        code: 'custom',
        message: `has no time zone, so the moment is unknown: write the zone after the time, e.g. "${time} Europe/Paris", or the UTC offset, e.g. "${time.replace(' ', 'T')}${time.length === 16 ? ':00' : ''}+02:00"`,
      });
      return z.NEVER;
    }
    const parsed = parseSendTime(written);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    return parsed.zone.startsWith('UTC') ? parsed.written : isoWithOffset(parsed.utc, parsed.zone);
  })
  .describe(
    'A date-time with its time zone, "2021-06-08 08:00 Europe/Paris", or its UTC offset, "2021-06-08T08:00:00+02:00"',
  );

export const slugPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const slug = z
  .string()
  .regex(slugPattern, 'must be lower-case letters and digits joined by single hyphens, e.g. "etude-2021"')
  .max(120);

export { type Language, languages };
export const language = z.enum(languages, { error: 'must be "fr" or "en"' });

export const email = z
  .email('must be an email address such as press@example.org')
  .max(limits.email, tooLong(limits.email));

const color = z
  .string()
  .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'must be a hex colour such as "#0b5fa5"');

const phone = z
  .string()
  .regex(/^\+?[0-9 ().\u00a0-]{4,30}$/, 'must be a phone number such as "+33 1 55 06 09 30"');

export const pressContactSchema = z
  .strictObject({
    name: text(max.name),
    email: email.optional(),
    phone: phone.optional(),
    label: text(max.label)
      .optional()
      .describe(
        'The label before the name, as the organisation writes it, e.g. "Contact Presse"; default the language\'s ("Contact presse")',
      ),
  })
  .describe('The person journalists should call or write to');

/** An organisation that publishes releases: its identity and its "about" boilerplate. */
export const organizationSchema = z
  .strictObject({
    name: text(max.name).describe('Full name, as printed in releases'),
    about: text(max.about).describe('The boilerplate paragraph shown under "About" (Markdown)'),
    website: httpUrl.optional(),
    address: text(max.address).optional().describe('Postal address; new lines are kept'),
    phone: phone.optional(),
    email: email.optional(),
    social: z
      .partialRecord(z.enum(socialNetworks), text(max.label))
      .superRefine((profiles, ctx) => {
        for (const [network, handle] of Object.entries(profiles)) {
          if (handle !== undefined && !socialProfile(network, handle).url) {
            ctx.addIssue({ code: 'custom', path: [network], message: socialHandleHelp, input: handle });
          }
        }
      })
      .optional()
      .describe(
        'Profiles by network, each a handle or an https URL, shown as links: e.g. { twitter: "@Villes_Internet", mastodon: "@name@mastodon.social", linkedin: "company/name" }',
      ),
    pressContact: pressContactSchema.optional(),
    logo: httpUrl.optional().describe('Absolute URL of the logo image (emails need absolute URLs)'),
    color: color.optional().describe('Brand colour, used for headings and links'),
    article: z
      .enum(['le', 'la', 'les', 'l’', "l'"])
      .optional()
      .describe(
        'The French article of the name, for generated headings: "la" gives "À propos de la Fédération"; without it "de" is elided before a vowel or mute h ("À propos d’Intercommunalités de France")',
      ),
    aboutHeading: text(max.label)
      .optional()
      .describe('The whole heading over the "about" paragraph, when the generated one does not fit'),
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
  text: text(max.quote),
  author: text(max.name),
  role: text(max.name).optional(),
});

export const figureSchema = z.strictObject({
  value: z.union([text(max.label), z.number()]).transform(String),
  label: text(max.label),
});

export const linkSchema = z.strictObject({
  label: text(max.label),
  url: httpUrl,
});

const attachmentPath = text(max.path).refine(
  (p) => !p.startsWith('/') && !/^[a-zA-Z]:[\\/]/.test(p) && !p.split(/[\\/]/).includes('..'),
  {
    message: 'must be a path relative to the publication file, inside its folder (no "..", not absolute)',
  },
);

export const attachmentSchema = z.union([
  attachmentPath.transform((file) => ({ file, label: undefined as string | undefined })),
  z.strictObject({ file: attachmentPath, label: text(max.label).optional() }),
]);

/**
 * A press kit image: a JPEG, PNG or WebP file beside the publication, shown in the release's
 * gallery (the first one also at the top of the email) and offered for download as it is.
 */
export const pressImageSchema = z.strictObject({
  file: attachmentPath.describe('A JPEG, PNG or WebP file, relative to the publication file'),
  alt: text(max.alt).describe(
    'What the image shows, for people who cannot see it (screen readers, blocked images): required',
  ),
  caption: text(max.caption).optional().describe('Shown under the image'),
  credit: text(max.name).optional().describe('Who took or made it, e.g. "Photo: Camille Martin"'),
  licence: text(max.label)
    .optional()
    .describe('How it may be used, e.g. "CC BY 4.0" or "Free for press use"'),
});

/** The front matter of a publication (press release) file. */
export const publicationFrontMatterSchema = z
  .strictObject({
    title: text(max.title).describe('The headline'),
    subtitle: text(max.subtitle).optional(),
    date: isoDate.describe('The announcement date, YYYY-MM-DD'),
    embargo: embargoTime
      .optional()
      .describe(
        'Not to be published before this date-time, written with its zone ("2021-06-08 08:00 Europe/Paris") or its UTC offset ("2021-06-08T08:00:00+02:00")',
      ),
    place: text(max.name)
      .optional()
      .describe('Where the release is issued, e.g. "Paris" (shown in the date line)'),
    lang: language.default('fr').describe('Language of the fixed strings and dates: fr or en'),
    slug: slug.optional().describe('URL name; derived from the title when absent'),
    translationOf: slug
      .optional()
      .describe(
        'The slug of the release this one translates (published before it, in another language): the two pages link to each other, and a campaign about either sends each contact the version in their language',
      ),
    lead: text(max.lead).describe('The opening paragraph (inline Markdown)'),
    publishers: list(z.union([organizationId, organizationSchema]), max.publishers, 'publishers')
      .min(1, 'needs at least one publisher')
      .describe('Organisation ids or inline organisations, co-publishers in order'),
    quotes: list(quoteSchema, max.quotes, 'quotes').optional(),
    figures: list(figureSchema, max.figures, 'figures')
      .optional()
      .describe('Key numbers, e.g. { value: 97, label: contributions }'),
    links: list(linkSchema, max.links, 'links').optional(),
    attachments: list(attachmentSchema, max.attachments, 'attachments')
      .optional()
      .describe('Files relative to the publication file'),
    images: list(pressImageSchema, max.pressImages, 'images')
      .optional()
      .describe('Press kit images: a gallery on the page, the first one in the email'),
    author: text(max.name).optional().describe('Byline'),
    tags: list(text(max.label), max.tags, 'tags').optional(),
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

/** A local image of the body, copied with the release like an attachment. */
export interface PublicationImage {
  /** Path relative to the publication file, normalised (`images/photo.jpg`). */
  file: string;
  /** Size in bytes. */
  size: number;
}

/** A press kit image (`images:`), checked: an accepted format, within the limits. */
export interface PressImage {
  /** Path relative to the publication file, as written in the front matter. */
  file: string;
  alt: string;
  caption?: string;
  credit?: string;
  licence?: string;
  /** Size of the original in bytes. */
  size: number;
  /** Its format, told from its content. */
  format: PressImageFormat;
}

/** A press kit image once its web size and thumbnail are made (when a release is rendered). */
export interface ProcessedPressImage extends PressImage {
  /** The original's dimensions, once oriented, in pixels, and its SHA-256 (hex). */
  width: number;
  height: number;
  sha256: string;
  /** The web size (at most 1600 px wide) and the thumbnail (400 px), under the release's `images/`. */
  web: DerivedImage;
  thumbnail: DerivedImage;
}

/** An image made from a press kit image: its name in the release's folder and its size. */
export interface DerivedImage {
  /** E.g. `images/place-du-marche.jpg`. */
  name: string;
  width: number;
  height: number;
  bytes: number;
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
  /** The slug of the release this one translates (`translationOf`): see archive/translations.ts. */
  translationOf?: string;
  lead: string;
  body: string;
  publishers: Publisher[];
  quotes: z.output<typeof quoteSchema>[];
  figures: z.output<typeof figureSchema>[];
  links: z.output<typeof linkSchema>[];
  attachments: Attachment[];
  /** The body's local images (its https images stay remote). Absent in releases archived before images were copied. */
  images: PublicationImage[];
  /**
   * Press kit images (`images:` in the front matter), in order; processed once the release is
   * rendered. Absent in releases archived before press kit images.
   */
  gallery?: (PressImage | ProcessedPressImage)[];
  author?: string;
  tags: string[];
  visibility: 'public' | 'private';
  /** The file the publication was read from, as given. */
  source: string;
}
