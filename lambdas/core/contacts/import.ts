import { isUtf8 } from 'node:buffer';
import { finished } from 'node:stream/promises';
import { type Options, Parser } from 'csv-parse';
import { fromSpreadsheetSafe } from '../csv.ts';
import { InvalidInputError, PressroomError, showValue } from '../errors.ts';
import { limits } from '../limits.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { utf16Of } from '../text-encoding.ts';
import { type ContactField, contactFields, contactTextFields } from './fields.ts';
import { StagedRows } from './import-staging.ts';
import {
  type Contact,
  type ContactKeys,
  isSuppressed,
  normalizeEmail,
  type Suppression,
  shardNames,
  shardOf,
} from './model.ts';
import {
  addBeats,
  addProfileValue,
  fieldOfHeader,
  headerKey,
  isProfileField,
  type ProfileValues,
} from './profile.ts';
import {
  type ContactShard,
  readContactShard,
  readSuppressionShard,
  removeOrphanShards,
  type ShardChange,
  UnknownOutcomeError,
  updateContactShards,
} from './repository.ts';

/**
 * Importing contacts from spreadsheet exports as they really are: `,` `;` or tab; UTF-8 with
 * or without BOM, Windows-1252 (Latin-1) or UTF-16 (Excel's "Unicode text"), converted;
 * quoted fields with delimiters and new lines inside; French or English headers. The file is
 * read as a stream and checked row by row, its rows set aside by shard in bounded memory
 * (import-staging.ts); then every shard it changes is written at once (repository.ts), so an
 * import is all or nothing: one that fails, at any row or any write,
 * leaves the contacts exactly as they were. A re-import never resubscribes a suppressed
 * address.
 */

export { type ContactField, contactFields };

// The headers each field is known by (French and English), and profile values: profile.ts.

export interface ImportOptions {
  list: string;
  /** Tags added to every imported contact. */
  tags?: string[];
  /** Extra header mappings: column header → field. */
  map?: Record<string, ContactField>;
  /** Column headers to leave out, even those the header detection knows (the admin's mapping). */
  ignore?: string[];
  dryRun?: boolean;
  /** Recorded with each list membership, e.g. `import:journalistes.csv`. */
  source: string;
  now: Date;
}

/** The encodings an import reads; every one but UTF-8 is converted (and the report says so). */
export type CsvEncoding = 'utf-8' | 'windows-1252' | 'utf-16le' | 'utf-16be';

/** A row left out: where, why, and the column and value at fault when there is one. */
export interface RejectedRow {
  line: number;
  reason: string;
  column?: string;
}

export interface ImportReport {
  added: number;
  updated: number;
  unchanged: number;
  rejected: RejectedRow[];
  suppressed: number;
  /** Rows read (without the header and blank lines). */
  rows: number;
  /** The file's encoding: anything but UTF-8 was converted. */
  encoding: CsvEncoding;
  delimiter: string;
  list: string;
  dryRun: boolean;
}

type Row = Partial<Record<Exclude<ContactField, 'tags' | 'beats' | 'doNotContact'>, string>> &
  ProfileValues & {
    email: string;
    tags: string[];
  };

/** How far an import has gone: rows read, then shards written of those to write. */
export type ImportProgress =
  | { phase: 'reading'; rows: number }
  | { phase: 'writing'; rows: number; shards: number; of: number };

/**
 * csv-parse's stream parser, handing each record and the line it ends on to `onRecord` as
 * soon as it is parsed: no record queued, no per-record info object (csv-parse's `info` and
 * `raw` options cost more than the parsing itself). A failure of `onRecord` stops the rest.
 */
class RecordParser extends Parser {
  readonly #onRecord: (fields: string[], endLine: number) => void;
  failure: unknown;
  constructor(options: Options, onRecord: (fields: string[], endLine: number) => void) {
    super(options);
    this.#onRecord = onRecord;
  }
  override push(record: unknown, encoding?: BufferEncoding): boolean {
    if (record === null) return super.push(record, encoding);
    if (this.failure === undefined) {
      try {
        this.#onRecord(record as string[], this.info.lines);
      } catch (error) {
        this.failure = error;
      }
    }
    return true;
  }
}

