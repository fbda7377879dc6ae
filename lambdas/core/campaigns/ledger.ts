import {
  getJson,
  listAll,
  ObjectExistsError,
  type ObjectStore,
  VersionConflictError,
} from '../store/object-store.ts';
import { campaignKeys, campaignRepairs } from './campaign.ts';

/**
 * The delivery ledger: one object per (campaign, recipient). A recipient is claimed with
 * create-if-absent before anything is sent, so two runs (a retry, a resume, a second
 * process) can never both send to the same person; the outcome is then written over the
 * claim with compare-and-swap.
 */
/** `deferred`: the provider kept throttling, or the run stopped first; a resume sends it. Not a failure. */
export type LedgerStatus = 'claimed' | 'sent' | 'failed' | 'skipped' | 'deferred';

export interface LedgerEntry {
  contact: string;
  email: string;
  name?: string;
  status: LedgerStatus;
  messageId: string;
  attempts: number;
  claimedAt: string;
  sentAt?: string;
  providerMessageId?: string;
  /** The mailer that took it (`outbox`, `smtp`, `ses`): what "delivered" can mean for it (report.ts). */
  mailer?: string;
  /** The server's reply when it took it (SMTP), addresses masked. */
  reply?: string;
  /** permanent: the provider refused the address; transient: a resume tries again. */
  error?: { kind: 'permanent' | 'transient'; reason: string; message: string };
  skippedReason?: string;
}

export interface LedgerRecord {
  entry: LedgerEntry;
  version: string;
}

const json = (entry: LedgerEntry) => `${JSON.stringify(entry)}\n`;

/** How many entries a campaign's ledger holds in each state: what `campaign status` shows. */
export interface LedgerCounts {
  /** Claimed with no outcome yet: in flight, or in flight when a run stopped. */
  claimed: number;
  sent: number;
  failed: number;
  skipped: number;
  deferred: number;
  /** Failures that are not permanent: a resume tries them again. */
  retryable: number;
  /** Failures by reason, e.g. { "rejected": 2, "error": 1 }. */
  failedByReason: Record<string, number>;
}

/** A contact id with an entry, and whether that entry is final, when the listing knows it. */
export interface LedgerContactId {
  id: string;
  /** true: the entry is final (isTerminal); false: unfinished; absent: read the entry to know. */
  finished?: boolean;
}

/**
 * The ledger port: the folder or any object store locally (`ObjectStoreLedger`), a DynamoDB
 * table on AWS (adapters/dynamodb-ledger.ts). Every implementation runs the same contract
 * tests (tests/contract/ledger.contract.ts).
 */
export interface Ledger {
  /** Claims a recipient, exactly once: the new version, or undefined when an entry exists. */
  claim(campaign: string, entry: LedgerEntry): Promise<string | undefined>;
  /** Takes over the entry at `version`: the new version, or undefined when it changed since. */
  reclaim(campaign: string, entry: LedgerEntry, version: string): Promise<string | undefined>;
  /**
   * Writes an outcome over our claim at `version`, settling a conflict as `outranks` says; an
   * entry erased meanwhile stays erased. Returns the status the ledger holds in the end.
   */
  record(campaign: string, entry: LedgerEntry, version: string): Promise<LedgerStatus | undefined>;
  /** The entries of these recipients (those that have one). */
  entries(campaign: string, recipients: readonly { id: string }[]): Promise<Map<string, LedgerRecord>>;
  /** Every entry (the campaign's report). */
  all(campaign: string): AsyncIterable<LedgerRecord>;
  /** The entries that are not final (claimed, deferred, failed for a transient reason), or those of one status. */
  unfinished(campaign: string, status?: 'claimed' | 'deferred' | 'failed'): AsyncIterable<LedgerRecord>;
  /** The contact ids that have an entry, in id order where the store lists so. */
  contactIds(campaign: string): AsyncIterable<LedgerContactId>;
  /** The campaign's counts by state. */
  counts(campaign: string): Promise<LedgerCounts>;
  /** Removes a recipient's entry (an erasure): whether there was one. */
  erase(campaign: string, contactId: string): Promise<boolean>;
}

/** Uncertain recipients that `campaign status` names, at most. */
export const uncertainShown = 1000;

/** Zero of everything. */
export const emptyCounts = (): LedgerCounts => ({
  claimed: 0,
  sent: 0,
  failed: 0,
  skipped: 0,
  deferred: 0,
  retryable: 0,
  failedByReason: {},
});

/** Adds (sign 1) or removes (sign -1) one entry to counts. */
export function countEntry(counts: LedgerCounts, entry: LedgerEntry, sign: 1 | -1 = 1): LedgerCounts {
  counts[entry.status] += sign;
  if (entry.status === 'failed') {
    const reason = failureReason(entry);
    counts.failedByReason[reason] = (counts.failedByReason[reason] ?? 0) + sign;
    if (entry.error?.kind !== 'permanent') counts.retryable += sign;
  }
  return counts;
}

