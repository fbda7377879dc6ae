import { type AudienceExclusions, type AudienceMember, resolveAudience } from '../contacts/audience.ts';
import { BusyError, PressroomError } from '../errors.ts';
import { scheduleNameFor } from '../schedule-name.ts';
import { getText, listAll, type ObjectStore } from '../store/object-store.ts';
import {
  audienceLists,
  CampaignNotFoundError,
  type CampaignRecord,
  campaignFailure,
  readCampaign,
  recordCampaignFailure,
  registerCampaign,
  updateCampaign,
} from './campaign.ts';
import { heldError, holdPauseReason, readSendingHold, type SendingHold } from './hold.ts';
import { dispatchLeaseMs, dropLease, type LeaseOwner, takeLease } from './lease.ts';
import { isTerminal, type Ledger, LedgerContactIds, type LedgerEntry, ledgerOf } from './ledger.ts';
import { encodeTo, storeSkeleton } from './message-skeleton.ts';
import { oneTimeSchedule } from './one-time-schedule.ts';
import {
  defaultDailyStart,
  laterSlices,
  nowLimit,
  type PacingSettings,
  planSending,
  type SendingPlan,
  type SendingQuota,
} from './quota.ts';
import type { CampaignScheduler } from './remote.ts';
import { lateFire, pauseLateCampaign } from './schedule.ts';
import { checkRealSend, prepareCampaign, recipientAddress } from './send.ts';

/**
 * Dispatching a campaign (the AWS way of sending): resolve the audience once, cut the
 * recipients still to be mailed into batches, and put the batches on a queue; send
 * functions then mail each batch (`sendBatch`, batch.ts). The campaign record counts the
 * batches of the run, and each finished batch leaves a completion marker: the batch that
 * completes the set closes the run and marks the campaign sent.
 *
 * Dispatching again is safe: every dispatch opens a new run with the recipients that have no
 * outcome yet, and the ledger's create-if-absent claim lets exactly one send happen per
 * recipient, whichever run's batch gets there first. Recipients whose send was in flight
 * when a run stopped (claimed, no outcome) are left out, since SES may have taken the
 * message: `resendUncertain` sends them again.
 */

/** A recipient as a queue message carries it: what personalisation needs, nothing more. */
export interface BatchRecipient {
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
  /** The campaign's lists that reach this person, when not all of them (several lists). */
  lists?: string[];
  /** The To header, encoded by dispatch (message-skeleton.ts): the send function writes it as it is. */
  to?: string;
  /** The contact's language, when the campaign's release has a version in another (send.ts: versionFor). */
  language?: string;
  /**
   * Set when dispatched with resendUncertain: the claim time of the uncertain ledger entry.
   * The batch resends only over that very claim, so a redelivered batch does not send twice.
   */
  resendClaimedAt?: string;
}

/** One queue message: part of one run of one campaign. */
export interface RecipientBatch {
  campaign: string;
  /** The run's id: its start time, as in the campaign record's `runs`. */
  run: string;
  /** 0-based position of the batch in its run. */
  index: number;
  recipients: BatchRecipient[];
}

/** The work queue port: batches of recipients for the send functions (SQS on AWS). */
export interface RecipientQueue {
  enqueue(messages: RecipientBatch[]): Promise<void>;
}

export interface DispatchDeps {
  store: ObjectStore;
  queue: RecipientQueue;
  clock?: () => Date;
  /** Who dispatches, as the campaign's lease shows it (default "the dispatch function"). */
  owner?: LeaseOwner;
  /** The addresses in the messages: checked before anything is enqueued (real mail only). */
  urls?: { publicUrl: string; siteUrl?: string };
  /** Lists declared in the workspace: a campaign may name one that has no contact yet. */
  lists?: readonly string[];
  /**
   * The account's sending quota (SES on AWS): read at each dispatch, which enqueues only what
   * fits now and plans the rest over the next days (quota.ts). Absent: everyone now.
   */
  quota?: SendingQuota;
  /** Where the next day's slice is scheduled (the campaigns' schedule group on AWS). */
  continuation?: CampaignScheduler;
  /** The delivery ledger (DynamoDB on AWS); default the store's. */
  ledger?: Ledger;
}

