import { NoWorkspaceError } from '../errors.ts';
import { json, type PublicRequest, type PublicResponse, pathParameter, plain } from '../public/http.ts';
import { proofEmailSecurityPolicy } from '../public/proof-page.ts';
import { pageContentSecurityPolicy } from '../public/site-headers.ts';
import type { Language } from '../publication/schema.ts';
import { answerApi, apiPrefix } from './api.ts';
import { publishFromAdmin, withdrawFromAdmin } from './archive.ts';
import { answerCampaignsPage } from './campaigns-pages.ts';
import { type AdminContactsSetup, answerContactsPage, contactsUploadTooLarge } from './contacts-pages.ts';
import { addedRows, type FormChoices, newReleaseFrontMatter, readForm } from './form.ts';
import {
  adminBodyLimit,
  adminBodyText,
  adminHeaders,
  adminPrefix,
  contactsPrefix,
  formTooLarge,
  html,
  notAllowed,
  postedForm,
  redirect,
  withHeaders,
} from './http.ts';
import { answerLanguage, chosenLanguage } from './language.ts';
import { answerNewslettersPage } from './newsletters-pages.ts';
import { type AdminPages, type AdminTemplates, adminPages } from './pages.ts';
import { translateProblem } from './problem-translations.ts';
import { releasePdf } from './release-pdf.ts';
import {
  type AdminReleaseDeps,
  createRelease,
  type FieldProblem,
  findRelease,
  listReleases,
  previewPublication,
  previewRelease,
  saveRelease,
} from './releases.ts';
import {
  type AdminKeys,
  type AdminSession,
  cookieNames,
  csrfToken,
  isAdminToken,
  isCsrfToken,
  isSameOrigin,
  openSession,
  parseCookies,
  readSession,
  SignedOutSessions,
  type SignedOutStore,
  SignInLimiter,
  sessionSeconds,
  setCookie,
  signInFormSeconds,
  signInNonce,
} from './session.ts';

/**
 * The web admin, `/admin/`: sign-in, pages and the JSON API (api.ts), as one function from
 * a request to a response, like the public endpoint. The local server (`pressroom serve`)
 * calls it; nothing here knows node:http.
 *
 * Every path but the sign-in form and the two static files (a script and a style sheet,
 * which hold nothing of the workspace) needs the admin token (Bearer) or a session cookie.
 * Without: API requests get 401 and pages a redirect to the sign-in form, with nothing of
 * the workspace in either.
 */

export {
  adminBodyLimit,
  adminMaxBodyBytes,
  adminPageSecurityPolicy,
  adminPrefix,
  html,
  redirect,
  withHeaders,
} from './http.ts';

/** Whether a path is the admin's. */
export function isAdminPath(path: string): boolean {
  return path === adminPrefix || path.startsWith(`${adminPrefix}/`);
}

/**
 * Who may come in with a Bearer token, when it is not the admin token: an identity provider's
 * check (Cognito on AWS, lambdas/handlers/admin.ts). Its sign-in happens elsewhere (the
 * provider's page), which then opens the same session as the token form does.
 */
export interface AdminIdentity {
  /** Whether this Bearer token names someone allowed in (a signature, an audience, a time checked). */
  bearer(token: string): Promise<boolean>;
  /** What a request without sign-in is told to send. */
  hint: string;
}

export interface AdminDeps {
  adminToken: string;
  /** Who may come in instead of the admin token's holder (then the token form is not served). */
  identity?: AdminIdentity;
  keys: AdminKeys;
  templates: AdminTemplates;
  releases: Omit<AdminReleaseDeps, 'now'>;
  /** The interface's language when the browser asks for none we have. */
  lang: Language;
  /** Cookies only over https (Secure): true unless the server is reached on this machine only. */
  secureCookies: boolean;
  limiter: SignInLimiter;
  signedOut: SignedOutStore;
  /** The contacts section (contacts-pages.ts); absent, its pages and API routes answer 503. */
  contacts?: AdminContactsSetup;
  now(): Date;
}

/** The admin's long-lived parts, made once per server. */
export function adminState(): Pick<AdminDeps, 'limiter' | 'signedOut'> {
  return { limiter: new SignInLimiter(), signedOut: new SignedOutSessions() };
}

