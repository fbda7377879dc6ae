import { type Suppression, shardOf } from '../contacts/model.ts';
import { readSuppressionShard, type SuppressionShard } from '../contacts/repository.ts';
import { PressroomError } from '../errors.ts';
import { listAll, type ObjectStore, updateJson } from '../store/object-store.ts';
import { type CampaignRecord, readCampaign, updateCampaign } from './campaign.ts';
import {
  type BatchRecipient,
  closeRun,
  dispatchKeys,
  pacingOf,
  type RecipientBatch,
  scheduleContinuation,
} from './dispatch.ts';
import { holdPauseReason, readSendingHold } from './hold.ts';
import { dispatchLeaseMs, takeLease } from './lease.ts';
import { isTerminal, type LedgerRecord, ledgerOf } from './ledger.ts';
import { laterSlices, nextQuotaWindow, quotaSpent, type SendingQuota } from './quota.ts';
import type { CampaignScheduler } from './remote.ts';
import {
  budgetExceeded,
  type Delivery,
  deliverTo,
  emptyTally,
  type Prepared,
  prepareCampaign,
  rateLimiter,
  type SendDeps,
} from './send.ts';

/**
 * One batch of a dispatched campaign, in one send function: the same delivery as
 * `pressroom send` (claim → suppression → compose → send with back-off → record, through
 * `deliverTo`) for the batch's recipients only, reading only their ledger entries and
 * suppression shards. What it cannot finish (throttled too long, the deadline near, a
 * transient error) is reported as `deferred` and the queue delivers the batch again; what is
 * done is never redone, since each recipient's ledger entry says so.
 */

export interface BatchOptions {
  /** Messages per second this worker may start. */
  rate: number;
  /** Sends in flight at once. Default: enough for the rate at ~200 ms per send. */
  concurrency?: number;
  /** The campaign's prepared message, when the caller keeps one (a warm function). */
  prepared?: Prepared;
  signal?: AbortSignal;
  /** Epoch milliseconds: no recipient is started after it; the rest are deferred. */
  deadline?: number;
  /**
   * Pause when more than `ratio` of the run's sends fail for good, once `after` were tried:
   * counted over every batch of the run, in every send function (see `runBudget`).
   */
  errorBudget?: { ratio: number; after: number };
  maxAttempts?: number;
  maxThrottleRetries?: number;
  maxSameTransient?: number;
  /**
   * The account's sending quota, read before the batch (cache it: quota.ts `cachedQuota`).
   * Spent, the batch sends nobody and is acknowledged: see {@link leaveForLater}.
   */
  quota?: SendingQuota;
  /**
   * Where the campaign's next quota window is scheduled when its quota runs out and dispatch
   * planned no next slice (the campaigns' schedule group on AWS). Absent: it is paused.
   */
  continuation?: CampaignScheduler;
}

export interface BatchReport {
  campaign: string;
  run: string;
  index: number;
  sent: number;
  failed: number;
  skipped: number;
  /** Sends the provider throttled (each retried after a back-off, or deferred). */
  throttled: number;
  /** Contact ids left for a retry of the batch (throttled, deadline, transient error). */
  deferred: string[];
  /** Contact ids claimed by an earlier attempt with no outcome: not resent (SES may have it). */
  uncertain: string[];
  /** With an outcome already: a redelivered batch finds its recipients here. */
  alreadyDone: number;
  /** Claimed by another run's batch right now: that one sends. */
  held: number;
  /** Why the campaign was paused by this batch (the provider refuses everything, error budget). */
  halted?: string;
  /** Why nothing was tried: the campaign is paused or cancelled. */
  dropped?: string;
  /**
   * Why the batch stopped for the next quota window: SES refused a send, its daily quota used
   * up. Its recipients not sent are `deferred`, pending in the ledger; the run is closed.
   */
  quotaSpent?: string;
  /** This batch finished (marker written); `closed` when it was the run's last one. */
  completed: boolean;
  closed: boolean;
}

/** Sends one batch of recipients; see the module comment. */
export function sendBatch(
  batch: RecipientBatch,
  deps: SendDeps,
  options: BatchOptions,
): Promise<BatchReport> {
  return sendPreparedBatch(batch, deps, options, (definition) =>
    prepareCampaign(definition, deps, { checkApproval: false }),
  );
}

/**
 * sendBatch, the campaign prepared by `prepare` when `options.prepared` is not given: the send
 * function prepares it with the skeleton stored by dispatch (send.ts: `prepareCampaignWith`).
 */
