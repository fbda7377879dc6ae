import { createHash } from 'node:crypto';
import path from 'node:path';
import { stringify } from 'yaml';
import type { LiftCanceller } from '../archive/lift.ts';
import { ReleaseNotFoundError, type ReleaseState, readManifest, stateOf } from '../archive/manifest.ts';
import { type PublishDeps, siteTop } from '../archive/publish.ts';
import type { WithdrawRequest } from '../archive/withdraw.ts';
import { oneAtATime } from '../concurrency.ts';
import { InvalidInputError, type Problem } from '../errors.ts';
import { validate } from '../input.ts';
import { loadPublication, readFrontMatterFile, type SourceFiles } from '../publication/load.ts';
import { type PublicationFrontMatter, publicationFrontMatterSchema } from '../publication/schema.ts';
import { slugify } from '../publication/slug.ts';
import type { ReleaseRenderer, RenderOptions } from '../render/document.ts';
import { compileForRecipients, type RecipientFields } from '../render/recipient.ts';
import { type ObjectStore, VersionConflictError } from '../store/object-store.ts';
import type { CampaignSectionDeps } from './campaigns.ts';
import type { AdminContactsDeps } from './contacts.ts';
import { editPublicationText, type PublicationEdit } from './edit.ts';
import type { AdminNewsletterDeps } from './newsletters.ts';

/**
 * The releases of a workspace as the admin shows them: its publication files (the same
 * YAML + Markdown files the command line reads), each with what the archive knows of it, and
 * previews rendered by the same renderer as `pressroom render`.
 */

/** A publication file of the workspace. */
export interface ReleaseSourceFile {
  /** The path the source files read it at. */
  path: string;
  /** Its name inside the workspace, as shown: `publications/2021-06-08-etude.md`. */
  name: string;
}

/** Where the admin finds publications: the workspace's publication files, read inside it. */
export interface ReleaseSources {
  list(): Promise<ReleaseSourceFile[]>;
  /**
   * Replaces a file of the list with `text` (UTF-8), whole or not at all. A store that can
   * throws VersionConflictError when the file changed since it was last read.
   */
  write(file: ReleaseSourceFile, text: string): Promise<void>;
  /**
   * Creates a new file `name` in the folder with `text` (UTF-8), whole or not at all; never
   * replaces one: `exists` when the name is taken.
   */
  create(name: string, text: string): Promise<ReleaseSourceFile | 'exists'>;
  /** The workspace's organisations (`organizations/*.yaml`): what a new release's publishers are chosen from. */
  organizations(): Promise<{ id: string; name: string }[]>;
  /**
   * The files a release may list, relative to the publications folder: regular files of its
   * `attachments/` and `images/` folders, reached without a symbolic link. Without it, the
   * forms offer none.
   */
  pressKitFiles?(): Promise<{ attachments: string[]; images: string[] }>;
  files: SourceFiles;
  /** The folder new publications go in; a preview is read as if it were a file there. */
  folder: string;
}

export interface AdminReleaseDeps {
  sources: ReleaseSources;
  renderer: ReleaseRenderer;
  sampleRecipient: RecipientFields;
  /** The archive: which releases are published, and in what state. */
  store?: ObjectStore;
  /** The press room's address, ending in "/": images and links of previews point there. */
  siteUrl: string;
  /** What publishing and withdrawing work with (`pressroom publish`'s); without it, the admin does neither. */
  publishing?: PublishDeps & { lifts?: LiftCanceller };
  /** Why no PDF preview is printed when `publishing` has no printer (the stack's); else `serve --no-pdf`'s. */
  noPdfReason?: string;
  /**
   * Publishing done apart (the stack's publish function, started by the file's upload): hands
   * the file over and returns before the release is in the press room. Used instead of
   * `publishing` for publishing when given.
   */
  handOver?: (file: ReleaseSourceFile) => Promise<void>;
  /**
   * Withdrawing done apart (the stack's publish function, started by a withdrawal request):
   * hands the request over and returns before the release is out of the press room. Used
   * instead of `publishing` for withdrawing when given.
   */
  handOverWithdrawal?: (slug: string, request: WithdrawRequest) => Promise<void>;
  /** The newsletters section (newsletters.ts); without it, its pages and routes answer 503. */
  newsletters?: AdminNewsletterDeps;
  /** The campaigns section (campaigns.ts); without it, its pages and routes answer 503. */
  campaigns?: CampaignSectionDeps;
  /** The contacts section's store and keys (contacts.ts); absent, its API routes answer 503. */
  contacts?: Omit<AdminContactsDeps, 'now'>;
  now: Date;
}

