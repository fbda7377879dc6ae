import path from 'node:path';
import type { ReleaseSourceFile, ReleaseSources } from '../core/admin/releases.ts';
import type { PublishDeps } from '../core/archive/publish.ts';
import { adminDraftMark, uploadPrefix } from '../core/publication/upload.ts';
import {
  listAll,
  ObjectExistsError,
  type ObjectStore,
  VersionConflictError,
} from '../core/store/object-store.ts';
import { storeSourceFiles } from './store-files.ts';

/**
 * The admin's releases on a deployed stack: the publications `publish --backend aws` uploaded
 * under `publications/` (`publications/<year>/<file>.md`, their organisations and attachments
 * beside them), read with the same store files as the publish function. Newsletter issues
 * (`publications/newsletters/`) are another format and are not listed.
 *
 * An object written under `publications/` starts the publish function, so the admin writes
 * its saves and creations as drafts (user metadata adminDraftMark), which the publish function
 * leaves alone. A save replaces the file only if it is still the object last read (If-Match on
 * its ETag, the one whose bytes the core checked); a creation never replaces one
 * (If-None-Match: *). New releases go in `publications/` itself, where the admin's preview
 * reads them from (organisations in `publications/organizations/`). Publishing writes the same
 * bytes again without the mark (handOver): the publish function makes the release, and the
 * admin answers 202 before it is done. Withdrawing is handed over as well (store-withdrawals.ts);
 * whatever still reaches for the admin's `publishing` on the stack throws `NotOnAwsYetError`,
 * which the admin function answers with 501.
 */

/** What the admin on AWS cannot do yet (docs/aws.md, "The web admin"): answered 501, nothing changed. */
export class NotOnAwsYetError extends Error {
  override name = 'NotOnAwsYetError';
  constructor(readonly action: string) {
    super(
      `${action} is not on AWS yet: the admin on AWS lists, reads, previews, saves, creates and publishes releases. ${action} with the command line (pressroom archive withdraw <slug> --reason "…" --backend aws), or locally with pressroom serve`,
    );
  }
}

const newslettersPrefix = `${uploadPrefix}newsletters/`;

/**
 * The admin's drafts in the data bucket, shared by the releases and the newsletters: files
 * read through `files` note their ETag, a write replaces only the object last read (If-Match),
 * a creation never replaces one (If-None-Match: *), both with the draft mark; handOver writes
 * the bytes last read again without it.
 */
export interface StoreDrafts {
  store: ObjectStore;
  files: ReturnType<typeof storeSourceFiles>;
  write(key: string, text: string): Promise<void>;
  handOver(key: string): Promise<void>;
  /** The file made at `key`, or `exists` when the key is taken: nothing written. */
  create(key: string, text: string): Promise<{ path: string; name: string } | 'exists'>;
}

export function storeDrafts(store: ObjectStore): StoreDrafts {
  // The ETag of each publication as it was last read: a save writes over that one only.
  const lastRead = new Map<string, string>();
  // The store itself (its prototype), with a get that notes the ETag.
  const reading: ObjectStore = Object.create(store, {
    get: {
      value: async (key: string) => {
        const object = await store.get(key);
        if (object && key.endsWith('.md')) lastRead.set(key, object.version);
        return object;
      },
    },
  });
  const contentType = 'text/markdown; charset=utf-8';
  const draft = { contentType, metadata: { [adminDraftMark.name]: adminDraftMark.value } };
  return {
    store,
    files: storeSourceFiles(reading, { root: uploadPrefix }),
    async write(key, text) {
      const version = lastRead.get(key);
      if (version === undefined) throw new VersionConflictError(key);
      await store.putIfVersion(key, text, version, draft);
      lastRead.delete(key);
    },
    async handOver(key) {
      const object = await reading.get(key);
      if (!object) throw new VersionConflictError(key);
      await store.putIfVersion(key, object.body, object.version, { contentType });
    },
    async create(key, text) {
      try {
        await store.putIfAbsent(key, text, draft);
      } catch (error) {
        if (error instanceof ObjectExistsError) return 'exists';
        throw error;
      }
      // Keys with a leading "/" (the bucket's root), as the publish function reads them.
      return { path: `/${key}`, name: key };
    },
  };
}

export function storeReleaseSources(
  store: ObjectStore,
  drafts: StoreDrafts = storeDrafts(store),
): ReleaseSources & { handOver(file: ReleaseSourceFile): Promise<void>; drafts: StoreDrafts } {
  const publications = async () => {
    const keys: string[] = [];
    for await (const { key } of listAll(store, uploadPrefix))
      if (!key.startsWith(newslettersPrefix)) keys.push(key);
    return keys;
  };
  return {
    drafts,
    // Keys with a leading "/" (the bucket's root), as the publish function reads them.
    folder: `/${uploadPrefix.slice(0, -1)}`,
    files: drafts.files,
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
    write: (file, text) => drafts.write(file.name, text),
    /**
     * Publishing on the stack: the file's bytes as last read, written again over that object
     * (If-Match) without the draft mark, which starts the publish function.
     */
    handOver: (file) => drafts.handOver(file.name),
    create: (name, text) => drafts.create(`${uploadPrefix}${name}`, text),
  };
}

/**
 * The admin's `publishing` on the stack, where publishing and withdrawing are handed over to the
 * publish function (handOver, handOverWithdrawal): whatever the core still reaches for throws
 * NotOnAwsYetError before anything is read or written, but for the printer: there is none.
 */
export function publishingNotOnAws(): PublishDeps {
  return new Proxy({} as PublishDeps, {
    get(_target, property) {
      if (property === 'then') return undefined;
      // No browser in the admin function: the PDF preview says why (stackPdfReason).
      if (property === 'printer') return undefined;
      throw new NotOnAwsYetError('Withdrawing a release');
    },
  });
}

/** Why the admin on the stack shows no PDF preview, and where the PDF comes from instead. */
export const stackPdfReason =
  'the admin on the stack prints no PDF preview (its function has no browser): publish the release, and the publish function prints its PDF, linked from its page in the press room; or print it on your computer with pressroom render or pressroom publish';
