import { campaignNames, readCampaign } from '../campaigns/campaign.ts';
import { type Ledger, ObjectStoreLedger } from '../campaigns/ledger.ts';
import { BusyError } from '../errors.ts';
import { eraseRecordsOf, HistoryNotPurgedError, purgeHistoryOf } from '../privacy.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { contactTextFields } from './fields.ts';
import {
  type Contact,
  type ContactKeys,
  type ListMembership,
  type Suppression,
  shardNames,
  shardOf,
} from './model.ts';
import {
  type ContactShard,
  contactShardReader,
  readSuppressionShard,
  type ShardChange,
  updateContactShards,
  updateSuppression,
} from './repository.ts';

/**
 * `pressroom contacts merge`: gives every contact its canonical id (model.ts,
 * `canonicalAddress`). Versions before canonical addresses made ids from the address in lower
 * case as written, so `jose@exämple.fr`, `jose@xn--exmple-cua.fr` and the same with decomposed
 * accents were three contacts, and a suppression of one form did not stop the others. Each
 * such group becomes one contact under the canonical id: lists, tags, memberships and
 * consents together, the newest value of each field, and the suppressions of every form
 * (any one wins; an erasure under any form erases the contact). The older ids keep a record
 * pointing to the canonical one, so that unsubscribe links mailed before still work; ledger
 * entries of unfinished campaigns are copied to the canonical id, so a resumed campaign does
 * not mail the person again. Running it again finds nothing more to do.
 */

export interface MergedGroup {
  /** The canonical id the group now has. */
  id: string;
  /** The address kept for display: the spelling of the most recently updated contact. */
  email: string;
  /** The contacts' older ids, merged into `id`. */
  from: string[];
  /** How many suppressions of other forms were found and applied. */
  suppressions: number;
  /** An erasure under one of the forms: the contact is erased, not merged. */
  erased: boolean;
}

export interface MergeReport {
  /** Contacts read. */
  contacts: number;
  groups: MergedGroup[];
  dryRun: boolean;
}

interface Group {
  id: string;
  /** Contacts under an older id, by that id. */
  members: Map<string, Contact>;
  /** Ids under which a suppression of this mailbox may be. */
  suppressionIds: Set<string>;
  /** The address whose older forms were looked for. */
  email: string;
}

