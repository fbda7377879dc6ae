import { BusyError, PressroomError } from '../errors.ts';

/**
 * The mailer port: sends one raw MIME message to one recipient. Implementations: the outbox
 * (local default, one .eml file per message), SES SendRawEmail, SMTP.
 */
export interface OutgoingMessage {
  /** The whole message, headers and body, as composed. */
  raw: Uint8Array;
  /** `<campaign.contact@domain>`: the same for a retried send of the same message. */
  messageId: string;
  /** Envelope sender and recipient. */
  from: string;
  to: string;
  campaign: string;
}

/** What the provider said when it took a message. */
export interface SendResult {
  providerMessageId: string;
  /** The server's reply, when it gives one (SMTP: `250 2.0.0 Ok: queued as 4FbX`), addresses masked. */
  reply?: string;
}

export interface Mailer {
  readonly name: string;
  /** True when sending the same Message-ID twice delivers it once (the outbox overwrites its file). */
  readonly idempotent: boolean;
  /**
   * True when messages reach people's mailboxes (SMTP, SES): their links must then work for
   * anyone (checkPublicUrl). The outbox keeps them on disk.
   */
  readonly delivers?: boolean;
  send(message: OutgoingMessage): Promise<SendResult>;
  /** The provider's rate limit in messages per second, when it has one (SES MaxSendRate). */
  maxRate?(): Promise<number | undefined>;
}

/** The provider asks us to slow down: retry later, never count it as a failure. */
export class ThrottledError extends PressroomError {
  override name = 'ThrottledError';
}

/** The provider refused this message for good (bad address, rejected content). */
export class PermanentSendError extends PressroomError {
  override name = 'PermanentSendError';
  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The provider refuses everything for now (account paused, sender not verified,
 * configuration missing, the server unreachable): the campaign pauses and no recipient is
 * marked as failed. A command it stops exits with 3 (busy or paused).
 */
export class SendingHaltedError extends BusyError {
  override name = 'SendingHaltedError';
}

/**
 * The provider's daily sending quota is used up (SES: `Throttling`, "Daily message quota
 * exceeded"). A dispatched campaign's batch treats it as the quota spent: the recipient stays
 * pending and the campaign waits for the next quota window (batch.ts). Elsewhere (a local
 * `pressroom send` through SES) it halts the run as any {@link SendingHaltedError} does.
 */
export class QuotaExhaustedError extends SendingHaltedError {
  override name = 'QuotaExhaustedError';
}
