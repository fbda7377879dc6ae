import { randomUUID } from 'node:crypto';
import { readManifest } from '../archive/manifest.ts';
import { PressroomError } from '../errors.ts';
import { readIssueManifest } from '../newsletter/catalog.ts';
import { getJson, type ObjectStore, updateJson } from '../store/object-store.ts';
import { checkApproval } from './approval.ts';
import {
  type CampaignDefinition,
  CampaignNotFoundError,
  type CampaignRecord,
  campaignFailure,
  campaignRepairs,
  newCampaignRecord,
  readCampaign,
  registerCampaign,
  updateCampaign,
} from './campaign.ts';
import { activeLease, dropLease, takeLease } from './lease.ts';
import type { PacingSettings } from './quota.ts';
import { EmbargoError, type SendDeps, type SendOptions, type SendReport, sendCampaign } from './send.ts';
import { defaultLateFireWindowMinutes } from './time.ts';

/**
 * Scheduling: a campaign waits in `campaigns/schedule.json` (name → UTC time) until the
 * due-job runner takes it. Taking it is a compare-and-swap of its state from `scheduled` to
 * `sending`, so however many runners look, a campaign starts once. The embargo guard is in
 * the send path itself; scheduling also refuses a time before the embargo, to say so early.
 */

export const scheduleKeys = { schedule: 'campaigns/schedule.json' };

interface ScheduleIndex {
  /** name → send time (UTC ISO). */
  due: Record<string, string>;
}

export class ScheduleError extends PressroomError {
  override name = 'ScheduleError';
}

async function setDue(store: ObjectStore, name: string, utc: string | undefined): Promise<void> {
  await updateJson<ScheduleIndex>(
    store,
    scheduleKeys.schedule,
    () => ({ due: {} }),
    (current) => {
      const due = { ...current.due };
      if (utc) due[name] = utc;
      else delete due[name];
      return { due };
    },
    { repair: campaignRepairs.schedule },
  );
}

/** Schedules (or reschedules) a campaign for its `sendAt`. */
export async function scheduleCampaign(
  definition: CampaignDefinition,
  deps: { store: ObjectStore; clock?: () => Date; timeZone?: string; pacing?: PacingSettings },
  source: string,
): Promise<CampaignRecord> {
  const now = (deps.clock ?? (() => new Date()))();
  const sendAt = definition.sendAt;
  if (!sendAt)
    throw new ScheduleError(`${source}: no sendAt: add e.g. "sendAt: 2021-06-08T08:00 Europe/Paris"`);
  if (Date.parse(sendAt.utc) <= now.getTime()) {
    throw new ScheduleError(
      `${source}: sendAt ${sendAt.written} (${sendAt.utc} UTC) is in the past; choose a later time, or use \`pressroom send\` to send now`,
    );
  }
  // A newsletter issue has no embargo of its own: it must exist (sending checks its releases).
  let embargo: string | undefined;
  if (definition.newsletter !== undefined) await readIssueManifest(deps.store, definition.newsletter);
  else embargo = (await readManifest(deps.store, definition.publication)).summary.embargo;
  // An advance copy goes before the embargo: that is its point.
  if (embargo && Date.parse(sendAt.utc) < Date.parse(embargo) && !definition.advance) {
    throw new EmbargoError(
      `${source}: sendAt ${sendAt.written} (${sendAt.utc} UTC) is before the embargo of "${definition.publication ?? definition.newsletter}" (${embargo}); schedule it at the embargo or later`,
    );
  }
  await checkApproval(definition, deps.store, deps.timeZone ? { timeZone: deps.timeZone } : {});
  const at = now.toISOString();
  const saved = await updateCampaign(
    deps.store,
    definition.name,
    () => newCampaignRecord(definition, source, at),
    (current) => {
      if (current.state === 'sending' || current.state === 'sent') {
        throw new ScheduleError(
          `campaign "${definition.name}" is ${current.state}: it can no longer be scheduled (give the campaign another name to send again)`,
        );
      }
      // A new schedule: why an earlier one paused or failed is no longer news.
      const { pausedReason: _paused, lastError: _failed, ...rest } = current;
      // Pacing (quota.ts): the zone and daily start of the days after the first, on AWS.
      return {
        ...rest,
        definition,
        source,
        state: 'scheduled',
        updatedAt: at,
        ...(deps.pacing && { pacing: deps.pacing }),
      };
    },
  );
  await setDue(deps.store, definition.name, sendAt.utc);
  await registerCampaign(deps.store, definition.name);
  return saved;
}

