import type { ImportReport } from '../contacts/import.ts';
import { HistoryNotPurgedError } from '../privacy.ts';
import {
  bodyBytes,
  json,
  type PublicRequest,
  type PublicResponse,
  pathParameter,
  plain,
} from '../public/http.ts';
import {
  type AdminContactsDeps,
  confirmUpload,
  contactById,
  contactProfile,
  eraseContactById,
  type ImportChoice,
  type ImportLimit,
  ImportUploadError,
  importedUpload,
  importMaxBytes,
  mappableFields,
  previewUpload,
  searchContacts,
  stageUpload,
  unsubscribeContact,
  uploadHeaders,
  uploadName,
} from './contacts.ts';
import {
  contactsPrefix,
  formTooLarge,
  isContactsImportPath,
  notAllowed,
  html as page,
  postedForm,
  redirect,
} from './http.ts';
import type { AdminPages } from './pages.ts';

/**
 * The contacts pages of the web admin, under `/admin/contacts` (contacts.ts does the work):
 * the list with search and paging, a contact's profile, unsubscribe, erase (with its
 * confirmation), and the import in three steps (upload, preview, confirm). Every form works
 * without scripts; every change is a POST the router has CSRF-checked already.
 */

/** The contacts pages' templates (`templates/admin/contacts-*.html.hbs`), read by an adapter. */
export interface ContactsTemplates {
  list: string;
  profile: string;
  erase: string;
  importForm: string;
  importPreview: string;
}

/** What `pressroom serve` gives the contacts section; absent, its pages answer 503. */
export type AdminContactsSetup = Omit<AdminContactsDeps, 'now'> & { templates: ContactsTemplates };

/**
 * An upload over the import's limit (20 MB, or the setup's smaller `importLimit`), refused
 * before anything else reads it: 413 with its size (what the client said it sent), the limit
 * and what to use instead. Undefined for every other request.
 */
export function contactsUploadTooLarge(
  request: PublicRequest,
  limit?: ImportLimit,
): PublicResponse | undefined {
  const maxBytes = limit?.bytes ?? importMaxBytes;
  if (!isContactsImportPath(request.path) || bodyBytes(request).length <= maxBytes) return undefined;
  const said = Number(request.headers['content-length']);
  const size = Number.isFinite(said) && said > 0 ? `${said} bytes` : `more than ${maxBytes} bytes`;
  const instead = limit?.instead ?? '`pressroom contacts import`';
  return json(413, {
    error: `the upload is ${size}, more than the limit of ${maxBytes} bytes (${Math.round(maxBytes / 1024 / 1024)} MB) for a contacts import here: split the file, or import it with ${instead}. Nothing was imported.`,
  });
}

/** What a contacts page is answered with. */
export interface ContactsPageContext {
  contacts?: AdminContactsSetup;
  /** The admin's pages in the request's language (pages.ts): their layout and setup. */
  pages: AdminPages;
  csrf: string;
  now: Date;
}

/** The preview's choices from a form or a query: the list, tags, and a field per column (`column-<i>`). */
function choiceOf(get: (name: string) => string | undefined, headers: string[]): ImportChoice {
  const mapping: Record<string, string> = {};
  for (const [i, header] of headers.entries()) {
    const field = get(`column-${i}`);
    if (field === undefined) continue;
    if (field === '' || (mappableFields as readonly string[]).includes(field)) mapping[header] = field;
  }
  const tags = get('tags');
  return {
    list: (get('list') ?? '').trim(),
    ...(tags && { tags }),
    mapping: mapping as ImportChoice['mapping'],
  };
}

