import {
  GetAccountSendingEnabledCommand,
  GetIdentityVerificationAttributesCommand,
  GetSendQuotaCommand,
  SESClient,
  SESServiceException,
  SendRawEmailCommand,
} from '@aws-sdk/client-ses';
import {
  type Mailer,
  type OutgoingMessage,
  PermanentSendError,
  QuotaExhaustedError,
  SendingHaltedError,
  ThrottledError,
} from '../core/campaigns/mailer.ts';

export interface SesMailerOptions {
  client?: SESClient;
  /** Configuration set whose event destinations report bounces and complaints. */
  configurationSet?: string;
  /**
   * The SES identity this function may send from (the stack's sender domain): an IAM refusal
   * of a sender outside it is then told as such, with the fix.
   */
  senderIdentity?: string;
}

/** SES error codes that no retry will fix for this message. */
const permanentCodes = new Set(['MessageRejected', 'InvalidParameterValue']);

/** AWS refuses who we are, or what we may do: every message would be refused. */
const credentialCodes = new Set([
  'CredentialsProviderError',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidAccessKeyId',
  'AccessDenied',
  'AccessDeniedException',
]);

/**
 * Sends through SES `SendRawEmail`, one recipient per call, tagged with the campaign so that
 * feedback events can be traced back. Throttling ("Maximum sending rate exceeded") becomes
 * ThrottledError; refusals become PermanentSendError; the rest are transient.
 */
export class SesMailer implements Mailer {
  readonly name = 'ses';
  readonly idempotent = false;
  readonly delivers = true;
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
      throw mapSesError(error, {
        from: message.from,
        ...(this.options.configurationSet && { configurationSet: this.options.configurationSet }),
        ...(this.options.senderIdentity && { senderIdentity: this.options.senderIdentity }),
      });
    }
  }

  async maxRate(): Promise<number | undefined> {
    const quota = await this.client.send(new GetSendQuotaCommand({}));
    return quota.MaxSendRate && quota.MaxSendRate > 0 ? quota.MaxSendRate : undefined;
  }
}

/**
 * What an SES error means for the campaign. Whatever refuses every message (the account or
 * the configuration set paused, the sender not verified, the sandbox, the daily quota used
 * up, credentials) is SendingHaltedError naming the identity and the fix: the campaign
 * pauses and nobody is counted as failed. The text never holds a recipient's address (SES's
 * own message may: it is left out).
 */