export interface DispatchOptions {
  /** Recipients per queue message. */
  recipientsPerMessage: number;
  /** Also enqueue recipients whose send was in flight when a run stopped (may duplicate). */
  resendUncertain?: boolean;
}

export interface DispatchReport {
  campaign: string;
  /** The run started, or '' when there was nothing to do. */
  run: string;
  state: CampaignRecord['state'];
  audience: number;
  /** Matching the audience but marked do-not-contact: left out, never mailed. */
  doNotContact?: number;
  /** Recipients put on the queue. */
  enqueued: number;
  batches: number;
  /** With an outcome already (sent, skipped, refused): not enqueued. */
  alreadyDone: number;
  /** Claimed with no outcome, left out (see resendUncertain); their ids. */
  uncertain: string[];
  /** Why nothing was enqueued when a schedule fired too late (see dispatchScheduledCampaign). */
  pausedReason?: string;
  /** Left for the next days by the sending quota (see `plan`): not enqueued. */
  later?: number;
  /** How the quota spreads the recipients to do, this run's slice first (quota.ts). */
  plan?: SendingPlan;
  /** The schedule that dispatches the next slice: its name and when it fires (UTC ISO). */
  continuation?: { name: string; at: string };
}

/** The key layout of dispatched runs, beside the campaign record. */
export const dispatchKeys = {
  runPrefix: (campaign: string, run: string) => `campaigns/${campaign}/runs/${runKey(run)}/`,
  batchDone: (campaign: string, run: string, index: number) =>
    `campaigns/${campaign}/runs/${runKey(run)}/batch-${String(index).padStart(6, '0')}.done.json`,
};

/** A run id (an ISO time) as a key segment: digits and letters only. */
const runKey = (run: string) => run.replace(/[^0-9A-Za-z]/g, '');

/** Above this, a batch would come near SQS's 256 KiB message limit (~150 bytes a recipient). */
export const maxRecipientsPerMessage = 1000;

/**
 * Starts (or resumes) a campaign: enqueues the recipients still to be mailed, in batches.
 *
 * Nobody may be watching (a schedule fires it), so a failure the user has to act on (a
 * PressroomError: embargo, unknown list, contacts to merge, links that would not work, a
 * cancelled campaign, a damaged file) is also recorded in the campaign's record as
 * `lastError`, where `pressroom campaign status` shows it; the state stays as it was. The
 * error is thrown all the same, so the invocation fails. Not recorded: a campaign held by
 * another run (BusyError: the lease says who), and errors of AWS or of the code, which go up
 * for Lambda's and Scheduler's retries. A run that starts clears `lastError`.
 */
export async function dispatchCampaign(
  name: string,
  deps: DispatchDeps,
  options: DispatchOptions,
): Promise<DispatchReport> {
  const hold = await readSendingHold(deps.store);
  if (hold) return pauseForHold(name, hold, deps);
  try {
    return await dispatchRun(name, deps, options);
  } catch (error) {
    if (
      error instanceof PressroomError &&
      !(error instanceof BusyError) &&
      !(error instanceof CampaignNotFoundError)
    ) {
      const now = (deps.clock ?? (() => new Date()))();
      await recordCampaignFailure(deps.store, name, campaignFailure(error.message, now));
    }
    throw error;
  }
}

/**
 * Dispatching when a campaign's schedule fires, `scheduledAt` being the time it was set for.
 * Started later than the window (Scheduler was down, retries ran long), it enqueues nobody:
 * the campaign is paused with the reason (`lateFire`, the due-job runner's rule) and
 * someone decides whether the announcement is still worth sending. In time, it is
 * {@link dispatchCampaign}.
 */
