import { parse } from 'csv-parse';
import { InvalidInputError } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import {
  type Contact,
  type ContactKeys,
  isSuppressed,
  normalizeEmail,
  type Suppression,
  shardOf,
} from './model.ts';
import { readContactShard, readSuppressionShard, updateContactShard } from './repository.ts';

/**
 * Importing contacts from spreadsheet exports as they really are: `,` `;` or tab, UTF-8 with
 * or without BOM or Windows-1252, quoted fields with delimiters and new lines inside, French
 * or English headers. Rows are read as a stream and applied in chunks, shard by shard, with
 * compare-and-swap; a re-import never resubscribes a suppressed address.
 */

export const contactFields = [
  'email',
  'firstName',
  'lastName',
  'organization',
  'role',
  'language',
  'tags',
] as const;
export type ContactField = (typeof contactFields)[number];

/** Header names (lower case, no accents, letters and digits only) and the field they mean. */
const aliases: Record<string, ContactField> = {};
for (const [field, names] of Object.entries({
  email: [
    'email',
    'e-mail',
    'mail',
    'courriel',
    'adresse electronique',
    'adresse email',
    'adresse mail',
    'email address',
    'adresse courriel',
  ],
  firstName: ['first name', 'firstname', 'given name', 'prenom'],
  lastName: ['last name', 'lastname', 'surname', 'family name', 'nom', 'nom de famille'],
  organization: [
    'organisation',
    'organization',
    'media',
    'média',
    'societe',
    'company',
    'outlet',
    'redaction',
    'structure',
    'employeur',
  ],
  role: ['role', 'fonction', 'poste', 'title', 'job title', 'beat', 'rubrique'],
  language: ['language', 'langue', 'lang'],
  tags: ['tags', 'tag', 'etiquettes', 'mots cles', 'labels'],
} satisfies Record<ContactField, string[]>)) {
  for (const name of names) aliases[headerKey(name)] = field as ContactField;
}

/** `Adresse électronique` → `adresseelectronique`. */
export function headerKey(header: string): string {
  return header
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[^a-z0-9]/g, '');
}

export interface ImportOptions {
  list: string;
  /** Tags added to every imported contact. */
  tags?: string[];
  /** Extra header mappings: column header → field. */
  map?: Record<string, ContactField>;
  dryRun?: boolean;
  /** Recorded with each list membership, e.g. `import:journalistes.csv`. */
  source: string;
  now: Date;
  /** Rows applied at a time; bounds memory. */
  chunkRows?: number;
}

export interface ImportReport {
  added: number;
  updated: number;
  unchanged: number;
  rejected: { line: number; reason: string }[];
  suppressed: number;
  /** Rows read (without the header and blank lines). */
  rows: number;
  encoding: 'utf-8' | 'windows-1252';
  delimiter: string;
  list: string;
  dryRun: boolean;
}

type Row = Partial<Record<Exclude<ContactField, 'tags'>, string>> & {
  email: string;
  tags: string[];
  line: number;
};

