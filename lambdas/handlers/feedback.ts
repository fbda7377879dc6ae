import type { Context, SNSEvent } from 'aws-lambda';
import * as z from 'zod';
import { normalizeEmail } from '../core/contacts/model.ts';
import {
  applyProviderFeedback,
  type ProviderFeedback,
  type ProviderFeedbackKind,
} from '../core/contacts/provider-feedback.ts';
import { loadConfig } from './config.ts';
import { cached, dataStore, logger, signingKeys, startInvocation } from './runtime.ts';

/**
 * The feedback function: SES events (configuration-set event publishing, `eventType`; or
 * identity notifications, `notificationType`) delivered through SNS. Bounces, complaints,
 * deliveries and rejects go to the core, which applies suppressions and records each
 * report in its campaign (named by the `campaign` message tag the SES mailer sets).
 *
 * A record that cannot be read is logged (without addresses) and skipped: retrying would
 * not fix it. A store failure throws, so that Lambda retries the invocation; reports are
 * applied idempotently, by the provider's id, so a retry changes nothing twice.
 */

const timestamp = z.string().optional();

const sesEventSchema = z.object({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: z.object({
    messageId: z.string().min(1),
    timestamp,
    destination: z.array(z.string()).optional(),
    tags: z.record(z.string(), z.array(z.string())).optional(),
  }),
  bounce: z
    .object({
      bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']),
      bounceSubType: z.string().optional(),
      bouncedRecipients: z
        .array(z.object({ emailAddress: z.string(), status: z.string().optional() }))
        .min(1),
      timestamp,
      feedbackId: z.string().min(1).optional(),
    })
    .optional(),
  complaint: z
    .object({
      complainedRecipients: z.array(z.object({ emailAddress: z.string() })).min(1),
      complaintFeedbackType: z.string().optional(),
      complaintSubType: z.string().nullable().optional(),
      timestamp,
      feedbackId: z.string().min(1).optional(),
    })
    .optional(),
  delivery: z.object({ recipients: z.array(z.string()).min(1), timestamp }).optional(),
  reject: z.object({ reason: z.string().optional() }).optional(),
});

type SesEvent = z.infer<typeof sesEventSchema>;

const snsEventSchema = z.object({
  Records: z.array(z.object({ Sns: z.object({ MessageId: z.string(), Message: z.string() }) })),
});

/** A report for one recipient, before the address is checked. */
type Report = Omit<ProviderFeedback, 'email'> & { rawEmail: string };

/** Why a record was skipped or ignored: the type alone, never the message's text. */
class UnreadableRecord extends Error {
  override name = 'UnreadableRecord';
}

/**
 * The reports in an SES event, one per recipient; an empty list for event types that change
 * nothing here (Send, Open, Click, DeliveryDelay, a "not-spam" feedback report...).
 */
function reportsOf(event: SesEvent): Report[] {
  const type = event.eventType ?? event.notificationType;
  const campaign = event.mail.tags?.campaign?.[0];
  const at = (value: string | undefined) => {
    const parsed = Date.parse(value ?? event.mail.timestamp ?? '');
    return Number.isNaN(parsed) ? new Date() : new Date(parsed);
  };
  const base = { ...(campaign !== undefined && { campaign }) };
  switch (type) {
    case 'Bounce': {
      const b = event.bounce;
      if (!b) throw new UnreadableRecord('a Bounce event without its "bounce" object');
      // Undetermined bounces are counted like transient ones: three in a row suppress.
      const kind: ProviderFeedbackKind = b.bounceType === 'Permanent' ? 'hard-bounce' : 'soft-bounce';
      return b.bouncedRecipients.map((r) => ({
        ...base,
        kind,
        id: b.feedbackId ?? `${event.mail.messageId}:bounce`,
        rawEmail: r.emailAddress,
        at: at(b.timestamp),
        detail: {
          type: b.bounceType,
          ...(b.bounceSubType !== undefined && { subType: b.bounceSubType }),
          ...(r.status !== undefined && { status: r.status }),
        },
      }));
    }
    case 'Complaint': {
      const c = event.complaint;
      if (!c) throw new UnreadableRecord('a Complaint event without its "complaint" object');
      // A "not-spam" feedback report withdraws a complaint; it is none.
      if (c.complaintFeedbackType === 'not-spam') return [];
      return c.complainedRecipients.map((r) => ({
        ...base,
        kind: 'complaint',
        id: c.feedbackId ?? `${event.mail.messageId}:complaint`,
        rawEmail: r.emailAddress,
        at: at(c.timestamp),
        ...(c.complaintFeedbackType !== undefined && { detail: { type: c.complaintFeedbackType } }),
      }));
    }
    case 'Delivery': {
      const d = event.delivery;
      if (!d) throw new UnreadableRecord('a Delivery event without its "delivery" object');
      return d.recipients.map((rawEmail) => ({
        ...base,
        kind: 'delivery',
        id: event.mail.messageId,
        rawEmail,
        at: at(d.timestamp),
      }));
    }
    case 'Reject': {
      const reason = event.reject?.reason;
      return (event.mail.destination ?? []).map((rawEmail) => ({
        ...base,
        kind: 'reject',
        id: event.mail.messageId,
        rawEmail,
        at: at(undefined),
        ...(reason !== undefined && { detail: { reason } }),
      }));
    }
    default:
      return [];
  }
}