export async function dispatchScheduledCampaign(
  name: string,
  scheduledAt: string,
  deps: DispatchDeps,
  options: DispatchOptions & { lateFireWindowMinutes: number },
): Promise<DispatchReport> {
  const now = (deps.clock ?? (() => new Date()))();
  // Stopped between two days of a paced campaign: the next day's schedule does not resume it.
  const current = await readCampaign(deps.store, name);
  if (current.state === 'paused')
    return pausedReport(name, current.state, current.pausedReason ?? 'the campaign is paused');
  const late = lateFire(scheduledAt, now, options.lateFireWindowMinutes, name);
  if (!late) return dispatchCampaign(name, deps, options);
  const { record } = await pauseLateCampaign(deps.store, name, late, now);
  return pausedReport(name, record.state, late.reason);
}

/** What a dispatch that enqueued nobody, the campaign paused instead, answers. */
function pausedReport(name: string, state: CampaignRecord['state'], reason: string): DispatchReport {
  return {
    campaign: name,
    run: '',
    state,
    audience: 0,
    enqueued: 0,
    batches: 0,
    alreadyDone: 0,
    uncertain: [],
    pausedReason: reason,
  };
}

/**
 * While sending is held (hold.ts), a campaign that would start (its schedule fires, a send or a
 * resume through the function) is paused with the reason instead, and nobody is enqueued. The
 * invocation succeeds: retrying it would not lift the hold.
 */
async function pauseForHold(name: string, hold: SendingHold, deps: DispatchDeps): Promise<DispatchReport> {
  const now = (deps.clock ?? (() => new Date()))();
  const reason = holdPauseReason(hold);
  const record = await updateCampaign(
    deps.store,
    name,
    () => {
      throw new CampaignNotFoundError(`no campaign "${name}"`);
    },
    (current) =>
      current.state === 'sent' || current.state === 'cancelled'
        ? current
        : {
            ...current,
            state: 'paused',
            pausedReason: reason,
            lastError: campaignFailure(heldError(name, hold).message, now),
            updatedAt: now.toISOString(),
          },
  );
  return pausedReport(name, record.state, reason);
}

