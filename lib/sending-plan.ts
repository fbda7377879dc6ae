/*
 * The sending plan alone, without CDK: lib/config.ts checks reservedSendConcurrency against
 * it, and the command line loads lib/config.ts (it must not load aws-cdk-lib).
 */

/**
 * How sending is spread over the send function's invocations so that, together, they
 * never exceed the account's SES rate. The README ("Deploy on AWS") gives the formulas.
 */
export interface SendingPlan {
  /** Concurrent send invocations: the SQS event source's maxConcurrency. */
  workers: number;
  /** Messages per second one invocation may send: sendRate / workers. */
  workerRate: number;
  /** Recipients in one SQS message, as dispatch enqueues them. */
  recipientsPerMessage: number;
  /** SQS messages per invocation. */
  batchSize: number;
  /** Seconds one batch takes at the worker rate. */
  batchSeconds: number;
  /** The send function's timeout, seconds. */
  timeoutSeconds: number;
  /** The queue's visibility timeout, seconds. */
  visibilityTimeoutSeconds: number;
}

/** Recipients per SQS message: small enough for 256 KB, large enough to keep SQS requests few. */
export const recipientsPerMessage = 50;
/** A batch is about this long at the worker rate; shorter batches retry less work. */
const targetBatchSeconds = 120;
/** Start-up, secret and ledger reads before the first message. */
const overheadSeconds = 60;
/** Times a message is received before it goes to the dead-letter queue. */
export const maxReceiveCount = 5;

const clamp = (n: number, low: number, high: number) => Math.min(high, Math.max(low, n));

/**
 * The plan for an SES rate (messages per second):
 *
 * - workers = clamp(ceil(sendRate / 10), 2, 100): about 10 messages per second each (SES
 *   calls take 50–100 ms), at least 2 (the SQS event source's minimum maxConcurrency);
 * - workerRate = sendRate / workers, so workers × workerRate = sendRate;
 * - batchSize = clamp(floor(workerRate × 120 / recipientsPerMessage), 1, 10) SQS messages,
 *   about two minutes of sending; 10 is SQS's largest batch without a batching window;
 * - batchSeconds = ceil(batchSize × recipientsPerMessage / workerRate);
 * - timeout = min(900, 2 × batchSeconds + 60): twice the sending time (throttling back-off
 *   and retries) plus a minute of start-up, so a batch always finishes in time;
 * - visibility timeout = 6 × timeout, as AWS advises for SQS event sources.
 */
export function sendingPlan(sendRate: number): SendingPlan {
  const workers = clamp(Math.ceil(sendRate / 10), 2, 100);
  const workerRate = sendRate / workers;
  const batchSize = clamp(Math.floor((workerRate * targetBatchSeconds) / recipientsPerMessage), 1, 10);
  const batchSeconds = Math.ceil((batchSize * recipientsPerMessage) / workerRate);
  const timeoutSeconds = Math.min(900, 2 * batchSeconds + overheadSeconds);
  return {
    workers,
    workerRate,
    recipientsPerMessage,
    batchSize,
    batchSeconds,
    timeoutSeconds,
    visibilityTimeoutSeconds: 6 * timeoutSeconds,
  };
}