/** The request, with the host it was sent to (the proxy's, when one is trusted): what Origin must name. */
export interface AdminRequest extends PublicRequest {
  host: string;
}

const changes = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Who is asking: the token holder (Bearer), a session, or nobody. */
type Caller = { kind: 'bearer' } | { kind: 'session'; session: AdminSession } | undefined;

async function callerOf(headers: PublicRequest['headers'], deps: AdminDeps, now: Date): Promise<Caller> {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    const known = deps.identity
      ? token !== undefined && (await deps.identity.bearer(token))
      : isAdminToken(deps.adminToken, token);
    return known ? { kind: 'bearer' } : undefined;
  }
  const session = readSession(deps.keys, parseCookies(headers.cookie)[cookieNames.session], now);
  if (!session || (await deps.signedOut.has(session, now))) return undefined;
  return { kind: 'session', session };
}

/** The sign-in form's path: the one path a request may post to without being signed in. */
export const adminSignInPath = `${adminPrefix}/sign-in`;

/**
 * Whether a request's headers carry a valid sign-in (a Bearer token or a live session), as
 * handleAdminRequest checks them: a server asks before it reads a body, so that nobody can
 * make it hold megabytes without signing in first.
 */
export async function isSignedIn(headers: PublicRequest['headers'], deps: AdminDeps): Promise<boolean> {
  return (await callerOf(headers, deps, deps.now())) !== undefined;
}

/** Answers a request under `/admin`. */
export async function handleAdminRequest(request: AdminRequest, deps: AdminDeps): Promise<PublicResponse> {
  try {
    return await answerAdminRequest(request, deps);
  } catch (error) {
    // Creating a release or drafting an issue with no workspace to write into: not a fault here.
    if (!(error instanceof NoWorkspaceError)) throw error;
    const isApi = request.path === apiPrefix || request.path.startsWith(`${apiPrefix}/`);
    return withHeaders(isApi ? json(503, { error: error.message }) : plain(503, `${error.message}\n`), {});
  }
}