async function dispatchRun(
  name: string,
  deps: DispatchDeps,
  options: DispatchOptions,
): Promise<DispatchReport> {
  const per = options.recipientsPerMessage;
  if (!Number.isInteger(per) || per < 1 || per > maxRecipientsPerMessage) {
    throw new PressroomError(
      `recipientsPerMessage must be a whole number from 1 to ${maxRecipientsPerMessage} (value: ${per})`,
    );
  }
  const clock = deps.clock ?? (() => new Date());
  const record = await readCampaign(deps.store, name);
  if (record.state === 'cancelled') {
    throw new PressroomError(
      `campaign "${name}" was cancelled: nothing is sent. Register it again to send it.`,
    );
  }
  const definition = record.definition;
  // Embargo, sendAt, links that would not work: a clear error, nothing changed or enqueued.
  const prepared = await prepareCampaign(definition, { store: deps.store, clock });
  if (deps.urls) checkRealSend(prepared, deps.urls);
  // The message's MIME structure, built here once, and each To below: the send function
  // fills them in without nodemailer's MailComposer and MimeNode (a smaller function).
  await storeSkeleton(deps.store, name, prepared.common);
  if (prepared.commonAfterEmbargo) await storeSkeleton(deps.store, name, prepared.commonAfterEmbargo);
  // Each translation's message has its subject (and PDF): a skeleton of its own.
  for (const version of Object.values(prepared.translations ?? {}))
    await storeSkeleton(deps.store, name, version.common);

  // The audience is read as a stream and cut into batches staged in the store as they fill:
  // memory holds one batch, not the audience. Nothing is on the queue until the whole
  // audience was read without an error (an unknown list, contacts to merge).
  const run = clock().toISOString();
  await removeAbandonedStaging(deps.store, name, clock());
  const staging = new StagedBatches(deps.store, name, run, per);
  // Do-not-contact people matching the audience: never enqueued, and the report says how many.
  const excluded: AudienceExclusions = { doNotContact: 0 };
  const allLists = audienceLists(definition.audience).join(',');
  const ledger = await LedgerContactIds.read(ledgerOf(deps), name);
  const uncertain: string[] = [];
  let audienceSize = 0;
  let alreadyDone = 0;
  // The sending quota: what fits now is enqueued, the rest left for the next days' slices.
  const quota = deps.quota ? await deps.quota.read() : undefined;
  const limit = nowLimit(quota);
  let later = 0;
  /** Contacts with a ledger entry, whose entries are read a few at a time. */
  let withEntry: AudienceMember[] = [];
  const add = async (contact: AudienceMember, entry?: LedgerEntry) => {
    if (isTerminal(entry)) {
      alreadyDone++;
      return;
    }
    const claimed = entry?.status === 'claimed';
    if (claimed && !options.resendUncertain) {
      uncertain.push(contact.id);
      return;
    }
    if (staging.recipients >= limit) {
      later++;
      return;
    }
    await staging.add({
      id: contact.id,
      email: contact.email,
      ...(contact.firstName && { firstName: contact.firstName }),
      ...(contact.lastName && { lastName: contact.lastName }),
      to: encodeTo(recipientAddress(contact)),
      // The send function picks the version in this language (translations): only when there is one.
      ...(prepared.translations && contact.language && { language: contact.language }),
      // Only when it is not every list of the campaign: queue messages stay small.
      ...(contact.via.join(',') !== allLists && { lists: contact.via }),
      ...(claimed && entry && { resendClaimedAt: entry.claimedAt }),
    });
  };
  const checkEntries = async () => {
    const entries = await ledgerOf(deps).entries(name, withEntry);
    for (const contact of withEntry) await add(contact, entries.get(contact.id)?.entry);
    withEntry = [];
  };
  try {
    for await (const contact of resolveAudience(deps.store, definition.audience, deps.lists, excluded)) {
      audienceSize++;
      if (!ledger.has(contact.id)) await add(contact);
      // Final by the listing itself (DynamoDB): not read again.
      else if (ledger.finished(contact.id)) alreadyDone++;
      else {
        withEntry.push(contact);
        if (withEntry.length >= 64) await checkEntries();
      }
    }
    await checkEntries();
    await staging.end();
  } catch (error) {
    await staging.remove();
    throw error;
  }
  const batchCount = staging.count;
  const enqueued = staging.recipients;
  const plan = quota ? planSending(enqueued + later, quota, clock(), pacingOf(record)) : undefined;
  const next = laterSlices(plan)[0];

  // The run is recorded (with its batch count) before any batch is on the queue: a send
  // function that finishes the last batch finds the count it compares with.
  const empty = batchCount === 0;
  // Nothing fits now but some are left: the campaign waits for its next day's slice.
  const waiting = empty && next !== undefined;
  await registerCampaign(deps.store, name);
  const updated = await updateCampaign(
    deps.store,
    name,
    () => record,
    (current) => {
      if (current.state === 'cancelled') throw new PressroomError(`campaign "${name}" was cancelled`);
      // One run at a time, as locally: the lease lasts while the run's batches are being
      // sent (each batch renews it) and ends with the run. CampaignBusyError otherwise.
      const leased = takeLease(
        current,
        name,
        run,
        deps.owner ?? { holder: 'the dispatch function' },
        clock(),
        {
          duration: dispatchLeaseMs,
        },
      );
      // A run starts: an earlier pause or failed start is over.
      const { pausedReason: _old, lastError: _failed, ...rest } = empty ? dropLease(leased, run) : leased;
      return {
        ...rest,
        state: waiting ? 'scheduled' : empty ? 'sent' : 'sending',
        updatedAt: run,
        audienceSize,
        ...(plan && { plan }),
        runs: [
          // An open run is superseded: its batches still deliver (the ledger keeps them from
          // sending twice) but only this run's batches close the campaign.
          ...current.runs.map((r) => (r.endedAt ? r : { ...r, endedAt: run, outcome: 'superseded' })),
          {
            startedAt: run,
            heartbeatAt: run,
            batches: batchCount,
            ...(empty && { endedAt: run, outcome: waiting ? 'quota' : 'completed' }),
          },
        ],
      };
    },
  ).catch(async (error: unknown) => {
    // Busy (another run holds the lease) or cancelled meanwhile: nothing goes on the queue.
    await staging.remove();
    throw error;
  });
  let continuation: DispatchReport['continuation'];
  let step = 'the next day’s slice could not be scheduled';
  try {
    // The next day's slice is scheduled before today's is on the queue: should that fail,
    // nothing was sent and the invocation fails (and is retried).
    if (next) continuation = await scheduleContinuation(name, next.from, pacingOf(record), deps);
    step = 'the batches could not all be enqueued';
    await staging.enqueue(deps.queue);
  } catch (error) {
    // Some batches may be missing from the queue: the run can never complete. It is closed,
    // and dispatching again resumes (recipients already mailed are not enqueued again).
    const at = clock().toISOString();
    await closeRun(deps.store, name, run, 'error', at, (r) => ({ ...r, updatedAt: at })).catch(() => {});
    await staging.remove();
    throw new PressroomError(
      `campaign "${name}": ${step} (${(error as Error).message}). Dispatch it again to resume (\`pressroom campaign resume ${name} --backend aws\`): nobody is mailed twice.`,
      { cause: error },
    );
  }
  return {
    campaign: name,
    run,
    state: updated.state,
    audience: audienceSize,
    doNotContact: excluded.doNotContact,
    enqueued,
    batches: batchCount,
    alreadyDone,
    uncertain,
    ...(plan && { later, plan }),
    ...(continuation && { continuation }),
  };
}

