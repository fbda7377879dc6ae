import {
  DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DynamoLedger, DynamoLedgerError } from '../../lambdas/adapters/dynamodb-ledger.ts';
import { claimed } from '../contract/ledger.contract.ts';

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

function ledgerWith(...answers: (Error | undefined)[]) {
  const client = new DynamoDBClient({ region: 'eu-west-3' });
  const mock = mockClient(client);
  let call = mock.on(TransactWriteItemsCommand);
  for (const answer of answers) call = answer ? call.rejectsOnce(answer) : call.resolvesOnce({});
  return {
    mock,
    ledger: new DynamoLedger({ table: 'ledger', client, clock: () => new Date('2026-01-16T07:30:00Z') }),
  };
}

describe('DynamoDB ledger transactions', () => {
  it('claims with a conditional put and the counter ADD in one transaction, expiring 400 days on', async () => {
    const { mock, ledger } = ledgerWith(undefined);
    expect(await ledger.claim('etude', claimed(1))).toMatch(/^[0-9a-f-]{36}\/claimed$/);
    const items = mock.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items[0]?.Put).toMatchObject({
      TableName: 'ledger',
      ConditionExpression: 'attribute_not_exists(recipient)',
      Item: {
        campaign: { S: 'etude' },
        recipient: { S: claimed(1).contact },
        unfinished: { S: `claimed#${claimed(1).contact}` },
        expiresAt: { N: String(Date.parse('2026-01-16T07:30:00Z') / 1000 + 400 * 86_400) },
      },
    });
    expect(items[1]?.Update?.UpdateExpression).toBe('ADD #n0 :d0 SET expiresAt = :exp');
    expect(items[1]?.Update?.ExpressionAttributeNames).toEqual({ '#n0': 'claimed' });
  });

  it('tries again a transaction cancelled by another one on the same counter item', async () => {
    const { mock, ledger } = ledgerWith(cancelled('None', 'TransactionConflict'), undefined);
    expect(await ledger.claim('etude', claimed(1))).toBeDefined();
    expect(mock.commandCalls(TransactWriteItemsCommand)).toHaveLength(2);
  });

  it('answers a lost claim with undefined, and a refusal it cannot settle with an error naming the table', async () => {
    expect(
      await ledgerWith(cancelled('ConditionalCheckFailed', 'None')).ledger.claim('etude', claimed(1)),
    ).toBeUndefined();
    const denied = Object.assign(new Error('User is not authorized to perform: dynamodb:PutItem'), {
      name: 'AccessDeniedException',
    });
    await expect(ledgerWith(denied).ledger.claim('etude', claimed(1))).rejects.toThrow(DynamoLedgerError);
    await expect(ledgerWith(denied).ledger.claim('etude', claimed(1))).rejects.toThrow(
      /ledger table ledger \(campaign etude\): User is not authorized/,
    );
  });

  it('moves the counters from what the version says to the outcome: a failure by its reason, retryable or not', async () => {
    const { mock, ledger } = ledgerWith(undefined, undefined);
    const version = (await ledger.claim('etude', claimed(1))) as string;
    const failure = { kind: 'transient' as const, reason: 'error', message: 'timeout' };
    expect(await ledger.record('etude', { ...claimed(1), status: 'failed', error: failure }, version)).toBe(
      'failed',
    );
    const update = mock.commandCalls(TransactWriteItemsCommand)[1]?.args[0].input.TransactItems?.[1]?.Update;
    const moved = Object.fromEntries(
      Object.entries(update?.ExpressionAttributeNames ?? {}).map(([key, name]) => [
        name,
        update?.ExpressionAttributeValues?.[key.replace('#n', ':d')]?.N,
      ]),
    );
    expect(moved).toEqual({ claimed: '-1', failed: '1', 'failed:error': '1', retryable: '1' });
  });
});
