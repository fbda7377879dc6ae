import type { CampaignFiles } from '../core/admin/campaigns.ts';
import { listAll, ObjectExistsError, type ObjectStore } from '../core/store/object-store.ts';
import { storeSourceFiles } from './store-files.ts';

/**
 * The admin's campaign files on a deployed stack: `campaign-files/<name>.yaml` in the data
 * bucket, the same YAML `pressroom send` reads. Apart from `campaigns/` (the campaigns'
 * records, ledgers, proofs and approvals, alert campaigns among them), so a file is never
 * taken for a record. Created with If-None-Match: * (never over another), read inside the
 * prefix only, as the workspace's `campaigns/` is locally.
 */
export const campaignFilesPrefix = 'campaign-files/';

export function storeCampaignFiles(store: ObjectStore): CampaignFiles {
  return {
    // Keys with a leading "/" (the bucket's root), as storeSourceFiles reads them.
    folder: `/${campaignFilesPrefix.slice(0, -1)}`,
    files: storeSourceFiles(store, { root: campaignFilesPrefix }),
    async list() {
      const keys: string[] = [];
      for await (const { key } of listAll(store, campaignFilesPrefix))
        if (/^campaign-files\/[^/.][^/]*\.ya?ml$/.test(key)) keys.push(key);
      return keys.sort().map((key) => ({ path: `/${key}`, name: key }));
    },
    async create(name, text) {
      if (name.includes('/') || name.startsWith('.') || !name.endsWith('.yaml'))
        throw new Error(`"${name}" is not a campaign file name`);
      const key = `${campaignFilesPrefix}${name}`;
      try {
        await store.putIfAbsent(key, text, { contentType: 'application/yaml; charset=utf-8' });
      } catch (error) {
        if (error instanceof ObjectExistsError) return 'exists';
        throw error;
      }
      return { path: `/${key}`, name: key };
    },
  };
}