async function answerAdminRequest(request: AdminRequest, deps: AdminDeps): Promise<PublicResponse> {
  const now = deps.now();
  const lang = chosenLanguage(request.headers, deps.lang);
  const pages = adminPages(deps.templates, lang, request.path);
  const path = request.path;
  const method = request.method.toUpperCase();

  const assetName = path.slice(`${adminPrefix}/assets/`.length);
  // Own names only: "constructor" is not a file.
  const asset = Object.hasOwn(deps.templates.assets, assetName)
    ? deps.templates.assets[assetName]
    : undefined;
  if (path.startsWith(`${adminPrefix}/assets/`) && asset && (method === 'GET' || method === 'HEAD'))
    return withHeaders(
      { status: 200, headers: { 'content-type': asset.type }, body: asset.body },
      { 'cache-control': 'no-cache' },
    );
  if (path === `${adminPrefix}/language` && (method === 'GET' || method === 'HEAD'))
    return answerLanguage(request, deps.secureCookies, adminHeaders);
  if (path === adminSignInPath) return await signIn(request, method, deps, pages, now);

  const caller = await callerOf(request.headers, deps, now);
  const isApi = path === apiPrefix || path.startsWith(`${apiPrefix}/`);
  if (!caller) {
    if (isApi || (method !== 'GET' && method !== 'HEAD'))
      return withHeaders(
        json(401, {
          error:
            deps.identity?.hint ?? 'sign in first: send the admin token as Authorization: Bearer <token>',
        }),
        {
          'www-authenticate': 'Bearer realm="pressroom admin"',
        },
      );
    return redirect(`${adminPrefix}/sign-in`);
  }
  const tooLarge = changes.has(method)
    ? contactsUploadTooLarge(request, deps.contacts?.importLimit)
    : undefined;
  if (tooLarge) return withHeaders(tooLarge, {});
  if (changes.has(method) && caller.kind === 'session') {
    const type = request.headers['content-type'] ?? '';
    const fromForm =
      type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')
        ? ((await postedForm(request))?.fields.get('csrf') ?? undefined)
        : undefined;
    const given = request.headers['x-csrf-token'] ?? fromForm;
    if (
      !isSameOrigin(request.headers, request.host) ||
      !isCsrfToken(deps.keys, 'session', caller.session.id, given)
    )
      return withHeaders(
        json(403, {
          error: 'refused: this change did not come from the admin (CSRF check failed); reload the page',
        }),
        {},
      );
  }
  const releases: AdminReleaseDeps = { ...deps.releases, now };
  if (isApi) {
    const text = adminBodyText(request);
    if (text === undefined)
      return withHeaders(json(413, { error: `the body is larger than ${adminBodyLimit(path)} bytes` }), {});
    return withHeaders(
      await answerApi(
        { method, path: path.slice(apiPrefix.length), query: request.query ?? {}, body: text },
        { ...releases, ...(deps.contacts && { contacts: deps.contacts }) },
      ),
      {},
    );
  }
  if (path === `${adminPrefix}/sign-out` && method === 'POST') {
    if (caller.kind === 'session') await deps.signedOut.end(caller.session);
    return redirect(`${adminPrefix}/sign-in`, {
      'set-cookie': setCookie(cookieNames.session, '', { maxAgeSeconds: 0, secure: deps.secureCookies }),
    });
  }
  const csrf = caller.kind === 'session' ? csrfToken(deps.keys, 'session', caller.session.id) : '';
  if (path === `${adminPrefix}/new-release`)
    return create(request, method, { releases, pages, csrf }, deps.lang);
  const archiving = /^\/admin\/releases\/([^/]+)\/(publish|withdraw)$/.exec(path);
  if (archiving?.[1] && archiving[2])
    return archive(request, method, archiving[1], archiving[2] as 'publish' | 'withdraw', {
      releases,
      pages,
      csrf,
    });
  const editing = /^\/admin\/releases\/([^/]+)\/edit$/.exec(path)?.[1];
  if (editing !== undefined) return edit(request, method, editing, { releases, pages, csrf });
  // Before the GET-only check below: the section's forms post to it.
  if (path === `${adminPrefix}/newsletters` || path.startsWith(`${adminPrefix}/newsletters/`))
    return answerNewslettersPage(request, method, { releases, pages, csrf });
  // Campaigns take their own POSTs (campaigns-pages.ts).
  if (path === `${adminPrefix}/campaigns` || path.startsWith(`${adminPrefix}/campaigns/`))
    return answerCampaignsPage(request, method, { releases, pages, csrf });
  if (path === contactsPrefix || path.startsWith(`${contactsPrefix}/`))
    return withHeaders(
      await answerContactsPage(request, method, {
        ...(deps.contacts && { contacts: deps.contacts }),
        pages,
        csrf,
        now,
      }),
      {},
    );
  if (method !== 'GET' && method !== 'HEAD') return notAllowed('GET, HEAD');
  if (path === adminPrefix || path === `${adminPrefix}/`) return redirect(`${adminPrefix}/releases`);
  if (path === `${adminPrefix}/releases`) {
    const query = request.query?.q ?? '';
    return html(200, pages.releases({ csrf, query, releases: await listReleases(releases, query) }));
  }
  const printing = /^\/admin\/releases\/([^/]+)\/pdf$/.exec(path)?.[1];
  if (printing !== undefined) return pdfPreview(printing, { releases, pages, csrf });
  const release = /^\/admin\/releases\/([^/]+)(?:\/(email|page|text))?$/.exec(path);
  if (release?.[1]) {
    const slug = pathParameter(release[1], '');
    if (slug === undefined) return html(404, pages.notFound({ csrf }));
    if (release[2])
      return framed(release[2] as 'email' | 'page' | 'text', await previewRelease(releases, slug), lang);
    const detail = await findRelease(releases, slug);
    if (!detail) return html(404, pages.notFound({ csrf }));
    const preview = detail.problems === 0 ? await previewRelease(releases, slug) : undefined;
    return html(
      200,
      pages.release({
        csrf,
        release: detail,
        ...(preview && 'preview' in preview && { preview: preview.preview }),
        problems: preview && 'problems' in preview ? preview.problems : detail.problemList,
        ...(['written', 'unchanged', 'created'].includes(request.query?.saved ?? '') && {
          saved: request.query?.saved as 'written' | 'unchanged' | 'created',
        }),
      }),
    );
  }
  return html(404, pages.notFound({ csrf }));
}

