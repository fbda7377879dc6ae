import { type AlertCanceller, type AlertOutcome, cancelReleaseAlerts } from '../alerts/release-alert.ts';
import { PressroomError } from '../errors.ts';
import { limits } from '../limits.ts';
import { getJson, type ObjectStore, VersionConflictError } from '../store/object-store.ts';
import { isPublic, type ReleaseSummary } from './catalog.ts';
import { cancelLift, type LiftCancellation, type LiftCanceller } from './lift.ts';
import {
  archiveKeys,
  manifestText,
  type ReleaseManifest,
  ReleaseNotFoundError,
  type Withdrawal,
} from './manifest.ts';
import { deleteUnder, installRelease, type PublishDeps } from './publish.ts';

/**
 * Withdrawing a release: it leaves the public press room, its feeds and sitemaps for good,
 * and campaigns and newsletters refuse it, while the private archive keeps it (signed links
 * still work), unless it is purged. The manifest records when, why and by whom; switching it
 * is the commit point, as for a publish. A release that was public leaves a short page at its
 * address saying that it was withdrawn (the local server answers 410 Gone there).
 *
 * Once the press room, the lift and the alerts are seen to, the record says so (`doneAt`, a
 * second write of the manifest). Withdrawing a release again does nothing once that is
 * recorded; before (a run killed, a store write failed after the commit point, a lift that
 * could not be deleted), it does the rest again, as a whole withdrawal would have: the pages
 * that listed it, its notice, feeds, sitemaps and search index rewritten, the lift of a
 * release withdrawn under its embargo and its waiting alerts cancelled. A purge records the
 * tags the release had (`tags`, until it is done), since its summary no longer has them: a
 * purge finished later counts them again in the catalogue. `archive rebuild` leaves withdrawn
 * releases alone.
 *
 * Publishing the same slug again is refused unless asked (`--replace`), which brings it back.
 */

export interface WithdrawRequest {
  reason: string;
  /** Who asks: `user@host` on the command line. */
  by: string;
  /** Delete the archived files too, keeping only the record. */
  purge?: boolean;
  /**
   * When it was asked (ISO), for a request handled later (the web admin's): one asked before
   * the release was brought back from a withdrawal (`publish --replace`, the manifest's
   * `restoredAt`) is refused (StaleWithdrawalError), so that a retry or a redelivery does not
   * withdraw it again. An ordinary publish since (a correction) does not cancel it.
   */
  askedAt?: string;
}

/** A withdrawal asked before the release was brought back: it withdrew what it was asked to. */
export class StaleWithdrawalError extends PressroomError {
  override name = 'StaleWithdrawalError';
}

export interface WithdrawResult {
  slug: string;
  title: string;
  /**
   * `already`: it was withdrawn before (and purged, if purging was asked), to the end: nothing
   * changed. A withdrawal cut short before is finished: `withdrawn` or `purged`, `resumed`.
   */
  outcome: 'withdrawn' | 'purged' | 'already';
  /** It was withdrawn before but not to the end (cut short): this run finished it, its record kept. */
  resumed?: true;
  withdrawal: Withdrawal;
  /** How many press room objects were written (the pages that listed it, the notice). */
  siteObjectsWritten: number;
  /** The lift of a release withdrawn under its embargo, where lifts are scheduled (AWS). */
  lift?: LiftCancellation;
  /** Its topic alerts that were waiting, now cancelled (none: absent). */
  alerts?: AlertOutcome[];
}

/** Checks the reason given: required, one line, within the limit. */
export function checkWithdrawReason(reason: string): string {
  const text = reason.trim();
  if (text === '') {
    throw new PressroomError(
      'give the reason for withdrawing it with --reason "..." (it is recorded in the archive, never shown to the public)',
    );
  }
  if (/[\r\n]/.test(text)) throw new PressroomError('--reason must be one line');
  if (text.length > limits.withdrawReason) {
    throw new PressroomError(
      `--reason is ${text.length} characters long: at most ${limits.withdrawReason} (a sentence is enough)`,
    );
  }
  return text;
}

