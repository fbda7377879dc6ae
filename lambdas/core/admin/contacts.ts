import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import type { Ledger } from '../campaigns/ledger.ts';
import { listContacts, statusOn } from '../contacts/audience.ts';
import { unsubscribeAddress } from '../contacts/feedback.ts';
import {
  type ContactField,
  contactFields,
  csvReading,
  detectDelimiter,
  detectEncoding,
  encodingNames,
  type ImportReport,
  importContacts,
  splitTags,
} from '../contacts/import.ts';
import { type Contact, type ContactKeys, listName, shardOf } from '../contacts/model.ts';
import { fieldOfHeader } from '../contacts/profile.ts';
import { findContact, readContactShard, readSuppressionShard } from '../contacts/repository.ts';
import { PressroomError, showValue } from '../errors.ts';
import { limits } from '../limits.ts';
import { describeAddress, type Erasure, eraseAddress } from '../privacy.ts';
import {
  getJson,
  listAll,
  ObjectExistsError,
  type ObjectStore,
  VersionConflictError,
} from '../store/object-store.ts';

/**
 * The web admin's contacts, over the core functions `pressroom contacts ...` uses: search
 * with paging (the store may hold 100,000 contacts: one page at a time is shown), lists and
 * tags with their counts, one contact's profile and history (describeAddress), unsubscribe
 * from a list (unsubscribeAddress), erase (eraseAddress), and a CSV import in three steps:
 * the file staged in the store, a preview (its columns, their mapping, first rows and the
 * report of a dry run), and a confirmation that imports it once, all or nothing
 * (importContacts). Nothing here knows HTTP.
 */

export interface AdminContactsDeps {
  store: ObjectStore;
  keys: ContactKeys;
  ledger?: Ledger;
  /** The lists pressroom.yaml declares: offered for an import beside those contacts are on. */
  lists: { name: string; title?: string }[];
  /** Where uploads must be smaller than importMaxBytes (the stack's Function URL): its limits. */
  importLimit?: ImportLimit;
  now: Date;
}

/**
 * An import limit below the admin's own: at most `bytes` a file and (when given) `rows` lines,
 * and the command that imports a larger file instead, named in the refusal.
 */
export interface ImportLimit {
  bytes: number;
  rows?: number;
  instead: string;
}

/** Contacts shown per page of the list. */
export const contactsPerPage = 50;

/** Case and accents ignored: `numerique` finds "Numérique". */
function folded(text: string): string {
  return text.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
}

/** One contact as the list shows it. */
export interface ContactRow {
  id: string;
  email: string;
  name: string;
  outlet?: string;
  lists: string[];
  tags: string[];
  status: string;
  doNotContact: boolean;
}

export interface ContactsPage {
  /** Contacts matching the search. */
  total: number;
  /** Every contact held. */
  all: number;
  page: number;
  pages: number;
  contacts: ContactRow[];
  /** Every list with its number of contacts, the declared ones too (maybe 0). */
  lists: { name: string; title?: string; count: number }[];
  tags: { name: string; count: number }[];
}

export interface ContactSearch {
  q?: string;
  list?: string;
  tag?: string;
  /** 1-based; past the last page, the last one. */
  page?: number;
}

function rowOf(contact: Contact, status: string): ContactRow {
  const outlet = contact.outlet ?? contact.organization;
  return {
    id: contact.id,
    email: contact.email,
    name: [contact.firstName, contact.lastName].filter(Boolean).join(' '),
    ...(outlet && { outlet }),
    lists: Object.keys(contact.lists).sort(),
    tags: contact.tags,
    status,
    doNotContact: contact.doNotContact !== undefined,
  };
}

/**
 * One page of the contacts matching a search (every word in the address, names, outlet,
 * organisation, role or tags; on a list; with a tag), in the order of their addresses, with
 * the counts of every list and tag. One pass over the shards keeps the addresses of the first
 * pages only (about twice page × 50 at most); the page's contacts are then read from their shards.
 */
