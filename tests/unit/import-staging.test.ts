import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { StagedRows } from '../../lambdas/core/contacts/import-staging.ts';
import { listAll } from '../../lambdas/core/store/object-store.ts';

/**
 * StagedRows writes each row in its parts straight into per-shard buffers, checking room for
 * three bytes per UTF-16 unit without measuring: rows of accents, of characters outside the
 * BMP and of more than a buffer's size must come back as they went in, in file order, from
 * memory and from the staging area alike.
 */

const newStore = () =>
  new MemoryObjectStore({ signingSecret: 'x'.repeat(32), publicUrl: 'http://localhost' });

/** A row of `n` characters of several UTF-8 widths. */
function rowOf(i: number, n: number): string {
  const alphabet = ['a', 'é', '’', '😀', 'Z', ';', ' '];
  let text = `${i}\u001f`;
  while (text.length < n) text += alphabet[(i + text.length) % alphabet.length];
  return text;
}

async function stageAll(budget: number | undefined, rows: [string, string, string][]) {
  const store = newStore();
  const staged = new StagedRows(store, budget === undefined ? {} : { budget });
  let spills = 0;
  for (const [shard, id, packed] of rows) {
    staged.add(shard, id, packed);
    if (staged.full) {
      await staged.spill();
      spills++;
    }
  }
  const back = new Map<string, Map<string, string>>();
  for (const shard of staged.shards())
    back.set(shard, await staged.rowsOf(shard, (earlier, later) => `${earlier}+${later}`));
  return { store, staged, back, spills };
}

describe('staged rows', () => {
  // Sizes around the 16 KiB buffers: small rows, rows that fill one, rows longer than one.
  const rows: [string, string, string][] = Array.from({ length: 600 }, (_, i) => [
    ['0a', '0b', 'ff'][i % 3] as string,
    `id${i % 250}`,
    rowOf(i, i % 97 === 0 ? 20_000 + i : 5 + ((i * 37) % 700)),
  ]);
  const expected = new Map<string, Map<string, string>>();
  for (const [shard, id, packed] of rows) {
    const entries = expected.get(shard) ?? new Map<string, string>();
    const earlier = entries.get(id);
    entries.set(id, earlier === undefined ? packed : `${earlier}+${packed}`);
    expected.set(shard, entries);
  }

  it('hands back every row as it was added, in file order, all held in memory', async () => {
    const { back, spills } = await stageAll(undefined, rows);
    expect(spills).toBe(0);
    expect([...back.keys()]).toEqual(['0a', '0b', 'ff']);
    for (const [shard, entries] of expected) expect([...(back.get(shard) ?? [])]).toEqual([...entries]);
  });

  it('hands back the same rows when most were spilled to the staging area, and deletes it after', async () => {
    const { store, staged, back, spills } = await stageAll(30_000, rows);
    expect(spills).toBeGreaterThan(5);
    for (const [shard, entries] of expected) expect([...(back.get(shard) ?? [])]).toEqual([...entries]);
    const keys = [];
    for await (const item of listAll(store, 'contacts/staging/')) keys.push(item.key);
    expect(keys.length).toBeGreaterThan(0);
    await staged.discard();
    const left = [];
    for await (const item of listAll(store, 'contacts/staging/')) left.push(item.key);
    expect(left).toEqual([]);
  });
});
