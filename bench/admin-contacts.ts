import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FolderObjectStore } from '../lambdas/adapters/folder-store.ts';
import { searchContacts } from '../lambdas/core/admin/contacts.ts';
import { importContacts } from '../lambdas/core/contacts/import.ts';
import { contactKeys } from '../lambdas/core/contacts/model.ts';
import { type Benchmark, type BenchRow, median, msSince } from './types.ts';

/**
 * The admin's contacts page (issue 22): one page of 50 out of 100,000 contacts on the local
 * folder, as `/admin/contacts` reads it (searchContacts: every shard read once, the first
 * page × 50 addresses kept, the page's contacts read from their shards): the first page, a
 * search of two words, the 2,000th page (the last), and a page past the end (two passes).
 */

const suite = 'admin-contacts';
const size = 100_000;

export const adminContactsBenchmark: Benchmark = {
  name: suite,
  description: `one page of the admin's contacts out of ${size.toLocaleString('en')}`,
  async run(log) {
    const rows: BenchRow[] = [];
    const root = await mkdtemp(path.join(os.tmpdir(), 'pressroom-bench-admin-contacts-'));
    try {
      const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
      const keys = contactKeys('bench-admin-contacts-secret-0123456789');
      log(`importing ${size} contacts`);
      const lines = Array.from(
        { length: size },
        (_, i) =>
          `c${i}@media-${i % 500}.example.org;Prénom ${i};Nom ${i};Média ${i % 500};${i % 7 ? 'presse' : 'radio'}`,
      );
      await importContacts(
        (async function* () {
          yield new TextEncoder().encode(`email;prénom;nom;média;tags\n${lines.join('\n')}\n`);
        })(),
        'bench.csv',
        { store, keys },
        { list: 'presse', source: 'import:bench.csv', now: new Date() },
      );
      const deps = { store, lists: [{ name: 'presse' }] };
      const cases: [string, Parameters<typeof searchContacts>[1], number][] = [
        ['first page', {}, 50],
        // "Média 42" and "Média 420" to "429", tagged radio (one in seven): 11 × 200 / 7.
        ['search "média 42 radio"', { q: 'média 42 radio' }, 50],
        ['page 2,000 (the last)', { page: 2_000 }, 50],
        ['page 9,999 (past the end: the last)', { page: 9_999 }, 50],
      ];
      for (const [name, search, expected] of cases) {
        const times: number[] = [];
        for (let round = 0; round < 3; round++) {
          const start = process.hrtime.bigint();
          const page = await searchContacts(deps, search);
          times.push(msSince(start));
          if (page.all !== size || page.contacts.length !== expected || page.total < expected)
            throw new Error(
              `${name}: expected ${expected} of ${size}, got ${page.contacts.length} of ${page.all}`,
            );
        }
        rows.push({ suite, name, value: median(times), unit: 'ms' });
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
    return rows;
  },
};