/** How csv-parse reads a contacts file, once its delimiter is known (the bench parses with it too). */
export const csvReading = {
  bom: true,
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: true,
  skip_records_with_empty_values: true,
  trim: true,
} as const;

/**
 * Imports contacts from the bytes of a CSV file. Nothing is written with `dryRun`, nor when
 * the file cannot be read whole; when writing fails, ImportNotSavedError says so. Memory
 * stays bounded whatever the size of the file (see import-staging.ts).
 */
export async function importContacts(
  bytes: AsyncIterable<Uint8Array>,
  file: string,
  deps: { store: ObjectStore; keys: ContactKeys },
  options: ImportOptions & { progress?: (progress: ImportProgress) => void; stagingBudget?: number },
): Promise<ImportReport> {
  const { encoding, head, chunks } = await decode(bytes, file);
  const delimiter = detectDelimiter(head);
  const report: ImportReport = {
    added: 0,
    updated: 0,
    unchanged: 0,
    rejected: [],
    suppressed: 0,
    rows: 0,
    encoding,
    delimiter,
    list: options.list,
    dryRun: options.dryRun === true,
  };
  let header: string[] | undefined;
  let columns: (ContactField | undefined)[] | undefined;
  const staged = new StagedRows(
    deps.store,
    options.stagingBudget === undefined ? {} : { budget: options.stagingBudget },
  );
  const parser = new RecordParser({ delimiter, ...csvReading }, (record, endLine) => {
    if (!columns) {
      header = record;
      columns = mapHeader(record, file, options.map ?? {}, options.ignore ?? []);
      return;
    }
    report.rows++;
    const row = readRow(record, columns, header ?? [], endLine);
    if ('reason' in row) {
      report.rejected.push(row);
      return;
    }
    const id = deps.keys.idOf(row.email);
    staged.add(shardOf(id), id, packRow(row));
  });
  parser.resume();
  const parsed = finished(parser);
  parsed.catch(() => {});

  try {
    try {
      for await (const chunk of chunks) {
        parser.write(chunk);
        if (parser.failure !== undefined || parser.errored) break;
        options.progress?.({ phase: 'reading', rows: report.rows });
        if (staged.full) await staged.spill().catch((error) => Promise.reject(notSaved(file, error)));
      }
      if (parser.failure === undefined && !parser.errored) parser.end();
      else parser.destroy();
      if (parser.failure !== undefined) throw parser.failure;
      await parsed;
      if (parser.failure !== undefined) throw parser.failure;
    } catch (error) {
      if (error instanceof InvalidInputError || error instanceof ImportNotSavedError) throw error;
      throw new InvalidInputError(
        [{ file, path: '', message: `cannot read the CSV: ${(error as Error).message}` }],
        { cause: error },
      );
    }
    if (!columns)
      throw new InvalidInputError([{ file, line: 1, path: '', message: 'the file has no header row' }]);

    const counts = new Map<string, Record<Outcome, number>>();
    const changes = new Map<string, ShardChange>();
    const shards = staged.shards();
    const combine = (earlier: string, later: string) =>
      packRow(mergeRows(unpackRow(earlier), unpackRow(later)));
    for (const shard of shards) {
      changes.set(shard, async (current) => {
        // Read again each time the shard is computed: an erasure that landed meanwhile wins.
        const suppressions = (await readSuppressionShard(deps.store, shard)).suppressions;
        const entries = await staged.rowsOf(shard, combine);
        const applied = applyRows(current, entries, suppressions, options);
        counts.set(shard, applied.counts);
        options.progress?.({ phase: 'writing', rows: report.rows, shards: counts.size, of: shards.length });
        return applied.shard;
      });
    }
    if (options.dryRun) {
      for (const [shard, change] of changes) await change(await readContactShard(deps.store, shard));
    } else {
      // A shard of a million-row file is megabytes of objects while it is computed: about
      // 8,000 rows’ worth at a time (8 shards at most, for a store far away).
      const parallel = Math.max(
        1,
        Math.min(8, Math.floor((8_000 * shardNames.length) / Math.max(1, report.rows))),
      );
      await updateContactShards(deps.store, changes, { forget: true, parallel }).catch((error) =>
        Promise.reject(notSaved(file, error)),
      );
    }
    for (const shard of counts.values())
      for (const [outcome, count] of Object.entries(shard)) report[outcome as Outcome] += count;
  } finally {
    await staged.discard();
  }
  // Left by an import or a change stopped half-way long ago: tidied, never a reason to fail.
  if (!options.dryRun) await removeOrphanShards(deps.store).catch(() => 0);
  return report;
}

