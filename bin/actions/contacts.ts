import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomically } from '../../lambdas/adapters/file-output.ts';
import { exportContacts, listContacts, statusOn } from '../../lambdas/core/contacts/audience.ts';
import { unsubscribeAddress } from '../../lambdas/core/contacts/feedback.ts';
import {
  encodingNames,
  type ImportProgress,
  importContacts,
  splitTags,
} from '../../lambdas/core/contacts/import.ts';
import { mergeContacts } from '../../lambdas/core/contacts/merge.ts';
import {
  type Contact,
  type ContactKeys,
  listName,
  normalizeEmail,
} from '../../lambdas/core/contacts/model.ts';
import { contactsNeedMerge, findContact } from '../../lambdas/core/contacts/repository.ts';
import {
  type ProfileProblem,
  readProfileChanges,
  setContactProfile as setProfile,
} from '../../lambdas/core/contacts/set-profile.ts';
import type { SpreadsheetFormat } from '../../lambdas/core/csv.ts';
import { InvalidInputError, PressroomError, showValue, UsageError } from '../../lambdas/core/errors.ts';
import { describeAddress, eraseAddress } from '../../lambdas/core/privacy.ts';
import type { ObjectStore } from '../../lambdas/core/store/object-store.ts';
import type {
  ContactsEraseOptions,
  ContactsExportOptions,
  ContactsImportOptions,
  ContactsListOptions,
  ContactsMergeOptions,
  ContactsSetOptions,
  ContactsShowOptions,
  ContactsUnsubscribeOptions,
} from '../commands/contacts.ts';
import { storeAndKeys, storeFor } from '../context.ts';
import { forTerminal, print } from '../output.ts';

/**
 * A `--list` name given on the command line, checked before anything is read or written:
 * exit 2 (a usage error) naming the option and the value when it is not a list name.
 */
function checkList(value: string | undefined): void {
  if (value === undefined) return;
  const checked = listName.safeParse(value);
  if (!checked.success) {
    throw new UsageError(
      `--list ${JSON.stringify(value)} is not a list name: ${checked.error.issues[0]?.message ?? 'bad list name'}`,
    );
  }
}

function address(value: string): string {
  const email = normalizeEmail(value);
  if (!email) throw new PressroomError(`not an email address: ${JSON.stringify(value)}`);
  return email;
}

/** Said on stderr, beside the command's output: something to know that changes nothing. */
function notice(text: string): void {
  process.stderr.write(`pressroom: ${forTerminal(text)}\n`);
}

const mergeNotice =
  'some contacts are still stored under the id an older version gave them (an internationalised domain in Unicode, decomposed accents): run `pressroom contacts merge` once; sending waits for it.';

async function noticeIfMergeNeeded(store: ObjectStore): Promise<void> {
  if (await contactsNeedMerge(store)) notice(mergeNotice);
}

/** An address that nothing is held about: exit 1, nothing changed. */
async function noSuchContact(store: ObjectStore, email: string): Promise<never> {
  const older = (await contactsNeedMerge(store))
    ? ' Some contacts still have an older id: run `pressroom contacts merge`, then try again.'
    : '';
  throw new PressroomError(
    `no such contact: nothing is held about ${email}, so nothing was changed (\`pressroom contacts list\` shows the contacts).${older}`,
  );
}

/** The contact of an address, or exit 1 when there is none. */
async function knownContact(backend: { store: ObjectStore; keys: ContactKeys }, email: string) {
  const found = await findContact(backend.store, backend.keys, email);
  if (!found.contact) return noSuchContact(backend.store, email);
  return found;
}

/**
 * The import's progress bar, on a terminal only (stderr): the share of the file read, rows
 * per second and the time left (from the bytes read), then the shards written. Redrawn at
 * most ten times a second; erased at the end, before the report.
 */
export function importProgressBar(
  stream: Pick<NodeJS.WriteStream, 'write'>,
  size: number,
  clock: () => number = Date.now,
) {
  const start = clock();
  let bytes = 0;
  let drawn = 0;
  /** When the first shard was written, and how many had been by then: the writing rate. */
  let writing: { at: number; shards: number } | undefined;
  const draw = (share: number, text: string) => {
    const width = 24;
    const bar = '█'.repeat(Math.round(Math.min(1, share) * width)).padEnd(width, '░');
    stream.write(`\r${bar} ${text}\u001b[K`);
  };
  return {
    async *count(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const chunk of input) {
        bytes += chunk.byteLength;
        yield chunk;
      }
    },
    update(p: ImportProgress) {
      const now = clock();
      if (now - drawn < 100) return;
      drawn = now;
      const seconds = Math.max(0.001, (now - start) / 1000);
      if (p.phase === 'reading') {
        const left = bytes > 0 ? Math.round(((size - bytes) * seconds) / bytes) : 0;
        draw(
          size > 0 ? bytes / size : 1,
          `${p.rows.toLocaleString('en')} rows · ${Math.round(p.rows / seconds).toLocaleString('en')} rows/s · ETA ${left}s`,
        );
      } else {
        writing ??= { at: now, shards: p.shards };
        const done = p.shards - writing.shards;
        const left =
          done > 0 ? ` · ETA ${Math.round(((p.of - p.shards) * (now - writing.at)) / done / 1000)}s` : '';
        draw(
          p.shards / p.of,
          `${p.rows.toLocaleString('en')} rows read · writing shard ${p.shards}/${p.of}${left}`,
        );
      }
    },
    end() {
      if (drawn > 0) stream.write('\r\u001b[K');
    },
  };
}

