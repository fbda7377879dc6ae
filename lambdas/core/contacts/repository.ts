import { getJson, type ObjectStore, updateJson } from '../store/object-store.ts';
import { type Contact, type ContactKeys, contactStoreKeys, type Suppression, shardOf } from './model.ts';

/** One shard of contacts: id → contact. */
export interface ContactShard {
  contacts: Record<string, Contact>;
}

/** One shard of suppressions: id → suppression. */
export interface SuppressionShard {
  suppressions: Record<string, Suppression>;
}

export async function readContactShard(store: ObjectStore, shard: string): Promise<ContactShard> {
  return (await getJson<ContactShard>(store, contactStoreKeys.contacts(shard)))?.value ?? { contacts: {} };
}

export async function readSuppressionShard(store: ObjectStore, shard: string): Promise<SuppressionShard> {
  return (
    (await getJson<SuppressionShard>(store, contactStoreKeys.suppressions(shard)))?.value ?? {
      suppressions: {},
    }
  );
}

/** Changes a contact shard with compare-and-swap: `change` may run again on a conflict. */
export function updateContactShard(
  store: ObjectStore,
  shard: string,
  change: (current: ContactShard) => ContactShard,
): Promise<ContactShard> {
  return updateJson(store, contactStoreKeys.contacts(shard), () => ({ contacts: {} }), change);
}

export function updateSuppressionShard(
  store: ObjectStore,
  shard: string,
  change: (current: SuppressionShard) => SuppressionShard,
): Promise<SuppressionShard> {
  return updateJson(store, contactStoreKeys.suppressions(shard), () => ({ suppressions: {} }), change);
}

/** A contact by address, and its suppression, if any. */
export async function findContact(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
): Promise<{ id: string; contact?: Contact; suppression?: Suppression }> {
  const id = keys.idOf(email);
  const [contacts, suppressions] = await Promise.all([
    readContactShard(store, shardOf(id)),
    readSuppressionShard(store, shardOf(id)),
  ]);
  return {
    id,
    ...(contacts.contacts[id] && { contact: contacts.contacts[id] }),
    ...(suppressions.suppressions[id] && { suppression: suppressions.suppressions[id] }),
  };
}

/** Changes one suppression record (created when absent; removed when `change` returns undefined). */
export async function updateSuppression(
  store: ObjectStore,
  id: string,
  change: (current: Suppression | undefined) => Suppression | undefined,
): Promise<Suppression | undefined> {
  let result: Suppression | undefined;
  await updateSuppressionShard(store, shardOf(id), (shard) => {
    result = change(shard.suppressions[id]);
    const suppressions = { ...shard.suppressions };
    if (result) suppressions[id] = result;
    else delete suppressions[id];
    return { suppressions };
  });
  return result;
}
