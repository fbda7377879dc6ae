import { recipientsPerMessage, sendingPlan } from '../lib/sending-plan.ts';
import type { BenchRow } from './types.ts';

/**
 * The cost model of a campaign on AWS, per 100,000 and per 1,000,000 recipients: with the
 * ledger in the DynamoDB table (now), and with the ledger in S3 (before the table) for
 * comparison. The dispatch's own requests and time
 * are this run's, measured, scaled in proportion to the audience; the send and feedback
 * functions' requests are counted from the code (batch.ts, send.ts, ledger.ts,
 * provider-feedback.ts), not measured here. Prices: AWS list prices in us-east-1 (other
 * regions differ by a few per cent), free tiers left out. Storage is left out: the ledger
 * and the feedback objects of a million recipients are about 1 GB, a few cents a month.
 */

/** AWS list prices, us-east-1, in US dollars. */
export const prices = {
  /** SES: $0.10 per 1,000 messages (attachments, $0.12 per GB, left out: no PDF attached). */
  sesMessage: 0.1 / 1000,
  /** Lambda arm64: per GB-second, and per request. */
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** SQS standard: per request, each 64 KB of payload a request. */
  sqsRequest: 0.4 / 1e6,
  /** S3 Standard: PUT, COPY, POST, LIST per 1,000; GET, HEAD per 1,000; DELETE free. */
  s3Write: 0.005 / 1000,
  s3Read: 0.0004 / 1000,
  /** DynamoDB on demand: per write request unit (1 KB), per read request unit (4 KB). */
  dynamodbWrite: 0.625 / 1e6,
  dynamodbRead: 0.125 / 1e6,
};

/**
 * DynamoDB request units per recipient (lambdas/adapters/dynamodb-ledger.ts): the claim and
 * the outcome are each a transaction of two items under 1 KB (the entry, a counter item),
 * 2 units an item in a transaction, so 4 each; the sparse index is written when the claim
 * adds the entry to it and when a final outcome takes it out (1 each): 10 write units. The
 * batch reads each entry once, strongly consistent: 1 read unit.
 */
export const ledgerUnits = { write: 10, read: 1 };

/** The SES rate the model sends at: 14 messages a second, a new production account's. */
export const modelSendRate = 14;
/** Suppression shards one batch of 50 reads: the distinct shards of 50 random ids among 256. */
const shardsPerBatch = 256 * (1 - (255 / 256) ** recipientsPerMessage);
/** Wall time the feedback function takes for one delivery event (a HEAD, a GET, a PUT). */
const feedbackSeconds = 0.1;
const feedbackMemoryGb = 0.25;
const sendMemoryGb = 0.5;

export interface CostInput {
  recipients: number;
  /** The dispatch handler's time in this run. */
  dispatchSeconds: number;
  dispatchMemoryMb: number;
  /** The dispatch's S3 requests by kind (GET, HEAD, LIST, PUT, DELETE...). */
  s3: Record<string, number>;
  sqs: { messages: number; billedSends: number; calls: number };
}

/**
 * Dollars per campaign of `audience` recipients, by service and in all, with the ledger in
 * the DynamoDB table (`dynamodb`, the stack now) or in the data bucket (`s3`, before it).
 */
