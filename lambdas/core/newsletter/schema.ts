import * as z from 'zod';
import { publicationLimits as max } from '../limits.ts';
import {
  httpUrl,
  isoDate,
  type Language,
  language,
  list,
  organizationSchema,
  type Publisher,
  slug,
  slugPattern,
  text,
  tooLong,
} from '../publication/schema.ts';

/**
 * The newsletter issue format: a Markdown file with YAML front matter, like a publication.
 * A user-facing contract: the README documents it and `schemas/newsletter.schema.json` is
 * generated from this schema.
 */

/** Images are loaded by mail clients and browsers from anywhere: https only. */
const httpsImage = z
  .url({
    protocol: /^https$/,
    hostname: z.regexes.domain,
    error: 'must be an absolute https:// URL of an image, e.g. "https://example.org/photo.jpg"',
  })
  .max(max.url, tooLong(max.url))
  .describe('Absolute https:// URL of an image (emails load images from the web)');

/** `2024-03-21`, or with a wall-clock time `2024-03-21T18:30` (shown as written, no time zone). */
const eventDateMessage =
  'must be a real date YYYY-MM-DD, or a date and time YYYY-MM-DDTHH:MM, e.g. 2024-03-21T18:30';
export const eventDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2})?$/, { error: eventDateMessage, abort: true })
  .refine((value) => {
    const [y, mo, d, h, mi] = value.split(/[-T:]/).map(Number) as [number, number, number, number?, number?];
    const date = new Date(Date.UTC(y, mo - 1, d));
    const realDay = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
    return realDay && (h ?? 0) < 24 && (mi ?? 0) < 60;
  }, eventDateMessage)
  .describe('YYYY-MM-DD, or YYYY-MM-DDTHH:MM (local time, shown as written)');

/**
 * An item: a published release (`release: <slug>`, or the slug alone; its title, lead, image
 * and press-room link are pulled from the archive, `title`, `summary` and `image` may
 * override them), or an inline item (`title`, `summary`, `url`, optional `image`). One
 * object with a check rather than a union, so that a missing field is reported as such.
 */
const issueItemObject = z
  .strictObject({
    release: slug.optional().describe('Slug of a published public release (pressroom archive list)'),
    title: text(max.title)
      .optional()
      .describe("Inline item: the title. Release item: replaces the release's title"),
    summary: text(max.lead)
      .optional()
      .describe("Inline item: a short text (inline Markdown). Release item: replaces the release's lead"),
    url: httpUrl.optional().describe('Inline item: where the item links to'),
    image: httpsImage.optional(),
  })
  .superRefine((item, ctx) => {
    if (item.release !== undefined) {
      if (item.url !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['url'],
          message:
            'a release item links to its page in the press room: remove "url", or remove "release" to write an inline item',
        });
      }
      return;
    }
    for (const field of ['title', 'summary', 'url'] as const) {
      if (item[field] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `is required in an inline item (title, summary, url); or write "release: <slug>" to pull in a published release`,
        });
      }
    }
  });

export const issueItemSchema = z
  .union([
    slug
      .describe('Slug of a published public release, written alone: the same as { release: slug }')
      .transform((release) => ({ release }) as z.output<typeof issueItemObject>),
    issueItemObject,
  ])
  .describe(
    'A published release (its slug, or { release: slug }) or an inline item ({ title, summary, url, image })',
  );

export const issueEventSchema = z.strictObject({
  title: text(max.title),
  date: eventDate,
  place: text(max.name).optional(),
  url: httpUrl.optional(),
});

const organizationId = z
  .string()
  .regex(slugPattern, 'must be the id of an organisation file, e.g. "villes-internet"')
  .describe('Id of an organizations/<id>.yaml file, searched beside the issue and in its parent folder');

/** The front matter of a newsletter issue file. */
export const issueFrontMatterSchema = z
  .strictObject({
    id: slug
      .optional()
      .describe('The issue id (campaigns name it with "newsletter: <id>"); default: the file name'),
    title: text(max.title).describe('The issue title, also the default email subject'),
    date: isoDate.describe('The issue date, YYYY-MM-DD'),
    lang: language.default('fr').describe('Language of the fixed strings and dates: fr or en'),
    publishers: list(z.union([organizationId, organizationSchema]), max.publishers, 'publishers')
      .min(1, 'needs at least one publisher')
      .describe('Organisation ids or inline organisations, in order'),
    intro: text(max.intro).describe('The opening text (Markdown)'),
    items: list(issueItemSchema, max.items, 'items')
      .min(1, 'needs at least one item: a release slug, { release: <slug> } or { title, summary, url }')
      .describe('The issue contents, in order'),
    events: list(issueEventSchema, max.events, 'events')
      .optional()
      .describe('Coming events: title, date, place, url'),
    visibility: z
      .enum(['public', 'private'], { error: 'must be "public" or "private"' })
      .default('public')
      .describe('private: archived and sendable, never shown in the press room or feeds'),
  })
  .describe('Front matter of a pressroom newsletter issue');

export type IssueFrontMatter = z.output<typeof issueFrontMatterSchema>;
export type IssueItemInput = z.output<typeof issueItemSchema>;
export type IssueEvent = z.output<typeof issueEventSchema>;

/** A validated issue, organisations resolved; release items are not resolved yet. */
export interface NewsletterIssue {
  id: string;
  title: string;
  date: string;
  lang: Language;
  publishers: Publisher[];
  intro: string;
  items: IssueItemInput[];
  events: IssueEvent[];
  /** Free Markdown sections: the file's body. */
  body: string;
  visibility: 'public' | 'private';
  /** The file the issue was read from, as given. */
  source: string;
}

/** An item ready to render: release items filled in from the archive. */
export interface ResolvedItem {
  title: string;
  /** Inline Markdown. */
  summary?: string;
  /** Absolute URL. */
  url: string;
  image?: string;
  /** Release items: the release's slug and date. */
  release?: { slug: string; date: string; lang: Language };
}

/** An issue whose items are resolved: the input of rendering. */
export interface ResolvedIssue extends Omit<NewsletterIssue, 'items'> {
  items: ResolvedItem[];
}
