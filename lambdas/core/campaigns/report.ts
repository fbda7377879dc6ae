import { loadSuppressions } from '../contacts/audience.ts';
import type { Suppression } from '../contacts/model.ts';
import { feedbackKeys, type RecipientFeedback } from '../contacts/provider-feedback.ts';
import { getJson, listAll, type ObjectStore } from '../store/object-store.ts';
import { audienceLists, type CampaignRecord, readCampaign } from './campaign.ts';
import { type Ledger, type LedgerEntry, ObjectStoreLedger, readAll } from './ledger.ts';
import { type CampaignTracking, type RecipientEngagement, readTrackingEvents } from './tracking.ts';

/**
 * The delivery report of a campaign: one row per recipient, from what the store holds about
 * them: the ledger (sent, failed, skipped, and which mailer took the message), the provider's
 * reports (delivered, bounced, complained: SES events through the feedback function), the
 * suppressions (unsubscribed since the message), and the opens and clicks the campaign
 * asked for (tracking.ts).
 *
 * "Delivered" means what the mailer can know:
 *   ses     SES reported a Delivery event: the recipient's server accepted the message;
 *   smtp    the relay answered 250 to the message (it took it; what it did next, it does not say);
 *   outbox  the message was written to the outbox folder (nothing left the machine).
 */

/** Who says a message was delivered (see above). */
export type DeliveredBy = 'provider' | 'relay' | 'outbox';

export interface ReportRow {
  contact: string;
  email: string;
  name?: string;
  /** The ledger's status: sent, failed, skipped, deferred, or claimed (in flight, or cut short). */
  status: LedgerEntry['status'];
  /** Why it failed or was skipped. */
  reason?: string;
  sentAt?: string;
  delivered?: { at: string; by: DeliveredBy; reply?: string };
  bounce?: { at: string; type: 'permanent' | 'transient'; subType?: string; status?: string; count: number };
  complainedAt?: string;
  /** SES took the message, then refused to send it (a virus in it): nobody received it. */
  rejected?: { at: string; reason?: string };
  /** Unsubscribed (from a list of the campaign, or from everything) since the message was sent. */
  unsubscribedAt?: string;
  /** Only when the campaign tracks opens. */
  opened?: { first: string; count: number };
  /** Only when the campaign tracks clicks. */
  clicked?: { first: string; count: number; links: string[] };
}

export interface ReportCounts {
  recipients: number;
  sent: number;
  delivered: number;
  bounced: number;
  hardBounced: number;
  complained: number;
  unsubscribed: number;
  rejected: number;
  failed: number;
  skipped: number;
  /** Deferred, or claimed without an outcome: not sent (yet). */
  pending: number;
  opened?: number;
  clicked?: number;
}

export interface CampaignReport {
  name: string;
  state: CampaignRecord['state'];
  publication?: string;
  newsletter?: string;
  tracking: CampaignTracking;
  /** What "delivered" means for the messages sent: one entry per kind of mailer that sent them. */
  deliveredBy: DeliveredBy[];
  counts: ReportCounts;
  rows: ReportRow[];
}

/**
 * Who can say a message was delivered, from the mailer that took it (older ledgers do not
 * name it, but the outbox's keys tell it; any other mailer is a provider that reports).
 */
function deliveredByOf(entry: LedgerEntry): DeliveredBy {
  const mailer = entry.mailer ?? (entry.providerMessageId?.startsWith('outbox/') ? 'outbox' : undefined);
  return mailer === 'smtp' ? 'relay' : mailer === 'outbox' ? 'outbox' : 'provider';
}

/** One recipient's row. Exported for its tests. */
export function reportRow(
  entry: LedgerEntry,
  more: {
    feedback?: RecipientFeedback['reports'];
    suppression?: Suppression;
    engagement?: RecipientEngagement;
    lists: string[];
    tracking: CampaignTracking;
  },
): ReportRow {
  const reason = entry.status === 'failed' ? entry.error?.reason : entry.skippedReason;
  const row: ReportRow = {
    contact: entry.contact,
    email: entry.email,
    ...(entry.name && { name: entry.name }),
    status: entry.status,
    ...(reason && { reason }),
    ...(entry.sentAt && { sentAt: entry.sentAt }),
  };
  const f = more.feedback ?? {};
  const sent = entry.status === 'sent' && entry.sentAt !== undefined;
  const by = deliveredByOf(entry);
  if (f.delivery) row.delivered = { at: f.delivery.at, by: 'provider' };
  else if (sent && by !== 'provider')
    row.delivered = {
      at: entry.sentAt as string,
      by,
      ...(by === 'relay' && entry.reply && { reply: entry.reply }),
    };
  // The latest bounce: a hard one outranks soft ones before it.
  const hard = f['hard-bounce'];
  const soft = f['soft-bounce'];
  const bounce = hard ?? soft;
  if (bounce) {
    row.bounce = {
      at: bounce.at,
      type: hard ? 'permanent' : 'transient',
      ...(bounce.detail?.subType && { subType: bounce.detail.subType }),
      ...(bounce.detail?.status && { status: bounce.detail.status }),
      count: (hard?.count ?? 0) + (soft?.count ?? 0),
    };
  }
  if (f.complaint) row.complainedAt = f.complaint.at;
  if (f.reject)
    row.rejected = { at: f.reject.at, ...(f.reject.detail?.reason && { reason: f.reject.detail.reason }) };
  const since = entry.sentAt ?? entry.claimedAt;
  const unsubscribes = [more.suppression?.all, ...more.lists.map((l) => more.suppression?.lists?.[l])].filter(
    (u): u is { reason: 'unsubscribed'; at: string } => u?.reason === 'unsubscribed' && u.at >= since,
  );
  const first = unsubscribes.map((u) => u.at).sort()[0];
  if (first && entry.status === 'sent') row.unsubscribedAt = first;
  if (more.tracking.opens && more.engagement?.opens) row.opened = more.engagement.opens;
  if (more.tracking.clicks && more.engagement?.clicks) row.clicked = more.engagement.clicks;
  return row;
}

