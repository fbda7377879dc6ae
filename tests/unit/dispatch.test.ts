/**
 * Dispatching a campaign into batches and sending each batch (the AWS way), on the memory
 * store: batches and their completion, redelivery, throttling, deadline, pause, uncertain
 * recipients, suppressions read per shard.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { archiveKeys, WithdrawnError } from '../../lambdas/core/archive/manifest.ts';
import { sendBatch, sendPreparedBatch } from '../../lambdas/core/campaigns/batch.ts';
import {
  CampaignNotFoundError,
  campaignFailure,
  campaignKeys,
  readCampaign,
  updateCampaign,
} from '../../lambdas/core/campaigns/campaign.ts';
import {
  dispatchCampaign,
  dispatchKeys,
  type RecipientBatch,
  type RecipientQueue,
} from '../../lambdas/core/campaigns/dispatch.ts';
import { holdSending, liftSendingHold } from '../../lambdas/core/campaigns/hold.ts';
import { CampaignBusyError } from '../../lambdas/core/campaigns/lease.ts';
import {
  claim,
  LedgerContactIds,
  type LedgerEntry,
  readLedger,
} from '../../lambdas/core/campaigns/ledger.ts';
import { SendingHaltedError, ThrottledError } from '../../lambdas/core/campaigns/mailer.ts';
import { storedComposer } from '../../lambdas/core/campaigns/message.ts';
import { encodeTo } from '../../lambdas/core/campaigns/message-skeleton.ts';
import {
  EmbargoError,
  prepareCampaignWith,
  recipientAddress,
  type SendDeps,
} from '../../lambdas/core/campaigns/send.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { unsubscribeAddress } from '../../lambdas/core/contacts/feedback.ts';
import { contactKeys, shardOf } from '../../lambdas/core/contacts/model.ts';
import { verifyUnsubscribeToken } from '../../lambdas/core/contacts/tokens.ts';
import { getJson, listAll, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import {
  CapturingQueue,
  copyOf,
  definition,
  importCsv,
  importJournalists,
  journalist,
  MemoryMailer,
  memoryStore,
  publishReleases,
  registerDraft,
  seededStore,
} from '../support/dispatch-fixtures.ts';

const keys = contactKeys('a-secret-of-at-least-thirty-two-characters');
const now = new Date('2026-01-16T07:30:00Z');
const clock = () => now;
const noSleep = async () => {};

/** The published releases, copied into each test's store. */
let base: MemoryObjectStore;
beforeAll(async () => {
  base = await seededStore(keys, 7);
});

let store: MemoryObjectStore;
beforeEach(async () => {
  store = await copyOf(base);
});

afterEach(() => {
  vi.restoreAllMocks();
});

const noRecord = () => {
  throw new Error('no campaign record');
};

const deps = (mailer: MemoryMailer, s: ObjectStore = store): SendDeps => ({
  store: s,
  mailer,
  keys,
  publicUrl: 'https://press.example.org',
  clock,
  sleep: noSleep,
});

async function dispatched(name = 'etude', per = 3, extra = {}) {
  await registerDraft(store, definition(name));
  const queue = new CapturingQueue();
  const report = await dispatchCampaign(
    name,
    { store, queue, clock },
    { recipientsPerMessage: per, ...extra },
  );
  return { queue, report };
}

