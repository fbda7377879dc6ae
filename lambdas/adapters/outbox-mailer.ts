import type { Mailer, OutgoingMessage } from '../core/campaigns/mailer.ts';
import type { ObjectStore } from '../core/store/object-store.ts';

/** Where the outbox keeps a message: `outbox/<campaign>/<Message-ID>.eml`. */
export function outboxKey(campaign: string, messageId: string): string {
  const name = messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9._@+-]/g, '_');
  return `outbox/${campaign}/${name}.eml`;
}

/**
 * The local default mailer: each message is written to the store as an .eml file named
 * after its Message-ID, atomically. Writing the same message again replaces the file, so a
 * retried or resumed send leaves exactly one file per recipient.
 */
export class OutboxMailer implements Mailer {
  readonly name = 'outbox';
  readonly idempotent = true;

  constructor(private readonly store: ObjectStore) {}

  /** No provider, no limit: as fast as the disk allows, unless `--rate` says otherwise. */
  async maxRate(): Promise<number> {
    return Number.POSITIVE_INFINITY;
  }

  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    const key = outboxKey(message.campaign, message.messageId);
    await this.store.put(key, message.raw, { contentType: 'message/rfc822' });
    return { providerMessageId: key };
  }
}
