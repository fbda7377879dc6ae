import { z } from 'zod';
import { contactFields } from '../contacts/fields.ts';
import { HistoryNotPurgedError } from '../privacy.ts';
import { json, type PublicResponse } from '../public/http.ts';
import type { Route } from './api.ts';
import { errorResponse } from './api-responses.ts';
import {
  type AdminContactsDeps,
  confirmUpload,
  contactProfile,
  eraseContactById,
  ImportUploadError,
  importMaxBytes,
  previewUpload,
  searchContacts,
  stageUpload,
  unsubscribeContact,
  uploadName,
} from './contacts.ts';
import type { AdminReleaseDeps } from './releases.ts';

/**
 * The contacts routes of the admin's JSON API (`/admin/api/contacts...`), the same core
 * functions as the pages (contacts.ts); api.ts adds them to its routes and its OpenAPI document.
 */

const contactRow = z.object({
  id: z.string().describe('The contact id: a keyed hash of the address'),
  email: z.string(),
  name: z.string(),
  outlet: z.string().optional(),
  lists: z.array(z.string()),
  tags: z.array(z.string()),
  status: z.string().describe('`subscribed`, or why not (on the list searched, when one is)'),
  doNotContact: z.boolean(),
});

const contactsPageResponse = z.object({
  total: z.number().int().describe('Contacts matching the search'),
  all: z.number().int().describe('Every contact held'),
  page: z.number().int(),
  pages: z.number().int(),
  contacts: z.array(contactRow).describe('One page, 50 at most'),
  lists: z.array(z.object({ name: z.string(), title: z.string().optional(), count: z.number().int() })),
  tags: z.array(z.object({ name: z.string(), count: z.number().int() })),
});

const searchQuery = z.object({
  q: z.string().max(200).optional().describe('Words to find in addresses, names, outlets, roles and tags'),
  list: z.string().max(100).optional(),
  tag: z.string().max(100).optional(),
  page: z.coerce.number().int().min(1).max(100_000).optional(),
});

const importReport = z
  .object({
    added: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    suppressed: z.number().int(),
    rows: z.number().int(),
    rejected: z.array(
      z.object({ line: z.number().int(), column: z.string().optional(), reason: z.string() }),
    ),
    encoding: z.string(),
    delimiter: z.string(),
    list: z.string(),
    dryRun: z.boolean(),
  })
  .describe('What `pressroom contacts import --json` prints');

const mapping = z
  .record(z.string(), z.union([z.enum(contactFields), z.literal('')]))
  .describe(
    'Column header → contact field; "" leaves the column out. Headers not named keep what the header detection makes of them',
  );

export const importChoiceRequest = z.strictObject({
  list: z.string().min(1).max(100).describe('The list to import into'),
  tags: z.string().max(2000).optional().describe('Tags added to every contact, separated by commas'),
  mapping: mapping.optional(),
});

export const uploadRequest = z
  .strictObject({
    name: z.string().max(500).optional().describe('The file name, reported in the sources of memberships'),
    csv: z.string().optional().describe('The CSV as text'),
    csvBase64: z.string().optional().describe('The CSV as bytes, base64 (a file in Windows-1252 or UTF-16)'),
  })
  .refine((b) => (b.csv === undefined) !== (b.csvBase64 === undefined), {
    message: 'give the file as "csv" (text) or "csvBase64" (bytes), one of them',
  });

const previewResponse = z.object({
  upload: z.object({
    name: z.string(),
    size: z.number().int(),
    encoding: z.string(),
    delimiter: z.string(),
    columns: z.array(
      z.object({
        header: z.string(),
        field: z.string().optional().describe('What the column fills; absent: left out'),
        detected: z.string().optional().describe('What the header detection makes of it'),
      }),
    ),
    rows: z.array(z.object({ line: z.number().int(), cells: z.array(z.string()) })),
  }),
  report: importReport.optional().describe('The dry run: rows that would be refused, with their line'),
  problem: z.string().optional().describe('Why the file cannot be imported as it is'),
});

/** The deps of the contacts routes, or a 503 saying why there are none. */
function contactsOf(deps: AdminReleaseDeps): AdminContactsDeps | PublicResponse {
  if (!deps.contacts)
    return json(503, { error: 'contacts are not available here: run `pressroom serve` in a workspace' });
  return { ...deps.contacts, now: deps.now };
}

/** Runs `work` with the contacts' deps; an import refusal becomes its status and message. */
async function withContacts(
  deps: AdminReleaseDeps,
  work: (contacts: AdminContactsDeps) => Promise<PublicResponse>,
): Promise<PublicResponse> {
  const contacts = contactsOf(deps);
  if ('status' in contacts) return contacts;
  try {
    return await work(contacts);
  } catch (error) {
    if (error instanceof ImportUploadError) return json(error.status, { error: error.message });
    // An erasure done, whose old versions in the store could not be removed.
    if (error instanceof HistoryNotPurgedError) return json(502, { error: error.message });
    throw error;
  }
}

const noContact = (id: string | undefined) =>
  json(404, {
    error: `no contact has the id ${JSON.stringify(id)}: \`GET /admin/api/contacts?q=…\` finds ids`,
  });

const unavailable = {
  503: { description: 'No contacts here (serve outside a workspace)', schema: errorResponse },
};