describe('dispatchCampaign', () => {
  it('enqueues the audience in batches and records the run with its batch count', async () => {
    const { queue, report } = await dispatched('etude', 3);
    expect(report).toMatchObject({ audience: 7, enqueued: 7, batches: 3, alreadyDone: 0, state: 'sending' });
    expect(queue.batches.map((b) => [b.index, b.recipients.length])).toEqual([
      [0, 3],
      [1, 3],
      [2, 1],
    ]);
    const emails = queue.batches.flatMap((b) => b.recipients.map((r) => r.email)).sort();
    expect(emails).toEqual(Array.from({ length: 7 }, (_, i) => journalist(i)).sort());
    expect(queue.batches[0]?.recipients[0]).toMatchObject({ firstName: 'Zoé' });
    const record = await readCampaign(store, 'etude');
    expect(record.state).toBe('sending');
    expect(record.runs).toEqual([{ startedAt: report.run, heartbeatAt: report.run, batches: 3 }]);
    expect(new Set(queue.batches.map((b) => b.run))).toEqual(new Set([report.run]));
  });

  it('an empty audience finishes the campaign at once', async () => {
    await registerDraft(
      store,
      definition('vide', { audience: { list: 'presse', tags: ['aucun-tag'], tagsMode: 'any' } }),
    );
    const queue = new CapturingQueue();
    const report = await dispatchCampaign('vide', { store, queue, clock }, { recipientsPerMessage: 10 });
    expect(report).toMatchObject({ audience: 0, batches: 0, state: 'sent' });
    expect(queue.batches).toEqual([]);
    const record = await readCampaign(store, 'vide');
    expect(record.state).toBe('sent');
    expect(record.runs[0]).toMatchObject({ batches: 0, outcome: 'completed' });
  });

  it('refuses a release under embargo: nothing enqueued, the error recorded in the campaign, its state kept; a run that starts clears it', async () => {
    await registerDraft(store, definition('tot', { publication: 'sous-embargo' }));
    await updateCampaign(store, 'tot', noRecord, (c) => ({ ...c, state: 'scheduled' }));
    const queue = new CapturingQueue();
    const refused = dispatchCampaign('tot', { store, queue, clock }, { recipientsPerMessage: 10 });
    await expect(refused).rejects.toThrow(EmbargoError);
    const message = ((await refused.catch((e: unknown) => e)) as Error).message;
    expect(message).toMatch(/"sous-embargo" is under embargo until 2026-01-20T07:00:00\.000Z/);
    expect(queue.batches).toEqual([]);
    const record = await readCampaign(store, 'tot');
    expect(record).toMatchObject({ state: 'scheduled', runs: [] });
    expect(record.lease).toBeUndefined();
    expect(record.lastError).toEqual({ at: now.toISOString(), message });
    expect((await campaignStatus(store, 'tot', now)).lastError).toEqual(record.lastError);

    // Once the embargo has passed (the schedule fires again, or someone dispatches it).
    const later = new Date('2026-01-20T07:00:00Z');
    const report = await dispatchCampaign(
      'tot',
      { store, queue, clock: () => later },
      { recipientsPerMessage: 10 },
    );
    expect(report).toMatchObject({ state: 'sending', enqueued: 7 });
    expect((await readCampaign(store, 'tot')).lastError).toBeUndefined();
    expect((await campaignStatus(store, 'tot', later)).lastError).toBeUndefined();
  });

  it('refuses a release withdrawn since: dispatch enqueues nothing, and a batch already queued mails nobody', async () => {
    const { queue } = await dispatched('etude', 3);
    const key = archiveKeys.manifest('etude-villes');
    const manifest = (await getJson<object>(store, key))?.value;
    const withdrawn = { at: now.toISOString(), reason: 'erreur', by: 't@host', wasPublic: true };
    await store.put(key, JSON.stringify({ ...manifest, withdrawn }));
    await registerDraft(store, definition('alert-presse-etude-villes'));
    const later = new CapturingQueue();
    const refused = dispatchCampaign(
      'alert-presse-etude-villes',
      { store, queue: later, clock },
      { recipientsPerMessage: 3 },
    );
    await expect(refused).rejects.toThrow(WithdrawnError);
    expect(later.batches).toEqual([]);
    expect((await readCampaign(store, 'alert-presse-etude-villes')).lastError?.message).toContain(
      '"etude-villes" was withdrawn on',
    );
    const mailer = new MemoryMailer();
    await expect(sendBatch(queue.batches[0] as RecipientBatch, deps(mailer), { rate: 1000 })).rejects.toThrow(
      WithdrawnError,
    );
    expect(mailer.delivered).toEqual([]);
  });

  it('records nothing for a campaign held by another run, a missing campaign, or an error that is not a PressroomError (retried)', async () => {
    const queue = new CapturingQueue();
    await expect(
      dispatchCampaign('nope', { store, queue, clock }, { recipientsPerMessage: 5 }),
    ).rejects.toThrow(CampaignNotFoundError);
    expect(await store.head(campaignKeys.record('nope'))).toBeUndefined();

    await registerDraft(store, definition('etude'));
    await dispatchCampaign('etude', { store, queue, clock }, { recipientsPerMessage: 5 });
    const second = new Date(now.getTime() + 60_000);
    await expect(
      dispatchCampaign('etude', { store, queue, clock: () => second }, { recipientsPerMessage: 5 }),
    ).rejects.toBeInstanceOf(CampaignBusyError);
    expect((await readCampaign(store, 'etude')).lastError).toBeUndefined();

    // S3 failing while the ledger is read: an AWS error, for Lambda's and Scheduler's retries.
    await registerDraft(store, definition('lent'));
    const list = store.list.bind(store);
    vi.spyOn(store, 'list').mockImplementation((prefix, cursor) =>
      prefix.startsWith(campaignKeys.ledgerPrefix('lent'))
        ? Promise.reject(Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' }))
        : list(prefix, cursor),
    );
    await expect(
      dispatchCampaign('lent', { store, queue, clock }, { recipientsPerMessage: 5 }),
    ).rejects.toThrow(/reduce your request rate/);
    expect((await readCampaign(store, 'lent')).lastError).toBeUndefined();
  });

  it('a failed start is recorded with any address in its message masked', () => {
    const at = new Date('2026-01-16T07:30:00Z');
    expect(
      campaignFailure(
        'the store\'s file contacts/x.json is damaged and cannot be read (Unexpected token \'}\', ...", "jeanne.martin@exam"... is not valid JSON)',
        at,
      ),
    ).toEqual({
      at: '2026-01-16T07:30:00.000Z',
      message:
        'the store\'s file contacts/x.json is damaged and cannot be read (Unexpected token \'}\', ...", "<address>"... is not valid JSON)',
    });
    expect(campaignFailure('no contact is on the list "presse-regions"', at).message).toBe(
      'no contact is on the list "presse-regions"',
    );
  });

  it('refuses an unknown campaign and a bad recipientsPerMessage', async () => {
    const queue = new CapturingQueue();
    await expect(dispatchCampaign('nope', { store, queue }, { recipientsPerMessage: 5 })).rejects.toThrow(
      /no campaign "nope"/,
    );
    await registerDraft(store, definition('etude'));
    await expect(dispatchCampaign('etude', { store, queue }, { recipientsPerMessage: 0 })).rejects.toThrow(
      /recipientsPerMessage must be a whole number from 1 to 1000 \(value: 0\)/,
    );
  });

  it('a failed enqueue closes the run as an error and says to dispatch again', async () => {
    await registerDraft(store, definition('etude'));
    const queue: RecipientQueue = {
      enqueue: async () => {
        throw new Error('SQS down');
      },
    };
    await expect(
      dispatchCampaign('etude', { store, queue, clock }, { recipientsPerMessage: 3 }),
    ).rejects.toThrow(/could not all be enqueued \(SQS down\)\. Dispatch it again/);
    expect((await readCampaign(store, 'etude')).runs[0]).toMatchObject({ outcome: 'error' });
    expect(await keysUnder('campaigns/etude/staging/')).toEqual([]);
  });

  it('stages batches in the store as the audience is read, and leaves nothing staged once they are on the queue', async () => {
    const puts: string[] = [];
    const put = store.put.bind(store);
    vi.spyOn(store, 'put').mockImplementation((key, body, options) => {
      puts.push(key);
      return put(key, body, options);
    });
    const { queue, report } = await dispatched('etude', 2);
    expect(report).toMatchObject({ enqueued: 7, batches: 4 });
    // The four batches in one staged object (up to 100 batches or 5,000 recipients each).
    const staged = puts.filter((k) => k.startsWith('campaigns/etude/staging/'));
    expect(staged).toHaveLength(1);
    expect(staged[0]).toMatch(/^campaigns\/etude\/staging\/[0-9TZ]+\/000000\.json$/);
    expect(queue.batches.map((b) => b.index)).toEqual([0, 1, 2, 3]);
    expect(await keysUnder('campaigns/etude/staging/')).toEqual([]);
  });

  it('stages a hundred batches an object: 250 recipients in batches of 2 are two objects, enqueued in order', async () => {
    const big = memoryStore();
    await publishReleases(big);
    await importJournalists(big, keys, 250);
    await registerDraft(big, definition('etude'));
    const puts: string[] = [];
    const put = big.put.bind(big);
    vi.spyOn(big, 'put').mockImplementation((key, body, options) => {
      puts.push(key);
      return put(key, body, options);
    });
    const queue = new CapturingQueue();
    const report = await dispatchCampaign('etude', { store: big, queue, clock }, { recipientsPerMessage: 2 });
    expect(report).toMatchObject({ enqueued: 250, batches: 125 });
    expect(puts.filter((k) => k.includes('/staging/'))).toHaveLength(2);
    expect(queue.batches.map((b) => b.index)).toEqual(Array.from({ length: 125 }, (_, i) => i));
    expect(new Set(queue.batches.flatMap((b) => b.recipients.map((r) => r.id))).size).toBe(250);
    const left: string[] = [];
    for await (const item of listAll(big, 'campaigns/etude/staging/')) left.push(item.key);
    expect(left).toEqual([]);
  });

  it('an unknown list found at the end of the audience: nothing on the queue, nothing left staged, nothing recorded as sending', async () => {
    await registerDraft(
      store,
      definition('deux-listes', { audience: { lists: ['presse', 'lettre-inconnue'], tagsMode: 'any' } }),
    );
    const queue = new CapturingQueue();
    await expect(
      dispatchCampaign('deux-listes', { store, queue, clock }, { recipientsPerMessage: 2 }),
    ).rejects.toThrow(/no contact is on the list "lettre-inconnue"/);
    expect(queue.batches).toEqual([]);
    expect(await keysUnder('campaigns/deux-listes/staging/')).toEqual([]);
    expect((await readCampaign(store, 'deux-listes')).state).toBe('draft');
  });

  it('a run held by another: nothing on the queue, nothing left staged', async () => {
    await dispatched('etude', 3);
    const queue = new CapturingQueue();
    const later = () => new Date(now.getTime() + 60_000);
    await expect(
      dispatchCampaign('etude', { store, queue, clock: later }, { recipientsPerMessage: 3 }),
    ).rejects.toThrow(CampaignBusyError);
    expect(queue.batches).toEqual([]);
    expect(await keysUnder('campaigns/etude/staging/')).toEqual([]);
  });
});

it('removes the batches a killed dispatch staged, once an hour old, and nothing younger', async () => {
  await registerDraft(store, definition('etude'));
  const old = 'campaigns/etude/staging/20260116T050000000Z/000000.json';
  const young = 'campaigns/etude/staging/20260116T072500000Z/000000.json';
  await store.put(old, '{}');
  await store.put(young, '{}');
  const stamped = store.list.bind(store);
  vi.spyOn(store, 'list').mockImplementation(async (prefix, options) => {
    const page = await stamped(prefix, options);
    return {
      ...page,
      items: page.items.map((i) => ({
        ...i,
        lastModified:
          i.key === old
            ? new Date(now.getTime() - 2 * 3600_000)
            : i.key === young
              ? new Date(now.getTime() - 5 * 60_000)
              : i.lastModified,
      })),
    };
  });
  await dispatchCampaign('etude', { store, queue: new CapturingQueue(), clock }, { recipientsPerMessage: 3 });
  expect(await keysUnder('campaigns/etude/staging/')).toEqual([young]);
});

async function keysUnder(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const item of listAll(store, prefix)) out.push(item.key);
  return out;
}

