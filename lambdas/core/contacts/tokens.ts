import { createHmac, timingSafeEqual } from 'node:crypto';
import { PressroomError } from '../errors.ts';
import type { ContactKeys } from './model.ts';

/**
 * Unsubscribe tokens: what a recipient's unsubscribe link carries. The payload names the
 * contact by its id (never the address), the list and the campaign; an HMAC-SHA256 with a
 * key derived from the configured secret makes it impossible to forge or alter.
 */
export interface UnsubscribeToken {
  /** Contact id. */
  contact: string;
  list: string;
  campaign: string;
}

export class InvalidTokenError extends PressroomError {
  override name = 'InvalidTokenError';
}

const version = 'u1';

export function signUnsubscribeToken(keys: ContactKeys, token: UnsubscribeToken): string {
  const payload = Buffer.from(JSON.stringify([token.contact, token.list, token.campaign])).toString(
    'base64url',
  );
  return `${version}.${payload}.${mac(keys, payload)}`;
}

/** The token's content, or InvalidTokenError when it was not signed by us or was changed. */
export function verifyUnsubscribeToken(keys: ContactKeys, token: string): UnsubscribeToken {
  const [v, payload, signature, ...rest] = token.split('.');
  if (v !== version || !payload || !signature || rest.length > 0) {
    throw new InvalidTokenError('this unsubscribe link is not valid (malformed)');
  }
  // Compared as text: base64url decoding ignores the spare bits of the last character, so
  // two different strings could decode to the same bytes.
  const given = Buffer.from(signature, 'utf8');
  const expected = Buffer.from(mac(keys, payload), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new InvalidTokenError('this unsubscribe link is not valid (signature does not match)');
  }
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError('this unsubscribe link is not valid (unreadable)');
  }
  if (!Array.isArray(parts) || parts.length !== 3 || !parts.every((p) => typeof p === 'string')) {
    throw new InvalidTokenError('this unsubscribe link is not valid (unreadable)');
  }
  const [contact, list, campaign] = parts as [string, string, string];
  return { contact, list, campaign };
}

function mac(keys: ContactKeys, payload: string): string {
  return createHmac('sha256', keys.tokenKey).update(`${version}.${payload}`).digest('base64url');
}