/**
 * The edit form of a release (GET), and its POST: saved into the file (only what changed,
 * releases.ts's saveRelease), then back to the release; problems and conflicts show the form
 * again with what was typed, each problem beside its field. The CSRF check was made before.
 */
async function edit(
  request: AdminRequest,
  method: string,
  rawSlug: string,
  { releases, pages, csrf }: PageContext,
): Promise<PublicResponse> {
  const slug = pathParameter(rawSlug, '');
  const release = slug === undefined ? undefined : await findRelease(releases, slug);
  if (!release || slug === undefined) return html(404, pages.notFound({ csrf }));
  const choices = await formChoices(releases);
  if (method === 'GET' || method === 'HEAD')
    return html(
      200,
      pages.edit({
        csrf,
        release,
        frontMatter: release.frontMatter,
        body: release.body,
        version: release.version,
        choices,
      }),
    );
  if (method !== 'POST') return notAllowed('GET, HEAD, POST');
  const form = (await postedForm(request))?.fields;
  if (!form) return formTooLarge();
  const { frontMatter, problems: refused } = readForm(release.frontMatter, form, choices);
  const body = (form.get('body') ?? release.body).replace(/\r\n/g, '\n');
  const version = form.get('version') ?? '';
  const again = (status: number, extra: { problems?: FieldProblem[]; conflict?: string }) =>
    html(
      status,
      pages.edit({ csrf, release, frontMatter, body, version, choices, extra: addedRows(form), ...extra }),
    );
  // The preview buttons (and admin.js as one types): the email, its text or the page as they
  // would be, in their frame; nothing saved.
  const previewed = await formPreview(form, refused, releases, { frontMatter, body }, pages.lang);
  if (previewed) return previewed;
  // "Add a row": the form again, as typed, with one more empty row; nothing saved.
  if (form.get('add')) return again(200, { problems: refused });
  if (refused.length) return again(422, { problems: refused });
  const result = await saveRelease(releases, slug, { frontMatter, body, version });
  if (!result) return html(404, pages.notFound({ csrf }));
  if ('conflict' in result) return again(409, { conflict: result.conflict });
  if ('problems' in result) return again(422, { problems: result.problems });
  return redirect(
    `${adminPrefix}/releases/${encodeURIComponent(result.saved.slug)}?saved=${result.written ? 'written' : 'unchanged'}`,
  );
}

/** What the forms' lists choose from: the workspace's organisations, attachments and images. */
async function formChoices(releases: AdminReleaseDeps): Promise<FormChoices> {
  const files = (await releases.sources.pressKitFiles?.()) ?? { attachments: [], images: [] };
  return { organizations: await releases.sources.organizations(), ...files };
}

/** Which preview a form's button asked for, if any. */
function previewPart(form: URLSearchParams): 'email' | 'text' | 'page' | undefined {
  const part = form.get('preview');
  return part === 'email' || part === 'text' || part === 'page' ? part : undefined;
}

/**
 * A preview button of the edit and create forms (and admin.js as one types): the email, its
 * text or the page as the form's data would render, in its frame; nothing saved. Undefined
 * when the form asks for no preview.
 */
async function formPreview(
  form: URLSearchParams,
  refused: FieldProblem[],
  releases: AdminReleaseDeps,
  data: { frontMatter: Record<string, unknown>; body: string },
  lang: Language,
): Promise<PublicResponse | undefined> {
  const part = previewPart(form);
  if (!part) return undefined;
  return framed(
    part,
    refused.length ? { problems: refused } : await previewPublication(releases, data),
    lang,
  );
}

/** What a page answering a signed-in request works with. */
export interface PageContext {
  releases: AdminReleaseDeps;
  pages: AdminPages;
  /** The session's CSRF token, for the page's forms. */
  csrf: string;
}

/**
 * The form of a new release (GET), and its POST: a new file in the publications folder
 * (releases.ts's createRelease), then the release's page; problems and a slug already taken
 * show the form again with what was typed. The CSRF check was made before.
 */
