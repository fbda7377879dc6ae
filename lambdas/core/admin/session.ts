import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  InvalidTokenError,
  openExpiringToken,
  signExpiringToken,
  type TokenKey,
} from '../contacts/tokens.ts';

/**
 * Who may use the admin, locally: whoever holds the admin token (PRESSROOM_ADMIN_TOKEN, or
 * one `pressroom serve` makes at start and prints). It is sent as `Authorization: Bearer`,
 * or given once at the sign-in form for a session cookie: signed with a key derived from the
 * token and the store's secret (a new token ends every session), expiring, HttpOnly,
 * SameSite=Strict, Secure when the server is reached through https. Requests that change
 * something under a session carry a CSRF token bound to that session and come from our own
 * origin. Nothing here knows HTTP frameworks: admin.ts answers requests with it.
 */

/** How long a session lasts: a working day. */
export const sessionSeconds = 8 * 3600;
/** How long a sign-in form may be submitted. */
export const signInFormSeconds = 15 * 60;

export const cookieNames = { session: 'pressroom_admin', signIn: 'pressroom_admin_sign_in' } as const;

/** The shortest admin token accepted (PRESSROOM_ADMIN_TOKEN). */
export const minimumAdminTokenLength = 32;

const sessionKind = 'a1';

/** A new admin token: 32 random bytes, base64url (43 characters). */
export function generateAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Whether `given` is the admin token, in constant time: both are hashed first, so neither
 * their content nor their length shows in how long the comparison takes.
 */
export function isAdminToken(adminToken: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(adminToken).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** The admin's keys: sessions, CSRF tokens and sign-in forms, all derived from the token and the secret. */
export interface AdminKeys extends TokenKey {
  csrfKey: Buffer;
}

export function adminKeys(adminToken: string, secret: string): AdminKeys {
  const base = createHmac('sha256', secret).update(`pressroom:admin:${adminToken}`).digest();
  const derive = (purpose: string) => createHmac('sha256', base).update(purpose).digest();
  return { tokenKey: derive('session'), csrfKey: derive('csrf') };
}

/** A signed-in session: its id, and when it ends. */
export interface AdminSession {
  id: string;
  expiresAt: Date;
}

/** A new session's cookie value and its id. */
export function openSession(keys: AdminKeys, now: Date): { cookie: string; session: AdminSession } {
  const id = randomBytes(16).toString('base64url');
  const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + sessionSeconds * 1000);
  return { cookie: signExpiringToken(keys, sessionKind, [id], expiresAt), session: { id, expiresAt } };
}

/** The session a cookie holds, or undefined when it is absent, forged, changed or expired. */
export function readSession(
  keys: AdminKeys,
  cookie: string | undefined,
  now: Date,
): AdminSession | undefined {
  if (!cookie) return undefined;
  try {
    const { parts, expiresAt } = openExpiringToken(keys, sessionKind, cookie, 'admin session', now);
    const [id] = parts;
    if (parts.length !== 1 || typeof id !== 'string') return undefined;
    return { id, expiresAt };
  } catch (error) {
    if (error instanceof InvalidTokenError) return undefined;
    throw error;
  }
}

/**
 * The CSRF token of a session (or of a sign-in form's nonce): an HMAC of its id, so a page of
 * another site, which cannot read our pages, cannot know it.
 */
export function csrfToken(keys: AdminKeys, purpose: 'session' | 'sign-in', id: string): string {
  return createHmac('sha256', keys.csrfKey).update(`${purpose}:${id}`).digest('base64url');
}

