import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { writeFileAtomically } from '../../lambdas/adapters/file-output.ts';
import { exportContacts, listContacts, statusOn } from '../../lambdas/core/contacts/audience.ts';
import { unsubscribeAddress } from '../../lambdas/core/contacts/feedback.ts';
import {
  type ContactField,
  contactFields,
  encodingNames,
  importContacts,
  splitTags,
} from '../../lambdas/core/contacts/import.ts';
import { mergeContacts } from '../../lambdas/core/contacts/merge.ts';
import { type ContactKeys, listName, normalizeEmail } from '../../lambdas/core/contacts/model.ts';
import { contactsNeedMerge, findContact } from '../../lambdas/core/contacts/repository.ts';
import type { SpreadsheetFormat } from '../../lambdas/core/csv.ts';
import { InvalidInputError, PressroomError } from '../../lambdas/core/errors.ts';
import { describeAddress, eraseAddress } from '../../lambdas/core/privacy.ts';
import type { ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { storeAndKeys, storeFor } from '../context.ts';
import { type BackendKind, backendOption, dataDirOption } from '../options.ts';
import { forTerminal, print } from '../output.ts';

function list(value: string): string {
  const checked = listName.safeParse(value);
  if (!checked.success) throw new InvalidArgumentError(checked.error.issues[0]?.message ?? 'bad list name');
  return value;
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

function delimiter(value: string): NonNullable<SpreadsheetFormat['delimiter']> {
  if (value === ',' || value === ';') return value;
  if (value === 'tab' || value === '\t') return '\t';
  throw new InvalidArgumentError('use "," or ";" or "tab"');
}

function mapping(value: string, previous: Record<string, ContactField> = {}): Record<string, ContactField> {
  const at = value.lastIndexOf('=');
  const column = value.slice(0, at).trim();
  const field = value.slice(at + 1).trim() as ContactField;
  if (at < 1 || !contactFields.includes(field)) {
    throw new InvalidArgumentError(`use "column=field", field one of ${contactFields.join(', ')}`);
  }
  return { ...previous, [column]: field };
}

const importCommand = new Command('import')
  .description('Import contacts from a CSV export (Excel, CRM, web form) into a list')
  .argument(
    '<file.csv>',
    'the file: , ; or tab separated; UTF-8, or Windows-1252 / UTF-16 (converted); French or English headers',
  )
  .requiredOption('--list <name>', 'the list to add the contacts to, e.g. presse', list)
  .option('--tags <a,b>', 'tags added to every contact', (v: string) => splitTags(v))
  .option(
    '--map <column=field>',
    `map a column to a field (${contactFields.join(', ')}); repeatable`,
    mapping,
  )
  .option('--dry-run', 'read and check the file, report what would change, write nothing')
  .option('--json', 'print the report as JSON')
  .addOption(dataDirOption)
  .addOption(backendOption)
  .addHelpText(
    'after',
    `
Existing contacts are updated (matched by their canonical address: whatever the case, the
domain in Unicode or punycode), not duplicated; the same address twice in the file is merged.
A suppressed address (unsubscribed, bounced, complained, erased) stays suppressed: an import
never resubscribes anyone. Rejected rows are listed with their line and do not stop the
others. The import is all or nothing: if it fails, the contacts are exactly as they were.

Example:
  $ pressroom contacts import examples/contacts/journalistes.csv --list presse --tags national`,
  )
  .action(
    async (
      file: string,
      opts: {
        list: string;
        tags?: string[];
        map?: Record<string, ContactField>;
        dryRun?: boolean;
        json?: boolean;
        dataDir: string;
        backend: BackendKind;
      },
    ) => {
      // Open first: a file that cannot be read changes nothing.
      const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
        throw new InvalidInputError([
          { file, path: '', message: `cannot read the file (${error.code ?? error.message})` },
        ]);
      });
      await handle.close();
      const backend = await storeAndKeys(opts);
      const report = await importContacts(createReadStream(file), file, backend, {
        list: opts.list,
        ...(opts.tags && { tags: opts.tags }),
        ...(opts.map && { map: opts.map }),
        dryRun: opts.dryRun === true,
        source: `import:${path.basename(file)}`,
        now: new Date(),
      });
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
    },
  );

const listCommand = new Command('list')
  .description('List contacts, optionally of one list and with one tag')
  .option('--list <name>', 'only this list', list)
  .option('--tag <tag>', 'only contacts with this tag')
  .option('--json', 'print the contacts as JSON')
  .addOption(dataDirOption)
  .addOption(backendOption)
  .action(
    async (opts: { list?: string; tag?: string; json?: boolean; dataDir: string; backend: BackendKind }) => {
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
            `${r.email}  ${[r.firstName, r.lastName].filter(Boolean).join(' ')}${r.organization ? ` (${r.organization})` : ''}  [${Object.keys(r.lists).join(', ')}]${r.tags.length ? ` #${r.tags.join(' #')}` : ''}${r.status === 'subscribed' ? '' : `  ${r.status}`}`,
        ),
      );
    },
  );