export async function searchContacts(
  deps: Pick<AdminContactsDeps, 'store' | 'lists'>,
  search: ContactSearch,
): Promise<ContactsPage> {
  const words = folded(search.q ?? '')
    .split(/\s+/)
    .filter(Boolean);
  const page = Math.max(1, Math.floor(search.page ?? 1) || 1);
  const lists = new Map<string, number>(deps.lists.map((l) => [l.name, 0]));
  const tags = new Map<string, number>();
  /** The first `page × 50` matches by address (more between two cuts): [address in lower case, id]. */
  const first: [string, string][] = [];
  const limit = page * contactsPerPage;
  let total = 0;
  let all = 0;
  for await (const { contact } of listContacts(deps.store)) {
    all++;
    for (const list of Object.keys(contact.lists)) lists.set(list, (lists.get(list) ?? 0) + 1);
    for (const tag of contact.tags) tags.set(tag, (tags.get(tag) ?? 0) + 1);
    if (search.list && !contact.lists[search.list]) continue;
    if (search.tag && !contact.tags.includes(search.tag.toLowerCase())) continue;
    if (words.length > 0) {
      const text = folded(
        [
          contact.email,
          contact.firstName,
          contact.lastName,
          contact.organization,
          contact.outlet,
          contact.role,
          ...contact.tags,
        ].join(' '),
      );
      if (!words.every((w) => text.includes(w))) continue;
    }
    total++;
    first.push([contact.email.toLowerCase(), contact.id]);
    // Sorted and cut now and then: memory stays about twice the pages asked.
    if (first.length >= Math.max(2 * limit, 1024)) keepFirst(first, limit);
  }
  keepFirst(first, limit);
  const pages = Math.max(1, Math.ceil(total / contactsPerPage));
  // Past the last page, every match was kept: the last page is the end of them.
  const from = (Math.min(page, pages) - 1) * contactsPerPage;
  const titles = new Map(deps.lists.map((l) => [l.name, l.title]));
  return {
    total,
    all,
    page: Math.min(page, pages),
    pages,
    contacts: await rowsOf(
      deps.store,
      first.slice(from, from + contactsPerPage).map(([, id]) => id),
      search.list,
    ),
    lists: [...lists]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([name, count]) => {
        const title = titles.get(name);
        return { name, count, ...(title && { title }) };
      }),
    tags: [...tags]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([name, count]) => ({ name, count })),
  };
}

/** Sorts `matches` by address (then id) and keeps the first `limit`. */
function keepFirst(matches: [string, string][], limit: number): void {
  matches.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
  if (matches.length > limit) matches.length = limit;
}

/** The rows of these contacts, in this order, read from their shards (one read of each shard). */
async function rowsOf(store: ObjectStore, ids: string[], list: string | undefined): Promise<ContactRow[]> {
  const shards = [...new Set(ids.map(shardOf))];
  const read = new Map(
    await Promise.all(
      shards.map(
        async (shard) =>
          [
            shard,
            await Promise.all([readContactShard(store, shard), readSuppressionShard(store, shard)]),
          ] as const,
      ),
    ),
  );
  const rows: ContactRow[] = [];
  for (const id of ids) {
    const [contacts, suppressions] = read.get(shardOf(id)) ?? [];
    const contact = contacts?.contacts[id];
    // Erased between the two reads: left out.
    if (contact) rows.push(rowOf(contact, statusOn(suppressions?.suppressions[id], list)));
  }
  return rows;
}

/** A contact id: 32 hex digits (a keyed hash of the address, model.ts). */
export function isContactId(id: string): boolean {
  return /^[0-9a-f]{32}$/.test(id);
}

/** The contact of an id, or undefined (not an id, nobody under it, erased). */
export async function contactById(store: ObjectStore, id: string): Promise<Contact | undefined> {
  if (!isContactId(id)) return undefined;
  return (await readContactShard(store, shardOf(id))).contacts[id];
}

/**
 * Everything held about a contact, as `contacts show` gives it (describeAddress), with its
 * status on each of its lists; undefined when no contact has this id.
 */
export async function contactProfile(deps: AdminContactsDeps, id: string) {
  const contact = await contactById(deps.store, id);
  if (!contact) return undefined;
  const held = await describeAddress(deps.store, deps.keys, contact.email, deps.ledger);
  const lists = Object.entries(contact.lists)
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([name, membership]) => ({
      name,
      ...membership,
      status: statusOn(held.suppression, name),
    }));
  return { ...held, contact, lists };
}

