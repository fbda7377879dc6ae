import type { ObjectStore } from '../store/object-store.ts';
import { readApproval } from './approval.ts';
import { type CampaignFailure, type CampaignRecord, readCampaign } from './campaign.ts';
import { readSendingHold, type SendingHold } from './hold.ts';
import { activeLease } from './lease.ts';
import { type Ledger, ObjectStoreLedger, uncertainShown } from './ledger.ts';

/** Where a campaign stands, from its record and its ledger. */
export interface CampaignStatus {
  name: string;
  /** All sending is held (a reputation alarm on AWS: hold.ts): nothing starts or resumes. */
  hold?: SendingHold;
  state: CampaignRecord['state'];
  /** What the campaign sends: a release's slug, or a newsletter issue's id. */
  publication?: string;
  newsletter?: string;
  audience: number;
  sent: number;
  failed: number;
  /** Failures by reason, e.g. { "rejected": 2, "throttled": 1 }. */
  failedByReason: Record<string, number>;
  /** Failures that a resume will try again. */
  retryable: number;
  skipped: number;
  /** Left for the next run by throttling or a stop; not failures. */
  deferred: number;
  /** Claimed but no outcome: in flight now, or in flight when a run stopped. */
  uncertain: number;
  /** The first `uncertainShown` (1,000) of them. */
  uncertainRecipients: { email: string; name?: string }[];
  remaining: number;
  sendAt?: { utc: string; zone: string; written: string };
  pausedReason?: string;
  /** Why the last unattended start failed (a schedule firing), until a run starts. */
  lastError?: CampaignFailure;
  /** The run sending it now: who, since when, until when unless renewed. */
  lease?: { holder: string; since: string; expiresAt: string };
  /** `approval: required`, and the approval recorded (approval.ts): who, when, which version. */
  approval?: { required: boolean; by?: string; at?: string; version?: string };
  runs: CampaignRecord['runs'];
  /** How the sending quota spreads the campaign over days, as its last dispatch planned it (quota.ts). */
  plan?: CampaignRecord['plan'];
}

export async function campaignStatus(
  store: ObjectStore,
  name: string,
  now = new Date(),
  ledger: Ledger = new ObjectStoreLedger(store),
): Promise<CampaignStatus> {
  const campaign = await readCampaign(store, name);
  const lease = activeLease(campaign, now);
  // The ledger's counts (one item on DynamoDB), and the uncertain recipients only when some are.
  const counts = await ledger.counts(name);
  const approved = await readApproval(store, name);
  const hold = await readSendingHold(store);
  const required = campaign.definition.approval === 'required';
  const status: CampaignStatus = {
    name,
    state: campaign.state,
    ...(campaign.definition.newsletter !== undefined
      ? { newsletter: campaign.definition.newsletter }
      : { publication: campaign.definition.publication }),
    audience: campaign.audienceSize ?? 0,
    sent: 0,
    failed: 0,
    failedByReason: {},
    retryable: 0,
    skipped: 0,
    deferred: 0,
    uncertain: 0,
    uncertainRecipients: [],
    remaining: 0,
    ...(campaign.definition.sendAt && { sendAt: campaign.definition.sendAt }),
    ...(campaign.pausedReason && { pausedReason: campaign.pausedReason }),
    ...(campaign.lastError && { lastError: campaign.lastError }),
    ...(lease && { lease: { holder: lease.holder, since: lease.since, expiresAt: lease.expiresAt } }),
    ...(hold && { hold }),
    ...((required || approved) && {
      approval: {
        required,
        ...(approved && { by: approved.by, at: approved.at, version: approved.hash }),
      },
    }),
    runs: campaign.runs,
    ...(campaign.plan && { plan: campaign.plan }),
  };
  status.sent = counts.sent;
  status.skipped = counts.skipped;
  status.deferred = counts.deferred;
  status.uncertain = counts.claimed;
  status.failed = counts.failed;
  status.failedByReason = Object.fromEntries(Object.entries(counts.failedByReason).filter(([, n]) => n > 0));
  status.retryable = counts.retryable;
  if (counts.claimed > 0)
    for await (const { entry } of ledger.unfinished(name, 'claimed')) {
      status.uncertainRecipients.push({ email: entry.email, ...(entry.name && { name: entry.name }) });
      if (status.uncertainRecipients.length >= uncertainShown) break;
    }
  status.remaining =
    Math.max(0, status.audience - status.sent - status.skipped - status.failed - status.uncertain) +
    status.retryable;
  return status;
}
