import { PressroomError } from '../errors.ts';
import { scheduleNameFor } from '../schedule-name.ts';
import type { ObjectStore } from '../store/object-store.ts';
import {
  type CampaignDefinition,
  type CampaignRecord,
  newCampaignRecord,
  readCampaign,
  registerCampaign,
  updateCampaign,
} from './campaign.ts';
import { resumableCampaign } from './control.ts';
import type { DispatchReport } from './dispatch.ts';
import { oneTimeSchedule } from './one-time-schedule.ts';
import type { PacingSettings } from './quota.ts';
import { cancelCampaign, ScheduleError, scheduleCampaign } from './schedule.ts';
import { prepareCampaign } from './send.ts';

export { scheduleNameFor, scheduleNamePattern } from '../schedule-name.ts';
// In a module of their own, so that dispatch puts a campaign's next slice without this one.
export { type OneTimeSchedule, oneTimeSchedule } from './one-time-schedule.ts';

import type { OneTimeSchedule } from './one-time-schedule.ts';

/**
 * Campaigns run by a deployed stack: the command line writes the campaign record into the
 * stack's store, then either starts the dispatch function now (`CampaignDispatcher`) or
 * leaves a one-time schedule that starts it at `sendAt` (`CampaignScheduler`). Dispatch
 * reads the record; whatever starts it, sending is the same.
 */

/** The schedule that starts one campaign. */
export interface CampaignSchedule extends OneTimeSchedule {
  campaign: string;
  /** The instant it fires (UTC ISO): dispatch compares it with the time it starts. */
  at: string;
  /** The schedule's own name (see {@link scheduleNameFor}). */
  name: string;
}

/** The scheduler port: one-time schedules that start the dispatch of a campaign. */
export interface CampaignScheduler {
  /** Creates the schedule, or replaces the one of the same name (a reschedule). */
  put(schedule: CampaignSchedule): Promise<'created' | 'updated'>;
  /** Deletes the schedule; false when there was none (it ran, or was never made). */
  remove(name: string): Promise<boolean>;
}

/** The dispatcher port: starts a campaign now and says what it enqueued. */
export interface CampaignDispatcher {
  dispatch(campaign: string, options?: { resendUncertain?: boolean }): Promise<DispatchReport>;
}

/**
 * Hands a campaign to dispatch without waiting for its report (an asynchronous invocation):
 * what dispatch then refuses goes into the campaign's `lastError`, where its status shows it.
 */
export interface CampaignStarter {
  start(campaign: string): Promise<void>;
}

export class RemoteCampaignError extends PressroomError {
  override name = 'RemoteCampaignError';
}

/**
 * Writes (or updates) the campaign record so that dispatch can read it, then starts
 * dispatch now. Embargo and `sendAt` are checked first, against the same store: a campaign
 * that cannot go now is refused with the reason and nothing is written.
 */
export async function startCampaign(
  definition: CampaignDefinition,
  deps: { store: ObjectStore; dispatcher: CampaignDispatcher; clock?: () => Date },
  source: string,
  options: { resendUncertain?: boolean; pacing?: PacingSettings } = {},
): Promise<DispatchReport> {
  await recordForDispatch(definition, deps, source, options);
  return deps.dispatcher.dispatch(definition.name, options.resendUncertain ? { resendUncertain: true } : {});
}

/**
 * The first half of {@link startCampaign}: the checks, then the record dispatch reads. The
 * web admin on the stack then hands the campaign to dispatch without waiting for it
 * ({@link CampaignStarter}): its function answers within 30 seconds, dispatch may take minutes.
 */
