import { Command, InvalidArgumentError } from 'commander';
// fields.ts imports nothing: light enough for the definition.
import { type ContactField, contactFields } from '../../lambdas/core/contacts/fields.ts';
import type { SpreadsheetFormat } from '../../lambdas/core/csv.ts';
import { type BackendKind, backendOption, dataDirOption } from '../options.ts';

/** What `pressroom contacts import` is given. */
export interface ContactsImportOptions {
  list: string;
  /** As written: comma, semicolon or | separated (the action splits them). */
  tags?: string;
  map?: Record<string, ContactField>;
  dryRun?: boolean;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom contacts list` is given. */
export interface ContactsListOptions {
  list?: string;
  tag?: string;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom contacts export` is given. */
export interface ContactsExportOptions {
  list: string;
  out: string;
  delimiter?: SpreadsheetFormat['delimiter'];
  bom: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom contacts unsubscribe` is given. */
export interface ContactsUnsubscribeOptions {
  list?: string;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom contacts erase` is given. */
export interface ContactsEraseOptions {
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom contacts show` is given. */
export interface ContactsShowOptions {
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom contacts set` is given: each profile field given is set (`""` clears it). */
export interface ContactsSetOptions {
  firstName?: string;
  lastName?: string;
  organization?: string;
  outlet?: string;
  role?: string;
  beats?: string;
  language?: string;
  phone?: string;
  notes?: string;
  /** true: `--do-not-contact`; false: `--no-do-not-contact` (lifts it). */
  doNotContact?: boolean;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom contacts merge` is given. */
export interface ContactsMergeOptions {
  dryRun?: boolean;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
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

/** The action module, loaded when a contacts command runs. */
const actions = () => import('../actions/contacts.ts');

/**
 * `pressroom contacts`: contacts and lists (bin/actions/contacts.ts does the work). A new
 * command each call.
 */
export function contactsCommand(): Command {
  const importCommand = new Command('import')
    .description('Import contacts from a CSV export (Excel, CRM, web form) into a list')
    .argument(
      '<file.csv>',
      'the file: , ; or tab separated; UTF-8, or Windows-1252 / UTF-16 (converted); French or English headers',
    )
    .requiredOption('--list <name>', 'the list to add the contacts to, e.g. presse')
    .option('--tags <a,b>', 'tags added to every contact')
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
never resubscribes anyone. A column the file does not have, or an empty cell, keeps what the
contact has; beats given replace the contact's; do-not-contact is set, never lifted (that is
\`pressroom contacts set <email> --no-do-not-contact\`). Rejected rows are listed with their
line, column and value and do not stop the others. The import is all or nothing: if it fails, the contacts are exactly as they were.

Example:
  $ pressroom contacts import examples/contacts/journalistes.csv --list presse --tags national`,
    )
    .action(async (file: string, opts: ContactsImportOptions) =>
      (await actions()).importContactsFile(file, opts),
    );

  const listCommand = new Command('list')
    .description('List contacts, optionally of one list and with one tag')
    .option('--list <name>', 'only this list')
    .option('--tag <tag>', 'only contacts with this tag')
    .option('--json', 'print the contacts as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .action(async (opts: ContactsListOptions) => (await actions()).listContactsOf(opts));

  const exportCommand = new Command('export')
    .description('Export a list as CSV (re-importable; formula-like cells neutralised)')
    .requiredOption('--list <name>', 'the list')
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
    .action(async (opts: ContactsExportOptions) => (await actions()).exportContactsFile(opts));

  const unsubscribeCommand = new Command('unsubscribe')
    .description('Unsubscribe an address from one list, or from all')
    .argument('<email>', 'the address')
    .option('--list <name>', 'only from this list')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .action(async (email: string, opts: ContactsUnsubscribeOptions) =>
      (await actions()).unsubscribeContact(email, opts),
    );

  const eraseCommand = new Command('erase')
    .description('Erase everything held about a person (GDPR), keeping only a hashed suppression')
    .argument('<email>', 'the address')
    .option('--json', 'print the report as JSON (counts only)')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .action(async (email: string, opts: ContactsEraseOptions) => (await actions()).eraseContact(email, opts));

  const showCommand = new Command('show')
    .description('Show everything held about one address (for access requests)')
    .argument('<email>', 'the address')
    .option('--json', 'print as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .action(async (email: string, opts: ContactsShowOptions) => (await actions()).showContact(email, opts));

  const setCommand = new Command('set')
    .description("Set one contact's profile: outlet, role, beats, language, phone, notes, do-not-contact")
    .argument('<email>', 'the address of a contact')
    .option('--first-name <text>', 'first name')
    .option('--last-name <text>', 'last name')
    .option('--organization <text>', 'organisation')
    .option('--outlet <text>', 'the media outlet, e.g. "Radio Cité"')
    .option('--role <text>', 'role, e.g. "Journaliste économie"')
    .option('--beats <a;b>', 'the beats (topics), separated by ";" or ",": replaces the contact\'s beats')
    .option('--language <tag>', 'a language tag, e.g. fr, en, fr-BE')
    .option('--phone <text>', 'phone number(s), one line')
    .option('--notes <text>', 'notes')
    .option('--do-not-contact', 'never mail this person: left out of every audience')
    .option('--no-do-not-contact', 'lift do-not-contact')
    .option('--json', 'print the contact as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
Values are checked as an import checks them. An empty value clears the field (--outlet "").
Only this command lifts do-not-contact: an import can set it, never lift it.

Examples:
  $ pressroom contacts set camille.martin@quotidien-ouest.example.com --outlet "Ouest Matin" --beats "Économie; Numérique"
  $ pressroom contacts set j.lefevre@radio-cite.example.org --do-not-contact`,
    )
    .action(async (email: string, opts: ContactsSetOptions) =>
      (await actions()).setContactProfile(email, opts),
    );

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
    .action(async (opts: ContactsMergeOptions) => (await actions()).mergeContactIds(opts));

  return new Command('contacts')
    .description('Contacts and lists: import, list, export, unsubscribe, erase, show, set, merge')
    .addCommand(importCommand)
    .addCommand(listCommand)
    .addCommand(exportCommand)
    .addCommand(unsubscribeCommand)
    .addCommand(eraseCommand)
    .addCommand(showCommand)
    .addCommand(setCommand)
    .addCommand(mergeCommand);
}
