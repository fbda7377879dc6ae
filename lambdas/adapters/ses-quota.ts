import { GetSendQuotaCommand, SESClient } from '@aws-sdk/client-ses';
import type { SendingQuota, SendQuota } from '../core/campaigns/quota.ts';

/**
 * The account's SES sending quota (`GetSendQuota`, SES v1, account-level: IAM gives it on
 * resource `*`). An account without a daily limit (SES answers `Max24HourSend` -1) or an
 * answer without one has no quota to pace by: undefined.
 */
export class SesSendingQuota implements SendingQuota {
  private readonly client: SESClient;

  private readonly timeoutMs: number | undefined;

  /** `timeoutMs`: give up a call that has not answered by then. */
  constructor(options: { client?: SESClient; timeoutMs?: number } = {}) {
    this.client = options.client ?? new SESClient({ maxAttempts: 3 });
    this.timeoutMs = options.timeoutMs;
  }

  async read(): Promise<SendQuota | undefined> {
    const q =
      (await this.client.send(
        new GetSendQuotaCommand({}),
        this.timeoutMs === undefined ? {} : { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      )) ?? {};
    if (typeof q.Max24HourSend !== 'number' || q.Max24HourSend < 0) return undefined;
    return {
      max24Hour: q.Max24HourSend,
      maxSendRate: q.MaxSendRate && q.MaxSendRate > 0 ? q.MaxSendRate : 0,
      sentLast24Hours: q.SentLast24Hours ?? 0,
    };
  }
}
