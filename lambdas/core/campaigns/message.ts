import { createHash } from 'node:crypto';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { PressroomError } from '../errors.ts';
import { getJson, type ObjectStore } from '../store/object-store.ts';

/**
 * Filling one personal message into the campaign's skeleton. The skeleton itself (the MIME
 * structure, built once per campaign by nodemailer's MailComposer) and the To header (encoded
 * by nodemailer's MimeNode) come from message-skeleton.ts: this module uses nodemailer's
 * quoted-printable functions only, so code that fills a stored skeleton leaves MailComposer,
 * MimeNode and their content-type table out of its bundle.
 *
 * The message: multipart/alternative text + HTML (+ attachments), UTF-8
 * headers encoded, one recipient in To and nobody in Cc/Bcc, the List-Unsubscribe headers of
 * RFC 2369 and RFC 8058, a Message-ID derived from campaign and recipient.
 */
export interface Address {
  name?: string;
  address: string;
}

export interface MessageParts {
  from: Address;
  to: Address;
  replyTo?: string;
  subject: string;
  /** The body, or its segments (see EmailSegments). */
  html: string | readonly string[];
  text: string | readonly string[];
  messageId: string;
  date: Date;
  /** https URL for one-click unsubscribe, and a mailto fallback. */
  unsubscribe: { url: string; mailto: string };
  /** `<list.domain>` */
  listId: string;
  attachments?: { filename: string; content: Uint8Array; contentType: string }[];
}

/** Names and subjects come from data: no control character (CR, LF, NUL...) may reach a header. */
export function headerSafe(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** Prepared headers are written as they are: only printable ASCII may go in. */
export function asciiHeader(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value))
    throw new Error(`header value must be printable ASCII: ${JSON.stringify(value)}`);
  return value;
}

export const address = (a: Address) => ({ name: headerSafe(a.name ?? ''), address: headerSafe(a.address) });

/** What every message of a campaign shares. */
export type CampaignParts = Pick<MessageParts, 'from' | 'replyTo' | 'subject' | 'listId' | 'attachments'>;
/** What each recipient's message has of its own. */
export type PersonalParts = Pick<
  MessageParts,
  'to' | 'html' | 'text' | 'messageId' | 'date' | 'unsubscribe'
> &
  /** This recipient's list, when the campaign reaches people through several (default the campaign's). */
  Partial<Pick<MessageParts, 'listId'>> & {
    /** `to` already encoded (by dispatch, with message-skeleton.ts's `encodeTo`): written as it is. */
    toHeader?: string;
  };

/**
 * Quoted-printable bodies, with caches shared by every message of a campaign. QP is
 * line-local: a line's encoding does not depend on its neighbours, and a soft line break
 * may end any line. So a body given in segments (see EmailSegments) is the cached bytes of
 * the segments every recipient shares, plus the few placeholder values encoded for this
 * one; a body given whole is encoded line by line, with a cache of lines. Each line is
 * encoded by nodemailer's own `encode` and `wrap`, as MailComposer's encoder does.
 */
export class BodyEncoder {
  private readonly lines = new Map<string, string>();
  private readonly segments = new Map<string, Uint8Array>();
  private readonly midLine = new Map<string, Uint8Array>();

  /** @param capacity distinct lines kept at most (a tenth as many segments): bounded whatever the audience. */
  constructor(private readonly capacity = 5_000) {}

  /** `text` (lines ending in LF or CRLF), or its segments, as quoted-printable with CRLF line ends. */
  encode(text: string | readonly string[]): string {
    const chunks: Uint8Array[] = [];
    this.encodeInto(text, chunks);
    return Buffer.concat(chunks).toString('latin1');
  }

