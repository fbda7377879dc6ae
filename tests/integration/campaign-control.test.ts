import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { readCampaign, updateCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { resumeCampaign, stopCampaign } from '../../lambdas/core/campaigns/control.ts';
import { readLedger } from '../../lambdas/core/campaigns/ledger.ts';
import type { Mailer, OutgoingMessage } from '../../lambdas/core/campaigns/mailer.ts';
import { type SendDeps, sendCampaign } from '../../lambdas/core/campaigns/send.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { BusyError } from '../../lambdas/core/errors.ts';
import {
  definition,
  importJournalists,
  journalist,
  keys,
  publicUrl,
  publishReleases,
} from '../support/dispatch-fixtures.ts';

/**
 * `campaign stop` and `campaign resume` on a folder store, with a mailer that is not
 * idempotent: a stop in the middle of a send pauses it before its next recipient, a resume
 * sends the rest, and everyone receives exactly one message; a run that was killed holding the
 * lease is taken over by a resume at once when its process is known dead.
 */

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function world(recipients: number) {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-control-'));
  roots.push(root);
  const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl });
  await publishReleases(store);
  await importJournalists(store, keys, recipients);
  return store;
}

/** A mailer that takes `latencyMs` a message and counts what each address received. */
class SlowMailer implements Mailer {
  readonly name = 'slow';
  readonly idempotent = false;
  readonly delivered: OutgoingMessage[] = [];
  constructor(
    private readonly latencyMs: number,
    /** Called before each send; the send waits for what it returns. */
    private readonly onSend?: (call: number) => unknown,
  ) {}
  async send(message: OutgoingMessage) {
    await this.onSend?.(this.delivered.length + 1);
    await new Promise((r) => setTimeout(r, this.latencyMs));
    this.delivered.push(message);
    return { providerMessageId: `slow-${this.delivered.length}` };
  }
  count(address: string) {
    return this.delivered.filter((m) => m.to === address).length;
  }
}

const deps = (store: FolderObjectStore, mailer: Mailer, extra: Partial<SendDeps> = {}): SendDeps => ({
  store,
  mailer,
  keys,
  publicUrl,
  ...extra,
});

describe('stop in the middle of a send, then resume', () => {
  it('pauses before the next recipient, and the resume mails each remaining one once', async () => {
    // Enough recipients that the run is still going well after the stop is written, however
    // slow the machine: the fifth send waits for the stop, the other worker goes on.
    const recipients = 200;
    const store = await world(recipients);
    let stopping: Promise<unknown> | undefined;
    const mailer = new SlowMailer(15, (call) => {
      if (call === 5) stopping = stopCampaign('etude-stop', { store, by: 'alice@poste-b' });
      return call === 5 ? stopping : undefined;
    });
    const report = await sendCampaign(definition('etude-stop'), deps(store, mailer), {
      concurrency: 2,
      rate: 200,
    });
    await stopping;
    expect(report.state).toBe('paused');
    expect(report.pausedReason).toMatch(/^stopped by alice@poste-b at \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const sentBefore = mailer.delivered.length;
    expect(sentBefore).toBeGreaterThanOrEqual(5);
    expect(sentBefore).toBeLessThan(recipients);
    const paused = await readCampaign(store, 'etude-stop');
    expect(paused).toMatchObject({ state: 'paused' });
    expect(paused.lease).toBeUndefined();
    expect(paused.runs.map((r) => r.outcome)).toEqual(['paused']);
    // Nobody in flight is left uncertain: the sends in flight finished and were recorded.
    const status = await campaignStatus(store, 'etude-stop');
    expect(status).toMatchObject({
      state: 'paused',
      sent: sentBefore,
      uncertain: 0,
      remaining: recipients - sentBefore,
    });

    const resumed = await resumeCampaign('etude-stop', deps(store, mailer), { rate: 500 });
    expect(resumed).toMatchObject({ state: 'sent', sent: recipients - sentBefore, alreadyDone: sentBefore });
    for (let i = 0; i < recipients; i++) expect(mailer.count(journalist(i)), journalist(i)).toBe(1);
    const done = await readCampaign(store, 'etude-stop');
    expect(done.pausedReason).toBeUndefined();
    expect(done.runs.map((r) => r.outcome)).toEqual(['paused', 'completed']);
    // Nothing left: a second resume is refused as sent.
    await expect(resumeCampaign('etude-stop', deps(store, mailer))).rejects.toThrow(/is sent/);
  });

  it("takes over a killed run's lease at once when its process is known dead, and mails nobody twice", async () => {
    const recipients = 12;
    const store = await world(recipients);
    const mailer = new SlowMailer(1);
    // A first run is interrupted after a few messages (as by Ctrl-C)...
    const controller = new AbortController();
    const first = new SlowMailer(1, (call) => {
      if (call === 4) controller.abort();
    });
    const interrupted = await sendCampaign(definition('etude-kill'), deps(store, first), {
      concurrency: 1,
      signal: controller.signal,
    });
    expect(interrupted).toMatchObject({ state: 'sending', interrupted: true });
    // ...then another is killed (kill -9) holding the lease: its run is left open.
    const killedAt = new Date().toISOString();
    await updateCampaign(
      store,
      'etude-kill',
      () => {
        throw new Error('there');
      },
      (c) => ({
        ...c,
        lease: {
          id: 'killed',
          holder: 'poste-a pid 4242',
          host: 'poste-a',
          pid: 4242,
          since: killedAt,
          expiresAt: new Date(Date.now() + 90_000).toISOString(),
        },
        runs: [...c.runs, { startedAt: killedAt, heartbeatAt: killedAt }],
      }),
    );
    // Nobody can tell it is dead: refused, naming the holder.
    const busy = await resumeCampaign('etude-kill', deps(store, mailer)).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(BusyError);
    expect((busy as Error).message).toContain('is being sent by poste-a pid 4242 since');
    // Its process is known gone: taken over at once.
    const report = await resumeCampaign(
      'etude-kill',
      deps(store, mailer, { holderAlive: (lease) => (lease.host === 'poste-a' ? false : undefined) }),
    );
    expect(report).toMatchObject({ state: 'sent', alreadyDone: first.delivered.length });
    for (let i = 0; i < recipients; i++) {
      expect(first.count(journalist(i)) + mailer.count(journalist(i)), journalist(i)).toBe(1);
    }
    const record = await readCampaign(store, 'etude-kill');
    expect(record.runs.map((r) => r.outcome)).toEqual(['interrupted', 'abandoned', 'completed']);
    const ledger = await readLedger(store, 'etude-kill');
    expect([...ledger.values()].every(({ entry }) => entry.status === 'sent')).toBe(true);
  });
});
