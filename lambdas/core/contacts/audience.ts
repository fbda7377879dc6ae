import { type SpreadsheetFormat, spreadsheetLines } from '../csv.ts';
import type { ObjectStore } from '../store/object-store.ts';
import {
  type Contact,
  type ContactKeys,
  isSuppressed,
  type Suppression,
  shardNames,
  shardOf,
} from './model.ts';
import {
  contactShardReader,
  MergeNeededError,
  readSuppressionShard,
  suppressionsHadOlderIds,
  updateContactShard,
  updateSuppression,
} from './repository.ts';

/** Who a campaign is for: a list, optionally narrowed by tags. */
export interface AudienceFilter {
  list: string;
  tags?: string[];
  /** `any`: at least one of the tags (default); `all`: every one of them. */
  tagsMode?: 'any' | 'all';
}

/** Shards are read a few at a time: enough to hide S3's latency, few enough to bound memory. */
const parallelShards = 16;

async function* shardsInOrder<T>(read: (shard: string) => Promise<T>): AsyncGenerator<[string, T]> {
  for (let i = 0; i < shardNames.length; i += parallelShards) {
    const batch = shardNames.slice(i, i + parallelShards);
    const results = await Promise.all(batch.map(read));
    for (const [j, result] of results.entries()) yield [batch[j] as string, result];
  }
}

/** Every suppression, by contact id (10,000 of them are a few MB). */
export async function loadSuppressions(store: ObjectStore): Promise<Map<string, Suppression>> {
  const all = new Map<string, Suppression>();
  for await (const [, shard] of shardsInOrder((s) => readSuppressionShard(store, s))) {
    for (const [id, s] of Object.entries(shard.suppressions)) all.set(id, s);
  }
  return all;
}

export function matchesTags(contact: Contact, filter: AudienceFilter): boolean {
  const tags = filter.tags?.map((t) => t.toLowerCase()) ?? [];
  if (tags.length === 0) return true;
  return filter.tagsMode === 'all'
    ? tags.every((t) => contact.tags.includes(t))
    : tags.some((t) => contact.tags.includes(t));
}

/**
 * The recipients a campaign may mail: on the list, matching the tags, not suppressed. Each
 * address once (contacts are keyed by their address). Yields shard by shard, so memory
 * holds one batch of shards and the suppressions, not the whole audience.
 */
export async function* resolveAudience(store: ObjectStore, filter: AudienceFilter): AsyncGenerator<Contact> {
  const suppressions = await loadSuppressions(store);
  const contacts = await contactShardReader(store);
  // Contacts or suppressions under an older id: a person could be mailed twice, or despite
  // an unsubscribe or a bounce under another form of the address. Nothing is resolved until
  // they are merged (callers collect the whole audience before sending anything).
  if (contacts.legacy() && suppressionsHadOlderIds(suppressions.values())) throw new MergeNeededError();
  const read = async (s: string) => {
    const shard = await contacts.read(s);
    if (contacts.olderIds()) throw new MergeNeededError();
    return shard;
  };
  for await (const [, shard] of shardsInOrder(read)) {
    for (const contact of Object.values(shard.contacts)) {
      if (!contact.lists[filter.list]) continue;
      if (isSuppressed(suppressions.get(contact.id), filter.list)) continue;
      if (!matchesTags(contact, filter)) continue;
      yield contact;
    }
  }
}

/** Every contact, with its suppression, optionally on one list and with one tag. */
export async function* listContacts(
  store: ObjectStore,
  filter: { list?: string; tag?: string } = {},
): AsyncGenerator<{ contact: Contact; suppression?: Suppression }> {
  const suppressions = await loadSuppressions(store);
  const reader = await contactShardReader(store);
  for await (const [, shard] of shardsInOrder(reader.read)) {
    const contacts = Object.values(shard.contacts).sort((a, b) => a.email.localeCompare(b.email));
    for (const contact of contacts) {
      if (filter.list && !contact.lists[filter.list]) continue;
      if (filter.tag && !contact.tags.includes(filter.tag.toLowerCase())) continue;
      const suppression = suppressions.get(contact.id);
      yield { contact, ...(suppression && { suppression }) };
    }
  }
}

export const exportColumns = [
  'email',
  'first name',
  'last name',
  'organisation',
  'role',
  'language',
  'tags',
  'status',
];

/** The status of a contact on a list, for people: subscribed, or why not. */
export function statusOn(suppression: Suppression | undefined, list: string | undefined): string {
  if (!suppression) return 'subscribed';
  if (suppression.all) return suppression.all.reason;
  if (list && suppression.lists?.[list]) return suppression.lists[list].reason;
  return 'subscribed';
}

/**
 * A list as CSV (UTF-8, with a BOM unless asked not to), every cell neutralised for
 * spreadsheets; re-importable as it is.
 */
export async function* exportContacts(
  store: ObjectStore,
  filter: { list: string },
  format: SpreadsheetFormat = {},
): AsyncGenerator<string> {
  yield `${format.bom === false ? '' : '\uFEFF'}${spreadsheetLines([exportColumns], format)}`;
  for await (const { contact: c, suppression } of listContacts(store, { list: filter.list })) {
    const row = [
      c.email,
      c.firstName,
      c.lastName,
      c.organization,
      c.role,
      c.language,
      c.tags.join(', '),
      statusOn(suppression, filter.list),
    ];
    yield spreadsheetLines([row], format);
  }
}

/**
 * GDPR erasure: the contact and every personal detail go; only a suppression under the
 * contact's id (a keyed hash of the address) stays, so that an old spreadsheet cannot
 * bring the address back by mistake.
 */
export async function eraseContact(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  at: Date,
): Promise<{ id: string; hadContact: boolean }> {
  const id = keys.idOf(email);
  let hadContact = false;
  // The suppression first: from then on no import stores the address again.
  await updateSuppression(store, id, () => ({ id, all: { reason: 'erased', at: at.toISOString() } }));
  await updateContactShard(store, shardOf(id), (shard) => {
    hadContact = id in shard.contacts;
    // Written even when the contact is not there: an import that read the suppressions
    // before the erasure and commits after it finds its shard changed, reads them again,
    // and leaves the address out.
    const { [id]: _erased, ...contacts } = shard.contacts;
    return { contacts };
  });
  return { id, hadContact };
}