export async function sendPreparedBatch(
  batch: RecipientBatch,
  deps: SendDeps,
  options: BatchOptions,
  prepare: (definition: CampaignRecord['definition']) => Promise<Prepared>,
): Promise<BatchReport> {
  const clock = deps.clock ?? (() => new Date());
  const report: BatchReport = {
    campaign: batch.campaign,
    run: batch.run,
    index: batch.index,
    sent: 0,
    failed: 0,
    skipped: 0,
    throttled: 0,
    deferred: [],
    uncertain: [],
    alreadyDone: 0,
    held: 0,
    completed: false,
    closed: false,
  };
  const record = await readCampaign(deps.store, batch.campaign);
  if (record.state === 'paused' || record.state === 'cancelled') {
    // Dispatching again resumes a paused campaign, with fresh batches.
    report.dropped = `campaign ${record.state}`;
    return report;
  }
  // Its run stopped on the spent quota (another batch of it): the next quota window sends it.
  if (record.runs.some((r) => r.startedAt === batch.run && r.outcome === 'quota')) {
    report.dropped = 'the daily quota is used up: waiting for the next quota window';
    return report;
  }
  // Sending held (a reputation alarm) after this batch was queued: nobody is sent, and the
  // campaign is paused already (hold.ts).
  const hold = await readSendingHold(deps.store);
  if (hold) {
    report.dropped = holdPauseReason(hold);
    return report;
  }
  if (options.quota) {
    const left = await leaveForLater(deps.store, batch, options, clock());
    if (left) {
      report.dropped = left;
      return report;
    }
  }
  const definition = record.definition;
  // Approval is checked once, when dispatch starts the run: its batches go on.
  const prepared = options.prepared ?? (await prepare(definition));
  await renewRunLease(deps.store, batch, record, clock());

  const entries = await ledgerOf(deps).entries(batch.campaign, batch.recipients);
  const todo: { recipient: BatchRecipient; existing: LedgerRecord | undefined }[] = [];
  for (const recipient of batch.recipients) {
    const existing = entries.get(recipient.id);
    if (isTerminal(existing?.entry)) report.alreadyDone++;
    else if (
      existing?.entry.status === 'claimed' &&
      !deps.mailer.idempotent &&
      recipient.resendClaimedAt !== existing.entry.claimedAt
    )
      report.uncertain.push(recipient.id);
    else todo.push({ recipient, existing });
  }

  // One read per suppression shard of the batch, shared by its recipients.
  const shards = new Map<string, Promise<SuppressionShard>>();
  const suppressionOf = async (id: string): Promise<Suppression | undefined> => {
    const shard = shardOf(id);
    let read = shards.get(shard);
    if (!read) {
      read = readSuppressionShard(deps.store, shard);
      shards.set(shard, read);
    }
    return (await read).suppressions[id];
  };

  let halted: string | undefined;
  let quotaRefused: string | undefined;
  const budget = runBudget(
    deps.store,
    batch,
    options.errorBudget ?? { ratio: 0.05, after: 100 },
    (reason) => {
      halted ??= reason;
    },
  );
  const pastDeadline = () => options.deadline !== undefined && Date.now() >= options.deadline;
  const stopped = () =>
    options.signal?.aborted === true || halted !== undefined || quotaRefused !== undefined || pastDeadline();
  const rate = options.rate;
  const concurrency = Math.max(1, options.concurrency ?? Math.min(16, Math.ceil(rate * 0.2) + 1));
  const tally = emptyTally();
  const delivery: Delivery = {
    definition,
    prepared,
    deps,
    waitForSlot: rateLimiter(rate, deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)))),
    suppressionOf,
    stopped,
    halt: (reason) => {
      halted ??= reason;
    },
    quotaExhausted: (reason) => {
      quotaRefused ??= reason;
    },
    tally,
    counted: budget.counted,
    resume: resumeOnStack(batch.campaign),
    maxAttempts: options.maxAttempts ?? 3,
    maxThrottleRetries: options.maxThrottleRetries ?? 12,
    maxSameTransient: options.maxSameTransient ?? 10,
  };

  let next = 0;
  let fatal: unknown;
  const failedIds: string[] = [];
  const worker = async () => {
    for (;;) {
      const item = todo[next];
      if (!item || stopped() || fatal !== undefined) return;
      next++;
      try {
        const status = await deliverTo(
          delivery,
          { ...item.recipient, ...(item.recipient.lists && { via: item.recipient.lists }) },
          item.existing,
        );
        if (status === undefined) report.held++;
        else if (status === 'deferred') report.deferred.push(item.recipient.id);
        else if (status === 'failed') failedIds.push(item.recipient.id);
      } catch (error) {
        fatal ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, worker));
  // Not started (deadline, stop, halt, an error): left for the next delivery of the batch.
  for (const item of todo.slice(next)) report.deferred.push(item.recipient.id);
  if (fatal !== undefined) throw fatal;
  // What this batch counted and has not yet added to the run's count.
  await budget.flush();

  // A transient failure is tried again with the batch; a refused address is final.
  const failed = await ledgerOf(deps).entries(
    batch.campaign,
    failedIds.map((id) => ({ id })),
  );
  for (const id of failedIds) {
    if (!isTerminal(failed.get(id)?.entry)) report.deferred.push(id);
  }
  report.sent = tally.sent;
  report.failed = tally.failed;
  report.skipped = tally.skipped;
  report.throttled = tally.throttled;

  const at = clock().toISOString();
  if (halted !== undefined) {
    report.halted = halted;
    // Pausing is at once: the other batches of the run are dropped when they arrive, and
    // dispatching again resumes. Only an open run pauses its campaign.
    await closeRun(deps.store, batch.campaign, batch.run, 'paused', at, (r) => ({
      ...r,
      state: 'paused',
      pausedReason: halted as string,
      updatedAt: at,
    }));
    return report;
  }
  if (quotaRefused !== undefined) {
    // SES's own answer that the quota is spent: as if the quota read had said so.
    report.quotaSpent = quotaRefused;
    await waitForQuotaWindow(deps.store, batch, quotaRefused, clock(), options.continuation);
    return report;
  }
  if (report.deferred.length > 0) return report;

  await deps.store.put(
    dispatchKeys.batchDone(batch.campaign, batch.run, batch.index),
    `${JSON.stringify({ run: batch.run, index: batch.index, at, sent: report.sent, failed: report.failed, skipped: report.skipped })}\n`,
    { contentType: 'application/json' },
  );
  report.completed = true;
  report.closed = await closeIfComplete(deps.store, batch.campaign, batch.run, at);
  return report;
}

