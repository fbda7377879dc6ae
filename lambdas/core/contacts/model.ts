import { createHmac } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { z } from 'zod';

/**
 * Contacts: journalists from press lists and subscribers from forms. A contact is keyed by
 * an id derived from its address with a secret key (HMAC), so that ids, shards, tokens and
 * erased-address suppressions never show an address in clear.
 */

export const listName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a list name is lower-case letters, digits and "-", e.g. "presse"');

/** A validated, normalised address: trimmed, domain in lower case. */
const emailSyntax = z.email();

export function normalizeEmail(raw: string): string | undefined {
  const trimmed = raw.trim().replace(/^mailto:/i, '');
  const at = trimmed.lastIndexOf('@');
  if (at < 1) return undefined;
  const local = trimmed.slice(0, at);
  const domain = trimmed.slice(at + 1).toLowerCase();
  // Internationalised domains (exemple-média.fr) are checked in their ASCII (punycode) form.
  const ascii = domainToASCII(domain);
  if (!ascii || !emailSyntax.safeParse(`${local}@${ascii}`).success) return undefined;
  return `${local}@${domain}`;
}

export interface ListMembership {
  addedAt: string;
  /** Where the address came from: `import:<file>`, `form`, `cli`. */
  source: string;
  /** The person's own confirmed subscription (double opt-in): when asked, when confirmed. */
  consent?: { method: 'double-opt-in'; requestedAt: string; confirmedAt: string };
}

export interface Contact {
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
  organization?: string;
  role?: string;
  language?: string;
  tags: string[];
  lists: Record<string, ListMembership>;
  createdAt: string;
  updatedAt: string;
}

export type SuppressionReason =
  | 'unsubscribed'
  | 'hard-bounce'
  | 'complaint'
  | 'manual'
  | 'erased'
  | 'soft-bounces';

/** Why an address may not be mailed: separate from lists, and stronger than them. */
export interface Suppression {
  id: string;
  /** Absent once the person is erased: only the id remains. */
  email?: string;
  /** Suppressed from every list. */
  all?: { reason: SuppressionReason; at: string };
  /** Unsubscribed from some lists only. */
  lists?: Record<string, { reason: SuppressionReason; at: string }>;
  /** Soft bounces in a row (reset by a delivery); 3 suppress the address. */
  softBounces?: { count: number; lastAt: string };
  /** Events already applied, so that a repeated notification changes nothing. */
  events?: string[];
}

/** Whether a suppression keeps an address off `list`. */
export function isSuppressed(s: Suppression | undefined, list: string): boolean {
  return s !== undefined && (s.all !== undefined || s.lists?.[list] !== undefined);
}

/** Keys derived from the configured secret, each for one purpose. */
export interface ContactKeys {
  /** The contact id of an address: 32 hex characters, the same for any case of the address. */
  idOf(email: string): string;
  /** HMAC key for unsubscribe tokens. */
  tokenKey: Buffer;
}

export function contactKeys(secret: string): ContactKeys {
  const derive = (purpose: string) => createHmac('sha256', secret).update(`pressroom:${purpose}`).digest();
  const idKey = derive('contact-id');
  return {
    idOf: (email) =>
      createHmac('sha256', idKey).update(email.trim().toLowerCase()).digest('hex').slice(0, 32),
    tokenKey: derive('unsubscribe-token'),
  };
}

/** Contacts and suppressions are stored in 256 shards by the first two hex digits of the id. */
export function shardOf(id: string): string {
  return id.slice(0, 2);
}

export const shardNames = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export const contactStoreKeys = {
  contacts: (shard: string) => `contacts/shards/${shard}.json`,
  suppressions: (shard: string) => `suppressions/shards/${shard}.json`,
};