/** The reason a failure is counted under. */
export const failureReason = (entry: LedgerEntry): string => entry.error?.reason ?? 'unknown';

/**
 * The ledger in an object store: one object per (campaign, recipient) under
 * `campaigns/<name>/ledger/<contact-id>.json`. Counts are made by reading every entry: fine
 * for the folder; on AWS the DynamoDB ledger keeps counters instead.
 */
export class ObjectStoreLedger implements Ledger {
  constructor(readonly store: ObjectStore) {}

  claim(campaign: string, entry: LedgerEntry) {
    return claim(this.store, campaign, entry);
  }

  reclaim(campaign: string, entry: LedgerEntry, version: string) {
    return reclaim(this.store, campaign, entry, version);
  }

  record(campaign: string, entry: LedgerEntry, version: string) {
    return record(this.store, campaign, entry, version);
  }

  entries(campaign: string, recipients: readonly { id: string }[]) {
    return ledgerEntries(this.store, campaign, recipients);
  }

  async *all(campaign: string): AsyncIterable<LedgerRecord> {
    yield* (await readLedger(this.store, campaign)).values();
  }

  async *unfinished(campaign: string, status?: 'claimed' | 'deferred' | 'failed') {
    for await (const found of this.all(campaign))
      if (!isTerminal(found.entry) && (status === undefined || found.entry.status === status)) yield found;
  }

  async *contactIds(campaign: string): AsyncIterable<LedgerContactId> {
    const prefix = campaignKeys.ledgerPrefix(campaign);
    for await (const item of listAll(this.store, prefix)) {
      const id = item.key.slice(prefix.length, -'.json'.length);
      if (contactIdPattern.test(id) && item.key.endsWith('.json')) yield { id };
    }
  }

  async counts(campaign: string): Promise<LedgerCounts> {
    const counts = emptyCounts();
    for await (const { entry } of this.all(campaign)) countEntry(counts, entry);
    return counts;
  }

  async erase(campaign: string, contactId: string): Promise<boolean> {
    const key = campaignKeys.ledger(campaign, contactId);
    if (!(await this.store.head(key))) return false;
    await this.store.delete(key);
    return true;
  }
}

/** The ledger a core function uses: the one it was given, else the object store's. */
export const ledgerOf = (deps: { store: ObjectStore; ledger?: Ledger | undefined }): Ledger =>
  deps.ledger ?? new ObjectStoreLedger(deps.store);

/** Every entry of a ledger's campaign, by contact id. */
export async function readAll(ledger: Ledger, campaign: string): Promise<Map<string, LedgerRecord>> {
  const out = new Map<string, LedgerRecord>();
  for await (const found of ledger.all(campaign)) out.set(found.entry.contact, found);
  return out;
}

/** Every entry of a campaign, by contact id. */
export async function readLedger(store: ObjectStore, campaign: string): Promise<Map<string, LedgerRecord>> {
  const out = new Map<string, LedgerRecord>();
  const prefix = campaignKeys.ledgerPrefix(campaign);
  const keys: string[] = [];
  for await (const item of listAll(store, prefix)) keys.push(item.key);
  for (let i = 0; i < keys.length; i += 32) {
    const batch = await Promise.all(
      keys.slice(i, i + 32).map((k) => getJson<LedgerEntry>(store, k, { repair: campaignRepairs.ledger })),
    );
    for (const found of batch)
      if (found) out.set(found.value.contact, { entry: found.value, version: found.version });
  }
  return out;
}

/** Claims a recipient: the new version, or undefined when another run holds it. */
export async function claim(
  store: ObjectStore,
  campaign: string,
  entry: LedgerEntry,
): Promise<string | undefined> {
  try {
    return (await store.putIfAbsent(campaignKeys.ledger(campaign, entry.contact), json(entry))).version;
  } catch (error) {
    if (error instanceof ObjectExistsError) return undefined;
    throw error;
  }
}

/** Takes over an existing entry (a retry of a transient failure, a resend): the new version, or undefined. */
export async function reclaim(
  store: ObjectStore,
  campaign: string,
  entry: LedgerEntry,
  version: string,
): Promise<string | undefined> {
  try {
    return (await store.putIfVersion(campaignKeys.ledger(campaign, entry.contact), json(entry), version))
      .version;
  } catch (error) {
    if (error instanceof VersionConflictError) return undefined;
    throw error;
  }
}

/**
 * Writes the outcome over our own claim. When another run wrote the entry meanwhile (it
 * took over a campaign whose lease it saw expire), the conflict is settled here, never shown
 * as a failure: a send that happened is always recorded and never written over; an outcome
 * that is final beats one that is not; a non-final outcome of ours (deferred, a transient
 * failure) yields to the run that now holds the recipient. An entry erased meanwhile (a
 * GDPR erasure) stays erased. Returns the status the ledger holds in the end.
 */
