import { BusyError, PressroomError } from '../errors.ts';
import { closest } from '../input.ts';
import type { ObjectStore } from '../store/object-store.ts';
import {
  CampaignNotFoundError,
  type CampaignRecord,
  campaignNames,
  readCampaign,
  updateCampaign,
} from './campaign.ts';
import { activeLease, type HolderAlive } from './lease.ts';
import { laterSlices } from './quota.ts';
import { type SendDeps, type SendOptions, type SendReport, sendCampaign } from './send.ts';
import { showTime } from './time.ts';

/**
 * Campaign controls: `pressroom campaign stop` pauses a campaign being sent (the run sending
 * it stops before its next recipient; on AWS the batches still queued are dropped as they
 * arrive), and `pressroom campaign resume` continues a paused or interrupted campaign from its
 * record, with the same lease and ledger as `send`: nobody already mailed gets a second copy.
 */

/** A resume or a stop that does not apply to the campaign as it stands. */
export class CampaignControlError extends PressroomError {
  override name = 'CampaignControlError';
}

/** What reading a campaign for a control needs. */
export interface ControlDeps {
  store: ObjectStore;
  clock?: () => Date;
  /** Tells a local holder known dead (its lease is then free at once). */
  holderAlive?: HolderAlive;
  /** The zone times are shown in (default UTC). */
  timeZone?: string;
  /** Appended to the commands messages name: ` --backend aws` on the stack. */
  backendFlag?: string;
}

/** The campaign's record; an unknown name is refused with the nearest known one. */
export async function findCampaign(store: ObjectStore, name: string): Promise<CampaignRecord> {
  try {
    return await readCampaign(store, name);
  } catch (error) {
    if (!(error instanceof CampaignNotFoundError)) throw error;
    const guess = closest(name, await campaignNames(store));
    throw new CampaignNotFoundError(
      `no campaign "${name}"${guess ? `: did you mean "${guess}"?` : ''} (\`pressroom campaign list\` shows them)`,
    );
  }
}

const fileOf = (record: CampaignRecord) => record.source || 'its campaign file';

/**
 * The record of a campaign a resume may continue: paused (a stop, the provider, the error
 * budget, a late schedule), or left `sending` by a run that ended or died. Refused, saying
 * what to do: unknown, draft, scheduled, sent, cancelled, or being sent by a live run.
 */
export async function resumableCampaign(name: string, deps: ControlDeps): Promise<CampaignRecord> {
  const record = await findCampaign(deps.store, name);
  const zone = deps.timeZone ?? 'UTC';
  const flag = deps.backendFlag ?? '';
  switch (record.state) {
    case 'paused':
      return record;
    case 'sending': {
      const lease = activeLease(record, (deps.clock ?? (() => new Date()))(), deps.holderAlive);
      if (!lease) return record;
      throw new BusyError(
        `campaign "${name}" is being sent by ${lease.holder} since ${showTime(lease.since, zone)}: there is nothing to resume. Follow it with \`pressroom campaign status ${name}${flag}\`, or stop it with \`pressroom campaign stop ${name}${flag}\` (the lease ends at ${showTime(lease.expiresAt, zone)} unless renewed; a run that died is taken over then).`,
      );
    }
    case 'sent':
      throw new CampaignControlError(
        `campaign "${name}" is sent: everyone in its audience has an outcome, nothing is left to resume (\`pressroom campaign status ${name}${flag}\` shows the counts)`,
      );
    case 'cancelled':
      throw new CampaignControlError(
        `campaign "${name}" was cancelled: nothing is resumed. Schedule it again (\`pressroom schedule ${fileOf(record)}${flag}\`) or send it under another name`,
      );
    case 'draft':
      throw new CampaignControlError(
        `campaign "${name}" has not started: there is nothing to resume. Send it with \`pressroom send ${fileOf(record)}${flag}\``,
      );
    case 'scheduled': {
      const at = record.definition.sendAt;
      throw new CampaignControlError(
        `campaign "${name}" is scheduled${at ? ` for ${showTime(at.utc, at.zone)}` : ''} and has not started: it is sent then. To send it now, remove sendAt from ${fileOf(record)}, \`pressroom campaign cancel ${name}${flag}\`, and send it under another name`,
      );
    }
  }
}