/** One problem, as the admin shows it beside its field. */
export interface FieldProblem {
  /** The field: `publishers[0].pressContact.email`; empty for the whole file. */
  field: string;
  message: string;
  value?: unknown;
  /** The file and line, when the problem is in a file (not in posted data). */
  file?: string;
  line?: number;
}

/** A release in the list. */
export interface ReleaseListItem {
  slug: string;
  file: string;
  title?: string;
  subtitle?: string;
  date?: string;
  lang?: string;
  tags: string[];
  visibility?: 'public' | 'private';
  embargo?: string;
  /** How many problems keep the file from rendering (0: it renders). */
  problems: number;
  /** In the archive: its state and version; absent when never published. */
  archive?: { state: ReleaseState; version: string };
}

/** A release read whole. */
export interface ReleaseDetail extends ReleaseListItem {
  /** The front matter as written (parsed YAML), and the Markdown body. */
  frontMatter: Record<string, unknown>;
  body: string;
  problemList: FieldProblem[];
  /** The SHA-256 of the file's bytes (hex): a save names it, and is refused if the file changed since. */
  version: string;
}

/** A preview: the email filled for the sample recipient, its text part, and the page. */
export interface ReleasePreview {
  slug: string;
  subject: string;
  email: { html: string; text: string };
  page: string;
  notices: string[];
}

export function fieldProblems(problems: readonly Problem[], inFile: boolean): FieldProblem[] {
  return problems.map((p) => ({
    field: p.path,
    message: p.message,
    ...(p.value !== undefined && { value: p.value }),
    ...(inFile && { file: p.file }),
    ...(inFile && p.line !== undefined && { line: p.line }),
  }));
}

