import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, isSeq, type Node, parseDocument, YAMLSeq } from 'yaml';
import { catalogYears, isPublic, readYear } from '../archive/catalog.ts';
import { ReleaseNotFoundError, readManifest } from '../archive/manifest.ts';
import { showTime } from '../campaigns/time.ts';
import { oneAtATime } from '../concurrency.ts';
import { InvalidInputError, PressroomError, type Problem } from '../errors.ts';
import { splitFrontMatter, validate } from '../input.ts';
import { IssueNotFoundError, readIssueManifest } from '../newsletter/catalog.ts';
import { draftIssue } from '../newsletter/draft.ts';
import { issueIdOf, loadIssue } from '../newsletter/load.ts';
import { renderIssueFiles } from '../newsletter/publish.ts';
import type { NewsletterRenderer } from '../newsletter/render.ts';
import { resolveIssue } from '../newsletter/resolve.ts';
import { issueFrontMatterSchema } from '../newsletter/schema.ts';
import { readFrontMatterFile } from '../publication/load.ts';
import { type Language, slugPattern } from '../publication/schema.ts';
import type { LocaleStrings } from '../render/locale.ts';
import { editPublicationText } from './edit.ts';
import {
  type AdminReleaseDeps,
  type FieldProblem,
  fieldProblems,
  type SaveOutcome,
  sha256,
  textToSave,
  withFile,
} from './releases.ts';

/**
 * The newsletter issues of a workspace as the admin shows them: the same issue files the
 * command line reads (`pressroom newsletter render|publish`), drafted by the same
 * `draftIssue` as `pressroom newsletter draft`, rendered by the same `renderIssueFiles`, and
 * saved by rewriting only what changed (edit.ts): an issue opened and saved unchanged stays
 * byte for byte the same; moved items keep their comments.
 */

/** An issue file of the workspace. */
export interface IssueSourceFile {
  /** The path the source files read it at. */
  path: string;
  /** Its name inside the workspace, as shown: `newsletters/2024-03-lettre.md`. */
  name: string;
}

/** Where the admin finds issues: the `.md` files of the workspace's `newsletters/` folder. */
export interface IssueSources {
  folder: string;
  list(): Promise<IssueSourceFile[]>;
  /** Replaces a file of the list with `text` (UTF-8), whole or not at all. */
  write(file: IssueSourceFile, text: string): Promise<void>;
  /** Creates a new file `name` in the folder, whole or not at all; never replaces one: `exists` when taken. */
  create(name: string, text: string): Promise<IssueSourceFile | 'exists'>;
}

/** What the newsletters section works with, besides the releases' deps (the store, the files, the site). */
export interface AdminNewsletterDeps {
  sources: IssueSources;
  renderer: NewsletterRenderer;
  /** The render templates' strings: a draft's title and intro. */
  locales: Record<Language, LocaleStrings>;
  /** The workspace's zone: a draft made at 00:30 in Paris is named after that day, as the command names it. */
  timeZone: string;
  /** A draft's language when none is asked. */
  lang: Language;
  /** The section's page templates (newsletters-pages.ts). */
  pages: { list: string; issue: string };
  /**
   * Publishing done apart (the stack's publish function, started by the file written again
   * without its draft mark): returns before the issue is in the archive. Used instead of the
   * releases' `publishing` for issues when given.
   */
  handOver?: (file: IssueSourceFile) => Promise<void>;
}

/** An item as the admin edits it: a release (its slug, and what replaces its title, summary, image) or an inline item. */
export interface IssueItemEdit {
  release?: string;
  title?: string;
  summary?: string;
  url?: string;
  image?: string;
}

const itemFields = ['release', 'title', 'summary', 'url', 'image'] as const;

/** An issue in the list. */
export interface IssueListItem {
  id: string;
  file: string;
  title?: string;
  date?: string;
  items: number;
  problems: number;
  /** In the archive (`pressroom newsletter publish`): its state and version; absent when never published. */
  archive?: { state: 'public' | 'private'; version: string };
}

/** An issue read whole. */
export interface IssueDetail extends IssueListItem {
  lang?: string;
  intro: string;
  itemList: (IssueItemEdit & { releaseTitle?: string })[];
  problemList: FieldProblem[];
  /** The SHA-256 of the file's bytes (hex): a save names it, and is refused if the file changed since. */
  version: string;
}

