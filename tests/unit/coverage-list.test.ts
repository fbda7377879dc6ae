import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import {
  type CoverageFile,
  coverageKeys,
  coverageReadConcurrency,
  listCoverage,
} from '../../lambdas/core/archive/coverage.ts';
import { archiveKeys } from '../../lambdas/core/archive/manifest.ts';
import { mapConcurrent } from '../../lambdas/core/concurrency.ts';
import type { StoredObject } from '../../lambdas/core/store/object-store.ts';

/**
 * `listCoverage` reads the covered releases a few at a time: never more than
 * coverageReadConcurrency reads in flight, and the rows in the order one release after the
 * other gives, however the reads finish.
 */

/** A store whose reads take turns of the event loop, later keys first: counts reads in flight. */
class CountingStore extends MemoryObjectStore {
  inFlight = 0;
  most = 0;
  reads = 0;
  override async get(key: string): Promise<StoredObject | undefined> {
    this.inFlight++;
    this.most = Math.max(this.most, this.inFlight);
    const turns = 40 - (this.reads++ % 40);
    try {
      for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
      return await super.get(key);
    } finally {
      this.inFlight--;
    }
  }
}

const releases = 30;
const slugOf = (i: number) => `communique-${String(i).padStart(2, '0')}`;

async function coveredArchive(store: MemoryObjectStore): Promise<void> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < releases; i++) {
    const slug = slugOf(i);
    await store.put(
      archiveKeys.manifest(slug),
      JSON.stringify({
        summary: { slug, title: `Communiqué ${i}`, lang: 'fr', visibility: 'public' },
        version: 'v1',
        files: [],
      }),
    );
    // Two articles a release; the first the same day and time in every release (the sort keeps
    // them in the releases' order), the second a day of its own.
    const file: CoverageFile = {
      slug,
      articles: [
        {
          url: `https://presse.example.org/${slug}/b`,
          outlet: 'Le Quotidien',
          date: `2026-02-${String((i % 28) + 1).padStart(2, '0')}`,
          addedAt: '2026-03-01T10:00:00Z',
        },
        {
          url: `https://presse.example.org/${slug}/a`,
          outlet: 'La Gazette',
          date: '2026-01-15',
          addedAt: '2026-03-01T09:00:00Z',
        },
      ],
    };
    await store.put(coverageKeys.release(slug), JSON.stringify(file));
    counts[slug] = 2;
  }
  // A release no longer archived: left out.
  counts.retire = 1;
  await store.put(coverageKeys.index, JSON.stringify({ releases: counts }));
}

const newStore = () => new CountingStore({ signingSecret: 's', publicUrl: 'https://press.example.org' });

describe('listCoverage', () => {
  it(`reads at most ${coverageReadConcurrency} releases at once, the rows in the order of reading one after the other`, async () => {
    const store = newStore();
    await coveredArchive(store);
    const rows = await listCoverage(store);
    expect(store.most).toBeGreaterThan(1);
    expect(store.most).toBeLessThanOrEqual(coverageReadConcurrency);
    expect(rows).toHaveLength(releases * 2);
    // The same day and time: the releases' order (by slug), as the sequential reading gave.
    expect(rows.filter((r) => r.date === '2026-01-15').map((r) => r.slug)).toEqual(
      Array.from({ length: releases }, (_, i) => slugOf(i)),
    );
    // Newest first over every release.
    const dates = rows.map((r) => r.date);
    expect(dates).toEqual([...dates].sort().reverse());
    expect(rows[0]).toMatchObject({ slug: slugOf(27), release: { title: 'Communiqué 27' } });
  });

  it('one release: its rows; an unknown one: the error naming it', async () => {
    const store = newStore();
    await coveredArchive(store);
    expect((await listCoverage(store, slugOf(3))).map((r) => r.url)).toEqual([
      `https://presse.example.org/${slugOf(3)}/b`,
      `https://presse.example.org/${slugOf(3)}/a`,
    ]);
    await expect(listCoverage(store, 'inconnu')).rejects.toThrow(/no release "inconnu" in the archive/);
  });
});

describe('mapConcurrent', () => {
  it('keeps the order of the items, bounds the calls in flight, and stops starting calls after a failure', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const work = async (n: number) => {
      started.push(n);
      inFlight++;
      most = Math.max(most, inFlight);
      for (let i = 0; i < 20 - n; i++) await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (n === 5) throw new Error('read failed');
      return n * 10;
    };
    expect(await mapConcurrent([0, 1, 2, 3, 4, 6, 7, 8, 9], 3, work)).toEqual([
      0, 10, 20, 30, 40, 60, 70, 80, 90,
    ]);
    expect(most).toBe(3);
    started.length = 0;
    await expect(mapConcurrent([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 2, work)).rejects.toThrow(
      'read failed',
    );
    expect(started).not.toContain(11);
    await expect(mapConcurrent([1], 0, work)).rejects.toThrow(/whole number of 1 or more \(value: 0\)/);
  });
});
