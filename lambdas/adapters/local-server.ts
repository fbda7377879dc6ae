import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type AdminDeps,
  adminBodyLimit,
  adminSignInPath,
  handleAdminRequest,
  isAdminPath,
  isSignedIn,
} from '../core/admin/admin.ts';
import { archiveKeys, type ReleaseManifest, readManifest } from '../core/archive/manifest.ts';
import { siteKeys } from '../core/archive/press-room.ts';
import { advancePaths } from '../core/campaigns/advance-copy.ts';
import { trackingPaths } from '../core/campaigns/tracking.ts';
import {
  handlePublicRequest,
  isPublicPath,
  type PublicEndpointDeps,
  type PublicRequest,
  type PublicResponse,
  publicPaths,
} from '../core/public/endpoint.ts';
import { maxBodyBytes } from '../core/public/http.ts';
import {
  commonSiteHeaders,
  contentDisposition,
  fileContentSecurityPolicy,
  mediaTypeOf,
  pageContentSecurityPolicy,
  servedFile,
} from '../core/public/site-headers.ts';
import { redactEmailAddresses, redactPathSegments } from '../core/redact.ts';
import { compileForRecipients, type RecipientFields } from '../core/render/recipient.ts';
import { checkKey, getJson, getText } from '../core/store/object-store.ts';
import type { FolderObjectStore } from './folder-store.ts';
import { type PreviewSigner, previewPath, signedDownloadPath } from './signed-downloads.ts';

export { previewPath };

/**
 * The local server, stand-in for CloudFront and the public endpoint: the press room from
 * `site/` (with the headers of site-headers.ts: a Content-Security-Policy on pages, published
 * files that are not PDF, images or text as downloads), the public endpoint of the core
 * (unsubscribe, subscribe, confirm) translated from and to node:http, signed downloads
 * (checked as S3 checks presigned URLs), and email previews. Paths are answered whatever
 * host the link names.
 *
 * Behind a reverse proxy (`trustProxy`), the proxy's `X-Forwarded-Proto` and
 * `X-Forwarded-Host` make the addresses of redirects, and the last `X-Forwarded-For` entry
 * (the address the proxy saw) is the client for the subscription rate limit. Without it,
 * those headers are ignored: anyone can send them.
 */
export interface LocalServerDeps {
  store: FolderObjectStore;
  sampleRecipient: RecipientFields;
  /** The public endpoint's ports and settings; its store is `store`. */
  endpoint: Omit<PublicEndpointDeps, 'store'>;
  /** Checks the tokens of preview links (`pressroom archive preview`). */
  previews: PreviewSigner;
  /** The web admin under /admin/ (lambdas/core/admin/); absent: /admin/ is not found. */
  admin?: AdminDeps;
  /** Believe X-Forwarded-Proto, -Host and -For: one reverse proxy, ours, is in front. */
  trustProxy?: boolean;
  /** One line per request; never an email address, a token or a client address. */
  log?: (line: string) => void;
}

/** Who asked, as far as the server may believe it. */
interface Client {
  /** The client's address: the socket's, or the proxy's last X-Forwarded-For entry. */
  ip?: string;
  /** `https://press.example.org` from a trusted proxy; undefined otherwise (relative redirects). */
  origin?: string;
}

/** The last value of a header that may be repeated or hold a list. */
function lastValue(value: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(value) ? value.join(',') : value;
  const last = joined?.split(',').at(-1)?.trim();
  return last === '' ? undefined : last;
}

function clientOf(req: IncomingMessage, trustProxy: boolean): Client {
  const socketIp = req.socket.remoteAddress;
  if (!trustProxy) return { ...(socketIp && { ip: socketIp }) };
  const forwardedFor = lastValue(req.headers['x-forwarded-for']);
  const ip = forwardedFor && isIP(forwardedFor) ? forwardedFor : socketIp;
  const proto = lastValue(req.headers['x-forwarded-proto'])?.toLowerCase();
  const host = lastValue(req.headers['x-forwarded-host']) ?? req.headers.host;
  const origin =
    (proto === 'https' || proto === 'http') &&
    host &&
    /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i.test(host)
      ? `${proto}://${host.toLowerCase()}`
      : undefined;
  return { ...(ip && { ip }), ...(origin && { origin }) };
}

/** node:http → the endpoint's request: lower-case headers, raw path, body read up to the limit. */
async function publicRequest(
  req: IncomingMessage,
  url: URL,
  client: Client,
  limit = maxBodyBytes,
  /** The body as bytes (base64), not as UTF-8 text: an uploaded file in another encoding. */
  binary = false,
  /** false: the body is left unread (answered as if empty). */
  read = true,
): Promise<PublicRequest> {
  const headers = headersOf(req);
  const bytes = read && hasBody(req) ? await readBody(req, limit + 1) : Buffer.alloc(0);
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: bytes.toString(binary ? 'base64' : 'utf8'),
    ...(binary && { isBase64Encoded: true }),
    ...(client.ip && { sourceIp: client.ip }),
  };
}

