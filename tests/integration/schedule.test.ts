/**
 * Scheduling (lambdas/core/campaigns/schedule.ts) on a temporary FolderObjectStore with an
 * injected clock: refusals, due / not due, a campaign missed while nothing ran, two runners at
 * once, cancel, reschedule, the daylight-saving changes of Europe/Paris, and the embargo guard
 * in the send path (scheduled run, manual send, the press room through the due-job runner).
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDueJobRunner } from '../../lambdas/adapters/due-job-runner.ts';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { readPending } from '../../lambdas/core/archive/catalog.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease, releaseDueEmbargoes } from '../../lambdas/core/archive/publish.ts';
import {
  type CampaignDefinition,
  CampaignNotFoundError,
  campaignNames,
  readCampaign,
  updateCampaign,
} from '../../lambdas/core/campaigns/campaign.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { leaseMs, takeLease } from '../../lambdas/core/campaigns/lease.ts';
import { readLedger } from '../../lambdas/core/campaigns/ledger.ts';
import type { Mailer, OutgoingMessage } from '../../lambdas/core/campaigns/mailer.ts';
import {
  cancelCampaign,
  dueCampaigns,
  runDueCampaigns,
  ScheduleError,
  scheduleCampaign,
} from '../../lambdas/core/campaigns/schedule.ts';
import {
  EmbargoError,
  type SendDeps,
  type SendOptions,
  sendCampaign,
} from '../../lambdas/core/campaigns/send.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { formatInZone } from '../../lambdas/core/campaigns/time.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { getText, listAll, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { importCsv, keys, publicUrl, releaseDeps, releaseWorkspace } from '../support/dispatch-fixtures.ts';
import { memoryFiles, releaseText } from '../support/memory-files.ts';

/** When the releases were published and the contacts imported. */
const setupAt = new Date('2026-03-20T09:00:00Z');
/** The embargoed release's embargo: 08:00 in Paris (winter time) on 2026-03-25. */
const embargo = '2026-03-25T07:00:00.000Z';
const sendOptions: SendOptions = { rate: 1000 };

const emails = [
  'zoe.lhote@quotidien.example.org',
  'helene.lefevre@radio.example.com',
  'francois.beranger@hebdo.example.org',
  'maelle.dupre@agence.example.com',
  'jerome.muller@web.example.org',
];

const roots: string[] = [];
let baseRoot: string;
let templates: TemplateSet;

async function tempRoot(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-schedule-'));
  roots.push(root);
  return root;
}

const storeAt = (root: string) => new FolderObjectStore({ root, signingSecret: 's', publicUrl });

/** The workspace's files: the embargoed release is under `embargo`. */
const workspace = () => releaseWorkspace('embargo: 2026-03-25T08:00:00+01:00\n');

const publishDeps = (store: ObjectStore, files: Record<string, string>, clock: () => Date) =>
  releaseDeps(store, templates, memoryFiles(files), clock);

beforeAll(async () => {
  templates = await loadTemplateFiles();
  baseRoot = await tempRoot();
  const store = storeAt(baseRoot);
  const deps = publishDeps(store, workspace(), () => setupAt);
  expect((await publishRelease('publications/etude.md', deps)).state).toBe('public');
  expect((await publishRelease('publications/embargo.md', deps)).state).toBe('embargoed');
  const csv = ['Courriel;Prénom;Langue', ...emails.map((e, i) => `${e};Personne ${i};fr`)].join('\r\n');
  const report = await importCsv({ store, keys }, csv, { file: 'presse.csv', list: 'presse', now: setupAt });
  expect(report).toMatchObject({ added: emails.length, rejected: [] });
});

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** A mailer in memory that records every delivery; `latencyMs` widens race windows. */
class RecordingMailer implements Mailer {
  readonly name = 'recording';
  readonly idempotent = false;
  readonly delivered: OutgoingMessage[] = [];
  constructor(private readonly options: { latencyMs?: number; after?: (count: number) => void } = {}) {}

  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    this.delivered.push(message);
    this.options.after?.(this.delivered.length);
    return { providerMessageId: `rec-${this.delivered.length}` };
  }

  /** Deliveries per address, e.g. { "a@x": 1 }. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.delivered) out[m.to] = (out[m.to] ?? 0) + 1;
    return out;
  }
}

const everyoneOnce = Object.fromEntries(emails.map((e) => [e, 1]));

/** A copy of the base store, a movable clock, a mailer, and the deps built on them. */
async function setup(files = workspace()) {
  const root = await tempRoot();
  await cp(baseRoot, root, { recursive: true });
  const store = storeAt(root);
  const clock = { now: setupAt };
  const mailer = new RecordingMailer();
  const send: SendDeps = { store, mailer, keys, publicUrl, clock: () => clock.now };
  const publish = publishDeps(store, files, () => clock.now);
  return { root, store, clock, mailer, send, publish, files };
}