/**
 * The daily quota is spent ({@link quotaSpent}): the batch claims nobody, so its recipients
 * stay without an outcome, and it is acknowledged, not put back on the queue (which would
 * only bring it to the dead-letter queue after its receives). The campaign waits for the next
 * quota window ({@link waitForQuotaWindow}). Says why, or undefined to go on.
 */
async function leaveForLater(
  store: ObjectStore,
  batch: RecipientBatch,
  options: Pick<BatchOptions, 'quota' | 'continuation'>,
  now: Date,
): Promise<string | undefined> {
  const quota = await options.quota?.read();
  if (!quota || !quotaSpent(quota)) return undefined;
  const reason = `the SES daily quota is used up (${quota.sentLast24Hours} of ${quota.max24Hour} sent in the last 24 hours)`;
  await waitForQuotaWindow(store, batch, reason, now, options.continuation);
  return reason;
}

/**
 * The quota is spent (read, or SES refused a send): the run is closed and the campaign waits
 * for its next day's slice that dispatch scheduled (state `scheduled`: that dispatch sends
 * whoever has no outcome). When none was planned (other mail used the quota, or SES counted
 * more than the read said), the next quota window is scheduled here, as dispatch schedules a
 * slice ({@link nextQuotaWindow}); with no scheduler, or should that fail, the campaign is
 * paused with the reason, to be resumed.
 */
async function waitForQuotaWindow(
  store: ObjectStore,
  batch: RecipientBatch,
  reason: string,
  now: Date,
  continuation: CampaignScheduler | undefined,
): Promise<void> {
  const at = now.toISOString();
  const record = await readCampaign(store, batch.campaign);
  const open = record.runs.some((r) => r.startedAt === batch.run && !r.endedAt);
  let scheduled = false;
  let unscheduled = '';
  if (continuation && open && record.state === 'sending' && laterSlices(record.plan).length === 0) {
    const pacing = pacingOf(record);
    try {
      await scheduleContinuation(batch.campaign, nextQuotaWindow(now, pacing), pacing, { continuation });
      scheduled = true;
    } catch (error) {
      unscheduled = ` (its next quota window could not be scheduled: ${(error as Error).message})`;
    }
  }
  await closeRun(store, batch.campaign, batch.run, 'quota', at, (r) =>
    r.state !== 'sending'
      ? r
      : scheduled || laterSlices(r.plan).length > 0
        ? { ...r, state: 'scheduled', updatedAt: at }
        : {
            ...r,
            state: 'paused',
            pausedReason: `${reason}: nobody was counted as failed${unscheduled}; ${resumeOnStack(batch.campaign)} once the 24-hour window has moved on`,
            updatedAt: at,
          },
  );
}

