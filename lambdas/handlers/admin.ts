import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import * as z from 'zod';
import { loadAdminTemplates } from '../adapters/admin-files.ts';
import {
  NotOnAwsYetError,
  publishingNotOnAws,
  stackPdfReason,
  storeReleaseSources,
} from '../adapters/store-release-sources.ts';
import { storeSignedOutSessions } from '../adapters/store-signed-out.ts';
import { storeWithdrawals } from '../adapters/store-withdrawals.ts';
import { type AdminDeps, adminPrefix, adminState, handleAdminRequest } from '../core/admin/admin.ts';
import { apiPrefix } from '../core/admin/api.ts';
import {
  adminKeys,
  cookieNames,
  generateAdminToken,
  openSession,
  parseCookies,
  sessionSeconds,
  setCookie,
  signInFormSeconds,
} from '../core/admin/session.ts';
import { InvalidTokenError, openExpiringToken, signExpiringToken } from '../core/contacts/tokens.ts';
import type { PublicResponse } from '../core/public/http.ts';
import { redactPathSegments } from '../core/redact.ts';
import { createReleaseRenderer } from '../core/render/document.ts';
import { adminCampaigns, campaignsForRequest } from './admin-campaigns.ts';
import { adminContacts, contactLists } from './admin-contacts.ts';
import { adminNewsletters } from './admin-newsletters.ts';
import { loadConfig } from './config.ts';
import type { FunctionUrlResponse } from './public.ts';
import { cached, dataStore, logger, startInvocation } from './runtime.ts';
import { publicRequestOf, requestOrigin } from './site-origin.ts';
import { adminTemplatesDir, templateSet } from './templates.ts';

/**
 * The admin function, behind the press room's distribution at `/admin/*` (lib/admin.ts): the
 * core's `handleAdminRequest`, the same as `pressroom serve` answers, with Cognito for who may
 * come in instead of the admin token.
 *
 * - `/admin/sign-in` sends the browser to the user pool's sign-in page (authorization code
 *   with PKCE; the state and the verifier ride in a short signed cookie);
 * - `/admin/auth/callback` takes the code to the pool's token endpoint, verifies the ID token
 *   it gets (aws-jwt-verify: signature by the pool's keys, issuer, audience, expiry, token
 *   use) and opens the core's own session cookie, so CSRF and sign-out are the local ones;
 * - a Cognito ID or access token of the app client as `Authorization: Bearer` is let in too
 *   (the API from a script).
 *
 * The releases are read from `publications/` in the data bucket, and saved and created there as
 * drafts that the publish function leaves alone; publishing writes the file again without the
 * draft mark (the publish function makes the release; 202); withdrawing writes a withdrawal
 * request under publications/withdrawals/ (the publish function withdraws it; 202). Newsletter
 * issues are drafted, saved and published the same way (admin-newsletters.ts). Sign-outs are
 * kept in the bucket, so that every instance refuses a session ended on another
 * (store-signed-out.ts). Requests that do not come through CloudFront (its origin secret) are
 * refused: the cookies and the Origin check are the press room's domain's.
 */

const adminSecretSchema = z.object({
  clientId: z.string().min(1),
  sessionKey: z.string().min(32),
  /** The campaigns section's dispatch function (lib/admin-campaigns.ts): not in the environment. */
  dispatchFunctionArn: z.string().optional(),
});

/** The paths Cognito's side of signing in uses. */
export const authPaths = { signIn: `${adminPrefix}/sign-in`, callback: `${adminPrefix}/auth/callback` };

/** The state cookie's token kind (session.ts's sessions are `a1`). */
const stateKind = 'a2';