/** What unsubscribing did: nothing when the contact was off that list already. */
export type UnsubscribeOutcome =
  | { missing: string }
  | { refused: string }
  | { done: { list: string; already: boolean } };

/**
 * Unsubscribes a contact from one of its lists, as `pressroom contacts unsubscribe --list`
 * does: a suppression for that list, which imports keep.
 */
export async function unsubscribeContact(
  deps: AdminContactsDeps,
  id: string,
  list: string,
): Promise<UnsubscribeOutcome> {
  const contact = await contactById(deps.store, id);
  if (!contact) return { missing: `no contact has the id ${JSON.stringify(id)}` };
  if (!contact.lists[list])
    return {
      refused: `this contact is not on the list ${JSON.stringify(list)}: choose one of its lists (${Object.keys(contact.lists).join(', ')})`,
    };
  const { suppression } = await findContact(deps.store, deps.keys, contact.email);
  const already = statusOn(suppression, list) !== 'subscribed';
  if (!already) await unsubscribeAddress(deps.store, deps.keys, contact.email, deps.now, list);
  return { done: { list, already } };
}

/**
 * Erases a contact everywhere, as `pressroom contacts erase` does (eraseAddress): counts only,
 * never the address; undefined when no contact has this id.
 */
export async function eraseContactById(deps: AdminContactsDeps, id: string): Promise<Erasure | undefined> {
  const contact = await contactById(deps.store, id);
  if (!contact) return undefined;
  return eraseAddress(deps.store, deps.keys, contact.email, deps.now, deps.ledger);
}

// ---- Import: upload, preview, confirm ----

/** The largest CSV file the admin takes (the import page's own body limit): 100,000 rows fit. */
export const importMaxBytes = 20 * 1024 * 1024;

/** Uploads not confirmed are removed after this long (they hold personal data). */
export const uploadLifetimeMs = 60 * 60 * 1000;

/**
 * Where an upload is kept until it is imported: the store's own `contacts/uploads/` (a folder
 * of the data folder locally, the bucket on AWS), under a random id, written once.
 */
export const uploadKeys = {
  prefix: 'contacts/uploads/',
  file: (id: string) => `contacts/uploads/${id}/file.csv`,
  meta: (id: string) => `contacts/uploads/${id}/upload.json`,
  /** Made once by the first confirmation: a second one finds it and imports nothing. */
  claim: (id: string) => `contacts/uploads/${id}/claim.json`,
  report: (id: string) => `contacts/uploads/${id}/report.json`,
};

interface UploadMeta {
  name: string;
  size: number;
  at: string;
}

/** An upload's id: 24 hex digits, random. */
export function isUploadId(id: string): boolean {
  return /^[0-9a-f]{24}$/.test(id);
}

/** A refusal of the import steps: what is wrong and what to do; nothing changed. */
export class ImportUploadError extends PressroomError {
  override name = 'ImportUploadError';
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 413 | 422,
  ) {
    super(message);
  }
}

/** The name an upload is reported under: its base name, one line, at most 200 characters. */
export function uploadName(raw: string | undefined): string {
  const last = (raw ?? '').split(/[\\/]/).pop() ?? '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are taken out
  const base = last.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (base || 'upload.csv').slice(0, 200);
}

/**
 * Stages an uploaded CSV in the store under a new id (never overwriting one) and removes
 * uploads older than an hour. An empty file, or one over the limit, is refused.
 */
