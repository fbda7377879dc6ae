import { archiveKeys, type ReleaseManifest, stateOf } from '../archive/manifest.ts';
import { getJson, type ObjectStore } from '../store/object-store.ts';
import { newsletterKeys, readIssueManifest } from './catalog.ts';

/** What a campaign needs of an archived newsletter issue. */
export interface IssueForCampaign {
  title: string;
  /** The version folder holding `email.html` and `email.txt`. */
  prefix: string;
  /**
   * Releases the issue links to that are not public now (made private, or published again
   * under an embargo since the issue was): the issue must not go out while there are any.
   */
  notPublic: string[];
}

/** Reads an archived issue for sending, and checks that everything it links to is public. */
export async function issueForCampaign(store: ObjectStore, id: string, now: Date): Promise<IssueForCampaign> {
  const manifest = await readIssueManifest(store, id);
  const notPublic: string[] = [];
  for (const slug of manifest.summary.releases) {
    const release = await getJson<ReleaseManifest>(store, archiveKeys.manifest(slug));
    const state = release ? stateOf(release.value.summary, now) : 'removed';
    if (state !== 'public') notPublic.push(`${slug} (${state})`);
  }
  return {
    title: manifest.summary.title,
    prefix: newsletterKeys.version(id, manifest.version),
    notPublic,
  };
}
