import { scheduleNameFor } from '../schedule-name.ts';
import { type PublishDeps, releaseDueEmbargoes } from './publish.ts';

/**
 * Embargoes lift at their time. Locally `run-due` and `serve` look for due embargoes
 * themselves; on AWS nothing runs unless asked, so publishing an embargoed release sets a
 * lift at the embargo's instant through this port (EventBridge Scheduler), which runs
 * {@link releaseDueEmbargoes}. A lift that fires early or for a release no longer pending
 * (withdrawn, made public or private since) lifts nothing: only what is due is published.
 */
export interface LiftScheduler {
  /**
   * Sets the one lift of a release at `at`, or moves the one it has (republished with
   * another embargo), so that no lift of it stays at an older time.
   */
  schedule(lift: ScheduledLift): Promise<'created' | 'updated'>;
}

/** Deletes a release's lift (`pressroom archive withdraw` on the stack). */
export interface LiftCanceller {
  /** Deletes the schedule named `name`; false when there was none (it ran, or was never set). */
  cancel(name: string): Promise<boolean>;
}

/** What became of a withdrawn release's lift: deleted, none was waiting, or left to fire for nothing. */
export type LiftCancellation =
  | { outcome: 'deleted' | 'none'; name: string }
  | { outcome: 'failed'; name: string; reason: string };

/**
 * Deletes the lift of a release that was waiting for its embargo. Failing is not fatal: the
 * lift would fire and publish nothing (the release is no longer pending), then be deleted.
 */
export async function cancelLift(slug: string, lifts: LiftCanceller): Promise<LiftCancellation> {
  const name = scheduleNameFor(slug);
  try {
    return { outcome: (await lifts.cancel(name)) ? 'deleted' : 'none', name };
  } catch (error) {
    return { outcome: 'failed', name, reason: (error as Error).message };
  }
}

/** A release's lift: its slug, the schedule's name made of it, and when. */
export interface ScheduledLift {
  slug: string;
  /** The schedule's name: the slug, shortened with a hash past 64 characters. */
  name: string;
  /** The embargo's instant, rounded up to the second (Scheduler's precision): never before it. */
  at: Date;
}

/** What became of an embargoed release's lift. */
export type LiftPlan =
  | { lift: 'scheduled'; name: string; at: string; schedule: 'created' | 'updated' }
  /** The embargo passed while it was being published: lifted at once. */
  | { lift: 'lifted'; released: string[] };

/** The lift of `slug` at `embargo` (an ISO instant). */
export function liftOf(slug: string, embargo: string): ScheduledLift {
  return { slug, name: scheduleNameFor(slug), at: new Date(Math.ceil(Date.parse(embargo) / 1000) * 1000) };
}

/**
 * After an embargoed release was published: its lift is set at the embargo's instant, or,
 * when that instant has already passed, due embargoes are lifted now (a schedule in the past
 * would never fire).
 */
export async function planLift(
  release: { slug: string; embargo: string },
  deps: Pick<PublishDeps, 'store' | 'pressRoom' | 'clock'> & { lifts: LiftScheduler },
): Promise<LiftPlan> {
  const now = (deps.clock ?? (() => new Date()))();
  if (Date.parse(release.embargo) <= now.getTime())
    return { lift: 'lifted', released: await releaseDueEmbargoes(deps) };
  const lift = liftOf(release.slug, release.embargo);
  const schedule = await deps.lifts.schedule(lift);
  return { lift: 'scheduled', name: lift.name, at: lift.at.toISOString(), schedule };
}
