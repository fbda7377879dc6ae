import { randomBytes } from 'node:crypto';
import { mapConcurrent } from '../concurrency.ts';
import { PressroomError } from '../errors.ts';
import {
  asciiJson,
  CorruptObjectError,
  getJson,
  listAll,
  ObjectExistsError,
  type ObjectStore,
  serializeJson,
  updateJson,
  VersionConflictError,
} from '../store/object-store.ts';
import {
  type Contact,
  type ContactKeys,
  contactStoreKeys,
  hadOlderId,
  type Suppression,
  shardNames,
  shardOf,
} from './model.ts';

/**
 * Where contacts live. The 256 contact shards are objects written once and never changed
 * (`contacts/shards/<xx>-<tag>.json`); one index object (`contacts/index.json`) names the
 * current object of each shard. A change writes new shard objects beside the old ones, then
 * switches the index with compare-and-swap: that one write commits every shard at once, so
 * an import of any size is all or nothing, and one that fails at any point leaves the
 * contacts byte for byte as they were. Writers that lose the race (a subscription confirmed
 * while an import runs) redo only the shards that changed under them. The objects replaced
 * are removed after the switch; a reader that finds one gone reads the index again.
 *
 * Suppressions are not in the index: unsubscribes, bounces and complaints change one
 * suppression shard each with compare-and-swap, and never wait for an import.
 *
 * Stores written before the index hold `contacts/shards/<xx>.json`: they are read as they
 * are, and the first change writes the index, naming them until they are replaced.
 */

/** One shard of contacts: id → contact. */
export interface ContactShard {
  contacts: Record<string, Contact>;
}

/** One shard of suppressions: id → suppression. */
export interface SuppressionShard {
  suppressions: Record<string, Suppression>;
}

/** Which object holds each contact shard. */
export interface ContactIndex {
  /** Shard → key of the object that holds it; a shard never written is absent. */
  shards: Record<string, string>;
  /**
   * Set when the index was made over contacts stored by a version without canonical ids,
   * some of which have an older id (see `hadOlderId`): `contacts merge` clears it, and
   * sending waits for it.
   */
  mergeNeeded?: boolean;
}

/**
 * The index as read. `version` is undefined when there is none yet (an older or empty store);
 * then readers look for each shard where older versions kept it (`legacy`), while a writer
 * lists those objects into the index it is about to write.
 */
interface IndexSnapshot {
  index: ContactIndex;
  version: string | undefined;
  legacy: boolean;
}

const emptyContacts = (): ContactShard => ({ contacts: {} });

async function readIndex(store: ObjectStore): Promise<IndexSnapshot> {
  const found = await getJson<ContactIndex>(store, contactStoreKeys.index);
  if (!found) return { index: { shards: {} }, version: undefined, legacy: true };
  const { value } = found;
  if (typeof value !== 'object' || value === null || typeof value.shards !== 'object' || !value.shards) {
    throw new CorruptObjectError(store, contactStoreKeys.index, 'not a contact index: no "shards" object');
  }
  return { index: value, version: found.version, legacy: false };
}

/** The key that holds `shard` in this snapshot, or undefined when the shard is empty. */
function keyOf(snapshot: IndexSnapshot, shard: string): string | undefined {
  return snapshot.legacy ? contactStoreKeys.legacyContacts(shard) : snapshot.index.shards[shard];
}

/**
 * Reads a shard through a snapshot of the index, reading the index again when the object it
 * named was replaced (and removed) meanwhile. `snapshot.current` moves forward.
 */
