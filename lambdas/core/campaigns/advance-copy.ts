import type { ContactKeys } from '../contacts/model.ts';
import { InvalidTokenError, openExpiringToken, signExpiringToken } from '../contacts/tokens.ts';
import type { Language } from '../publication/schema.ts';
import { formatEmbargoTime } from '../render/locale.ts';

/**
 * Advance copies: a campaign with `embargo: advance` goes to press lists before its release's
 * embargo lifts. Each message opens with an embargo notice, its subject carries a short
 * embargo prefix, and its links to the release's page and PDF lead to the recipient's own
 * signed copy (`/advance/<token>`, `/advance/<token>/pdf` on the public endpoint), valid
 * `advanceCopyDays` after the lift; once the release is public they redirect to its page.
 *
 * A copy token (`a1.`) names the release, the contact (by id, never the address) and the
 * expiry, signed with the contact keys' secret like the unsubscribe links (tokens.ts).
 */

/** How long after the lift a personal copy link keeps working. */
export const advanceCopyDays = 30;

const copyVersion = 'a1';

export interface AdvanceCopyToken {
  /** The release. */
  slug: string;
  /** Contact id (`test` for a test message). */
  contact: string;
  /** The link works until this time (whole seconds). */
  expiresAt: Date;
}

export function signAdvanceCopyToken(keys: ContactKeys, token: AdvanceCopyToken): string {
  return signExpiringToken(keys, copyVersion, [token.slug, token.contact], token.expiresAt);
}

/**
 * The token's content; InvalidTokenError when it was not signed by us or was changed,
 * ExpiredTokenError (checked after the signature) when its time is over at `now`.
 */
export function verifyAdvanceCopyToken(keys: ContactKeys, token: string, now: Date): AdvanceCopyToken {
  const { parts, expiresAt } = openExpiringToken(keys, copyVersion, token, 'advance copy', now);
  const [slug, contact] = parts;
  if (parts.length !== 2 || typeof slug !== 'string' || typeof contact !== 'string')
    throw new InvalidTokenError('this advance copy link is not valid (unreadable)');
  return { slug, contact, expiresAt };
}

/** When the copy links of a release lifting at `embargo` stop working. */
export function advanceCopyExpiry(embargo: string): Date {
  return new Date(Math.ceil(Date.parse(embargo) / 1000) * 1000 + advanceCopyDays * 86_400_000);
}

/**
 * The copy's paths on the public endpoint: the page at `/advance/<token>`, the PDF and the press
 * kit images (`/advance/<token>/images/web/<name>.jpg`: the email's lead image) below it.
 */
export const advancePaths = {
  prefix: '/advance/',
  /** The release's `images/` folder (web sizes and thumbnails), as the copy serves it. */
  imagesSuffix: '/images/',
  /**
   * Not `<token>.pdf`: on the stack CloudFront sends every `*.pdf` to the press room's bucket
   * (its first behaviour), so the PDF is `/advance/<token>/pdf`, with the release's name in
   * its Content-Disposition.
   */
  pdfSuffix: '/pdf',
} as const;

/** A release's page, its PDF and its images' folder: in the press room, or in a personal copy. */
export interface ReleaseLinks {
  page: string;
  pdf: string;
  /** Ends with `/`: an image's name (`web/photo.jpg`) follows. */
  images: string;
}

/** The personal copy's addresses for a token. */
export function advanceCopyUrls(publicUrl: string, token: string): ReleaseLinks {
  const page = `${publicUrl.replace(/\/$/, '')}${advancePaths.prefix}${token}`;
  return { page, pdf: `${page}${advancePaths.pdfSuffix}`, images: `${page}${advancePaths.imagesSuffix}` };
}

/**
 * What journalists read, in the release's language (the same in the HTML and text parts): the
 * notice's first line, what it asks, and the subject's prefix. Kept here rather than in
 * templates/locales: the send function composes messages without the templates.
 */
const noticeWording: Record<Language, { line: string; detail: string; subject: string }> = {
  fr: {
    line: 'Sous embargo jusqu’au {date}',
    detail:
      'Merci de ne rien publier avant. Les liens de ce message mènent à votre copie personnelle du communiqué\u00a0: ne les transférez pas.',
    subject: '[Embargo {date}] ',
  },
  en: {
    line: 'Embargoed until {date}',
    detail:
      'Please publish nothing before then. The links in this message lead to your personal copy of the release: do not forward them.',
    subject: '[Embargo {date}] ',
  },
};

export interface EmbargoNotice {
  lang: Language;
  /** `Sous embargo jusqu’au mardi 8 juin 2021 à 8 h (heure de Paris)`. */
  line: string;
  detail: string;
  /** `[Embargo 8 juin 8 h] `, before the campaign's subject. */
  subjectPrefix: string;
}

/** The notice of a release under embargo until `embargo` (an instant), its times shown in `zone`. */
export function embargoNotice(embargo: string, lang: Language, zone: string): EmbargoNotice {
  const w = noticeWording[lang];
  return {
    lang,
    line: w.line.replace('{date}', formatEmbargoTime(embargo, lang, zone)),
    detail: w.detail,
    subjectPrefix: w.subject.replace('{date}', formatEmbargoTime(embargo, lang, zone, 'short')),
  };
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The email with the notice at its top: in the HTML, first thing in the body (before the
 * preheader, so that inboxes show it as the preview too); in the text, its first lines.
 */
export function withEmbargoNotice(
  email: { html: string; text: string },
  notice: EmbargoNotice,
): { html: string; text: string } {
  const block =
    `<div role="note" lang="${notice.lang}" style="margin:0 auto;max-width:600px;padding:12px 16px;` +
    'box-sizing:border-box;background-color:#fef3f2;border:2px solid #b42318;color:#7a271a;' +
    'font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;">' +
    `<strong>${escapeHtml(notice.line)}</strong><br>${escapeHtml(notice.detail)}</div>`;
  const body = /<body\b[^>]*>/i.exec(email.html);
  const html = body
    ? email.html.slice(0, body.index + body[0].length) + block + email.html.slice(body.index + body[0].length)
    : block + email.html;
  return { html, text: `${notice.line}\n${notice.detail}\n\n${email.text}` };
}

/** The release's page, PDF and images in the press room, as its email links to them. */
export function publicReleaseLinks(siteUrl: string, slug: string): ReleaseLinks {
  const folder = `${siteUrl.endsWith('/') ? siteUrl : `${siteUrl}/`}releases/${slug}/`;
  return { page: `${folder}index.html`, pdf: `${folder}release.pdf`, images: `${folder}images/` };
}

/** Where each message's copy links go in the email (recipient.ts fills them). */
export const advanceCopyPlaceholders: ReleaseLinks = {
  page: '{{advanceCopy.page}}',
  pdf: '{{advanceCopy.pdf}}',
  images: '{{advanceCopy.images}}',
};

/**
 * The email's links to the public page and PDF, and its images (the lead image), pointed
 * elsewhere (the recipient's copy): before the lift the press room serves none of them.
 */
export function toPersonalCopy(
  email: { html: string; text: string },
  from: ReleaseLinks,
  to: ReleaseLinks,
): { html: string; text: string } {
  const swap = (s: string) =>
    s.replaceAll(from.page, to.page).replaceAll(from.pdf, to.pdf).replaceAll(from.images, to.images);
  return { html: swap(email.html), text: swap(email.text) };
}