export function mapSesError(
  error: unknown,
  context: { from?: string; configurationSet?: string; senderIdentity?: string } = {},
): Error {
  const name = (error as { name?: string }).name ?? '';
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  const halt = (text: string) => new SendingHaltedError(`SES refuses to send: ${text}`, { cause: error });
  // SES's only quota refusal of a send: the common error `Throttling` with this message (the
  // other, "Maximum sending rate exceeded", is retried below). SendRawEmail has no error code
  // of its own for either (AWS, "Errors related to the sending quotas for your Amazon SES account").
  if (/daily message quota exceeded/i.test(message)) {
    return new QuotaExhaustedError(
      "SES refuses to send: the account's daily sending quota (Max24HourSend) is used up. Sending resumes as the 24-hour window moves on: send again later, or ask AWS for a higher quota (Service Quotas, Amazon SES)",
      { cause: error },
    );
  }
  if (name === 'Throttling' || name === 'ThrottlingException' || /rate exceeded/i.test(message)) {
    return new ThrottledError(`SES is throttling: ${message}`, { cause: error });
  }
  const set = context.configurationSet ? `"${context.configurationSet}"` : '';
  switch (name) {
    case 'AccountSendingPausedException':
      return halt(
        "sending is paused for the whole AWS account (AccountSendingPausedException). Read the notice AWS sent to the account's address, fix what it says, then `aws ses update-account-sending-enabled --enabled`",
      );
    case 'ConfigurationSetSendingPausedException':
      return halt(
        `sending is paused for the configuration set ${set} (ConfigurationSetSendingPausedException): \`aws ses update-configuration-set-sending-enabled --configuration-set-name ${context.configurationSet ?? 'NAME'} --enabled\``,
      );
    case 'ConfigurationSetDoesNotExistException':
      return halt(
        `the configuration set ${set} does not exist in this region (ConfigurationSetDoesNotExistException): create it, or set PRESSROOM_SES_CONFIGURATION_SET to one that exists`,
      );
    case 'MailFromDomainNotVerifiedException':
      return halt(
        `the custom MAIL FROM domain of ${context.from ?? 'the sender'} has no MX record SES can read (MailFromDomainNotVerifiedException): fix its DNS records (SES console, the identity's "Custom MAIL FROM domain")`,
      );
  }
  if (name === 'MessageRejected' && /not verified/i.test(message)) {
    const [, region = 'this region', identities = ''] =
      /failed the check in region ([^:]+):\s*(.*)$/i.exec(message) ?? [];
    const from = context.from?.toLowerCase();
    const domain = from?.slice(from.lastIndexOf('@') + 1);
    const failed = identities.toLowerCase().split(/,\s*/);
    if (from && failed.some((i) => i.trim() === from || i.trim() === domain)) {
      return halt(
        `the sender ${context.from} is not a verified identity in SES region ${region}: verify the address or its domain (SES console, "Verified identities"), or send from one that is`,
      );
    }
    return halt(
      `the account is in the SES sandbox in region ${region}: it sends only to verified addresses. Request production access (SES console, "Account dashboard"), or verify the recipients of a test list`,
    );
  }
  if (name === 'MessageRejected' && /(account|sending).*(paused|suspended)/i.test(message)) {
    return halt(`${message} Read the notice AWS sent to the account's address and fix what it says.`);
  }
  if ((name === 'AccessDenied' || name === 'AccessDeniedException') && /ses:SendRawEmail/.test(message)) {
    // The role may send only from the stack's identity: a sender elsewhere is refused by IAM
    // before SES looks at it. No retry, no verification in SES, changes that.
    const domain = context.from?.slice(context.from.lastIndexOf('@') + 1);
    const where = context.senderIdentity
      ? `The SES identity this stack sends from is ${context.senderIdentity}: use a sender on ${context.senderIdentity} (the campaign's or the list's from), or deploy a stack for ${domain ?? 'that domain'}`
      : `Use a sender on the stack's SES identity (the domain of its sender), or deploy a stack for ${domain ?? 'that domain'}`;
    return halt(
      `the stack may not send from ${context.from ?? 'this sender'} (IAM denies ses:SendRawEmail on ${domain ?? 'its identity'}: AccessDenied). ${where}`,
    );
  }
  if (credentialCodes.has(name)) {
    return halt(
      `AWS refuses the credentials or their rights (${name}: ${message}). Check the AWS credentials (AWS_PROFILE, the role) and that they may call ses:SendRawEmail in this region`,
    );
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return halt(`the SES endpoint cannot be reached (${code}): check AWS_REGION and the network`);
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

/** What `pressroom mailer check` found on SES: nothing is sent. */
export interface SesCheck {
  region: string;
  /** The sender's identity (the address, else its domain) and its verification status. */
  identity?: { name: string; status: string };
  /** A quota of 200 a day and 1 a second is the sandbox's (the v1 API does not say it otherwise). */
  mode: 'sandbox' | 'production';
  quota: { max24HourSend: number; maxSendRate: number; sentLast24Hours: number };
}

/**
 * Reads, without sending, what decides whether SES will take a campaign: sending enabled
 * for the account, the sender's verification (address or domain), the quota and rate. A
 * problem is SendingHaltedError naming it and the fix, as a send would stop on it.
 */
export async function checkSes(options: { client?: SESClient; from?: string } = {}): Promise<SesCheck> {
  const client = options.client ?? new SESClient({ maxAttempts: 2 });
  const context = options.from ? { from: options.from } : {};
  try {
    const region = await client.config.region();
    const enabled = await client.send(new GetAccountSendingEnabledCommand({}));
    if (enabled.Enabled === false) {
      throw new SendingHaltedError(
        "SES refuses to send: sending is disabled for the whole AWS account. Read the notice AWS sent to the account's address, fix what it says, then `aws ses update-account-sending-enabled --enabled`",
      );
    }
    const q = await client.send(new GetSendQuotaCommand({}));
    const quota = {
      max24HourSend: q.Max24HourSend ?? 0,
      maxSendRate: q.MaxSendRate ?? 0,
      sentLast24Hours: q.SentLast24Hours ?? 0,
    };
    const check: SesCheck = {
      region,
      mode: quota.max24HourSend <= 200 && quota.maxSendRate <= 1 ? 'sandbox' : 'production',
      quota,
    };
    if (options.from) {
      const address = options.from.toLowerCase();
      const domain = address.slice(address.lastIndexOf('@') + 1);
      const found = await client.send(
        new GetIdentityVerificationAttributesCommand({ Identities: [address, domain] }),
      );
      const status = (name: string) => found.VerificationAttributes?.[name]?.VerificationStatus;
      const verified = [address, domain].find((name) => status(name) === 'Success');
      const named = verified ?? [address, domain].find((name) => status(name) !== undefined);
      check.identity = { name: named ?? address, status: (named && status(named)) ?? 'not an identity' };
      if (!verified) {
        throw new SendingHaltedError(
          `SES refuses to send: the sender ${options.from} is not a verified identity in SES region ${region} (${check.identity.name}: ${check.identity.status}). Verify the address or its domain (SES console, "Verified identities"), or send from one that is`,
        );
      }
    }
    return check;
  } catch (error) {
    if (error instanceof SendingHaltedError) throw error;
    const mapped = mapSesError(error, context);
    if (mapped instanceof SendingHaltedError) throw mapped;
    throw new SendingHaltedError(
      `SES could not be asked (${(error as Error).name}: ${(error as Error).message}): check AWS_REGION, the credentials and the network`,
      { cause: error },
    );
  }
}
