import nodemailer, { type Transporter } from 'nodemailer';
import {
  type Mailer,
  type OutgoingMessage,
  PermanentSendError,
  SendingHaltedError,
  ThrottledError,
} from '../core/campaigns/mailer.ts';

export interface SmtpMailerOptions {
  /** smtp://user:pass@host:587 or smtps://... */
  url: string;
  /** Connections kept open at once. */
  pool?: number;
}

/**
 * Sends through an SMTP server (for users without AWS). 4xx replies are temporary (421 and
 * 450-452 mean "slow down"), 5xx replies are refusals.
 */
export class SmtpMailer implements Mailer {
  readonly name = 'smtp';
  readonly idempotent = false;
  private readonly transport: Transporter;

  constructor(options: SmtpMailerOptions) {
    this.transport = nodemailer.createTransport({
      url: options.url,
      pool: true,
      maxConnections: options.pool ?? 4,
    } as never);
  }

  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    try {
      const info = await this.transport.sendMail({
        envelope: { from: message.from, to: [message.to] },
        raw: Buffer.from(message.raw),
      });
      return { providerMessageId: String(info.messageId ?? message.messageId) };
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      const text = (error as Error).message;
      // 530/535: authentication refused; 554 not about a mailbox: the server refuses us, not this address.
      if (code === 530 || code === 535 || (code === 554 && !/recipient|mailbox|user|address/i.test(text))) {
        throw new SendingHaltedError(`the SMTP server refuses to send (${code}): ${text}`, { cause: error });
      }
      if (code !== undefined && code >= 500)
        throw new PermanentSendError(`smtp-${code}`, `the SMTP server refused: ${text}`, { cause: error });
      if (code === 421 || code === 450 || code === 451 || code === 452)
        throw new ThrottledError(`the SMTP server asks to wait: ${text}`, { cause: error });
      throw error;
    }
  }

  close(): void {
    this.transport.close();
  }
}