/** What the invocation did, for the logs and the tests. */
export interface FeedbackSummary {
  applied: number;
  /** Event types that change nothing here. */
  ignored: number;
  /** Records or recipients that could not be read; logged and skipped. */
  skipped: number;
}

const context = cached(async () => {
  const config = loadConfig(['bucket', 'secretArn']);
  return { store: dataStore(config.bucket), keys: await signingKeys(config.secretArn) };
});

/** The Lambda entry point for the SNS subscription. */
export async function handler(event: SNSEvent, lambdaContext?: Context): Promise<FeedbackSummary> {
  startInvocation(lambdaContext);
  const summary: FeedbackSummary = { applied: 0, ignored: 0, skipped: 0 };
  const parsed = snsEventSchema.safeParse(event);
  if (!parsed.success) {
    logger.error('not an SNS event: nothing done', {
      issues: parsed.error.issues.map((i) => i.path.join('.')),
    });
    summary.skipped++;
    return summary;
  }
  const { store, keys } = await context();
  for (const record of parsed.data.Records) {
    const snsMessageId = record.Sns.MessageId;
    let reports: Report[];
    try {
      const sesEvent = readSesEvent(record.Sns.Message);
      reports = sesEvent ? reportsOf(sesEvent) : [];
    } catch (error) {
      if (!(error instanceof UnreadableRecord)) throw error;
      logger.warn('SES event skipped: it cannot be read', { snsMessageId, reason: error.message });
      summary.skipped++;
      continue;
    }
    if (reports.length === 0) {
      summary.ignored++;
      continue;
    }
    for (const report of reports) {
      const { rawEmail, ...rest } = report;
      const email = normalizeEmail(rawEmail);
      if (!email) {
        logger.warn('SES event recipient skipped: not an email address', { snsMessageId, kind: report.kind });
        summary.skipped++;
        continue;
      }
      // A store failure propagates: the invocation fails and is retried.
      const applied = await applyProviderFeedback(store, keys, { ...rest, email });
      logger.info('provider feedback applied', {
        snsMessageId,
        kind: report.kind,
        providerId: report.id,
        ...applied,
        ...(report.campaign !== undefined && { campaignName: report.campaign }),
      });
      summary.applied++;
    }
  }
  return summary;
}

/** The event types that change something here; the others (Send, Open, Click...) are ignored. */
const handledTypes = new Set(['Bounce', 'Complaint', 'Delivery', 'Reject']);

/** The SES event in an SNS message, or undefined for a type that changes nothing here. */
function readSesEvent(message: string): SesEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    throw new UnreadableRecord('the SNS message is not JSON');
  }
  const type = z
    .object({ eventType: z.string() })
    .or(z.object({ notificationType: z.string() }))
    .safeParse(json);
  if (!type.success)
    throw new UnreadableRecord('the SNS message has neither "eventType" nor "notificationType"');
  if (!handledTypes.has('eventType' in type.data ? type.data.eventType : type.data.notificationType)) {
    return undefined;
  }
  const parsed = sesEventSchema.safeParse(json);
  if (!parsed.success) {
    // Paths and codes only: the issues' messages may quote values.
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.code}`).join(', ');
    throw new UnreadableRecord(`not an SES event (${where})`);
  }
  return parsed.data;
}