/**
 * A failure to write, as said to the user: ImportNotSavedError when that is true; a bug, or
 * an outcome the store could not tell, passes as it is.
 */
function notSaved(file: string, error: unknown): unknown {
  if (error instanceof UnknownOutcomeError) return error;
  if (!(error instanceof PressroomError) && typeof (error as NodeJS.ErrnoException).code !== 'string')
    return error;
  return new ImportNotSavedError(file, error);
}

/** Writing the import failed: nothing of it was saved, the contacts are as they were. */
export class ImportNotSavedError extends PressroomError {
  override name = 'ImportNotSavedError';
  constructor(file: string, cause: unknown) {
    super(
      `${file} was not imported: ${(cause as Error).message}\nNothing was written: the contacts are exactly as they were before this import. Once that is fixed, run the same import again.`,
      { cause },
    );
  }
}

type Outcome = 'added' | 'updated' | 'unchanged' | 'suppressed';

/**
 * Detects the encoding on the first bytes, then decodes the whole stream with it. A file
 * taken for UTF-8 that turns out not to be further on is refused whole (nothing has been
 * written by then), never decoded in two ways. UTF-8 is checked and passed on as bytes (the
 * parser reads them as they are); other encodings are converted to text. `head` is the
 * start of the file as text, to detect the delimiter on.
 */
