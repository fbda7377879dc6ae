import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countEntry,
  emptyCounts,
  isTerminal,
  type Ledger,
  LedgerContactIds,
  type LedgerEntry,
  readAll,
} from '../../lambdas/core/campaigns/ledger.ts';

/** What an implementation of the ledger port is tested through. */
export interface LedgerHarness {
  ledger: Ledger;
  cleanup?: () => Promise<void>;
}

/** A contact id (32 hex digits) made from a number. */
export const contactId = (n: number) => createHash('md5').update(`contact-${n}`).digest('hex');

/** One recipient's entry, as a run claims it. */
export const claimed = (n: number, more: Partial<LedgerEntry> = {}): LedgerEntry => ({
  contact: contactId(n),
  email: `journaliste-${n}@redaction.example.org`,
  status: 'claimed',
  messageId: `<c.${contactId(n)}@example.org>`,
  attempts: 1,
  claimedAt: '2026-01-16T07:30:00.000Z',
  ...more,
});

const failure = (kind: 'permanent' | 'transient', reason: string) => ({
  kind,
  reason,
  message: `refused (${reason})`,
});

/**
 * The behaviour every Ledger must have: the object-store ledger on a folder, and the DynamoDB
 * ledger (on dynalite) run the same cases.
 */
export function ledgerContract(name: string, create: () => Promise<LedgerHarness>) {
  describe(`Ledger contract: ${name}`, () => {
    let h: LedgerHarness;
    let ledger: Ledger;
    let n = 0;
    const campaign = () => `etude-${++n}`;

    beforeAll(async () => {
      h = await create();
      ledger = h.ledger;
    });
    afterAll(async () => {
      await h?.cleanup?.();
    });

    it('of runs claiming one recipient at once, exactly one gets the claim', async () => {
      const c = campaign();
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => ledger.claim(c, claimed(1, { attempts: i + 1 }))),
      );
      expect(claims.filter((v) => v !== undefined)).toHaveLength(1);
      expect((await ledger.counts(c)).claimed).toBe(1);
      // A later claim of the same recipient is refused too.
      expect(await ledger.claim(c, claimed(1))).toBeUndefined();
    });

    it('records the outcome over the claim, and reads it back by recipient', async () => {
      const c = campaign();
      const version = await ledger.claim(c, claimed(1));
      expect(version).toBeDefined();
      expect(
        await ledger.record(
          c,
          { ...claimed(1), status: 'sent', sentAt: '2026-01-16T07:30:01.000Z' },
          version as string,
        ),
      ).toBe('sent');
      const read = await ledger.entries(c, [{ id: contactId(1) }, { id: contactId(2) }]);
      expect([...read.keys()]).toEqual([contactId(1)]);
      expect(read.get(contactId(1))?.entry).toMatchObject({
        status: 'sent',
        sentAt: '2026-01-16T07:30:01.000Z',
      });
      expect(await ledger.counts(c)).toEqual({ ...emptyCounts(), sent: 1 });
    });

    it('settles an outcome written after another run took the recipient over, never throws', async () => {
      const c = campaign();
      const mine = await ledger.claim(c, claimed(1));
      if (mine === undefined) throw new Error('the first claim must succeed');
      // Another run, which thought this one dead, takes the recipient over.
      const theirs = await ledger.reclaim(c, claimed(1, { attempts: 2 }), mine);
      expect(theirs).toBeDefined();
      // The old version is spent: a second takeover from it fails.
      expect(await ledger.reclaim(c, claimed(1, { attempts: 3 }), mine)).toBeUndefined();
      // Our send happened: it is recorded over their claim, never lost.
      expect(await ledger.record(c, { ...claimed(1), status: 'sent' }, mine)).toBe('sent');
      // Their later, lesser outcome yields to it.
      expect(await ledger.record(c, { ...claimed(1), status: 'deferred' }, theirs as string)).toBe('sent');
      expect((await ledger.entries(c, [{ id: contactId(1) }])).get(contactId(1))?.entry.status).toBe('sent');
      expect(await ledger.counts(c)).toEqual({ ...emptyCounts(), sent: 1 });
    });

    it('an erased entry stays erased: an outcome arriving after the erasure writes nothing', async () => {
      const c = campaign();
      const version = await ledger.claim(c, claimed(1));
      expect(await ledger.erase(c, contactId(1))).toBe(true);
      expect(await ledger.erase(c, contactId(1))).toBe(false);
      expect(await ledger.record(c, { ...claimed(1), status: 'sent' }, version as string)).toBeUndefined();
      expect(await ledger.entries(c, [{ id: contactId(1) }])).toEqual(new Map());
      expect(await ledger.counts(c)).toEqual(emptyCounts());
      expect(await readAll(ledger, c)).toEqual(new Map());
    });

    it('lists the unfinished entries, those of one status, and the contact ids with what it knows of them', async () => {
      const c = campaign();
      const versions = await Promise.all([0, 1, 2, 3, 4].map((i) => ledger.claim(c, claimed(i))));
      const v = (i: number) => versions[i] as string;
      await ledger.record(c, { ...claimed(0), status: 'sent' }, v(0));
      await ledger.record(c, { ...claimed(1), status: 'deferred' }, v(1));
      await ledger.record(c, { ...claimed(2), status: 'failed', error: failure('transient', 'error') }, v(2));
      await ledger.record(
        c,
        { ...claimed(3), status: 'failed', error: failure('permanent', 'rejected') },
        v(3),
      );
      // 4 stays claimed.
      const ids = (list: { entry: LedgerEntry }[]) => list.map((r) => r.entry.contact).sort();
      const all = async (status?: 'claimed' | 'deferred' | 'failed') => {
        const out: { entry: LedgerEntry }[] = [];
        for await (const r of ledger.unfinished(c, status)) out.push(r);
        return out;
      };
      expect(ids(await all())).toEqual([contactId(1), contactId(2), contactId(4)].sort());
      expect(ids(await all('claimed'))).toEqual([contactId(4)]);
      expect(ids(await all('failed'))).toEqual([contactId(2)]);
      const listed = await LedgerContactIds.read(ledger, c);
      expect(listed.size).toBe(5);
      for (let i = 0; i < 5; i++) expect(listed.has(contactId(i))).toBe(true);
      expect(listed.has(contactId(5))).toBe(false);
      // A listing that tells finished entries apart never calls an unfinished one finished.
      for (const i of [1, 2, 4]) expect(listed.finished(contactId(i))).toBe(false);
    });

    it('keeps counts equal to a recount of the entries after 1,000 mixed outcomes, takeovers and erasures', async () => {
      const c = campaign();
      const people = Array.from({ length: 1000 }, (_, i) => i);
      const reasons = ['rejected', 'mailbox-full', 'smtp-550'];
      // Each recipient's story is fixed by its number: no randomness to chase when one fails.
      await Promise.all(
        chunks(people, 50).map(async (slice) => {
          for (const i of slice) {
            const first = await ledger.claim(c, claimed(i));
            if (first === undefined) throw new Error(`claim ${i} refused`);
            let version = first;
            if (i % 7 === 0) {
              // Deferred, then taken again by a resume.
              await ledger.record(c, { ...claimed(i), status: 'deferred' }, version);
              const held = (await ledger.entries(c, [{ id: contactId(i) }])).get(contactId(i));
              version = (await ledger.reclaim(
                c,
                claimed(i, { attempts: 2 }),
                held?.version as string,
              )) as string;
            }
            const kind = i % 10;
            if (kind < 5) await ledger.record(c, { ...claimed(i), status: 'sent' }, version);
            else if (kind === 5)
              await ledger.record(
                c,
                { ...claimed(i), status: 'skipped', skippedReason: 'suppressed' },
                version,
              );
            else if (kind === 6)
              await ledger.record(
                c,
                { ...claimed(i), status: 'failed', error: failure('permanent', reasons[i % 3] as string) },
                version,
              );
            else if (kind === 7)
              await ledger.record(
                c,
                { ...claimed(i), status: 'failed', error: failure('transient', 'error') },
                version,
              );
            else if (kind === 8) await ledger.record(c, { ...claimed(i), status: 'deferred' }, version);
            // kind 9: left claimed (a run stopped mid-send).
            if (i % 97 === 0) await ledger.erase(c, contactId(i));
          }
        }),
      );
      const entries = await readAll(ledger, c);
      const recount = emptyCounts();
      for (const { entry } of entries.values()) countEntry(recount, entry);
      const counts = await ledger.counts(c);
      const nonZero = (r: Record<string, number>) =>
        Object.fromEntries(Object.entries(r).filter(([, v]) => v !== 0));
      expect({ ...counts, failedByReason: nonZero(counts.failedByReason) }).toEqual(recount);
      // And the recount is what the stories say.
      const erased = people.filter((i) => i % 97 === 0);
      expect(entries.size).toBe(1000 - erased.length);
      const expected = (kind: number) => people.filter((i) => i % 10 === kind && i % 97 !== 0).length;
      expect(counts.sent).toBe([0, 1, 2, 3, 4].reduce((sum, k) => sum + expected(k), 0));
      expect(counts.skipped).toBe(expected(5));
      expect(counts.failed).toBe(expected(6) + expected(7));
      expect(counts.retryable).toBe(expected(7));
      expect(counts.deferred).toBe(expected(8));
      expect(counts.claimed).toBe(expected(9));
      const unfinished: string[] = [];
      for await (const { entry } of ledger.unfinished(c)) unfinished.push(entry.contact);
      expect(unfinished.sort()).toEqual(
        [...entries.values()]
          .filter((r) => !isTerminal(r.entry))
          .map((r) => r.entry.contact)
          .sort(),
      );
    }, 120_000);
  });
}

function chunks<T>(items: T[], count: number): T[][] {
  const size = Math.ceil(items.length / count);
  return Array.from({ length: count }, (_, i) => items.slice(i * size, (i + 1) * size));
}