/** Counts over the rows. */
export function reportCounts(rows: ReportRow[], tracking: CampaignTracking): ReportCounts {
  const count = (test: (row: ReportRow) => boolean) => rows.filter(test).length;
  return {
    recipients: rows.length,
    sent: count((r) => r.status === 'sent'),
    delivered: count((r) => r.delivered !== undefined),
    bounced: count((r) => r.bounce !== undefined),
    hardBounced: count((r) => r.bounce?.type === 'permanent'),
    complained: count((r) => r.complainedAt !== undefined),
    unsubscribed: count((r) => r.unsubscribedAt !== undefined),
    rejected: count((r) => r.rejected !== undefined),
    failed: count((r) => r.status === 'failed'),
    skipped: count((r) => r.status === 'skipped'),
    pending: count((r) => r.status === 'deferred' || r.status === 'claimed'),
    ...(tracking.opens && { opened: count((r) => r.opened !== undefined) }),
    ...(tracking.clicks && { clicked: count((r) => r.clicked !== undefined) }),
  };
}

/** The provider's reports on each recipient of a campaign, by contact id. */
async function readCampaignFeedback(
  store: ObjectStore,
  campaign: string,
): Promise<Map<string, RecipientFeedback['reports']>> {
  const keys: string[] = [];
  for await (const item of listAll(store, feedbackKeys.prefix(campaign))) keys.push(item.key);
  const out = new Map<string, RecipientFeedback['reports']>();
  for (let i = 0; i < keys.length; i += 32) {
    const batch = await Promise.all(keys.slice(i, i + 32).map((k) => getJson<RecipientFeedback>(store, k)));
    for (const found of batch) if (found) out.set(found.value.contact, found.value.reports);
  }
  return out;
}

/** The report of campaign `name`, rows by address. */
export async function campaignReport(
  store: ObjectStore,
  name: string,
  from: Ledger = new ObjectStoreLedger(store),
): Promise<CampaignReport> {
  const campaign = await readCampaign(store, name);
  const d = campaign.definition;
  const tracking: CampaignTracking = {
    opens: d.tracking?.opens ?? false,
    clicks: d.tracking?.clicks ?? false,
  };
  const [ledger, feedback, suppressions, engagement] = await Promise.all([
    readAll(from, name),
    readCampaignFeedback(store, name),
    loadSuppressions(store),
    tracking.opens || tracking.clicks
      ? readTrackingEvents(store, name)
      : new Map<string, RecipientEngagement>(),
  ]);
  const lists = audienceLists(d.audience);
  const rows = [...ledger.values()]
    .map(({ entry }) => {
      const f = feedback.get(entry.contact);
      const s = suppressions.get(entry.contact);
      const e = engagement.get(entry.contact);
      return reportRow(entry, {
        ...(f && { feedback: f }),
        ...(s && { suppression: s }),
        ...(e && { engagement: e }),
        lists,
        tracking,
      });
    })
    .sort((a, b) => a.email.localeCompare(b.email));
  // What delivered means for the messages sent, said even before any is reported delivered.
  const deliveredBy = [
    ...new Set(
      [...ledger.values()].flatMap(({ entry }) => (entry.status === 'sent' ? [deliveredByOf(entry)] : [])),
    ),
  ].sort();
  return {
    name,
    state: campaign.state,
    ...(d.newsletter !== undefined ? { newsletter: d.newsletter } : { publication: d.publication }),
    tracking,
    deliveredBy,
    counts: reportCounts(rows, tracking),
    rows,
  };
}

/** The report's columns, for CSV: the tracking ones only when the campaign tracks them. */
export function reportTable(report: CampaignReport): { columns: string[]; rows: (string | undefined)[][] } {
  const columns = [
    'email',
    'name',
    'status',
    'reason',
    'sent_at',
    'delivered_at',
    'delivered_by',
    'bounce_type',
    'bounce_subtype',
    'bounce_status',
    'bounced_at',
    'complained_at',
    'unsubscribed_at',
    'rejected_at',
    ...(report.tracking.opens ? ['opened_at', 'opens'] : []),
    ...(report.tracking.clicks ? ['clicked_at', 'clicks', 'links_clicked'] : []),
  ];
  const rows = report.rows.map((r) => [
    r.email,
    r.name,
    r.status,
    r.reason,
    r.sentAt,
    r.delivered?.at,
    r.delivered?.by,
    r.bounce?.type,
    r.bounce?.subType,
    r.bounce?.status,
    r.bounce?.at,
    r.complainedAt,
    r.unsubscribedAt,
    r.rejected?.at,
    ...(report.tracking.opens ? [r.opened?.first, r.opened ? String(r.opened.count) : undefined] : []),
    ...(report.tracking.clicks
      ? [r.clicked?.first, r.clicked ? String(r.clicked.count) : undefined, r.clicked?.links.join(' ')]
      : []),
  ]);
  return { columns, rows };
}