async function readThrough(
  store: ObjectStore,
  snapshot: { current: IndexSnapshot },
  shard: string,
): Promise<{ shard: ContactShard; key: string | undefined }> {
  for (let attempt = 0; ; attempt++) {
    const key = keyOf(snapshot.current, shard);
    if (key === undefined) return { shard: emptyContacts(), key };
    const found = await getJson<ContactShard>(store, key);
    if (found) return { shard: checkedShard(store, found.value, key), key };
    const fresh = await readIndex(store);
    if (fresh.version === snapshot.current.version) {
      // No index: an older store without this shard. An index naming a missing object: damage.
      if (fresh.version === undefined) return { shard: emptyContacts(), key: undefined };
      if (attempt >= 3) {
        throw new CorruptObjectError(
          store,
          contactStoreKeys.index,
          `it names ${key} for contact shard ${shard}, and that object is missing`,
        );
      }
    }
    // Replaced meanwhile; a store that keeps changing this fast is not read forever.
    if (attempt >= maxAttempts) throw new VersionConflictError(contactStoreKeys.index);
    snapshot.current = fresh;
  }
}

function checkedShard(store: ObjectStore, value: unknown, key: string): ContactShard {
  const contacts = (value as ContactShard | null)?.contacts;
  if (typeof contacts !== 'object' || contacts === null) {
    throw new CorruptObjectError(store, key, 'not a contact shard: no "contacts" object');
  }
  return value as ContactShard;
}

export async function readContactShard(store: ObjectStore, shard: string): Promise<ContactShard> {
  return (await readThrough(store, { current: await readIndex(store) }, shard)).shard;
}

/**
 * A reader of every shard through one read of the index: what audiences, lists and exports
 * use (256 shards, one index). `olderIds` says whether contacts stored under an older id
 * were seen (`contacts merge` gives them their canonical one); `legacy` whether the store
 * has no index yet (all it holds was written by older versions).
 */
export async function contactShardReader(
  store: ObjectStore,
): Promise<{ read(shard: string): Promise<ContactShard>; olderIds(): boolean; legacy(): boolean }> {
  const snapshot = { current: await readIndex(store) };
  let olderIds = snapshot.current.index.mergeNeeded === true;
  return {
    async read(shard) {
      const { shard: content } = await readThrough(store, snapshot, shard);
      // Without an index every contact was written by an older version: their address tells.
      if (snapshot.current.legacy && !olderIds)
        olderIds = Object.values(content.contacts).some((c) => hadOlderId(c.email));
      if (snapshot.current.index.mergeNeeded === true) olderIds = true;
      return content;
    },
    olderIds: () => olderIds,
    legacy: () => snapshot.current.legacy,
  };
}

/**
 * Whether suppressions written by an older version are under an older id (the address a
 * bounce or an unsubscribe named, in Unicode or decomposed): a contact under the canonical id
 * would not be stopped by them.
 */
export function suppressionsHadOlderIds(suppressions: Iterable<Suppression>): boolean {
  for (const s of suppressions) if (s.email && !s.mergedInto && hadOlderId(s.email)) return true;
  return false;
}

async function storedSuppressionsHadOlderIds(store: ObjectStore): Promise<boolean> {
  for (const shard of shardNames) {
    if (suppressionsHadOlderIds(Object.values((await readSuppressionShard(store, shard)).suppressions)))
      return true;
  }
  return false;
}

/**
 * Whether the store holds contacts or suppressions under an older id, which `pressroom
 * contacts merge` would give their canonical id. One read when the store has an index;
 * otherwise every shard is read.
 */
export async function contactsNeedMerge(store: ObjectStore): Promise<boolean> {
  const reader = await contactShardReader(store);
  if (reader.olderIds()) return true;
  if (!reader.legacy()) return false;
  for (const shard of shardNames) {
    await reader.read(shard);
    if (reader.olderIds()) return true;
  }
  return storedSuppressionsHadOlderIds(store);
}

/**
 * Switching the index failed in a way that leaves its outcome unknown (the write may have
 * landed, and the index could not be read back): the change may or may not be in place.
 */
export class UnknownOutcomeError extends PressroomError {
  override name = 'UnknownOutcomeError';
  constructor(cause: unknown) {
    super(
      `the store did not answer whether the change of the contacts was saved (${(cause as Error).message}): \`pressroom contacts list\` shows what is there; running the same command again is safe`,
      { cause },
    );
  }
}