export async function record(
  store: ObjectStore,
  campaign: string,
  entry: LedgerEntry,
  version: string,
): Promise<LedgerStatus | undefined> {
  const key = campaignKeys.ledger(campaign, entry.contact);
  let expected = version;
  for (let attempt = 0; ; attempt++) {
    try {
      await store.putIfVersion(key, json(entry), expected);
      return entry.status;
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 20) throw error;
    }
    const current = await getJson<LedgerEntry>(store, key, { repair: campaignRepairs.ledger });
    if (!current) return undefined;
    if (!outranks(entry, current.value)) return current.value.status;
    expected = current.version;
  }
}

/** Whether our outcome should replace theirs (see `record`). */
export function outranks(ours: LedgerEntry, theirs: LedgerEntry): boolean {
  if (theirs.status === 'sent') return false;
  return ours.status === 'sent' || (isTerminal(ours) && !isTerminal(theirs));
}

/** An outcome no later run changes: sent, skipped, or refused for good. */
export function isTerminal(entry: LedgerEntry | undefined): boolean {
  if (!entry) return false;
  return (
    entry.status === 'sent' ||
    entry.status === 'skipped' ||
    (entry.status === 'failed' && entry.error?.kind === 'permanent')
  );
}

/**
 * The contacts a campaign's ledger has an entry for, from its keys alone (no entry read): 16
 * bytes a contact in one sorted buffer, so that a million entries take 16 MB, not the
 * hundred a set of strings would. `has` is a binary search. Where the listing tells whether
 * an entry is final (the DynamoDB ledger), one more byte a contact keeps it: a resume then
 * reads only the unfinished entries.
 */
export class LedgerContactIds {
  private constructor(
    private readonly ids: Buffer,
    /** Per contact: 0 unknown, 1 unfinished, 2 finished. */
    private readonly states: Buffer,
    readonly size: number,
  ) {}

  /** The contact ids of a campaign's ledger: from a ledger, or an object store's keys. */
  static async read(source: Ledger | ObjectStore, campaign: string): Promise<LedgerContactIds> {
    const ledger = 'contactIds' in source ? source : new ObjectStoreLedger(source);
    let ids = Buffer.alloc(16 * 1024);
    let states = Buffer.alloc(1024);
    let size = 0;
    let sorted = true;
    for await (const { id, finished } of ledger.contactIds(campaign)) {
      if (!contactIdPattern.test(id)) continue;
      if ((size + 1) * 16 > ids.length) {
        const grown = Buffer.alloc(ids.length * 2);
        ids.copy(grown);
        ids = grown;
        const more = Buffer.alloc(states.length * 2);
        states.copy(more);
        states = more;
      }
      ids.write(id, size * 16, 'hex');
      states[size] = finished === undefined ? 0 : finished ? 2 : 1;
      // The previous id against this one: above it, the listing was not in key order.
      if (size > 0 && ids.compare(ids, size * 16, size * 16 + 16, (size - 1) * 16, size * 16) > 0)
        sorted = false;
      size++;
    }
    if (!sorted) {
      // Stores list in key order; one that did not is sorted here.
      const all = Array.from({ length: size }, (_, i) => ({
        id: ids.toString('hex', i * 16, i * 16 + 16),
        state: states[i] ?? 0,
      })).sort((x, y) => (x.id < y.id ? -1 : 1));
      for (const [i, { id, state }] of all.entries()) {
        ids.write(id, i * 16, 'hex');
        states[i] = state;
      }
    }
    return new LedgerContactIds(ids, states, size);
  }

  has(contactId: string): boolean {
    return this.indexOf(contactId) >= 0;
  }

  /** Whether the listing said this contact's entry is final (false when it did not say). */
  finished(contactId: string): boolean {
    const i = this.indexOf(contactId);
    return i >= 0 && this.states[i] === 2;
  }

  private indexOf(contactId: string): number {
    if (this.size === 0 || !contactIdPattern.test(contactId)) return -1;
    const wanted = Buffer.from(contactId, 'hex');
    let low = 0;
    let high = this.size - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const order = this.ids.compare(wanted, 0, 16, mid * 16, mid * 16 + 16);
      if (order === 0) return mid;
      // `compare` orders the buffer's slice against `wanted`.
      if (order < 0) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }
}

const contactIdPattern = /^[0-9a-f]{32}$/;

/** The ledger entries of these recipients only, read a few at a time. */
export async function ledgerEntries(
  store: ObjectStore,
  campaign: string,
  recipients: readonly { id: string }[],
): Promise<Map<string, LedgerRecord>> {
  const out = new Map<string, LedgerRecord>();
  for (let i = 0; i < recipients.length; i += 32) {
    const slice = recipients.slice(i, i + 32);
    const found = await Promise.all(
      slice.map((r) =>
        getJson<LedgerEntry>(store, campaignKeys.ledger(campaign, r.id), { repair: campaignRepairs.ledger }),
      ),
    );
    for (const [j, f] of found.entries()) {
      const id = slice[j]?.id;
      if (f && id !== undefined) out.set(id, { entry: f.value, version: f.version });
    }
  }
  return out;
}