export async function stageUpload(
  deps: Pick<AdminContactsDeps, 'store' | 'now' | 'importLimit'>,
  upload: { name: string; bytes: Uint8Array },
): Promise<{ id: string }> {
  if (upload.bytes.byteLength === 0)
    throw new ImportUploadError(
      `${upload.name} is empty: choose the CSV file of your contacts (a header line, then one contact per line)`,
      422,
    );
  const limit = deps.importLimit;
  const maxBytes = limit?.bytes ?? importMaxBytes;
  const instead = limit?.instead ?? '`pressroom contacts import`';
  if (upload.bytes.byteLength > maxBytes)
    throw new ImportUploadError(
      `${upload.name} is ${upload.bytes.byteLength} bytes, more than the limit of ${maxBytes} bytes here: split it, or use ${instead}`,
      413,
    );
  // Lines, not rows (a quoted cell may hold a line break): a bound the import cannot exceed.
  const bytes = upload.bytes;
  const lines =
    limit?.rows === undefined
      ? 0
      : bytes.reduce((n, b) => (b === 10 ? n + 1 : n), bytes[bytes.length - 1] === 10 ? 0 : 1);
  if (limit?.rows !== undefined && lines > limit.rows + 1)
    throw new ImportUploadError(
      `${upload.name} has ${lines} lines, more than the ${limit.rows} contact rows (and a header) one import here can take: split it, or use ${instead}`,
      413,
    );
  await removeOldUploads(deps);
  const id = randomBytes(12).toString('hex');
  await deps.store.putIfAbsent(uploadKeys.file(id), upload.bytes, { contentType: 'text/csv' });
  const meta: UploadMeta = { name: upload.name, size: upload.bytes.byteLength, at: deps.now.toISOString() };
  await deps.store.putIfAbsent(uploadKeys.meta(id), JSON.stringify(meta));
  return { id };
}

/** Removes the uploads staged more than an hour ago, confirmed or not. */
export async function removeOldUploads(deps: Pick<AdminContactsDeps, 'store' | 'now'>): Promise<number> {
  const old = new Set<string>();
  for await (const item of listAll(deps.store, uploadKeys.prefix)) {
    if (deps.now.getTime() - item.lastModified.getTime() > uploadLifetimeMs)
      old.add(item.key.slice(uploadKeys.prefix.length).split('/')[0] ?? '');
  }
  for (const id of old) {
    if (!isUploadId(id)) continue;
    for (const key of [uploadKeys.file(id), uploadKeys.meta(id), uploadKeys.claim(id), uploadKeys.report(id)])
      await deps.store.delete(key);
  }
  return old.size;
}

/** How the columns of an upload are read: each header, and the contact field it fills (none: left out). */
export interface ColumnMapping {
  header: string;
  field?: ContactField;
  /** What the header detection (the command line's) makes of it. */
  detected?: ContactField;
}

/** What the preview shows of a file, before anything is imported. */
export interface UploadDetection {
  name: string;
  size: number;
  encoding: string;
  delimiter: string;
  columns: ColumnMapping[];
  /** The first rows, as cells, after the header. */
  rows: { line: number; cells: string[] }[];
}

/** The choices of the preview: the list, tags added to everyone, and a field (or none) per column header. */
export interface ImportChoice {
  list: string;
  tags?: string;
  /** Header → field; `''` leaves the column out. Headers absent keep what the detection makes of them. */
  mapping?: Record<string, ContactField | ''>;
}

async function readUpload(store: ObjectStore, id: string): Promise<{ meta: UploadMeta; bytes: Uint8Array }> {
  const missing = () =>
    new ImportUploadError(
      'this upload is not there any more (imported and removed, or older than an hour): upload the file again',
      404,
    );
  if (!isUploadId(id)) throw missing();
  const [meta, file] = await Promise.all([
    getJson<UploadMeta>(store, uploadKeys.meta(id)),
    store.get(uploadKeys.file(id)),
  ]);
  if (!meta || !file) throw missing();
  return { meta: meta.value, bytes: file.body };
}

/** The column headers of an upload, as the preview shows them (for the mapping's form fields); none when it is gone. */
export async function uploadHeaders(store: ObjectStore, id: string): Promise<string[]> {
  try {
    // Gone (imported already) or unreadable: none; the step that follows says why.
    const { meta, bytes } = await readUpload(store, id);
    return detectColumns(meta.name, bytes).columns.map((c) => c.header);
  } catch (error) {
    if (error instanceof PressroomError) return [];
    throw error;
  }
}

/** The rows previewed. */
const previewRows = 5;

/**
 * The columns of a file and the first rows, read as the import reads them (the same encoding
 * and delimiter detection, csv-parse with the same options), each header with the field the
 * header detection gives it.
 */