async function campaign(fields: Record<string, string> = {}): Promise<CampaignDefinition> {
  const all: Record<string, string> = {
    name: 'etude-programmee',
    publication: 'etude-villes',
    audience: '\n  list: presse',
    from: '"Villes Internet <presse@villes-internet.example.org>"',
    ...fields,
  };
  const yaml = Object.entries(all)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return loadCampaignFile('campaigns/c.yaml', memoryFiles({ 'campaigns/c.yaml': `${yaml}\n` }));
}

const at = (iso: string) => new Date(iso);
const schedule = (definition: CampaignDefinition, s: { store: ObjectStore; clock: { now: Date } }) =>
  scheduleCampaign(definition, { store: s.store, clock: () => s.clock.now }, 'campaigns/c.yaml');
const stateOf = async (store: ObjectStore, name = 'etude-programmee') =>
  (await readCampaign(store, name)).state;

describe('scheduling refusals', () => {
  it('refuses a campaign without sendAt, and records nothing', async () => {
    const s = await setup();
    const refused = schedule(await campaign(), s);
    await expect(refused).rejects.toBeInstanceOf(ScheduleError);
    await expect(refused).rejects.toThrow(/no sendAt/);
    await expect(readCampaign(s.store, 'etude-programmee')).rejects.toBeInstanceOf(CampaignNotFoundError);
    expect(await dueCampaigns(s.store, at('2030-01-01T00:00:00Z'))).toEqual([]);
  });

  it('refuses a time in the past (and the present), saying so', async () => {
    const s = await setup();
    const past = schedule(await campaign({ sendAt: '2026-03-20T09:00 Europe/Paris' }), s); // 08:00Z
    await expect(past).rejects.toBeInstanceOf(ScheduleError);
    await expect(past).rejects.toThrow(/in the past/);
    const now = schedule(await campaign({ sendAt: '2026-03-20T09:00:00Z' }), s);
    await expect(now).rejects.toThrow(/in the past/);
    await expect(readCampaign(s.store, 'etude-programmee')).rejects.toBeInstanceOf(CampaignNotFoundError);
    expect(await campaignNames(s.store)).toEqual([]);
  });

  it("refuses a time before the release's embargo with EmbargoError, and accepts the embargo itself", async () => {
    const s = await setup();
    const early = schedule(
      await campaign({ publication: 'sous-embargo', sendAt: '2026-03-25T07:59 Europe/Paris' }),
      s,
    );
    await expect(early).rejects.toBeInstanceOf(EmbargoError);
    await expect(early).rejects.toThrow(/before the embargo of "sous-embargo" \(2026-03-25T07:00:00\.000Z\)/);
    await expect(readCampaign(s.store, 'etude-programmee')).rejects.toBeInstanceOf(CampaignNotFoundError);

    const onTime = await schedule(
      await campaign({ publication: 'sous-embargo', sendAt: '2026-03-25T08:00 Europe/Paris' }),
      s,
    );
    expect(onTime.state).toBe('scheduled');
    expect(onTime.definition.sendAt?.utc).toBe(embargo);
  });

  it('refuses a release that is not in the archive', async () => {
    const s = await setup();
    await expect(
      schedule(await campaign({ publication: 'inconnue', sendAt: '2026-04-01T08:00:00Z' }), s),
    ).rejects.toThrow(/no release "inconnue"/);
    expect(await dueCampaigns(s.store, at('2030-01-01T00:00:00Z'))).toEqual([]);
  });
});

