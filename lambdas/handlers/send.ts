import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { EventBridgeCampaignScheduler } from '../adapters/scheduler.ts';
import { SesMailer } from '../adapters/ses-mailer.ts';
import { SesSendingQuota } from '../adapters/ses-quota.ts';
import { type BatchReport, sendPreparedBatch } from '../core/campaigns/batch.ts';
import { readCampaign } from '../core/campaigns/campaign.ts';
import type { RecipientBatch } from '../core/campaigns/dispatch.ts';
import { storedComposer } from '../core/campaigns/message.ts';
import { cachedQuota, type SendingQuota } from '../core/campaigns/quota.ts';
import { type Prepared, prepareCampaignWith, type SendDeps } from '../core/campaigns/send.ts';
import { listName } from '../core/contacts/model.ts';
import { slug } from '../core/publication/schema.ts';
import { loadConfig } from './config.ts';
import { dataLedger } from './ledger.ts';
import { cached, dataStore, logger, signingKeys, startInvocation } from './runtime.ts';

/**
 * The send function: an SQS consumer. Each record is one batch of recipients put on the
 * queue by `dispatch`; it is mailed with `sendBatch` through SES at PRESSROOM_WORKER_RATE.
 * Records are reported as `batchItemFailures` (SQS delivers them again later, and after the
 * queue's maxReceiveCount moves them to the dead-letter queue) when they are malformed, or
 * when their batch left recipients for a retry (throttled, the function's time running out, a
 * transient error). A batch that paused the campaign (the provider refuses everything, the
 * run's error budget is spent), and the batches that arrive after it, are acknowledged, not
 * redelivered: their recipients stay without an outcome (or `deferred`) in the ledger, the
 * campaign record says paused and why, and a resume dispatches again exactly those. A
 * retried batch sends only to those without an outcome. This bundle never loads MJML: the
 * message is prepared from the archived HTML, and composed in the skeleton dispatch stored,
 * with the To dispatch encoded (no MailComposer, no MimeNode).
 * Before each batch it reads the SES quota (at most once a minute): once the day's quota is
 * spent, or SES answers "Daily message quota exceeded", the batch stops and is acknowledged,
 * its recipients left pending for the campaign's next day or next quota window (a schedule
 * this function puts when dispatch planned none: core/campaigns/batch.ts, quota.ts), never
 * for the dead-letter queue.
 */

const recipientSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  email: z.string().min(3).max(320),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  // Encoded by dispatch: this function has no MimeNode to encode it (a batch without it, queued
  // by an older dispatch, is malformed here: nobody is claimed, it goes to the DLQ).
  to: z.string().min(1).max(2000),
  lists: z.array(listName).min(1).optional(),
  resendClaimedAt: z.string().optional(),
  // The contact's language, when the release has versions in others (send.ts: versionFor).
  language: z.string().min(1).max(100).optional(),
});

const batchSchema = z.strictObject({
  campaign: slug,
  run: z.string().min(1),
  index: z.number().int().nonnegative(),
  recipients: z.array(recipientSchema).min(1),
});

/** Time kept back from the invocation's end: sends in flight finish and outcomes are recorded. */
const deadlineMarginMs = 10_000;
/** How long a prepared campaign is reused by a warm container. */
const preparedTtlMs = 5 * 60_000;

const context = cached(async () => {
  const config = loadConfig([
    'bucket',
    'secretArn',
    'publicUrl',
    'workerRate',
    'sesConfigurationSet',
    'unsubscribeMailto',
    'senderIdentity',
    'ledgerTable',
    'campaignScheduleGroup',
  ]);
  const deps: SendDeps = {
    store: dataStore(config.bucket),
    ...dataLedger(config.ledgerTable),
    mailer: new SesMailer({
      ...(config.sesConfigurationSet !== undefined && { configurationSet: config.sesConfigurationSet }),
      // IAM lets the function send from the stack's identity only: a refusal names it.
      senderIdentity: config.senderIdentity,
    }),
    keys: await signingKeys(config.secretArn),
    publicUrl: config.publicUrl,
    ...(config.unsubscribeMailto !== undefined && { unsubscribeMailbox: config.unsubscribeMailto }),
  };
  // Read before each batch, at most once a minute per container: a spent daily quota leaves
  // the batch's recipients for the campaign's next slice (batch.ts), never the dead-letter queue.
  // Unreadable (or no answer within 2 s), it is not checked for a minute (a warning): SES
  // itself refuses past the quota ("Daily message quota exceeded"), which is taken as the
  // quota spent (batch.ts): nobody is lost.
  const ses = new SesSendingQuota({ timeoutMs: 2_000 });
  const quota: SendingQuota = cachedQuota({
    read: () =>
      ses.read().catch((error: unknown) => {
        logger.warn('the SES sending quota could not be read: not checked', { error: error as Error });
        return undefined;
      }),
  });
  // SES refusing a send with its daily quota used up, or the quota read spent, with no next
  // slice planned: the campaign's next quota window is a schedule of the campaigns' group
  // invoking dispatch, as dispatch puts a next slice (batch.ts).
  const group = config.campaignScheduleGroup;
  const continuation =
    group === undefined
      ? undefined
      : (() => {
          const more = loadConfig([
            'campaignSchedulerRoleArn',
            'campaignScheduleDeadLetterArn',
            'dispatchFunctionArn',
          ]);
          return new EventBridgeCampaignScheduler({
            groupName: group,
            roleArn: more.campaignSchedulerRoleArn,
            deadLetterArn: more.campaignScheduleDeadLetterArn,
            targetArn: more.dispatchFunctionArn,
          });
        })();
  return { deps, rate: config.workerRate, quota, continuation };
});

