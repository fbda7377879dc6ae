import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  BatchGetItemCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  emptyCounts,
  failureReason,
  isTerminal,
  type Ledger,
  type LedgerContactId,
  type LedgerCounts,
  type LedgerEntry,
  type LedgerRecord,
  type LedgerStatus,
  outranks,
} from '../core/campaigns/ledger.ts';
import { PressroomError } from '../core/errors.ts';
import { ledgerTable } from './ledger-table.ts';

/**
 * The delivery ledger on DynamoDB. One item per (campaign, recipient):
 *
 *   campaign (partition key)   the campaign's name
 *   recipient (sort key)       the contact id (32 hex digits)
 *   entry                      the ledger entry, JSON
 *   v                          its version: a random id, then what the entry counts as
 *   unfinished                 "<status>#<contact id>" while the entry is not final, absent after
 *   expiresAt                  epoch seconds: TTL deletes the item after the retention period
 *
 * and, under the same partition key, `counterShards` counter items (`#counts#00`, …) whose
 * numbers (`claimed`, `sent`, `failed`, `skipped`, `deferred`, `retryable`, `failed:<reason>`)
 * move in the same transaction as each entry write (TransactWriteItems: a conditional put or
 * delete of the entry, an UpdateItem ADD on one counter item), so they never drift from the
 * entries. A recipient's counts always go to the same shard (by its id): every transaction of
 * a busy campaign would otherwise meet on one item, and DynamoDB cancels transactions that
 * touch an item another one is writing. `counts` reads the shards with one BatchGetItem,
 * however large the campaign.
 *
 * The sparse global secondary index `unfinished` (campaign, unfinished) holds only the
 * entries that are not final: what a resume and `campaign status` (the uncertain recipients)
 * look for is read without reading the rest.
 */
export interface DynamoLedgerOptions {
  table: string;
  /** An SDK client to use (tests, custom endpoints); a default one is built otherwise. */
  client?: DynamoDBClient;
  /** Days an item is kept after its last write (TTL). Default 400. */
  retentionDays?: number;
  clock?: () => Date;
}

/** Days a ledger item lives after its last write, unless the stack says otherwise. */
export const defaultLedgerRetentionDays = 400;
/** Counter items per campaign (see above). */
export const counterShards = 16;

const countsPrefix = '#counts#';
/** Above every counter item's sort key, below every contact id. */
const firstRecipient = '$';
const conflictAttempts = 12;

/** A DynamoDB request failed for a reason the ledger has no answer for (access denied, no such table). */
export class DynamoLedgerError extends PressroomError {
  override name = 'DynamoLedgerError';
  constructor(operation: string, table: string, campaign: string, cause: unknown) {
    super(
      `DynamoDB ${operation} failed on the ledger table ${table} (campaign ${campaign}): ${(cause as Error).message ?? cause}`,
      { cause },
    );
  }
}

/** The counter attributes an entry adds one to. */
function counted(entry: Pick<LedgerEntry, 'status' | 'error'>): string[] {
  if (entry.status !== 'failed') return [entry.status];
  const names = ['failed', `failed:${failureReason(entry as LedgerEntry)}`];
  return entry.error?.kind === 'permanent' ? names : [...names, 'retryable'];
}

/** A version names what its entry counts as, so that the next write moves the counters without a read. */
const versionOf = (entry: LedgerEntry) =>
  [randomUUID(), ...counted(entry).map((n) => encodeURIComponent(n))].join('/');
const countedBy = (version: string) =>
  version
    .split('/')
    .slice(1)
    .map((n) => decodeURIComponent(n));

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

export class DynamoLedger implements Ledger {
  readonly table: string;
  private readonly client: DynamoDBClient;
  private readonly retentionSeconds: number;
  private readonly clock: () => Date;

  constructor(options: DynamoLedgerOptions) {
    this.table = options.table;
    this.client = options.client ?? new DynamoDBClient({});
    this.retentionSeconds = (options.retentionDays ?? defaultLedgerRetentionDays) * 86_400;
    this.clock = options.clock ?? (() => new Date());
  }

  async claim(campaign: string, entry: LedgerEntry): Promise<string | undefined> {
    const version = versionOf(entry);
    const done = await this.write(campaign, entry.contact, 'claim', [
      {
        Put: {
          TableName: this.table,
          Item: this.item(campaign, entry, version),
          ConditionExpression: 'attribute_not_exists(recipient)',
        },
      },
      ...this.counterUpdate(campaign, entry.contact, [], counted(entry)),
    ]);
    return done ? version : undefined;
  }

  async reclaim(campaign: string, entry: LedgerEntry, version: string): Promise<string | undefined> {
    return this.replace(campaign, entry, version);
  }

