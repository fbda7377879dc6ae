import { type AddressObject, type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Mailer,
  type OutgoingMessage,
  PermanentSendError,
  ThrottledError,
} from '../../lambdas/core/campaigns/mailer.ts';
import { composeMessage } from '../../lambdas/core/campaigns/message-skeleton.ts';

/** What arrived at the other end, as the receiving side has it. */
export interface Received {
  subject: string;
  /** mailparser's text form: `"Élodie Ça" <presse@example.org>` */
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  text: string;
  html: string;
  /** The bytes as they arrived, when the receiving side keeps them (not aws-ses-v2-local). */
  raw?: Uint8Array;
  /** Envelope recipients (SMTP RCPT TO, SES Destinations), when the receiving side sees them. */
  envelopeTo?: string[];
}

/** What an implementation of the mailer port can be asked to prove. */
export interface MailerHarness {
  mailer: Mailer;
  /** What arrived for this message (found by its Message-ID, or by its unique subject). */
  received(message: OutgoingMessage & { subject: string }): Promise<Received>;
  /** An address the provider refuses for good (SMTP 550, SES MessageRejected). */
  refusedAddress?: string;
  /** Makes the provider ask the next send to slow down (SMTP 451, SES Throttling). */
  throttleNext?: () => void;
  cleanup?: () => Promise<void>;
}

export interface MailerContractOptions {
  /** The harness can make the provider refuse an address. */
  refuses: boolean;
  /** The harness can make the provider throttle. */
  throttles: boolean;
}

const addresses = (a: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(a) ? a : a ? [a] : []).map((o) => o.text);

/** A parsed message in the contract's terms. */
export function receivedFrom(parsed: ParsedMail, extra: Partial<Received> = {}): Received {
  return {
    subject: parsed.subject ?? '',
    from: parsed.from?.text ?? '',
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    bcc: addresses(parsed.bcc),
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
    ...extra,
  };
}

export async function parseRaw(raw: Uint8Array, extra: Partial<Received> = {}): Promise<Received> {
  return receivedFrom(await simpleParser(Buffer.from(raw)), { raw, ...extra });
}

let serial = 0;

/** A personal message as the campaign composes it, with accents in names, subject and body. */
export async function sampleMessage(
  to = 'zoe.lhote@exemple.example.com',
  campaign = 'contrat-été',
): Promise<OutgoingMessage & { subject: string }> {
  const n = `${Date.now().toString(36)}${(++serial).toString(36)}`;
  const messageId = `<${campaign.replace(/[^a-z-]/g, '')}.${n}@villes-internet.example.org>`;
  const subject = `Communiqué n°${n} : les villes moyennes résilientes — « été »`;
  const raw = await composeMessage({
    from: { name: 'Villes Internet — Élodie Ça', address: 'presse@villes-internet.example.org' },
    to: { name: 'Zoé L’Hôte', address: to },
    replyTo: 'florence@villes-internet.example.org',
    subject,
    text: 'Bonjour Zoé,\n\nÉtude sur la résilience des villes : « numérique » et crise.\n',
    html: '<p>Bonjour <strong>Zoé</strong>,</p><p>Étude sur la résilience des villes : « numérique » et crise.</p>',
    messageId,
    date: new Date('2021-06-08T06:00:00Z'),
    unsubscribe: {
      url: 'https://press.example.org/unsubscribe/u1.abc.def',
      mailto: 'mailto:presse@villes-internet.example.org?subject=unsubscribe%20u1.abc.def',
    },
    listId: '<presse.villes-internet.example.org>',
  });
  return {
    raw,
    messageId,
    from: 'presse@villes-internet.example.org',
    to,
    campaign,
    subject,
  };
}

/** Header lines of raw bytes, unfolded: `Name: value`. */
export function headerLines(raw: Uint8Array): string[] {
  const text = Buffer.from(raw).toString('latin1');
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  return head.replace(/\r\n[ \t]+/g, ' ').split('\r\n');
}