/** Whether `given` is the CSRF token of that session or form, in constant time. */
export function isCsrfToken(
  keys: AdminKeys,
  purpose: 'session' | 'sign-in',
  id: string,
  given: string | undefined,
): boolean {
  if (given === undefined) return false;
  const expected = Buffer.from(csrfToken(keys, purpose, id));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A nonce for a sign-in form (kept in a short-lived cookie, its HMAC in the form). */
export function signInNonce(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Whether a request that changes something comes from our own pages: its `Origin` (browsers
 * send it with every POST) names the host the request was sent to, and Fetch Metadata, when
 * present, says same-origin. A client that sends neither (curl, a script) is let through:
 * it still needs the token or a session and its CSRF token.
 */
export function isSameOrigin(headers: Readonly<Record<string, string | undefined>>, host: string): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The sessions that signed out before their time, refused until then: asked on each signed-in
 * request. In memory for `pressroom serve` (one process); on the stack, where each Lambda
 * instance has its own memory, in the data bucket (store-signed-out.ts).
 */
export interface SignedOutStore {
  end(session: AdminSession): Promise<void>;
  has(session: AdminSession, now: Date): Promise<boolean>;
}

/** The session's ids that signed out before their time, in this process's memory. */
export class SignedOutSessions implements SignedOutStore {
  readonly #ended = new Map<string, number>();

  async end(session: AdminSession): Promise<void> {
    this.#ended.set(session.id, session.expiresAt.getTime());
  }

  async has(session: AdminSession, now: Date): Promise<boolean> {
    for (const [id, until] of this.#ended) if (until <= now.getTime()) this.#ended.delete(id);
    return this.#ended.has(session.id);
  }
}

/** Failed sign-ins allowed per client in a window, and in all. */
export interface SignInLimits {
  perClient: number;
  overall: number;
  windowSeconds: number;
}

export const defaultSignInLimits: SignInLimits = { perClient: 5, overall: 50, windowSeconds: 15 * 60 };

/**
 * Failed sign-ins, counted per client and in all, in fixed windows: past the limit, sign-in
 * waits for the window's end, right token or not (guessing a 43-character token is hopeless;
 * this keeps logs and CPU quiet too). In memory: the local server is one process.
 */
export class SignInLimiter {
  readonly #failures = new Map<string, { count: number; until: number }>();

  constructor(readonly limits: SignInLimits = defaultSignInLimits) {}

  /** Seconds to wait before trying again, or 0 when a try is allowed now. */
  retryAfter(client: string, now: Date): number {
    const wait = (key: string, limit: number) => {
      const entry = this.#failures.get(key);
      if (!entry || entry.until <= now.getTime()) return 0;
      return entry.count >= limit ? Math.ceil((entry.until - now.getTime()) / 1000) : 0;
    };
    return Math.max(wait(`client:${client}`, this.limits.perClient), wait('all', this.limits.overall));
  }

  failed(client: string, now: Date): void {
    for (const key of [`client:${client}`, 'all']) {
      const entry = this.#failures.get(key);
      if (!entry || entry.until <= now.getTime())
        this.#failures.set(key, { count: 1, until: now.getTime() + this.limits.windowSeconds * 1000 });
      else entry.count += 1;
    }
    // Spent windows go: the map never holds more than the clients of one window.
    for (const [key, entry] of this.#failures) if (entry.until <= now.getTime()) this.#failures.delete(key);
  }
}

/** The cookies of a `Cookie` header, by name (the first of a name wins). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !(name in cookies)) cookies[name] = part.slice(eq + 1).trim();
  }
  return cookies;
}

/** A `Set-Cookie` value of the admin's: HttpOnly, SameSite=Strict, under /admin, Secure over https. */
export function setCookie(
  name: string,
  value: string,
  options: {
    maxAgeSeconds: number;
    secure: boolean;
    /** Lax only for a cookie that must come back from another site's redirect (a sign-in provider's). */
    sameSite?: 'Strict' | 'Lax';
    path?: string;
  },
): string {
  return [
    `${name}=${value}`,
    `Path=${options.path ?? '/admin'}`,
    `Max-Age=${options.maxAgeSeconds}`,
    'HttpOnly',
    `SameSite=${options.sameSite ?? 'Strict'}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