/** The contacts need `contacts merge` before they can be mailed. */
export class MergeNeededError extends PressroomError {
  override name = 'MergeNeededError';
  constructor() {
    super(
      'some contacts are still stored under the id an older version gave them (an internationalised domain written in Unicode, or decomposed accents), so one person could be mailed twice or despite an unsubscribe: run `pressroom contacts merge` once (with --backend aws for the stack), then try again. Nothing was sent.',
    );
  }
}

/** A change of one shard: hands back `current` itself when nothing changes. May run again. */
export type ShardChange = (current: ContactShard) => ContactShard | Promise<ContactShard>;

export interface ShardsUpdate {
  /** The shards as written (or as they were, when unchanged). */
  shards: Map<string, ContactShard>;
  /** Whether the index was switched. */
  written: boolean;
}

/** Shards computed (and their objects written) at a time. */
const parallelShards = 8;
const maxAttempts = 50;
/** Objects that no index names are removed once this old: a writer between its two steps is younger. */
const orphanAgeMs = 60 * 60_000;

/**
 * Changes contact shards all at once or not at all (see the top of this file). `change`
 * functions may run more than once (when another writer changed their shard meanwhile)
 * and must depend only on their input and on what they read then. `index` may change the
 * index's other fields (the merge clears `mergeNeeded`); `writeIndex` writes the index even
 * when nothing changes, if there is none yet. On any failure every object written
 * is removed again and the contacts are exactly as they were; the error is passed on.
 */
export async function updateContactShards(
  store: ObjectStore,
  changes: Map<string, ShardChange>,
  options: {
    index?: (index: ContactIndex) => ContactIndex;
    writeIndex?: boolean;
    /** The shards computed are not kept for the result (an import of millions of contacts). */
    forget?: boolean;
    /** Shards computed at a time (8 by default): fewer holds less in memory. */
    parallel?: number;
  } = {},
): Promise<ShardsUpdate> {
  /** Per shard: the object it was computed from, the object that holds the result, the result. */
  const staged = new Map<
    string,
    { base: string | undefined; key: string | undefined; shard: ContactShard | undefined }
  >();
  /** Objects written and not (yet) named by the index: removed on failure. */
  const written = new Set<string>();
  const result = (write: boolean): ShardsUpdate => ({
    shards: new Map([...staged].flatMap(([shard, s]) => (s.shard ? [[shard, s.shard] as const] : []))),
    written: write,
  });
  let latest: IndexSnapshot | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      const snapshot = await indexForWriting(store);
      latest = snapshot;
      const named = new Set(Object.values(snapshot.index.shards));
      let raced = false;
      const todo = [...changes].filter(([shard]) => {
        const before = staged.get(shard);
        return !before || before.base !== keyOf(snapshot, shard);
      });
      // A window of `parallel` shards sliding on as each ends, not batches waiting for their
      // slowest; on a failure or a race, the shards in flight end and no other starts.
      await mapConcurrent(todo, options.parallel ?? parallelShards, async ([shard, change]) => {
        if (raced) return;
        const base = keyOf(snapshot, shard);
        const found = base === undefined ? undefined : await getJson<ContactShard>(store, base);
        if (base !== undefined && !found) {
          raced = true; // replaced since the index was read
          return;
        }
        const current = found && base ? checkedShard(store, found.value, base) : emptyContacts();
        const next = await change(current);
        let key = base;
        if (next !== current) {
          key = contactStoreKeys.contactShard(shard, newTag());
          written.add(key);
          await store.putIfAbsent(key, contactShardBody(next), { contentType: 'application/json' });
        }
        // Computed again: the object written the first time is of no use, unless a switch
        // whose answer was lost put it in the index after all.
        const before = staged.get(shard);
        staged.set(shard, { base, key, shard: options.forget ? undefined : next });
        if (before?.key && before.key !== before.base && !named.has(before.key)) {
          written.delete(before.key);
          await store.delete(before.key).catch(() => {});
        }
      });
      if (!raced) {
        const next: ContactIndex = { ...snapshot.index, shards: { ...snapshot.index.shards } };
        let changed = false;
        for (const [shard, s] of staged) {
          if (s.key === s.base || s.key === undefined) continue;
          changed = true;
          next.shards[shard] = s.key;
        }
        const nextIndex = options.index ? options.index(next) : next;
        const same = !changed && JSON.stringify(nextIndex) === JSON.stringify(snapshot.index);
        if (same && !(options.writeIndex && snapshot.version === undefined)) return result(false);
        if (await switchIndex(store, snapshot, nextIndex)) {
          written.clear();
          // The objects replaced go; a reader that still follows the old index reads it again.
          const replaced = [...staged.values()].flatMap((s) =>
            s.base !== undefined && s.key !== s.base ? [s.base] : [],
          );
          await inBatches(replaced, (key) => store.delete(key).catch(() => {}));
          return result(true);
        }
      }
      if (attempt >= maxAttempts) throw new VersionConflictError(contactStoreKeys.index);
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
    }
  } catch (error) {
    // The index may name what was written: leave it all (an hour later, what it does not
    // name is removed as orphans).
    if (error instanceof UnknownOutcomeError) throw error;
    // What the index names stays, whatever happened.
    const now = await readIndex(store).catch(() => latest);
    const keep = new Set(Object.values(now?.index.shards ?? {}));
    await inBatches(
      [...written].filter((key) => !keep.has(key)),
      (key) => store.delete(key).catch(() => {}),
    );
    throw error;
  }
}