/** Lower case, accents off: "Numérique" is found by "numerique". */
function folded(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

/** Reads one file's front matter and body; problems instead of a throw. */
async function readRelease(file: ReleaseSourceFile, deps: AdminReleaseDeps): Promise<ReleaseDetail> {
  const files = deps.sources.files.within(file.path);
  const bytes = await files.readBytes(file.path).catch(() => undefined);
  let frontMatter: Record<string, unknown> = {};
  let body = '';
  let problems: Problem[] = [];
  let valid: PublicationFrontMatter | undefined;
  try {
    const read = await readFrontMatterFile(file.path, files, []);
    frontMatter = (read.parsed.data ?? {}) as Record<string, unknown>;
    body = read.body;
    const checked = validate(publicationFrontMatterSchema, read.parsed);
    if (checked.ok) valid = checked.value;
    else problems = checked.problems;
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    problems = error.problems;
  }
  const title = valid?.title ?? (typeof frontMatter.title === 'string' ? frontMatter.title : undefined);
  const written = valid?.slug ?? (typeof frontMatter.slug === 'string' ? frontMatter.slug : undefined);
  // As loadPublication names it; a file too broken to say is named after itself.
  const slug = written ?? (title ? slugify(title) : '');
  const item: ReleaseDetail = {
    slug: slug || slugify(path.basename(file.name, '.md')),
    file: file.name,
    ...(title !== undefined && { title }),
    ...(valid?.subtitle !== undefined && { subtitle: valid.subtitle }),
    ...(valid && { date: valid.date, lang: valid.lang, visibility: valid.visibility }),
    ...(valid?.embargo !== undefined && { embargo: valid.embargo }),
    tags: valid?.tags ?? [],
    problems: problems.length,
    frontMatter,
    body,
    problemList: fieldProblems(problems, true),
    version: bytes ? sha256(bytes) : '',
  };
  if (deps.store) {
    try {
      const manifest = await readManifest(deps.store, item.slug);
      item.archive = { state: stateOf(manifest.summary, deps.now), version: manifest.version };
    } catch (error) {
      if (!(error instanceof ReleaseNotFoundError)) throw error;
    }
  }
  return item;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function listItem(detail: ReleaseDetail): ReleaseListItem {
  const { frontMatter: _f, body: _b, problemList: _p, version: _v, ...item } = detail;
  return item;
}

/**
 * The workspace's releases, newest date first, those whose title, subtitle, slug, tags or file
 * name hold every word of `query` (case and accents ignored).
 */
export async function listReleases(deps: AdminReleaseDeps, query = ''): Promise<ReleaseListItem[]> {
  const words = folded(query).split(/\s+/).filter(Boolean);
  const items = [];
  for (const file of await deps.sources.list()) {
    const item = listItem(await readRelease(file, deps));
    const haystack = folded([item.title, item.subtitle, item.slug, item.file, ...item.tags].join(' '));
    if (words.every((w) => haystack.includes(w))) items.push(item);
  }
  return items.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.file.localeCompare(b.file));
}

/** The release of a slug, read whole; undefined when no file of the workspace has it. */
export async function findRelease(deps: AdminReleaseDeps, slug: string): Promise<ReleaseDetail | undefined> {
  return (await releaseFile(deps, slug))?.detail;
}

/** The file of a release, and the release read whole; undefined when no file of the workspace has it. */
export async function releaseFile(
  deps: AdminReleaseDeps,
  slug: string,
): Promise<{ file: ReleaseSourceFile; detail: ReleaseDetail } | undefined> {
  for (const file of await deps.sources.list()) {
    const detail = await readRelease(file, deps);
    if (detail.slug === slug) return { file, detail };
  }
  return undefined;
}

/** Where a release's files will be in the press room: what its preview links to. */
function renderOptions(siteUrl: string, slug: string): RenderOptions {
  return {
    imagesUrl: `${siteUrl}releases/${slug}/files/`,
    tagUrl: (tag) => `${siteTop(siteUrl)}tags/${slugify(tag) || 'tag'}/index.html`,
  };
}

/** A publication file loaded and rendered: the email filled for the sample recipient, and the page. */
async function renderFile(file: string, files: SourceFiles, deps: AdminReleaseDeps): Promise<ReleasePreview> {
  const loaded = await loadPublication(file, files);
  const { publication } = loaded;
  const rendered = await deps.renderer.render(publication, renderOptions(deps.siteUrl, publication.slug));
  return {
    slug: publication.slug,
    subject: rendered.subject,
    email: compileForRecipients(rendered.email).fill(deps.sampleRecipient),
    page: rendered.page,
    notices: loaded.notices,
  };
}

/** The preview of a release of the workspace, from its file. */
export async function previewRelease(
  deps: AdminReleaseDeps,
  slug: string,
): Promise<{ preview: ReleasePreview } | { problems: FieldProblem[] } | undefined> {
  for (const file of await deps.sources.list()) {
    const detail = await readRelease(file, deps);
    if (detail.slug !== slug) continue;
    try {
      return { preview: await renderFile(file.path, deps.sources.files, deps) };
    } catch (error) {
      if (error instanceof InvalidInputError) return { problems: fieldProblems(error.problems, true) };
      throw error;
    }
  }
  return undefined;
}

/**
 * The preview of publication data that is not a file yet (the admin's form): written as the
 * file it would be, in the publications folder (so organisation ids and attachments are found
 * as they would be), and rendered. Problems name their fields.
 */
export async function previewPublication(
  deps: AdminReleaseDeps,
  input: { frontMatter: Record<string, unknown>; body: string },
): Promise<{ preview: ReleasePreview } | { problems: FieldProblem[] }> {
  const file = path.join(deps.sources.folder, '.admin-preview.md');
  const files = withFile(deps.sources.files, file, new TextEncoder().encode(publicationText(input)));
  try {
    return { preview: await renderFile(file, files, deps) };
  } catch (error) {
    if (error instanceof InvalidInputError) return { problems: fieldProblems(error.problems, false) };
    throw error;
  }
}

/** Publication data as the text of its file: the front matter as YAML, a blank line, the body. */
function publicationText(input: PublicationEdit): string {
  const body = input.body.replace(/\r\n/g, '\n').replace(/^\n+/, '');
  return `---\n${stringify(input.frontMatter, { lineWidth: 0 })}---\n\n${body}${body.endsWith('\n') || body === '' ? '' : '\n'}`;
}

/** What creating a release did: its file, or why nothing was written. */
export type CreateResult = { created: ReleaseDetail } | { problems: FieldProblem[] } | { conflict: string };

/**
 * Creates a release from scratch: a new publication file in the workspace's publications
 * folder, named as the command line names them (`<date>-<slug>.md`). What would be written
 * must load as a publication (else its problems, nothing written); a slug another release
 * has, or a file name taken, is refused: nothing is ever overwritten.
 */
export function createRelease(deps: AdminReleaseDeps, input: PublicationEdit): Promise<CreateResult> {
  // One at a time: the slug is checked, then the file created; two at once could both pass.
  return releaseWrites(() => createNow(deps, input));
}

/**
 * Creations and saves of releases, one at a time (within this process: docs/admin.md says one
 * `serve` per workspace): each checks (a slug free, a version unchanged), then writes.
 */
const releaseWrites = oneAtATime();

async function createNow(deps: AdminReleaseDeps, input: PublicationEdit): Promise<CreateResult> {
  const text = publicationText(input);
  const probe = path.join(deps.sources.folder, '.admin-new.md');
  let publication: { slug: string; date: string };
  try {
    ({ publication } = await loadPublication(
      probe,
      withFile(deps.sources.files, probe, new TextEncoder().encode(text)),
    ));
  } catch (error) {
    if (error instanceof InvalidInputError) return { problems: fieldProblems(error.problems, false) };
    throw error;
  }
  const taken = await findRelease(deps, publication.slug);
  if (taken)
    return {
      conflict: `the address "${publication.slug}" is already the release of ${taken.file}: give this one another title, or another "slug"`,
    };
  const file = await deps.sources.create(`${publication.date}-${publication.slug}.md`, text);
  if (file === 'exists')
    return {
      conflict: `publications/${publication.date}-${publication.slug}.md already exists: give this release another title, or another "slug"`,
    };
  return { created: await readRelease(file, deps) };
}

/** The source files, with one more file that exists only in memory at `file`. */
export function withFile(files: SourceFiles, file: string, bytes: Uint8Array): SourceFiles {
  const overlay = (inner: SourceFiles): SourceFiles => ({
    readBytes: (f, o) => (f === file ? Promise.resolve(bytes) : inner.readBytes(f, o)),
    size: (f) => (f === file ? Promise.resolve(bytes.byteLength) : inner.size(f)),
    stream: (f) => (f === file ? Promise.resolve(undefined) : inner.stream(f)),
    within: (f) => overlay(inner.within(f)),
  });
  return overlay(files);
}

/** What a save did: written (or not, when nothing changed), refused, or nothing to save. */
export type SaveOutcome<T> =
  | { saved: T; written: boolean }
  | { problems: FieldProblem[] }
  | { conflict: string }
  | undefined;
export type SaveResult = SaveOutcome<ReleaseDetail>;

function changedSince(file: ReleaseSourceFile): { conflict: string } {
  return { conflict: `${file.name} changed since it was opened: open it again, then redo the edit` };
}

/**
 * The text of a file about to be saved: refused when it is no longer the `version` the
 * form was opened on (someone changed it since), or is not UTF-8.
 */
export async function textToSave(
  files: SourceFiles,
  file: ReleaseSourceFile,
  version: string,
): Promise<{ text: string } | { problems: FieldProblem[] } | { conflict: string }> {
  const bytes = await files.within(file.path).readBytes(file.path);
  if (!bytes || sha256(bytes) !== version) return changedSince(file);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) };
  } catch {
    return {
      problems: [
        {
          field: '',
          file: file.name,
          message: 'the file is not UTF-8: save it as UTF-8 in an editor first',
        },
      ],
    };
  }
}

