import { campaignKeys, campaignNames } from './campaigns/campaign.ts';
import { type Ledger, type LedgerEntry, ObjectStoreLedger } from './campaigns/ledger.ts';
import { type TrackingEvent, trackingKeys } from './campaigns/tracking.ts';
import { eraseContact } from './contacts/audience.ts';
import { contactHistory } from './contacts/history.ts';
import { type ContactKeys, contactStoreKeys, shardOf } from './contacts/model.ts';
import { feedbackKeys, type RecipientFeedback } from './contacts/provider-feedback.ts';
import { findContact, removeOrphanShards } from './contacts/repository.ts';
import {
  forgetSubscriptionRequests,
  readPendingSubscriptions,
  subscriptionKeys,
} from './contacts/subscription.ts';
import { PressroomError } from './errors.ts';
import { getJson, listAll, type ObjectStore } from './store/object-store.ts';

export { redactEmailAddresses } from './redact.ts';

/**
 * Access and erasure requests (GDPR) over everything pressroom holds about an address: the
 * contact, its suppression, its entries in campaign ledgers, the provider's reports on it
 * (bounces, complaints), a subscription waiting for confirmation, and its messages in the outbox.
 */

/** Campaigns whose ledger entry and reports on one person are read at a time. */
const parallelCampaigns = 16;

/**
 * Everything held about one address, with the history derived from it (history.ts). Two
 * reads per campaign (its ledger entry and the provider's reports on the person), 16
 * campaigns at a time, and one listing of the outbox.
 */
export async function describeAddress(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  ledger: Ledger = new ObjectStoreLedger(store),
) {
  const found = await findContact(store, keys, email);
  const deliveries: { campaign: string; entry: LedgerEntry }[] = [];
  const providerReports: { campaign: string; reports: RecipientFeedback['reports'] }[] = [];
  /** Opens and clicks of campaigns that tracked them. */
  const opensAndClicks: ({ campaign: string } & TrackingEvent)[] = [];
  const campaigns = await campaignNames(store);
  for (let i = 0; i < campaigns.length; i += parallelCampaigns) {
    const batch = campaigns.slice(i, i + parallelCampaigns);
    const read = await Promise.all(
      batch.map((campaign) =>
        Promise.all([
          ledger.entries(campaign, [found]).then((entries) => entries.get(found.id)),
          getJson<RecipientFeedback>(store, feedbackKeys.recipient(campaign, found.id)),
          trackingEventsOf(store, campaign, found.id),
        ]),
      ),
    );
    for (const [j, [entry, feedback, events]] of read.entries()) {
      const campaign = batch[j] as string;
      if (entry) deliveries.push({ campaign, entry: entry.entry });
      if (feedback) providerReports.push({ campaign, reports: feedback.value.reports });
      for (const event of events) opensAndClicks.push({ campaign, ...event });
    }
  }
  const messages: string[] = [];
  for await (const item of listAll(store, 'outbox/'))
    if (item.key.includes(`.${found.id}@`)) messages.push(item.key);
  // A subscription waiting for its confirmation holds the address, a name, a language.
  const pendingSubscriptions = await readPendingSubscriptions(store, found.id);
  return {
    ...found,
    history: contactHistory({
      deliveries,
      providerReports,
      ...(found.suppression && { suppression: found.suppression }),
    }),
    deliveries,
    providerReports,
    ...(opensAndClicks.length > 0 && { opensAndClicks }),
    messages,
    ...(pendingSubscriptions ? { pendingSubscriptions } : {}),
  };
}

/** One person's opens and clicks in one campaign (none unless it tracked them). */
async function trackingEventsOf(store: ObjectStore, campaign: string, id: string): Promise<TrackingEvent[]> {
  const events: TrackingEvent[] = [];
  for await (const item of listAll(store, trackingKeys.recipient(campaign, id))) {
    const event = await getJson<TrackingEvent>(store, item.key);
    if (event) events.push(event.value);
  }
  return events;
}

/** What an erasure removed: counts only, never an address. */
export interface Erasure {
  id: string;
  hadContact: boolean;
  ledgerEntries: number;
  messages: number;
  /** Old versions and delete markers of the objects that held the person (S3 with versioning). */
  oldVersions: number;
}

