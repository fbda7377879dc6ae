import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Handlebars from 'handlebars';
import { archiveKeys, readManifest } from '../core/archive/publish.ts';
import { applyUnsubscribe } from '../core/contacts/feedback.ts';
import { type ContactKeys, shardOf } from '../core/contacts/model.ts';
import { readContactShard } from '../core/contacts/repository.ts';
import { InvalidTokenError, type UnsubscribeToken, verifyUnsubscribeToken } from '../core/contacts/tokens.ts';
import type { Language } from '../core/publication/schema.ts';
import { fillPattern } from '../core/render/locale.ts';
import { compileForRecipients, type RecipientFields } from '../core/render/recipient.ts';
import type { TemplateSet } from '../core/render/templates.ts';
import { checkKey, getText } from '../core/store/object-store.ts';
import { contentTypeOf, type FolderObjectStore, signedDownloadPath } from './folder-store.ts';

/**
 * The local server, stand-in for CloudFront and the public endpoints: the press room from
 * `site/`, signed downloads (checked as S3 checks presigned URLs), and email previews.
 * Paths are answered whatever host the link names.
 */
export interface LocalServerDeps {
  store: FolderObjectStore;
  sampleRecipient: RecipientFields;
  /** Unsubscribe pages: the token keys, the page template and strings, the default language. */
  unsubscribe: { keys: ContactKeys; templates: TemplateSet; lang: Language; clock?: () => Date };
  /** One line per request; never an email address. */
  log?: (line: string) => void;
}

export const previewPath = '/_preview/';
export const unsubscribePath = '/unsubscribe/';

/**
 * `/unsubscribe/<token>`: GET shows a page with a button (link scanners that open the URL
 * unsubscribe nobody); POST with `List-Unsubscribe=One-Click` (RFC 8058, what mail clients
 * send, and what the button sends) unsubscribes at once. A bad token gets 400 and changes
 * nothing; repeating a valid unsubscribe is harmless.
 */
async function unsubscribe(
  deps: LocalServerDeps,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { keys, templates } = deps.unsubscribe;
  let token = '';
  let payload: UnsubscribeToken;
  try {
    token = decodeURIComponent(url.pathname.slice(unsubscribePath.length));
    payload = verifyUnsubscribeToken(keys, token);
  } catch (error) {
    if (!(error instanceof InvalidTokenError) && !(error instanceof URIError)) throw error;
    const t = templates.locales[deps.unsubscribe.lang];
    return page(res, 400, templates, deps.unsubscribe.lang, {
      title: t.invalidLinkTitle,
      text: t.invalidLinkText,
    });
  }
  const lang = await contactLanguage(deps, payload.contact);
  const t = templates.locales[lang];
  if (req.method === 'GET' || req.method === 'HEAD') {
    return page(res, 200, templates, lang, {
      title: t.unsubscribeTitle,
      text: fillPattern(t.unsubscribeQuestion, { list: payload.list }),
      ask: true,
      button: t.unsubscribeButton,
    });
  }
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'GET, HEAD, POST');
    return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
  }
  const body = await readBody(req, 16 * 1024);
  if (!/List-Unsubscribe/i.test(body) || !/One-Click/i.test(body)) {
    return send(
      res,
      400,
      'text/plain; charset=utf-8',
      'Expected the body List-Unsubscribe=One-Click (RFC 8058)\n',
    );
  }
  await applyUnsubscribe(deps.store, keys, token, (deps.unsubscribe.clock ?? (() => new Date()))());
  if (/text\/html/.test(req.headers.accept ?? '')) {
    return page(res, 200, templates, lang, {
      title: t.unsubscribedTitle,
      text: fillPattern(t.unsubscribedText, { list: payload.list }),
    });
  }
  return send(res, 200, 'text/plain; charset=utf-8', 'Unsubscribed.\n');
}

async function contactLanguage(deps: LocalServerDeps, contactId: string): Promise<Language> {
  const shard = await readContactShard(deps.store, shardOf(contactId));
  const language = shard.contacts[contactId]?.language?.toLowerCase();
  return language === 'fr' || language === 'en' ? language : deps.unsubscribe.lang;
}

