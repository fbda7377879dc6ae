import { FileTooLargeError } from './errors.ts';

/**
 * Limits on what pressroom accepts, in one place: the format docs list the same numbers.
 * A value over a limit is refused with the file, line, field and the limit, never truncated.
 */
export const limits = {
  /** An email address (RFC 5321: 254 octets for a path). */
  email: 254,
  /** pressroom.yaml: a few settings, read at every command. */
  workspaceFileBytes: 256 * 1024,
  /** The reason given for withdrawing a release (`pressroom archive withdraw --reason`), in characters. */
  withdrawReason: 500,
  /** A contact's first name, and last name (also what the subscription form accepts). */
  contactName: 100,
  /** A contact's organisation (outlet, company) and role (function, beat). */
  contactOrganization: 200,
  contactRole: 200,
  /** A contact's language tag (BCP 47 tags are at most 35 characters). */
  contactLanguage: 35,
  /** One tag of a contact. */
  contactTag: 50,
  /** A contact's media outlet ("Média"). */
  contactOutlet: 200,
  /** One beat (topic) of a contact, and how many a contact has at most. */
  contactBeat: 100,
  contactBeats: 30,
  /** A contact's phone numbers, as written (several columns are joined with " / "). */
  contactPhone: 100,
  /** A contact's notes. */
  contactNotes: 2_000,
} as const;

/**
 * Publications, newsletter issues and organisation files (docs/publication-format.md lists
 * them). Lengths are in characters. They sit far above real documents (a long press release
 * is 5–50 KB of Markdown, a headline under 200 characters) and low enough that no input
 * makes rendering slow: the Markdown converters slow down sharply on very long or very
 * densely marked-up texts, and recurse once per level of nesting.
 */
export const publicationLimits = {
  /** The Markdown body of a publication or an issue: four times a long press release. */
  body: 200_000,
  /** HTML elements in a body (tags written or made by Markdown): a long release has a few hundred. */
  bodyElements: 20_000,
  /** Elements nested in one another (lists in quotes in tables...): real documents stay under 15. */
  nesting: 100,
  /**
   * A publication or issue file (front matter and Markdown), in bytes: refused from its size
   * alone, before it is read. The body and front matter limits below, in characters, fit in it
   * even in UTF-16.
   */
  publicationFile: 2_000_000,
  /** The YAML front matter of a publication or an issue, before it is parsed. */
  frontMatter: 100_000,
  /** An organisation file, before it is parsed. */
  organizationFile: 50_000,
  title: 300,
  subtitle: 500,
  /** The lead of a release, the summary of a newsletter item. */
  lead: 3_000,
  /** A newsletter issue's intro. */
  intro: 10_000,
  /** An organisation's "about" paragraph. */
  about: 10_000,
  quote: 2_000,
  /** Names of people and organisations, roles, places, bylines. */
  name: 200,
  /** Labels of figures, links and attachments; tags; figures' values. */
  label: 200,
  address: 500,
  url: 2_000,
  /** A file path written in a publication (attachment, image). */
  path: 500,
  publishers: 20,
  quotes: 50,
  figures: 50,
  links: 100,
  attachments: 100,
  /** Local images in a body, each copied with the release. */
  images: 100,
  tags: 50,
  /** A newsletter issue's items and events. */
  items: 100,
  events: 100,
  /** The largest file a publication may bring (attachment, image): PRESSROOM_MAX_FILE_SIZE. */
  fileSize: 50_000_000,
  /** Press kit images (`images:`): how many a release lists. */
  pressImages: 20,
  /** A press kit image's alt text: a sentence or two (screen readers read it whole). */
  alt: 250,
  /** A press kit image's caption. */
  caption: 1_000,
  /**
   * One press kit image file, in bytes, checked before it is read: a 50-megapixel JPEG from a
   * camera is 15–25 MB. Lower than PRESSROOM_MAX_FILE_SIZE when that is lower.
   */
  pressImageFile: 25_000_000,
  /**
   * Pixels of a press kit image (width × height), checked from its header before it is
   * decoded: 50 MP is a full-frame camera's; decoding takes about 3 bytes a pixel (150 MB).
   */
  pressImagePixels: 50_000_000,
} as const;

const sizeUnits: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** `50MB`, `500kB`, `1.5 MiB`, `20000` (bytes) → bytes; undefined when it is none of these. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = sizeUnits[(match?.[2] || 'b').toLowerCase()];
  if (!match || unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `52.4 MB`, `500 kB`, `12 bytes`: a size in an error message. */
export function showByteSize(bytes: number): string {
  if (bytes >= 1_000_000) return `${Number((bytes / 1_000_000).toFixed(1))} MB`;
  if (bytes >= 1_000) return `${Number((bytes / 1_000).toFixed(1))} kB`;
  return `${bytes} bytes`;
}

/** The problem of a publication or issue file over `maxSize` bytes (publicationLimits.publicationFile). */
export function publicationFileTooLarge(size: number, maxSize: number): string {
  return `this file is ${showByteSize(size)}, more than the ${showByteSize(maxSize)} a publication or issue file (front matter and Markdown) may be; a long press release is about 50 kB: shorten it, or put the full text in an attachment`;
}

/**
 * A file a publication brings, refused for its size; `setting` names the variable that raises
 * the limit where there is one (the command line's PRESSROOM_MAX_FILE_SIZE).
 */
export function fileTooLarge(
  file: string,
  size: number,
  maxSize: number,
  setting?: string,
): FileTooLargeError {
  return new FileTooLargeError(
    file,
    `is ${showByteSize(size)}, more than the ${showByteSize(maxSize)} a publication may bring in one file${setting ? ` (${setting})` : ''}: make it smaller, or put it online and add a link to it`,
    size,
    maxSize,
  );
}
