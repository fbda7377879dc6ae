/**
 * Subscription confirmation tokens (`s1.`): signed like unsubscribe tokens, with an expiry
 * checked after the signature; and the unsubscribe tokens (`u1.`) left as they were.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import {
  ExpiredTokenError,
  InvalidTokenError,
  signSubscriptionToken,
  signUnsubscribeToken,
  verifySubscriptionToken,
  verifyUnsubscribeToken,
} from '../../lambdas/core/contacts/tokens.ts';

const keys = contactKeys('a-secret-of-at-least-thirty-two-characters');
const contact = keys.idOf('jeanne.martin@example.org');
const issued = new Date('2026-03-01T10:00:00Z');
const expiresAt = new Date(issued.getTime() + 48 * 3600_000);
const token = signSubscriptionToken(keys, { contact, list: 'lettre', expiresAt });
const parts = token.split('.') as [string, string, string];
const payload = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
const flip = (text: string, at: number) =>
  text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);

function refusal(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the token to be refused');
}

describe('subscription tokens', () => {
  it('carry the contact id, the list and the expiry, and never the address', () => {
    expect(token).toMatch(/^s1\.[\w-]+\.[\w-]{43}$/);
    expect(verifySubscriptionToken(keys, token, issued)).toEqual({ contact, list: 'lettre', expiresAt });
    expect(Buffer.from(parts[1], 'base64url').toString()).not.toContain('@');
  });

  it('work until one second before their expiry, and not from it on', () => {
    const lastSecond = new Date(expiresAt.getTime() - 1000);
    expect(verifySubscriptionToken(keys, token, lastSecond).list).toBe('lettre');
    for (const at of [expiresAt, new Date(expiresAt.getTime() + 3600_000)]) {
      const error = refusal(() => verifySubscriptionToken(keys, token, at));
      expect(error).toBeInstanceOf(ExpiredTokenError);
      expect(error.message).toContain(expiresAt.toISOString());
    }
  });

  it('refuse any change: payload, signature, version, another secret, extra parts', () => {
    const [contactId, list, expiry] = JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as [
      string,
      string,
      number,
    ];
    const forger = contactKeys('not-the-secret-of-this-server-0123456789');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = parts[2].at(-1) as string;
    const bad: Record<string, string> = {
      'expiry pushed a year later': `s1.${payload([contactId, list, expiry + 365 * 86400])}.${parts[2]}`,
      'another list': `s1.${payload([contactId, 'presse', expiry])}.${parts[2]}`,
      'another contact': `s1.${payload(['0'.repeat(32), list, expiry])}.${parts[2]}`,
      'signature flipped': `s1.${parts[1]}.${flip(parts[2], 7)}`,
      // base64url ignores the spare bits of the last character: compared as text, not bytes.
      'last character changed to its neighbour': `s1.${parts[1]}.${parts[2].slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`,
      'signed with another secret': signSubscriptionToken(forger, { contact, list: 'lettre', expiresAt }),
      'an unsubscribe version': `u1.${parts[1]}.${parts[2]}`,
      'an extra part': `${token}.x`,
      'no signature': `s1.${parts[1]}`,
      'not a token': 'hello',
      empty: '',
    };
    for (const [what, forged] of Object.entries(bad)) {
      const error = refusal(() => verifySubscriptionToken(keys, forged, issued));
      expect(error, what).toBeInstanceOf(InvalidTokenError);
      expect(error, what).not.toBeInstanceOf(ExpiredTokenError);
    }
  });

  it('check the signature before the expiry: a forged expired token is invalid, not expired', () => {
    const forger = contactKeys('not-the-secret-of-this-server-0123456789');
    const old = signSubscriptionToken(forger, { contact, list: 'lettre', expiresAt: issued });
    const error = refusal(() => verifySubscriptionToken(keys, old, expiresAt));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).not.toBeInstanceOf(ExpiredTokenError);
  });

  it('refuse well-signed payloads of the wrong shape', () => {
    const signed = (values: unknown[]) => {
      const p = payload(values);
      const mac = createHmac('sha256', keys.tokenKey).update(`s1.${p}`).digest('base64url');
      return `s1.${p}.${mac}`;
    };
    // The signing scheme itself: a payload signed as above is accepted...
    expect(verifySubscriptionToken(keys, signed([contact, 'lettre', 1_900_000_000]), issued).list).toBe(
      'lettre',
    );
    // ...and these, signed the same way, are not.
    for (const values of [
      [contact, 'lettre'],
      [contact, 'lettre', '1900000000'],
      [contact, 7, 1],
      [1.5, 'x', 1],
    ]) {
      expect(refusal(() => verifySubscriptionToken(keys, signed(values), issued))).toBeInstanceOf(
        InvalidTokenError,
      );
    }
  });

  it('are not unsubscribe tokens, and unsubscribe tokens are not them', () => {
    const unsubscribe = signUnsubscribeToken(keys, { contact, list: 'lettre', campaign: 'c' });
    expect(refusal(() => verifySubscriptionToken(keys, unsubscribe, issued))).toBeInstanceOf(
      InvalidTokenError,
    );
    expect(refusal(() => verifyUnsubscribeToken(keys, token))).toBeInstanceOf(InvalidTokenError);
  });
});

describe('unsubscribe tokens (unchanged)', () => {
  it('keep their format: links already mailed keep working', () => {
    // A token as the previous code signed it: HMAC-SHA256 over "u1.<payload>".
    const p = payload([contact, 'presse', 'etude-2021-presse']);
    const mac = createHmac('sha256', keys.tokenKey).update(`u1.${p}`).digest('base64url');
    expect(verifyUnsubscribeToken(keys, `u1.${p}.${mac}`)).toEqual({
      contact,
      list: 'presse',
      campaign: 'etude-2021-presse',
    });
    expect(signUnsubscribeToken(keys, { contact, list: 'presse', campaign: 'etude-2021-presse' })).toBe(
      `u1.${p}.${mac}`,
    );
  });
});
