import { bodyBytes, bodyText, type PublicRequest, type PublicResponse, plain } from '../public/http.ts';
import { importMaxBytes } from './contacts.ts';

/**
 * What every part of the admin answers requests with: its body limits, the form reader (a
 * urlencoded or a multipart form, size checked), the replies (a page, a redirect, 405) and
 * their headers. One place, so that the sections (releases, contacts, campaigns, newsletters)
 * read and answer alike. Nothing here knows node:http.
 */

export const adminPrefix = '/admin';

export const contactsPrefix = '/admin/contacts';

/** The largest request body the admin takes: a publication's body is at most 200,000 characters. */
export const adminMaxBodyBytes = 1024 * 1024;

/** Whether a path is the contacts import's (its body may be up to importMaxBytes). */
export function isContactsImportPath(path: string): boolean {
  return (
    path === `${contactsPrefix}/import` ||
    path.startsWith(`${contactsPrefix}/import/`) ||
    path.startsWith('/admin/api/contacts/imports')
  );
}

/** The largest body a path takes: the contacts import's own, larger limit, else adminMaxBodyBytes. */
export function adminBodyLimit(path: string): number {
  return isContactsImportPath(path) ? importMaxBytes : adminMaxBodyBytes;
}

/** Pages: ours only, scripts and styles from our own files; frames of our own previews. */
export const adminPageSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export const adminHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // Not no-referrer: under it Chrome sends "Origin: null" with our own forms, which the
  // Origin check must refuse. Nothing leaves for another site either way.
  'referrer-policy': 'same-origin',
  'x-robots-tag': 'noindex, nofollow',
};

export function withHeaders(response: PublicResponse, headers: Record<string, string>): PublicResponse {
  return { ...response, headers: { ...response.headers, ...adminHeaders, ...headers } };
}

export function html(status: number, body: string, headers: Record<string, string> = {}): PublicResponse {
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      ...adminHeaders,
      'content-security-policy': adminPageSecurityPolicy,
      'x-frame-options': 'DENY',
      ...headers,
    },
    body,
  };
}

export function redirect(location: string, headers: Record<string, string> = {}): PublicResponse {
  return withHeaders(plain(303, `See ${location}\n`, { location }), headers);
}

/** 405, with the methods the path takes. */
export function notAllowed(allow: string): PublicResponse {
  return withHeaders(plain(405, 'Method not allowed\n', { allow }), {});
}

/** 413: a form larger than its path's limit. */
export const formTooLarge = (): PublicResponse => withHeaders(plain(413, 'The form is too large\n'), {});

/** The body as text; undefined when it is larger than its path's limit (adminBodyLimit). */
export function adminBodyText(request: PublicRequest): string | undefined {
  return bodyText(request, adminBodyLimit(request.path));
}

/** A form posted: its fields, and the file of a multipart form when one was chosen. */
export interface FormInput {
  fields: URLSearchParams;
  file?: { name: string; bytes: Uint8Array };
}

/**
 * Reads a posted form, multipart (undici's parser, Node's own) or urlencoded (any other
 * body); undefined when the body is larger than its path's limit, or a broken multipart body.
 */
export async function postedForm(request: PublicRequest): Promise<FormInput | undefined> {
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data')) {
    const text = adminBodyText(request);
    return text === undefined ? undefined : { fields: new URLSearchParams(text) };
  }
  const bytes = bodyBytes(request);
  if (bytes.length > adminBodyLimit(request.path)) return undefined;
  let data: FormData;
  try {
    data = await new Response(bytes, { headers: { 'content-type': type } }).formData();
  } catch {
    return undefined;
  }
  const fields = new URLSearchParams();
  for (const [name, value] of data) if (typeof value === 'string') fields.append(name, value);
  const file = data.get('file');
  const chosen =
    // A browser sends an empty part without a name when no file was chosen; an empty file chosen has one.
    file && typeof file !== 'string' && (file.size > 0 || file.name !== '')
      ? { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) }
      : undefined;
  return { fields, ...(chosen && { file: chosen }) };
}
