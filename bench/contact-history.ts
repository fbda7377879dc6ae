import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FolderObjectStore } from '../lambdas/adapters/folder-store.ts';
import { campaignKeys } from '../lambdas/core/campaigns/campaign.ts';
import type { LedgerEntry } from '../lambdas/core/campaigns/ledger.ts';
import { importContacts } from '../lambdas/core/contacts/import.ts';
import { contactKeys } from '../lambdas/core/contacts/model.ts';
import { describeAddress } from '../lambdas/core/privacy.ts';
import type { ObjectStore } from '../lambdas/core/store/object-store.ts';
import { type Benchmark, type BenchRow, median, msSince } from './types.ts';

/**
 * A contact's history (issue 20, press contact profiles): `contacts show` derives it from the
 * campaign ledgers and the provider's reports, two reads per campaign, 16 campaigns at a time
 * (privacy.ts, describeAddress). Measured for one contact in stores of 100, 500 and 2,000
 * campaigns (the person in every other ledger), on the local folder, and on the same folder
 * with 20 ms added to each read, about what one S3 GET takes from outside AWS: the figure a
 * deployed stack's `contacts show --backend aws` would see. Also the number of reads.
 */

const suite = 'contact-history';
const sizes = [100, 500, 2_000];
const readLatencyMs = 20;

/** The store, counting reads and (optionally) making each one wait like a store far away. */
function measured(store: ObjectStore, latencyMs: number): { store: ObjectStore; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'get' || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        reads++;
        if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
        return value.apply(target, args);
      };
    },
  });
  return { store: proxy, reads: () => reads };
}

export const contactHistoryBenchmark: Benchmark = {
  name: suite,
  description: `one contact's history (contacts show) in stores of ${sizes.join(', ')} campaigns`,
  async run(log) {
    const rows: BenchRow[] = [];
    const keys = contactKeys('bench-contact-history-secret-0123456789');
    const email = 'camille.martin@quotidien-ouest.example.com';
    const id = keys.idOf(email);
    for (const campaigns of sizes) {
      const root = await mkdtemp(path.join(os.tmpdir(), 'pressroom-bench-history-'));
      try {
        const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
        log(`${campaigns} campaigns: writing the store`);
        await importContacts(
          (async function* () {
            yield new TextEncoder().encode(`email;média;rubrique\n${email};Quotidien de l’Ouest;Numérique\n`);
          })(),
          'bench.csv',
          { store, keys },
          { list: 'presse', source: 'import:bench.csv', now: new Date() },
        );
        const names = Array.from({ length: campaigns }, (_, i) => `campagne-${String(i).padStart(5, '0')}`);
        await store.put(campaignKeys.index, JSON.stringify({ names }));
        for (let i = 0; i < names.length; i += 2) {
          const at = new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString();
          const entry: LedgerEntry = {
            contact: id,
            email,
            status: 'sent',
            messageId: `<${names[i]}.${id}@example.org>`,
            attempts: 1,
            claimedAt: at,
            sentAt: at,
          };
          await store.put(campaignKeys.ledger(names[i] as string, id), JSON.stringify(entry));
        }
        for (const latency of [0, readLatencyMs]) {
          const times: number[] = [];
          let reads = 0;
          for (let round = 0; round < (latency ? 1 : 5); round++) {
            const counted = measured(store, latency);
            const start = process.hrtime.bigint();
            const found = await describeAddress(counted.store, keys, email);
            times.push(msSince(start));
            reads = counted.reads();
            if (found.history.received.length !== campaigns / 2)
              throw new Error(
                `expected ${campaigns / 2} campaigns received, got ${found.history.received.length}`,
              );
          }
          const where = latency ? `, ${latency} ms per read` : ', local folder';
          rows.push({ suite, name: `${campaigns} campaigns${where}`, value: median(times), unit: 'ms' });
          if (!latency)
            rows.push({ suite, name: `${campaigns} campaigns: reads`, value: reads, unit: 'reads' });
        }
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    }
    return rows;
  },
};
