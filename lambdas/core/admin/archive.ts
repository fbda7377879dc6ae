import { isPublic } from '../archive/catalog.ts';
import { readManifest } from '../archive/manifest.ts';
import { releaseDownloads } from '../archive/press-room.ts';
import { type PublishResult, publishRelease, releaseUrl } from '../archive/publish.ts';
import { checkWithdrawReason, type WithdrawResult, withdrawRelease } from '../archive/withdraw.ts';
import { InvalidInputError, PressroomError } from '../errors.ts';
import { loadIssue } from '../newsletter/load.ts';
import { type PublishIssueResult, publishIssue } from '../newsletter/publish.ts';
import { resolveIssue } from '../newsletter/resolve.ts';
import { loadPublication } from '../publication/load.ts';
import { slugPattern } from '../publication/schema.ts';
import { issueFile } from './newsletters.ts';
import { type AdminReleaseDeps, type FieldProblem, releaseFile } from './releases.ts';

/**
 * Publishing and withdrawing a release from the admin, with the same core functions as
 * `pressroom publish` and `pressroom archive withdraw`: what they refuse (a slug another file
 * published, a release withdrawn before, a file with problems, no reason) comes back as a
 * refusal, with nothing changed.
 */

/** Who withdrew, as the archive records it (the command line records `user@host`). */
export const adminOperator = 'web admin';

/** What the admin did not do, and why (a PressroomError's message: what is wrong, what to do). */
export type Refusal = { refused: string; problems?: FieldProblem[]; missing?: boolean };

export type ArchiveOutcome<T> = { done: T } | Omit<Refusal, 'missing'> | { missing: string };

/** Publishing a release: done here, or handed over to be published apart (on the stack). */
export type PublishOutcome = ArchiveOutcome<PublishResult> | { handedOver: HandedOver };

/**
 * What the core refused, as the admin says it: the problems of an InvalidInputError by field
 * (`whole` says what has them), else a PressroomError's message. Anything else is a bug: thrown.
 */
export function refusalOf(error: unknown, whole: string): Refusal {
  if (error instanceof InvalidInputError)
    return {
      refused: whole,
      problems: error.problems.map((p) => ({
        field: p.path,
        message: p.message,
        ...(p.value !== undefined && { value: p.value }),
        ...(p.line !== undefined && { line: p.line }),
      })),
    };
  if (error instanceof PressroomError) return { refused: error.message };
  throw error;
}

const releaseRefusal = (error: unknown) =>
  refusalOf(error, 'the release has problems: fix them, then publish it');

/** A release handed over to be published apart: where its page will be. */
export interface HandedOver {
  slug: string;
  file: string;
  /** Its page in the press room once published (not for a private release). */
  url?: string;
  /** Not in the press room before this time. */
  embargo?: string;
}

/**
 * Publishes the workspace's release of `slug` from its file, as `pressroom publish <file>` does;
 * or, with `handOver`, checks that it loads and hands it over (its page comes a few seconds later).
 */
export async function publishFromAdmin(deps: AdminReleaseDeps, slug: string): Promise<PublishOutcome> {
  if (!deps.publishing && !deps.handOver) return { refused: 'publishing is not available here' };
  const found = await releaseFile(deps, slug);
  if (!found) return { missing: `no release "${slug}" in the workspace` };
  if (deps.handOver) {
    try {
      await loadPublication(found.file.path, deps.sources.files);
      await deps.handOver(found.file);
    } catch (error) {
      return releaseRefusal(error);
    }
    const { detail } = found;
    return {
      handedOver: {
        slug,
        file: found.file.name,
        ...(detail.visibility !== 'private' && {
          url: releaseUrl(deps.siteUrl, slug) + releaseDownloads.page,
        }),
        ...(detail.embargo !== undefined && { embargo: detail.embargo }),
      },
    };
  }
  if (!deps.publishing) return { refused: 'publishing is not available here' };
  try {
    return { done: await publishRelease(found.file.path, deps.publishing) };
  } catch (error) {
    return releaseRefusal(error);
  }
}

