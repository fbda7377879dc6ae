import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { ledgerTable } from '../../lambdas/adapters/ledger-table.ts';
import { listenLocally } from './listen.ts';

/** dynalite accepts any credentials; these are the tests'. */
export const DYNALITE_CREDENTIALS = { accessKeyId: 'DYNALITE', secretAccessKey: 'DYNALITE' };

export interface RunningDynalite {
  /** `http://127.0.0.1:<port>`: dynalite behind the transaction front (see below). */
  endpoint: string;
  /** A client of it, with the tests' credentials. */
  client(): DynamoDBClient;
  stop(): Promise<void>;
}

type Json = Record<string, unknown>;

/**
 * Starts dynalite (DynamoDB in memory, over HTTP) on 127.0.0.1, behind a small front of our
 * own. dynalite answers conditional puts, queries, indexes and `ADD`, but not
 * TransactWriteItems, which the ledger writes with: the front does each transaction itself,
 * one at a time with every other request (they wait in one line), by reading the items it
 * touches, writing each with its condition, and putting back what it wrote when a condition
 * fails, then answering TransactionCanceledException with the cancellation reasons as
 * DynamoDB does. Seen from a client, it is atomic; it is no test of DynamoDB's own
 * transactions (conflicts between concurrent ones never happen here).
 */
export async function startDynalite(): Promise<RunningDynalite> {
  const require = createRequire(import.meta.url);
  const dynalite = require('dynalite') as (options: { createTableMs: number }) => Server;
  const inner = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => inner.listen(0, '127.0.0.1', resolve));
  const port = (inner.address() as AddressInfo).port;

  const call = (target: string, body: Json, headers: IncomingHttpHeaders) =>
    new Promise<{ status: number; body: Json; raw: Buffer }>((resolve, reject) => {
      const data = Buffer.from(JSON.stringify(body));
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/',
          headers: {
            ...pick(headers, ['authorization', 'x-amz-date', 'host']),
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': `DynamoDB_20120810.${target}`,
            'content-length': data.length,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 500,
              body: raw.length ? JSON.parse(raw.toString()) : {},
              raw,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });

  const keySchemas = new Map<string, string[]>();
  const keyOf = async (table: string, item: Json, headers: IncomingHttpHeaders) => {
    let names = keySchemas.get(table);
    if (!names) {
      const described = await call('DescribeTable', { TableName: table }, headers);
      const schema = (described.body.Table as { KeySchema?: { AttributeName: string }[] } | undefined)
        ?.KeySchema;
      names = (schema ?? []).map((k) => k.AttributeName);
      keySchemas.set(table, names);
    }
    return Object.fromEntries(names.map((n) => [n, item[n]]));
  };

  const transact = async (body: Json, headers: IncomingHttpHeaders) => {
    const items = (body.TransactItems ?? []) as Json[];
    const undo: (() => Promise<unknown>)[] = [];
    const reasons = items.map(() => ({ Code: 'None' }) as { Code: string; Message?: string });
    for (const [i, item] of items.entries()) {
      const [kind, op] = Object.entries(item)[0] as [string, Json];
      const table = op.TableName as string;
      const key = kind === 'Put' ? await keyOf(table, op.Item as Json, headers) : (op.Key as Json);
      const target = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'UpdateItem',
      }[kind];
      if (!target) return { status: 400, body: { __type: 'ValidationException', message: `no ${kind}` } };
      // ALL_OLD: the item as it was, to put back if a later condition fails.
      const done = await call(
        target,
        kind === 'ConditionCheck'
          ? // A ConditionCheck is an update that changes nothing, under its condition.
            { ...op, Key: key, UpdateExpression: 'SET #transactCheck = if_not_exists(#transactCheck, :no)' }
          : { ...op, ReturnValues: 'ALL_OLD' },
        headers,
      );
      if (done.status !== 200) {
        for (const back of undo.reverse()) await back();
        const type = String(done.body.__type ?? '');
        if (!type.endsWith('ConditionalCheckFailedException')) return done;
        reasons[i] = { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' };
        return {
          status: 400,
          body: {
            __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
            message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
            CancellationReasons: reasons,
          },
        };
      }
      const old = done.body.Attributes as Json | undefined;
      undo.push(() =>
        old
          ? call('PutItem', { TableName: table, Item: old }, headers)
          : call('DeleteItem', { TableName: table, Key: key }, headers),
      );
    }
    return { status: 200, body: {} };
  };

  // Every request waits for the one before: a transaction is never seen half done.
  let line: Promise<unknown> = Promise.resolve();
  const front = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const turn = line.then(async () => {
        const target = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Json;
        const answer =
          target === 'TransactWriteItems'
            ? await transact(body, req.headers)
            : await call(target, body, req.headers);
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(answer.body));
      });
      line = turn.catch((error) => {
        res.writeHead(500);
        res.end(JSON.stringify({ __type: 'InternalServerError', message: String(error) }));
      });
    });
  });
  const listening = await listenLocally(front);
  return {
    endpoint: listening.endpoint,
    client: () =>
      new DynamoDBClient({
        endpoint: listening.endpoint,
        region: 'eu-west-3',
        credentials: DYNALITE_CREDENTIALS,
      }),
    stop: async () => {
      await listening.close();
      await new Promise<void>((resolve) => inner.close(() => resolve()));
    },
  };
}

/** Creates a table and waits until it is active (at once on dynalite with createTableMs 0). */
export async function createTable(client: DynamoDBClient, input: CreateTableCommandInput): Promise<void> {
  await client.send(new CreateTableCommand(input));
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The ledger table as the stack declares it (lib/ledger-table.ts), for tests without the template. */
export const ledgerTableInput = (name: string): CreateTableCommandInput => ({
  TableName: name,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: ledgerTable.partitionKey, AttributeType: 'S' },
    { AttributeName: ledgerTable.sortKey, AttributeType: 'S' },
    { AttributeName: ledgerTable.unfinishedKey, AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: ledgerTable.partitionKey, KeyType: 'HASH' },
    { AttributeName: ledgerTable.sortKey, KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: ledgerTable.unfinishedIndex,
      KeySchema: [
        { AttributeName: ledgerTable.partitionKey, KeyType: 'HASH' },
        { AttributeName: ledgerTable.unfinishedKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
});

function pick(headers: IncomingHttpHeaders, names: string[]) {
  return Object.fromEntries(
    names.flatMap((n) => (headers[n] === undefined ? [] : [[n, headers[n] as string]])),
  );
}
