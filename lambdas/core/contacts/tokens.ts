import { createHmac, timingSafeEqual } from 'node:crypto';
import { PressroomError } from '../errors.ts';
import type { ContactKeys } from './model.ts';

/**
 * Signed tokens carried by links: unsubscribe links (`u1.`) and subscription confirmation
 * links (`s1.`). The payload names the contact by its id (never the address); an
 * HMAC-SHA256 with a key derived from the configured secret, over the version and the
 * payload, makes them impossible to forge or alter, and a token of one kind is never valid
 * as the other.
 */
export interface UnsubscribeToken {
  /** Contact id. */
  contact: string;
  /** The list (the first, when the message reached the person through several). */
  list: string;
  /** Every list the message reached the person through, when more than one: unsubscribing leaves them all. */
  lists?: string[];
  campaign: string;
}

export class InvalidTokenError extends PressroomError {
  override name = 'InvalidTokenError';
}

/** A well-signed token whose time is over (confirmation links). */
export class ExpiredTokenError extends InvalidTokenError {
  override name = 'ExpiredTokenError';
}

/** What signing needs of the keys: the contacts' keys, or a key of its own (admin sessions). */
export type TokenKey = Pick<ContactKeys, 'tokenKey'>;

const unsubscribeVersion = 'u1';
const subscriptionVersion = 's1';

/**
 * A signed token of one kind (`version`, e.g. `u1`): the parts as base64url JSON and an
 * HMAC-SHA256 over the kind and the payload. Other modules make their own kinds with it
 * (campaigns/proof.ts); a token of one kind is never valid as another.
 */
export function signToken(keys: TokenKey, version: string, parts: (string | number)[]): string {
  const payload = Buffer.from(JSON.stringify(parts)).toString('base64url');
  return `${version}.${payload}.${mac(keys, version, payload)}`;
}

/** The payload's parts, or InvalidTokenError when it was not signed by us or was changed. */
export function openToken(keys: TokenKey, version: string, token: string, what: string): unknown[] {
  const [v, payload, signature, ...rest] = token.split('.');
  if (v !== version || !payload || !signature || rest.length > 0) {
    throw new InvalidTokenError(`this ${what} link is not valid (malformed)`);
  }
  // Compared as text: base64url decoding ignores the spare bits of the last character, so
  // two different strings could decode to the same bytes.
  const given = Buffer.from(signature, 'utf8');
  const expected = Buffer.from(mac(keys, version, payload), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new InvalidTokenError(`this ${what} link is not valid (signature does not match)`);
  }
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError(`this ${what} link is not valid (unreadable)`);
  }
  if (!Array.isArray(parts)) throw new InvalidTokenError(`this ${what} link is not valid (unreadable)`);
  return parts;
}

export function signUnsubscribeToken(keys: ContactKeys, token: UnsubscribeToken): string {
  // One list stays a string, as tokens always had it: links already mailed keep working.
  const lists = token.lists && token.lists.length > 1 ? token.lists : token.list;
  return signToken(keys, unsubscribeVersion, [token.contact, lists as unknown as string, token.campaign]);
}

/** The token's content, or InvalidTokenError when it was not signed by us or was changed. */
export function verifyUnsubscribeToken(keys: ContactKeys, token: string): UnsubscribeToken {
  const parts = openToken(keys, unsubscribeVersion, token, 'unsubscribe');
  const [contact, lists, campaign] = parts;
  const several =
    Array.isArray(lists) && lists.length > 1 && lists.every((l): l is string => typeof l === 'string');
  if (
    parts.length !== 3 ||
    typeof contact !== 'string' ||
    typeof campaign !== 'string' ||
    !(typeof lists === 'string' || several)
  ) {
    throw new InvalidTokenError('this unsubscribe link is not valid (unreadable)');
  }
  if (typeof lists === 'string') return { contact, list: lists, campaign };
  return { contact, list: lists[0] as string, lists: lists as string[], campaign };
}

/** What a subscription confirmation link carries: who, which list, until when. */
export interface SubscriptionToken {
  /** Contact id. */
  contact: string;
  list: string;
  /** The link works until this time (whole seconds). */
  expiresAt: Date;
}

export function signSubscriptionToken(keys: ContactKeys, token: SubscriptionToken): string {
  return signExpiringToken(keys, subscriptionVersion, [token.contact, token.list], token.expiresAt);
}

/**
 * The token's content; InvalidTokenError when it was not signed by us or was changed,
 * ExpiredTokenError (checked after the signature) when its time is over at `now`.
 */
export function verifySubscriptionToken(keys: ContactKeys, token: string, now: Date): SubscriptionToken {
  const { parts, expiresAt } = openExpiringToken(keys, subscriptionVersion, token, 'confirmation', now);
  const [contact, list] = parts;
  if (parts.length !== 2 || typeof contact !== 'string' || typeof list !== 'string') {
    throw new InvalidTokenError('this confirmation link is not valid (unreadable)');
  }
  return { contact, list, expiresAt };
}

/** A token of one kind that works until `expiresAt` (whole seconds, the last part). */
export function signExpiringToken(
  keys: TokenKey,
  version: string,
  parts: (string | number)[],
  expiresAt: Date,
): string {
  return signToken(keys, version, [...parts, Math.floor(expiresAt.getTime() / 1000)]);
}

/**
 * The parts of an expiring token (its time apart) and until when it works; InvalidTokenError
 * when it was not signed by us or was changed, ExpiredTokenError (checked after the
 * signature) when its time is over at `now`.
 */
export function openExpiringToken(
  keys: TokenKey,
  version: string,
  token: string,
  what: string,
  now: Date,
): { parts: unknown[]; expiresAt: Date } {
  const parts = openToken(keys, version, token, what);
  const expires = parts.at(-1);
  if (!Number.isSafeInteger(expires))
    throw new InvalidTokenError(`this ${what} link is not valid (unreadable)`);
  const expiresAt = new Date((expires as number) * 1000);
  if (now.getTime() >= expiresAt.getTime()) {
    throw new ExpiredTokenError(`this ${what} link expired at ${expiresAt.toISOString()}`);
  }
  return { parts: parts.slice(0, -1), expiresAt };
}

function mac(keys: TokenKey, version: string, payload: string): string {
  return createHmac('sha256', keys.tokenKey).update(`${version}.${payload}`).digest('base64url');
}
