import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { RecipientBatch, RecipientQueue } from '../core/campaigns/dispatch.ts';
import { PressroomError } from '../core/errors.ts';

export interface SqsRecipientQueueOptions {
  queueUrl: string;
  client?: SQSClient;
  /** Rounds of retries of the entries SQS reports as failed. */
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** SQS's limits: 10 entries per SendMessageBatch, 256 KiB for a message and for a whole call. */
const entriesPerCall = 10;
const maxCallBytes = 256 * 1024;

export class QueueError extends PressroomError {
  override name = 'QueueError';
}

/**
 * The recipient queue on SQS: batches go out 10 per `SendMessageBatch` (fewer when their
 * bodies would pass 256 KiB together). Entries SQS reports as failed are sent again a few
 * times with back-off; any still failing make `enqueue` throw, naming how many. A message
 * of 50 recipients weighs about 7 KB (~140 bytes a recipient).
 */
export class SqsRecipientQueue implements RecipientQueue {
  private readonly client: SQSClient;

  constructor(private readonly options: SqsRecipientQueueOptions) {
    this.client = options.client ?? new SQSClient({});
  }

  async enqueue(messages: RecipientBatch[]): Promise<void> {
    const entries = messages.map((message, i) => {
      const body = JSON.stringify(message);
      const bytes = Buffer.byteLength(body);
      if (bytes > maxCallBytes) {
        throw new QueueError(
          `batch ${message.index} of campaign "${message.campaign}" is ${bytes} bytes, over SQS's 256 KiB: use fewer recipients per message`,
        );
      }
      return { Id: String(i), MessageBody: body, bytes };
    });
    for (const call of calls(entries)) await this.sendAll(call);
  }

  /** Sends one call's entries, retrying those SQS reports as failed. */
  private async sendAll(entries: (SendMessageBatchRequestEntry & { bytes: number })[]): Promise<void> {
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const maxRetries = this.options.maxRetries ?? 4;
    let pending = entries;
    for (let attempt = 0; ; attempt++) {
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: pending.map(({ Id, MessageBody }) => ({ Id, MessageBody })),
        }),
      );
      const failed = result.Failed ?? [];
      if (failed.length === 0) return;
      // A sender fault (a malformed entry) will not pass on a retry.
      const retryable = failed.filter((f) => !f.SenderFault);
      if (retryable.length < failed.length || attempt >= maxRetries) {
        const first = failed[0];
        throw new QueueError(
          `SQS refused ${failed.length} of ${pending.length} batches (${first?.Code}: ${first?.Message}): the campaign is not fully enqueued`,
        );
      }
      const ids = new Set(retryable.map((f) => f.Id));
      pending = pending.filter((e) => ids.has(e.Id));
      await sleep(Math.min(2000, 100 * 2 ** attempt));
    }
  }
}

/** Groups entries into calls of at most 10 and 256 KiB. */
function* calls<T extends { bytes: number }>(entries: T[]): Generator<T[]> {
  let call: T[] = [];
  let size = 0;
  for (const entry of entries) {
    if (call.length === entriesPerCall || (call.length > 0 && size + entry.bytes > maxCallBytes)) {
      yield call;
      call = [];
      size = 0;
    }
    call.push(entry);
    size += entry.bytes;
  }
  if (call.length > 0) yield call;
}
