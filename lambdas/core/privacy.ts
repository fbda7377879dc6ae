import { campaignKeys, campaignNames } from './campaigns/campaign.ts';
import type { LedgerEntry } from './campaigns/ledger.ts';
import { eraseContact } from './contacts/audience.ts';
import type { ContactKeys } from './contacts/model.ts';
import { feedbackKeys, type RecipientFeedback } from './contacts/provider-feedback.ts';
import { findContact } from './contacts/repository.ts';
import { forgetSubscriptionRequests, readPendingSubscriptions } from './contacts/subscription.ts';
import { getJson, listAll, type ObjectStore } from './store/object-store.ts';

/**
 * Access and erasure requests (GDPR) over everything pressroom holds about an address: the
 * contact, its suppression, its entries in campaign ledgers, the provider's reports on it
 * (bounces, complaints), a subscription waiting for confirmation, and its messages in the outbox.
 */

/** Everything held about one address. */
export async function describeAddress(store: ObjectStore, keys: ContactKeys, email: string) {
  const found = await findContact(store, keys, email);
  const deliveries: { campaign: string; entry: LedgerEntry }[] = [];
  const providerReports: { campaign: string; reports: RecipientFeedback['reports'] }[] = [];
  for (const campaign of await campaignNames(store)) {
    const entry = await getJson<LedgerEntry>(store, campaignKeys.ledger(campaign, found.id));
    if (entry) deliveries.push({ campaign, entry: entry.value });
    const feedback = await getJson<RecipientFeedback>(store, feedbackKeys.recipient(campaign, found.id));
    if (feedback) providerReports.push({ campaign, reports: feedback.value.reports });
  }
  const messages: string[] = [];
  for await (const item of listAll(store, 'outbox/'))
    if (item.key.includes(`.${found.id}@`)) messages.push(item.key);
  // A subscription waiting for its confirmation holds the address, a name, a language.
  const pendingSubscriptions = await readPendingSubscriptions(store, found.id);
  return {
    ...found,
    deliveries,
    providerReports,
    messages,
    ...(pendingSubscriptions ? { pendingSubscriptions } : {}),
  };
}

/**
 * Erases an address everywhere. The suppression that keeps it from coming back is written
 * first, so that an import racing with the erasure cannot bring the person back.
 */
export async function eraseAddress(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  at: Date,
): Promise<{ id: string; hadContact: boolean; ledgerEntries: number; messages: number }> {
  const { id, hadContact } = await eraseContact(store, keys, email, at);
  return { id, hadContact, ...(await eraseRecordsOf(store, id)) };
}

/**
 * Erases what campaigns, subscriptions and the outbox hold under a contact id: pending
 * subscription requests, ledger entries, the provider's reports, outbox messages.
 */
export async function eraseRecordsOf(
  store: ObjectStore,
  id: string,
): Promise<{ ledgerEntries: number; messages: number }> {
  // A subscription waiting for its confirmation holds the address too.
  await forgetSubscriptionRequests(store, id);
  let ledgerEntries = 0;
  for (const campaign of await campaignNames(store)) {
    const key = campaignKeys.ledger(campaign, id);
    if (await store.head(key)) {
      await store.delete(key);
      ledgerEntries++;
    }
    await store.delete(feedbackKeys.recipient(campaign, id));
  }
  const messages: string[] = [];
  for await (const item of listAll(store, 'outbox/'))
    if (item.key.includes(`.${id}@`)) messages.push(item.key);
  for (const key of messages) await store.delete(key);
  return { ledgerEntries, messages: messages.length };
}

/**
 * An address, bare or URL-encoded (`%40`, `%C3%A9`): a local part of RFC 5322 atext (letters
 * in any script) without `/`, `?` and `&` (so that paths such as `node_modules/@aws-sdk/...` and query strings are
 * left alone), then a domain of letters in any script, digits, `.`, `-` and `%XX`.
 */
const domainChar = String.raw`(?:[\p{L}\p{N}-]|%[0-9a-f]{2})`;
const addressPattern = new RegExp(
  String.raw`[\p{L}\p{N}_.!#$%'*+=^\x60{|}~-]+(?:@|%40)${domainChar}+(?:\.${domainChar}+)*`,
  'giu',
);

/**
 * The text with every email address replaced by `[address]`: for log lines and error
 * messages that may quote data (a bounce's diagnostic, a validation problem's value).
 */
export function redactEmailAddresses(text: string): string {
  return text.replace(addressPattern, '[address]');
}