  async record(campaign: string, entry: LedgerEntry, version: string): Promise<LedgerStatus | undefined> {
    let expected = version;
    for (let attempt = 0; ; attempt++) {
      if ((await this.replace(campaign, entry, expected)) !== undefined) return entry.status;
      if (attempt >= 20)
        throw new DynamoLedgerError('record', this.table, campaign, 'the entry keeps changing');
      const current = (await this.entries(campaign, [{ id: entry.contact }])).get(entry.contact);
      // Erased meanwhile: stays erased.
      if (!current) return undefined;
      if (!outranks(entry, current.entry)) return current.entry.status;
      expected = current.version;
    }
  }

  /** Writes `entry` over the one at `version`, moving the counters: the new version, or undefined when it changed since. */
  private async replace(campaign: string, entry: LedgerEntry, version: string): Promise<string | undefined> {
    const next = versionOf(entry);
    const done = await this.write(campaign, entry.contact, 'record', [
      {
        Put: {
          TableName: this.table,
          Item: this.item(campaign, entry, next),
          ConditionExpression: 'v = :v',
          ExpressionAttributeValues: { ':v': S(version) },
        },
      },
      ...this.counterUpdate(campaign, entry.contact, countedBy(version), counted(entry)),
    ]);
    return done ? next : undefined;
  }