describe('the message skeleton dispatch stores for the send function', () => {
  /** A batch sent as the send function sends it: from the stored skeleton and each queued To. */
  const sendAsTheFunction = (batch: RecipientBatch, d: SendDeps) =>
    sendPreparedBatch(batch, d, { rate: 1000 }, (definition) =>
      prepareCampaignWith(storedComposer(d.store, batch.campaign), definition, d, { checkApproval: false }),
    );
  const subjects = (mailer: MemoryMailer) =>
    mailer.delivered.map((m) => /\r\nSubject: ([^\r]*)\r\n/.exec(Buffer.from(m.raw).toString('utf8'))?.[1]);

  it("queues each recipient's encoded To, and an advance copy's batches go out before and after the embargo", async () => {
    await registerDraft(
      store,
      definition('avance', { publication: 'sous-embargo', advance: { zone: 'Europe/Paris' } }),
    );
    const queue = new CapturingQueue();
    await dispatchCampaign('avance', { store, queue, clock }, { recipientsPerMessage: 4 });
    const [first, second] = queue.batches as [RecipientBatch, RecipientBatch];
    for (const r of [...first.recipients, ...second.recipients])
      expect(r.to).toBe(encodeTo(recipientAddress(r)));
    expect(first.recipients[0]?.to).toMatch(
      /^=\?UTF-8\?Q\?Zo=C3=A9_Lef=C3=A8vre-\d\?=\r\n <journaliste\.\d@/,
    );

    const before = new MemoryMailer();
    expect(await sendAsTheFunction(first, deps(before))).toMatchObject({ sent: 4, failed: 0 });
    // The embargo (2026-01-20 07:00 UTC) has passed when the second batch is sent.
    const after = new MemoryMailer();
    const later = () => new Date('2026-01-21T07:30:00Z');
    expect(await sendAsTheFunction(second, { ...deps(after), clock: later })).toMatchObject({
      sent: 3,
      failed: 0,
    });
    for (const subject of subjects(before)) expect(subject).toMatch(/^=\?UTF-8\?Q\?=5BEmbargo_20_janvier_8/);
    expect(subjects(after)).toEqual(
      ['Communiqu=C3=A9_avance', 'Communiqu=C3=A9_avance', 'Communiqu=C3=A9_avance'].map(
        (s) => `=?UTF-8?Q?${s}?=`,
      ),
    );
    const to = (m: MemoryMailer) =>
      m.delivered.map((d) => /\r\nTo: ((?:[^\r]|\r\n )*)\r\n/.exec(Buffer.from(d.raw).toString('utf8'))?.[1]);
    // Messages of a batch go out concurrently: compare as sets, not in order.
    expect([...to(before), ...to(after)].sort()).toEqual(
      [...first.recipients, ...second.recipients].map((r) => r.to).sort(),
    );
  });

  it('refuses, before claiming anyone, a batch whose campaign changed since dispatch', async () => {
    const { queue } = await dispatched('etude', 4);
    await updateCampaign(store, 'etude', undefined as never, (r) => ({
      ...r,
      definition: { ...r.definition, subject: 'Autre' },
    }));
    await expect(
      sendAsTheFunction(queue.batches[0] as RecipientBatch, deps(new MemoryMailer())),
    ).rejects.toThrow(/no message skeleton .*dispatch it again/);
    expect((await readLedger(store, 'etude')).size).toBe(0);
  });
});

