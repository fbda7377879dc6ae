import { campaignKeys } from '../campaigns/campaign.ts';
import { slugPattern } from '../publication/schema.ts';
import { getJson, listAll, type ObjectStore, updateJson } from '../store/object-store.ts';
import { applyComplaint, applyDelivery, applyHardBounce, applySoftBounce } from './feedback.ts';
import type { ContactKeys } from './model.ts';

/**
 * What the mail provider reports about a message to one recipient (SES through SNS on AWS),
 * once translated by the adapter: it changes the address's suppression (feedback.ts) and
 * is recorded in the campaign the message belonged to.
 *
 *   campaigns/<name>/feedback/<contact-id>.json    the provider's reports on that recipient
 *
 * The record holds the contact's id, never its address, so erasing a person (who keeps only
 * a suppression under their id) leaves nothing readable behind.
 */

export type ProviderFeedbackKind = 'hard-bounce' | 'soft-bounce' | 'complaint' | 'delivery' | 'reject';

export interface ProviderFeedback {
  kind: ProviderFeedbackKind;
  /** The provider's id of this report: a repeated notification carries the same one. */
  id: string;
  email: string;
  at: Date;
  /** The campaign the message belonged to, when the provider says (a message tag). */
  campaign?: string;
  /**
   * The provider's words: bounce type and sub-type, SMTP status (`5.1.1`), reject reason.
   * Never free text such as a bounce's diagnostic, which often quotes the address.
   */
  detail?: { type?: string; subType?: string; status?: string; reason?: string };
}

/** A campaign's record of the reports on one recipient. */
export interface RecipientFeedback {
  contact: string;
  /** The latest report of each kind, and how many there were. */
  reports: Partial<
    Record<ProviderFeedbackKind, { at: string; count: number; detail?: ProviderFeedback['detail'] }>
  >;
  /** Reports already applied, so that a repeated notification changes nothing. */
  events: string[];
}

export const feedbackKeys = {
  prefix: (campaign: string) => `campaigns/${campaign}/feedback/`,
  recipient: (campaign: string, contactId: string) => `campaigns/${campaign}/feedback/${contactId}.json`,
};

const keptEvents = 20;

export interface AppliedFeedback {
  contact: string;
  /** Whether the address is now suppressed from every list. */
  suppressed: boolean;
  /** `recorded` in the campaign, `unknown-campaign` (no such campaign), or `no-campaign` (not tagged). */
  campaign: 'recorded' | 'unknown-campaign' | 'no-campaign';
}

/**
 * Applies one report: hard bounces and complaints suppress the address, soft bounces are
 * counted (the third in a row suppresses), deliveries end a run of soft bounces, rejects
 * change nothing (SES refused the content, not the address). Then it is recorded in its
 * campaign. Idempotent: the same report applied twice changes nothing more.
 */
export async function applyProviderFeedback(
  store: ObjectStore,
  keys: ContactKeys,
  report: ProviderFeedback,
): Promise<AppliedFeedback> {
  const contact = keys.idOf(report.email);
  let suppressed = false;
  switch (report.kind) {
    case 'hard-bounce':
      suppressed =
        (await applyHardBounce(store, keys, report.email, report.at, report.id))?.all !== undefined;
      break;
    case 'complaint':
      suppressed = (await applyComplaint(store, keys, report.email, report.at, report.id))?.all !== undefined;
      break;
    case 'soft-bounce':
      suppressed =
        (await applySoftBounce(store, keys, report.email, report.at, report.id))?.all !== undefined;
      break;
    case 'delivery':
      await applyDelivery(store, keys, report.email);
      break;
    case 'reject':
      break;
  }
  if (report.campaign === undefined) return { contact, suppressed, campaign: 'no-campaign' };
  if (!slugPattern.test(report.campaign) || !(await store.head(campaignKeys.record(report.campaign)))) {
    return { contact, suppressed, campaign: 'unknown-campaign' };
  }
  await recordInCampaign(store, report.campaign, contact, report);
  return { contact, suppressed, campaign: 'recorded' };
}

function recordInCampaign(
  store: ObjectStore,
  campaign: string,
  contact: string,
  report: ProviderFeedback,
): Promise<RecipientFeedback> {
  const eventId = `${report.kind}:${report.id}`;
  return updateJson<RecipientFeedback>(
    store,
    feedbackKeys.recipient(campaign, contact),
    () => ({ contact, reports: {}, events: [] }),
    (current) => {
      if (current.events.includes(eventId)) return current;
      const previous = current.reports[report.kind];
      return {
        contact,
        reports: {
          ...current.reports,
          [report.kind]: {
            at: report.at.toISOString(),
            count: (previous?.count ?? 0) + 1,
            ...(report.detail && { detail: report.detail }),
          },
        },
        events: [...current.events, eventId].slice(-keptEvents),
      };
    },
  );
}

/** How many of a campaign's recipients got each kind of report. */
export async function campaignFeedbackCounts(
  store: ObjectStore,
  campaign: string,
): Promise<Record<ProviderFeedbackKind, number>> {
  const counts: Record<ProviderFeedbackKind, number> = {
    delivery: 0,
    'hard-bounce': 0,
    'soft-bounce': 0,
    complaint: 0,
    reject: 0,
  };
  for await (const item of listAll(store, feedbackKeys.prefix(campaign))) {
    const record = await getJson<RecipientFeedback>(store, item.key);
    for (const kind of Object.keys(record?.value.reports ?? {}) as ProviderFeedbackKind[]) counts[kind]++;
  }
  return counts;
}
