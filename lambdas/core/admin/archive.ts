import { releaseDownloads } from '../archive/press-room.ts';
import { type PublishResult, publishRelease, releaseUrl } from '../archive/publish.ts';
import { type WithdrawResult, withdrawRelease } from '../archive/withdraw.ts';
import { InvalidInputError, PressroomError } from '../errors.ts';
import { loadPublication } from '../publication/load.ts';
import { type AdminReleaseDeps, type FieldProblem, releaseFile } from './releases.ts';

/**
 * Publishing and withdrawing a release from the admin, with the same core functions as
 * `pressroom publish` and `pressroom archive withdraw`: what they refuse (a slug another file
 * published, a release withdrawn before, a file with problems, no reason) comes back as a
 * refusal, with nothing changed.
 */

/** Who withdrew, as the archive records it (the command line records `user@host`). */
export const adminOperator = 'web admin';

export type ArchiveOutcome<T> =
  | { done: T }
  | { handedOver: HandedOver }
  | { refused: string; problems?: FieldProblem[] }
  | { missing: string };

function refusal(error: unknown): { refused: string; problems?: FieldProblem[] } {
  if (error instanceof InvalidInputError)
    return {
      refused: 'the release has problems: fix them, then publish it',
      problems: error.problems.map((p) => ({
        field: p.path,
        message: p.message,
        ...(p.line !== undefined && { line: p.line }),
      })),
    };
  if (error instanceof PressroomError) return { refused: error.message };
  throw error;
}

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
export async function publishFromAdmin(
  deps: AdminReleaseDeps,
  slug: string,
): Promise<ArchiveOutcome<PublishResult>> {
  if (!deps.publishing && !deps.handOver) return { refused: 'publishing is not available here' };
  const found = await releaseFile(deps, slug);
  if (!found) return { missing: `no release "${slug}" in the workspace` };
  if (deps.handOver) {
    try {
      await loadPublication(found.file.path, deps.sources.files);
      await deps.handOver(found.file);
    } catch (error) {
      return refusal(error);
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
    return refusal(error);
  }
}

/** Withdraws a published release, as `pressroom archive withdraw <slug> --reason` does. */
export async function withdrawFromAdmin(
  deps: AdminReleaseDeps,
  slug: string,
  reason: string,
): Promise<ArchiveOutcome<WithdrawResult>> {
  if (!deps.publishing) return { refused: 'withdrawing is not available here' };
  if (reason.trim() === '')
    return {
      refused: 'give the reason for withdrawing it: it is recorded in the archive, never shown to the public',
    };
  try {
    return { done: await withdrawRelease(slug, { reason, by: adminOperator }, deps.publishing) };
  } catch (error) {
    if (error instanceof PressroomError && error.name === 'ReleaseNotFoundError')
      return { missing: error.message };
    return refusal(error);
  }
}