/**
 * The behaviour every Mailer must have. Each implementation's test calls this with a
 * factory; the same cases then run against the outbox, SMTP, SES (mocked and over HTTP).
 */
export function mailerContract(
  name: string,
  create: () => Promise<MailerHarness>,
  options: MailerContractOptions,
) {
  describe(`Mailer contract: ${name}`, () => {
    let h: MailerHarness;

    beforeAll(async () => {
      h = await create();
    });
    afterAll(async () => {
      await h?.cleanup?.();
    });

    it('delivers a composed message intact: accents in names and subject, text and HTML parts', async () => {
      const message = await sampleMessage();
      const result = await h.mailer.send(message);
      expect(typeof result.providerMessageId).toBe('string');
      expect(result.providerMessageId.length).toBeGreaterThan(0);

      const got = await h.received(message);
      expect(got.subject).toBe(message.subject);
      expect(got.from).toBe('"Villes Internet — Élodie Ça" <presse@villes-internet.example.org>');
      expect(got.to).toEqual(['"Zoé L’Hôte" <zoe.lhote@exemple.example.com>']);
      expect(got.cc).toEqual([]);
      expect(got.bcc).toEqual([]);
      expect(got.text).toContain('Bonjour Zoé,');
      expect(got.text).toContain('Étude sur la résilience des villes : « numérique » et crise.');
      expect(got.html).toContain('<strong>Zoé</strong>');
      expect(got.html).toContain('« numérique »');
      if (got.envelopeTo) expect(got.envelopeTo).toEqual([message.to]);

      // MIME headers: on the bytes that arrived when the receiving side keeps them, else as composed.
      const lines = headerLines(got.raw ?? message.raw);
      expect(lines).toContain(`Message-ID: ${message.messageId}`);
      expect(lines).toContain(
        'List-Unsubscribe: <https://press.example.org/unsubscribe/u1.abc.def>, <mailto:presse@villes-internet.example.org?subject=unsubscribe%20u1.abc.def>',
      );
      expect(lines).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
      expect(lines.some((l) => /^Content-Type: multipart\/alternative;/i.test(l))).toBe(true);
      // Only ASCII goes over the wire in headers: accents are encoded words.
      expect(lines.every((l) => /^[\x20-\x7e]*$/.test(l))).toBe(true);
    });

    it('delivers several messages sent at once, each to its own recipient', async () => {
      const messages = await Promise.all(
        Array.from({ length: 6 }, (_, i) => sampleMessage(`lecteur.${i}@exemple.example.com`)),
      );
      const results = await Promise.all(messages.map((m) => h.mailer.send(m)));
      expect(new Set(results.map((r) => r.providerMessageId)).size).toBe(messages.length);
      for (const m of messages) {
        const got = await h.received(m);
        expect(got.subject).toBe(m.subject);
        expect(got.to).toEqual([`"Zoé L’Hôte" <${m.to}>`]);
      }
    });

    // Only mailers that can refuse or throttle are asked to (the outbox and the SES
    // emulator cannot): the cases are defined for them alone, not skipped for the others.
    if (options.refuses)
      it('reports a refused recipient as PermanentSendError', async () => {
        const message = await sampleMessage(h.refusedAddress);
        const error = await h.mailer.send(message).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(PermanentSendError);
        expect((error as PermanentSendError).reason).toMatch(/\S/);
        expect(error).not.toBeInstanceOf(ThrottledError);
      });

    if (options.throttles)
      it('reports throttling as ThrottledError, and the next send goes through', async () => {
        h.throttleNext?.();
        const message = await sampleMessage();
        const error = await h.mailer.send(message).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ThrottledError);
        expect(error).not.toBeInstanceOf(PermanentSendError);
        const again = await h.mailer.send(message);
        expect(again.providerMessageId.length).toBeGreaterThan(0);
        expect((await h.received(message)).subject).toBe(message.subject);
      });
  });
}