  async entries(campaign: string, recipients: readonly { id: string }[]): Promise<Map<string, LedgerRecord>> {
    const out = new Map<string, LedgerRecord>();
    for (let i = 0; i < recipients.length; i += 100) {
      let keys: Record<string, AttributeValue>[] = recipients
        .slice(i, i + 100)
        .map((r) => ({ campaign: S(campaign), recipient: S(r.id) }));
      // Keys DynamoDB left unprocessed (throttling) are asked for again.
      for (let round = 0; keys.length > 0; round++) {
        const read = await this.send('BatchGetItem', campaign, () =>
          this.client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } },
            }),
          ),
        );
        for (const item of read.Responses?.[this.table] ?? []) {
          const found = recordOf(item);
          out.set(found.entry.contact, found);
        }
        keys = read.UnprocessedKeys?.[this.table]?.Keys ?? [];
        if (keys.length > 0) await pause(round);
      }
    }
    return out;
  }

  async *all(campaign: string): AsyncIterable<LedgerRecord> {
    for await (const item of this.query(campaign, {
      KeyConditionExpression: 'campaign = :c AND recipient > :first',
      ExpressionAttributeValues: { ':c': S(campaign), ':first': S(firstRecipient) },
      ConsistentRead: true,
    }))
      yield recordOf(item);
  }

  async *unfinished(
    campaign: string,
    status?: 'claimed' | 'deferred' | 'failed',
  ): AsyncIterable<LedgerRecord> {
    for await (const item of this.query(campaign, {
      IndexName: ledgerTable.unfinishedIndex,
      KeyConditionExpression:
        status === undefined ? 'campaign = :c' : 'campaign = :c AND begins_with(unfinished, :s)',
      ExpressionAttributeValues: {
        ':c': S(campaign),
        ...(status !== undefined && { ':s': S(`${status}#`) }),
      },
    })) {
      const found = recordOf(item);
      // The index is read eventually consistent: an entry that became final meanwhile is left out.
      if (!isTerminal(found.entry)) yield found;
    }
  }

  async *contactIds(campaign: string): AsyncIterable<LedgerContactId> {
    for await (const item of this.query(campaign, {
      KeyConditionExpression: 'campaign = :c AND recipient > :first',
      ExpressionAttributeValues: { ':c': S(campaign), ':first': S(firstRecipient) },
      ProjectionExpression: 'recipient, unfinished',
      ConsistentRead: true,
    }))
      yield { id: item.recipient?.S ?? '', finished: item.unfinished === undefined };
  }

  async counts(campaign: string): Promise<LedgerCounts> {
    const counts = emptyCounts();
    const shards = Array.from({ length: counterShards }, (_, i) => ({ id: counterKey(i) }));
    const read = await this.send('BatchGetItem', campaign, () =>
      this.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.table]: {
              Keys: shards.map((s) => ({ campaign: S(campaign), recipient: S(s.id) })),
              ConsistentRead: true,
            },
          },
        }),
      ),
    );
    let items = read.Responses?.[this.table] ?? [];
    // Rare (throttling): what BatchGetItem left is read one item at a time.
    for (const key of read.UnprocessedKeys?.[this.table]?.Keys ?? []) {
      const one = await this.send('GetItem', campaign, () =>
        this.client.send(new GetItemCommand({ TableName: this.table, Key: key, ConsistentRead: true })),
      );
      if (one.Item) items = [...items, one.Item];
    }
    for (const item of items) {
      for (const [name, value] of Object.entries(item)) {
        if (value.N === undefined || name === 'expiresAt') continue;
        const n = Number(value.N);
        if (name.startsWith('failed:')) {
          const reason = name.slice('failed:'.length);
          counts.failedByReason[reason] = (counts.failedByReason[reason] ?? 0) + n;
        } else if (name in counts && name !== 'failedByReason')
          counts[name as Exclude<keyof LedgerCounts, 'failedByReason'>] += n;
      }
    }
    return counts;
  }

  async erase(campaign: string, contactId: string): Promise<boolean> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = (await this.entries(campaign, [{ id: contactId }])).get(contactId);
      if (!current) return false;
      const done = await this.write(campaign, contactId, 'erase', [
        {
          Delete: {
            TableName: this.table,
            Key: { campaign: S(campaign), recipient: S(contactId) },
            ConditionExpression: 'v = :v',
            ExpressionAttributeValues: { ':v': S(current.version) },
          },
        },
        ...this.counterUpdate(campaign, contactId, countedBy(current.version), []),
      ]);
      if (done) return true;
    }
    throw new DynamoLedgerError('erase', this.table, campaign, 'the entry keeps changing');
  }

  private item(campaign: string, entry: LedgerEntry, version: string): Record<string, AttributeValue> {
    return {
      campaign: S(campaign),
      recipient: S(entry.contact),
      entry: S(JSON.stringify(entry)),
      v: S(version),
      ...(!isTerminal(entry) && { unfinished: S(`${entry.status}#${entry.contact}`) }),
      expiresAt: N(this.expiresAt()),
    };
  }

  private expiresAt(): number {
    return Math.floor(this.clock().getTime() / 1000) + this.retentionSeconds;
  }

  /** The counter shard's update that removes `before` and adds `after` (none when they cancel out). */
  private counterUpdate(
    campaign: string,
    contactId: string,
    before: readonly string[],
    after: readonly string[],
  ): TransactWriteItem[] {
    const delta = new Map<string, number>();
    for (const name of before) delta.set(name, (delta.get(name) ?? 0) - 1);
    for (const name of after) delta.set(name, (delta.get(name) ?? 0) + 1);
    const moved = [...delta].filter(([, n]) => n !== 0);
    if (moved.length === 0) return [];
    return [
      {
        Update: {
          TableName: this.table,
          Key: { campaign: S(campaign), recipient: S(counterKey(shardOf(contactId))) },
          UpdateExpression: `ADD ${moved.map((_, i) => `#n${i} :d${i}`).join(', ')} SET expiresAt = :exp`,
          ExpressionAttributeNames: Object.fromEntries(moved.map(([name], i) => [`#n${i}`, name])),
          ExpressionAttributeValues: {
            ...Object.fromEntries(moved.map(([, n], i) => [`:d${i}`, N(n)])),
            ':exp': N(this.expiresAt()),
          },
        },
      },
    ];
  }

  /**
   * One transaction: true when written, false when the entry's condition failed. A
   * transaction cancelled because another was writing the same counter item is tried again.
   */
  private async write(
    campaign: string,
    contactId: string,
    operation: string,
    items: TransactWriteItem[],
  ): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return true;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException))
          throw new DynamoLedgerError(`${operation} of ${contactId}`, this.table, campaign, error);
        const codes = (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
        if (codes[0] === 'ConditionalCheckFailed') return false;
        const retryable = codes.every(
          (c) => c === 'None' || c === 'TransactionConflict' || c === 'ThrottlingError',
        );
        if (!retryable || attempt >= conflictAttempts)
          throw new DynamoLedgerError(`${operation} of ${contactId}`, this.table, campaign, error);
        await pause(attempt);
      }
    }
  }

  private async *query(
    campaign: string,
    input: Omit<QueryCommandInput, 'TableName'>,
  ): AsyncIterable<Record<string, AttributeValue>> {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.send('Query', campaign, () =>
        this.client.send(
          new QueryCommand({ TableName: this.table, ...input, ...(start && { ExclusiveStartKey: start }) }),
        ),
      );
      yield* page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start);
  }

  private async send<T>(operation: string, campaign: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new DynamoLedgerError(operation, this.table, campaign, error);
    }
  }
}

const counterKey = (shard: number) => `${countsPrefix}${String(shard).padStart(2, '0')}`;
const shardOf = (contactId: string) => (Number.parseInt(contactId.slice(0, 6), 16) || 0) % counterShards;

function recordOf(item: Record<string, AttributeValue>): LedgerRecord {
  return { entry: JSON.parse(item.entry?.S ?? '{}') as LedgerEntry, version: item.v?.S ?? '' };
}

/** 20, 40, 80 … ms, up to about a second, with jitter. */
const pause = (attempt: number) =>
  new Promise((resolve) =>
    setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2)),
  );