const context = cached(async () => {
  const config = loadConfig([
    'bucket',
    'siteLang',
    'templatesDir',
    'originSecretArn',
    'adminUserPoolId',
    'adminAuthUrl',
    'adminSecretName',
  ]);
  const { clientId, sessionKey, dispatchFunctionArn } = await adminSecret(config.adminSecretName);
  // The press room's address is given with a custom domain only (CloudFront's own is made
  // after the function): otherwise the host the request came to, the press room's.
  const siteUrl = process.env.PRESSROOM_SITE_URL ? loadConfig(['siteUrl']).siteUrl : undefined;
  const store = dataStore(config.bucket);
  const templates = await templateSet(config.templatesDir);
  const sources = storeReleaseSources(store);
  // The pool's keys, fetched with fetch() (kept by the cache; a new kid fetches them again).
  const jwksCache = new SimpleJwksCache({
    fetcher: {
      async fetch(uri) {
        const response = await fetch(uri);
        if (!response.ok) throw new Error(`${uri} answered ${response.status}`);
        return response.arrayBuffer();
      },
    },
  });
  const verifier = (tokenUse: 'id' | 'access' | null) =>
    CognitoJwtVerifier.create({ userPoolId: config.adminUserPoolId, clientId, tokenUse }, { jwksCache });
  const anyToken = verifier(null);
  const deps: AdminDeps = {
    // Never used with an identity (no token form, Bearer asked of Cognito); random all the same.
    adminToken: generateAdminToken(),
    identity: {
      async bearer(token) {
        try {
          await anyToken.verify(token);
          return true;
        } catch {
          return false;
        }
      },
      hint: `sign in first: at ${authPaths.signIn} in a browser, or send a Cognito ID or access token of the admin's app client as Authorization: Bearer <token>`,
    },
    keys: sessionKeys(clientId, sessionKey),
    templates: await loadAdminTemplates(adminTemplatesDir(config.templatesDir)),
    releases: {
      sources,
      handOver: (file) => sources.handOver(file),
      renderer: createReleaseRenderer(templates),
      sampleRecipient: templates.sampleRecipient,
      store,
      siteUrl: siteUrl ?? '',
      publishing: publishingNotOnAws(),
      noPdfReason: stackPdfReason,
      ...(await adminCampaigns(store, {
        lang: config.siteLang,
        templatesDir: config.templatesDir,
        dispatchFunctionArn,
      })),
      handOverWithdrawal: storeWithdrawals(store),
      newsletters: await adminNewsletters({ drafts: sources.drafts, templates, ...config }),
    },
    contacts: await adminContacts(store),
    lang: config.siteLang,
    secureCookies: true,
    ...adminState(),
    signedOut: storeSignedOutSessions(store),
    now: () => new Date(),
  };
  return {
    deps,
    secretName: config.adminSecretName,
    siteUrl,
    clientId,
    authUrl: config.adminAuthUrl,
    idTokens: verifier('id'),
    originSecret:
      config.originSecretArn === undefined
        ? undefined
        : String(await getSecret(config.originSecretArn, { maxAge: 3600 })),
  };
});

type AdminContext = Awaited<ReturnType<typeof context>>;

/** How long the admin's secret is kept: a new sessionKey ends every session within this. */
const secretMaxAgeSeconds = 300;

/** The admin's secret, `{ clientId, sessionKey }` (Powertools keeps it `secretMaxAgeSeconds`). */
async function adminSecret(name: string): Promise<z.infer<typeof adminSecretSchema>> {
  const raw = String(await getSecret(name, { maxAge: secretMaxAgeSeconds }));
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    // JSON.parse's message quotes the text: never a secret's in a log.
  }
  const parsed = adminSecretSchema.safeParse(value);
  if (!parsed.success)
    throw new Error(
      `the admin secret ${name} must be JSON with "clientId" and a "sessionKey" of 32 characters or more (value not shown: it is a secret)`,
    );
  return parsed.data;
}

/** Sessions end when the app client changes (a new stack) or the session key does: both are in their keys. */
function sessionKeys(clientId: string, sessionKey: string) {
  return adminKeys(`cognito:${clientId}`, sessionKey);
}

const noStore = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

function text(status: number, body: string, headers: Record<string, string> = {}): PublicResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...noStore, ...headers }, body };
}

/** The S256 challenge of a PKCE verifier (RFC 7636). */
function challengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** `/admin/sign-in`: to the user pool's sign-in page, with a state and a PKCE challenge kept in a signed cookie. */
function signIn(c: AdminContext, host: string, now: Date): PublicResponse {
  const state = randomBytes(16).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  const cookie = signExpiringToken(
    c.deps.keys,
    stateKind,
    [state, verifier],
    new Date(now.getTime() + signInFormSeconds * 1000),
  );
  const authorize = new URL(`${c.authUrl}/oauth2/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: c.clientId,
    redirect_uri: `https://${host}${authPaths.callback}`,
    scope: 'openid email',
    state,
    code_challenge: challengeOf(verifier),
    code_challenge_method: 'S256',
  }).toString();
  return text(303, `See ${authorize}\n`, {
    location: authorize.toString(),
    'set-cookie': setCookie(cookieNames.signIn, cookie, { maxAgeSeconds: signInFormSeconds, ...stateCookie }),
  });
}

