import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CampaignRecord, updateCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { CampaignBusyError, takeLease } from '../../lambdas/core/campaigns/lease.ts';
import { claim, type LedgerEntry, reclaim, record } from '../../lambdas/core/campaigns/ledger.ts';
import {
  CorruptObjectError,
  getJson,
  InvalidKeyError,
  listAll,
  ObjectExistsError,
  type ObjectStore,
  putContent,
  type StreamedBody,
  storedBody,
  streamedBytes,
  updateJson,
  VersionConflictError,
} from '../../lambdas/core/store/object-store.ts';

/** What an implementation of the store port can be asked to prove. */
export interface ObjectStoreHarness {
  store: ObjectStore;
  /** Fetches a signed URL as a browser would: status and body. */
  fetchSigned?: (url: string) => Promise<{ status: number; body: string }>;
  /**
   * Every version the store holds under a prefix, delete markers included, with the bytes of
   * each (a versioned S3 bucket); absent for a store that keeps no history.
   */
  history?: (prefix: string) => Promise<StoredVersion[]>;
  cleanup?: () => Promise<void>;
}

/** One version of an object, as `ObjectStoreHarness.history` reads it. */
export interface StoredVersion {
  key: string;
  latest: boolean;
  marker: boolean;
  /** The version's bytes as text (none for a delete marker). */
  body?: string;
}

/** A store that checks its own signed links (the folder and memory stores, behind the local server). */
export interface SelfVerifyingStore extends ObjectStore {
  verifySignedUrl(pathAndQuery: string): { ok: true; key: string } | { ok: false; reason: string };
}

/** `fetchSigned` for such a store: what the local server does with a signed link, verify, then serve. */
export function fetchSignedFrom(store: SelfVerifyingStore): NonNullable<ObjectStoreHarness['fetchSigned']> {
  return async (url) => {
    const { pathname, search } = new URL(url);
    const checked = store.verifySignedUrl(pathname + search);
    if (!checked.ok) return { status: 403, body: checked.reason };
    const object = await store.get(checked.key);
    return object ? { status: 200, body: new TextDecoder().decode(object.body) } : { status: 404, body: '' };
  };
}

/** One recipient's ledger entry, as a run writes it. */
const ledgerEntry = (more: Partial<LedgerEntry> = {}): LedgerEntry => ({
  contact: '0123456789abcdef0123456789abcdef',
  email: 'zoe@redaction.example.org',
  status: 'claimed',
  messageId: '<c.0123456789abcdef0123456789abcdef@example.org>',
  attempts: 1,
  claimedAt: '2026-01-16T07:30:00.000Z',
  ...more,
});

const text = (bytes: Uint8Array | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);

/**
 * The behaviour every ObjectStore must have. Each implementation's test file calls this with
 * a factory; the same cases then run against the folder store, S3 over HTTP, and so on.
 */
