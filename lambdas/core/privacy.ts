import { campaignKeys, campaignNames } from './campaigns/campaign.ts';
import type { LedgerEntry } from './campaigns/ledger.ts';
import { eraseContact } from './contacts/audience.ts';
import type { ContactKeys } from './contacts/model.ts';
import { findContact } from './contacts/repository.ts';
import { getJson, listAll, type ObjectStore } from './store/object-store.ts';

/**
 * Access and erasure requests (GDPR) over everything pressroom holds about an address: the
 * contact, its suppression, its entries in campaign ledgers and its messages in the outbox.
 */

/** Everything held about one address. */
export async function describeAddress(store: ObjectStore, keys: ContactKeys, email: string) {
  const found = await findContact(store, keys, email);
  const deliveries: { campaign: string; entry: LedgerEntry }[] = [];
  for (const campaign of await campaignNames(store)) {
    const entry = await getJson<LedgerEntry>(store, campaignKeys.ledger(campaign, found.id));
    if (entry) deliveries.push({ campaign, entry: entry.value });
  }
  const messages: string[] = [];
  for await (const item of listAll(store, 'outbox/'))
    if (item.key.includes(`.${found.id}@`)) messages.push(item.key);
  return { ...found, deliveries, messages };
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
  let ledgerEntries = 0;
  for (const campaign of await campaignNames(store)) {
    const key = campaignKeys.ledger(campaign, id);
    if (await store.head(key)) {
      await store.delete(key);
      ledgerEntries++;
    }
  }
  const messages: string[] = [];
  for await (const item of listAll(store, 'outbox/'))
    if (item.key.includes(`.${id}@`)) messages.push(item.key);
  for (const key of messages) await store.delete(key);
  return { id, hadContact, ledgerEntries, messages: messages.length };
}
