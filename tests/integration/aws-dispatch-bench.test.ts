/**
 * The aws-dispatch benchmark's correctness check (bench/aws-dispatch.ts): what its fake queue
 * counts as missing or twice, and one real run of the bundled dispatch function over 2,000
 * generated contacts in s3rver. Nothing here is about time.
 */
import { describe, expect, it } from 'vitest';
import { EnqueueCheck, recipientsFlag, runAwsDispatch } from '../../bench/aws-dispatch.ts';
import type { RecipientBatch } from '../../lambdas/core/campaigns/dispatch.ts';

const batch = (index: number, ids: string[], campaign = 'million', run = 'r1'): RecipientBatch => ({
  campaign,
  run,
  index,
  recipients: ids.map((id) => ({ id, email: `${id}@example.org` })),
});

describe('the aws-dispatch check', () => {
  it('passes when every recipient arrives once, in batches of one run', () => {
    const check = new EnqueueCheck(['a', 'b', 'c'], 'million');
    check.receive(batch(0, ['a', 'b']));
    check.receive(batch(1, ['c']));
    expect(check.problems()).toEqual([]);
    expect(check.recipients).toBe(3);
    expect(check.messages).toBe(2);
  });

  it('finds a recipient enqueued twice, one never enqueued, a batch twice, another run or campaign', () => {
    const check = new EnqueueCheck(['a', 'b', 'c'], 'million');
    check.receive(batch(0, ['a', 'b']));
    check.receive(batch(0, ['a'], 'million', 'r2'));
    check.receive(batch(2, [], 'autre'));
    expect(check.problems()).toEqual([
      'batch 0 enqueued twice',
      'a batch of campaign "autre"',
      '1 recipients never enqueued',
      '1 recipients enqueued twice or unknown',
      'batches of 2 runs',
    ]);
  });

  it('reads --recipients=N, 1,000,000 without it, and refuses what is not a count', () => {
    expect(recipientsFlag([])).toBe(1_000_000);
    expect(recipientsFlag(['aws-dispatch', '--recipients=2_000'])).toBe(2000);
    expect(() => recipientsFlag(['--recipients=lots'])).toThrow(/--recipients=lots: a whole number/);
    expect(() => recipientsFlag(['--recipients=0'])).toThrow(/a whole number/);
  });
});

describe('the aws-dispatch benchmark on 2,000 recipients', () => {
  it('runs the bundled dispatch function: each recipient enqueued exactly once, no staging left', async () => {
    const run = await runAwsDispatch(2000, () => {});
    expect(run.problems).toEqual([]);
    expect(run.recipients).toBe(2000);
    expect(run.enqueued).toBe(2000);
    expect(run.stagingLeft).toBe(0);
    const row = (name: string) => run.rows.find((r) => r.name.startsWith(name));
    // 50 recipients a message, as the stack configures the function: 40 batches.
    expect(row('queue messages')?.value).toBe(40);
    expect(row('SendMessageBatch calls')?.value).toBe(4);
    // Dispatch paced by the (faked) SES quota, as the stack wires it: read once, everyone today.
    expect(row('SES GetSendQuota calls (pacing)')?.value).toBe(1);
    // The 40 batches were staged together (up to 100 a staged object), written once, read back
    // and deleted: far fewer requests than one per batch.
    expect(row('S3 requests by the dispatch: PUT')?.value).toBeGreaterThanOrEqual(1);
    expect(row('S3 requests by the dispatch: PUT')?.value).toBeLessThan(10);
    expect(row('S3 requests by the dispatch: DELETE')?.value).toBe(1);
    expect(row('dispatch: peak RSS')?.value).toBeGreaterThan(0);
    // The ledger in the table costs less than it did in S3 (1 GET, 2 PUT a recipient).
    const dynamodb = row('cost per 1,000,000 recipients: DynamoDB ledger')?.value as number;
    const s3Ledger = row('cost per 1,000,000 recipients: before the table, the S3 ledger')?.value as number;
    expect(dynamodb).toBeGreaterThan(0);
    expect(dynamodb).toBeLessThan(s3Ledger);
    expect(row('cost per 1,000,000 recipients: total')?.value).toBeLessThan(
      row('cost per 1,000,000 recipients: before the table, total')?.value as number,
    );
  }, 300_000);
});