/** A withdrawal handed over to be done apart (on the stack): its release, and the page that will say it was withdrawn. */
export interface WithdrawalHandedOver {
  slug: string;
  /** Its page in the press room, which says it was withdrawn once done (when it was public). */
  url?: string;
}

/**
 * Withdraws a published release, as `pressroom archive withdraw <slug> --reason` does; or,
 * with `handOverWithdrawal`, checks the reason and that the archive has the release, and
 * hands the withdrawal over (its page says it was withdrawn a few seconds later).
 */
export async function withdrawFromAdmin(
  deps: AdminReleaseDeps,
  slug: string,
  reason: string,
): Promise<ArchiveOutcome<WithdrawResult> | { handedOver: WithdrawalHandedOver }> {
  if (!deps.publishing && !deps.handOverWithdrawal) return { refused: 'withdrawing is not available here' };
  if (reason.trim() === '')
    return {
      refused: 'give the reason for withdrawing it: it is recorded in the archive, never shown to the public',
    };
  try {
    if (deps.handOverWithdrawal) {
      if (!deps.store) return { refused: 'withdrawing is not available here' };
      // The slug becomes a key of the bucket (publications/withdrawals/<slug>.json): a slug only.
      if (!slugPattern.test(slug)) return { missing: `no release "${slug}" in the archive` };
      const text = checkWithdrawReason(reason);
      const { summary } = await readManifest(deps.store, slug);
      await deps.handOverWithdrawal(slug, { reason: text, by: adminOperator });
      return {
        handedOver: {
          slug,
          ...(isPublic(summary, deps.now) && { url: releaseUrl(deps.siteUrl, slug) + releaseDownloads.page }),
        },
      };
    }
    if (!deps.publishing) return { refused: 'withdrawing is not available here' };
    return { done: await withdrawRelease(slug, { reason, by: adminOperator }, deps.publishing) };
  } catch (error) {
    if (error instanceof PressroomError && error.name === 'ReleaseNotFoundError')
      return { missing: error.message };
    return releaseRefusal(error);
  }
}

/** An issue handed over to be published apart (on the stack): which, from which file. */
export interface IssueHandedOver {
  id: string;
  file: string;
}

/**
 * Publishes the workspace's newsletter issue `id` from its file, as `pressroom newsletter
 * publish <file>` does (publishIssue): archived, and on the press room when it is public.
 * A campaign can send it from then on. Refused (nothing changed) as the command refuses it.
 * With the section's `handOver`, the issue is checked as a save checks it (it loads, its
 * releases are public now) and handed over: the archive has it a few seconds later.
 */
export async function publishIssueFromAdmin(
  deps: AdminReleaseDeps,
  id: string,
): Promise<ArchiveOutcome<PublishIssueResult> | { handedOver: IssueHandedOver }> {
  const handOver = deps.newsletters?.handOver;
  if ((!deps.publishing && !handOver) || !deps.newsletters)
    return { refused: 'publishing is not available here' };
  const found = await issueFile(deps, id);
  if (!found) return { missing: `no newsletter issue "${id}" in the workspace` };
  const issueRefusal = (error: unknown) =>
    refusalOf(error, 'the issue has problems: fix them, then publish it');
  if (handOver) {
    try {
      const loaded = await loadIssue(found.file.path, deps.sources.files);
      if (deps.store) await resolveIssue(loaded, { store: deps.store, siteUrl: deps.siteUrl, now: deps.now });
      await handOver(found.file);
    } catch (error) {
      return issueRefusal(error);
    }
    return { handedOver: { id: found.detail.id, file: found.file.name } };
  }
  if (!deps.publishing) return { refused: 'publishing is not available here' };
  try {
    return {
      done: await publishIssue(found.file.path, {
        ...deps.publishing,
        files: deps.sources.files,
        renderer: deps.newsletters.renderer,
        clock: () => deps.now,
      }),
    };
  } catch (error) {
    return issueRefusal(error);
  }
}