/** A contact id as made by contactKeys: nothing in it for JSON to escape. */
const hexId = /^[0-9a-f]+$/;

/**
 * A contact shard's bytes, exactly those of serializeJson, made contact by contact: escaping
 * one text of megabytes and encoding it costs several times more, and an import of a large
 * file writes 256 of them. Anything but a plain `{ contacts }` object goes through
 * serializeJson itself.
 */
export function contactShardBody(shard: ContactShard): Uint8Array | string {
  const { contacts } = shard;
  const plain = (value: unknown) =>
    typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
  const keys = Object.keys(shard);
  if (!plain(shard) || !plain(contacts) || keys.length !== 1 || keys[0] !== 'contacts')
    return serializeJson(shard);
  // Each part is ASCII once escaped: one byte per character.
  const parts: string[] = [];
  let size = '{"contacts":{}}\n'.length;
  for (const id of Object.keys(contacts)) {
    const text = JSON.stringify(contacts[id]);
    if (text === undefined) continue; // as JSON.stringify leaves it out
    const key = hexId.test(id) ? `"${id}"` : asciiJson(JSON.stringify(id));
    const value = asciiJson(text);
    parts.push(key, value);
    size += key.length + value.length + 2;
  }
  // Written as UTF-8, the same bytes for ASCII: Buffer#write with an encoding named is
  // several times slower per call than with the default one.
  const body = Buffer.allocUnsafe(size);
  let at = body.write('{"contacts":{', 0);
  for (let i = 0; i < parts.length; i += 2) {
    if (i > 0) body[at++] = 0x2c; // ,
    at += body.write(parts[i] as string, at);
    body[at++] = 0x3a; // :
    at += body.write(parts[i + 1] as string, at);
  }
  at += body.write('}}\n', at);
  return body.subarray(0, at);
}

/** `work` over `items`, 16 at a time. */
async function inBatches<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  await mapConcurrent(items, 16, (item) => work(item));
}

/**
 * Writes the new index over `snapshot`: true when it is in place, false when another writer
 * switched it first. A failure whose outcome is unknown (a lost response) is settled by
 * reading the index back.
 */
async function switchIndex(
  store: ObjectStore,
  snapshot: IndexSnapshot,
  next: ContactIndex,
): Promise<boolean> {
  const body = serializeJson(next);
  try {
    if (snapshot.version === undefined) {
      await store.putIfAbsent(contactStoreKeys.index, body, { contentType: 'application/json' });
    } else {
      await store.putIfVersion(contactStoreKeys.index, body, snapshot.version, {
        contentType: 'application/json',
      });
    }
    return true;
  } catch (error) {
    const conflict = error instanceof VersionConflictError || error instanceof ObjectExistsError;
    // A retried request may find its own first attempt already in place.
    let after: IndexSnapshot;
    try {
      after = await readIndex(store);
    } catch {
      throw new UnknownOutcomeError(error);
    }
    if (JSON.stringify(after.index) === JSON.stringify(next)) return true;
    if (conflict) return false;
    throw error;
  }
}