/**
 * The zone and daily start of a campaign's later slices: the record's (the command line
 * writes the workspace's), else the zone of its `sendAt` (when it names one) and 09:00.
 */
export function pacingOf(record: CampaignRecord): PacingSettings {
  if (record.pacing) return record.pacing;
  const zone = record.definition.sendAt?.zone;
  return { timeZone: zone && !zone.startsWith('UTC') ? zone : 'UTC', dailyStart: defaultDailyStart };
}

/**
 * Puts the one-time schedule that dispatches the campaign again at `at` (its next slice),
 * under the campaign's own schedule name: `campaign cancel` deletes it, a reschedule replaces
 * it. When it fires, dispatch reads the quota again and sends whoever has no outcome yet.
 */
export async function scheduleContinuation(
  name: string,
  at: string,
  pacing: PacingSettings,
  deps: Pick<DispatchDeps, 'continuation'>,
): Promise<{ name: string; at: string }> {
  if (!deps.continuation)
    throw new PressroomError(
      `campaign "${name}": the sending quota leaves some recipients for later, and nothing can schedule the next slice (no scheduler)`,
    );
  const schedule = {
    campaign: name,
    at,
    name: scheduleNameFor(name),
    ...oneTimeSchedule({ utc: at, zone: pacing.timeZone, written: at }),
  };
  await deps.continuation.put(schedule);
  return { name: schedule.name, at };
}

/**
 * Closes a run if it is still open, changing the record as `change` says (the campaign's
 * state). Returns whether this call closed it: exactly one caller does.
 */
export async function closeRun(
  store: ObjectStore,
  campaign: string,
  run: string,
  outcome: string,
  at: string,
  change: (record: CampaignRecord) => CampaignRecord,
): Promise<boolean> {
  let closed = false;
  await updateCampaign(
    store,
    campaign,
    () => {
      throw new PressroomError(`no campaign "${campaign}"`);
    },
    (current) => {
      closed = false;
      const open = current.runs.some((r) => r.startedAt === run && !r.endedAt);
      if (!open) return current;
      closed = true;
      return change({
        ...dropLease(current, run),
        runs: current.runs.map((r) =>
          r.startedAt === run && !r.endedAt ? { ...r, endedAt: at, outcome } : r,
        ),
      });
    },
  );
  return closed;
}