/** Finds the contacts under an older id and merges them (nothing is written with `dryRun`). */
export async function mergeContacts(
  store: ObjectStore,
  keys: ContactKeys,
  options: { dryRun?: boolean; now: Date; ledger?: Ledger | undefined },
): Promise<MergeReport> {
  const ledger = options.ledger ?? new ObjectStoreLedger(store);
  const dryRun = options.dryRun === true;
  // A run in progress works from the ids it read: merging under it could mail someone twice.
  for (const name of await campaignNames(store)) {
    const record = await readCampaign(store, name).catch(() => undefined);
    if (record?.state === 'sending' && !dryRun) {
      throw new BusyError(
        `campaign "${name}" is being sent: run the merge once it has finished (\`pressroom campaign status ${name}\`)`,
      );
    }
  }

  const groups = new Map<string, Group>();
  const groupOf = (id: string, email: string): Group => {
    const group = groups.get(id) ?? { id, members: new Map(), suppressionIds: new Set<string>(), email };
    groups.set(id, group);
    return group;
  };
  /** Canonical contacts whose address has other forms: suppressions may wait under those. */
  const withForms: Contact[] = [];
  let count = 0;
  const reader = await contactShardReader(store);
  for (const shard of shardNames) {
    for (const [storedId, contact] of Object.entries((await reader.read(shard)).contacts)) {
      count++;
      const id = keys.idOf(contact.email);
      if (storedId !== id) {
        const group = groupOf(id, contact.email);
        group.members.set(storedId, contact);
        group.suppressionIds.add(storedId);
        for (const older of keys.olderIdsOf(contact.email)) group.suppressionIds.add(older);
      } else if (/[^\u0020-\u007e]|xn--/i.test(contact.email)) {
        withForms.push(contact);
      }
    }
  }

  const suppressionShards = new Map<string, Promise<Record<string, Suppression>>>();
  const suppressionShard = (shard: string) => {
    const read =
      suppressionShards.get(shard) ?? readSuppressionShard(store, shard).then((s) => s.suppressions);
    suppressionShards.set(shard, read);
    return read;
  };
  const suppressionsOf = (id: string) => suppressionShard(shardOf(id)).then((all) => all[id]);
  // Suppressions an older version stored under the id of the address the event named (a
  // bounce reported in another form): they move to the canonical id, contact or not.
  for (const shard of shardNames) {
    for (const [storedId, s] of Object.entries(await suppressionShard(shard))) {
      if (!s.email || s.mergedInto) continue;
      const id = keys.idOf(s.email);
      if (storedId !== id) groupOf(id, s.email).suppressionIds.add(storedId);
    }
  }
  // A contact already under its canonical id may still have a suppression under an older form.
  for (const contact of withForms) {
    const id = keys.idOf(contact.email);
    if (groups.has(id)) continue;
    const olderIds = keys.olderIdsOf(contact.email);
    const found = await Promise.all(olderIds.map(suppressionsOf));
    const pending = olderIds.filter((_, i) => {
      const s = found[i];
      // Merged before, but still holding what it had (a merge stopped half-way): finish it.
      return s !== undefined && (s.mergedInto === undefined || hasContent(s));
    });
    if (pending.length > 0) {
      const group = groupOf(id, contact.email);
      for (const older of pending) group.suppressionIds.add(older);
    }
  }

  const report: MergeReport = { contacts: count, groups: [], dryRun };
  const merged = new Map<
    string,
    { suppression: Suppression | undefined; older: string[]; erased: boolean }
  >();
  for (const group of groups.values()) {
    const older = [...group.suppressionIds].filter((id) => id !== group.id);
    const found = await Promise.all(older.map(suppressionsOf));
    const records = found.filter((s): s is Suppression => s !== undefined && hasContent(s));
    const suppression = mergeSuppressions(group.id, await suppressionsOf(group.id), records);
    const erased = suppression?.all?.reason === 'erased';
    const members = [...group.members.values()];
    const newest = members.reduce<Contact | undefined>(
      (a, b) => (!a || b.updatedAt >= a.updatedAt ? b : a),
      undefined,
    );
    report.groups.push({
      id: group.id,
      email: newest?.email ?? group.email,
      from: [...group.members.keys()],
      suppressions: records.length,
      erased,
    });
    // The older ids that keep a pointer: those of contacts (links mailed to them carry it)
    // and those that held a suppression.
    const pointers = older.filter((id, i) => {
      const s = found[i];
      return group.members.has(id) || (s !== undefined && hasContent(s));
    });
    merged.set(group.id, { suppression, older: pointers, erased });
  }
  if (dryRun) return report;

  // 1. Suppressions first: from here on every form's suppression is under the canonical id.
  for (const [id, { suppression, older }] of merged) {
    if (suppression) await updateSuppression(store, id, () => suppression);
    for (const olderId of older)
      await updateSuppression(store, olderId, (current) => ({ ...current, id: olderId, mergedInto: id }));
  }

  // 2. Ledger entries of campaigns not finished: the person counts as done under the new id.
  // An erasure under one form erases what the other forms left too.
  const erasedGroups = [...groups.values()].filter((g) => merged.get(g.id)?.erased);
  await copyLedgerEntries(
    store,
    ledger,
    [...groups.values()].filter((g) => !merged.get(g.id)?.erased),
  );
  for (const group of erasedGroups)
    for (const olderId of group.members.keys()) await eraseRecordsOf(store, olderId, ledger);

  // 3. The contacts, all at once; the index stops asking for a merge.
  const changes = new Map<string, ShardChange>();
  const addChange = (shard: string, change: (contacts: Record<string, Contact>) => void) => {
    const before = changes.get(shard);
    changes.set(shard, async (current) => {
      const base = before ? await before(current) : current;
      const contacts = { ...base.contacts };
      change(contacts);
      return { contacts } satisfies ContactShard;
    });
  };
  for (const group of groups.values()) {
    const erased = merged.get(group.id)?.erased === true;
    // Only suppressions to move, and no erasure among them: the contacts stay as they are.
    if (group.members.size === 0 && !erased) continue;
    for (const olderId of group.members.keys()) addChange(shardOf(olderId), (c) => delete c[olderId]);
    addChange(shardOf(group.id), (contacts) => {
      if (erased) {
        delete contacts[group.id];
        return;
      }
      const all = [contacts[group.id], ...group.members.values()].filter(
        (c): c is Contact => c !== undefined,
      );
      if (all.length > 0) contacts[group.id] = combineContacts(group.id, all);
    });
  }
  // The index is written even when no contact moved: from then on it says no merge is needed.
  await updateContactShards(store, changes, {
    index: ({ mergeNeeded: _done, ...index }) => index,
    writeIndex: true,
  });

  // 4. The older ids keep only the pointer: what they held (an address) now lives under the new id.
  for (const [id, { older }] of merged) {
    for (const olderId of older)
      await updateSuppression(store, olderId, () => ({ id: olderId, mergedInto: id }));
  }

  // 5. An erased person stays in no old version of the shards just rewritten (S3 versioning).
  try {
    for (const group of erasedGroups)
      for (const erasedId of [group.id, ...group.members.keys()]) await purgeHistoryOf(store, erasedId);
  } catch (error) {
    throw new HistoryNotPurgedError(error);
  }
  return report;
}