async function create(
  request: AdminRequest,
  method: string,
  { releases, pages, csrf }: PageContext,
  lang: Language,
): Promise<PublicResponse> {
  // What a new release starts with: today's date and the workspace's language.
  const start = { date: releases.now.toISOString().slice(0, 10), lang };
  const choices = await formChoices(releases);
  if (method === 'GET' || method === 'HEAD')
    return html(200, pages.create({ csrf, frontMatter: start, body: '', choices }));
  if (method !== 'POST') return notAllowed('GET, HEAD, POST');
  const form = (await postedForm(request))?.fields;
  if (!form) return formTooLarge();
  const { frontMatter, problems: refused } = newReleaseFrontMatter(start, form, choices);
  const body = (form.get('body') ?? '').replace(/\r\n/g, '\n');
  const previewed = await formPreview(form, refused, releases, { frontMatter, body }, pages.lang);
  if (previewed) return previewed;
  const again = (status: number, extra: { problems?: FieldProblem[]; conflict?: string }) =>
    html(status, pages.create({ csrf, frontMatter, body, choices, extra: addedRows(form), ...extra }));
  if (form.get('add')) return again(200, { problems: refused });
  if (refused.length) return again(422, { problems: refused });
  const result = await createRelease(releases, { frontMatter, body });
  if ('created' in result)
    return redirect(`${adminPrefix}/releases/${encodeURIComponent(result.created.slug)}?saved=created`);
  return again('conflict' in result ? 409 : 422, result);
}

/**
 * Publishing or withdrawing a release: GET asks to confirm (what will happen), POST does it
 * with the core functions of the command line (archive.ts) and shows what became of it. The
 * CSRF check was made before.
 */
async function archive(
  request: AdminRequest,
  method: string,
  rawSlug: string,
  action: 'publish' | 'withdraw',
  { releases, pages, csrf }: PageContext,
): Promise<PublicResponse> {
  const slug = pathParameter(rawSlug, '');
  const release = slug === undefined ? undefined : await findRelease(releases, slug);
  if (!release || slug === undefined) return html(404, pages.notFound({ csrf }));
  if (method === 'GET' || method === 'HEAD') return html(200, pages.archive({ csrf, release, action }));
  if (method !== 'POST') return notAllowed('GET, HEAD, POST');
  const form = (await postedForm(request))?.fields;
  if (!form) return formTooLarge();
  const reason = form.get('reason') ?? '';
  const outcome =
    action === 'publish'
      ? await publishFromAdmin(releases, slug)
      : await withdrawFromAdmin(releases, slug, reason);
  if ('done' in outcome)
    return html(
      200,
      pages.archive({
        csrf,
        release: (await findRelease(releases, slug)) ?? release,
        action,
        done: outcome.done,
      }),
    );
  if ('handedOver' in outcome)
    return html(202, pages.archive({ csrf, release, action, handedOver: outcome.handedOver }));
  if ('missing' in outcome)
    return html(404, pages.archive({ csrf, release, action, refused: outcome.missing }));
  return html(outcome.problems ? 422 : 409, pages.archive({ csrf, release, action, reason, ...outcome }));
}

/**
 * A release's PDF, printed from its file as `pressroom publish` prints it (release-pdf.ts):
 * served inline under a policy that lets nothing load or run. Without a browser, the
 * release's page says why (503), and nothing else changes.
 */
async function pdfPreview(rawSlug: string, { releases, pages, csrf }: PageContext): Promise<PublicResponse> {
  const slug = pathParameter(rawSlug, '');
  const detail = slug === undefined ? undefined : await findRelease(releases, slug);
  const result = slug === undefined || !detail ? undefined : await releasePdf(releases, slug);
  if (!result || !detail) return html(404, pages.notFound({ csrf }));
  if ('pdf' in result)
    return {
      status: 200,
      headers: {
        'content-type': 'application/pdf',
        'content-disposition': `inline; filename="${result.slug}.pdf"`,
        ...adminHeaders,
        'content-security-policy': "default-src 'none'; frame-ancestors 'self'",
        'x-frame-options': 'SAMEORIGIN',
      },
      body: Buffer.from(result.pdf).toString('base64'),
      isBase64Encoded: true,
    };
  const view = {
    csrf,
    release: detail,
    problems: 'problems' in result ? result.problems : detail.problemList,
  };
  return 'unavailable' in result
    ? html(503, pages.release({ ...view, pdfUnavailable: result.unavailable }))
    : html(422, pages.release(view));
}

