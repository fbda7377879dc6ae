import { describe, expect, it } from 'vitest';
import { checkKey, InvalidKeyError } from '../../lambdas/core/store/object-store.ts';
import { prng } from '../support/cli.ts';

/** The rule as the README states it, segment by segment: the oracle for the fast check. */
function allowed(key: string): boolean {
  if (key.length === 0 || key.length > 1024) return false;
  if (key.startsWith('/') || key.includes('\\') || key.includes('\0')) return false;
  const parts = key.split('/');
  return !parts.some((part, i) => part === '.' || part === '..' || (part === '' && i < parts.length - 1));
}

const refused = (key: string) => {
  try {
    checkKey(key);
    return false;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidKeyError);
    return true;
  }
};

describe('store keys', () => {
  it('accepts and refuses what the segment rule does, on named and random keys', () => {
    const named = [
      'archive/a/release.json',
      'site/',
      'a/b/',
      '/a',
      'a//b',
      'a/./b',
      'a/../b',
      '..',
      '.',
      'a/..',
      '...',
      'a.b/.c',
      'a\\b',
      'a\0b',
      '',
    ];
    const random = prng(11);
    const alphabet = ['a', '.', '/', '\\', '\0', 'é', '..', 'b'];
    const keys = [...named];
    for (let i = 0; i < 20_000; i++) {
      let key = '';
      for (let n = Math.floor(random() * 7); n > 0; n--)
        key += alphabet[Math.floor(random() * alphabet.length)];
      keys.push(key);
    }
    for (const key of keys) expect(refused(key), JSON.stringify(key)).toBe(!allowed(key));
    expect(refused('x'.repeat(1025))).toBe(true);
  });
});