export const contactsRoutes: Route[] = [
  {
    method: 'GET',
    path: '/contacts',
    summary: 'One page (50) of the contacts matching a search, with every list and tag and their counts',
    query: searchQuery,
    responses: { 200: { description: 'The page', schema: contactsPageResponse }, ...unavailable },
    answer: ({ query }, deps) =>
      withContacts(deps, async (c) =>
        json(200, await searchContacts(c, query as z.infer<typeof searchQuery>)),
      ),
  },
  {
    method: 'GET',
    path: '/contacts/{id}',
    summary:
      'Everything held about one contact, as `pressroom contacts show --json` prints it, with its lists',
    responses: {
      200: {
        description: 'The contact, its suppression, history, deliveries',
        schema: z.record(z.string(), z.unknown()),
      },
      404: { description: 'No contact has this id', schema: errorResponse },
      ...unavailable,
    },
    answer: ({ params }, deps) =>
      withContacts(deps, async (c) => {
        const found = await contactProfile(c, params.id ?? '');
        return found ? json(200, found) : noContact(params.id);
      }),
  },
  {
    method: 'POST',
    path: '/contacts/{id}/unsubscribe',
    summary: 'Unsubscribes a contact from one of its lists, as `pressroom contacts unsubscribe --list` does',
    body: z.strictObject({ list: z.string().min(1).max(100) }),
    responses: {
      200: {
        description: 'Unsubscribed (already: it was)',
        schema: z.object({ list: z.string(), already: z.boolean() }),
      },
      404: { description: 'No contact has this id', schema: errorResponse },
      409: { description: 'The contact is not on that list: nothing changed', schema: errorResponse },
      ...unavailable,
    },
    answer: ({ params, body }, deps) =>
      withContacts(deps, async (c) => {
        const outcome = await unsubscribeContact(c, params.id ?? '', (body as { list: string }).list);
        if ('missing' in outcome) return noContact(params.id);
        if ('refused' in outcome) return json(409, { error: outcome.refused });
        return json(200, outcome.done);
      }),
  },
  {
    method: 'POST',
    path: '/contacts/{id}/erase',
    summary:
      'Erases a contact everywhere (GDPR), as `pressroom contacts erase` does: a hashed suppression keeps it from being imported again',
    responses: {
      200: {
        description: 'Erased: counts only',
        schema: z.object({
          id: z.string(),
          hadContact: z.boolean(),
          ledgerEntries: z.number().int(),
          messages: z.number().int(),
          oldVersions: z.number().int(),
        }),
      },
      404: { description: 'No contact has this id (or it was erased already)', schema: errorResponse },
      502: {
        description: 'Erased, but the old versions of its objects could not be removed: erase again',
        schema: errorResponse,
      },
      ...unavailable,
    },
    answer: ({ params }, deps) =>
      withContacts(deps, async (c) => {
        const erased = await eraseContactById(c, params.id ?? '');
        return erased ? json(200, erased) : noContact(params.id);
      }),
  },
  {
    method: 'POST',
    path: '/contacts/imports',
    summary: `Stages a CSV file for an import (at most ${importMaxBytes} bytes), and answers its id; nothing is imported yet`,
    body: uploadRequest,
    responses: {
      201: { description: 'Staged: preview it, then confirm it', schema: z.object({ id: z.string() }) },
      413: { description: 'Over the limit', schema: errorResponse },
      422: { description: 'An empty file', schema: errorResponse },
      ...unavailable,
    },
    answer: ({ body }, deps) =>
      withContacts(deps, async (c) => {
        const given = body as z.infer<typeof uploadRequest>;
        const bytes =
          given.csvBase64 !== undefined
            ? Buffer.from(given.csvBase64, 'base64')
            : Buffer.from(given.csv ?? '', 'utf8');
        return json(201, await stageUpload(c, { name: uploadName(given.name), bytes }));
      }),
  },
  {
    method: 'POST',
    path: '/contacts/imports/{id}/preview',
    summary:
      "A staged file's columns and their mapping, its first rows, and the report of a dry run with these choices: nothing is written",
    body: importChoiceRequest,
    responses: {
      200: { description: 'The preview', schema: previewResponse },
      404: { description: 'No such upload (imported, or older than an hour)', schema: errorResponse },
      422: {
        description: 'The file cannot be imported as it is (problem says why)',
        schema: previewResponse,
      },
      ...unavailable,
    },
    answer: ({ params, body }, deps) =>
      withContacts(deps, async (c) => {
        const preview = await previewUpload(c, params.id ?? '', body as z.infer<typeof importChoiceRequest>);
        return json(preview.problem ? 422 : 200, preview);
      }),
  },
  {
    method: 'POST',
    path: '/contacts/imports/{id}/confirm',
    summary:
      "Imports a staged file into the list, all or nothing, as `pressroom contacts import` does; a second confirmation imports nothing and answers the first one's report",
    body: importChoiceRequest,
    responses: {
      200: {
        description: 'Imported (already: by an earlier confirmation)',
        schema: z.object({ report: importReport, already: z.boolean() }),
      },
      404: { description: 'No such upload', schema: errorResponse },
      409: { description: 'Another confirmation is importing it now', schema: errorResponse },
      422: { description: 'Refused: nothing was written', schema: errorResponse },
      ...unavailable,
    },
    answer: ({ params, body }, deps) =>
      withContacts(deps, async (c) => {
        const outcome = await confirmUpload(c, params.id ?? '', body as z.infer<typeof importChoiceRequest>);
        return 'imported' in outcome
          ? json(200, { report: outcome.imported, already: false })
          : json(200, { report: outcome.already, already: true });
      }),
  },
];