/**
 * Sent, failed and throttled per campaign, as CloudWatch metrics (Powertools Metrics: the
 * embedded metric format, one log line per invocation, no API call). The dashboard sums them
 * over every campaign; the `campaign` dimension lets one campaign be graphed on its own.
 */
const metrics = new Metrics({ namespace: 'pressroom', serviceName: 'pressroom' });

const preparedCache = new Map<string, { at: number; prepared: Promise<Prepared> }>();

/** The campaign's prepared message, kept a few minutes per container. */
async function preparedFor(deps: SendDeps, campaign: string): Promise<Prepared> {
  const hit = preparedCache.get(campaign);
  if (hit && Date.now() - hit.at < preparedTtlMs) return hit.prepared;
  const record = await readCampaign(deps.store, campaign);
  // Approval is checked once, when dispatch starts the run: its batches go on. The message's
  // skeleton was stored by dispatch, each To encoded there: no MailComposer in this function.
  const prepared = prepareCampaignWith(storedComposer(deps.store, campaign), record.definition, deps, {
    checkApproval: false,
  });
  preparedCache.set(campaign, { at: Date.now(), prepared });
  prepared.catch(() => preparedCache.delete(campaign));
  return prepared;
}

/** The Lambda entry point for the SQS event source (ReportBatchItemFailures on). */
export async function handler(event: SQSEvent, lambdaContext?: Context): Promise<SQSBatchResponse> {
  startInvocation(lambdaContext);
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  const records = Array.isArray(event?.Records) ? event.Records : [];
  const { deps, rate, quota, continuation } = await context();
  for (const record of records) {
    const batch = parseBatch(record.body);
    if (!batch) {
      logger.error('malformed queue message: reported as a failure', { messageId: record.messageId });
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    const remaining = lambdaContext?.getRemainingTimeInMillis();
    let report: BatchReport;
    try {
      const prepared = await preparedFor(deps, batch.campaign);
      report = await sendPreparedBatch(
        batch,
        deps,
        {
          rate,
          quota,
          prepared,
          ...(continuation && { continuation }),
          ...(remaining !== undefined && {
            deadline: Date.now() + remaining - Math.min(deadlineMarginMs, remaining / 5),
          }),
        },
        async () => prepared,
      );
    } catch (error) {
      logger.error('batch failed: it will be delivered again', {
        messageId: record.messageId,
        campaignName: batch.campaign,
        batch: batch.index,
        error: error as Error,
      });
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    countSends(report);
    const { deferred, uncertain, ...counts } = report;
    logger.info('batch sent', {
      messageId: record.messageId,
      ...counts,
      campaignName: report.campaign,
      deferred: deferred.length,
      uncertain: uncertain.length,
    });
    if (report.quotaSpent !== undefined)
      logger.warn('the SES daily quota is used up: the campaign waits for its next quota window', {
        campaignName: report.campaign,
        reason: report.quotaSpent,
      });
    // Left for a retry of the batch: reported, so SQS delivers it again. A batch that paused
    // the campaign, or stopped on SES's spent daily quota, is not: its recipients are
    // deferred, nobody failed, and the next dispatch (a resume, the next quota window) sends
    // them; redelivering it would only reach the DLQ.
    if (deferred.length > 0 && report.halted === undefined && report.quotaSpent === undefined)
      failures.push({ itemIdentifier: record.messageId });
  }
  metrics.publishStoredMetrics();
  return { batchItemFailures: failures };
}

/** The batch's counts: once for the whole service, once under the campaign's dimension. */
function countSends(report: BatchReport): void {
  const counts = { Sent: report.sent, Failed: report.failed, Throttled: report.throttled };
  for (const [name, value] of Object.entries(counts)) {
    metrics.addMetric(name, MetricUnit.Count, value);
    // A single metric is written at once, with its own dimensions (then forgotten).
    const own = metrics.singleMetric();
    own.addDimension('campaign', report.campaign);
    own.addMetric(name, MetricUnit.Count, value);
  }
}

function parseBatch(body: string): RecipientBatch | undefined {
  try {
    const parsed = batchSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