export async function withdrawRelease(
  slug: string,
  request: WithdrawRequest,
  deps: Pick<PublishDeps, 'store' | 'pressRoom' | 'clock'> & {
    lifts?: LiftCanceller;
    /** Cancels a waiting topic alert; by default in the store (the local schedule). */
    cancelAlert?: AlertCanceller;
  },
): Promise<WithdrawResult> {
  const reason = checkWithdrawReason(request.reason);
  const now = (deps.clock ?? (() => new Date()))();
  const key = archiveKeys.manifest(slug);
  const current = await getJson<ReleaseManifest>(deps.store, key);
  if (!current) {
    throw new ReleaseNotFoundError(
      `no release "${slug}" in the archive: \`pressroom archive list\` shows the slugs`,
    );
  }
  const before = current.value;
  const title = before.summary.title;
  const restoredAt = before.restoredAt;
  if (request.askedAt !== undefined && restoredAt && Date.parse(request.askedAt) < Date.parse(restoredAt)) {
    throw new StaleWithdrawalError(
      `"${slug}" was brought back from a withdrawal (${restoredAt}) after this withdrawal was asked (${request.askedAt}): it is left as it is`,
    );
  }
  const recorded = before.withdrawn;
  // Withdrawn before (and purged, if purging is asked): its record stands as it is.
  const asked = recorded && (recorded.purgedAt || !request.purge) ? recorded : undefined;
  if (asked?.doneAt) {
    // An alert left waiting by a withdrawal of an older version, cut short before it was cancelled.
    const alerts = await withdrawnAlerts(slug, deps, now);
    return {
      slug,
      title,
      outcome: 'already',
      withdrawal: asked,
      siteObjectsWritten: 0,
      ...(alerts.length > 0 && { alerts }),
    };
  }
  // Recorded but not done: cut short after its commit point (or recorded before `doneAt`
  // existed). Its press room part is done again, as a whole withdrawal does it.
  const resumed = asked !== undefined;
  let withdrawal = asked;
  let after = before;
  let version = current.version;
  if (!withdrawal) {
    // A purge of a release withdrawn before keeps its record; it is done once the purge is.
    const {
      doneAt: _withdrawalDone,
      tags: _tags,
      ...kept
    } = recorded ?? {
      at: now.toISOString(),
      reason,
      by: request.by,
      wasPublic: isPublic(before.summary, now),
    };
    withdrawal = {
      ...kept,
      // Its tags, which the purged summary no longer has: a purge cut short counts them again.
      ...(request.purge && { purgedAt: now.toISOString(), tags: before.summary.tags }),
    };
    const summary: ReleaseSummary = { ...before.summary, withdrawn: withdrawal.at };
    after = {
      ...before,
      summary: request.purge ? purged(summary) : summary,
      withdrawn: withdrawal,
      ...(request.purge && { files: [] }),
    };
    version = await switchManifest(deps.store, slug, after, current.version);
  }
  const purging = withdrawal.purgedAt !== undefined;
  // What the press room listed it with: a purge cut short lists its tags in its record (one
  // recorded before they were, none: its tags were counted again by the purge itself).
  const previous =
    resumed && purging ? { ...before, summary: { ...before.summary, tags: withdrawal.tags ?? [] } } : before;
  // Out of the search index for good (the press room filters it out); purged: its words too.
  const siteObjectsWritten = await installRelease(
    deps,
    after,
    previous,
    now,
    purging ? { searchText: null } : {},
  );
  if (purging) await deleteUnder(deps.store, archiveKeys.version(slug, before.version));
  // Its lift, when it was withdrawn under its embargo, unless a withdrawal done before saw to it.
  const embargo = before.summary.embargo;
  const underEmbargo = embargo !== undefined && Date.parse(embargo) > Date.parse(withdrawal.at);
  const liftToCancel = underEmbargo && !recorded?.doneAt;
  const lift = liftToCancel && deps.lifts ? await cancelLift(slug, deps.lifts) : undefined;
  // A release withdrawn within the minute after publishing: its alert never goes.
  const alerts = await withdrawnAlerts(slug, deps, now);
  // A lift that could not be deleted: not done, so that withdrawing again tries it again.
  const { tags: _purgedTags, ...record } = withdrawal;
  const done: Withdrawal | undefined =
    lift?.outcome === 'failed' ? undefined : { ...record, doneAt: now.toISOString() };
  if (done) await recordDone(deps.store, slug, { ...after, withdrawn: done }, version);
  // Not done, but the pages that listed a purged release are: its tags leave the record now.
  else if (withdrawal.tags) await recordDone(deps.store, slug, { ...after, withdrawn: record }, version);
  return {
    slug,
    title,
    outcome: purging ? 'purged' : 'withdrawn',
    withdrawal: done ?? record,
    siteObjectsWritten,
    ...(resumed && { resumed }),
    ...(lift && { lift }),
    ...(alerts.length > 0 && { alerts }),
  };
}

/** Switches a release's manifest (the commit point): someone else's write meanwhile is refused. */
async function switchManifest(
  store: ObjectStore,
  slug: string,
  manifest: ReleaseManifest,
  expected: string,
): Promise<string> {
  try {
    return (await store.putIfVersion(archiveKeys.manifest(slug), manifestText(manifest), expected, json))
      .version;
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw error;
    throw new PressroomError(`"${slug}" was published or withdrawn by someone else meanwhile: run it again`, {
      cause: error,
    });
  }
}

/**
 * Records that the withdrawal was done to the end. A write of someone else since (the release
 * published again with --replace, or another run that finished it too) stands: theirs is newer.
 */
async function recordDone(
  store: ObjectStore,
  slug: string,
  manifest: ReleaseManifest,
  expected: string,
): Promise<void> {
  try {
    await store.putIfVersion(archiveKeys.manifest(slug), manifestText(manifest), expected, json);
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw error;
  }
}

const json = { contentType: 'application/json' };

function withdrawnAlerts(
  slug: string,
  deps: { store: PublishDeps['store']; cancelAlert?: AlertCanceller },
  now: Date,
): Promise<AlertOutcome[]> {
  return cancelReleaseAlerts(
    slug,
    { store: deps.store, ...(deps.cancelAlert && { cancel: deps.cancelAlert }) },
    now,
  );
}

/** What is left of a purged release: enough to list it and know what it was, not what it said. */
function purged(summary: ReleaseSummary): ReleaseSummary {
  return { ...summary, lead: '', tags: [], formats: { pdf: false, attachments: [] } };
}
