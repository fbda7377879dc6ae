/**
 * The AWS way of sending (dispatch into batches) with press contact profiles: the audience's
 * beat and language selectors apply, and do-not-contact people are never enqueued, counted in
 * the dispatch report.
 */
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { dispatchCampaign, type RecipientBatch } from '../../lambdas/core/campaigns/dispatch.ts';
import {
  definition,
  importCsv,
  keys,
  publishedAt,
  publishReleases,
  registerDraft,
} from '../support/dispatch-fixtures.ts';

describe('dispatchCampaign with profile selectors', () => {
  it('enqueues only the beat and language selected, never a do-not-contact person', async () => {
    const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'https://press.example.org' });
    await publishReleases(store);
    const csv = [
      'Courriel;Rubrique;Langue;Ne pas contacter',
      'a@example.org;Numérique;fr;',
      'b@example.org;Numérique, Culture;fr-BE;',
      'c@example.org;Culture;fr;',
      'd@example.org;numérique;fr;oui',
      'e@example.org;Numérique;en;',
    ].join('\n');
    expect(
      await importCsv({ store, keys }, csv, { file: 'presse.csv', list: 'presse', now: publishedAt }),
    ).toMatchObject({ added: 5, rejected: [] });
    await registerDraft(
      store,
      definition('numerique', {
        audience: { lists: ['presse'], tagsMode: 'any', beats: ['Numérique'], languages: ['fr'] },
      }),
    );
    const batches: RecipientBatch[] = [];
    const report = await dispatchCampaign(
      'numerique',
      {
        store,
        queue: { enqueue: async (m) => void batches.push(...m) },
        clock: () => new Date('2026-01-16T07:30:00Z'),
      },
      { recipientsPerMessage: 10 },
    );
    expect(report).toMatchObject({ audience: 2, enqueued: 2, doNotContact: 1 });
    expect(batches.flatMap((b) => b.recipients.map((r) => r.email)).sort()).toEqual([
      'a@example.org',
      'b@example.org',
    ]);
  });
});