export function detectColumns(name: string, bytes: Uint8Array, mapping: ImportChoice['mapping'] = {}) {
  const sample = bytes.subarray(0, 64 * 1024);
  const encoding = detectEncoding(sample, name);
  const text = new TextDecoder(encoding).decode(sample);
  const delimiter = detectDelimiter(text);
  let records: { record: string[]; info: { lines: number } }[] = [];
  try {
    records = parse(text, {
      delimiter,
      ...csvReading,
      to_line: previewRows + 20,
      info: true,
    }) as unknown as typeof records;
  } catch {
    // Cut in the middle of a quoted cell at 64 KB: the dry run reports the file as it is.
    records = [];
  }
  const [first, ...rest] = records;
  const header = first?.record ?? [];
  const columns: ColumnMapping[] = header.map((h) => {
    const detected = fieldOfHeader(h);
    const chosen = Object.hasOwn(mapping, h) ? mapping[h] : detected;
    return { header: h, ...(chosen && { field: chosen }), ...(detected && { detected }) };
  });
  return {
    encoding: encodingNames[encoding],
    delimiter: delimiter === '\t' ? 'tab' : delimiter,
    columns,
    rows: rest.slice(0, previewRows).map((r) => ({ line: r.info.lines, cells: r.record })),
  };
}

/** The options of importContacts from the preview's choices. */
function importOptions(choice: ImportChoice, columns: ColumnMapping[]) {
  const list = listName.safeParse(choice.list);
  if (!list.success)
    throw new ImportUploadError(
      `the list ${JSON.stringify(choice.list)} is not a list name: ${list.error.issues[0]?.message ?? 'bad list name'}`,
      422,
    );
  const map: Record<string, ContactField> = {};
  const ignore: string[] = [];
  for (const column of columns) {
    if (column.field) map[column.header] = column.field;
    else ignore.push(column.header);
  }
  const tags = choice.tags ? splitTags(choice.tags) : [];
  const long = tags.find((tag) => tag.length > limits.contactTag);
  if (long)
    throw new ImportUploadError(
      `a tag has ${long.length} characters, more than the limit of ${limits.contactTag}: shorten it (value: ${showValue(long)})`,
      422,
    );
  return { list: list.data, map, ignore, ...(tags.length > 0 && { tags }) };
}

/** Fields a column may be mapped to. */
export const mappableFields: readonly ContactField[] = contactFields;

/** A refusal of the file itself (no email column, not a CSV, an invalid byte): the problems' message. */
function refusal(error: unknown): never {
  if (error instanceof ImportUploadError) throw error;
  if (error instanceof PressroomError) throw new ImportUploadError(error.message, 422);
  throw error;
}

/**
 * The preview of an upload: its columns and their mapping, the first rows, and the report of
 * a dry run with those choices (rows that would be refused, with their line and why). Nothing
 * is written.
 */
export async function previewUpload(
  deps: AdminContactsDeps,
  id: string,
  choice: ImportChoice,
): Promise<{ upload: UploadDetection; report?: ImportReport; problem?: string }> {
  const { meta, bytes } = await readUpload(deps.store, id);
  let detection: ReturnType<typeof detectColumns>;
  try {
    detection = detectColumns(meta.name, bytes, choice.mapping);
  } catch (error) {
    if (!(error instanceof PressroomError)) throw error;
    return {
      upload: { name: meta.name, size: meta.size, encoding: '', delimiter: '', columns: [], rows: [] },
      problem: error.message,
    };
  }
  const upload = { name: meta.name, size: meta.size, ...detection };
  try {
    // No list chosen yet: the dry run under a name no list has (the import then needs one).
    const options = importOptions({ ...choice, list: choice.list || previewList }, detection.columns);
    const report = await importContacts(once(bytes), meta.name, deps, {
      ...options,
      dryRun: true,
      source: `import:${meta.name}`,
      now: deps.now,
    });
    return { upload, report };
  } catch (error) {
    // A choice refused (a list name, a tag) or a file the import cannot read: said beside the form.
    if (!(error instanceof PressroomError)) throw error;
    return { upload, problem: error.message };
  }
}

/** The list a preview's dry run is made for while none is chosen (a dry run writes nothing). */
const previewList = '0-preview';

