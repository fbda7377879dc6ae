import { createHmac } from 'node:crypto';
import { domainToASCII, domainToUnicode } from 'node:url';
import * as z from 'zod';
import type { AlertSubscription } from '../alerts/topics.ts';
import { limits } from '../limits.ts';

/**
 * Contacts: journalists from press lists and subscribers from forms. A contact is keyed by
 * an id derived from its address with a secret key (HMAC), so that ids, shards, tokens and
 * erased-address suppressions never show an address in clear.
 */

export const listName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a list name is lower-case letters, digits and "-", e.g. "presse"');

/** The syntax `z.email()` checks, tested directly: an import tests it once per row. */
const emailSyntax = z.regexes.email;

/**
 * A domain's ASCII (punycode) form, remembered: a press list has thousands of rows per
 * domain, and IDNA is the dearest step of reading an address. Forgotten past 10,000 domains.
 */
const asciiDomains = new Map<string, string>();
function asciiDomain(domain: string): string {
  let ascii = asciiDomains.get(domain);
  if (ascii === undefined) {
    ascii = domainToASCII(domain);
    if (asciiDomains.size >= 10_000) asciiDomains.clear();
    asciiDomains.set(domain, ascii);
  }
  return ascii;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
const asciiOnly = /^[\u0000-\u007f]*$/;

/**
 * An address as the user wrote it, checked: trimmed, `mailto:` taken off, the domain in lower
 * case (in Unicode or ASCII, as written). This is what is shown and what messages are sent
 * to; identity uses {@link canonicalAddress}. Undefined when it is not an address pressroom
 * can mail: a local part of ASCII letters, digits and `. _ ' + -` (most providers, SES among
 * them, do not deliver to others), a domain with a dot, at most 254 characters.
 */
export function normalizeEmail(raw: string): string | undefined {
  const trimmed = raw.trim().replace(/^mailto:/i, '');
  if (trimmed.length > limits.email) return undefined;
  const at = trimmed.lastIndexOf('@');
  if (at < 1) return undefined;
  const local = trimmed.slice(0, at);
  const domain = trimmed.slice(at + 1).toLowerCase();
  // Internationalised domains (exemple-média.fr) are checked in their ASCII (punycode) form.
  const ascii = asciiDomain(domain);
  const address = `${local}@${domain}`;
  if (!ascii || !emailSyntax.test(ascii === domain ? address : `${local}@${ascii}`)) return undefined;
  return address;
}

/**
 * The one form of an address that identity, suppressions and unsubscribes use: one mailbox,
 * one form. The domain in ASCII (IDNA: `exämple.fr` and its decomposed spelling both become
 * `xn--exmple-cua.fr`) and lower case; the local part in Unicode NFC and lower case (mail
 * providers treat case as the same mailbox, and ids have always been made from the address
 * in lower case, so every ASCII address keeps its id); spaces around and `mailto:` taken off.
 * The address as written is kept for display ({@link normalizeEmail}).
 */
export function canonicalAddress(email: string): string {
  const trimmed = email.trim().replace(/^mailto:/i, '');
  const at = trimmed.lastIndexOf('@');
  const written = at < 0 ? trimmed : trimmed.slice(0, at);
  // ASCII needs no normalisation (most addresses: the quick path).
  const local = asciiOnly.test(written)
    ? written.toLowerCase()
    : written.normalize('NFC').toLowerCase().normalize('NFC');
  if (at < 0) return local;
  const domain = trimmed.slice(at + 1).normalize('NFC');
  return `${local}@${(asciiDomain(domain) || domain).toLowerCase()}`;
}

/**
 * Whether a contact stored before canonical addresses (ids made from the address in lower
 * case, as written) has an id other than its canonical one: an internationalised domain
 * written in Unicode, or decomposed accents. Needs no key: two ids differ exactly when the
 * texts they were made from differ. Only meaningful for contacts written by older versions.
 */
export function hadOlderId(email: string): boolean {
  // ASCII addresses always had their canonical id: the quick test first.
  if (asciiOnly.test(email)) return false;
  return email.trim().toLowerCase() !== canonicalAddress(email);
}

export interface ListMembership {
  addedAt: string;
  /** Where the address came from: `import:<file>`, `form`, `cli`. */
  source: string;
  /** The person's own confirmed subscription (double opt-in): when asked, when confirmed. */
  consent?: { method: 'double-opt-in'; requestedAt: string; confirmedAt: string };
  /**
   * On an alert list (a list with topics): the topics the person confirmed, with their last
   * subscription. Only these release tags are mailed to them (alerts/topics.ts).
   */
  alerts?: AlertSubscription;
}

export interface Contact {
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
  organization?: string;
  /** The media outlet a journalist writes for ("Média" in a French press list). */
  outlet?: string;
  role?: string;
  /** The topics a journalist covers ("Rubrique"), as written; matched case- and accent-blind. */
  beats?: string[];
  /** A BCP 47 tag (`fr`, `fr-BE`), checked on import (profile.ts). */
  language?: string;
  phone?: string;
  notes?: string;
  /**
   * The press officer's decision not to mail this person: left out of every audience. Set by
   * an import or `contacts set`; only `contacts set --no-do-not-contact` lifts it.
   */
  doNotContact?: { at: string; source: string };
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
  /**
   * This id was a contact's before `contacts merge` gave it its canonical id: links mailed
   * earlier carry it, and an unsubscribe through them applies to the canonical id.
   */
  mergedInto?: string;
}

/** Whether a suppression keeps an address off `list`. */
export function isSuppressed(s: Suppression | undefined, list: string): boolean {
  return s !== undefined && (s.all !== undefined || s.lists?.[list] !== undefined);
}

/** Keys derived from the configured secret, each for one purpose. */
export interface ContactKeys {
  /**
   * The contact id of an address: 32 hex characters, made from its canonical form, so the
   * same for every spelling of one mailbox (case, IDN in Unicode or ASCII, NFC or NFD).
   */
  idOf(email: string): string;
  /**
   * The ids older versions may have given to this mailbox (made from the address in lower
   * case as written: its domain in Unicode or ASCII, its accents composed or not), other than
   * its id now. `contacts merge` looks for suppressions under them.
   */
  olderIdsOf(email: string): string[];
  /** HMAC key for unsubscribe tokens. */
  tokenKey: Buffer;
}

export function contactKeys(secret: string): ContactKeys {
  const derive = (purpose: string) => createHmac('sha256', secret).update(`pressroom:${purpose}`).digest();
  const idKey = derive('contact-id');
  // The first 16 bytes in hex. The digest as hex text, then sliced: about a third cheaper than
  // a Buffer made of it and turned into text (an import makes one id a row); the slice keeps the
  // 64 characters alive while the id is held, a few dozen bytes. node:crypto's HMAC, on purpose:
  // a hand-written SHA-256 was faster per row (1.2 µs against a few), but a signing primitive is
  // not code to keep ourselves.
  const id = (text: string) => createHmac('sha256', idKey).update(text).digest('hex').slice(0, 32);
  return {
    idOf: (email) => id(canonicalAddress(email)),
    olderIdsOf(email) {
      const canonical = canonicalAddress(email);
      const at = canonical.lastIndexOf('@');
      if (at < 0) return [];
      const local = canonical.slice(0, at);
      const ascii = canonical.slice(at + 1);
      const unicode = domainToUnicode(ascii) || ascii;
      const spellings = new Set<string>();
      for (const l of [local, local.normalize('NFD')])
        for (const d of [ascii, unicode, unicode.normalize('NFD')]) spellings.add(`${l}@${d}`);
      spellings.delete(canonical);
      return [...spellings].map(id);
    },
    tokenKey: derive('unsubscribe-token'),
  };
}

/** Contacts and suppressions are stored in 256 shards by the first two hex digits of the id. */
export function shardOf(id: string): string {
  return id.slice(0, 2);
}

export const shardNames = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export const contactStoreKeys = {
  /** Names the object that holds each contact shard (see repository.ts). */
  index: 'contacts/index.json',
  /** One version of a contact shard: written once, never changed, removed once replaced. */
  contactShard: (shard: string, tag: string) => `contacts/shards/${shard}-${tag}.json`,
  /** Where versions before the index kept a contact shard; read until the index replaces it. */
  legacyContacts: (shard: string) => `contacts/shards/${shard}.json`,
  suppressions: (shard: string) => `suppressions/shards/${shard}.json`,
  /** Where an import running keeps rows past its memory budget (import-staging.ts). */
  staging: (run: string, shard: string, part: string) => `contacts/staging/${run}/${shard}-${part}.txt`,
};
