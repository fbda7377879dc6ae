import MailComposer from 'nodemailer/lib/mail-composer';
import { foldLines } from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';
import { type ObjectStore, serializeJson } from '../store/object-store.ts';
import {
  type Address,
  address,
  type CampaignParts,
  composerFromSkeleton,
  headerSafe,
  type MessageParts,
  type MessageSkeleton,
  marker,
  type PersonalParts,
  type Slot,
  skeletonKey,
  slots,
} from './message.ts';

/**
 * The campaign's message skeleton, built by nodemailer's MailComposer, and the To header,
 * encoded by nodemailer's MimeNode: the half of message composition that needs them (with
 * their content-type table, about 115 KB of a bundle). message.ts fills the skeleton.
 */

const standIn = { to: 'recipient@pressroom.invalid', date: new Date(0) };

/**
 * MailComposer builds the campaign's message once, with stand-ins where each recipient's
 * values go (the From, Subject, List-Id, attachments and MIME structure are the same for all).
 */
export async function buildSkeleton(common: CampaignParts): Promise<MessageSkeleton> {
  const prepared = (slot: Slot) => ({ prepared: true, value: marker(slot) });
  const part = (contentType: string, slot: Slot) => ({
    raw: `Content-Type: ${contentType}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${marker(slot)}`,
  });
  const skeleton = await new MailComposer({
    from: address(common.from),
    ...(common.replyTo && { replyTo: headerSafe(common.replyTo) }),
    subject: headerSafe(common.subject),
    text: part('text/plain; charset=utf-8', 'text'),
    html: part('text/html; charset=utf-8', 'html'),
    // To and Date are formatted by MimeNode whatever is asked: stand-in values, swapped below.
    to: standIn.to,
    date: standIn.date,
    headers: {
      'Message-ID': prepared('messageId'),
      // MailComposer ignores its `list` option; these are set as plain headers (see TOOLCHAIN.md).
      'List-Unsubscribe': prepared('unsubscribe'),
      'List-Unsubscribe-Post': { prepared: true, value: 'List-Unsubscribe=One-Click' },
      'List-Id': prepared('listId'),
    },
    attachments: (common.attachments ?? []).map((a) => ({
      filename: headerSafe(a.filename),
      content: Buffer.from(a.content),
      contentType: a.contentType,
    })),
  })
    .compile()
    .build();
  let text = skeleton.toString('utf8');
  for (const [line, slot] of [
    [`\r\nTo: ${standIn.to}\r\n`, 'to'],
    [`\r\nDate: ${standIn.date.toUTCString().replace(/GMT/, '+0000')}\r\n`, 'date'],
  ] as const) {
    if (text.split(line).length !== 2) throw new Error(`the message skeleton has no single ${slot} line`);
    text = text.replace(line, `\r\n${line.slice(2, line.indexOf(' ') + 1)}${marker(slot)}\r\n`);
  }
  // Split at the stand-ins: text, slot, text, slot, ... text.
  return { pieces: text.split(new RegExp(`@@pressroom-(${slots.join('|')})@@`)) };
}

let addressHeaders: MimeNode | undefined;

/** The To header's value as MimeNode writes it (UTF-8 names encoded, folded at 76), without `To: `. */
export function encodeTo(to: Address): string {
  addressHeaders ??= new MimeNode();
  // `To: ` is in the skeleton; the folded line starts with it, so it is cut off again.
  return foldLines(`To: ${addressHeaders.encodeHeaderValue('To', address(to))}`, 76).slice(4);
}

/** Composes the messages of one campaign: its skeleton built once, each message filled into it. */
export async function createMessageComposer(
  common: CampaignParts,
): Promise<(personal: PersonalParts) => Uint8Array> {
  return composerFromSkeleton(await buildSkeleton(common), { listId: common.listId, encodeTo });
}

/** One message on its own (a test message, a confirmation): a composer used once. */
export async function composeMessage(parts: MessageParts): Promise<Uint8Array> {
  return (await createMessageComposer(parts))(parts);
}

/** Builds the campaign's skeleton and stores it where `storedComposer` (message.ts) finds it. */
export async function storeSkeleton(
  store: ObjectStore,
  campaign: string,
  common: CampaignParts,
): Promise<void> {
  const skeleton = await buildSkeleton(common);
  await store.put(skeletonKey(campaign, common), serializeJson({ skeleton }), {
    contentType: 'application/json',
  });
}