/**
 * `pressroom contacts import`: imports a CSV file into a list (added, updated, kept
 * suppressed, rejected rows with their line), all or nothing; a dry run writes nothing.
 */
export async function importContactsFile(file: string, opts: ContactsImportOptions): Promise<void> {
  checkList(opts.list);
  const tags = opts.tags === undefined ? undefined : splitTags(opts.tags);
  // Open first: a file that cannot be read changes nothing.
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError([
      { file, path: '', message: `cannot read the file (${error.code ?? error.message})` },
    ]);
  });
  const { size } = await handle.stat();
  await handle.close();
  const backend = await storeAndKeys(opts);
  const bar = !opts.json && process.stderr.isTTY ? importProgressBar(process.stderr, size) : undefined;
  const input = createReadStream(file);
  let report: Awaited<ReturnType<typeof importContacts>>;
  try {
    report = await importContacts(bar ? bar.count(input) : input, file, backend, {
      list: opts.list,
      ...(tags && { tags }),
      ...(opts.map && { map: opts.map }),
      dryRun: opts.dryRun === true,
      source: `import:${path.basename(file)}`,
      now: new Date(),
      ...(bar && { progress: bar.update }),
    });
  } finally {
    bar?.end();
  }
  if (report.encoding !== 'utf-8')
    notice(`${file} is in ${encodingNames[report.encoding]}, not UTF-8: converted.`);
  if (!opts.dryRun) await noticeIfMergeNeeded(backend.store);
  if (opts.json) return print(report, true);
  print([
    `${opts.dryRun ? 'Dry run, nothing written: ' : ''}${report.rows} row(s) read from ${file} (${encodingNames[report.encoding]}, "${report.delimiter === '\t' ? 'tab' : report.delimiter}" separated) into list ${report.list}`,
    `  added       ${report.added}`,
    `  updated     ${report.updated}`,
    `  unchanged   ${report.unchanged}`,
    `  suppressed  ${report.suppressed} (kept suppressed)`,
    `  rejected    ${report.rejected.length}`,
    ...report.rejected.map(
      (r) => `    line ${r.line}${r.column ? `, column ${JSON.stringify(r.column)}` : ''}: ${r.reason}`,
    ),
  ]);
}

/** `pressroom contacts list`: the contacts, of one list and with one tag if asked, and their status. */
export async function listContactsOf(opts: ContactsListOptions): Promise<void> {
  checkList(opts.list);
  const store = await storeFor(opts);
  const rows = [];
  for await (const { contact, suppression } of listContacts(store, opts)) {
    rows.push({ ...contact, status: statusOn(suppression, opts.list) });
  }
  await noticeIfMergeNeeded(store);
  if (opts.json) return print(rows, true);
  if (rows.length === 0) return print('No contacts.');
  print(
    rows.map(
      (r) =>
        `${r.email}  ${[r.firstName, r.lastName].filter(Boolean).join(' ')}${(r.outlet ?? r.organization) ? ` (${r.outlet ?? r.organization})` : ''}  [${Object.keys(r.lists).join(', ')}]${r.tags.length ? ` #${r.tags.join(' #')}` : ''}${r.status === 'subscribed' ? '' : `  ${r.status}`}${r.doNotContact ? '  do-not-contact' : ''}`,
    ),
  );
}

/**
 * `pressroom contacts export`: writes a list as CSV, streamed into a file readable by its
 * owner only (it holds personal data), formula-like cells neutralised.
 */
export async function exportContactsFile(opts: ContactsExportOptions): Promise<void> {
  checkList(opts.list);
  const store = await storeFor(opts);
  const format: SpreadsheetFormat = {
    bom: opts.bom,
    ...(opts.delimiter && { delimiter: opts.delimiter }),
  };
  // Streamed, and readable by its owner only: the file holds personal data.
  const rows = await writeFileAtomically(
    opts.out,
    async (out) => {
      let count = -1;
      for await (const chunk of exportContacts(store, opts, format)) {
        count++;
        if (!out.write(chunk)) await once(out, 'drain');
      }
      return count;
    },
    { mode: 0o600 },
  );
  await noticeIfMergeNeeded(store);
  print(`Exported ${rows} contact(s) of ${opts.list} into ${opts.out}`);
}

/** `pressroom contacts unsubscribe`: suppresses an address for one list or all; imports keep it so. */
export async function unsubscribeContact(email: string, opts: ContactsUnsubscribeOptions): Promise<void> {
  checkList(opts.list);
  const backend = await storeAndKeys(opts);
  const found = await knownContact(backend, address(email));
  const already = opts.list ? found.suppression?.lists?.[opts.list] : found.suppression?.all;
  if (already || found.suppression?.all) {
    return print(`Already suppressed (${(found.suppression?.all ?? already)?.reason}): nothing changed.`);
  }
  await unsubscribeAddress(backend.store, backend.keys, address(email), new Date(), opts.list);
  print(`Unsubscribed from ${opts.list ?? 'every list'}. Imports will not resubscribe this address.`);
}

