import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { EventBridgeCampaignScheduler } from '../adapters/scheduler.ts';
import { SesSendingQuota } from '../adapters/ses-quota.ts';
import { SqsRecipientQueue } from '../adapters/sqs-queue.ts';
import {
  type DispatchReport,
  dispatchCampaign,
  dispatchScheduledCampaign,
} from '../core/campaigns/dispatch.ts';
import { holdSending, liftSendingHold } from '../core/campaigns/hold.ts';
import { slug } from '../core/publication/schema.ts';
import type { ObjectStore } from '../core/store/object-store.ts';
import { loadConfig } from './config.ts';
import { dataLedger } from './ledger.ts';
import { cached, dataStore, logger, ownFunctionArn, startInvocation } from './runtime.ts';

/**
 * The dispatch function: starts (or resumes) a campaign, invoked by its EventBridge
 * Scheduler one-time schedule or on demand (`pressroom send --backend aws`). It resolves the
 * audience and puts batches of recipients on the SQS queue for the send function
 * (`dispatchCampaign`); an embargo or a `sendAt` still ahead fails the invocation with the
 * reason, and nothing is enqueued. Such a failure is also kept in the campaign record
 * (`lastError`, by the core), where `pressroom campaign status --backend aws` shows it.
 * A schedule's event carries the time it was set for (`scheduledAt`): fired later than the
 * late-fire window (PRESSROOM_LATE_FIRE_WINDOW_MINUTES), it pauses the campaign with the
 * reason instead, and the invocation succeeds (a retry would not make it less late).
 * The stack's reputation rule also invokes it with an alarm's new state, to put the sending
 * hold on or off (core/campaigns/hold.ts).
 * With PRESSROOM_CAMPAIGN_SCHEDULE_GROUP (always, in the stack) it reads the SES quota and
 * enqueues only what fits now; the rest waits for the next day's slice, a one-time schedule of
 * that group that invokes this function again (core/campaigns/quota.ts).
 */

const dispatchEventSchema = z.strictObject({
  campaign: slug,
  resendUncertain: z.boolean().optional(),
  scheduledAt: z.iso.datetime({ offset: true }).optional(),
});

export type DispatchEvent = z.infer<typeof dispatchEventSchema>;

/**
 * A reputation alarm's change of state, as the stack's EventBridge rule passes it on: `ALARM`
 * puts the sending hold on (every campaign being sent pauses), `OK` takes it off (hold.ts).
 */
const holdEventSchema = z.strictObject({
  hold: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
  alarm: z.string().min(1).max(255),
  reason: z.string().max(1024).optional(),
});

/** The reputation alarms' descriptions start with what they measure; the hold says it. */
async function changeHold(event: z.infer<typeof holdEventSchema>, store: ObjectStore): Promise<HoldReport> {
  if (event.hold === 'INSUFFICIENT_DATA') return { hold: 'unchanged' };
  if (event.hold === 'OK') {
    const lifted = await liftSendingHold(store);
    if (lifted) logger.warn('sending hold lifted', { alarm: event.alarm, since: lifted.since });
    return { hold: lifted ? 'lifted' : 'unchanged' };
  }
  const reason = `alarm ${event.alarm}${event.reason ? `: ${event.reason}` : ''}`;
  const { hold, paused } = await holdSending(store, reason, event.alarm, new Date());
  logger.error('sending held: the provider reviews accounts at this rate', {
    alarm: event.alarm,
    since: hold.since,
    paused,
  });
  return { hold: 'on', paused };
}

export interface HoldReport {
  hold: 'on' | 'lifted' | 'unchanged';
  paused?: string[];
}

const context = cached(async () => {
  const config = loadConfig([
    'bucket',
    'queueUrl',
    'recipientsPerMessage',
    'publicUrl',
    'siteUrl',
    'lateFireWindowMinutes',
    'campaignScheduleGroup',
    'ledgerTable',
  ]);
  // Pacing by the SES quota: the quota, and where the next day's slice is scheduled.
  const group = config.campaignScheduleGroup;
  const pacing =
    group === undefined
      ? undefined
      : {
          quota: new SesSendingQuota(),
          group,
          ...loadConfig(['campaignSchedulerRoleArn', 'campaignScheduleDeadLetterArn']),
        };
  return {
    pacing,
    ...dataLedger(config.ledgerTable),
    lateFireWindowMinutes: config.lateFireWindowMinutes,
    store: dataStore(config.bucket),
    queue: new SqsRecipientQueue({ queueUrl: config.queueUrl }),
    recipientsPerMessage: config.recipientsPerMessage,
    urls: { publicUrl: config.publicUrl, siteUrl: config.siteUrl },
  };
});

/**
 * The Lambda entry point: `{ "campaign": "<name>", "resendUncertain"?: true, "scheduledAt"?: "<UTC ISO>" }`
 * → the counts.
 */
export async function handler(event: unknown, lambdaContext?: Context): Promise<DispatchReport | HoldReport> {
  startInvocation(lambdaContext);
  const holdEvent = holdEventSchema.safeParse(event);
  if (holdEvent.success) return changeHold(holdEvent.data, (await context()).store);
  const parsed = dispatchEventSchema.safeParse(event);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
    throw new Error(
      `the dispatch event must be { "campaign": "<campaign name>", "resendUncertain"?: true|false, "scheduledAt"?: "<ISO time>" } (${where.join('; ')})`,
    );
  }
  const { store, queue, recipientsPerMessage, urls, lateFireWindowMinutes, pacing, ledger } = await context();
  const { campaign, scheduledAt } = parsed.data;
  try {
    // SES delivers to people: the links in the messages must work for them.
    const deps = {
      store,
      queue,
      urls,
      ...(ledger && { ledger }),
      ...(pacing && {
        quota: pacing.quota,
        continuation: continuationScheduler(pacing, lambdaContext?.invokedFunctionArn),
      }),
    };
    const options = {
      recipientsPerMessage,
      ...(parsed.data.resendUncertain !== undefined && { resendUncertain: parsed.data.resendUncertain }),
    };
    const report =
      scheduledAt === undefined
        ? await dispatchCampaign(campaign, deps, options)
        : await dispatchScheduledCampaign(campaign, scheduledAt, deps, { ...options, lateFireWindowMinutes });
    if (report.pausedReason !== undefined) {
      logger.warn('campaign paused: its schedule fired too late', {
        campaignName: report.campaign,
        scheduledAt,
        state: report.state,
        reason: report.pausedReason,
      });
      return report;
    }
    // Counts only: the uncertain recipients are ids, never addresses.
    logger.info('campaign dispatched', {
      campaignName: report.campaign,
      run: report.run,
      audience: report.audience,
      enqueued: report.enqueued,
      batches: report.batches,
      alreadyDone: report.alreadyDone,
      uncertain: report.uncertain.length,
      ...(report.later !== undefined && { later: report.later }),
      ...(report.continuation && { continuesAt: report.continuation.at }),
    });
    return report;
  } catch (error) {
    logger.error('dispatch failed', { campaignName: campaign, error: error as Error });
    throw error;
  }
}

/** The next day's slices: schedules of the campaigns' group invoking this very function. */
function continuationScheduler(
  pacing: { group: string; campaignSchedulerRoleArn: string; campaignScheduleDeadLetterArn: string },
  self: string | undefined,
): EventBridgeCampaignScheduler {
  return new EventBridgeCampaignScheduler({
    groupName: pacing.group,
    roleArn: pacing.campaignSchedulerRoleArn,
    deadLetterArn: pacing.campaignScheduleDeadLetterArn,
    targetArn: ownFunctionArn(self, "a campaign's next slice"),
  });
}