/** What a save sends: the issue's title and intro, its items in order, and the version it was read at. */
export interface IssueEdit {
  version: string;
  title?: string;
  intro?: string;
  items: IssueItemEdit[];
}

/** Whether `id` could be an issue's id at all (a slug): `../x` never is. */
export function isIssueId(id: string): boolean {
  return id.length <= 120 && slugPattern.test(id);
}

/** An item of the file as data: the slug alone is `{ release }`; unknown fields are dropped. */
export function normalizedItem(raw: unknown): IssueItemEdit {
  if (typeof raw === 'string') return { release: raw };
  const item: IssueItemEdit = {};
  if (raw && typeof raw === 'object')
    for (const field of itemFields) {
      const value = (raw as Record<string, unknown>)[field];
      if (value !== undefined && value !== null) item[field] = String(value);
    }
  return item;
}

function newsletterDeps(deps: AdminReleaseDeps): AdminNewsletterDeps {
  if (!deps.newsletters) throw new PressroomError('the newsletters section is not set up here');
  return deps.newsletters;
}

/** Reads one issue file; problems instead of a throw. */
async function readIssueFile(file: IssueSourceFile, deps: AdminReleaseDeps): Promise<IssueDetail> {
  const files = deps.sources.files.within(file.path);
  const bytes = await files.readBytes(file.path).catch(() => undefined);
  let data: Record<string, unknown> = {};
  let problems: Problem[] = [];
  try {
    const read = await readFrontMatterFile(file.path, files, []);
    data = (read.parsed.data ?? {}) as Record<string, unknown>;
    const checked = validate(issueFrontMatterSchema, read.parsed);
    if (!checked.ok) problems = checked.problems;
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    problems = error.problems;
  }
  const id = typeof data.id === 'string' && isIssueId(data.id) ? data.id : issueIdOf(file.name);
  const items = Array.isArray(data.items) ? data.items.map(normalizedItem) : [];
  const detail: IssueDetail = {
    id,
    file: file.name,
    ...(typeof data.title === 'string' && { title: data.title }),
    ...(typeof data.date === 'string' && { date: data.date }),
    ...(typeof data.lang === 'string' && { lang: data.lang }),
    intro: typeof data.intro === 'string' ? data.intro : '',
    items: items.length,
    itemList: items,
    problems: problems.length,
    problemList: fieldProblems(problems, true),
    version: bytes ? sha256(bytes) : '',
  };
  if (deps.store) {
    try {
      const manifest = await readIssueManifest(deps.store, id);
      detail.archive = { state: manifest.summary.visibility, version: manifest.version };
    } catch (error) {
      if (!(error instanceof IssueNotFoundError)) throw error;
    }
  }
  return detail;
}

function listItem(detail: IssueDetail): IssueListItem {
  const { intro: _i, itemList: _l, problemList: _p, version: _v, lang: _g, ...item } = detail;
  return item;
}

/** The workspace's issues, newest date first. */
export async function listIssues(deps: AdminReleaseDeps): Promise<IssueListItem[]> {
  const items = [];
  for (const file of await newsletterDeps(deps).sources.list())
    items.push(listItem(await readIssueFile(file, deps)));
  return items.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.file.localeCompare(b.file));
}

/** The file of an issue, and the issue read whole; undefined when no file of the workspace has this id. */
export async function issueFile(
  deps: AdminReleaseDeps,
  id: string,
): Promise<{ file: IssueSourceFile; detail: IssueDetail } | undefined> {
  if (!isIssueId(id)) return undefined;
  for (const file of await newsletterDeps(deps).sources.list()) {
    const detail = await readIssueFile(file, deps);
    if (detail.id === id) return { file, detail };
  }
  return undefined;
}

/** An issue read whole, its release items with the title the archive has for them. */
export async function findIssue(deps: AdminReleaseDeps, id: string): Promise<IssueDetail | undefined> {
  const found = await issueFile(deps, id);
  if (!found) return undefined;
  const { detail } = found;
  if (deps.store) {
    for (const item of detail.itemList) {
      if (item.release === undefined) continue;
      try {
        item.releaseTitle = (await readManifest(deps.store, item.release)).summary.title;
      } catch (error) {
        if (!(error instanceof ReleaseNotFoundError)) throw error;
      }
    }
  }
  return detail;
}