/** The request's headers, their names in lower case, repeated ones joined. */
function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * Drops the body of a request answered without it, as it arrives, and cuts the connection past
 * `limit` bytes: a client still sending gets its answer (closing at once would reset the
 * connection, and the client could lose the answer), and nothing is kept.
 */
function discardBody(req: IncomingMessage, limit: number): void {
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) req.socket.destroy();
  });
}

/** Whether the request's body is read (the methods the endpoints take one with). */
function hasBody(req: IncomingMessage): boolean {
  return req.method === 'POST' || req.method === 'PUT';
}

/** The endpoint's response → node:http. */
function reply(res: ServerResponse, response: PublicResponse): void {
  res.statusCode = response.status;
  // Several cookies come as lines of one value (a header cannot hold a new line).
  for (const [name, value] of Object.entries(response.headers))
    res.setHeader(name, name === 'set-cookie' ? value.split('\n') : value);
  const body = response.isBase64Encoded ? Buffer.from(response.body, 'base64') : Buffer.from(response.body);
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

/**
 * At most `limit` bytes; the rest is read and dropped (the endpoint refuses the request as
 * too large), so that the socket stays open for that answer.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (size < limit) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

export function createLocalServer(deps: LocalServerDeps): Server {
  const write = deps.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  // An error's message may quote data (a file name, a value read): no address reaches the log.
  const log = (line: string) => write(redactEmailAddresses(line));
  return createServer((req, res) => {
    const started = performance.now();
    handle(deps, req, res)
      .catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal error\n');
        else res.destroy();
        log(`error ${(error as Error).message}`);
      })
      .finally(() => {
        // The path only: queries carry signatures and preview tokens, and nothing here logs who asked.
        const path = redact((req.url ?? '/').split('?')[0] ?? '/');
        log(`${req.method} ${path} ${res.statusCode} ${Math.round(performance.now() - started)}ms`);
      });
  });
}

async function handle(deps: LocalServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const client = clientOf(req, deps.trustProxy === true);
  if (isAdminPath(url.pathname)) {
    if (!deps.admin) return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
    // Nobody signed in: answered (401) at once, its body never kept, so that no one can make
    // the server hold 20 MB uploads without signing in.
    const read =
      !hasBody(req) || url.pathname === adminSignInPath || (await isSignedIn(headersOf(req), deps.admin));
    if (!read) discardBody(req, adminBodyLimit(url.pathname));
    // As bytes: a CSV uploaded to the contacts import may be in Windows-1252 or UTF-16.
    const request = await publicRequest(req, url, client, adminBodyLimit(url.pathname), true, read);
    // The host the browser sent the request to, which its Origin header must name.
    const host = client.origin ? new URL(client.origin).host : (req.headers.host ?? '');
    return reply(res, await handleAdminRequest({ ...request, host }, deps.admin));
  }
  if (isPublicPath(url.pathname)) {
    const response = await handlePublicRequest(await publicRequest(req, url, client), {
      store: deps.store,
      ...deps.endpoint,
    });
    return reply(res, response);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
  }
  const headOnly = req.method === 'HEAD';
  if (url.pathname.startsWith(signedDownloadPath)) {
    const checked = deps.store.verifySignedUrl(url.pathname + url.search);
    if (!checked.ok) return send(res, 403, 'text/plain; charset=utf-8', `Forbidden: ${checked.reason}\n`);
    // Pages open in the browser; everything else is saved under the name the link carries.
    return serveObject(deps.store, checked.key, req, res, {
      'Content-Type': mediaTypeOf(checked.key),
      ...commonSiteHeaders,
      ...(checked.downloadName
        ? {
            'Content-Disposition': contentDisposition(checked.downloadName),
            'Content-Security-Policy': fileContentSecurityPolicy,
          }
        : { 'Content-Security-Policy': pageContentSecurityPolicy }),
    });
  }
  if (url.pathname.startsWith(previewPath)) return preview(deps, req, res, url);

  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return send(res, 400, 'text/plain; charset=utf-8', 'Bad request\n');
  }
  const sitePath = (path.endsWith('/') ? `${path}index.html` : path).slice(1);
  const key = siteKeys.prefix + sitePath;
  try {
    checkKey(key);
  } catch {
    return notFound(deps, req, res, url, client);
  }
  const withdrawn = await withdrawnRelease(deps, sitePath);
  if (withdrawn) {
    // Gone for good: the notice page the archive left there, with the status that says so.
    const notice = await getText(deps.store, siteKeys.release(withdrawn));
    return notice === undefined
      ? send(res, 410, 'text/plain; charset=utf-8', 'Gone: this release was withdrawn\n', headOnly)
      : send(res, 410, 'text/html; charset=utf-8', notice, headOnly, {
          'Content-Security-Policy': pageContentSecurityPolicy,
        });
  }
  if ((await deps.store.head(key)) === undefined) {
    // A folder named without its slash: where the relative links of its page need it.
    const folder = `${siteKeys.prefix}${sitePath}/index.html`;
    if (!path.endsWith('/') && checkKeyQuietly(folder) && (await deps.store.head(folder))) {
      res.setHeader('Location', `${client.origin ?? ''}${url.pathname}/${url.search}`);
      return send(res, 301, 'text/plain; charset=utf-8', 'Moved permanently\n', headOnly);
    }
    return notFound(deps, req, res, url, client);
  }
  return serveObject(deps.store, key, req, res, servedFile(sitePath).headers);
}

/**
 * Nothing at this address of the press room: its 404 page (`site/404.html`, in the site's
 * language and look, with a link home), as CloudFront and static hosts answer; the public
 * endpoint's "not found" page while the press room has none yet. Status 404 either way.
 */
async function notFound(
  deps: LocalServerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  client: Client,
): Promise<void> {
  const headOnly = req.method === 'HEAD';
  const page = await getText(deps.store, siteKeys.notFound);
  if (page !== undefined)
    return send(res, 404, 'text/html; charset=utf-8', page, headOnly, {
      'Content-Security-Policy': pageContentSecurityPolicy,
    });
  const response = await handlePublicRequest(await publicRequest(req, url, client), {
    store: deps.store,
    ...deps.endpoint,
  });
  return reply(res, response);
}

/** The email of a release filled for the sample recipient: from this machine, with its token. */
async function preview(
  deps: LocalServerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  // Previews show embargoed and private releases. A request that went through a proxy is not
  // from this machine, whatever the proxy's own address: no forwarded header is believed here.
  const forwarded = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'].some(
    (name) => req.headers[name] !== undefined,
  );
  let slug: string | undefined;
  try {
    slug = decodeURIComponent(url.pathname.slice(previewPath.length).replace(/\/(index\.html)?$/, ''));
  } catch {
    slug = undefined;
  }
  // One answer for every refusal, so that nothing tells a slug that exists from one that does not.
  const notFound = () => send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
  if (
    !isLoopback(req.socket.remoteAddress) ||
    forwarded ||
    !slug ||
    !deps.previews.verify(slug, url.searchParams)
  )
    return notFound();
  const manifest = await readManifest(deps.store, slug).catch(() => undefined);
  if (!manifest) return notFound();
  const prefix = archiveKeys.version(slug, manifest.version);
  const html = await getText(deps.store, `${prefix}email.html`);
  const text = (await getText(deps.store, `${prefix}email.txt`)) ?? '';
  if (html === undefined) return notFound();
  const filled = compileForRecipients({ html, text }).fill(deps.sampleRecipient);
  return send(res, 200, 'text/html; charset=utf-8', filled.html, req.method === 'HEAD', {
    'Content-Security-Policy': pageContentSecurityPolicy,
    'Cache-Control': 'no-store',
    'X-Robots-Tag': 'noindex',
  });
}