/** How a pause on the stack says to resume. */
export const resumeOnStack = (campaign: string) =>
  `resume it with \`pressroom campaign resume ${campaign} --backend aws\``;

/** The count of a dispatched run's sends, for its error budget. */
export interface RunBudgetCount {
  /** Sends tried that reached an outcome: sent, or refused for good. */
  attempted: number;
  /** Refused for good (the address, the content). */
  failed: number;
}

/**
 * Where a run's count is kept: beside the run's batch markers, not among them (they are
 * counted to know when the run is complete).
 */
export const runBudgetKey = (campaign: string, run: string) =>
  `${dispatchKeys.runPrefix(campaign, run).replace(/\/$/, '')}.budget.json`;

/** Sends counted before the count is added to the run's: one read and one write per this many. */
const budgetFlushEvery = 20;

/**
 * The error budget of a dispatched run, whose batches are sent by many functions at once:
 * each batch adds what it counted to one object per run with compare-and-swap (a conflict
 * reads again and adds again, so no count is lost to a concurrent worker), at once after a
 * permanent failure and otherwise every few sends, and compares the run's total with the
 * budget. A transient failure is not counted: its batch is delivered again and tries it
 * again (and a run of them is the provider's, which pauses on its own). A resume is a new run
 * with a new count, as a new `pressroom send` run is locally.
 */
function runBudget(
  store: ObjectStore,
  batch: RecipientBatch,
  budget: { ratio: number; after: number },
  halt: (reason: string) => void,
) {
  const key = runBudgetKey(batch.campaign, batch.run);
  let pending: RunBudgetCount = { attempted: 0, failed: 0 };
  const flush = async () => {
    if (pending.attempted === 0) return;
    const add = pending;
    pending = { attempted: 0, failed: 0 };
    const total = await updateJson<RunBudgetCount>(
      store,
      key,
      () => ({ attempted: 0, failed: 0 }),
      (current) => ({ attempted: current.attempted + add.attempted, failed: current.failed + add.failed }),
    );
    if (total.attempted >= budget.after && total.failed / total.attempted > budget.ratio)
      halt(budgetExceeded(total, budget.ratio, batch.campaign, resumeOnStack(batch.campaign)));
  };
  return {
    flush,
    counted: async (outcome: 'sent' | 'failed') => {
      pending.attempted++;
      if (outcome === 'failed') pending.failed++;
      if (outcome === 'failed' || pending.attempted >= budgetFlushEvery) await flush();
    },
  };
}

/**
 * A batch being sent keeps its run's lease (taken by dispatch) alive. Renewed only once half
 * of it has gone, so that most batches only read the record.
 */
async function renewRunLease(
  store: ObjectStore,
  batch: RecipientBatch,
  read: CampaignRecord,
  now: Date,
): Promise<void> {
  const stale = (r: CampaignRecord) =>
    r.lease?.id === batch.run && Date.parse(r.lease.expiresAt) - now.getTime() < dispatchLeaseMs / 2;
  if (!stale(read)) return;
  await updateCampaign(
    store,
    batch.campaign,
    () => {
      throw new PressroomError(`no campaign "${batch.campaign}"`);
    },
    (current) =>
      stale(current) && current.lease
        ? takeLease(current, batch.campaign, batch.run, current.lease, now, { duration: dispatchLeaseMs })
        : current,
  );
}

/** When every batch of the run has its marker, closes the run and marks the campaign sent. */
async function closeIfComplete(store: ObjectStore, campaign: string, run: string, at: string) {
  const record = await readCampaign(store, campaign);
  const entry = record.runs.find((r) => r.startedAt === run);
  if (!entry || entry.endedAt || entry.batches === undefined) return false;
  let done = 0;
  for await (const _ of listAll(store, dispatchKeys.runPrefix(campaign, run))) done++;
  if (done < entry.batches) return false;
  // Compare-and-swap: of two last batches finishing together, one closes the run.
  // A campaign the quota spreads over days waits for its next slice (quota.ts).
  return closeRun(store, campaign, run, 'completed', at, (r) =>
    r.state === 'sending'
      ? { ...r, state: laterSlices(r.plan).length > 0 ? 'scheduled' : 'sent', updatedAt: at }
      : { ...r, updatedAt: at },
  );
}