/** Imports contacts from the bytes of a CSV file. Nothing is written with `dryRun`. */
export async function importContacts(
  bytes: AsyncIterable<Uint8Array>,
  file: string,
  deps: { store: ObjectStore; keys: ContactKeys },
  options: ImportOptions,
): Promise<ImportReport> {
  const chunkRows = options.chunkRows ?? 50_000;
  const { encoding, text } = await decode(bytes, file);
  const first = await text.next();
  if (first.done) throw new InvalidInputError([{ file, path: '', message: 'the file is empty' }]);
  const delimiter = detectDelimiter(first.value);
  const parser = parse({
    delimiter,
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    trim: true,
    info: true,
    raw: true,
  });
  const feed = (async () => {
    try {
      parser.write(first.value);
      for await (const chunk of text)
        if (!parser.write(chunk)) await new Promise((r) => parser.once('drain', r));
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();

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
  let columns: (ContactField | undefined)[] | undefined;
  const classified = new Map<string, 'added' | 'updated' | 'unchanged' | 'suppressed'>();
  let pending = new Map<string, Row>();

  try {
    for await (const { record, info, raw } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
      raw: string;
    }>) {
      if (!columns) {
        columns = mapHeader(record, file, options.map ?? {});
        continue;
      }
      report.rows++;
      // info.lines is where the record ends; quoted new lines inside it moved it down.
      const line = info.lines - (raw.match(/\n/g)?.length ?? 0);
      const row = readRow(record, columns, line);
      if ('reason' in row) {
        report.rejected.push({ line: row.line, reason: row.reason });
        continue;
      }
      const id = deps.keys.idOf(row.email);
      pending.set(id, mergeRows(pending.get(id), row));
      if (pending.size >= chunkRows) {
        await applyChunk(pending, deps, options, classified);
        pending = new Map();
      }
    }
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError(
      [{ file, path: '', message: `cannot read the CSV: ${(error as Error).message}` }],
      {
        cause: error,
      },
    );
  }
  await feed;
  if (!columns)
    throw new InvalidInputError([{ file, line: 1, path: '', message: 'the file has no header row' }]);
  await applyChunk(pending, deps, options, classified);
  for (const outcome of classified.values()) report[outcome]++;
  return report;
}

/** Detects the encoding on the first bytes, then decodes the stream as text. */
async function decode(
  bytes: AsyncIterable<Uint8Array>,
  file: string,
): Promise<{ encoding: ImportReport['encoding']; text: AsyncGenerator<string> }> {
  const iterator = bytes[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let size = 0;
  while (size < 256 * 1024) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    size += next.value.byteLength;
  }
  const sample = Buffer.concat(head);
  const bom = sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf;
  let encoding: ImportReport['encoding'] = 'utf-8';
  if (!bom) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    } catch {
      // Not UTF-8: French Excel exports are Windows-1252, which decodes any byte.
      encoding = 'windows-1252';
    }
  }
  if (sample[0] === 0xff || sample[0] === 0xfe) {
    throw new InvalidInputError([
      {
        file,
        path: '',
        message: 'the file looks like UTF-16: save it as "CSV UTF-8" (or CSV) and import again',
      },
    ]);
  }
  const decoder = new TextDecoder(encoding, { fatal: encoding === 'utf-8' });
  async function* text(): AsyncGenerator<string> {
    try {
      yield decoder.decode(sample, { stream: true });
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        yield decoder.decode(next.value, { stream: true });
      }
      const rest = decoder.decode();
      if (rest) yield rest;
    } catch (error) {
      if (error instanceof TypeError) {
        throw new InvalidInputError([
          {
            file,
            path: '',
            message: 'the file mixes UTF-8 and another encoding: save it again as "CSV UTF-8"',
          },
        ]);
      }
      throw error;
    }
  }
  return { encoding, text: text() };
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
): (ContactField | undefined)[] {
  const extra = Object.fromEntries(Object.entries(map).map(([column, field]) => [headerKey(column), field]));
  const columns = header.map((h) => extra[headerKey(h)] ?? aliases[headerKey(h)]);
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

function readRow(
  record: string[],
  columns: (ContactField | undefined)[],
  line: number,
): Row | { line: number; reason: string } {
  const row: Row = { email: '', tags: [], line };
  let rawEmail = '';
  for (const [i, field] of columns.entries()) {
    const value = unneutralize((record[i] ?? '').trim());
    if (!field || !value) continue;
    if (field === 'email') rawEmail ||= value;
    else if (field === 'tags') row.tags.push(...splitTags(value));
    else row[field] ??= value;
  }
  if (!rawEmail) return { line, reason: 'no email address' };
  const email = normalizeEmail(rawEmail);
  if (!email) return { line, reason: `invalid email address ${JSON.stringify(rawEmail)}` };
  row.email = email;
  return row;
}

/** Our own exports prefix formula-like cells with "'": take it off again on import. */
function unneutralize(value: string): string {
  return /^'[=+\-@]/.test(value) ? value.slice(1) : value;
}

export function splitTags(value: string): string[] {
  return value
    .split(/[,;|]/)
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

/** The same address twice in a file: later non-empty values win, tags add up. */
function mergeRows(a: Row | undefined, b: Row): Row {
  if (!a) return b;
  const merged: Row = { ...a };
  for (const field of ['firstName', 'lastName', 'organization', 'role', 'language'] as const) {
    if (b[field]) merged[field] = b[field];
  }
  merged.tags = [...new Set([...a.tags, ...b.tags])];
  return merged;
}

async function applyChunk(
  rows: Map<string, Row>,
  deps: { store: ObjectStore; keys: ContactKeys },
  options: ImportOptions,
  classified: Map<string, 'added' | 'updated' | 'unchanged' | 'suppressed'>,
): Promise<void> {
  const byShard = new Map<string, [string, Row][]>();
  for (const entry of rows) {
    const shard = shardOf(entry[0]);
    const list = byShard.get(shard);
    if (list) list.push(entry);
    else byShard.set(shard, [entry]);
  }
  const now = options.now.toISOString();
  const extraTags = (options.tags ?? []).map((t) => t.toLowerCase());
  const applyShard = async (shard: string, entries: [string, Row][]) => {
    const suppressions = (await readSuppressionShard(deps.store, shard)).suppressions;
    let outcomes = new Map<string, 'added' | 'updated' | 'unchanged' | 'suppressed'>();
    const change = (current: { contacts: Record<string, Contact> }) => {
      outcomes = new Map();
      let contacts: Record<string, Contact> | undefined;
      for (const [id, row] of entries) {
        const suppression: Suppression | undefined = suppressions[id];
        if (suppression?.all?.reason === 'erased') {
          // Erased people are not brought back by an old spreadsheet.
          outcomes.set(id, 'suppressed');
          continue;
        }
        const before = (contacts ?? current.contacts)[id];
        const after = upsert(before, id, row, extraTags, options, now);
        const same = before !== undefined && sameContact(before, after);
        if (!same) {
          contacts ??= { ...current.contacts };
          contacts[id] = after;
        }
        outcomes.set(
          id,
          isSuppressed(suppression, options.list)
            ? 'suppressed'
            : !before
              ? 'added'
              : same
                ? 'unchanged'
                : 'updated',
        );
      }
      // Nothing changed: hand back the shard as it was, and nothing is written.
      return contacts ? { contacts } : current;
    };
    if (options.dryRun) change(await readContactShard(deps.store, shard));
    else await updateContactShard(deps.store, shard, change);
    for (const [id, outcome] of outcomes) {
      // An address seen in an earlier chunk keeps its first classification.
      if (!classified.has(id)) classified.set(id, outcome);
    }
  };
  // A few shards at a time: enough to overlap the store's latency.
  const shards = [...byShard];
  for (let i = 0; i < shards.length; i += 8) {
    await Promise.all(shards.slice(i, i + 8).map(([shard, entries]) => applyShard(shard, entries)));
  }
}

function upsert(
  before: Contact | undefined,
  id: string,
  row: Row,
  extraTags: string[],
  options: ImportOptions,
  now: string,
): Contact {
  const contact: Contact = before
    ? { ...before, tags: [...before.tags], lists: { ...before.lists } }
    : { id, email: row.email, tags: [], lists: {}, createdAt: now, updatedAt: now };
  // The spelling first stored stays: the same address in another case is the same contact.
  for (const field of ['firstName', 'lastName', 'organization', 'role', 'language'] as const) {
    const value = row[field];
    if (value) contact[field] = value;
  }
  contact.tags = [...new Set([...contact.tags, ...row.tags, ...extraTags])].sort();
  contact.lists[options.list] ??= { addedAt: now, source: options.source };
  contact.updatedAt = now;
  return contact;
}

function sameContact(a: Contact, b: Contact): boolean {
  const fields = ['email', 'firstName', 'lastName', 'organization', 'role', 'language'] as const;
  if (fields.some((f) => a[f] !== b[f])) return false;
  if (a.tags.length !== b.tags.length || a.tags.some((t, i) => t !== b.tags[i])) return false;
  const listsA = Object.keys(a.lists);
  return listsA.length === Object.keys(b.lists).length && listsA.every((l) => l in b.lists);
}