/** The slug of the withdrawn release a path of the press room is under, if it is one. */
async function withdrawnRelease(deps: LocalServerDeps, sitePath: string): Promise<string | undefined> {
  const slug = /^releases\/([^/]+)\//.exec(sitePath)?.[1];
  if (!slug || !checkKeyQuietly(archiveKeys.manifest(slug))) return undefined;
  const manifest = await getJson<ReleaseManifest>(deps.store, archiveKeys.manifest(slug));
  return manifest?.value.withdrawn?.wasPublic ? slug : undefined;
}

function checkKeyQuietly(key: string): boolean {
  try {
    checkKey(key);
    return true;
  } catch {
    return false;
  }
}

async function serveObject(
  store: FolderObjectStore,
  key: string,
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
): Promise<void> {
  const info = await store.head(key);
  if (!info) return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
  res.statusCode = 200;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Length', info.size);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const body = await store.stream(key);
  if (!body) return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
  await pipeline(Readable.from(body), res);
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headOnly = false,
  headers: Record<string, string> = {},
): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  for (const [name, value] of Object.entries({ ...commonSiteHeaders, ...headers }))
    res.setHeader(name, value);
  res.end(headOnly ? undefined : body);
}

function isLoopback(address: string | undefined): boolean {
  return (
    address === '::1' || address?.startsWith('127.') === true || address?.startsWith('::ffff:127.') === true
  );
}

/**
 * Tokens (each one unsubscribes or subscribes someone) and anything like an address are not
 * logged. Signatures and preview tokens are in queries, which are never logged.
 */
function redact(path: string): string {
  if (path.startsWith(publicPaths.unsubscribe)) return `${publicPaths.unsubscribe}[token]`;
  if (path.startsWith(publicPaths.confirm)) return `${publicPaths.confirm}[token]`;
  if (path.startsWith(publicPaths.proof)) return `${publicPaths.proof}[token]`;
  if (path.startsWith(advancePaths.prefix))
    return `${advancePaths.prefix}[token]${path.endsWith(advancePaths.pdfSuffix) ? advancePaths.pdfSuffix : ''}`;
  for (const prefix of Object.values(trackingPaths)) if (path.startsWith(prefix)) return `${prefix}[token]`;
  return redactPathSegments(path);
}