async function decode(
  bytes: AsyncIterable<Uint8Array>,
  file: string,
): Promise<{ encoding: CsvEncoding; head: string; chunks: AsyncGenerator<string | Uint8Array> }> {
  const iterator = bytes[Symbol.asyncIterator]();
  const first: Uint8Array[] = [];
  let size = 0;
  while (size < 256 * 1024) {
    const next = await iterator.next();
    if (next.done) break;
    first.push(next.value);
    size += next.value.byteLength;
  }
  const sample = Buffer.concat(first);
  const encoding = detectEncoding(sample, file);
  const decoder = new TextDecoder(encoding, { fatal: encoding !== 'windows-1252' });
  let lines = 1;
  const refuse = (message: string) => new InvalidInputError([{ file, line: lines, path: '', message }]);
  const checked = (chunk: string): string => {
    // Windows-1252 leaves five bytes undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D): a file that
    // holds one is in yet another encoding, and would be stored with control characters.
    const c1 = encoding === 'windows-1252' ? /[\u0080-\u009f]/.exec(chunk) : null;
    if (c1) {
      lines += countLines(chunk.slice(0, c1.index));
      throw refuse(
        `byte 0x${c1[0].charCodeAt(0).toString(16).toUpperCase()} is not a character in UTF-8 nor in Windows-1252: save the file as "CSV UTF-8" and import it again`,
      );
    }
    lines += countLines(chunk);
    return chunk;
  };
  /**
   * UTF-8: checked, then passed on as it is. isUtf8 checks without making a string of the
   * chunk; a character cut by the end of a chunk is checked with the next one.
   */
  let carried: Uint8Array = new Uint8Array(0);
  const pass = (chunk: Uint8Array, last = false): Uint8Array => {
    const cut = last ? chunk.length : completeUpTo(chunk);
    const whole =
      carried.length > 0 ? Buffer.concat([carried, chunk.subarray(0, cut)]) : chunk.subarray(0, cut);
    carried = chunk.slice(cut);
    // The last call passes no bytes: a character still carried was cut short by the end.
    if (!isUtf8(whole)) throw new TypeError('not UTF-8');
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    return chunk;
  };
  let current: Uint8Array = sample;
  async function* chunks(): AsyncGenerator<string | Uint8Array> {
    try {
      yield encoding === 'utf-8' ? pass(sample) : checked(decoder.decode(sample, { stream: true }));
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        current = next.value;
        yield encoding === 'utf-8' ? pass(next.value) : checked(decoder.decode(next.value, { stream: true }));
      }
      if (encoding === 'utf-8') {
        current = new Uint8Array(0);
        pass(current, true);
      } else {
        const rest = decoder.decode();
        if (rest) yield checked(rest);
      }
    } catch (error) {
      if (error instanceof TypeError) {
        // The line: those of the chunk before its first undecodable byte.
        const lenient = new TextDecoder(encoding).decode(current, { stream: true });
        lines += countLines(lenient.slice(0, Math.max(0, lenient.indexOf('\uFFFD'))));
        throw refuse(
          encoding === 'utf-8'
            ? 'this line is not UTF-8, while the file starts in UTF-8: it mixes encodings. Save it again as "CSV UTF-8" and import it again'
            : `the file is not valid ${encodingNames[encoding]} here: save it again as "CSV UTF-8" and import it again`,
        );
      }
      throw error;
    }
  }
  const head = new TextDecoder(encoding).decode(sample.subarray(0, 64 * 1024));
  return { encoding, head, chunks: chunks() };
}

/**
 * Where the last whole UTF-8 character of `bytes` ends: before a character whose lead byte
 * says it goes on past the end (it is checked with the next chunk); the end otherwise.
 */
