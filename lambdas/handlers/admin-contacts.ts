import { loadContactsTemplates } from '../adapters/admin-contacts-files.ts';
import type { AdminContactsSetup } from '../core/admin/contacts-pages.ts';
import type { Language } from '../core/publication/schema.ts';
import type { ObjectStore } from '../core/store/object-store.ts';
import { loadConfig } from './config.ts';
import { dataLedger } from './ledger.ts';
import { currentStackLists } from './lists.ts';
import { logger, signingKeys } from './runtime.ts';
import { adminTemplatesDir } from './templates.ts';

/**
 * The largest contacts upload the admin takes on the stack. A Function URL carries at most
 * 6 MB (6,291,456 bytes) of event, in which the body is base64 (4/3 of its size) beside the
 * headers: 4 MiB of body is 5.6 MB of event. A larger body that still fits is refused here
 * with 413; one that does not fit is refused by Lambda before the function runs (its own 413).
 */
export const stackImportMaxBytes = 4 * 1024 * 1024;

/**
 * The most rows one import may have on the stack: the admin function has 30 seconds, and an
 * import is all or nothing, so a file it could not finish is refused at its upload rather than
 * cut off half-way. Measured in the harness (a shared 2-core machine) over 50,000 contacts
 * held: 20,000 rows, preview 9.5 s and confirmation 10.7 s; 40,000 rows, 9.2 s and 14.0 s.
 * Lambda gives 1024 MB about 0.6 of a vCPU: half of the 40,000 keeps the confirmation well
 * inside 30 s (docs/aws.md, "The web admin", Contacts).
 */
export const stackImportMaxRows = 20_000;

/** What to use instead for a larger file. */
const importInstead = '`pressroom contacts import <file> --list <name> --backend aws`';

/**
 * The lists of `config/lists.yaml` (kept a minute: lists.ts) that imports offer, with their
 * titles in `lang`. Offered to imports only: the admin opens all the same, and an invalid
 * file's problem is logged.
 */
export async function contactLists(store: ObjectStore, lang: Language): Promise<AdminContactsSetup['lists']> {
  const lists = await currentStackLists(
    store,
    (message, error) => logger.warn(message, { error }),
    'no list is offered to imports',
  );
  return Object.values(lists).map((l) => ({ name: l.name, title: l.title[lang] }));
}

/**
 * The contacts section of the admin on the stack (core/admin/contacts-pages.ts): the data
 * bucket's store, the contact keys from the signing secret (as the public and send functions
 * derive them), the DynamoDB ledger for a contact's history and erasure (as `contacts show
 * --backend aws` reads it), the lists of the stack's `config/lists.yaml` with their titles in
 * the press room's language (read again per request after a minute: contactLists),
 * and the contacts pages from the templates bundled with the function.
 */
export async function adminContacts(store: ObjectStore): Promise<AdminContactsSetup> {
  const config = loadConfig(['secretArn', 'ledgerTable', 'templatesDir', 'siteLang']);
  return {
    store,
    keys: await signingKeys(config.secretArn),
    ...dataLedger(config.ledgerTable),
    lists: await contactLists(store, config.siteLang),
    templates: await loadContactsTemplates(adminTemplatesDir(config.templatesDir)),
    importLimit: { bytes: stackImportMaxBytes, rows: stackImportMaxRows, instead: importInstead },
  };
}
