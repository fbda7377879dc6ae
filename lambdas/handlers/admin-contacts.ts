import path from 'node:path';
import { loadContactsTemplates } from '../adapters/admin-contacts-files.ts';
import type { AdminContactsSetup } from '../core/admin/contacts-pages.ts';
import type { ObjectStore } from '../core/store/object-store.ts';
import { loadConfig } from './config.ts';
import { dataLedger } from './ledger.ts';
import { readStackLists } from './lists.ts';
import { logger, signingKeys } from './runtime.ts';

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
 * The contacts section of the admin on the stack (core/admin/contacts-pages.ts): the data
 * bucket's store, the contact keys from the signing secret (as the public and send functions
 * derive them), the DynamoDB ledger for a contact's history and erasure (as `contacts show
 * --backend aws` reads it), the lists of the stack's `config/lists.yaml` with their titles in
 * the press room's language (read when the function starts: a new list shows in new instances),
 * and the contacts pages from the templates bundled with the function.
 */
export async function adminContacts(store: ObjectStore): Promise<AdminContactsSetup> {
  const config = loadConfig(['secretArn', 'ledgerTable', 'templatesDir', 'siteLang']);
  const { lists, invalid } = await readStackLists(store);
  // Offered to imports only: the admin opens all the same, and the file's problem is logged.
  if (invalid) logger.warn('config/lists.yaml is invalid: no list is offered to imports', { error: invalid });
  return {
    store,
    keys: await signingKeys(config.secretArn),
    ...dataLedger(config.ledgerTable),
    lists: Object.values(lists).map((l) => ({ name: l.name, title: l.title[config.siteLang] })),
    templates: await loadContactsTemplates(
      config.templatesDir ? path.join(config.templatesDir, 'admin') : undefined,
    ),
    importLimit: { bytes: stackImportMaxBytes, rows: stackImportMaxRows, instead: importInstead },
  };
}
