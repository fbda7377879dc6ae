import type { IssueSourceFile, IssueSources } from '../core/admin/newsletters.ts';
import { uploadPrefix } from '../core/publication/upload.ts';
import { listAll } from '../core/store/object-store.ts';
import type { StoreDrafts } from './store-release-sources.ts';

/** Where `pressroom newsletter publish --backend aws` uploads issues, and the publish function reads them. */
export const issueUploadPrefix = `${uploadPrefix}newsletters/`;

/**
 * The admin's newsletter issues on a deployed stack: the `.md` files under
 * `publications/newsletters/` of the data bucket, read through the releases' drafts (one ETag
 * per file last read), so that a save replaces the object read only (If-Match), a draft never
 * replaces one (If-None-Match: *), both marked as drafts that the publish function leaves
 * alone. Publishing writes the same bytes again without the mark (handOver): the publish
 * function publishes the issue, as it does an upload of `newsletter publish --backend aws`.
 */
export function storeIssueSources(
  drafts: StoreDrafts,
): IssueSources & { handOver(file: IssueSourceFile): Promise<void> } {
  return {
    // Keys with a leading "/" (the bucket's root), as the publish function reads them.
    folder: `/${issueUploadPrefix.slice(0, -1)}`,
    async list() {
      const files: IssueSourceFile[] = [];
      for await (const { key } of listAll(drafts.store, issueUploadPrefix))
        if (key.endsWith('.md')) files.push({ path: `/${key}`, name: key });
      return files.sort((a, b) => a.name.localeCompare(b.name));
    },
    write: (file, text) => drafts.write(file.name, text),
    handOver: (file) => drafts.handOver(file.name),
    create: (name, text) => drafts.create(`${issueUploadPrefix}${name}`, text),
  };
}