  /** The same as `encode`, as bytes appended to `chunks`. */
  encodeInto(text: string | readonly string[], chunks: Uint8Array[]): void {
    // One piece (a whole text, a template that could not be cut) differs from one recipient
    // to the next: its lines are cached, not the piece.
    if (typeof text === 'string' || text.length === 1) {
      chunks.push(
        Buffer.from(this.encodeLines(typeof text === 'string' ? text : (text[0] as string), false), 'latin1'),
      );
      return;
    }
    let last = text.length - 1;
    while (last > 0 && text[last] === '') last--;
    for (let i = 0; i <= last; i++) {
      const segment = text[i] as string;
      if (segment === '') continue;
      // A segment that stops mid-line (the text before a placeholder) ends with a soft line
      // break, which readers remove: segments are then encoded on their own.
      const soft = i < last && !segment.endsWith('\n');
      const cache = soft ? this.midLine : this.segments;
      let bytes = cache.get(segment);
      if (bytes === undefined) {
        bytes = Buffer.from(this.encodeLines(segment, soft), 'latin1');
        if (cache.size < this.capacity / 10) cache.set(segment, bytes);
      }
      chunks.push(bytes);
    }
  }

  /** Lines encoded and joined by CRLF; a final LF gives a CRLF, `soft` a soft line break. */
  private encodeLines(text: string, soft: boolean): string {
    const ends = text.endsWith('\n');
    const lines = (ends ? text.slice(0, -1) : text).split('\n').map((line) => this.line(line));
    return lines.join('\r\n') + (ends ? '\r\n' : soft ? '=\r\n' : '');
  }

  private line(raw: string): string {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let encoded = this.lines.get(line);
    if (encoded === undefined) {
      encoded = qpWrap(qpEncode(line), lineWidth);
      if (this.lines.size < this.capacity) this.lines.set(line, encoded);
    }
    return encoded;
  }
}

/** An encoded header value given whole: folded lines (CRLF, then a space or a tab), no other control character. */
function foldedHeader(value: string): string {
  const folded = value.split('\r\n').every((line, i) => {
    const rest = i === 0 ? line : /^[ \t]/.test(line) ? line.slice(1) : undefined;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    return rest !== undefined && !/[\u0000-\u001f\u007f]/.test(rest);
  });
  if (!folded)
    throw new Error(
      // The value is an address: never in an error that may be logged.
      `an encoded header (${value.length} characters) must be folded lines without control characters`,
    );
  return value;
}

/** Stand-ins written into the campaign's skeleton, where each message's own values go. */
export const slots = ['to', 'messageId', 'date', 'unsubscribe', 'listId', 'text', 'html'] as const;
export type Slot = (typeof slots)[number];
export const marker = (slot: Slot) => `@@pressroom-${slot}@@`;
/** Encoded lines are at most 75 characters: one more for a soft break after a mid-line segment. */
const lineWidth = 75;

/**
 * The campaign's message with its slots: text, slot name, text, slot name, ... text, each
 * slot once (see message-skeleton.ts, which builds it). Plain strings: it can be stored as
 * JSON and read back.
 */
export interface MessageSkeleton {
  pieces: string[];
}

/** A skeleton's pieces, checked: texts and every slot once, in an odd-length list. */
function checkedPieces(skeleton: MessageSkeleton): string[] {
  const pieces = skeleton?.pieces;
  if (!Array.isArray(pieces) || pieces.length % 2 !== 1 || pieces.some((p) => typeof p !== 'string'))
    throw new Error('the message skeleton is not a list of texts and slots: build it again');
  const found = pieces.filter((_, i) => i % 2 === 1);
  if (
    found.length !== slots.length ||
    new Set(found).size !== slots.length ||
    found.some((slot) => !(slots as readonly string[]).includes(slot))
  )
    throw new Error(`the message skeleton has the slots ${found.join(', ')}; it needs ${slots.join(', ')}`);
  return pieces;
}

/**
 * Each message of a campaign: the skeleton with the recipient's To (encoded by `encodeTo`),
 * Message-ID, Date, List-Unsubscribe, List-Id and quoted-printable bodies put in. Composing
 * a message this way costs a few string joins instead of a MailComposer run, and gives the
 * same bytes MailComposer would, boundaries aside.
 *
 * @param listId the campaign's List-Id, for messages that do not give their own
 * @param encodeTo the To header's folded value, without `To: ` (message-skeleton.ts)
 */
