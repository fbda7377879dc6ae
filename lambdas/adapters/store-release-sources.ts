import path from 'node:path';
import type { ReleaseSourceFile, ReleaseSources } from '../core/admin/releases.ts';
import type { PublishDeps } from '../core/archive/publish.ts';
import { uploadPrefix } from '../core/publication/upload.ts';
import { listAll, type ObjectStore } from '../core/store/object-store.ts';
import { storeSourceFiles } from './store-files.ts';

/**
 * The admin's releases on a deployed stack: the publications `publish --backend aws` uploaded
 * under `publications/` (`publications/<year>/<file>.md`, their organisations and attachments
 * beside them), read with the same store files as the publish function. Newsletter issues
 * (`publications/newsletters/`) are another format and are not listed.
 *
 * Read only, for now: an object written under `publications/` is what starts the publish
 * function, so saving a release there would publish it. Saving, creating, publishing and
 * withdrawing throw `NotOnAwsYetError`, which the admin function answers with 501.
 */

/** What the admin on AWS cannot do yet (docs/aws.md, "The web admin"): answered 501, nothing changed. */
export class NotOnAwsYetError extends Error {
  override name = 'NotOnAwsYetError';
  constructor(readonly action: string) {
    super(
      `${action} is not on AWS yet: the admin on AWS lists, reads and previews releases. ${action} with the command line (pressroom publish <file> --backend aws), or locally with pressroom serve`,
    );
  }
}

const newslettersPrefix = `${uploadPrefix}newsletters/`;

export function storeReleaseSources(store: ObjectStore): ReleaseSources {
  const publications = async () => {
    const keys: string[] = [];
    for await (const { key } of listAll(store, uploadPrefix))
      if (!key.startsWith(newslettersPrefix)) keys.push(key);
    return keys;
  };
  return {
    // Keys with a leading "/" (the bucket's root), as the publish function reads them.
    folder: `/${uploadPrefix.slice(0, -1)}`,
    files: storeSourceFiles(store, { root: uploadPrefix }),
    async list(): Promise<ReleaseSourceFile[]> {
      return (await publications())
        .filter((key) => key.endsWith('.md'))
        .sort()
        .map((key) => ({ path: `/${key}`, name: key }));
    },
    async organizations() {
      return (await publications())
        .filter(
          (key) => path.posix.basename(path.posix.dirname(key)) === 'organizations' && key.endsWith('.yaml'),
        )
        .map((key) => path.posix.basename(key, '.yaml'))
        .filter((id, i, ids) => ids.indexOf(id) === i)
        .sort()
        .map((id) => ({ id, name: id }));
    },
    async write() {
      throw new NotOnAwsYetError('Saving a release');
    },
    async create() {
      throw new NotOnAwsYetError('Creating a release');
    },
  };
}

/**
 * Publishing as the admin's deps name it, on a stack where the admin does not publish yet:
 * whatever the core reaches for throws NotOnAwsYetError before anything is read or written.
 */
export function publishingNotOnAws(): PublishDeps {
  return new Proxy({} as PublishDeps, {
    get(_target, property) {
      if (property === 'then') return undefined;
      throw new NotOnAwsYetError('Publishing or withdrawing a release');
    },
  });
}
