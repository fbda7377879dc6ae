import MailComposer from 'nodemailer/lib/mail-composer';

/**
 * Composing one personal message: multipart/alternative text + HTML (+ attachments), UTF-8
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
  html: string;
  text: string;
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
function asciiHeader(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value))
    throw new Error(`header value must be printable ASCII: ${JSON.stringify(value)}`);
  return value;
}

const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

const address = (a: Address) => ({ name: headerSafe(a.name ?? ''), address: headerSafe(a.address) });

export async function composeMessage(parts: MessageParts): Promise<Uint8Array> {
  const mail = new MailComposer({
    from: address(parts.from),
    to: address(parts.to),
    ...(parts.replyTo && { replyTo: headerSafe(parts.replyTo) }),
    subject: headerSafe(parts.subject),
    // RFC 5322 lines end in CRLF; templates end theirs in LF.
    text: crlf(parts.text),
    html: crlf(parts.html),
    messageId: asciiHeader(parts.messageId),
    // Chosen up front: otherwise MailComposer scans every part several times to choose
    // (half of its cost); quoted-printable keeps the HTML readable in the raw message.
    textEncoding: 'quoted-printable',
    date: parts.date,
    // MailComposer ignores its `list` option; these are set as plain headers (see TOOLCHAIN.md).
    headers: {
      'List-Unsubscribe': {
        prepared: true,
        value: asciiHeader(`<${parts.unsubscribe.url}>, <${parts.unsubscribe.mailto}>`),
      },
      'List-Unsubscribe-Post': { prepared: true, value: 'List-Unsubscribe=One-Click' },
      'List-Id': { prepared: true, value: asciiHeader(parts.listId) },
    },
    attachments: (parts.attachments ?? []).map((a) => ({
      filename: headerSafe(a.filename),
      content: Buffer.from(a.content),
      contentType: a.contentType,
    })),
  });
  const raw = await mail.compile().build();
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** The domain of an address, in its ASCII form for headers such as Message-ID. */
export function asciiDomain(email: string): string {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return new URL(`http://${domain}`).hostname;
}