const exportCommand = new Command('export')
  .description('Export a list as CSV (re-importable; formula-like cells neutralised)')
  .requiredOption('--list <name>', 'the list', list)
  .requiredOption('--out <file.csv>', 'the file to write')
  .option('--delimiter <char>', '"," (default), ";" for spreadsheets set to French, or "tab"', delimiter)
  .option('--no-bom', 'no UTF-8 byte-order mark first (Excel needs it to read accents right)')
  .addOption(dataDirOption)
  .addOption(backendOption)
  .addHelpText(
    'after',
    `
Every cell starting with =, +, -, @, a tab or a carriage return (or ') gets a ' first, so
that a spreadsheet shows it as text instead of running it; the import takes it off again.

Example, for Excel set to French (opens with a double click, accents right):
  $ pressroom contacts export --list presse --out presse.csv --delimiter ';'`,
  )
  .action(
    async (opts: {
      list: string;
      out: string;
      delimiter?: SpreadsheetFormat['delimiter'];
      bom: boolean;
      dataDir: string;
      backend: BackendKind;
    }) => {
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
    },
  );

const unsubscribeCommand = new Command('unsubscribe')
  .description('Unsubscribe an address from one list, or from all')
  .argument('<email>', 'the address')
  .option('--list <name>', 'only from this list', list)
  .addOption(dataDirOption)
  .addOption(backendOption)
  .action(async (email: string, opts: { list?: string; dataDir: string; backend: BackendKind }) => {
    const backend = await storeAndKeys(opts);
    const found = await knownContact(backend, address(email));
    const already = opts.list ? found.suppression?.lists?.[opts.list] : found.suppression?.all;
    if (already || found.suppression?.all) {
      return print(`Already suppressed (${(found.suppression?.all ?? already)?.reason}): nothing changed.`);
    }
    await unsubscribeAddress(backend.store, backend.keys, address(email), new Date(), opts.list);
    print(`Unsubscribed from ${opts.list ?? 'every list'}. Imports will not resubscribe this address.`);
  });

const eraseCommand = new Command('erase')
  .description('Erase everything held about a person (GDPR), keeping only a hashed suppression')
  .argument('<email>', 'the address')
  .addOption(dataDirOption)
  .addOption(backendOption)
  .action(async (email: string, opts: { dataDir: string; backend: BackendKind }) => {
    const backend = await storeAndKeys(opts);
    if (isEmpty(await describeAddress(backend.store, backend.keys, address(email))))
      return noSuchContact(backend.store, address(email));
    const result = await eraseAddress(backend.store, backend.keys, address(email), new Date());
    print(
      `${result.hadContact ? 'Erased the contact' : 'No contact held for that address'}, ${result.ledgerEntries} delivery record(s) and ${result.messages} outbox message(s); a hashed suppression (${result.id}) keeps it from being imported again.`,
    );
  });

const showCommand = new Command('show')
  .description('Show everything held about one address (for access requests)')
  .argument('<email>', 'the address')
  .option('--json', 'print as JSON')
  .addOption(dataDirOption)
  .addOption(backendOption)
  .action(async (email: string, opts: { json?: boolean; dataDir: string; backend: BackendKind }) => {
    const backend = await storeAndKeys(opts);
    const found = await describeAddress(backend.store, backend.keys, address(email));
    if (isEmpty(found)) return noSuchContact(backend.store, address(email));
    if (opts.json) return print(found, true);
    print(JSON.stringify(found, null, 2).split('\n'));
  });

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

const mergeCommand = new Command('merge')
  .description('Give every contact its canonical id: one contact per mailbox (after an upgrade)')
  .option('--dry-run', 'find and report what would be merged, write nothing')
  .option('--json', 'print the report as JSON')
  .addOption(dataDirOption)
  .addOption(backendOption)
  .addHelpText(
    'after',
    `
Versions before canonical addresses made a contact's id from its address as written, so
jose@exämple.fr, jose@xn--exmple-cua.fr and the same with decomposed accents could be three
contacts. This command finds them and makes each group one contact under its canonical id:
lists, tags, memberships and consents together, the newest value of each field, and the
suppressions of every form (any one wins; an erasure erases). Each merge is reported.
Unsubscribe links mailed before keep working. Running it again finds nothing more to do.
It waits for a campaign being sent to finish (exit 3).

Example:
  $ pressroom contacts merge --dry-run`,
  )
  .action(async (opts: { dryRun?: boolean; json?: boolean; dataDir: string; backend: BackendKind }) => {
    const backend = await storeAndKeys(opts);
    const report = await mergeContacts(backend.store, backend.keys, {
      dryRun: opts.dryRun === true,
      now: new Date(),
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
  });

export const contactsCommand = new Command('contacts')
  .description('Contacts and lists: import, list, export, unsubscribe, erase, show, merge')
  .addCommand(importCommand)
  .addCommand(listCommand)
  .addCommand(exportCommand)
  .addCommand(unsubscribeCommand)
  .addCommand(eraseCommand)
  .addCommand(showCommand)
  .addCommand(mergeCommand);