/** Cancels a scheduled campaign; one that started cannot be cancelled. */
export async function cancelCampaign(store: ObjectStore, name: string, now: Date): Promise<CampaignRecord> {
  await readCampaign(store, name);
  const saved = await updateCampaign(
    store,
    name,
    () => {
      throw new ScheduleError(`no campaign "${name}"`);
    },
    (current) => {
      if (current.state !== 'scheduled' && current.state !== 'draft') {
        throw new ScheduleError(
          `campaign "${name}" is ${current.state}: only a scheduled campaign can be cancelled`,
        );
      }
      return { ...current, state: 'cancelled', updatedAt: now.toISOString() };
    },
  );
  await setDue(store, name, undefined);
  return saved;
}

/** Campaigns due at `now` with the time each was due, oldest first. */
async function dueEntries(store: ObjectStore, now: Date): Promise<[name: string, utc: string][]> {
  const index =
    (await getJson<ScheduleIndex>(store, scheduleKeys.schedule, { repair: campaignRepairs.schedule }))?.value
      .due ?? {};
  return Object.entries(index)
    .filter(([, utc]) => Date.parse(utc) <= now.getTime())
    .sort((a, b) => a[1].localeCompare(b[1]));
}

/** Campaigns due at `now`, oldest first. */
export async function dueCampaigns(store: ObjectStore, now: Date): Promise<string[]> {
  return (await dueEntries(store, now)).map(([name]) => name);
}

export { defaultLateFireWindowMinutes };

/** A start that came too late: by how much, and the reason the campaign is paused with. */
export interface LateFire {
  minutesLate: number;
  reason: string;
}

/**
 * Whether a schedule set for `scheduledAt` (UTC ISO) that fires at `now` is later than the
 * window, and the reason to pause with. The one rule of the due-job runner and of dispatch.
 */
export function lateFire(
  scheduledAt: string,
  now: Date,
  windowMinutes: number,
  campaign = '<name>',
): LateFire | undefined {
  const lateMs = now.getTime() - Date.parse(scheduledAt);
  if (!(lateMs > windowMinutes * 60_000)) return undefined;
  const minutesLate = Math.floor(lateMs / 60_000);
  return {
    minutesLate,
    reason: `the schedule fired ${minutesLate} min late (set for ${scheduledAt}; the window is ${windowMinutes} min): paused instead of sending a stale announcement. Resume to send it now (\`pressroom campaign resume ${campaign}\`, with --backend aws on AWS), or schedule it again`,
  };
}

/**
 * Pauses a campaign whose schedule fired too late, with the reason (also its `lastError`,
 * where `pressroom campaign status` shows it). Only a campaign still waiting for its
 * schedule is paused: one being sent, sent or cancelled is left as it is. Nothing is sent
 * either way. Says whether this call paused it, and the record as it now is.
 */
export async function pauseLateCampaign(
  store: ObjectStore,
  name: string,
  late: LateFire,
  now: Date,
): Promise<{ paused: boolean; record: CampaignRecord }> {
  const failure = campaignFailure(late.reason, now);
  let paused = false;
  const record = await updateCampaign(
    store,
    name,
    () => {
      throw new CampaignNotFoundError(`no campaign "${name}"`);
    },
    (current) => {
      paused = current.state === 'scheduled';
      if (!paused) return current;
      return {
        ...current,
        state: 'paused',
        pausedReason: failure.message,
        lastError: failure,
        updatedAt: failure.at,
      };
    },
  );
  return { paused, record };
}

