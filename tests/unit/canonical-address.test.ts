import { describe, expect, it } from 'vitest';
import { canonicalAddress, hadOlderId, normalizeEmail } from '../../lambdas/core/contacts/model.ts';
import { contactsKeys, olderId } from '../support/contacts.ts';

const keys = contactsKeys;

const nfc = 'jose@exämple.fr';
const nfd = 'jose@exa\u0308mple.fr';
const ascii = 'jose@xn--exmple-cua.fr';

describe('canonicalAddress', () => {
  it('writes an internationalised domain in ASCII, whichever form it comes in', () => {
    expect(nfd).not.toBe(nfc);
    for (const form of [nfc, nfd, ascii, 'JOSE@EXÄMPLE.FR', 'Jose@XN--EXMPLE-CUA.FR'])
      expect(canonicalAddress(form)).toBe(ascii);
    expect(canonicalAddress('presse@例え.jp')).toBe('presse@xn--r8jz45g.jp');
  });

  it('puts the local part in NFC and lower case', () => {
    expect(canonicalAddress('Jose\u0301@example.fr')).toBe('josé@example.fr');
    expect(canonicalAddress('JOSÉ@example.fr')).toBe('josé@example.fr');
    expect(canonicalAddress('Camille.Martin@Example.ORG')).toBe('camille.martin@example.org');
  });

  it('takes off spaces around and mailto:', () => {
    expect(canonicalAddress('  mailto:Jose@exämple.fr \t')).toBe(ascii);
    expect(canonicalAddress('MAILTO:a@example.org')).toBe('a@example.org');
  });

  it('gives one id to every form of one mailbox, and another to another mailbox', () => {
    const ids = new Set([nfc, nfd, ascii, ` mailto:JOSE@EXÄMPLE.FR `].map((e) => keys.idOf(e)));
    expect(ids.size).toBe(1);
    expect(keys.idOf('josé@exämple.fr')).not.toBe(keys.idOf(nfc));
    expect(keys.idOf('jose@example.fr')).not.toBe(keys.idOf(nfc));
  });

  it('keeps the id every ASCII address already had', () => {
    const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+';
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const word = (length: number) =>
      Array.from({ length }, () => chars[random(chars.length)]).join('') || 'x';
    let checked = 0;
    for (let i = 0; i < 2000; i++) {
      const email = `${word(1 + random(20))}@${word(1 + random(10)).replace(/[._+]/g, 'a')}.${['fr', 'org', 'COM'][random(3)]}`;
      const written = normalizeEmail(email);
      if (!written) continue;
      expect(keys.idOf(written), written).toBe(olderId(written));
      expect(hadOlderId(written)).toBe(false);
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('tells which contacts stored by older versions had another id, without a key', () => {
    for (const email of [nfc, nfd, 'Jose\u0301@example.fr'.normalize('NFD')]) {
      expect(olderId(email)).not.toBe(keys.idOf(email));
      expect(hadOlderId(email)).toBe(true);
    }
    for (const email of [ascii, 'josé@example.fr', 'Camille@Example.org']) {
      expect(olderId(email)).toBe(keys.idOf(email));
      expect(hadOlderId(email)).toBe(false);
    }
  });

  it('lists the ids older versions gave to each spelling of a mailbox', () => {
    const older = keys.olderIdsOf(ascii);
    for (const form of [nfc, nfd]) expect(older).toContain(olderId(form));
    expect(older).not.toContain(keys.idOf(ascii));
    expect(keys.olderIdsOf('a@example.org')).toEqual([]);
  });
});

describe('normalizeEmail', () => {
  it('keeps the address as written for display, the domain in lower case', () => {
    expect(normalizeEmail('  mailto:Jose@EXÄMPLE.fr ')).toBe('Jose@exämple.fr');
    expect(normalizeEmail(ascii)).toBe(ascii);
  });

  it('refuses what cannot be mailed, and addresses over 254 characters', () => {
    for (const bad of ['jose', '@example.fr', 'a b@example.fr', 'jose@', 'josé@example.fr', 'x@localhost'])
      expect(normalizeEmail(bad), bad).toBeUndefined();
    const atLimit = `${'a'.repeat(60)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}.fr`;
    expect(atLimit.length).toBe(254);
    expect(normalizeEmail(atLimit)).toBe(atLimit);
    const over = atLimit.replace('@', 'a@');
    expect(over.length).toBe(255);
    expect(normalizeEmail(over)).toBeUndefined();
  });
});