/** A release an issue can add: public now, newest first. */
export interface RecentRelease {
  slug: string;
  title: string;
  date: string;
}

/** The public releases of the archive, newest first, at most `limit`: what "add an item" offers. */
export async function recentReleases(deps: AdminReleaseDeps, limit = 50): Promise<RecentRelease[]> {
  if (!deps.store) return [];
  const found: RecentRelease[] = [];
  for (const year of await catalogYears(deps.store)) {
    const releases = (await readYear(deps.store, year))
      .filter((r) => isPublic(r, deps.now))
      .sort((a, b) => b.date.localeCompare(a.date));
    for (const r of releases) {
      if (found.length >= limit) return found;
      found.push({ slug: r.slug, title: r.title, date: r.date });
    }
  }
  return found;
}

/** What drafting did: the new issue, or why nothing was written. */
export type DraftResult = { created: IssueDetail } | { problems: FieldProblem[] } | { conflict: string };

/**
 * A new issue drafted from the public releases dated on or after `since`, as `pressroom
 * newsletter draft --since` writes it, in the workspace's `newsletters/` folder under the
 * name the command gives it, `newsletter-<today>.md`. An existing file is never overwritten.
 */
export async function draftIssueFile(
  deps: AdminReleaseDeps,
  input: { since: string; lang?: Language },
): Promise<DraftResult> {
  const nl = newsletterDeps(deps);
  if (!deps.store)
    return { problems: [{ field: 'since', message: 'no archive here: publish releases first' }] };
  const name = `newsletter-${showTime(deps.now, nl.timeZone).slice(0, 10)}.md`;
  let text: string;
  try {
    ({ text } = await draftIssue(
      { store: deps.store, files: deps.sources.files, locales: nl.locales },
      {
        since: input.since,
        now: deps.now,
        lang: input.lang ?? nl.lang,
        outFile: path.join(nl.sources.folder, name),
      },
    ));
  } catch (error) {
    if (!(error instanceof PressroomError)) throw error;
    // The command's wording names its option; here it is the form's field.
    return {
      problems: [
        { field: 'since', message: error.message.replace(/--since/g, '"since"'), value: input.since },
      ],
    };
  }
  const file = await nl.sources.create(name, text);
  if (file === 'exists')
    return {
      conflict: `newsletters/${name} already exists: nothing was written. Open it and edit it, or rename it (or pressroom newsletter draft --out) to draft another today`,
    };
  return { created: await readIssueFile(file, deps) };
}

/** The front matter's items as YAML nodes, reordered and edited as `wanted` says; moved items keep their comments. */
function itemsNode(seq: unknown, original: IssueItemEdit[], wanted: IssueItemEdit[]): YAMLSeq {
  const nodes = isSeq(seq) ? (seq.items as Node[]) : [];
  const used = new Set<number>();
  const take = (test: (item: IssueItemEdit) => boolean) => {
    const i = original.findIndex((item, j) => !used.has(j) && test(item));
    if (i >= 0) used.add(i);
    return i;
  };
  const out = new YAMLSeq();
  for (const item of wanted) {
    const same = take((o) => isDeepStrictEqual(o, item));
    if (same >= 0 && nodes[same]) {
      out.items.push(nodes[same]);
      continue;
    }
    const release = item.release === undefined ? -1 : take((o) => o.release === item.release);
    const node = release >= 0 ? nodes[release] : undefined;
    if (isMap(node)) {
      // The same release, edited: its node (and its comments) with the fields changed.
      for (const field of itemFields) {
        if (item[field] === undefined) node.delete(field);
        else if (node.get(field) !== item[field]) node.set(field, item[field]);
      }
      out.items.push(node);
      continue;
    }
    const created = parseDocument('x: 1').createNode({ ...item });
    if (isScalar(node) && node.comment && isMap(created)) created.comment = node.comment;
    out.items.push(created);
  }
  return out;
}