export interface DueRun {
  name: string;
  report?: SendReport;
  error?: string;
}

/**
 * Runs every due campaign once; a second runner finds it taken. A campaign missed while
 * nothing was running runs when the runner comes back, within the late-fire window
 * (`lateFireWindowMinutes`, default an hour); later than that it is paused with the reason
 * (see {@link lateFire}) and left for someone to resume.
 */
export async function runDueCampaigns(
  deps: SendDeps,
  options: SendOptions & { lateFireWindowMinutes?: number } = {},
): Promise<DueRun[]> {
  const clock = deps.clock ?? (() => new Date());
  const { lateFireWindowMinutes = defaultLateFireWindowMinutes, ...sendOptions } = options;
  const runs: DueRun[] = [];
  for (const [name, dueAt] of await dueEntries(deps.store, clock())) {
    const late = lateFire(dueAt, clock(), lateFireWindowMinutes, name);
    if (late) {
      // A run that died is taken over whatever the time (it had started); a start is not.
      const pause = await pauseLateCampaign(deps.store, name, late, clock()).catch(() => undefined);
      if (pause?.paused) {
        await setDue(deps.store, name, undefined);
        runs.push({ name, error: late.reason });
        continue;
      }
    }
    let taken = false;
    let state: CampaignRecord['state'] | undefined;
    let definition: CampaignDefinition | undefined;
    // The same lease as `pressroom send`: a campaign someone is sending is left to them; one
    // whose run died (its lease ran out) is taken over, once, whoever looks.
    const leaseId = randomUUID();
    try {
      await updateCampaign(
        deps.store,
        name,
        () => {
          throw new ScheduleError(`no campaign "${name}"`);
        },
        (current) => {
          const now = clock();
          const free = activeLease(current, now, deps.holderAlive) === undefined;
          taken = free && (current.state === 'scheduled' || current.state === 'sending');
          state = current.state;
          definition = current.definition;
          if (!taken) return current;
          const leased = takeLease(current, name, leaseId, deps.owner ?? { holder: 'the scheduler' }, now);
          return { ...leased, state: 'sending', updatedAt: now.toISOString() };
        },
      );
    } catch (error) {
      runs.push({ name, error: (error as Error).message });
      await setDue(deps.store, name, undefined);
      continue;
    }
    if (!taken || !definition) {
      // Another runner is sending it: leave it be. Finished or cancelled: forget it.
      if (state !== 'sending') await setDue(deps.store, name, undefined);
      continue;
    }
    try {
      const report = await sendCampaign(definition, deps, { ...sendOptions, leaseId });
      if (report.interrupted) {
        // Stopped before the end (the server is shutting down): due again at the next look.
        await updateCampaign(
          deps.store,
          name,
          () => {
            throw new ScheduleError(`no campaign "${name}"`);
          },
          (current) => (current.state === 'sending' ? { ...current, state: 'scheduled' } : current),
        );
      } else {
        await setDue(deps.store, name, undefined);
      }
      runs.push({ name, report });
    } catch (error) {
      // Nothing was sent (embargo moved, release gone): the campaign pauses with the reason,
      // kept as its last error too, as the dispatch function keeps it on AWS. Nobody retries
      // a due job, so every error counts.
      const reason = (error as Error).message;
      const failure = campaignFailure(reason, clock());
      await updateCampaign(
        deps.store,
        name,
        () => {
          throw new ScheduleError(`no campaign "${name}"`);
        },
        (current) => ({
          ...dropLease(current, leaseId),
          state: 'paused',
          pausedReason: failure.message,
          lastError: failure,
          updatedAt: failure.at,
        }),
      );
      await setDue(deps.store, name, undefined);
      runs.push({ name, error: reason });
    }
  }
  return runs;
}