/**
 * Resumes a campaign locally: the checks of {@link resumableCampaign}, then the campaign's
 * stored definition sent as `pressroom send` sends it (the same lease, the same ledger).
 */
export async function resumeCampaign(
  name: string,
  deps: SendDeps,
  options: SendOptions = {},
): Promise<SendReport> {
  const record = await resumableCampaign(name, {
    store: deps.store,
    ...(deps.clock && { clock: deps.clock }),
    ...(deps.holderAlive && { holderAlive: deps.holderAlive }),
    ...(deps.timeZone && { timeZone: deps.timeZone }),
  });
  return sendCampaign(record.definition, deps, options);
}

/** What a stop did. */
export interface StopResult {
  record: CampaignRecord;
  /** It was paused already (nothing changed): why. */
  alreadyPaused?: string;
  /** A live run on a machine that stops before its next recipient. */
  runStopping?: string;
  /** A dispatched run (AWS) closed at once: its batches still queued are dropped. */
  dispatchedRunClosed?: string;
}

/** The reason a stop pauses a campaign with. */
export const stopReason = (by: string, at: Date) =>
  `stopped by ${by} at ${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;

/**
 * Stops a campaign being sent: its record says `paused`, with the reason "stopped by <who>
 * at <when>". A local run (`send`, `serve`, `run-due`) reads its record before each recipient
 * and stops there, after the sends in flight; a dispatched run (AWS) is closed at once and
 * its lease dropped, and the send function drops each of its batches that arrives after it
 * (their recipients stay without an outcome). Stopping a paused campaign changes nothing;
 * draft, scheduled, sent and cancelled campaigns are refused, saying what to do.
 */
export async function stopCampaign(name: string, deps: ControlDeps & { by: string }): Promise<StopResult> {
  await findCampaign(deps.store, name);
  const now = (deps.clock ?? (() => new Date()))();
  const flag = deps.backendFlag ?? '';
  const result: Omit<StopResult, 'record'> = {};
  const record = await updateCampaign(
    deps.store,
    name,
    () => {
      throw new CampaignNotFoundError(`no campaign "${name}"`);
    },
    (current) => {
      delete result.alreadyPaused;
      delete result.runStopping;
      delete result.dispatchedRunClosed;
      if (current.state === 'paused') {
        result.alreadyPaused = current.pausedReason ?? 'paused';
        return current;
      }
      // Between two days of a campaign the SES quota spreads (quota.ts) it is `scheduled` for
      // its next slice: stopped, it stays paused when that slice's schedule fires.
      const betweenDays = current.state === 'scheduled' && laterSlices(current.plan).length > 0;
      if (current.state !== 'sending' && !betweenDays)
        throw new CampaignControlError(notSending(current, name, flag));
      const at = now.toISOString();
      const lease = activeLease(current, now, deps.holderAlive);
      const dispatched = current.runs.find((r) => !r.endedAt && r.batches !== undefined);
      let runs = current.runs;
      let keep = current.lease;
      if (dispatched) {
        // Its batches renew its lease as they come: closed now, the campaign is free to resume.
        runs = runs.map((r) => (r === dispatched ? { ...r, endedAt: at, outcome: 'stopped' } : r));
        if (keep?.id === dispatched.startedAt) keep = undefined;
        result.dispatchedRunClosed = dispatched.startedAt;
      } else if (lease) {
        // The run holds its lease until it has seen the stop and ended.
        result.runStopping = lease.holder;
      } else {
        keep = undefined;
      }
      const { lease: _old, ...rest } = current;
      return {
        ...rest,
        ...(keep && { lease: keep }),
        runs,
        state: 'paused',
        pausedReason: stopReason(deps.by, now),
        updatedAt: at,
      };
    },
  );
  return { record, ...result };
}

function notSending(record: CampaignRecord, name: string, flag: string): string {
  switch (record.state) {
    case 'scheduled':
      return `campaign "${name}" is scheduled, not being sent: \`pressroom campaign cancel ${name}${flag}\` cancels it before it starts`;
    case 'draft':
      return `campaign "${name}" has not started: there is nothing to stop`;
    case 'sent':
      return `campaign "${name}" is sent: there is nothing to stop`;
    case 'cancelled':
      return `campaign "${name}" was cancelled: there is nothing to stop`;
    default:
      return `campaign "${name}" is ${record.state}: there is nothing to stop`;
  }
}