const pageTemplates = new WeakMap<TemplateSet, Handlebars.TemplateDelegate>();
function page(
  res: ServerResponse,
  status: number,
  templates: TemplateSet,
  lang: Language,
  view: { title: string; text: string; ask?: boolean; button?: string },
): void {
  let template = pageTemplates.get(templates);
  if (!template) {
    template = Handlebars.create().compile(templates.pages.unsubscribe);
    pageTemplates.set(templates, template);
  }
  res.setHeader('Cache-Control', 'no-store');
  send(res, status, 'text/html; charset=utf-8', template({ lang, ...view }));
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createLocalServer(deps: LocalServerDeps): Server {
  const log = deps.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  return createServer((req, res) => {
    const started = performance.now();
    handle(deps, req, res)
      .catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal error\n');
        else res.destroy();
        log(`error ${(error as Error).message}`);
      })
      .finally(() => {
        // The path only: queries may carry signatures, and nothing here logs who asked.
        const path = redact((req.url ?? '/').split('?')[0] ?? '/');
        log(`${req.method} ${path} ${res.statusCode} ${Math.round(performance.now() - started)}ms`);
      });
  });
}

async function handle(deps: LocalServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  if (url.pathname.startsWith(unsubscribePath)) return unsubscribe(deps, url, req, res);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
  }
  if (url.pathname.startsWith(signedDownloadPath)) {
    const checked = deps.store.verifySignedUrl(url.pathname + url.search);
    if (!checked.ok) return send(res, 403, 'text/plain; charset=utf-8', `Forbidden: ${checked.reason}\n`);
    return serveObject(deps.store, checked.key, req, res, checked.downloadName);
  }
  if (url.pathname.startsWith(previewPath)) {
    // Previews show embargoed and private releases: for this machine only.
    if (!isLoopback(req.socket.remoteAddress))
      return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
    let slug: string;
    try {
      slug = decodeURIComponent(url.pathname.slice(previewPath.length).replace(/\/(index\.html)?$/, ''));
    } catch {
      return send(res, 400, 'text/plain; charset=utf-8', 'Bad request\n');
    }
    const manifest = await readManifest(deps.store, slug).catch(() => undefined);
    if (!manifest) return send(res, 404, 'text/plain; charset=utf-8', 'No such release\n');
    const prefix = archiveKeys.version(slug, manifest.version);
    const html = await getText(deps.store, `${prefix}email.html`);
    const text = (await getText(deps.store, `${prefix}email.txt`)) ?? '';
    if (html === undefined) return send(res, 404, 'text/plain; charset=utf-8', 'No such release\n');
    const filled = compileForRecipients({ html, text }).fill(deps.sampleRecipient);
    return send(res, 200, 'text/html; charset=utf-8', filled.html, req.method === 'HEAD');
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return send(res, 400, 'text/plain; charset=utf-8', 'Bad request\n');
  }
  const key = `site${path.endsWith('/') ? `${path}index.html` : path}`;
  try {
    checkKey(key);
  } catch {
    return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
  }
  return serveObject(deps.store, key, req, res);
}

async function serveObject(
  store: FolderObjectStore,
  key: string,
  req: IncomingMessage,
  res: ServerResponse,
  downloadName?: string,
): Promise<void> {
  const info = await store.head(key);
  if (!info) return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
  res.statusCode = 200;
  res.setHeader('Content-Type', contentTypeOf(key));
  res.setHeader('Content-Length', info.size);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (downloadName) {
    const ascii = downloadName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(downloadName)}`,
    );
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const body = await store.stream(key);
  if (!body) return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
  await pipeline(Readable.from(body), res);
}

function send(res: ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(headOnly ? undefined : body);
}

function isLoopback(address: string | undefined): boolean {
  return (
    address === '::1' || address?.startsWith('127.') === true || address?.startsWith('::ffff:127.') === true
  );
}

/** Unsubscribe tokens (each one unsubscribes someone) and anything like an address are not logged. */
function redact(path: string): string {
  if (path.startsWith(unsubscribePath)) return `${unsubscribePath}[token]`;
  return path
    .split('/')
    .map((segment) => (/@|%40/i.test(segment) ? '[redacted]' : segment))
    .join('/');
}