function completeUpTo(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const size = byte < 0x80 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return size > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/** How people call each encoding. */
export const encodingNames: Record<CsvEncoding, string> = {
  'utf-8': 'UTF-8',
  'windows-1252': 'Windows-1252 (Latin-1)',
  'utf-16le': 'UTF-16 (little-endian)',
  'utf-16be': 'UTF-16 (big-endian)',
};

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * The encoding of a file from its first bytes: a byte-order mark says it; UTF-16 without one
 * shows as NUL bytes every other byte (in a CSV, mostly ASCII); valid UTF-8 is UTF-8; the
 * rest is taken for Windows-1252, what French Excel writes ("CSV (séparateur : point-virgule)").
 */
export function detectEncoding(sample: Uint8Array, file: string): CsvEncoding {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'utf-8';
  const utf16 = utf16Of(sample);
  if (utf16) return utf16;
  const scan = Math.min(sample.length, 4096);
  let nuls = 0;
  for (let i = 0; i < scan; i++) if (sample[i] === 0) nuls++;
  // A spreadsheet's own format (.xlsx is a ZIP, .xls an OLE file), or many NULs: not text.
  const zip = sample[0] === 0x50 && sample[1] === 0x4b && sample[2] === 0x03 && sample[3] === 0x04;
  const ole = sample[0] === 0xd0 && sample[1] === 0xcf && sample[2] === 0x11 && sample[3] === 0xe0;
  if (zip || ole || nuls > scan / 100) {
    throw new InvalidInputError([
      {
        file,
        path: '',
        message:
          'this is not a CSV text file (a spreadsheet saved as .xlsx or .xls?): save it as "CSV UTF-8" and import it again',
      },
    ]);
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

/** The delimiter that splits the header line best, counting outside quotes. */
export function detectDelimiter(text: string): string {
  const counts: Record<string, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && c in counts) counts[c] = (counts[c] ?? 0) + 1;
  }
  const [best] = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return best && best[1] > 0 ? best[0] : ',';
}

function mapHeader(
  header: string[],
  file: string,
  map: Record<string, ContactField>,
  ignore: string[] = [],
): (ContactField | undefined)[] {
  const extra = Object.fromEntries(Object.entries(map).map(([column, field]) => [headerKey(column), field]));
  const ignored = new Set(ignore.map(headerKey));
  const columns = header.map((h) =>
    ignored.has(headerKey(h)) ? undefined : (extra[headerKey(h)] ?? fieldOfHeader(h)),
  );
  if (!columns.includes('email')) {
    throw new InvalidInputError([
      {
        file,
        line: 1,
        path: '',
        message: `no email column among the headers found: ${header.map((h) => JSON.stringify(h)).join(', ')}. Name it "email" (or "courriel", "e-mail"), or map it: --map "Your header=email"`,
      },
    ]);
  }
  return columns;
}

/** The longest value of each field (beats and tags are checked one by one). */
const fieldLimits: Record<Exclude<ContactField, 'email'>, number> = {
  firstName: limits.contactName,
  lastName: limits.contactName,
  organization: limits.contactOrganization,
  outlet: limits.contactOutlet,
  role: limits.contactRole,
  beats: Number.POSITIVE_INFINITY,
  language: limits.contactLanguage,
  phone: limits.contactPhone,
  notes: limits.contactNotes,
  doNotContact: limits.contactTag,
  tags: limits.contactTag,
};

/**
 * Control characters other than tab and new line: a sign of a damaged file or of another
 * encoding, and trouble in every terminal and message that would show them.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const controlCharacter = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** A control character or U+FFFD: what valueProblem looks at closer. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const suspect = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\uFFFD]/;

/**
 * A record read into a row, or rejected with its line: the one it starts on (`endLine`, where
 * it ends, less the new lines quoted inside it).
 */
function readRow(
  record: string[],
  columns: (ContactField | undefined)[],
  header: string[],
  endLine: number,
): Row | RejectedRow {
  const row: Row = { email: '', tags: [] };
  let rawEmail = '';
  let emailColumn = '';
  for (let i = 0; i < columns.length; i++) {
    const field = columns[i];
    if (!field) continue;
    const value = fromSpreadsheetSafe((record[i] ?? '').trim());
    if (!value) continue;
    const column = header[i] ?? field;
    const problem = valueProblem(field, value);
    if (problem)
      return { line: startLine(record, endLine), column, reason: `${problem} (value: ${showValue(value)})` };
    if (field === 'email') {
      if (!rawEmail) [rawEmail, emailColumn] = [value, column];
    } else if (field === 'tags') {
      const tags = splitTags(value);
      for (const long of tags) {
        if (long.length <= limits.contactTag) continue;
        return {
          line: startLine(record, endLine),
          column,
          reason: `a tag has ${long.length} characters, more than the limit of ${limits.contactTag} (value: ${showValue(long)})`,
        };
      }
      if (row.tags.length === 0) row.tags = tags;
      else row.tags.push(...tags);
    } else if (isProfileField(field)) {
      const problem = addProfileValue(row, field, value);
      if (problem)
        return {
          line: startLine(record, endLine),
          column,
          reason: `${problem} (value: ${showValue(value)})`,
        };
    } else row[field] ??= value;
  }
  if (!rawEmail) return { line: startLine(record, endLine), reason: 'no email address' };
  const email = normalizeEmail(rawEmail);
  if (!email)
    return {
      line: startLine(record, endLine),
      column: emailColumn,
      reason: `invalid email address ${JSON.stringify(rawEmail)}`,
    };
  row.email = email;
  return row;
}

/** The line a record starts on: where it ends, less the new lines quoted inside it. */
function startLine(record: string[], endLine: number): number {
  return endLine - countLines(record.join(''));
}

/** What is wrong with a field's value, if anything (tags are checked one by one); `contacts set` checks with it too. */
export function valueProblem(field: ContactField, value: string): string | undefined {
  const max =
    field === 'email' ? limits.email : field === 'tags' ? Number.POSITIVE_INFINITY : fieldLimits[field];
  // One scan for the usual value, with nothing wrong.
  if (!suspect.test(value) && value.length <= max) return undefined;
  const c = controlCharacter.exec(value);
  if (c) {
    const code = c[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `control character U+${code} in the value: the file is damaged or in another encoding`;
  }
  if (value.includes('\uFFFD'))
    return 'the value holds "\uFFFD", a character lost when the file was converted before: correct it in the file';
  if (value.length > max) return `${value.length} characters, more than the limit of ${max}`;
  return undefined;
}

export function splitTags(value: string): string[] {
  const tags: string[] = [];
  for (const part of value.split(tagSeparator)) {
    const tag = part.trim().toLowerCase();
    if (tag) tags.push(tag);
  }
  return tags;
}
const tagSeparator = /[,;|]/;

/**
 * A row as one string: its fields joined by U+001F, its tags by U+001E. Values never hold
 * control characters (readRow refuses them), so the separators cannot occur in them.
 */
function packRow(row: Row): string {
  return [
    row.email,
    row.firstName ?? '',
    row.lastName ?? '',
    row.organization ?? '',
    row.role ?? '',
    row.language ?? '',
    row.tags.join('\u001e'),
    row.outlet ?? '',
    row.phone ?? '',
    row.notes ?? '',
    (row.beats ?? []).join('\u001e'),
    row.doNotContact ? '1' : '',
  ].join('\u001f');
}

function unpackRow(packed: string): Row {
  const [
    email = '',
    firstName,
    lastName,
    organization,
    role,
    language,
    tags,
    outlet,
    phone,
    notes,
    beats,
    dnc,
  ] = packed.split('\u001f');
  const row: Row = { email, tags: tags ? tags.split('\u001e') : [] };
  if (firstName) row.firstName = firstName;
  if (lastName) row.lastName = lastName;
  if (organization) row.organization = organization;
  if (role) row.role = role;
  if (language) row.language = language;
  if (outlet) row.outlet = outlet;
  if (phone) row.phone = phone;
  if (notes) row.notes = notes;
  if (beats) row.beats = beats.split('\u001e');
  if (dnc) row.doNotContact = true;
  return row;
}

/**
 * The same address twice in a file: later non-empty values (and spelling) win; tags and beats
 * add up; do-not-contact in any row holds.
 */
function mergeRows(a: Row | undefined, b: Row): Row {
  if (!a) return b;
  const merged: Row = { ...a, email: b.email };
  for (const field of contactTextFields) {
    if (b[field]) merged[field] = b[field];
  }
  merged.tags = [...new Set([...a.tags, ...b.tags])];
  if (b.beats) merged.beats = addBeats(a.beats ?? [], b.beats);
  if (b.doNotContact) merged.doNotContact = true;
  return merged;
}

/** The rows of one shard applied to it: the shard itself when nothing changes. */
function applyRows(
  current: ContactShard,
  entries: Map<string, string>,
  suppressions: Record<string, Suppression>,
  options: ImportOptions,
): { shard: ContactShard; counts: Record<Outcome, number> } {
  const now = options.now.toISOString();
  const extraTags = (options.tags ?? []).map((t) => t.toLowerCase());
  const counts: Record<Outcome, number> = { added: 0, updated: 0, unchanged: 0, suppressed: 0 };
  let contacts: Record<string, Contact> | undefined;
  // A first import meets empty shards: no key looked up in them (each lookup of a new id in
  // an object costs about as much as adding it).
  const anySuppression = hasKeys(suppressions);
  const anyContact = hasKeys(current.contacts);
  for (const [id, packed] of entries) {
    const suppression: Suppression | undefined = anySuppression ? suppressions[id] : undefined;
    if (suppression?.all?.reason === 'erased') {
      // Erased people are not brought back by an old spreadsheet.
      counts.suppressed++;
      continue;
    }
    const before = anyContact ? current.contacts[id] : undefined;
    const after = upsert(before, id, unpackRow(packed), extraTags, options, now);
    const same = before !== undefined && sameContact(before, after);
    if (!same) {
      contacts ??= { ...current.contacts };
      contacts[id] = after;
    }
    counts[
      isSuppressed(suppression, options.list)
        ? 'suppressed'
        : !before
          ? 'added'
          : same
            ? 'unchanged'
            : 'updated'
    ]++;
  }
  // Nothing changed: hand back the shard as it was, and nothing is written.
  return { shard: contacts ? { contacts } : current, counts };
}

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

function upsert(
  before: Contact | undefined,
  id: string,
  row: Row,
  extraTags: string[],
  options: ImportOptions,
  now: string,
): Contact {
  if (!before) return newContact(id, row, extraTags, options, now);
  const contact: Contact = { ...before, tags: [...before.tags], lists: { ...before.lists } };
  // The same mailbox in another spelling (case, IDN form) is the same contact, shown as the
  // latest import wrote it.
  contact.email = row.email;
  // A value replaces the contact's; an empty cell, or a column the file does not have, keeps it.
  for (const field of contactTextFields) {
    const value = row[field];
    if (value) contact[field] = value;
  }
  // The file's beats are the person's beats now (tags, labels of lists, add up instead).
  if (row.beats?.length) contact.beats = row.beats;
  // An import can set do-not-contact, never lift it: `contacts set --no-do-not-contact` does.
  if (row.doNotContact && !contact.doNotContact) contact.doNotContact = { at: now, source: options.source };
  contact.tags = [...new Set([...contact.tags, ...row.tags, ...extraTags])].sort();
  contact.lists[options.list] ??= { addedAt: now, source: options.source };
  contact.updatedAt = now;
  return contact;
}

/**
 * What upsert makes of a row without a contact, built at once: the same keys in the same
 * order (the stored bytes follow it), without copying an empty contact first.
 */
function newContact(id: string, row: Row, extraTags: string[], options: ImportOptions, now: string): Contact {
  const contact: Contact = {
    id,
    email: row.email,
    tags: sortedTags(row.tags, extraTags),
    lists: { [options.list]: { addedAt: now, source: options.source } },
    createdAt: now,
    updatedAt: now,
  };
  for (const field of contactTextFields) {
    const value = row[field];
    if (value) contact[field] = value;
  }
  if (row.beats?.length) contact.beats = row.beats;
  if (row.doNotContact) contact.doNotContact = { at: now, source: options.source };
  return contact;
}

/**
 * Both lists of tags, each tag once, sorted: sorted, then each tag kept unless it is the one
 * before it (what `[...new Set(...)].sort()` gives, without a set and two copies per row).
 */
function sortedTags(tags: string[], extra: string[]): string[] {
  if (extra.length === 0 && tags.length <= 1) return tags.slice();
  const all = extra.length === 0 ? tags.slice() : tags.concat(extra);
  all.sort();
  let kept = 1;
  for (let i = 1; i < all.length; i++) if (all[i] !== all[kept - 1]) all[kept++] = all[i] as string;
  all.length = Math.min(kept, all.length);
  return all;
}

function sameContact(a: Contact, b: Contact): boolean {
  if (a.email !== b.email || contactTextFields.some((f) => a[f] !== b[f])) return false;
  if ((a.beats ?? []).join('\u001e') !== (b.beats ?? []).join('\u001e')) return false;
  if (a.doNotContact?.at !== b.doNotContact?.at) return false;
  if (a.tags.length !== b.tags.length || a.tags.some((t, i) => t !== b.tags[i])) return false;
  const listsA = Object.keys(a.lists);
  return listsA.length === Object.keys(b.lists).length && listsA.every((l) => l in b.lists);
}