/** Whether a suppression record holds more than a pointer to the canonical id. */
function hasContent(s: Suppression): boolean {
  return Boolean(s.all || s.lists || s.softBounces || s.events?.length || s.email);
}

/** The suppressions of every form as one: any suppression wins; the first reason and time stay. */
export function mergeSuppressions(
  id: string,
  own: Suppression | undefined,
  others: Suppression[],
): Suppression | undefined {
  const all = [own, ...others].filter((s): s is Suppression => s !== undefined);
  if (all.length === 0) return undefined;
  const earliest = <T extends { at: string }>(items: (T | undefined)[]) =>
    items
      .filter((x): x is T => x !== undefined)
      .sort((a, b) => a.at.localeCompare(b.at))
      .at(0);
  // An erasure outranks every other reason: nothing of the person may stay.
  const erasure = earliest(all.map((s) => (s.all?.reason === 'erased' ? s.all : undefined)));
  const everyList = erasure ?? earliest(all.map((s) => s.all));
  const lists: NonNullable<Suppression['lists']> = {};
  for (const s of all)
    for (const [list, entry] of Object.entries(s.lists ?? {}))
      if (!lists[list] || entry.at < lists[list].at) lists[list] = entry;
  const soft = all
    .map((s) => s.softBounces)
    .filter((x) => x !== undefined)
    .sort((a, b) => b.count - a.count)
    .at(0);
  const events = [...new Set(all.flatMap((s) => s.events ?? []))].slice(-50);
  const email = erasure ? undefined : (own?.email ?? all.find((s) => s.email)?.email);
  return {
    id,
    ...(email && { email }),
    ...(everyList && { all: everyList }),
    ...(!erasure && Object.keys(lists).length > 0 && { lists }),
    ...(!erasure && soft && { softBounces: soft }),
    ...(events.length > 0 && { events }),
  };
}

/**
 * Contacts of one mailbox as one: the newest value of each field (by `updatedAt`), every
 * tag, every list with its earliest membership and its latest consent; do-not-contact when
 * any of them has it.
 */
export function combineContacts(id: string, contacts: Contact[]): Contact {
  const sorted = [...contacts].sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
  const newest = sorted.at(-1) as Contact;
  const result: Contact = {
    id,
    email: newest.email,
    tags: [...new Set(sorted.flatMap((c) => c.tags))].sort(),
    lists: {},
    createdAt: sorted.map((c) => c.createdAt).sort()[0] ?? newest.createdAt,
    updatedAt: newest.updatedAt,
  };
  for (const c of sorted) {
    for (const field of contactTextFields) {
      const value = c[field];
      if (value) result[field] = value;
    }
    if (c.beats?.length) result.beats = c.beats;
    // Not to be mailed under any form of the address: the earliest decision stays.
    if (c.doNotContact) result.doNotContact ??= c.doNotContact;
    for (const [list, membership] of Object.entries(c.lists)) {
      const before = result.lists[list];
      result.lists[list] = before ? combineMemberships(before, membership) : membership;
    }
  }
  return result;
}

function combineMemberships(a: ListMembership, b: ListMembership): ListMembership {
  const first = a.addedAt <= b.addedAt ? a : b;
  const consent = [a.consent, b.consent]
    .filter((c) => c !== undefined)
    .sort((x, y) => x.confirmedAt.localeCompare(y.confirmedAt))
    .at(-1);
  // The topics last confirmed are the person's choice.
  const alerts = [a.alerts, b.alerts]
    .filter((x) => x !== undefined)
    .sort((x, y) => x.confirmedAt.localeCompare(y.confirmedAt))
    .at(-1);
  return {
    addedAt: first.addedAt,
    source: first.source,
    ...(consent && { consent }),
    ...(alerts && { alerts }),
  };
}

/** Entries under an older id are copied to the canonical id, unless it has its own. */
async function copyLedgerEntries(store: ObjectStore, ledger: Ledger, groups: Group[]): Promise<void> {
  if (groups.length === 0) return;
  for (const name of await campaignNames(store)) {
    const record = await readCampaign(store, name).catch(() => undefined);
    if (!record || record.state === 'sent' || record.state === 'cancelled') continue;
    for (const group of groups) {
      for (const olderId of group.members.keys()) {
        const entry = (await ledger.entries(name, [{ id: olderId }])).get(olderId);
        // A claim: the canonical id's own entry, when it has one, stays.
        if (entry) await ledger.claim(name, { ...entry.entry, contact: group.id });
      }
    }
  }
}
