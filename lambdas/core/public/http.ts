import Handlebars from 'handlebars';
import { languageNamed } from '../publication/languages.ts';
import type { Language } from '../publication/schema.ts';

import type { TemplateSet } from '../render/templates.ts';

/**
 * The request and response of the public endpoint, framework-agnostic. The shape is a Lambda
 * Function URL event's, flattened: header names in lower case, the raw path, the body as
 * received (base64 when `isBase64Encoded`). The local server fills it from node:http.
 */
export interface PublicRequest {
  /** `GET`, `POST`... */
  method: string;
  /** The path as received, still percent-encoded, without the query: `/unsubscribe/u1.…`. */
  path: string;
  /** Query parameters, decoded. */
  query?: Readonly<Record<string, string | undefined>>;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  body?: string;
  /** True when `body` is base64 (as Function URLs give some bodies). */
  isBase64Encoded?: boolean;
  /** The client's IP address, for the per-source subscription limit; never stored in clear. */
  sourceIp?: string;
}

export interface PublicResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
  /** True when `body` is base64 (bytes: a PDF, an image), as Function URL responses say it. */
  isBase64Encoded?: boolean;
}

/** Bodies larger than this are refused (413): every form of the endpoint is a few hundred bytes. */
export const maxBodyBytes = 16 * 1024;

const securityHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // Tokens travel in paths: no page may hand its URL to another site.
  'referrer-policy': 'no-referrer',
};

/** Buttons that unsubscribe or confirm must not be framed by another site (clickjacking). */
const pageSecurityPolicy =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** What a page shows; every value is escaped by the template. */
export interface PageView {
  title: string;
  text?: string;
  details?: { label: string; value: string }[];
  /** A button that POSTs these fields to the same URL. */
  action?: { button: string; fields: { name: string; value: string }[] };
  form?: Record<string, unknown>;
}

const pageTemplates = new WeakMap<TemplateSet, Handlebars.TemplateDelegate>();

export function page(
  templates: TemplateSet,
  status: number,
  lang: Language,
  view: PageView,
  extraHeaders: Record<string, string> = {},
): PublicResponse {
  let template = pageTemplates.get(templates);
  if (!template) {
    template = Handlebars.create().compile(templates.pages.public);
    pageTemplates.set(templates, template);
  }
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      ...securityHeaders,
      'content-security-policy': pageSecurityPolicy,
      ...extraHeaders,
    },
    body: template({ lang, ...view }),
  };
}

export function plain(
  status: number,
  body: string,
  extraHeaders: Record<string, string> = {},
): PublicResponse {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders, ...extraHeaders },
    body,
  };
}

export function json(
  status: number,
  value: unknown,
  extraHeaders: Record<string, string> = {},
): PublicResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...securityHeaders, ...extraHeaders },
    body: `${JSON.stringify(value)}\n`,
  };
}

/** The body's bytes, decoded from base64 when the request says it is. */
export function bodyBytes(request: PublicRequest): Buffer {
  const raw = request.body ?? '';
  return request.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
}

/** The body as text; undefined when it is larger than `limit` bytes (`maxBodyBytes` by default). */
export function bodyText(request: PublicRequest, limit = maxBodyBytes): string | undefined {
  const bytes = bodyBytes(request);
  return bytes.length > limit ? undefined : bytes.toString('utf8');
}

/** The first language of `Accept-Language`, by preference, that pages exist in. */
export function acceptedLanguage(header: string | undefined): Language | undefined {
  if (!header) return undefined;
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { lang: languageNamed(tag), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((c) => c.lang !== undefined && c.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked[0]?.lang;
}

/** The path after `prefix`, percent-decoded; undefined when the escapes are malformed. */
export function pathParameter(path: string, prefix: string): string | undefined {
  try {
    return decodeURIComponent(path.slice(prefix.length));
  } catch {
    return undefined;
  }
}