/**
 * Erases an address everywhere. The suppression that keeps it from coming back is written
 * first, so that an import racing with the erasure cannot bring the person back. Then the
 * history of every object that held the person goes too (purgeHistoryOf): on a versioned
 * bucket an overwritten shard would otherwise keep the address for `noncurrentVersionDays`.
 */
export async function eraseAddress(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  at: Date,
  ledger: Ledger = new ObjectStoreLedger(store),
): Promise<Erasure> {
  const { id, hadContact } = await eraseContact(store, keys, email, at);
  const { removed, ...records } = await eraseRecordsOf(store, id, ledger);
  let oldVersions: number;
  try {
    // Shard objects a writer stopped half-way left (an hour old, named by no index) may hold
    // the person as current objects: they go first, and their versions with the rest.
    await removeOrphanShards(store);
    oldVersions = await purgeHistoryOf(store, id, removed);
  } catch (error) {
    throw new HistoryNotPurgedError(error);
  }
  return { id, hadContact, ...records, oldVersions };
}

/**
 * The erasure itself is done, but the old versions of the objects that held the person could
 * not be removed (a policy without s3:ListBucketVersions or s3:DeleteObjectVersion, an outage).
 */
export class HistoryNotPurgedError extends PressroomError {
  override name = 'HistoryNotPurgedError';
  constructor(cause: unknown) {
    super(
      `the address is erased, but the old versions of the objects that held it could not be removed (${(cause as Error).message}). The stack's lifecycle expires them within two days; to remove them now, allow s3:ListBucketVersions and s3:DeleteObjectVersion (docs/aws.md) and run the same erase again.`,
      { cause },
    );
  }
}

/**
 * Removes the history of every object that held an id's data, after its erasure: every
 * object its contact shard was ever written to (each holds the whole shard, the person
 * included), its suppression shard, its subscription request and rate-limit window, its
 * ledger entries and provider reports, and `keys` (outbox messages removed). Current objects
 * stay: they no longer hold the person. The history of the others in those shards goes too,
 * which is the price of erasing one of them. Returns how many old copies went.
 */
export async function purgeHistoryOf(store: ObjectStore, id: string, keys: string[] = []): Promise<number> {
  const shard = shardOf(id);
  const prefixes = [
    // `<xx>.json` (before the index) and every `<xx>-<tag>.json`: shard names have two digits.
    contactStoreKeys.legacyContacts(shard).replace(/\.json$/, ''),
    contactStoreKeys.suppressions(shard),
    subscriptionKeys.pending(id),
    subscriptionKeys.addressThrottle(id),
    ...(await campaignNames(store)).flatMap((campaign) => [
      campaignKeys.ledger(campaign, id),
      feedbackKeys.recipient(campaign, id),
      trackingKeys.recipient(campaign, id),
    ]),
    ...keys,
  ];
  let removed = 0;
  for (const prefix of prefixes) removed += await store.purgeHistory(prefix);
  return removed;
}

/**
 * Erases what campaigns, subscriptions and the outbox hold under a contact id: pending
 * subscription requests, ledger entries, the provider's reports, outbox messages (`removed`
 * names the messages, whose keys only a listing finds).
 */
export async function eraseRecordsOf(
  store: ObjectStore,
  id: string,
  ledger: Ledger = new ObjectStoreLedger(store),
): Promise<{ ledgerEntries: number; messages: number; removed: string[] }> {
  // A subscription waiting for its confirmation holds the address too.
  await forgetSubscriptionRequests(store, id);
  let ledgerEntries = 0;
  for (const campaign of await campaignNames(store)) {
    if (await ledger.erase(campaign, id)) ledgerEntries++;
    await store.delete(feedbackKeys.recipient(campaign, id));
    // Opens and clicks (tracking.ts): one object each.
    for await (const item of listAll(store, trackingKeys.recipient(campaign, id)))
      await store.delete(item.key);
  }
  const messages: string[] = [];
  for await (const item of listAll(store, 'outbox/'))
    if (item.key.includes(`.${id}@`)) messages.push(item.key);
  for (const key of messages) await store.delete(key);
  return { ledgerEntries, messages: messages.length, removed: messages };
}