describe('LedgerContactIds', () => {
  const id = (i: number) => keys.idOf(journalist(i));
  it('knows the contacts with a ledger entry from the keys alone, in 16 bytes each', async () => {
    for (const i of [0, 3, 5]) {
      await claim(store, 'etude', {
        contact: id(i),
        email: journalist(i),
        status: 'claimed',
        messageId: `<${i}@x>`,
        attempts: 0,
        claimedAt: now.toISOString(),
      });
    }
    await store.put('campaigns/etude/ledger/not-an-id.json', '{}');
    const ids = await LedgerContactIds.read(store, 'etude');
    expect(ids.size).toBe(3);
    for (let i = 0; i < 7; i++) expect(ids.has(id(i)), String(i)).toBe([0, 3, 5].includes(i));
    expect(ids.has('not-an-id')).toBe(false);
    expect((await LedgerContactIds.read(store, 'autre')).has(id(0))).toBe(false);
  });

  it('sorts a listing that was not in key order', async () => {
    const wanted = Array.from({ length: 40 }, (_, i) => id(i));
    const reversed: ObjectStore = {
      ...store,
      list: async () => ({
        items: [...wanted]
          .sort()
          .reverse()
          .map((c) => ({ key: `campaigns/etude/ledger/${c}.json`, size: 2, version: '1' })),
      }),
    } as unknown as ObjectStore;
    const ids = await LedgerContactIds.read(reversed, 'etude');
    expect(ids.size).toBe(40);
    for (const c of wanted) expect(ids.has(c)).toBe(true);
    expect(ids.has(keys.idOf('personne@exemple.org'))).toBe(false);
  });
});