/**
 * A preview in its sandboxed frame: the email as a mail client shows it, its text part, or the
 * page; nothing runs.
 */
function framed(
  part: 'email' | 'text' | 'page',
  result: Awaited<ReturnType<typeof previewRelease>>,
  lang: Language,
): PublicResponse {
  if (result && 'problems' in result)
    return withHeaders(
      plain(
        422,
        result.problems
          .map((p) => `${p.field ? `${p.field}: ` : ''}${translateProblem(p.message, lang)}`)
          .join('\n'),
      ),
      { 'content-security-policy': "default-src 'none'; sandbox", 'x-frame-options': 'SAMEORIGIN' },
    );
  if (!result) return withHeaders(plain(404, 'Not found\n'), {});
  if (part === 'text')
    return withHeaders(plain(200, result.preview.email.text), {
      'content-security-policy': "default-src 'none'; sandbox",
      'x-frame-options': 'SAMEORIGIN',
    });
  const policy = part === 'email' ? proofEmailSecurityPolicy : pageContentSecurityPolicy;
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      ...adminHeaders,
      'content-security-policy': `${policy}; sandbox allow-popups allow-popups-to-escape-sandbox`,
      'x-frame-options': 'SAMEORIGIN',
    },
    body: part === 'email' ? result.preview.email.html : result.preview.page,
  };
}

/**
 * The sign-in form and its POST. The form carries an HMAC of a nonce kept in a short-lived
 * cookie (no one can sign someone in from another site), tries are limited per client and in
 * all, and the right token opens a session.
 */
async function signIn(
  request: AdminRequest,
  method: string,
  deps: AdminDeps,
  pages: AdminPages,
  now: Date,
): Promise<PublicResponse> {
  const form = (status: number, error?: string, headers: Record<string, string> = {}) => {
    const nonce = signInNonce();
    return html(
      status,
      pages.signIn({ csrf: csrfToken(deps.keys, 'sign-in', nonce), ...(error && { error }) }),
      {
        'set-cookie': setCookie(cookieNames.signIn, nonce, {
          maxAgeSeconds: signInFormSeconds,
          secure: deps.secureCookies,
        }),
        ...headers,
      },
    );
  };
  // Signing in is the identity provider's (lambdas/handlers/admin.ts answers this path).
  if (deps.identity) return withHeaders(plain(404, 'Not found\n'), {});
  if (method === 'GET' || method === 'HEAD') return form(200);
  if (method !== 'POST') return notAllowed('GET, HEAD, POST');
  const client = request.sourceIp ?? 'unknown';
  const wait = deps.limiter.retryAfter(client, now);
  if (wait > 0) return form(429, pages.t.tooManyTries, { 'retry-after': String(wait) });
  const fields = (await postedForm(request))?.fields;
  const nonce = parseCookies(request.headers.cookie)[cookieNames.signIn];
  if (
    !fields ||
    !nonce ||
    !isSameOrigin(request.headers, request.host) ||
    !isCsrfToken(deps.keys, 'sign-in', nonce, fields.get('csrf') ?? undefined)
  )
    return form(403, pages.t.formExpired);
  // A token holds no spaces: those around a pasted one are not part of it.
  if (!isAdminToken(deps.adminToken, fields.get('token')?.trim())) {
    deps.limiter.failed(client, now);
    return form(401, pages.t.wrongToken);
  }
  const { cookie } = openSession(deps.keys, now);
  return {
    status: 303,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      ...adminHeaders,
      location: `${adminPrefix}/releases`,
      // Two cookies: node:http sends an array as two headers (local-server.ts splits on \n).
      'set-cookie': [
        setCookie(cookieNames.session, cookie, { maxAgeSeconds: sessionSeconds, secure: deps.secureCookies }),
        setCookie(cookieNames.signIn, '', { maxAgeSeconds: 0, secure: deps.secureCookies }),
      ].join('\n'),
    },
    body: `See ${adminPrefix}/releases\n`,
  };
}
