import path from 'node:path';
import type { ReleaseManifest } from '../archive/manifest.ts';
import { InvalidInputError, PressroomError } from '../errors.ts';
import { readSourceText } from '../input.ts';
import { type LoadedIssue, loadIssue } from '../newsletter/load.ts';
import { mediaTypeOf } from '../public/site-headers.ts';
import { getJson, type ObjectInfo, type ObjectStore, putContent } from '../store/object-store.ts';
import { loadPublication, type SourceFiles } from './load.ts';
import type { Publication } from './schema.ts';

/**
 * Publishing through a deployed stack: the publication, its organisation files and its
 * attachments are uploaded under `publications/`, where the publish function finds them the
 * way the local loader does (organisations beside the publication or one folder up,
 * attachments relative to it); the `.md` goes last, since its upload starts the publish.
 * The outcome is the release's manifest changing, or an error report appearing beside
 * the publication.
 */

export const uploadPrefix = 'publications/';

/**
 * The user metadata of a publication the web admin saved or created on the stack: a draft,
 * which the publish function leaves alone (an object under `publications/` is otherwise
 * published). Written again without the mark (`aws s3 cp` of the object onto itself,
 * `pressroom publish --backend aws` of a copy), it is published.
 */
export const adminDraftMark = { name: 'pressroom-draft', value: 'web-admin' } as const;

/** Whether an object's metadata marks it as a draft of the web admin (adminDraftMark). */
export function isAdminDraft(metadata: Readonly<Record<string, string>> | undefined): boolean {
  return metadata?.[adminDraftMark.name] === adminDraftMark.value;
}

/** One file to upload and its key. */
export interface UploadItem {
  file: string;
  key: string;
  /** A text the loader read (the publication, an organisation): uploaded as UTF-8. */
  text: boolean;
}

export interface UploadPlan {
  /** What was checked; its `source` is the file the plan's files are relative to. */
  publication: Pick<Publication, 'source'> & Partial<Publication>;
  /** What the local check had to say (a file converted to UTF-8...). */
  notices: string[];
  /** The publication's key: `publications/<year>/<file name>`. */
  key: string;
  /** Organisations and attachments, then the publication itself. */
  items: UploadItem[];
}

/**
 * Checks the publication as `pressroom publish` would, and lists what to upload: every file
 * the loader read (the publication, the organisation files it found, the attachments it
 * measured), keyed under `publications/<year of its date>/` at the same relative place.
 */
export async function planUpload(file: string, files: SourceFiles): Promise<UploadPlan> {
  return planSourceUpload(file, files, async (recording) => {
    const { publication, notices } = await loadPublication(file, recording);
    return { publication, notices, base: `${uploadPrefix}${publication.date.slice(0, 4)}/` };
  });
}

/** Where the publish function takes newsletter issues: every `.md` under it is one. */
export const issueUploadPrefix = `${uploadPrefix}newsletters/`;

/**
 * Checks a newsletter issue as `pressroom newsletter publish` would (its release items
 * against the archive of `store`, when given), and lists what to upload: the issue under
 * `publications/newsletters/`, and the organisation files it read at the same relative place.
 */
export async function planIssueUpload(
  file: string,
  files: SourceFiles,
  check?: (loaded: LoadedIssue) => Promise<void>,
): Promise<UploadPlan & { id: string }> {
  let id = '';
  const plan = await planSourceUpload(file, files, async (recording) => {
    const loaded = await loadIssue(file, recording);
    await check?.(loaded);
    id = loaded.issue.id;
    return { publication: { source: file }, notices: loaded.notices, base: issueUploadPrefix };
  });
  return { ...plan, id };
}

