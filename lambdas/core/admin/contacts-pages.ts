import Handlebars from 'handlebars';
import type { ImportReport } from '../contacts/import.ts';
import { HistoryNotPurgedError } from '../privacy.ts';
import { json, type PublicRequest, type PublicResponse, plain } from '../public/http.ts';
import type { Language } from '../publication/schema.ts';
import { adminPageSecurityPolicy } from './admin.ts';
import {
  type AdminContactsDeps,
  confirmUpload,
  contactById,
  contactProfile,
  eraseContactById,
  type ImportChoice,
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
import type { AdminTemplates } from './pages.ts';

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

export const contactsPrefix = '/admin/contacts';

/** Whether a path is the import's (its body may be up to importMaxBytes). */
export function isContactsImportPath(path: string): boolean {
  return (
    path === `${contactsPrefix}/import` ||
    path.startsWith(`${contactsPrefix}/import/`) ||
    path.startsWith('/admin/api/contacts/imports')
  );
}

/** The size of a request's body in bytes. */
export function bodyBytes(request: PublicRequest): Buffer {
  const raw = request.body ?? '';
  return request.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
}

/**
 * An upload over the import's limit, refused before anything else reads it: 413 with its size
 * (what the client said it sent) and the limit. Undefined for every other request.
 */
export function contactsUploadTooLarge(request: PublicRequest): PublicResponse | undefined {
  if (!isContactsImportPath(request.path) || bodyBytes(request).length <= importMaxBytes) return undefined;
  const said = Number(request.headers['content-length']);
  const size = Number.isFinite(said) && said > 0 ? `${said} bytes` : `more than ${importMaxBytes} bytes`;
  return json(413, {
    error: `the upload is ${size}, more than the limit of ${importMaxBytes} bytes (20 MB) for a contacts import: split the file, or import it with \`pressroom contacts import\`. Nothing was imported.`,
  });
}

/** The form fields of a POST: urlencoded or multipart (undici's parser, Node's own), and the file if one came. */
export interface FormInput {
  get(name: string): string | undefined;
  file?: { name: string; bytes: Uint8Array };
}

/** Reads a form body; undefined when it is not a form (or a broken multipart body). */
export async function readForm(request: PublicRequest): Promise<FormInput | undefined> {
  const type = request.headers['content-type'] ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const fields = new URLSearchParams(bodyBytes(request).toString('utf8'));
    return { get: (name) => fields.get(name) ?? undefined };
  }
  if (!type.startsWith('multipart/form-data')) return undefined;
  let data: FormData;
  try {
    data = await new Response(bodyBytes(request), { headers: { 'content-type': type } }).formData();
  } catch {
    return undefined;
  }
  const file = data.get('file');
  const chosen =
    // A browser sends an empty part without a name when no file was chosen; an empty file chosen has one.
    file && typeof file !== 'string' && (file.size > 0 || file.name !== '')
      ? { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) }
      : undefined;
  return {
    get: (name) => {
      const value = data.get(name);
      return typeof value === 'string' ? value : undefined;
    },
    ...(chosen && { file: chosen }),
  };
}

/** What a contacts page is answered with. */
export interface ContactsPageContext {
  contacts?: AdminContactsSetup;
  templates: AdminTemplates;
  lang: Language;
  csrf: string;
  now: Date;
}

const compiled = new WeakMap<
  ContactsTemplates,
  Record<keyof ContactsTemplates, Handlebars.TemplateDelegate>
>();

function compile(templates: ContactsTemplates, layout: string) {
  let pages = compiled.get(templates);
  if (!pages) {
    const hb = Handlebars.create();
    hb.registerPartial('layout', layout);
    hb.registerHelper('uri', (value: unknown) => encodeURIComponent(String(value)));
    hb.registerHelper('is', (a: unknown, b: unknown) => String(a) === String(b));
    const c = (source: string) => hb.compile(source, { strict: false, preventIndent: true });
    pages = {
      list: c(templates.list),
      profile: c(templates.profile),
      erase: c(templates.erase),
      importForm: c(templates.importForm),
      importPreview: c(templates.importPreview),
    };
    compiled.set(templates, pages);
  }
  return pages;
}

/** A page's own headers (the router adds the admin's others): read when answering, admin.ts imports this module. */
const pageHeaders = () => ({
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': adminPageSecurityPolicy,
  'x-frame-options': 'DENY',
});

function redirect(location: string): PublicResponse {
  return plain(303, `See ${location}\n`, { location });
}

const notAllowed = (allow: string) => plain(405, 'Method not allowed\n', { allow });

/** A path segment decoded; undefined when it is a broken %-escape. */
function segment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
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
  const t = context.templates.locales[context.lang];
  const setup = context.contacts;
  if (!setup)
    return plain(503, 'Contacts are not available here: `pressroom serve` in a workspace gives them.\n');
  const pages = compile(setup.templates, context.templates.pages.layout);
  const html = (status: number, page: keyof ContactsTemplates, view: Record<string, unknown>) => ({
    status,
    headers: pageHeaders(),
    body: pages[page]({ lang: context.lang, t, csrf: context.csrf, fields: mappableFields, ...view }),
  });
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
    if (isRead) return html(200, 'importForm', { lists, maxBytes: importMaxBytes });
    if (method !== 'POST') return notAllowed('GET, HEAD, POST');
    const form = await readForm(request);
    const list = form?.get('list')?.trim() ?? '';
    const tags = form?.get('tags') ?? '';
    const pasted = form?.get('csv') ?? '';
    const file =
      form?.file ?? (pasted.trim() ? { name: 'pasted.csv', bytes: Buffer.from(pasted, 'utf8') } : undefined);
    const again = (status: number, error: string) =>
      html(status, 'importForm', { lists, maxBytes: importMaxBytes, error, list, tags });
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
    const form = isRead ? undefined : await readForm(request);
    const get = (name: string) => (form ? form.get(name) : query[name]);
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
  const id = profile?.[1] ? segment(profile[1]) : undefined;
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
    const form = await readForm(request);
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
