import {
  GetSendQuotaCommand,
  SESClient,
  SESServiceException,
  SendRawEmailCommand,
} from '@aws-sdk/client-ses';
import {
  type Mailer,
  type OutgoingMessage,
  PermanentSendError,
  SendingHaltedError,
  ThrottledError,
} from '../core/campaigns/mailer.ts';

export interface SesMailerOptions {
  client?: SESClient;
  /** Configuration set whose event destinations report bounces and complaints. */
  configurationSet?: string;
}

/** SES error codes that no retry will fix for this message. */
const permanentCodes = new Set(['MessageRejected', 'InvalidParameterValue']);

/** SES error codes that refuse every message until someone fixes the account or its setup. */
const haltingCodes = new Set([
  'MailFromDomainNotVerifiedException',
  'ConfigurationSetDoesNotExistException',
  'ConfigurationSetSendingPausedException',
  'AccountSendingPausedException',
]);

/**
 * Sends through SES `SendRawEmail`, one recipient per call, tagged with the campaign so that
 * feedback events can be traced back. Throttling ("Maximum sending rate exceeded") becomes
 * ThrottledError; refusals become PermanentSendError; the rest are transient.
 */
export class SesMailer implements Mailer {
  readonly name = 'ses';
  readonly idempotent = false;
  private readonly client: SESClient;

  constructor(private readonly options: SesMailerOptions = {}) {
    // No hidden SDK retries: a send that timed out after SES took it would go out twice.
    // Throttling and errors are retried by the send loop, which the ledger sees.
    this.client = options.client ?? new SESClient({ maxAttempts: 1 });
  }

  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    try {
      const result = await this.client.send(
        new SendRawEmailCommand({
          RawMessage: { Data: message.raw },
          Source: message.from,
          Destinations: [message.to],
          ...(this.options.configurationSet && { ConfigurationSetName: this.options.configurationSet }),
          Tags: [{ Name: 'campaign', Value: message.campaign.replace(/[^A-Za-z0-9_-]/g, '_') }],
        }),
      );
      return { providerMessageId: result.MessageId ?? '' };
    } catch (error) {
      throw mapSesError(error);
    }
  }

  async maxRate(): Promise<number | undefined> {
    const quota = await this.client.send(new GetSendQuotaCommand({}));
    return quota.MaxSendRate && quota.MaxSendRate > 0 ? quota.MaxSendRate : undefined;
  }
}

export function mapSesError(error: unknown): Error {
  const name = (error as { name?: string }).name ?? '';
  const message = (error as Error).message ?? String(error);
  if (name === 'Throttling' || name === 'ThrottlingException' || /rate exceeded/i.test(message)) {
    return new ThrottledError(`SES is throttling: ${message}`, { cause: error });
  }
  if (/daily message quota exceeded/i.test(message)) {
    return new ThrottledError(`SES daily quota reached: ${message}`, { cause: error });
  }
  if (haltingCodes.has(name)) {
    return new SendingHaltedError(`SES refuses to send (${name}): ${message}`, { cause: error });
  }
  if (permanentCodes.has(name)) {
    return new PermanentSendError(
      name === 'MessageRejected' ? 'rejected' : name,
      `SES refused the message: ${message}`,
      {
        cause: error,
      },
    );
  }
  return error instanceof SESServiceException || error instanceof Error ? error : new Error(message);
}
