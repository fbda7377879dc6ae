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
  /** Names inside the version folder. */
  files: string[];
}

export const archiveKeys = {
  manifest: (slug: string) => `archive/${slug}/release.json`,
  version: (slug: string, version: string) => `archive/${slug}/${version}/`,
};

export type ReleaseState = 'public' | 'embargoed' | 'private';

export function stateOf(summary: Pick<ReleaseSummary, 'visibility' | 'embargo'>, now: Date): ReleaseState {
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