/**
 * The sign-in state's cookie comes back on Cognito's redirect to the callback, a navigation
 * from another site (`*.amazoncognito.com`): a browser sends a SameSite=Strict cookie on none,
 * a Lax one on a top-level GET. So it is Lax, and sent to the callback only.
 */
const stateCookie = { secure: true, sameSite: 'Lax', path: authPaths.callback } as const;

/** Why a callback is refused: said to the person, with what to do. */
function refused(why: string): PublicResponse {
  return text(401, `Sign-in failed: ${why}. Sign in again at ${authPaths.signIn}\n`, {
    'set-cookie': setCookie(cookieNames.signIn, '', { maxAgeSeconds: 0, ...stateCookie }),
  });
}

/**
 * `/admin/auth/callback?code=…&state=…`: the code for tokens at the pool's token endpoint, the
 * ID token verified, then the core's session cookie.
 */
async function callback(
  c: AdminContext,
  query: Readonly<Record<string, string | undefined>>,
  cookieHeader: string | undefined,
  host: string,
  now: Date,
): Promise<PublicResponse> {
  if (query.error) return refused(`the sign-in page answered "${query.error}"`);
  const given = parseCookies(cookieHeader)[cookieNames.signIn];
  let state: unknown;
  let verifier: unknown;
  try {
    if (!given) throw new InvalidTokenError('no sign-in under way');
    [state, verifier] = openExpiringToken(c.deps.keys, stateKind, given, 'sign-in', now).parts;
  } catch (error) {
    if (error instanceof InvalidTokenError)
      return refused('this sign-in was not started here, or took too long');
    throw error;
  }
  const [a, b] = [Buffer.from(String(state)), Buffer.from(query.state ?? '')];
  if (a.length !== b.length || !timingSafeEqual(a, b)) return refused('the sign-in state does not match');
  if (!query.code) return refused('the sign-in page gave no code');
  const response = await fetch(`${c.authUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: c.clientId,
      code: query.code,
      redirect_uri: `https://${host}${authPaths.callback}`,
      code_verifier: String(verifier),
    }).toString(),
  });
  const tokens = z.object({ id_token: z.string() }).safeParse(await response.json().catch(() => undefined));
  if (!response.ok || !tokens.success) return refused(`the token endpoint answered ${response.status}`);
  try {
    await c.idTokens.verify(tokens.data.id_token);
  } catch (error) {
    // The reason only (a signature, an audience, a time): never the token or who it names.
    logger.warn('admin sign-in refused: the ID token did not verify', { reason: (error as Error).name });
    return refused('the identity token could not be verified');
  }
  const { cookie } = openSession(c.deps.keys, now);
  // A page of ours, not a redirect: this answer ends a navigation that started on Cognito's
  // site, and a browser would not send the new (SameSite=Strict) session cookie on a redirect
  // chained to it. The page's own navigation to the admin is same-site, so it does.
  return continuePage(`${adminPrefix}/releases`, 'Signed in: continue to the admin', {
    // Two cookies: the Function URL answer carries them apart (cookiesOf).
    'set-cookie': [
      setCookie(cookieNames.session, cookie, { maxAgeSeconds: sessionSeconds, secure: true }),
      setCookie(cookieNames.signIn, '', { maxAgeSeconds: 0, ...stateCookie }),
    ].join('\n'),
  });
}

/**
 * A small page of ours that goes on to `to` by itself (meta refresh, and a link), where a
 * redirect would not do: after the callback (see there), and after signing out, whose form's
 * redirect to Cognito's logout a browser blocks (the admin's `form-action 'self'` governs the
 * redirects of a form's submission too).
 */
function continuePage(to: string, label: string, headers: Record<string, string>): PublicResponse {
  const href = to.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return {
    status: 200,
    headers: {
      ...headers,
      'content-type': 'text/html; charset=utf-8',
      ...noStore,
      'content-security-policy': "default-src 'none'",
    },
    body: `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${href}"><title>pressroom admin</title></head>\n<body><p><a href="${href}">${label}</a></p></body></html>\n`,
  };
}