/** What confirming did: the import's report, or the report of the first confirmation. */
export type ConfirmOutcome =
  | { imported: ImportReport; name: string }
  | { already: ImportReport; name: string };

/** The report of an upload imported already (its file is gone), or undefined. */
export async function importedUpload(
  store: ObjectStore,
  id: string,
): Promise<{ report: ImportReport; name: string } | undefined> {
  if (!isUploadId(id)) return undefined;
  const [meta, report] = await Promise.all([
    getJson<UploadMeta>(store, uploadKeys.meta(id)),
    getJson<ImportReport>(store, uploadKeys.report(id)),
  ]);
  return meta && report ? { report: report.value, name: meta.value.name } : undefined;
}

/**
 * Imports an upload, all or nothing, into the chosen list. Only the first confirmation
 * imports: it claims the upload (create-if-absent); a second one, at once or later, finds the
 * claim and answers the first one's report (or that it is under way). A refused import
 * releases the claim (nothing was written) so that it can be confirmed again once fixed; a
 * claim with no report older than claimStaleMs (an import whose server was stopped) is taken
 * over.
 */
export async function confirmUpload(
  deps: AdminContactsDeps,
  id: string,
  choice: ImportChoice,
): Promise<ConfirmOutcome> {
  const done = await importedUpload(deps.store, id);
  if (done) return { already: done.report, name: done.name };
  const { meta, bytes } = await readUpload(deps.store, id);
  const detection = (() => {
    try {
      return detectColumns(meta.name, bytes, choice.mapping);
    } catch (error) {
      return refusal(error);
    }
  })();
  const options = importOptions(choice, detection.columns);
  const claim = JSON.stringify({ at: deps.now.toISOString() });
  try {
    await deps.store.putIfAbsent(uploadKeys.claim(id), claim);
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
    const report = await getJson<ImportReport>(deps.store, uploadKeys.report(id));
    if (report) return { already: report.value, name: meta.name };
    if (!(await tookOverStaleClaim(deps, id, claim)))
      throw new ImportUploadError(
        'this file is being imported by another confirmation: wait a moment, then open the list of contacts',
        409,
      );
  }
  let report: ImportReport;
  try {
    report = await importContacts(once(bytes), meta.name, deps, {
      ...options,
      source: `import:${meta.name}`,
      now: deps.now,
    });
  } catch (error) {
    await deps.store.delete(uploadKeys.claim(id));
    return refusal(error);
  }
  if (report.rows === 0) {
    // Nothing was read: the claim goes, so a corrected mapping can be confirmed.
    await deps.store.delete(uploadKeys.claim(id));
    throw new ImportUploadError(
      `${meta.name} has a header and no contact rows: nothing to import. Add one contact per line under the header`,
      422,
    );
  }
  await deps.store.put(uploadKeys.report(id), JSON.stringify(report));
  // The file holds personal data: gone once imported (the report holds counts and lines only).
  await deps.store.delete(uploadKeys.file(id));
  return { imported: report, name: meta.name };
}

/**
 * A claim with no report older than this was left by an import that never ended (the server
 * was stopped): the upload may be confirmed again. An import of 150,000 rows takes well under
 * a minute; this is far more, and far less than the upload's hour.
 */
export const claimStaleMs = 10 * 60 * 1000;

/**
 * Takes over the upload's claim when it is stale (compare-and-swap: of two confirmations that
 * find it stale, one takes it). Importing again is safe: an import is all or nothing (one
 * killed before its commit wrote no contact), and one that committed but died before its
 * report finds its contacts unchanged.
 */
async function tookOverStaleClaim(deps: AdminContactsDeps, id: string, claim: string): Promise<boolean> {
  const current = await getJson<{ at?: string }>(deps.store, uploadKeys.claim(id));
  const at = Date.parse(current?.value.at ?? '');
  if (!current || !(deps.now.getTime() - at > claimStaleMs)) return false;
  try {
    await deps.store.putIfVersion(uploadKeys.claim(id), claim, current.version);
    return true;
  } catch (error) {
    if (error instanceof VersionConflictError) return false;
    throw error;
  }
}

/** Bytes in memory, as the stream importContacts reads. */
async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