/**
 * Saves an edited release into its own file, rewriting only what changed (edit.ts): the file
 * must still be the `version` that was read (else a conflict, nothing written), and what would
 * be written must load as a publication (else its problems, nothing written). A save that
 * changes nothing writes nothing. Saves go one at a time: of two made at once from the same
 * version, the second finds the file changed.
 */
export function saveRelease(
  deps: AdminReleaseDeps,
  slug: string,
  edit: PublicationEdit & { version: string },
): Promise<SaveResult> {
  return releaseWrites(() => saveNow(deps, slug, edit));
}

async function saveNow(
  deps: AdminReleaseDeps,
  slug: string,
  edit: PublicationEdit & { version: string },
): Promise<SaveResult> {
  for (const file of await deps.sources.list()) {
    const detail = await readRelease(file, deps);
    if (detail.slug !== slug) continue;
    const read = await textToSave(deps.sources.files, file, edit.version);
    if (!('text' in read)) return read;
    const { text } = read;
    try {
      const edited = editPublicationText(text, edit, file.name);
      if (edited === text) return { saved: detail, written: false };
      await loadPublication(
        file.path,
        withFile(deps.sources.files, file.path, new TextEncoder().encode(edited)),
      );
      await deps.sources.write(file, edited);
    } catch (error) {
      if (error instanceof InvalidInputError) return { problems: fieldProblems(error.problems, false) };
      // A store that checks the version as it writes (S3's If-Match): changed in between.
      if (error instanceof VersionConflictError) return changedSince(file);
      throw error;
    }
    return { saved: await readRelease(file, deps), written: true };
  }
  return undefined;
}
