import { describe, expect, it } from 'vitest';
import { fillPattern, formatDate, formatDateTime, joinNames } from '../../lambdas/core/render/locale.ts';

describe('dates', () => {
  it('formats the announcement date in French and English', () => {
    expect(formatDate('2021-06-08', 'fr')).toBe('mardi 8 juin 2021');
    expect(formatDate('2021-06-08', 'en')).toBe('Tuesday 8 June 2021');
    expect(formatDate('2024-02-29', 'fr')).toBe('jeudi 29 février 2024');
  });

  it('writes the first of the month "1er" in French only', () => {
    expect(formatDate('2021-06-01', 'fr')).toBe('mardi 1er juin 2021');
    expect(formatDate('2021-06-11', 'fr')).toBe('vendredi 11 juin 2021');
    expect(formatDate('2021-06-21', 'fr')).toBe('lundi 21 juin 2021');
    expect(formatDate('2021-06-01', 'en')).toBe('Tuesday 1 June 2021');
    expect(formatDateTime('2021-06-01T10:00:00+02:00', 'fr')).toBe(
      'mardi 1er juin 2021 à 10\u00a0h (UTC+02:00)',
    );
  });

  it('shows an embargo at the wall-clock time written, with its offset, hours as each language writes them', () => {
    expect(formatDateTime('2021-06-08T08:00:00+02:00', 'fr')).toBe(
      'mardi 8 juin 2021 à 8\u00a0h (UTC+02:00)',
    );
    expect(formatDateTime('2021-06-08T08:30:00+0200', 'fr')).toBe(
      'mardi 8 juin 2021 à 8\u00a0h\u00a030 (UTC+02:00)',
    );
    expect(formatDateTime('2021-06-08T23:30:00-05:00', 'en')).toBe('Tuesday 8 June 2021, 23:30 (UTC-05:00)');
    expect(formatDateTime('2021-06-08T06:00:00Z', 'en')).toBe('Tuesday 8 June 2021, 6:00 (UTC)');
  });
});

describe('patterns', () => {
  it('fills named values and leaves unknown names', () => {
    expect(fillPattern('{place}, le {date} {x}', { place: 'Paris', date: 'mardi' })).toBe(
      'Paris, le mardi {x}',
    );
  });

  it('joins names', () => {
    expect(joinNames(['A'], 'et')).toBe('A');
    expect(joinNames(['A', 'B'], 'et')).toBe('A et B');
    expect(joinNames(['A', 'B', 'C'], 'and')).toBe('A, B and C');
  });
});
