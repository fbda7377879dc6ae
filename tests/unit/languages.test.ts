import { describe, expect, it } from 'vitest';
import { languageNamed } from '../../lambdas/core/publication/languages.ts';

describe('languageNamed: the language a contact or a form names', () => {
  it('reads the primary subtag of a regional tag, in any case, with - or _', () => {
    expect(languageNamed('fr-BE')).toBe('fr');
    expect(languageNamed('FR')).toBe('fr');
    expect(languageNamed(' en_GB ')).toBe('en');
    expect(languageNamed('fr-CA')).toBe('fr');
  });

  it('gives nothing for a language pressroom does not write, or none', () => {
    expect(languageNamed('de-CH')).toBeUndefined();
    expect(languageNamed('')).toBeUndefined();
    expect(languageNamed(undefined)).toBeUndefined();
    expect(languageNamed('french')).toBeUndefined();
  });
});