/** Answers a signed-in request under `/admin/contacts` (the CSRF check of a POST was made before). */
export async function answerContactsPage(
  request: PublicRequest,
  method: string,
  context: ContactsPageContext,
): Promise<PublicResponse> {
  const t = context.pages.t;
  const setup = context.contacts;
  if (!setup)
    return plain(503, 'Contacts are not available here: `pressroom serve` in a workspace gives them.\n');
  const html = (status: number, name: keyof ContactsTemplates, view: Record<string, unknown>) =>
    page(
      status,
      context.pages.render(setup.templates[name], { csrf: context.csrf, fields: mappableFields, ...view }),
    );
  const deps: AdminContactsDeps = { ...setup, now: context.now };
  const path = request.path.slice(contactsPrefix.length);
  const query = request.query ?? {};
  const isRead = method === 'GET' || method === 'HEAD';
  const notFound = (message: string) => html(404, 'erase', { missing: message });

  if (path === '' || path === '/') {
    if (!isRead) return notAllowed('GET, HEAD');
    const page = await searchContacts(deps, {
      q: query.q ?? '',
      ...(query.list && { list: query.list }),
      ...(query.tag && { tag: query.tag }),
      page: Number(query.page ?? '1'),
    });
    const link = (n: number) =>
      `?${new URLSearchParams({ ...(query.q && { q: query.q }), ...(query.list && { list: query.list }), ...(query.tag && { tag: query.tag }), page: String(n) })}`;
    return html(200, 'list', {
      q: query.q ?? '',
      list: query.list ?? '',
      tag: query.tag ?? '',
      ...page,
      ...(page.page > 1 && { previous: link(page.page - 1) }),
      ...(page.page < page.pages && { next: link(page.page + 1) }),
      ...(query.erased === '1' && { erased: true }),
    });
  }

  if (path === '/import') {
    const lists = deps.lists;
    const maxBytes = deps.importLimit?.bytes ?? importMaxBytes;
    const maxRows = deps.importLimit?.rows;
    if (isRead) return html(200, 'importForm', { lists, maxBytes, maxRows });
    if (method !== 'POST') return notAllowed('GET, HEAD, POST');
    const form = await postedForm(request);
    const list = form?.fields.get('list')?.trim() ?? '';
    const tags = form?.fields.get('tags') ?? '';
    const pasted = form?.fields.get('csv') ?? '';
    const file =
      form?.file ?? (pasted.trim() ? { name: 'pasted.csv', bytes: Buffer.from(pasted, 'utf8') } : undefined);
    const again = (status: number, error: string) =>
      html(status, 'importForm', { lists, maxBytes, maxRows, error, list, tags });
    if (!form) return again(400, t.contactsImportNoForm ?? 'no form');
    if (!file) return again(422, t.contactsImportNoFile ?? 'no file');
    try {
      const { id } = await stageUpload(deps, { name: uploadName(file.name), bytes: file.bytes });
      return redirect(`${contactsPrefix}/import/${id}?${new URLSearchParams({ list, tags })}`);
    } catch (error) {
      if (error instanceof ImportUploadError) return again(error.status, error.message);
      throw error;
    }
  }

  const importing = /^\/import\/([^/]+)$/.exec(path);
  if (importing?.[1]) {
    const id = importing[1];
    if (!isRead && method !== 'POST') return notAllowed('GET, HEAD, POST');
    const form = isRead ? undefined : (await postedForm(request))?.fields;
    if (!isRead && !form) return formTooLarge();
    const get = (name: string) => (form ? (form.get(name) ?? undefined) : query[name]);
    const done = (report: ImportReport, name: string, already: boolean) =>
      html(200, 'importPreview', { id, done: true, already, name, report });
    // Imported already (a page reloaded, the back button): its report, never a second import.
    const imported = await importedUpload(deps.store, id);
    if (imported) return done(imported.report, imported.name, true);
    try {
      // The headers first (with the detection's mapping), then the choices made on them.
      const choice = choiceOf(get, await uploadHeaders(deps.store, id));
      let refusal: ImportUploadError | undefined;
      if (form?.get('step') === 'confirm') {
        try {
          const outcome = await confirmUpload(deps, id, choice);
          return 'imported' in outcome
            ? done(outcome.imported, outcome.name, false)
            : done(outcome.already, outcome.name, true);
        } catch (error) {
          // Refused with nothing written (a header only, a tag too long, under way): the preview again, saying why.
          if (!(error instanceof ImportUploadError) || error.status === 404) throw error;
          refusal = error;
        }
      }
      const found = await previewUpload(deps, id, choice);
      const preview = refusal ? { ...found, problem: refusal.message } : found;
      return html(refusal?.status ?? (preview.problem ? 422 : 200), 'importPreview', {
        id,
        ...preview,
        columns: preview.upload.columns.map((c, i) => ({ ...c, index: i })),
        list: choice.list,
        tags: choice.tags ?? '',
        lists: deps.lists,
        canImport: !preview.problem && (preview.report?.rows ?? 0) > 0 && choice.list !== '',
        noRows: preview.report?.rows === 0,
        noList: choice.list === '',
      });
    } catch (error) {
      if (!(error instanceof ImportUploadError)) throw error;
      return html(error.status, 'importPreview', { id, refused: error.message });
    }
  }

  const profile = /^\/([^/]+)(?:\/(erase|unsubscribe))?$/.exec(path);
  const id = profile?.[1] ? pathParameter(profile[1], '') : undefined;
  if (!profile || id === undefined) return notFound(t.contactsNotFound ?? 'not found');
  const action = profile[2];
  if (!action) {
    if (!isRead) return notAllowed('GET, HEAD');
    const found = await contactProfile(deps, id);
    if (!found) return notFound(t.contactsNotFound ?? 'not found');
    return html(200, 'profile', {
      ...found,
      ...(query.unsubscribed && { unsubscribed: query.unsubscribed }),
      ...(query.already && { already: query.already }),
    });
  }
  if (action === 'unsubscribe') {
    if (method !== 'POST') return notAllowed('POST');
    const form = (await postedForm(request))?.fields;
    if (!form) return formTooLarge();
    const outcome = await unsubscribeContact(deps, id, form?.get('list') ?? '');
    if ('missing' in outcome) return notFound(t.contactsNotFound ?? 'not found');
    if ('refused' in outcome) {
      const found = await contactProfile(deps, id);
      return html(409, 'profile', { ...found, refused: outcome.refused });
    }
    const key = outcome.done.already ? 'already' : 'unsubscribed';
    return redirect(
      `${contactsPrefix}/${encodeURIComponent(id)}?${new URLSearchParams({ [key]: outcome.done.list })}`,
    );
  }
  // Erase: GET asks to confirm (saying what erasing does), POST does it.
  const contact = await contactById(deps.store, id);
  if (isRead) {
    if (!contact) return notFound(t.contactsNotFound ?? 'not found');
    return html(200, 'erase', { contact });
  }
  if (method !== 'POST') return notAllowed('GET, HEAD, POST');
  try {
    const erased = await eraseContactById(deps, id);
    if (!erased) return notFound(t.contactsNotFound ?? 'not found');
    return html(200, 'erase', { erased });
  } catch (error) {
    // Erased, but the store's old versions of its objects were not removed: said as the CLI says it.
    if (error instanceof HistoryNotPurgedError) return html(502, 'erase', { missing: error.message });
    throw error;
  }
}