/**
 * The issue file's text with `edit` applied, rewriting only what changed: the title and
 * intro as edit.ts rewrites a field, the items from their own nodes.
 */
export function editIssueText(text: string, edit: Omit<IssueEdit, 'version'>, file: string): string {
  const split = splitFrontMatter(text, file);
  const doc = parseDocument(split.yaml);
  if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents)))
    throw new InvalidInputError([
      { file, path: '', message: 'the front matter cannot be edited here: fix its YAML in the file first' },
    ]);
  const current = (doc.toJS() ?? {}) as Record<string, unknown>;
  const wanted: Record<string, unknown> = { ...current };
  if (edit.title !== undefined) wanted.title = edit.title;
  if (edit.intro !== undefined) wanted.intro = edit.intro;
  const original = Array.isArray(current.items) ? current.items.map(normalizedItem) : [];
  if (!isDeepStrictEqual(original, edit.items))
    wanted.items = itemsNode(doc.get('items', true), original, edit.items);
  return editPublicationText(text, { frontMatter: wanted, body: split.body }, file);
}

/** What a save did: written (or not, when nothing changed), refused, or no such issue. */
export type SaveIssueResult = SaveOutcome<IssueDetail>;

/**
 * Saves an edited issue into its own file: the file must still be the `version` that was
 * read (else a conflict, nothing written), and what would be written must load as an issue
 * whose release items are public now, as `pressroom newsletter render` checks it (else its
 * problems, nothing written). A save that changes nothing writes nothing. Saves go one at a
 * time: of two made at once from the same version, the second finds the file changed.
 */
export function saveIssue(deps: AdminReleaseDeps, id: string, edit: IssueEdit): Promise<SaveIssueResult> {
  return issueWrites(() => saveNow(deps, id, edit));
}

/** Saves of issues, one at a time (within this process). */
const issueWrites = oneAtATime();

async function saveNow(deps: AdminReleaseDeps, id: string, edit: IssueEdit): Promise<SaveIssueResult> {
  const found = await issueFile(deps, id);
  if (!found) return undefined;
  const { file, detail } = found;
  const read = await textToSave(deps.sources.files, file, edit.version);
  if (!('text' in read)) return read;
  const { text } = read;
  try {
    const edited = editIssueText(text, edit, file.name);
    if (edited === text) return { saved: detail, written: false };
    const files = withFile(deps.sources.files, file.path, new TextEncoder().encode(edited));
    const loaded = await loadIssue(file.path, files);
    if (deps.store) await resolveIssue(loaded, { store: deps.store, siteUrl: deps.siteUrl, now: deps.now });
    await newsletterDeps(deps).sources.write(file, edited);
  } catch (error) {
    if (error instanceof InvalidInputError) return { problems: fieldProblems(error.problems, false) };
    throw error;
  }
  return { saved: (await findIssue(deps, id)) ?? detail, written: true };
}

/** An issue's email as the sample recipient gets it, and its text part. */
export interface IssuePreview {
  id: string;
  subject: string;
  email: { html: string; text: string };
  notices: string[];
}

/** The preview of an issue from its file, as `pressroom newsletter render` makes preview.html and preview.txt. */
export async function previewIssue(
  deps: AdminReleaseDeps,
  id: string,
): Promise<{ preview: IssuePreview } | { problems: FieldProblem[] } | undefined> {
  const found = await issueFile(deps, id);
  if (!found) return undefined;
  if (!deps.store)
    return { problems: [{ field: '', message: 'no archive here: release items cannot be read' }] };
  try {
    const { rendered, files, notices } = await renderIssueFiles(found.file.path, {
      files: deps.sources.files,
      store: deps.store,
      renderer: newsletterDeps(deps).renderer,
      sampleRecipient: deps.sampleRecipient,
      siteUrl: deps.siteUrl,
      clock: () => deps.now,
    });
    const part = (name: string) => String(files.find((f) => f.name === name)?.content ?? '');
    return {
      preview: {
        id: found.detail.id,
        subject: rendered.subject,
        email: { html: part('preview.html'), text: part('preview.txt') },
        notices,
      },
    };
  } catch (error) {
    if (error instanceof InvalidInputError) return { problems: fieldProblems(error.problems, true) };
    throw error;
  }
}