export async function recordForDispatch(
  definition: CampaignDefinition,
  deps: { store: ObjectStore; clock?: () => Date },
  source: string,
  options: { pacing?: PacingSettings } = {},
): Promise<void> {
  const clock = deps.clock ?? (() => new Date());
  await prepareCampaign(definition, { store: deps.store, clock });
  const at = clock().toISOString();
  await updateCampaign(
    deps.store,
    definition.name,
    () => newCampaignRecord(definition, source, at),
    (current) => {
      if (current.state === 'cancelled') {
        throw new RemoteCampaignError(
          `campaign "${definition.name}" was cancelled: nothing is sent. Schedule it again (pressroom schedule) or give it another name.`,
        );
      }
      // The state is dispatch's to change (sending, then sent).
      return {
        ...current,
        definition,
        source,
        updatedAt: at,
        ...(options.pacing && { pacing: options.pacing }),
      };
    },
  );
  await registerCampaign(deps.store, definition.name);
}

/** What scheduling on the stack did. */
export interface RemoteSchedule {
  record: CampaignRecord;
  schedule: CampaignSchedule;
  action: 'created' | 'updated';
}

/**
 * Schedules (or reschedules) a campaign on the stack: the record says `scheduled` (with
 * the same checks as the local `scheduleCampaign`: sendAt present, ahead, not before the
 * embargo), then the one-time schedule is created or replaced.
 */
export async function scheduleCampaignRemotely(
  definition: CampaignDefinition,
  deps: { store: ObjectStore; scheduler: CampaignScheduler; clock?: () => Date; pacing?: PacingSettings },
  source: string,
): Promise<RemoteSchedule> {
  const record = await scheduleCampaign(definition, deps, source);
  const sendAt = record.definition.sendAt;
  if (!sendAt) throw new ScheduleError(`${source}: no sendAt`);
  const schedule: CampaignSchedule = {
    campaign: definition.name,
    at: sendAt.utc,
    name: scheduleNameFor(definition.name),
    ...oneTimeSchedule(sendAt),
  };
  try {
    return { record, schedule, action: await deps.scheduler.put(schedule) };
  } catch (error) {
    throw new RemoteCampaignError(
      `campaign "${definition.name}" is recorded as scheduled, but its schedule "${schedule.name}" could not be written (${(error as Error).message}). Nothing will start it at ${sendAt.written}: run \`pressroom schedule\` again, or \`pressroom campaign cancel ${definition.name}\`.`,
      { cause: error },
    );
  }
}

/**
 * Cancels a scheduled campaign on the stack. The record is cancelled first: should the
 * schedule's deletion then fail, the schedule still fires but dispatch refuses a cancelled
 * campaign, so nothing is sent either way.
 */
export async function cancelCampaignRemotely(
  name: string,
  deps: { store: ObjectStore; scheduler: CampaignScheduler },
  now: Date,
): Promise<{ record: CampaignRecord; scheduleDeleted: boolean }> {
  // Cancelling again is allowed: it retries the schedule's deletion.
  const current = await readCampaign(deps.store, name);
  const record = current.state === 'cancelled' ? current : await cancelCampaign(deps.store, name, now);
  const scheduleName = scheduleNameFor(name);
  try {
    return { record, scheduleDeleted: await deps.scheduler.remove(scheduleName) };
  } catch (error) {
    throw new RemoteCampaignError(
      `campaign "${name}" is cancelled (dispatch will refuse it), but its schedule "${scheduleName}" could not be deleted (${(error as Error).message}): run \`pressroom campaign cancel ${name}\` again.`,
      { cause: error },
    );
  }
}

/**
 * Resumes a campaign on the stack (`pressroom campaign resume --backend aws`): the same
 * checks as locally (paused, or left `sending` by a run whose lease is gone), then dispatch
 * is invoked as `send --backend aws` invokes it; dispatch enqueues only the recipients
 * without an outcome.
 */
export async function resumeCampaignRemotely(
  name: string,
  deps: { store: ObjectStore; dispatcher: CampaignDispatcher; clock?: () => Date; timeZone?: string },
  options: { resendUncertain?: boolean } = {},
): Promise<DispatchReport> {
  await resumableCampaign(name, {
    store: deps.store,
    backendFlag: ' --backend aws',
    ...(deps.clock && { clock: deps.clock }),
    ...(deps.timeZone && { timeZone: deps.timeZone }),
  });
  return deps.dispatcher.dispatch(name, options.resendUncertain ? { resendUncertain: true } : {});
}