/** The plan of the files `load` reads through the recording files it is given, under its base. */
async function planSourceUpload(
  file: string,
  files: SourceFiles,
  load: (
    recording: SourceFiles,
  ) => Promise<{ publication: Pick<Publication, 'source'>; notices: string[]; base: string }>,
): Promise<UploadPlan> {
  const read = new Map<string, boolean>();
  const recording = (inner: SourceFiles): SourceFiles => ({
    async readBytes(f, options) {
      const bytes = await inner.readBytes(f, options);
      if (bytes !== undefined) read.set(path.normalize(f), true);
      return bytes;
    },
    async stream(f) {
      const body = await inner.stream(f);
      if (body !== undefined && !read.has(path.normalize(f))) read.set(path.normalize(f), false);
      return body;
    },
    async size(f) {
      const size = await inner.size(f);
      if (size !== undefined && !read.has(path.normalize(f))) read.set(path.normalize(f), false);
      return size;
    },
    within: (publicationFile) => recording(inner.within(publicationFile)),
  });
  const { publication, notices, base } = await load(recording(files));
  const dir = path.dirname(file);
  const keyOf = (f: string) => {
    const relative = path.relative(dir, f).split(path.sep).join('/');
    const key = path.posix.normalize(base + relative);
    if (!key.startsWith(uploadPrefix) || key.includes('/../')) {
      throw new InvalidInputError([
        {
          file,
          path: '',
          message: `${f} is more than one folder above the publication: on the stack it would land outside ${uploadPrefix}. Keep organisations and attachments beside the publication or one folder up`,
          value: f,
        },
      ]);
    }
    return key;
  };
  const self = path.normalize(file);
  const items = [...read].filter(([f]) => f !== self).map(([f, text]) => ({ file: f, key: keyOf(f), text }));
  const key = keyOf(self);
  return { publication, notices, key, items: [...items, { file: self, key, text: true }] };
}

/**
 * Puts the plan's files into the store, in order (the publication last). Texts go up as
 * UTF-8 (converted as the check converted them), so the stack reads what was checked.
 */
export async function uploadPlan(plan: UploadPlan, files: SourceFiles, store: ObjectStore): Promise<void> {
  const publicationFiles = files.within(plan.publication.source);
  for (const item of plan.items) {
    // Attachments and images go up as streams, never held whole.
    const body = item.text
      ? (await readSourceText(publicationFiles, item.file))?.text
      : await publicationFiles.stream(item.file);
    if (body === undefined)
      throw new PressroomError(
        `${item.file} was removed after it was checked: nothing more was uploaded; publish again`,
      );
    await putContent(store, item.key, body, { contentType: mediaTypeOf(item.file) });
  }
}

/**
 * The error report the publish function writes beside a publication it refused:
 * `publications/a.md` → `publications/a.errors.json`.
 */
export function reportKeyOf(key: string): string {
  return `${key.replace(/\.md$/i, '')}.errors.json`;
}

/** The manifest and the error report before the upload: a change in either is the outcome. */
export interface PublishSnapshot {
  manifest?: ObjectInfo;
  report?: ObjectInfo;
}

export async function snapshotOutcome(
  store: ObjectStore,
  manifestKey: string,
  reportKey: string,
): Promise<PublishSnapshot> {
  const [manifest, report] = await Promise.all([store.head(manifestKey), store.head(reportKey)]);
  return { ...(manifest && { manifest }), ...(report && { report }) };
}

const changed = (before: ObjectInfo | undefined, now: ObjectInfo | undefined) =>
  now !== undefined &&
  (before === undefined ||
    before.version !== now.version ||
    before.lastModified.getTime() !== now.lastModified.getTime());

/** What became of an uploaded publication. */
export type UploadOutcome<M = ReleaseManifest> =
  | { outcome: 'published'; manifest: M }
  | { outcome: 'rejected'; report: { message?: string; problems?: unknown[] } }
  | { outcome: 'pending' };

/** Looks every `intervalMs` until the manifest or the report changes, for `timeoutMs` at most. */
export async function awaitOutcome<M = ReleaseManifest>(
  store: ObjectStore,
  target: { manifestKey: string; reportKey: string; before: PublishSnapshot },
  options: {
    timeoutMs: number;
    intervalMs?: number;
    sleep?: (ms: number) => Promise<void>;
    now?: () => number;
  },
): Promise<UploadOutcome<M>> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  for (;;) {
    const seen = await snapshotOutcome(store, target.manifestKey, target.reportKey);
    if (changed(target.before.report, seen.report)) {
      const report = await getJson<{ message?: string; problems?: unknown[] }>(store, target.reportKey);
      if (report) return { outcome: 'rejected', report: report.value };
    }
    if (changed(target.before.manifest, seen.manifest)) {
      const manifest = await getJson<M>(store, target.manifestKey);
      if (manifest) return { outcome: 'published', manifest: manifest.value };
    }
    if (now() >= deadline) return { outcome: 'pending' };
    await sleep(Math.min(options.intervalMs ?? 1000, Math.max(0, deadline - now())));
  }
}