describe('running due campaigns', () => {
  it('sends nothing before the time, everyone once at the time, and nothing more afterwards', async () => {
    const s = await setup();
    const saved = await schedule(await campaign({ sendAt: '2026-03-23T10:00:00+01:00' }), s);
    expect(saved).toMatchObject({ state: 'scheduled', source: 'campaigns/c.yaml' });
    expect(saved.definition.sendAt).toMatchObject({ utc: '2026-03-23T09:00:00.000Z', zone: 'UTC+01:00' });
    expect(await campaignNames(s.store)).toEqual(['etude-programmee']);

    s.clock.now = at('2026-03-23T08:59:59Z');
    expect(await dueCampaigns(s.store, s.clock.now)).toEqual([]);
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    expect(s.mailer.delivered).toEqual([]);
    expect(await stateOf(s.store)).toBe('scheduled');

    s.clock.now = at('2026-03-23T09:00:00Z');
    expect(await dueCampaigns(s.store, s.clock.now)).toEqual(['etude-programmee']);
    const runs = await runDueCampaigns(s.send, sendOptions);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      name: 'etude-programmee',
      report: { state: 'sent', sent: emails.length, failed: 0, skipped: 0 },
    });
    expect(s.mailer.counts()).toEqual(everyoneOnce);
    expect(await stateOf(s.store)).toBe('sent');
    const record = await readCampaign(s.store, 'etude-programmee');
    expect(record.runs).toHaveLength(1);
    expect(record.runs[0]).toMatchObject({ startedAt: '2026-03-23T09:00:00.000Z', outcome: 'completed' });

    s.clock.now = at('2026-03-23T09:01:00Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    expect(s.mailer.delivered).toHaveLength(emails.length);
  });

  it('runs a campaign missed while the runner was down once, when it comes back within the window', async () => {
    const s = await setup();
    await schedule(await campaign({ sendAt: '2026-03-23T08:00 Europe/Paris' }), s);
    // The server was down for 40 minutes: within the default window of an hour.
    s.clock.now = at('2026-03-23T07:40:00Z');
    const first = await runDueCampaigns(s.send, sendOptions);
    expect(first.map((r) => [r.name, r.report?.state, r.report?.sent])).toEqual([
      ['etude-programmee', 'sent', emails.length],
    ]);
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    s.clock.now = at('2026-03-27T15:42:00Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    expect(s.mailer.counts()).toEqual(everyoneOnce);
    expect(await stateOf(s.store)).toBe('sent');
  });

  it('pauses a campaign missed for longer than the window with the reason, sending nothing; a send resumes it', async () => {
    const s = await setup();
    await schedule(await campaign({ sendAt: '2026-03-23T08:00 Europe/Paris' }), s);
    // The server was down for three days: the announcement may be stale.
    s.clock.now = at('2026-03-26T15:42:00Z');
    const runs = await runDueCampaigns(s.send, sendOptions);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.name).toBe('etude-programmee');
    expect(runs[0]?.error).toMatch(
      /^the schedule fired 4842 min late \(set for 2026-03-23T07:00:00\.000Z; the window is 60 min\): paused instead of sending a stale announcement\. Resume to send/,
    );
    expect(s.mailer.delivered).toEqual([]);
    const paused = await readCampaign(s.store, 'etude-programmee');
    expect(paused).toMatchObject({ state: 'paused', pausedReason: runs[0]?.error });
    expect(paused.lastError?.message).toBe(runs[0]?.error);
    // Not due any more: the next look sends nothing and says nothing.
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    expect(await dueCampaigns(s.store, s.clock.now)).toEqual([]);
    // Resumed by hand: everyone once.
    await sendCampaign(paused.definition, s.send, sendOptions);
    expect(s.mailer.counts()).toEqual(everyoneOnce);
    expect(await stateOf(s.store)).toBe('sent');
  });

  it('takes over a scheduled run that died (no heartbeat for longer than the lease), once', async () => {
    const s = await setup();
    await schedule(await campaign({ sendAt: '2026-03-23T08:00:00Z' }), s);
    // A runner took it at 08:00 and was killed at once: state sending, its run never ended.
    const diedAt = '2026-03-23T08:00:00.000Z';
    await updateCampaign(
      s.store,
      'etude-programmee',
      () => {
        throw new Error('the campaign should exist');
      },
      (current) => ({ ...current, state: 'sending', runs: [{ startedAt: diedAt, heartbeatAt: diedAt }] }),
    );
    s.clock.now = at('2026-03-23T08:00:30Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    expect(s.mailer.delivered).toHaveLength(0);
    s.clock.now = at('2026-03-23T08:05:00Z');
    const runs = await runDueCampaigns(s.send, sendOptions);
    expect(runs.map((r) => [r.name, r.report?.state])).toEqual([['etude-programmee', 'sent']]);
    expect(s.mailer.counts()).toEqual(everyoneOnce);
    const record = await readCampaign(s.store, 'etude-programmee');
    expect(record.runs[0]).toMatchObject({ startedAt: diedAt, outcome: 'abandoned' });
    expect(record.runs.at(-1)).toMatchObject({ outcome: 'completed' });
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
  });

  it('leaves a campaign someone is sending to them (the same lease as pressroom send), and takes it over once the lease runs out', async () => {
    const s = await setup();
    await schedule(await campaign({ sendAt: '2026-03-23T08:00:00Z' }), s);
    const heldAt = at('2026-03-23T08:00:05Z');
    // `pressroom send` on another machine took it at 08:00:05 and is sending.
    await updateCampaign(
      s.store,
      'etude-programmee',
      () => {
        throw new Error('the campaign should exist');
      },
      (current) => ({
        ...takeLease(
          current,
          'etude-programmee',
          'manual-run',
          { holder: 'poste-b pid 7', host: 'poste-b', pid: 7 },
          heldAt,
        ),
        state: 'sending',
        runs: [{ startedAt: heldAt.toISOString(), heartbeatAt: heldAt.toISOString() }],
      }),
    );
    s.clock.now = at('2026-03-23T08:01:00Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    expect(s.mailer.delivered).toHaveLength(0);
    expect(await dueCampaigns(s.store, s.clock.now)).toEqual(['etude-programmee']);
    s.clock.now = new Date(heldAt.getTime() + leaseMs + 1000);
    const runs = await runDueCampaigns(s.send, sendOptions);
    expect(runs.map((r) => [r.name, r.report?.state])).toEqual([['etude-programmee', 'sent']]);
    expect(s.mailer.counts()).toEqual(everyoneOnce);
    const record = await readCampaign(s.store, 'etude-programmee');
    expect(record.lease).toBeUndefined();
    expect(record.runs.map((r) => r.outcome)).toEqual(['abandoned', 'completed']);
  });

  it('runs several due campaigns oldest first, and leaves the one not yet due', async () => {
    const s = await setup();
    await schedule(await campaign({ name: 'deuxieme', sendAt: '2026-03-23T09:00:00Z' }), s);
    await schedule(await campaign({ name: 'premier', sendAt: '2026-03-22T09:00:00Z' }), s);
    await schedule(await campaign({ name: 'plus-tard', sendAt: '2026-03-30T09:00:00Z' }), s);
    s.clock.now = at('2026-03-24T00:00:00Z');
    // A late-fire window of two days: both are late, neither too late.
    const runs = await runDueCampaigns(s.send, { ...sendOptions, lateFireWindowMinutes: 2 * 24 * 60 });
    expect(runs.map((r) => r.name)).toEqual(['premier', 'deuxieme']);
    expect(await stateOf(s.store, 'plus-tard')).toBe('scheduled');
    expect(await dueCampaigns(s.store, at('2026-03-30T09:00:00Z'))).toEqual(['plus-tard']);
    expect(s.mailer.delivered).toHaveLength(2 * emails.length);
  });

  it('two runners at once send each recipient exactly once', async () => {
    const s = await setup();
    await schedule(await campaign({ sendAt: '2026-03-23T09:00:00Z' }), s);
    s.clock.now = at('2026-03-23T09:00:30Z');
    // Two processes: each its own store object on the same folder, each its own mailer.
    const mailers = [new RecordingMailer({ latencyMs: 15 }), new RecordingMailer({ latencyMs: 15 })];
    const deps = mailers.map((mailer): SendDeps => ({ ...s.send, store: storeAt(s.root), mailer })) as [
      SendDeps,
      SendDeps,
    ];
    const [a, b] = await Promise.all([
      runDueCampaigns(deps[0], sendOptions),
      runDueCampaigns(deps[1], sendOptions),
    ]);
    const reports = [...a, ...b].filter((r) => r.report);
    expect(reports).toHaveLength(1);
    expect([...a, ...b].filter((r) => r.error)).toEqual([]);
    const counts: Record<string, number> = {};
    for (const m of mailers.flatMap((x) => x.delivered)) counts[m.to] = (counts[m.to] ?? 0) + 1;
    expect(counts).toEqual(everyoneOnce);
    expect(await stateOf(s.store)).toBe('sent');
    const ledger = await readLedger(s.store, 'etude-programmee');
    expect([...ledger.values()].map((r) => r.entry.status)).toEqual(emails.map(() => 'sent'));
  });

  it('many runners racing repeatedly still send each recipient exactly once', async () => {
    const s = await setup();
    await schedule(await campaign({ sendAt: '2026-03-23T09:00:00Z' }), s);
    s.clock.now = at('2026-03-23T09:00:00Z');
    const mailer = new RecordingMailer({ latencyMs: 5 });
    const runs = await Promise.all(
      Array.from({ length: 6 }, () =>
        runDueCampaigns({ ...s.send, store: storeAt(s.root), mailer }, sendOptions),
      ),
    );
    expect(runs.flat().filter((r) => r.report)).toHaveLength(1);
    expect(mailer.counts()).toEqual(everyoneOnce);
  });

  // Regression (fixed): runDueCampaigns removes the campaign from campaigns/schedule.json as soon as it
  // takes it. When the run is interrupted (the server's SIGTERM aborts the signal), the
  // campaign stays "sending" with recipients left, and no later run ever picks it up again:
  // the rest of the list is never mailed unless someone runs `pressroom send` by hand.
  it('resumes a scheduled campaign interrupted by a shutdown when the runner comes back', async () => {
    const s = await setup();
    await schedule(await campaign({ sendAt: '2026-03-23T09:00:00Z' }), s);
    s.clock.now = at('2026-03-23T09:00:00Z');
    const controller = new AbortController();
    const mailer = new RecordingMailer({ after: (n) => n === 2 && controller.abort() });
    const first = await runDueCampaigns(
      { ...s.send, mailer },
      { ...sendOptions, concurrency: 1, signal: controller.signal },
    );
    expect(first[0]?.report).toMatchObject({ interrupted: true, sent: 2, state: 'sending' });

    // The server starts again a minute later.
    s.clock.now = at('2026-03-23T09:01:00Z');
    await runDueCampaigns({ ...s.send, mailer }, sendOptions);
    expect(mailer.counts()).toEqual(everyoneOnce);
    expect(await stateOf(s.store)).toBe('sent');
  });
});

describe('cancel and reschedule', () => {
  it('a cancelled campaign is never sent', async () => {
    const s = await setup();
    await schedule(await campaign({ sendAt: '2026-03-23T09:00:00Z' }), s);
    const cancelled = await cancelCampaign(s.store, 'etude-programmee', s.clock.now);
    expect(cancelled.state).toBe('cancelled');
    expect(await dueCampaigns(s.store, at('2030-01-01T00:00:00Z'))).toEqual([]);
    s.clock.now = at('2026-03-23T09:00:00Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    s.clock.now = at('2026-04-23T09:00:00Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    expect(s.mailer.delivered).toEqual([]);
    expect(await stateOf(s.store)).toBe('cancelled');
    // A manual send of a cancelled campaign is refused too.
    await expect(sendCampaign(cancelled.definition, s.send, sendOptions)).rejects.toThrow(/cancelled/);
    expect(s.mailer.delivered).toEqual([]);
  });

  it('refuses to cancel a campaign that was sent, and one that does not exist', async () => {
    const s = await setup();
    await schedule(await campaign({ sendAt: '2026-03-23T09:00:00Z' }), s);
    s.clock.now = at('2026-03-23T09:00:00Z');
    await runDueCampaigns(s.send, sendOptions);
    expect(await stateOf(s.store)).toBe('sent');
    const refused = cancelCampaign(s.store, 'etude-programmee', s.clock.now);
    await expect(refused).rejects.toBeInstanceOf(ScheduleError);
    await expect(refused).rejects.toThrow(/is sent/);
    expect(await stateOf(s.store)).toBe('sent');
    await expect(cancelCampaign(s.store, 'nulle-part', s.clock.now)).rejects.toBeInstanceOf(
      CampaignNotFoundError,
    );
  });

  it('scheduling again with another sendAt moves the campaign, later or earlier', async () => {
    const s = await setup();
    await schedule(await campaign({ sendAt: '2026-03-23T09:00:00Z' }), s);
    s.clock.now = at('2026-03-21T12:00:00Z');
    const later = await schedule(await campaign({ sendAt: '2026-03-24T09:00:00Z' }), s);
    expect(later).toMatchObject({
      state: 'scheduled',
      definition: { sendAt: { utc: '2026-03-24T09:00:00.000Z' } },
    });

    s.clock.now = at('2026-03-23T09:00:00Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    s.clock.now = at('2026-03-23T23:00:00Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    expect(s.mailer.delivered).toEqual([]);

    // Earlier again: the new time only.
    await schedule(await campaign({ sendAt: '2026-03-24T06:00:00Z' }), s);
    expect(await dueCampaigns(s.store, at('2026-03-24T06:00:00Z'))).toEqual(['etude-programmee']);
    s.clock.now = at('2026-03-24T06:00:00Z');
    expect((await runDueCampaigns(s.send, sendOptions)).map((r) => r.report?.sent)).toEqual([emails.length]);
    s.clock.now = at('2026-03-24T09:00:00Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    expect(s.mailer.counts()).toEqual(everyoneOnce);
    expect((await readCampaign(s.store, 'etude-programmee')).definition.sendAt?.utc).toBe(
      '2026-03-24T06:00:00.000Z',
    );

    // Once sent it can no longer be rescheduled.
    await expect(schedule(await campaign({ sendAt: '2026-03-30T09:00:00Z' }), s)).rejects.toThrow(
      /is sent: it can no longer be scheduled/,
    );
  });
});

describe('daylight saving changes in Europe/Paris', () => {
  it('scheduled before the spring change, sends at 08:00 summer time (06:00Z, not 07:00Z)', async () => {
    const s = await setup();
    s.clock.now = at('2026-03-20T09:00:00Z'); // winter time: Paris is UTC+1
    const saved = await schedule(await campaign({ sendAt: '2026-04-02T08:00 Europe/Paris' }), s);
    const sendAt = saved.definition.sendAt;
    expect(sendAt).toEqual({
      utc: '2026-04-02T06:00:00.000Z',
      zone: 'Europe/Paris',
      written: '2026-04-02T08:00 Europe/Paris',
    });
    expect(formatInZone(sendAt?.utc ?? '', 'Europe/Paris')).toBe('jeudi 2 avril 2026 à 08:00 (Europe/Paris)');

    s.clock.now = at('2026-04-02T05:59:59Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    s.clock.now = at('2026-04-02T06:00:00Z');
    expect((await runDueCampaigns(s.send, sendOptions)).map((r) => r.report?.state)).toEqual(['sent']);
    expect(s.mailer.counts()).toEqual(everyoneOnce);
    const record = await readCampaign(s.store, 'etude-programmee');
    expect(record.runs[0]?.startedAt).toBe('2026-04-02T06:00:00.000Z');
  });

  it('scheduled before the autumn change, sends at 08:00 winter time (07:00Z, not 06:00Z)', async () => {
    const s = await setup();
    s.clock.now = at('2026-10-20T09:00:00Z'); // summer time: Paris is UTC+2
    const saved = await schedule(await campaign({ sendAt: '2026-10-29T08:00 Europe/Paris' }), s);
    expect(saved.definition.sendAt?.utc).toBe('2026-10-29T07:00:00.000Z');

    s.clock.now = at('2026-10-29T06:00:00Z'); // 07:00 in Paris: an hour early
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    s.clock.now = at('2026-10-29T06:59:59Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    expect(s.mailer.delivered).toEqual([]);
    s.clock.now = at('2026-10-29T07:00:00Z');
    expect((await runDueCampaigns(s.send, sendOptions)).map((r) => r.report?.state)).toEqual(['sent']);
    expect(s.mailer.counts()).toEqual(everyoneOnce);
  });

  it('a campaign set on the change days themselves goes at the documented instants', async () => {
    const s = await setup();
    await schedule(await campaign({ name: 'printemps', sendAt: '2026-03-29T08:00 Europe/Paris' }), s);
    await schedule(await campaign({ name: 'trou', sendAt: '2026-03-29T02:30 Europe/Paris' }), s);
    s.clock.now = at('2026-10-20T09:00:00Z');
    await schedule(await campaign({ name: 'automne', sendAt: '2026-10-25T08:00 Europe/Paris' }), s);
    await schedule(await campaign({ name: 'double', sendAt: '2026-10-25T02:30 Europe/Paris' }), s);
    const due = async (iso: string) => dueCampaigns(s.store, at(iso));
    expect(await due('2026-03-29T01:29:59Z')).toEqual([]);
    expect(await due('2026-03-29T01:30:00Z')).toEqual(['trou']);
    expect(await due('2026-03-29T06:00:00Z')).toEqual(['trou', 'printemps']);
    expect(await due('2026-10-25T00:30:00Z')).toEqual(['trou', 'printemps', 'double']);
    expect(await due('2026-10-25T06:59:59Z')).toEqual(['trou', 'printemps', 'double']);
    expect(await due('2026-10-25T07:00:00Z')).toEqual(['trou', 'printemps', 'double', 'automne']);
  });
});

describe('the embargo guard in the send path', () => {
  it('a release whose embargo moved later after scheduling: the due run sends nothing and pauses with the reason', async () => {
    const s = await setup();
    await schedule(
      await campaign({ publication: 'sous-embargo', sendAt: '2026-03-25T08:00 Europe/Paris' }),
      s,
    );
    // The embargo is pushed back a day; the release is published again.
    s.clock.now = at('2026-03-24T10:00:00Z');
    s.files['publications/embargo.md'] = releaseText(
      'sous-embargo',
      'Annonce sous embargo',
      'embargo: 2026-03-26T08:00:00+01:00\n',
    );
    expect(await publishRelease('publications/embargo.md', s.publish)).toMatchObject({
      action: 'updated',
      state: 'embargoed',
    });

    s.clock.now = at(embargo);
    const runs = await runDueCampaigns(s.send, sendOptions);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.report).toBeUndefined();
    expect(runs[0]?.error).toMatch(/under embargo until 2026-03-26T07:00:00\.000Z/);
    expect(s.mailer.delivered).toEqual([]);
    const record = await readCampaign(s.store, 'etude-programmee');
    expect(record.state).toBe('paused');
    expect(record.pausedReason).toMatch(/embargo until 2026-03-26T07:00:00\.000Z/);
    // Kept as its last error too, with its time, as the dispatch function keeps it on AWS.
    expect(record.lastError).toEqual({ at: embargo, message: runs[0]?.error });
    expect(await campaignStatus(s.store, 'etude-programmee', at(embargo))).toMatchObject({
      state: 'paused',
      lastError: record.lastError,
    });
    expect(await readLedger(s.store, 'etude-programmee')).toEqual(new Map());
    // Neither a later run nor a manual resume before the new embargo sends anything.
    s.clock.now = at('2026-03-25T12:00:00Z');
    expect(await runDueCampaigns(s.send, sendOptions)).toEqual([]);
    await expect(sendCampaign(record.definition, s.send, sendOptions)).rejects.toBeInstanceOf(EmbargoError);
    expect(s.mailer.delivered).toEqual([]);
    // At the new embargo, a manual resume sends it: the run that starts clears the error.
    s.clock.now = at('2026-03-26T07:00:00Z');
    expect(await sendCampaign(record.definition, s.send, sendOptions)).toMatchObject({ state: 'sent' });
    const sent = await readCampaign(s.store, 'etude-programmee');
    expect(sent.lastError).toBeUndefined();
    expect(sent.pausedReason).toBeUndefined();
  });

  // Regression (fixed): the pause reason (EmbargoError's message, from prepareCampaign) tells the user
  // to "Schedule the campaign for that time or later (pressroom schedule)", but
  // scheduleCampaign refuses a paused campaign ("is paused: it can no longer be scheduled").
  it('a campaign paused by a moved embargo can be scheduled again for the new embargo, as its reason says', async () => {
    const s = await setup();
    await schedule(
      await campaign({ publication: 'sous-embargo', sendAt: '2026-03-25T08:00 Europe/Paris' }),
      s,
    );
    s.files['publications/embargo.md'] = releaseText(
      'sous-embargo',
      'Annonce sous embargo',
      'embargo: 2026-03-26T08:00:00+01:00\n',
    );
    await publishRelease('publications/embargo.md', s.publish);
    s.clock.now = at(embargo);
    await runDueCampaigns(s.send, sendOptions);
    const record = await readCampaign(s.store, 'etude-programmee');
    expect(record.pausedReason).toMatch(/pressroom schedule/);

    const again = await schedule(
      await campaign({ publication: 'sous-embargo', sendAt: '2026-03-26T08:00 Europe/Paris' }),
      s,
    );
    expect(again.state).toBe('scheduled');
    // Scheduled again: the old pause and its error are no longer shown.
    expect(again.pausedReason).toBeUndefined();
    expect(again.lastError).toBeUndefined();
    s.clock.now = at('2026-03-26T07:00:00Z');
    expect((await runDueCampaigns(s.send, sendOptions)).map((r) => r.report?.state)).toEqual(['sent']);
    expect(s.mailer.counts()).toEqual(everyoneOnce);
  });

  it('a manual send before the embargo throws EmbargoError and records nothing; at the embargo it sends', async () => {
    const s = await setup();
    const definition = await campaign({ publication: 'sous-embargo' });
    s.clock.now = at('2026-03-25T06:59:59Z');
    const refused = sendCampaign(definition, s.send, sendOptions);
    await expect(refused).rejects.toBeInstanceOf(EmbargoError);
    await expect(refused).rejects.toThrow(/under embargo until 2026-03-25T07:00:00\.000Z/);
    expect(s.mailer.delivered).toEqual([]);
    // The one exception: a [TEST] message to the sender's own address, recorded nowhere.
    const test = await sendCampaign(definition, s.send, {
      ...sendOptions,
      testTo: 'moi@villes-internet.example.org',
    });
    expect(test.test?.to).toBe('moi@villes-internet.example.org');
    expect(s.mailer.delivered.map((m) => m.to)).toEqual(['moi@villes-internet.example.org']);
    s.mailer.delivered.length = 0;
    await expect(readCampaign(s.store, 'etude-programmee')).rejects.toBeInstanceOf(CampaignNotFoundError);
    expect(await readLedger(s.store, 'etude-programmee')).toEqual(new Map());

    s.clock.now = at(embargo);
    expect(await sendCampaign(definition, s.send, sendOptions)).toMatchObject({
      state: 'sent',
      sent: emails.length,
    });
    expect(s.mailer.counts()).toEqual(everyoneOnce);
  });

  it('releaseDueEmbargoes shows the release in the press room when the embargo passes, once', async () => {
    const s = await setup();
    const site = async (key: string) => (await getText(s.store, key)) ?? '';
    const releaseFiles = async () => {
      const keys: string[] = [];
      for await (const item of listAll(s.store, siteKeys.releasePrefix('sous-embargo'))) keys.push(item.key);
      return keys;
    };
    expect(await site(siteKeys.index)).toContain('Étude : les villes moyennes résilientes');
    expect(await site(siteKeys.index)).not.toContain('Annonce sous embargo');
    expect(await site(siteKeys.rss)).not.toContain('Annonce sous embargo');
    expect(await releaseFiles()).toEqual([]);
    expect(await readPending(s.store)).toEqual({ 'sous-embargo': embargo });

    s.clock.now = at('2026-03-25T06:59:59Z');
    expect(await releaseDueEmbargoes(s.publish)).toEqual([]);
    expect(await site(siteKeys.index)).not.toContain('Annonce sous embargo');

    s.clock.now = at(embargo);
    expect(await releaseDueEmbargoes(s.publish)).toEqual(['sous-embargo']);
    expect(await site(siteKeys.index)).toContain('Annonce sous embargo');
    expect(await site(siteKeys.rss)).toContain('Annonce sous embargo');
    expect(await releaseFiles()).toContain(siteKeys.release('sous-embargo'));
    expect(await readPending(s.store)).toEqual({});
    expect(await releaseDueEmbargoes(s.publish)).toEqual([]);
  });

  it('the due-job runner publishes the release and sends its campaign at the embargo, in one tick', async () => {
    const s = await setup();
    await schedule(
      await campaign({ publication: 'sous-embargo', sendAt: '2026-03-25T08:00 Europe/Paris' }),
      s,
    );
    const lines: string[] = [];
    const runner = startDueJobRunner(
      { send: s.send, publish: s.publish },
      { intervalMs: 60_000, log: (line) => lines.push(line) },
    );
    // The runner ticks once at start: nothing is due yet.
    await runner.tick();
    expect(s.mailer.delivered).toEqual([]);
    expect((await getText(s.store, siteKeys.index)) ?? '').not.toContain('Annonce sous embargo');

    s.clock.now = at(embargo);
    await runner.tick();
    await runner.stop();
    expect((await getText(s.store, siteKeys.index)) ?? '').toContain('Annonce sous embargo');
    expect(s.mailer.counts()).toEqual(everyoneOnce);
    expect(lines).toEqual([
      'embargo passed, now public: sous-embargo',
      `campaign etude-programmee: sent, sent ${emails.length}, failed 0, skipped 0`,
    ]);
    expect(lines.join('\n')).not.toContain('@');
  });
});
