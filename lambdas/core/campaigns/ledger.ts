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
  /** permanent: the provider refused the address; transient: a resume tries again. */
  error?: { kind: 'permanent' | 'transient'; reason: string; message: string };
  skippedReason?: string;
}

export interface LedgerRecord {
  entry: LedgerEntry;
  version: string;
}

const json = (entry: LedgerEntry) => `${JSON.stringify(entry)}\n`;

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
function outranks(ours: LedgerEntry, theirs: LedgerEntry): boolean {
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
 * hundred a set of strings would. `has` is a binary search.
 */
export class LedgerContactIds {
  private constructor(
    private readonly ids: Buffer,
    readonly size: number,
  ) {}

  static async read(store: ObjectStore, campaign: string): Promise<LedgerContactIds> {
    const prefix = campaignKeys.ledgerPrefix(campaign);
    let ids = Buffer.alloc(16 * 1024);
    let size = 0;
    let sorted = true;
    for await (const item of listAll(store, prefix)) {
      const id = item.key.slice(prefix.length, -'.json'.length);
      if (!contactIdPattern.test(id) || !item.key.endsWith('.json')) continue;
      if ((size + 1) * 16 > ids.length) {
        const grown = Buffer.alloc(ids.length * 2);
        ids.copy(grown);
        ids = grown;
      }
      ids.write(id, size * 16, 'hex');
      // The previous id against this one: above it, the listing was not in key order.
      if (size > 0 && ids.compare(ids, size * 16, size * 16 + 16, (size - 1) * 16, size * 16) > 0)
        sorted = false;
      size++;
    }
    if (!sorted) {
      // Stores list in key order; one that did not is sorted here.
      const all = Array.from({ length: size }, (_, i) => ids.toString('hex', i * 16, i * 16 + 16)).sort();
      for (const [i, id] of all.entries()) ids.write(id, i * 16, 'hex');
    }
    return new LedgerContactIds(ids, size);
  }

  has(contactId: string): boolean {
    if (this.size === 0 || !contactIdPattern.test(contactId)) return false;
    const wanted = Buffer.from(contactId, 'hex');
    let low = 0;
    let high = this.size - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const order = this.ids.compare(wanted, 0, 16, mid * 16, mid * 16 + 16);
      if (order === 0) return true;
      // `compare` orders the buffer's slice against `wanted`.
      if (order < 0) low = mid + 1;
      else high = mid - 1;
    }
    return false;
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
