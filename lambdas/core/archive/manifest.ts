import { PressroomError } from '../errors.ts';
import { getJson, type ObjectStore } from '../store/object-store.ts';
import { isPublic, type ReleaseSummary } from './catalog.ts';

/**
 * Where an archived release is, and its manifest: what sending and the newsletter need of
 * the archive, apart from the publishing code (and the renderers it brings along), so the
 * send function's bundle stays small.
 */

export class ReleaseNotFoundError extends PressroomError {
  override name = 'ReleaseNotFoundError';
}

export interface ReleaseManifest {
  summary: ReleaseSummary;
  version: string;
  source: { path: string; sha256: string };
  /** Names inside the version folder (none once a withdrawn release is purged). */
  files: string[];
  /** The press room's address the version was rendered for (its emails and pages link there). */
  siteUrl?: string;
  /** Set when the release was taken out of the public press room (`pressroom archive withdraw`). */
  withdrawn?: Withdrawal;
  /**
   * When a withdrawn release was last published again (`publish --replace`), kept by the
   * publishes after it: a withdrawal asked before then is not carried out (withdraw.ts, `askedAt`).
   */
  restoredAt?: string;
  /** Its press kit images, in order (none: no field). */
  images?: ManifestImage[];
}

/** A press kit image in a manifest: its files in the version folder, the original's hash. */
export interface ManifestImage {
  /** The original as it was given, `files/<path>`, and its SHA-256 (hex), size and format. */
  original: string;
  sha256: string;
  bytes: number;
  format: string;
  /** Dimensions of the original once upright, in pixels. */
  width: number;
  height: number;
  /** The web size and the thumbnail, `images/web/<name>.jpg`, `images/thumbs/<name>.jpg`. */
  web: string;
  thumbnail: string;
}

/** When, why and by whom a release was withdrawn. */
export interface Withdrawal {
  /** ISO time. */
  at: string;
  reason: string;
  /** Who withdrew it: `user@host` on the command line. */
  by: string;
  /** Whether it was public then: its old addresses answer "withdrawn" (410) only if so. */
  wasPublic: boolean;
  /** When its archived files were deleted too (`--purge`, ISO): only this record is left. */
  purgedAt?: string;
  /**
   * The tags a purged release had (its summary has none left), recorded with `purgedAt` and
   * dropped once the purge is done: one cut short counts them again in the catalogue when
   * withdrawing again finishes it.
   */
  tags?: { slug: string; name: string }[];
  /**
   * When the withdrawal (or the purge) was done to the end (ISO): the press room rewritten
   * without it, its lift and waiting alerts cancelled. Absent while it is under way, when it
   * was cut short or its lift could not be deleted (withdrawing again finishes it), or when it
   * was recorded before this field existed (withdrawing again rewrites its press room pages
   * once and records it).
   */
  doneAt?: string;
}

/** A manifest as it is written (a release's or a newsletter issue's): indented JSON, one newline. */
export function manifestText(manifest: unknown): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export const archiveKeys = {
  manifest: (slug: string) => `archive/${slug}/release.json`,
  version: (slug: string, version: string) => `archive/${slug}/${version}/`,
};

export type ReleaseState = 'public' | 'embargoed' | 'private' | 'withdrawn';

export function stateOf(
  summary: Pick<ReleaseSummary, 'visibility' | 'embargo' | 'withdrawn'>,
  now: Date,
): ReleaseState {
  if (summary.withdrawn) return 'withdrawn';
  if (summary.visibility === 'private') return 'private';
  return isPublic(summary, now) ? 'public' : 'embargoed';
}

/** A release's manifest, or a clear error. */
export async function readManifest(store: ObjectStore, slug: string): Promise<ReleaseManifest> {
  const manifest = await getJson<ReleaseManifest>(store, archiveKeys.manifest(slug));
  if (!manifest) {
    throw new ReleaseNotFoundError(
      `no release "${slug}" in the archive: \`pressroom archive list\` shows the slugs`,
    );
  }
  return manifest.value;
}

/** A withdrawn release is not sent, linked from a newsletter, or published again unasked. */
export class WithdrawnError extends PressroomError {
  override name = 'WithdrawnError';
}

/** Refuses to send a withdrawn release: campaigns check it before anything goes out. */
export function refuseWithdrawn(slug: string, manifest: Pick<ReleaseManifest, 'withdrawn'>): void {
  const w = manifest.withdrawn;
  if (!w) return;
  throw new WithdrawnError(
    `"${slug}" was withdrawn on ${w.at.slice(0, 10)} (${w.reason}): it is no longer sent. \`pressroom archive list\` shows its state; publish it again with --replace to bring it back.`,
  );
}
