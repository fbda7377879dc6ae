import type { LedgerEntry, LedgerStatus } from '../campaigns/ledger.ts';
import type { Suppression, SuppressionReason } from './model.ts';
import type { RecipientFeedback } from './provider-feedback.ts';

/**
 * A contact's history, derived from what the store already holds about them: the campaign
 * ledgers (`campaigns/<name>/ledger/<id>.json`: what was sent, refused or skipped), the
 * provider's reports (`campaigns/<name>/feedback/<id>.json`: bounces, complaints) and the
 * suppression (unsubscribes). Nothing is written for it on the send path: `contacts show`
 * reads those objects for one person (privacy.ts, describeAddress), two per campaign.
 */

export interface ContactHistory {
  /** When the person was last sent a message (the latest `sentAt` of the ledgers). */
  lastContacted?: string;
  /** Campaigns that sent them a message, oldest first. */
  received: { campaign: string; at: string }[];
  /** Campaigns that reached them but did not send (refused, skipped, left for later). */
  notSent: { campaign: string; status: LedgerStatus; at: string; reason?: string }[];
  /** Bounces the provider reported, and addresses it refused for good when sending. */
  bounces: {
    campaign: string;
    kind: 'hard' | 'soft' | 'refused';
    at: string;
    count: number;
    detail?: string;
  }[];
  complaints: { campaign: string; at: string; count: number }[];
  /** Unsubscribes, from one list or (`list: "*"`) from every list. */
  unsubscribes: { list: string; at: string }[];
  /** Suppressed from every list for another reason (bounces, complaint, by hand). */
  suppressed?: { reason: SuppressionReason; at: string };
}

/** What describeAddress found, as the history reads it. */
export interface HistorySources {
  deliveries: { campaign: string; entry: LedgerEntry }[];
  providerReports: { campaign: string; reports: RecipientFeedback['reports'] }[];
  suppression?: Suppression;
}

const byTime = <T extends { at: string }>(a: T, b: T) => a.at.localeCompare(b.at);

export function contactHistory({ deliveries, providerReports, suppression }: HistorySources): ContactHistory {
  const received: ContactHistory['received'] = [];
  const notSent: ContactHistory['notSent'] = [];
  const bounces: ContactHistory['bounces'] = [];
  const complaints: ContactHistory['complaints'] = [];
  for (const { campaign, entry } of deliveries) {
    if (entry.status === 'sent') {
      received.push({ campaign, at: entry.sentAt ?? entry.claimedAt });
      continue;
    }
    const reason = entry.error?.reason ?? entry.skippedReason;
    notSent.push({ campaign, status: entry.status, at: entry.claimedAt, ...(reason && { reason }) });
    if (entry.status === 'failed' && entry.error?.kind === 'permanent')
      bounces.push({ campaign, kind: 'refused', at: entry.claimedAt, count: 1, detail: entry.error.reason });
  }
  for (const { campaign, reports } of providerReports) {
    for (const kind of ['hard', 'soft'] as const) {
      const report = reports[`${kind}-bounce`];
      if (!report) continue;
      const detail = [report.detail?.type, report.detail?.subType, report.detail?.status]
        .filter(Boolean)
        .join(' ');
      bounces.push({ campaign, kind, at: report.at, count: report.count, ...(detail && { detail }) });
    }
    if (reports.complaint)
      complaints.push({ campaign, at: reports.complaint.at, count: reports.complaint.count });
  }
  const unsubscribes: ContactHistory['unsubscribes'] = [];
  for (const [list, entry] of Object.entries(suppression?.lists ?? {}))
    if (entry.reason === 'unsubscribed') unsubscribes.push({ list, at: entry.at });
  const all = suppression?.all;
  if (all?.reason === 'unsubscribed') unsubscribes.push({ list: '*', at: all.at });
  received.sort(byTime);
  return {
    ...(received.length > 0 && { lastContacted: received.at(-1)?.at }),
    received,
    notSent: notSent.sort(byTime),
    bounces: bounces.sort(byTime),
    complaints: complaints.sort(byTime),
    unsubscribes: unsubscribes.sort(byTime),
    ...(all && all.reason !== 'unsubscribed' && { suppressed: all }),
  };
}
