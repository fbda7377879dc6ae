import { beforeAll, describe, expect, it } from 'vitest';
import { localSourceFiles } from '../../lambdas/adapters/local-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { loadPublication } from '../../lambdas/core/publication/load.ts';
import { createReleaseRenderer, type RenderedRelease } from '../../lambdas/core/render/document.ts';
import {
  allReferenceFacts,
  missingFacts,
  normalizeForFacts,
  readReference,
  referenceFacts,
  visibleText,
} from '../support/reference-facts.ts';

const seed = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
let release: RenderedRelease;

beforeAll(async () => {
  const renderer = createReleaseRenderer(await loadTemplateFiles());
  release = await renderer.render((await loadPublication(seed, localSourceFiles)).publication, {
    webUrl: 'https://press.example.org/2021/numerique-gestion-de-crise/',
  });
});

describe('the facts of the seed release, against the reference press release', () => {
  it('are taken from the reference itself, every kind of fact represented', () => {
    const reference = readReference();
    for (const { fact } of allReferenceFacts) expect(reference).toContain(fact);
    for (const kind of ['names', 'figures', 'dates', 'places', 'quotes', 'contacts', 'addresses'])
      expect(referenceFacts[kind]?.length, kind).toBeGreaterThan(0);
    expect(allReferenceFacts).toHaveLength(55);
  });

  it('reads typographic spaces as spaces and no other no-break space', () => {
    expect(normalizeForFacts('Tél.\u00a0: «\u202fx\u202f» ?\n\tfin\u202f!')).toBe('Tél. : « x » ? fin !');
    // "10 000" written with a no-break space is not the reference's "10 000".
    expect(missingFacts('les villes de 10\u00a0000 à 100 000 habitants')).toContain(
      'les villes de 10 000 à 100 000 habitants',
    );
  });

  it.each([
    ['the email HTML', () => visibleText(release.email.html)],
    ['the text part', () => release.email.text],
    ['the web page', () => visibleText(release.page)],
  ])('all appear exactly in %s', (_, text) => {
    expect(missingFacts(text())).toEqual([]);
  });
});