/**
 * The core ended the admin's session (its cookie cleared): Cognito's too, at the pool's logout
 * endpoint, which comes back to the sign-in (the app client's logout URL). Otherwise the
 * sign-in page would sign the person in again without asking.
 */
function signedOut(c: AdminContext, response: PublicResponse, host: string): PublicResponse {
  const logout = new URL(`${c.authUrl}/logout`);
  logout.search = new URLSearchParams({
    client_id: c.clientId,
    logout_uri: `https://${host}${authPaths.signIn}`,
  }).toString();
  const { location: _, ...headers } = response.headers;
  return continuePage(logout.toString(), 'Signed out: continue to the sign-in page', headers);
}

/** The core's answer as a Function URL response: several Set-Cookie values go in `cookies`. */
function functionUrlResponse(response: PublicResponse): FunctionUrlResponse {
  const { 'set-cookie': setCookies, ...headers } = response.headers;
  return {
    statusCode: response.status,
    headers,
    ...(setCookies !== undefined && { cookies: setCookies.split('\n') }),
    body: response.body,
    ...(response.isBase64Encoded && { isBase64Encoded: true }),
  };
}

/** The Lambda entry point: a Function URL request through CloudFront's `/admin/*`. */
export async function handler(
  event: LambdaFunctionURLEvent,
  lambdaContext?: Context,
): Promise<FunctionUrlResponse> {
  startInvocation(lambdaContext);
  const started = performance.now();
  const made = await context();
  // The session key as the secret has it now (a new one ends every session).
  const c = {
    ...made,
    deps: {
      ...made.deps,
      keys: sessionKeys(made.clientId, (await adminSecret(made.secretName)).sessionKey),
    },
  };
  const origin = requestOrigin(event, c.originSecret);
  const base = publicRequestOf(event);
  // Function URLs put the cookies apart.
  const cookie = event.cookies?.length ? { cookie: event.cookies.join('; ') } : {};
  const request = { ...base, headers: { ...base.headers, ...cookie }, sourceIp: origin.sourceIp };
  const now = c.deps.now();
  let response: PublicResponse;
  try {
    if (!origin.viaSite)
      response = text(
        403,
        "The admin answers at the press room's address only: https://<press room>/admin/\n",
      );
    else if (request.path === authPaths.signIn) response = signIn(c, origin.host, now);
    else if (request.path === authPaths.callback)
      response = await callback(c, request.query ?? {}, request.headers.cookie, origin.host, now);
    else {
      const siteUrl = c.siteUrl ?? `https://${origin.host}/`;
      // Proof links start with the press room's address, as `proof --backend aws` makes them.
      const releases = {
        ...c.deps.releases,
        siteUrl,
        ...(await campaignsForRequest(c.deps.releases.campaigns, siteUrl)),
      };
      // The lists of config/lists.yaml as they are now (kept a minute), for imports.
      const contacts = c.deps.contacts && {
        ...c.deps.contacts,
        lists: await contactLists(c.deps.contacts.store, c.deps.lang),
      };
      response = await handleAdminRequest(
        { ...request, host: origin.host },
        { ...c.deps, releases, ...(contacts && { contacts }) },
      );
      if (request.path === `${adminPrefix}/sign-out` && response.status === 303)
        response = signedOut(c, response, origin.host);
    }
  } catch (error) {
    if (!(error instanceof NotOnAwsYetError)) {
      logger.error('admin request failed', { error: error as Error });
      response = text(500, 'Internal error\n');
    } else if (request.path.startsWith(`${apiPrefix}/`)) {
      response = {
        status: 501,
        headers: { 'content-type': 'application/json', ...noStore },
        body: JSON.stringify({ error: error.message }),
      };
    } else response = text(501, `${error.message}\n`);
  }
  // The route and the status only: never a slug's query, a token or who asked.
  logger.info('admin request', {
    method: request.method,
    route: redactPathSegments(request.path.split('/').slice(0, 4).join('/')),
    status: response.status,
    ms: Math.round(performance.now() - started),
  });
  return functionUrlResponse(response);
}