export function composerFromSkeleton(
  skeleton: MessageSkeleton,
  campaign: { listId: string; encodeTo: (to: Address) => string },
): (personal: PersonalParts) => Uint8Array {
  const pieces = checkedPieces(skeleton);
  const bytes = pieces.map((piece, i) => (i % 2 === 0 ? Buffer.from(piece, 'utf8') : undefined));
  const bodies = new BodyEncoder();
  const listId = asciiHeader(campaign.listId);
  return (personal) => {
    const values: Record<Exclude<Slot, 'text' | 'html'>, string> = {
      to: personal.toHeader === undefined ? campaign.encodeTo(personal.to) : foldedHeader(personal.toHeader),
      messageId: asciiHeader(personal.messageId),
      date: personal.date.toUTCString().replace(/GMT/, '+0000'),
      unsubscribe: asciiHeader(`<${personal.unsubscribe.url}>, <${personal.unsubscribe.mailto}>`),
      listId: personal.listId === undefined ? listId : asciiHeader(personal.listId),
    };
    // RFC 5322 lines end in CRLF; templates end theirs in LF: the encoder writes CRLF.
    const chunks: Uint8Array[] = [bytes[0] as Uint8Array];
    for (let i = 1; i < pieces.length; i += 2) {
      const slot = pieces[i] as Slot;
      if (slot === 'text' || slot === 'html') bodies.encodeInto(personal[slot], chunks);
      // The address may hold UTF-8 (an internationalised local part); the rest is ASCII.
      else chunks.push(Buffer.from(values[slot], 'utf8'));
      chunks.push(bytes[i + 1] as Uint8Array);
    }
    const message = Buffer.concat(chunks);
    return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  };
}

/** A composer for a campaign's parts (message-skeleton.ts: `createMessageComposer`; `storedComposer`). */
export type ComposerFactory = (common: CampaignParts) => Promise<(personal: PersonalParts) => Uint8Array>;

/**
 * What names a campaign's skeleton in the store: a hash of everything it is built from (From,
 * Reply-To, Subject, List-Id, the attachments' names, types and bytes). A skeleton is stored
 * under it when the campaign is dispatched, and found again by whoever has the same parts.
 */
export function skeletonFingerprint(common: CampaignParts): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify([
      'skeleton 1',
      common.from.name ?? '',
      common.from.address,
      common.replyTo ?? '',
      common.subject,
      common.listId,
      (common.attachments ?? []).map((a) => [
        a.filename,
        a.contentType,
        createHash('sha256').update(a.content).digest('hex'),
      ]),
    ]),
  );
  return hash.digest('hex').slice(0, 32);
}

/** Where a campaign's skeleton is stored (message-skeleton.ts: `storeSkeleton`). */
export const skeletonKey = (campaign: string, common: CampaignParts) =>
  `campaigns/${campaign}/messages/${skeletonFingerprint(common)}.json`;

/**
 * Composers from the skeletons stored when the campaign was dispatched, for messages whose To
 * was encoded by dispatch too (`toHeader`): what the send function composes with, without
 * MailComposer or MimeNode in its code.
 */
export function storedComposer(store: ObjectStore, campaign: string): ComposerFactory {
  return async (common) => {
    const key = skeletonKey(campaign, common);
    const stored = await getJson<{ skeleton: MessageSkeleton }>(store, key, {
      repair: 'delete it and dispatch the campaign again',
    });
    if (!stored)
      throw new PressroomError(
        `campaign "${campaign}" has no message skeleton at ${key} (its sender, subject or attachment changed since it was dispatched, or it was dispatched by an older pressroom): dispatch it again`,
      );
    return composerFromSkeleton(stored.value.skeleton, {
      listId: common.listId,
      encodeTo: () => {
        throw new PressroomError(
          `a recipient of campaign "${campaign}" has no encoded To (a batch queued by an older pressroom): dispatch the campaign again`,
        );
      },
    });
  };
}

/** The domain of an address, in its ASCII form for headers such as Message-ID. */
export function asciiDomain(email: string): string {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return new URL(`http://${domain}`).hostname;
}