/** The index to change: the stored one, or one made over an older store's shard objects. */
async function indexForWriting(store: ObjectStore): Promise<IndexSnapshot> {
  const snapshot = await readIndex(store);
  if (snapshot.version !== undefined) return snapshot;
  const shards: Record<string, string> = {};
  let mergeNeeded = false;
  for await (const item of listAll(store, 'contacts/shards/')) {
    const shard = /^contacts\/shards\/([0-9a-f]{2})\.json$/.exec(item.key)?.[1];
    if (!shard) continue;
    shards[shard] = item.key;
    if (!mergeNeeded) {
      const found = await getJson<ContactShard>(store, item.key);
      const content = found ? checkedShard(store, found.value, item.key) : emptyContacts();
      mergeNeeded = Object.values(content.contacts).some((c) => hadOlderId(c.email));
    }
  }
  // Suppressions written before the index may be under an older id too (once, then the index
  // remembers).
  if (!mergeNeeded && Object.keys(shards).length > 0)
    mergeNeeded = await storedSuppressionsHadOlderIds(store);
  return { index: { shards, ...(mergeNeeded && { mergeNeeded }) }, version: undefined, legacy: false };
}

/** A new shard object's name: its time first (to read a listing), then randomness. */
export function newTag(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

/**
 * Removes contact shard objects that the index does not name and that are older than an
 * hour: left by a writer that was stopped between writing them and switching the index; and
 * staging objects of an import as old (one that was killed). Returns how many shard objects
 * went. Best effort: an object that cannot be removed stays. The hour is
 * measured on the real clock, against the store's modification times, whatever clock the
 * caller's domain runs on: it keeps another writer's fresh objects safe.
 */
export async function removeOrphanShards(store: ObjectStore): Promise<number> {
  const now = new Date();
  // Rows an import kept aside (import-staging.ts) and did not delete: it was killed.
  const staging: string[] = [];
  for await (const item of listAll(store, 'contacts/staging/')) {
    if (now.getTime() - item.lastModified.getTime() >= orphanAgeMs) staging.push(item.key);
  }
  await inBatches(staging, (key) => store.delete(key).catch(() => {}));
  const snapshot = await readIndex(store);
  if (snapshot.legacy) return 0;
  const named = new Set(Object.values(snapshot.index.shards));
  const orphans: string[] = [];
  for await (const item of listAll(store, 'contacts/shards/')) {
    if (named.has(item.key) || now.getTime() - item.lastModified.getTime() < orphanAgeMs) continue;
    orphans.push(item.key);
  }
  let removed = 0;
  for (const key of orphans) {
    // Named since the listing (a writer switched the index meanwhile)? It stays.
    const fresh = await readIndex(store);
    if (Object.values(fresh.index.shards).includes(key)) continue;
    try {
      await store.delete(key);
      removed++;
    } catch {
      // Not allowed or not now: the next run tries again.
    }
  }
  return removed;
}

/** Changes one contact shard (see updateContactShards): `change` may run again on a conflict. */
export async function updateContactShard(
  store: ObjectStore,
  shard: string,
  change: (current: ContactShard) => ContactShard,
): Promise<ContactShard> {
  const result = await updateContactShards(store, new Map([[shard, change]]));
  return result.shards.get(shard) ?? emptyContacts();
}

export async function readSuppressionShard(store: ObjectStore, shard: string): Promise<SuppressionShard> {
  const key = contactStoreKeys.suppressions(shard);
  const found = await getJson<SuppressionShard>(store, key);
  if (!found) return { suppressions: {} };
  const suppressions = found.value?.suppressions;
  if (typeof suppressions !== 'object' || suppressions === null) {
    throw new CorruptObjectError(store, key, 'not a suppression shard: no "suppressions" object');
  }
  return found.value;
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