describe('sendBatch', () => {
  it('sends each batch; the last one closes the run and marks the campaign sent', async () => {
    const { queue, report } = await dispatched('etude', 3);
    const mailer = new MemoryMailer();
    const reports = [];
    for (const batch of queue.batches) reports.push(await sendBatch(batch, deps(mailer), { rate: 1000 }));
    expect(reports.map((r) => [r.sent, r.deferred.length, r.completed, r.closed])).toEqual([
      [3, 0, true, false],
      [3, 0, true, false],
      [1, 0, true, true],
    ]);
    expect(mailer.delivered.map((m) => m.to).sort()).toEqual(
      Array.from({ length: 7 }, (_, i) => journalist(i)).sort(),
    );
    const ledger = await readLedger(store, 'etude');
    expect([...ledger.values()].map((r) => r.entry.status)).toEqual(Array(7).fill('sent'));
    const record = await readCampaign(store, 'etude');
    expect(record.state).toBe('sent');
    expect(record.runs[0]).toMatchObject({ startedAt: report.run, outcome: 'completed', batches: 3 });
    expect(await store.head(dispatchKeys.batchDone('etude', report.run, 2))).toBeDefined();

    // Delivered again (SQS is at-least-once): nothing more is sent.
    const again = await sendBatch(queue.batches[0] as RecipientBatch, deps(mailer), { rate: 1000 });
    expect(again).toMatchObject({ sent: 0, alreadyDone: 3, completed: true, closed: false });
    expect(mailer.delivered).toHaveLength(7);

    // And dispatching again enqueues nobody.
    const second = await dispatchCampaign(
      'etude',
      { store, queue: new CapturingQueue(), clock },
      {
        recipientsPerMessage: 3,
      },
    );
    expect(second).toMatchObject({ batches: 0, alreadyDone: 7, state: 'sent' });
  });

  it('a throttled recipient is deferred; the batch does not complete until a retry sends it', async () => {
    const { queue } = await dispatched('etude', 7);
    const batch = queue.batches[0] as RecipientBatch;
    const victim = batch.recipients[2]?.email;
    const throttling = new MemoryMailer((m) => {
      if (m.to === victim) throw new ThrottledError('Maximum sending rate exceeded');
    });
    const first = await sendBatch(batch, deps(throttling), { rate: 1000, maxThrottleRetries: 2 });
    expect(first).toMatchObject({ sent: 6, completed: false, closed: false });
    expect(first.deferred).toEqual([batch.recipients[2]?.id]);
    expect((await readCampaign(store, 'etude')).state).toBe('sending');

    const calm = new MemoryMailer();
    const retry = await sendBatch(batch, deps(calm), { rate: 1000 });
    expect(retry).toMatchObject({ sent: 1, alreadyDone: 6, deferred: [], completed: true, closed: true });
    expect(calm.delivered.map((m) => m.to)).toEqual([victim]);
    expect((await readCampaign(store, 'etude')).state).toBe('sent');
  });

  it('takes no recipient after the deadline: all left deferred, nothing sent', async () => {
    const { queue } = await dispatched('etude', 7);
    const mailer = new MemoryMailer();
    const report = await sendBatch(queue.batches[0] as RecipientBatch, deps(mailer), {
      rate: 1000,
      deadline: Date.now() - 1,
    });
    expect(report.deferred).toHaveLength(7);
    expect(report.sent).toBe(0);
    expect(mailer.calls).toBe(0);
  });

  it('a provider refusing everything pauses the campaign; later batches are dropped', async () => {
    const { queue } = await dispatched('etude', 3);
    const halting = new MemoryMailer(() => {
      throw new SendingHaltedError('SES refuses to send (AccountSendingPausedException)');
    });
    const first = await sendBatch(queue.batches[0] as RecipientBatch, deps(halting), { rate: 1000 });
    expect(first.halted).toMatch(/AccountSendingPausedException/);
    expect(first.failed).toBe(0);
    const record = await readCampaign(store, 'etude');
    expect(record.state).toBe('paused');
    expect(record.runs[0]).toMatchObject({ outcome: 'paused' });

    const fine = new MemoryMailer();
    const second = await sendBatch(queue.batches[1] as RecipientBatch, deps(fine), { rate: 1000 });
    expect(second).toMatchObject({ dropped: 'campaign paused', sent: 0 });
    expect(fine.calls).toBe(0);

    // Dispatching again resumes with everyone not yet sent.
    const resumed = await dispatchCampaign(
      'etude',
      { store, queue: new CapturingQueue(), clock },
      {
        recipientsPerMessage: 3,
      },
    );
    expect(resumed).toMatchObject({ enqueued: 7, state: 'sending' });
  });

  it('an uncertain recipient is left out, and resent once with resendUncertain', async () => {
    await registerDraft(store, definition('etude'));
    const id = keys.idOf(journalist(0));
    const entry: LedgerEntry = {
      contact: id,
      email: journalist(0),
      status: 'claimed',
      messageId: '<etude.x@villes-internet.example.org>',
      attempts: 1,
      claimedAt: '2026-01-16T07:00:00.000Z',
    };
    await claim(store, 'etude', entry);
    const plain = new CapturingQueue();
    const report = await dispatchCampaign(
      'etude',
      { store, queue: plain, clock },
      { recipientsPerMessage: 10 },
    );
    expect(report.uncertain).toEqual([id]);
    expect(report.enqueued).toBe(6);

    const resend = new CapturingQueue();
    await dispatchCampaign(
      'etude',
      { store, queue: resend, clock },
      {
        recipientsPerMessage: 10,
        resendUncertain: true,
      },
    );
    const batch = resend.batches[0] as RecipientBatch;
    expect(batch.recipients.find((r) => r.id === id)?.resendClaimedAt).toBe(entry.claimedAt);
    const mailer = new MemoryMailer();
    expect((await sendBatch(batch, deps(mailer), { rate: 1000 })).sent).toBe(7);
    // Delivered again: the recipient is sent, not uncertain any more, and not resent.
    expect((await sendBatch(batch, deps(mailer), { rate: 1000 })).sent).toBe(0);
    expect(mailer.delivered.filter((m) => m.to === journalist(0))).toHaveLength(1);
  });

  it('a batch redelivered while its claim is open treats that recipient as uncertain', async () => {
    const { queue } = await dispatched('etude', 7);
    const batch = queue.batches[0] as RecipientBatch;
    const r = batch.recipients[0];
    await claim(store, 'etude', {
      contact: r?.id as string,
      email: r?.email as string,
      status: 'claimed',
      messageId: '<m@x>',
      attempts: 1,
      claimedAt: now.toISOString(),
    });
    const mailer = new MemoryMailer();
    const report = await sendBatch(batch, deps(mailer), { rate: 1000 });
    expect(report.uncertain).toEqual([r?.id]);
    expect(report.sent).toBe(6);
    expect(mailer.delivered.some((m) => m.to === r?.email)).toBe(false);
  });

  it('skips a recipient who unsubscribed after the dispatch, reading each suppression shard once', async () => {
    const { queue } = await dispatched('etude', 7);
    await unsubscribeAddress(store, keys, journalist(3), now);
    const batch = queue.batches[0] as RecipientBatch;
    const reads: string[] = [];
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'get')
          return (key: string) => {
            reads.push(key);
            return target.get(key);
          };
        return Reflect.get(target, prop, receiver);
      },
    });
    const mailer = new MemoryMailer();
    const report = await sendBatch(batch, deps(mailer, counting), { rate: 1000 });
    expect(report).toMatchObject({ sent: 6, skipped: 1, completed: true });
    expect(mailer.delivered.some((m) => m.to === journalist(3))).toBe(false);
    const shardReads = reads.filter((k) => k.startsWith('suppressions/'));
    const shards = new Set(batch.recipients.map((x) => shardOf(x.id)));
    expect(shardReads.sort()).toEqual([...shards].map((s) => `suppressions/shards/${s}.json`).sort());
    // Ledger entries of the batch only: no listing of the whole ledger.
    expect(reads.filter((k) => k.includes('/ledger/')).length).toBeLessThanOrEqual(
      2 * batch.recipients.length,
    );
  });
});