export function objectStoreContract(name: string, create: () => Promise<ObjectStoreHarness>) {
  describe(`ObjectStore contract: ${name}`, () => {
    let h: ObjectStoreHarness;
    let store: ObjectStore;
    let n = 0;
    /** A fresh prefix per test, so cases do not see each other's keys. */
    const prefix = () => `t${++n}-${Date.now().toString(36)}/`;

    beforeAll(async () => {
      h = await create();
      store = h.store;
    });
    afterAll(async () => {
      await h?.cleanup?.();
    });

    it('returns undefined for a missing object', async () => {
      const p = prefix();
      expect(await store.get(`${p}missing.txt`)).toBeUndefined();
      expect(await store.head(`${p}missing.txt`)).toBeUndefined();
      expect(await store.stream(`${p}missing.txt`)).toBeUndefined();
    });

    it('round-trips bytes and text, with accents in keys and content', async () => {
      const p = prefix();
      const bytes = new Uint8Array([0, 1, 2, 250, 255, 10, 13]);
      await store.put(`${p}bin/data.bin`, bytes, { contentType: 'application/octet-stream' });
      const got = await store.get(`${p}bin/data.bin`);
      expect(got?.body).toEqual(bytes);
      expect(got?.size).toBe(bytes.length);
      await store.put(`${p}tags/numérique/index.html`, '<p>Contact presse\u00a0: l’équipe</p>', {
        contentType: 'text/html; charset=utf-8',
      });
      expect(text((await store.get(`${p}tags/numérique/index.html`))?.body)).toBe(
        '<p>Contact presse\u00a0: l’équipe</p>',
      );
      const info = await store.head(`${p}tags/numérique/index.html`);
      expect(info?.contentType).toMatch(/^text\/html/);
      expect(info?.size).toBe(Buffer.byteLength('<p>Contact presse\u00a0: l’équipe</p>'));
    });

    it('streams an object', async () => {
      const p = prefix();
      const big = 'x'.repeat(300_000);
      await store.put(`${p}big.txt`, big);
      const chunks: Uint8Array[] = [];
      for await (const chunk of (await store.stream(`${p}big.txt`)) ?? []) chunks.push(chunk);
      expect(Buffer.concat(chunks).toString()).toBe(big);
    });

    it('writes an object from a stream, chunk by chunk, with its type, replacing any previous one', async () => {
      const p = prefix();
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const chunks = Array.from({ length: Math.ceil(bytes.length / 65_536) }, (_, i) =>
        bytes.subarray(i * 65_536, (i + 1) * 65_536),
      );
      let opened = 0;
      const body: StreamedBody = {
        size: bytes.length,
        open: async () => {
          opened++;
          return (async function* () {
            yield* chunks;
          })();
        },
      };
      await store.put(`${p}files/big.bin`, 'an older copy');
      expect(store.putStream).toBeTypeOf('function');
      const written = await putContent(store, `${p}files/big.bin`, body, { contentType: 'application/pdf' });
      expect(opened).toBe(1);
      const got = await store.get(`${p}files/big.bin`);
      expect(got?.version).toBe(written.version);
      expect(got?.size).toBe(bytes.length);
      expect(
        createHash('sha256')
          .update(got?.body ?? new Uint8Array())
          .digest('hex'),
      ).toBe(createHash('sha256').update(bytes).digest('hex'));
      // A copy from one key to another, streamed (the press room's copy of an attachment).
      const stored = await storedBody(store, `${p}files/big.bin`);
      expect(stored?.info.size).toBe(bytes.length);
      if (!stored) throw new Error('the object is missing');
      await putContent(store, `${p}site/big.bin`, stored.body);
      expect(Buffer.from((await store.get(`${p}site/big.bin`))?.body ?? []).equals(bytes)).toBe(true);
      // An empty file too.
      await putContent(store, `${p}files/empty.txt`, streamedBytes(new Uint8Array()));
      expect((await store.head(`${p}files/empty.txt`))?.size).toBe(0);
    });

    it('overwrites with put and changes the version', async () => {
      const p = prefix();
      const a = await store.put(`${p}k`, 'one');
      const b = await store.put(`${p}k`, 'two');
      expect(b.version).not.toBe(a.version);
      const got = await store.get(`${p}k`);
      expect(text(got?.body)).toBe('two');
      expect(got?.version).toBe(b.version);
    });

    it('lists keys under a prefix in order, page by page', async () => {
      const p = prefix();
      const keys = Array.from({ length: 7 }, (_, i) => `${p}dir/k${i}.txt`);
      for (const k of keys.toReversed()) await store.put(k, k);
      await store.put(`${p}dir2/other.txt`, 'x');
      await store.put(`${p}dir/sub/deep.txt`, 'x');
      const first = await store.list(`${p}dir/`, { limit: 3 });
      expect(first.items.map((i) => i.key)).toEqual(keys.slice(0, 3));
      expect(first.cursor).toBeDefined();
      const all = [];
      for await (const item of listAll(store, `${p}dir/`)) all.push(item.key);
      expect(all).toEqual([...keys, `${p}dir/sub/deep.txt`]);
      const page = await store.list(`${p}dir/`, { limit: 100 });
      expect(page.cursor).toBeUndefined();
      expect(page.items[0]).toMatchObject({ key: keys[0], size: keys[0]?.length });
      expect((await store.list(`${p}nothing/`)).items).toEqual([]);
    });

    it('deletes, and deleting a missing object is fine', async () => {
      const p = prefix();
      await store.put(`${p}gone.txt`, 'x');
      await store.delete(`${p}gone.txt`);
      expect(await store.get(`${p}gone.txt`)).toBeUndefined();
      await store.delete(`${p}never.txt`);
    });

    it('refuses keys that are not relative paths', async () => {
      for (const key of ['', '/abs', 'a/../b', './a', 'a//b', 'a\\b']) {
        await expect(store.put(key, 'x')).rejects.toBeInstanceOf(InvalidKeyError);
      }
    });

    it('signs download URLs that work until they expire', async () => {
      if (!h.fetchSigned)
        throw new Error(`${name}: the harness must provide fetchSigned to prove signed URLs`);
      const p = prefix();
      await store.put(`${p}rapport.txt`, 'contenu privé');
      // The tampered URL names an object that exists: only the signature can refuse it.
      await store.put(`${p}rapport2.txt`, 'autre contenu');
      const url = await store.signedUrl(`${p}rapport.txt`, { expiresInSeconds: 60 });
      expect(await h.fetchSigned(url)).toEqual({ status: 200, body: 'contenu privé' });
      const tampered = url.replace('rapport.txt', 'rapport2.txt');
      expect((await h.fetchSigned(tampered)).status).toBeGreaterThanOrEqual(400);
      const expired = await store.signedUrl(`${p}rapport.txt`, { expiresInSeconds: 1 });
      await new Promise((r) => setTimeout(r, 2100));
      expect((await h.fetchSigned(expired)).status).toBeGreaterThanOrEqual(400);
    });

    describe('history', () => {
      it('purgeHistory removes old versions and delete markers under the prefix, and nothing current', async () => {
        const p = prefix();
        const outside = prefix();
        await store.put(`${p}shards/00-a.json`, 'first');
        await store.put(`${p}shards/00-a.json`, 'second');
        await store.put(`${p}shards/00-b.json`, 'gone');
        await store.delete(`${p}shards/00-b.json`);
        await store.put(`${p}shards/01-c.json`, 'other shard');
        await store.put(`${outside}kept.json`, 'old');
        await store.put(`${outside}kept.json`, 'new');

        const removed = await store.purgeHistory(`${p}shards/00`);
        // A versioned store held a's first version, b's version and b's delete marker.
        expect(removed).toBe(h.history ? 3 : 0);
        expect(text((await store.get(`${p}shards/00-a.json`))?.body)).toBe('second');
        expect(await store.get(`${p}shards/00-b.json`)).toBeUndefined();
        expect(text((await store.get(`${p}shards/01-c.json`))?.body)).toBe('other shard');
        expect((await store.list(p)).items.map((i) => i.key)).toEqual([
          `${p}shards/00-a.json`,
          `${p}shards/01-c.json`,
        ]);
        if (h.history) {
          expect(await h.history(`${p}shards/00`)).toEqual([
            { key: `${p}shards/00-a.json`, latest: true, marker: false, body: 'second' },
          ]);
          // Outside the prefix, history stays.
          expect((await h.history(outside)).map((v) => v.body)).toEqual(['new', 'old']);
          expect((await h.history(`${p}shards/01`)).map((v) => v.body)).toEqual(['other shard']);
        }
        expect(await store.purgeHistory(`${p}shards/00`)).toBe(0);
      });

      it('purgeHistory refuses a key that is not a relative path', async () => {
        await expect(store.purgeHistory('../contacts/')).rejects.toBeInstanceOf(InvalidKeyError);
      });
    });

    describe('conditional writes and lost races', () => {
      it('creates only if absent', async () => {
        const p = prefix();
        await store.putIfAbsent(`${p}claim`, 'first');
        await expect(store.putIfAbsent(`${p}claim`, 'second')).rejects.toBeInstanceOf(ObjectExistsError);
        expect(text((await store.get(`${p}claim`))?.body)).toBe('first');
      });

      it('lets exactly one of many concurrent creators win', async () => {
        const p = prefix();
        const results = await Promise.allSettled(
          Array.from({ length: 12 }, (_, i) => store.putIfAbsent(`${p}race`, `writer ${i}`)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ObjectExistsError);
        }
      });

      it('replaces only at the expected version', async () => {
        const p = prefix();
        const v1 = await store.put(`${p}doc`, 'v1');
        const v2 = await store.putIfVersion(`${p}doc`, 'v2', v1.version);
        await expect(store.putIfVersion(`${p}doc`, 'v3', v1.version)).rejects.toBeInstanceOf(
          VersionConflictError,
        );
        expect(text((await store.get(`${p}doc`))?.body)).toBe('v2');
        await store.putIfVersion(`${p}doc`, 'v3', v2.version);
        await expect(store.putIfVersion(`${p}absent`, 'x', v1.version)).rejects.toBeInstanceOf(
          VersionConflictError,
        );
      });

      it('loses no update when writers race with compare-and-swap', async () => {
        const p = prefix();
        await store.put(`${p}counter`, '0');
        const increment = async () => {
          for (;;) {
            const current = await store.get(`${p}counter`);
            if (!current) throw new Error('counter vanished');
            try {
              await store.putIfVersion(
                `${p}counter`,
                String(Number(text(current.body)) + 1),
                current.version,
              );
              return;
            } catch (error) {
              if (!(error instanceof VersionConflictError)) throw error;
            }
          }
        };
        await Promise.all(Array.from({ length: 20 }, increment));
        expect(text((await store.get(`${p}counter`))?.body)).toBe('20');
      });

      it('of writers holding the same version, exactly one wins; the others see a conflict', async () => {
        const p = prefix();
        const { version } = await store.put(`${p}entry`, 'claimed');
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => store.putIfVersion(`${p}entry`, `outcome ${i}`, version)),
        );
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(won).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(VersionConflictError);
        expect(text((await store.get(`${p}entry`))?.body)).toBe(`outcome ${won[0]}`);
      });

      it('loses a compare-and-swap to a plain put, and to a delete, made after the read', async () => {
        const p = prefix();
        const read = await store.put(`${p}doc`, 'as read');
        await store.put(`${p}doc`, 'written by someone else');
        await expect(store.putIfVersion(`${p}doc`, 'mine', read.version)).rejects.toBeInstanceOf(
          VersionConflictError,
        );
        expect(text((await store.get(`${p}doc`))?.body)).toBe('written by someone else');
        const again = await store.get(`${p}doc`);
        await store.delete(`${p}doc`);
        await expect(store.putIfVersion(`${p}doc`, 'mine', again?.version ?? '')).rejects.toBeInstanceOf(
          VersionConflictError,
        );
        expect(await store.get(`${p}doc`)).toBeUndefined();
        // Once deleted, the key can be created again.
        await store.putIfAbsent(`${p}doc`, 'new');
        expect(text((await store.get(`${p}doc`))?.body)).toBe('new');
      });

      it('updateJson applies every one of many racing changes', async () => {
        const p = prefix();
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            updateJson<{ seen: number[] }>(
              store,
              `${p}index.json`,
              () => ({ seen: [] }),
              (current) => ({ seen: [...current.seen, i].sort((a, b) => a - b) }),
            ),
          ),
        );
        expect((await getJson<{ seen: number[] }>(store, `${p}index.json`))?.value.seen).toEqual([
          0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        ]);
      });

      // The sending path's writes, each a race it must lose gracefully on every store.
      it('ledger: of runs claiming one recipient at once, exactly one gets the claim', async () => {
        const campaign = prefix().replace(/\/$/, '');
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, i) => claim(store, campaign, ledgerEntry({ attempts: i + 1 }))),
        );
        expect(claims.filter((v) => v !== undefined)).toHaveLength(1);
      });

      it('ledger: an outcome written after another run took the recipient over settles, never throws', async () => {
        const campaign = prefix().replace(/\/$/, '');
        const mine = await claim(store, campaign, ledgerEntry());
        if (mine === undefined) throw new Error('the first claim must succeed');
        // Another run, which thought this one dead, takes the recipient over.
        const theirs = await reclaim(store, campaign, ledgerEntry({ attempts: 2 }), mine);
        expect(theirs).toBeDefined();
        // Our send happened: it is recorded over their claim, never lost.
        expect(await record(store, campaign, ledgerEntry({ status: 'sent' }), mine)).toBe('sent');
        // Their later, lesser outcome yields to it.
        expect(await record(store, campaign, ledgerEntry({ status: 'deferred' }), theirs as string)).toBe(
          'sent',
        );
        const stored = await getJson<LedgerEntry>(
          store,
          `campaigns/${campaign}/ledger/${ledgerEntry().contact}.json`,
        );
        expect(stored?.value.status).toBe('sent');
      });

      it('lease: of runs taking a campaign at once, exactly one holds it; the others are told who', async () => {
        const name = prefix().replace(/\/$/, '');
        const now = new Date();
        const record: CampaignRecord = {
          definition: {} as CampaignRecord['definition'],
          state: 'draft',
          source: '',
          createdAt: now.toISOString(),
          updatedAt: now.toISOString(),
          runs: [],
        };
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) =>
            updateCampaign(
              store,
              name,
              () => record,
              (current) => takeLease(current, name, `run-${i}`, { holder: `host pid ${i}` }, now),
            ),
          ),
        );
        const held = results.filter((r) => r.status === 'fulfilled');
        expect(held).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(CampaignBusyError);
        const holder = (held[0] as PromiseFulfilledResult<CampaignRecord>).value.lease?.holder;
        const busy = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect((busy.reason as Error).message).toContain(`being sent by ${holder} since`);
      });

      it('reads a damaged JSON file as CorruptObjectError naming where it is', async () => {
        const p = prefix();
        await store.put(`${p}campaign.json`, '{"state":"sen');
        const error = await getJson(store, `${p}campaign.json`, { repair: 'Delete it to start over' }).catch(
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(CorruptObjectError);
        const where = store.locate?.(`${p}campaign.json`) ?? `${p}campaign.json`;
        expect((error as Error).message).toContain(where);
        expect((error as Error).message).toContain('Delete it to start over');
        await store.put(`${p}null.json`, 'null');
        await expect(getJson(store, `${p}null.json`)).rejects.toBeInstanceOf(CorruptObjectError);
      });
    });
  });
}
