import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { truncatedHmacSha256 } from '../../lambdas/core/contacts/id-hash.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';

const reference = (key: Uint8Array, text: string) =>
  createHmac('sha256', key).update(text).digest().toString('hex', 0, 16);

/** Deterministic texts of every length up to `max`, from an alphabet that needs 1 to 4 UTF-8 bytes. */
function* texts(max: number): Generator<string> {
  const alphabet = ['a', 'Z', '0', '.', '@', '-', 'é', 'œ', '’', '€', '😀', '\u0000', '\u007f'];
  let seed = 7;
  for (let length = 0; length <= max; length++) {
    for (let variant = 0; variant < 4; variant++) {
      let text = '';
      for (let i = 0; i < length; i++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        text += variant === 0 ? 'a' : alphabet[seed % alphabet.length];
      }
      yield text;
    }
  }
}

describe('truncatedHmacSha256', () => {
  it('is HMAC-SHA256 truncated to 16 bytes, for every length across the block boundaries', () => {
    for (const key of [
      createHmac('sha256', 'secret').update('pressroom:contact-id').digest(),
      new Uint8Array(0),
      new Uint8Array(64).fill(0xa5),
      new TextEncoder().encode('short key'),
    ]) {
      const id = truncatedHmacSha256(key);
      for (const text of texts(300)) expect(id(text), JSON.stringify(text)).toBe(reference(key, text));
    }
  });

  it('refuses a key longer than a block (HMAC would hash it first)', () => {
    expect(() => truncatedHmacSha256(new Uint8Array(65))).toThrow('at most 64 bytes');
  });

  it('gives contact ids as before: the HMAC of the canonical address under the derived key', () => {
    const secret = 'a-secret-of-at-least-thirty-two-characters';
    const idKey = createHmac('sha256', secret).update('pressroom:contact-id').digest();
    const keys = contactKeys(secret);
    for (const email of ['Zoé.Martin@Exemple-Média.fr', 'jose@xn--exmple-cua.fr', 'a@b.fr'])
      expect(keys.idOf(email)).toMatch(/^[0-9a-f]{32}$/);
    expect(keys.idOf('A@B.FR')).toBe(reference(idKey, 'a@b.fr'));
    expect(keys.idOf('zoé@exemple.fr')).toBe(reference(idKey, 'zoé@exemple.fr'));
  });
});
