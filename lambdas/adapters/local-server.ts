import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { archiveKeys, readManifest } from '../core/archive/manifest.ts';
import {
  handlePublicRequest,
  isPublicPath,
  type PublicEndpointDeps,
  type PublicRequest,
  type PublicResponse,
  publicPaths,
} from '../core/public/endpoint.ts';
import { maxBodyBytes } from '../core/public/http.ts';
import { compileForRecipients, type RecipientFields } from '../core/render/recipient.ts';
import { checkKey, getText } from '../core/store/object-store.ts';
import { contentTypeOf, type FolderObjectStore, signedDownloadPath } from './folder-store.ts';

/**
 * The local server, stand-in for CloudFront and the public endpoint: the press room from
 * `site/`, the public endpoint of the core (unsubscribe, subscribe, confirm) translated from
 * and to node:http, signed downloads (checked as S3 checks presigned URLs), and email
 * previews. Paths are answered whatever host the link names.
 */
export interface LocalServerDeps {
  store: FolderObjectStore;
  sampleRecipient: RecipientFields;
  /** The public endpoint's ports and settings; its store is `store`. */
  endpoint: Omit<PublicEndpointDeps, 'store'>;
  /** One line per request; never an email address. */
  log?: (line: string) => void;
}

export const previewPath = '/_preview/';

/** node:http → the endpoint's request: lower-case headers, raw path, body read up to the limit. */
async function publicRequest(req: IncomingMessage, url: URL): Promise<PublicRequest> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const sourceIp = req.socket.remoteAddress;
  const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req, maxBodyBytes + 1) : '';
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
    ...(sourceIp && { sourceIp }),
  };
}

/** The endpoint's response → node:http. */
function reply(res: ServerResponse, response: PublicResponse): void {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.setHeader('Content-Length', Buffer.byteLength(response.body));
  res.end(response.body);
}

/**
 * At most `limit` bytes; the rest is read and dropped (the endpoint refuses the request as
 * too large), so that the socket stays open for that answer.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (size < limit) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
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
  if (isPublicPath(url.pathname)) {
    const response = await handlePublicRequest(await publicRequest(req, url), {
      store: deps.store,
      ...deps.endpoint,
    });
    return reply(res, response);
  }
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

/** Tokens (each one unsubscribes or subscribes someone) and anything like an address are not logged. */
function redact(path: string): string {
  if (path.startsWith(publicPaths.unsubscribe)) return `${publicPaths.unsubscribe}[token]`;
  if (path.startsWith(publicPaths.confirm)) return `${publicPaths.confirm}[token]`;
  return path
    .split('/')
    .map((segment) => (/@|%40/i.test(segment) ? '[redacted]' : segment))
    .join('/');
}