describe('a campaign to several lists, dispatched', () => {
  it('carries the lists of a recipient not reached through all of them, and the message names them', async () => {
    // journalist 0 and 1 are also on "lettre"; journalist 1 left "presse".
    const csv = ['Courriel', journalist(0), journalist(1)].join('\r\n');
    await importCsv({ store, keys }, csv, { file: 'lettre.csv', list: 'lettre', now });
    await unsubscribeAddress(store, keys, journalist(1), now, 'presse');
    await registerDraft(
      store,
      definition('deux', { audience: { lists: ['presse', 'lettre'], tagsMode: 'any' } }),
    );
    const queue = new CapturingQueue();
    const report = await dispatchCampaign('deux', { store, queue, clock }, { recipientsPerMessage: 10 });
    expect(report).toMatchObject({ audience: 7, enqueued: 7 });
    const recipients = queue.batches.flatMap((b) => b.recipients);
    const byEmail = new Map(recipients.map((r) => [r.email, r]));
    expect(byEmail.get(journalist(0))?.lists).toBeUndefined();
    expect(byEmail.get(journalist(1))?.lists).toEqual(['lettre']);
    expect(byEmail.get(journalist(2))?.lists).toEqual(['presse']);

    const mailer = new MemoryMailer();
    await sendBatch(queue.batches[0] as RecipientBatch, deps(mailer), { rate: 1000 });
    const sent = (address: string) => {
      const raw = Buffer.from(mailer.delivered.find((m) => m.to === address)?.raw ?? []).toString('latin1');
      const token = /\/unsubscribe\/([^>\s]+)>/.exec(raw)?.[1] ?? '';
      const payload = verifyUnsubscribeToken(keys, token);
      return { lists: payload.lists ?? [payload.list], listId: /^List-Id: ([^\r\n]*)/im.exec(raw)?.[1] };
    };
    expect(sent(journalist(0))).toEqual({
      lists: ['presse', 'lettre'],
      listId: '<presse.villes-internet.example.org>',
    });
    expect(sent(journalist(1))).toEqual({
      lists: ['lettre'],
      listId: '<lettre.villes-internet.example.org>',
    });
  });
});

describe('the sending hold in campaign status', () => {
  it('campaign status shows the hold while it is on, and not after', async () => {
    await dispatched('etude', 3);
    const { hold, paused } = await holdSending(store, 'alarm BounceRateReview: 6 %', 'BounceRateReview', now);
    expect(paused).toEqual(['etude']);
    expect((await campaignStatus(store, 'etude', now)).hold).toEqual(hold);
    expect((await campaignStatus(store, 'etude', now)).pausedReason).toMatch(/^sending is held since/);
    await liftSendingHold(store);
    expect((await campaignStatus(store, 'etude', now)).hold).toBeUndefined();
  });
});