/** `pressroom contacts erase`: erases everything held about an address (GDPR), keeping a hashed suppression. */
export async function eraseContact(email: string, opts: ContactsEraseOptions): Promise<void> {
  const backend = await storeAndKeys(opts);
  if (isEmpty(await describeAddress(backend.store, backend.keys, address(email), backend.ledger)))
    return noSuchContact(backend.store, address(email));
  const result = await eraseAddress(backend.store, backend.keys, address(email), new Date(), backend.ledger);
  if (opts.json) return print(result, true);
  print(
    `${result.hadContact ? 'Erased the contact' : 'No contact held for that address'}, ${result.ledgerEntries} delivery record(s), ${result.messages} outbox message(s) and ${result.oldVersions} old version(s) of the objects that held them; a hashed suppression (${result.id}) keeps it from being imported again.`,
  );
}

/** `pressroom contacts show`: everything held about one address (for access requests). */
export async function showContact(email: string, opts: ContactsShowOptions): Promise<void> {
  const backend = await storeAndKeys(opts);
  const found = await describeAddress(backend.store, backend.keys, address(email), backend.ledger);
  if (isEmpty(found)) return noSuchContact(backend.store, address(email));
  if (opts.json) return print(found, true);
  print(JSON.stringify(found, null, 2).split('\n'));
}

function isEmpty(found: Awaited<ReturnType<typeof describeAddress>>): boolean {
  return (
    !found.contact &&
    !found.suppression &&
    found.deliveries.length === 0 &&
    found.providerReports.length === 0 &&
    found.messages.length === 0 &&
    !found.pendingSubscriptions
  );
}

/** The command-line option of each profile field, for messages. */
const setOptions: Record<ProfileProblem['field'], string> = {
  firstName: '--first-name',
  lastName: '--last-name',
  organization: '--organization',
  outlet: '--outlet',
  role: '--role',
  beats: '--beats',
  language: '--language',
  phone: '--phone',
  notes: '--notes',
};

/**
 * `pressroom contacts set`: changes one contact's profile fields and do-not-contact flag;
 * a bad value is a usage error (exit 2) naming the option and the value, and changes nothing.
 */
export async function setContactProfile(email: string, opts: ContactsSetOptions): Promise<void> {
  const { json: _json, dataDir: _dataDir, backend: _backend, ...given } = opts;
  const { changes, problems } = readProfileChanges(given);
  if (problems.length > 0) {
    throw new UsageError(
      problems.map((p) => `${setOptions[p.field]} ${showValue(p.value)}: ${p.message}`).join('\n'),
    );
  }
  if (Object.keys(changes).length === 0)
    throw new UsageError(
      `nothing to set: give at least one of ${Object.values(setOptions).join(', ')}, --do-not-contact or --no-do-not-contact`,
    );
  const backend = await storeAndKeys(opts);
  const result = await setProfile(backend.store, backend.keys, address(email), changes, new Date());
  if (!result) return noSuchContact(backend.store, address(email));
  if (opts.json) return print(result.after, true);
  const changed = [...Object.keys(setOptions), 'doNotContact'].filter(
    (f) =>
      JSON.stringify(result.before[f as keyof Contact]) !== JSON.stringify(result.after[f as keyof Contact]),
  );
  print(
    changed.length === 0
      ? 'Nothing changed: the contact already had these values.'
      : `Updated ${changed.map((f) => (f === 'doNotContact' ? (result.after.doNotContact ? 'do-not-contact (set)' : 'do-not-contact (lifted)') : f)).join(', ')}.`,
  );
}

/**
 * `pressroom contacts merge`: gives every contact its canonical id, merging the contacts an
 * older version stored under other forms of one address; each merge is reported.
 */
export async function mergeContactIds(opts: ContactsMergeOptions): Promise<void> {
  const backend = await storeAndKeys(opts);
  const report = await mergeContacts(backend.store, backend.keys, {
    dryRun: opts.dryRun === true,
    now: new Date(),
    ledger: backend.ledger,
  });
  if (opts.json) return print(report, true);
  const verb = opts.dryRun ? 'would be' : 'are now';
  print([
    `${opts.dryRun ? 'Dry run, nothing written: ' : ''}${report.contacts} contact(s) read; ${report.groups.length} to merge.`,
    ...report.groups.map((g) =>
      g.erased
        ? `  ${g.email}: erased under another form of the address, so its contact(s) ${verb} erased`
        : g.from.length === 0
          ? `  ${g.email}: ${g.suppressions} suppression(s) under another form of the address ${verb} moved to ${g.id}`
          : `  ${g.email}: ${g.from.length} contact(s) under an older id ${verb} merged into ${g.id}${g.suppressions ? `, with ${g.suppressions} suppression(s) of other forms` : ''}`,
    ),
  ]);
}
