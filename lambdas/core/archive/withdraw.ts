import { type AlertCanceller, type AlertOutcome, cancelReleaseAlerts } from '../alerts/release-alert.ts';
import { PressroomError } from '../errors.ts';
import { limits } from '../limits.ts';
import { getJson, VersionConflictError } from '../store/object-store.ts';
import { isPublic, type ReleaseSummary } from './catalog.ts';
import { cancelLift, type LiftCancellation, type LiftCanceller } from './lift.ts';
import { archiveKeys, type ReleaseManifest, ReleaseNotFoundError, type Withdrawal } from './manifest.ts';
import { deleteUnder, installRelease, type PublishDeps } from './publish.ts';

/**
 * Withdrawing a release: it leaves the public press room, its feeds and sitemaps for good,
 * and campaigns and newsletters refuse it, while the private archive keeps it (signed links
 * still work), unless it is purged. The manifest records when, why and by whom; switching it
 * is the commit point, as for a publish. A release that was public leaves a short page at its
 * address saying that it was withdrawn (the local server answers 410 Gone there).
 *
 * Publishing the same slug again is refused unless asked (`--replace`), which brings it back.
 */

export interface WithdrawRequest {
  reason: string;
  /** Who asks: `user@host` on the command line. */
  by: string;
  /** Delete the archived files too, keeping only the record. */
  purge?: boolean;
}

export interface WithdrawResult {
  slug: string;
  title: string;
  /** `already`: it was withdrawn before (and purged, if purging was asked): nothing changed. */
  outcome: 'withdrawn' | 'purged' | 'already';
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
  if (before.withdrawn && (before.withdrawn.purgedAt || !request.purge)) {
    // A purge cut short after its commit point left files behind: finish it.
    if (before.withdrawn.purgedAt) await deleteUnder(deps.store, archiveKeys.version(slug, before.version));
    // And an alert left waiting by a withdrawal cut short before it was cancelled.
    const alerts = await withdrawnAlerts(slug, deps, now);
    return {
      slug,
      title,
      outcome: 'already',
      withdrawal: before.withdrawn,
      siteObjectsWritten: 0,
      ...(alerts.length > 0 && { alerts }),
    };
  }
  const withdrawal: Withdrawal = {
    ...(before.withdrawn ?? {
      at: now.toISOString(),
      reason,
      by: request.by,
      wasPublic: isPublic(before.summary, now),
    }),
    ...(request.purge && { purgedAt: now.toISOString() }),
  };
  const summary: ReleaseSummary = { ...before.summary, withdrawn: withdrawal.at };
  const after: ReleaseManifest = {
    ...before,
    summary: request.purge ? purged(summary) : summary,
    withdrawn: withdrawal,
    ...(request.purge && { files: [] }),
  };
  try {
    await deps.store.putIfVersion(key, `${JSON.stringify(after, null, 2)}\n`, current.version, {
      contentType: 'application/json',
    });
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw error;
    throw new PressroomError(`"${slug}" was published or withdrawn by someone else meanwhile: run it again`, {
      cause: error,
    });
  }
  // Out of the search index for good (the press room filters it out); purged: its words too.
  const siteObjectsWritten = await installRelease(deps, after, before, now, {
    ...(request.purge && { searchText: null }),
  });
  if (request.purge) await deleteUnder(deps.store, archiveKeys.version(slug, before.version));
  const embargo = before.summary.embargo;
  const waiting = !before.withdrawn && embargo !== undefined && Date.parse(embargo) > now.getTime();
  const lift = waiting && deps.lifts ? await cancelLift(slug, deps.lifts) : undefined;
  // A release withdrawn within the minute after publishing: its alert never goes.
  const alerts = await withdrawnAlerts(slug, deps, now);
  return {
    slug,
    title,
    outcome: request.purge ? 'purged' : 'withdrawn',
    withdrawal,
    siteObjectsWritten,
    ...(lift && { lift }),
    ...(alerts.length > 0 && { alerts }),
  };
}

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