export function campaignCost(input: CostInput, audience: number, ledger: 'dynamodb' | 's3' = 'dynamodb') {
  const scale = audience / input.recipients;
  const plan = sendingPlan(modelSendRate);
  const batches = Math.ceil(audience / recipientsPerMessage);
  const invocations = Math.ceil(batches / plan.batchSize);
  const reads = (counts: Record<string, number>) => (counts.GET ?? 0) + (counts.HEAD ?? 0);
  const writes = (counts: Record<string, number>) =>
    (counts.PUT ?? 0) + (counts.POST ?? 0) + (counts.LIST ?? 0);

  // Dispatch: measured, in proportion.
  const dispatch = {
    s3Reads: reads(input.s3) * scale,
    s3Writes: writes(input.s3) * scale,
    gbSeconds: input.dispatchSeconds * scale * (input.dispatchMemoryMb / 1024),
  };
  // Send, per recipient: its ledger entry read, the claim and the outcome written, the run's
  // error budget read and written every 20 sends; per batch: the campaign record and the
  // hold read, the suppression shards, the finished marker, the record read again, and a
  // listing of the run's finished markers (1,000 a page: it grows with the run).
  let markerPages = 0;
  for (let k = 1; k <= batches; k++) markerPages += Math.ceil(k / 1000);
  const inS3 = ledger === 's3' ? 1 : 0;
  const send = {
    s3Reads: audience * (inS3 + 1 / 20) + batches * (3 + shardsPerBatch),
    s3Writes: audience * (2 * inS3 + 1 / 20) + batches + markerPages,
    // Each invocation sends its batches at the worker rate: the function waits between sends.
    gbSeconds: (audience / plan.workerRate) * sendMemoryGb,
    requests: invocations,
  };
  // Feedback: one delivery event per recipient (plus the rare bounce or complaint), each a
  // HEAD of the campaign, a GET and a PUT of the recipient's feedback object.
  const feedback = {
    s3Reads: audience * 2,
    s3Writes: audience,
    gbSeconds: audience * feedbackSeconds * feedbackMemoryGb,
    requests: audience,
  };
  // SQS: the dispatch's sends (measured), then the event source receiving the same payload
  // and deleting each batch of messages.
  const sqsRequests = (input.sqs.billedSends * 2 + input.sqs.messages / plan.batchSize) * scale;
  const ses = audience * prices.sesMessage;
  const lambda =
    (dispatch.gbSeconds + send.gbSeconds + feedback.gbSeconds) * prices.lambdaGbSecond +
    (1 + send.requests + feedback.requests) * prices.lambdaRequest;
  const sqs = sqsRequests * prices.sqsRequest;
  const s3 =
    (dispatch.s3Reads + send.s3Reads + feedback.s3Reads) * prices.s3Read +
    (dispatch.s3Writes + send.s3Writes + feedback.s3Writes) * prices.s3Write;
  const s3Ledger = audience * (1 * prices.s3Read + 2 * prices.s3Write);
  const dynamodb =
    ledger === 'dynamodb'
      ? audience * (ledgerUnits.write * prices.dynamodbWrite + ledgerUnits.read * prices.dynamodbRead)
      : 0;
  return { ses, lambda, sqs, s3, s3Ledger, dynamodb, total: ses + lambda + sqs + s3 + dynamodb };
}

/** The model as rows: each service per 100,000 and per 1,000,000 recipients. */
export function costRows(input: CostInput): Omit<BenchRow, 'suite'>[] {
  const rows: Omit<BenchRow, 'suite'>[] = [];
  for (const audience of [100_000, 1_000_000]) {
    const cost = campaignCost(input, audience);
    const before = campaignCost(input, audience, 's3');
    const per = `cost per ${audience.toLocaleString('en')} recipients`;
    rows.push(
      { name: `${per}: SES ($0.10 per 1,000)`, value: cost.ses, unit: 'USD' },
      {
        name: `${per}: Lambda (dispatch as measured, send at ${modelSendRate}/s, feedback)`,
        value: cost.lambda,
        unit: 'USD',
      },
      { name: `${per}: SQS`, value: cost.sqs, unit: 'USD' },
      { name: `${per}: S3 requests (all functions)`, value: cost.s3, unit: 'USD' },
      {
        name: `${per}: DynamoDB ledger (${ledgerUnits.write} write and ${ledgerUnits.read} read units a recipient)`,
        value: cost.dynamodb,
        unit: 'USD',
      },
      { name: `${per}: total`, value: cost.total, unit: 'USD' },
      {
        name: `${per}: before the table, the S3 ledger (1 GET, 2 PUT a recipient)`,
        value: before.s3Ledger,
        unit: 'USD',
      },
      { name: `${per}: before the table, S3 requests (all functions)`, value: before.s3, unit: 'USD' },
      { name: `${per}: before the table, total`, value: before.total, unit: 'USD' },
    );
  }
  return rows;
}