/**
 * A run's batches, staged in the store as they fill (`campaigns/<name>/staging/<run>/`, out of
 * the run's prefix, whose objects count its finished batches), then put on the queue ten at a
 * time and removed. Memory holds the batch being filled.
 */
class StagedBatches {
  /** Batches cut so far. */
  count = 0;
  recipients = 0;
  /** Staged objects written, each holding up to `batchesPerObject` batches. */
  private objects = 0;
  private filling: BatchRecipient[] = [];
  private group: RecipientBatch[] = [];
  private groupRecipients = 0;
  private readonly prefix: string;

  constructor(
    private readonly store: ObjectStore,
    private readonly campaign: string,
    private readonly run: string,
    private readonly per: number,
  ) {
    this.prefix = `campaigns/${campaign}/staging/${runKey(run)}/`;
  }

  async add(recipient: BatchRecipient): Promise<void> {
    this.filling.push(recipient);
    this.recipients++;
    if (this.filling.length >= this.per) await this.cut();
  }

  async end(): Promise<void> {
    if (this.filling.length > 0) await this.cut();
    if (this.group.length > 0) await this.stage();
  }

  private key(index: number): string {
    return `${this.prefix}${String(index).padStart(6, '0')}.json`;
  }

  /** The batch being filled is complete: into the group, which is staged once full. */
  private async cut(): Promise<void> {
    this.group.push({ campaign: this.campaign, run: this.run, index: this.count, recipients: this.filling });
    this.groupRecipients += this.filling.length;
    this.count++;
    this.filling = [];
    if (this.group.length >= batchesPerObject || this.groupRecipients >= recipientsPerObject)
      await this.stage();
  }

  private async stage(): Promise<void> {
    await this.store.put(this.key(this.objects), JSON.stringify(this.group), {
      contentType: 'application/json',
    });
    this.objects++;
    this.group = [];
    this.groupRecipients = 0;
  }

  /** Puts the staged batches on the queue in order (ten a call), removing each object once sent. */
  async enqueue(queue: RecipientQueue): Promise<void> {
    for (let index = 0; index < this.objects; index++) {
      const text = await getText(this.store, this.key(index));
      if (text === undefined) throw new PressroomError(`staged batches ${index} of the run are missing`);
      await queue.enqueue(JSON.parse(text) as RecipientBatch[]);
      await this.store.delete(this.key(index));
    }
  }

  /** Removes what is staged (a failed run): a later dispatch stages its own. */
  async remove(): Promise<void> {
    for (let index = 0; index < this.objects; index++)
      await this.store.delete(this.key(index)).catch(() => {});
  }
}

/**
 * Batches per staged object, and recipients: a million recipients in batches of 50 are 200
 * objects written and read back, not 20,000 (each a request of tens of milliseconds on S3),
 * and memory holds at most 5,000 recipients (about 750 KB of JSON) besides the one being read.
 */
const batchesPerObject = 100;
const recipientsPerObject = 5000;

/**
 * Removes batches a dispatch staged and never put on the queue (it was killed: a timeout, an
 * out-of-memory), once they are an hour old: they hold addresses, and no dispatch takes that
 * long to stage (a live one is never touched).
 */
async function removeAbandonedStaging(store: ObjectStore, campaign: string, now: Date): Promise<void> {
  for await (const item of listAll(store, `campaigns/${campaign}/staging/`)) {
    if (now.getTime() - item.lastModified.getTime() > abandonedStagingMs) await store.delete(item.key);
  }
}

const abandonedStagingMs = 60 * 60_000;
