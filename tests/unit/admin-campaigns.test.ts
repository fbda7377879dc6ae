import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadCampaignTemplates,
  workspaceCampaignFiles,
  workspaceSenders,
} from '../../lambdas/adapters/admin-campaign-files.ts';
import { loadAdminTemplates } from '../../lambdas/adapters/admin-files.ts';
import type { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { adminSendRole, CampaignRuns } from '../../lambdas/core/admin/campaign-runs.ts';
import {
  type AdminCampaign,
  type AdminCampaignDeps,
  type CampaignFiles,
  type ComposeInput,
  campaignProgress,
  composeCampaign,
  findAdminCampaign,
  isRefusal,
  listAdminCampaigns,
  pauseFromAdmin,
  resumeFromAdmin,
  resumeInterruptedSends,
  scheduleFromAdmin,
  sendFromAdmin,
} from '../../lambdas/core/admin/campaigns.ts';
import { readCampaign, updateCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import type { CampaignLease } from '../../lambdas/core/campaigns/lease.ts';
import type { OutgoingMessage } from '../../lambdas/core/campaigns/mailer.ts';
import { copyOf, keys, MemoryMailer, publicUrl, seededStore } from '../support/dispatch-fixtures.ts';
import { memoryFiles } from '../support/memory-files.ts';

/**
 * The admin's campaigns over the command line's core: a composed campaign is a file
 * `pressroom send` reads, refused (and not written) for an unknown release, an empty audience
 * or a name taken; a schedule is refused in the past and before the embargo; two starts send
 * each recipient once; a finished campaign is not paused; a send a dead server left half done
 * is resumed, and one a command-line run left is not.
 */

const journalists = 6;
let base: MemoryObjectStore;

beforeAll(async () => {
  base = await seededStore(keys, journalists);
});

/** The workspace's campaigns folder, in memory. */
function memoryCampaignFiles(
  texts: Record<string, string> = {},
): CampaignFiles & { texts: Record<string, string> } {
  return {
    texts,
    folder: 'campaigns',
    files: memoryFiles(texts),
    async list() {
      return Object.keys(texts)
        .filter((k) => k.startsWith('campaigns/'))
        .sort()
        .map((k) => ({ path: k, name: k }));
    },
    async create(name, text) {
      const key = `campaigns/${name}`;
      if (key in texts) return 'exists';
      texts[key] = text;
      return { path: key, name: key };
    },
  };
}

async function setUp(holderAlive: (lease: CampaignLease) => boolean | undefined = () => true) {
  const store = await copyOf(base);
  const mailer = new MemoryMailer();
  const files = memoryCampaignFiles();
  const deps: AdminCampaignDeps = {
    files,
    defaults: {
      from: { name: 'Villes Internet', address: 'presse@villes-internet.example.org' },
      timeZone: 'Europe/Paris',
      pressLists: ['presse'],
    },
    lists: { presse: 'Journalistes' },
    senders: async () => ['Villes Internet <presse@villes-internet.example.org>'],
    send: {
      store,
      mailer,
      keys,
      publicUrl,
      owner: { holder: `${adminSendRole} test pid 1`, host: 'test', pid: 1 },
      holderAlive,
      lists: ['presse'],
    },
    runs: new CampaignRuns(),
    publicUrl,
    timeZone: 'Europe/Paris',
    templates: await loadCampaignTemplates(),
  };
  return { store, mailer, files, deps };
}

const now = new Date();

/** A mailer that holds every message after the second until `release` (the test's), recording them in `held`. */
function gateMailer(deps: AdminCampaignDeps): { held: OutgoingMessage[]; release: () => void } {
  const held: OutgoingMessage[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  deps.send.mailer = {
    name: 'gated',
    idempotent: false,
    async send(message) {
      if (held.length >= 2) await gate;
      held.push(message);
      return { providerMessageId: `gated-${held.length}` };
    },
  };
  return { held, release };
}

/** Waits until this process no longer sends the campaign (at most 3 s). */
async function ended(deps: AdminCampaignDeps, name: string): Promise<void> {
  for (let i = 0; i < 300 && deps.runs.isRunning(name); i++) await new Promise((r) => setTimeout(r, 10));
}

async function composed(deps: AdminCampaignDeps, name = 'etude-admin'): Promise<AdminCampaign> {
  const result = await composeCampaign(
    deps,
    { name, content: 'release:etude-villes', lists: ['presse'], subject: 'Étude <b>gras</b>' },
    now,
  );
  if (!('created' in result)) throw new Error(JSON.stringify(result));
  return result.created;
}

describe('composing a campaign', () => {
  it('writes a file the command line reads, with what was chosen', async () => {
    const { deps, files } = await setUp();
    const campaign = await composed(deps);
    expect(Object.keys(files.texts)).toEqual(['campaigns/etude-admin.yaml']);
    const read = await loadCampaignFile('campaigns/etude-admin.yaml', files.files, deps.defaults);
    expect(read).toMatchObject({
      name: 'etude-admin',
      publication: 'etude-villes',
      audience: { lists: ['presse'] },
      subject: 'Étude <b>gras</b>',
      from: { address: 'presse@villes-internet.example.org' },
    });
    expect(campaign.audience).toEqual({ count: journalists });
    expect(campaign.state).toBe('draft');
    expect((await listAdminCampaigns(deps)).map((c) => [c.name, c.state])).toEqual([
      ['etude-admin', 'draft'],
    ]);
  });

  it('refuses an unknown release, an empty audience, no list and a name taken, writing nothing more', async () => {
    const { deps, files } = await setUp();
    const cases: [Partial<ComposeInput>, string, string][] = [
      [{ content: 'release:nulle-part' }, 'content', 'no release "nulle-part"'],
      [{ tags: ['personne'] }, 'lists', 'nobody is in this audience'],
      [{ subject: 'x'.repeat(100_000) }, 'subject', 'is longer than 300 characters'],
      [{ lists: [] }, 'lists', 'choose at least one list'],
      [{ lists: ['presss'] }, 'lists', 'did you mean "presse"'],
    ];
    for (const [change, field, message] of cases) {
      const input = { content: 'release:etude-villes', lists: ['presse'], ...change };
      const result = await composeCampaign(deps, input, now);
      expect(result, field).toEqual({
        problems: [expect.objectContaining({ field, message: expect.stringContaining(message) })],
      });
    }
    expect(files.texts).toEqual({});
    await composed(deps);
    const before = { ...files.texts };
    expect(
      await composeCampaign(
        deps,
        { name: 'etude-admin', content: 'release:etude-villes', lists: ['presse'] },
        now,
      ),
    ).toEqual({
      conflict: 'a campaign named "etude-admin" exists already: give this one another name',
    });
    expect(files.texts).toEqual(before);
  });

  it('names a campaign left without a name after what it sends and the day', async () => {
    const { deps } = await setUp();
    const result = await composeCampaign(deps, { content: 'release:etude-villes', lists: ['presse'] }, now);
    expect('created' in result && result.created.name).toBe(`etude-villes-${now.toISOString().slice(0, 10)}`);
  });
});

describe('scheduling', () => {
  it('refuses a time in the past and one before the embargo, saying so; stores a good one as schedule does', async () => {
    const { deps, store } = await setUp();
    const campaign = await composed(deps);
    const past = await scheduleFromAdmin(
      deps,
      campaign,
      { date: '2020-01-01', time: '08:00', zone: 'Europe/Paris' },
      now,
    );
    expect(isRefusal(past) && past.refused).toContain('is in the past');
    const zone = await scheduleFromAdmin(
      deps,
      campaign,
      { date: '2030-01-01', time: '8h', zone: 'Lune/Tranquillité' },
      now,
    );
    expect(isRefusal(zone) && zone.problems?.map((p) => p.field)).toEqual(['time', 'zone']);
    await expect(readCampaign(store, campaign.name)).rejects.toThrow();
    const embargoed = await composeCampaign(
      deps,
      { name: 'sous-embargo-admin', content: 'release:sous-embargo', lists: ['presse'] },
      now,
    );
    if (!('created' in embargoed)) throw new Error('not composed');
    const early = await scheduleFromAdmin(
      deps,
      embargoed.created,
      { date: '2026-01-19', time: '08:00', zone: 'Europe/Paris' },
      new Date('2026-01-16T00:00:00Z'),
    );
    expect(isRefusal(early) && early.refused).toContain('is before the embargo');
    const good = await scheduleFromAdmin(
      deps,
      campaign,
      { date: '2099-06-08', time: '08:00', zone: 'Europe/Paris' },
      now,
    );
    expect(good).toEqual({
      sendAt: {
        utc: '2099-06-08T06:00:00.000Z',
        zone: 'Europe/Paris',
        written: '2099-06-08T08:00 Europe/Paris',
      },
    });
    const record = await readCampaign(store, campaign.name);
    expect(record.state).toBe('scheduled');
    expect(record.definition.sendAt?.utc).toBe('2099-06-08T06:00:00.000Z');
    // Stop cancels a scheduled campaign, as `campaign cancel` does.
    const found = (await findAdminCampaign(deps, campaign.name)) as AdminCampaign;
    expect(await pauseFromAdmin(deps, found, 'stop', now)).toEqual({ state: 'cancelled' });
  });
});

describe('sending from the admin', () => {
  it('two starts at once send each recipient once; the progress says finished', async () => {
    const { deps, mailer } = await setUp();
    const campaign = await composed(deps);
    const [a, b] = await Promise.all([sendFromAdmin(deps, campaign), sendFromAdmin(deps, campaign)]);
    expect([a, b]).toEqual(expect.arrayContaining([{ outcome: 'started' }, { outcome: 'already' }]));
    await ended(deps, campaign.name);
    expect(mailer.delivered.map((m) => m.to).sort()).toEqual(
      [...new Set(mailer.delivered.map((m) => m.to))].sort(),
    );
    expect(mailer.delivered).toHaveLength(journalists);
    const progress = await campaignProgress(deps, campaign.name);
    expect(progress).toMatchObject({
      state: 'sent',
      finished: true,
      sent: journalists,
      pending: 0,
      running: false,
    });
    // Sent: neither a new start nor a pause.
    const finished = (await findAdminCampaign(deps, campaign.name)) as AdminCampaign;
    const again = await sendFromAdmin(deps, finished);
    expect(isRefusal(again) && again.refused).toContain('is sent: it cannot be sent again');
    const pause = await pauseFromAdmin(deps, finished, 'pause', now);
    expect(isRefusal(pause) && pause.refused).toMatch(/sent/);
    expect(mailer.delivered).toHaveLength(journalists);
  });

  it('what refuses a send before anything goes comes back to the page (approval required, none given)', async () => {
    const { deps, mailer } = await setUp();
    const result = await composeCampaign(
      deps,
      { name: 'a-valider', content: 'release:etude-villes', lists: ['presse'], approval: true },
      now,
    );
    if (!('created' in result)) throw new Error('not composed');
    const refused = await sendFromAdmin(deps, result.created);
    expect(isRefusal(refused) && refused.refused).toMatch(/approv/);
    expect(mailer.delivered).toHaveLength(0);
    expect(deps.runs.isRunning('a-valider')).toBe(false);
  });

  it('pause stops a send after the messages in flight; resume sends the rest, each recipient once', async () => {
    const { deps, store } = await setUp();
    const { held, release } = gateMailer(deps);
    const campaign = await composed(deps);
    expect(await sendFromAdmin(deps, campaign)).toEqual({ outcome: 'started' });
    const sending = (await findAdminCampaign(deps, campaign.name)) as AdminCampaign;
    expect(sending.state).toBe('sending');
    const paused = await pauseFromAdmin(deps, sending, 'pause', new Date());
    expect(paused).toMatchObject({
      state: 'paused',
      reason: expect.stringContaining('stopped by web admin'),
    });
    release();
    await ended(deps, campaign.name);
    expect((await readCampaign(store, campaign.name)).state).toBe('paused');
    const before = held.length;
    expect(before).toBeLessThan(journalists);
    expect(await resumeFromAdmin(deps, campaign.name)).toEqual({ outcome: 'started' });
    await ended(deps, campaign.name);
    expect((await readCampaign(store, campaign.name)).state).toBe('sent');
    expect(held).toHaveLength(journalists);
    expect(new Set(held.map((m) => m.to)).size).toBe(journalists);
  });

  it('a send the server stopped (Ctrl-C) goes on when it starts again, each recipient once', async () => {
    const { deps, store } = await setUp();
    const { held, release } = gateMailer(deps);
    const campaign = await composed(deps);
    expect(await sendFromAdmin(deps, campaign)).toEqual({ outcome: 'started' });
    const stopping = deps.runs.stopAll();
    release();
    await stopping;
    const left = await readCampaign(store, campaign.name);
    expect(left.state).toBe('sending');
    expect(left.lease).toBeUndefined();
    expect(held.length).toBeLessThan(journalists);
    // The next start of the server: a new set of runs.
    const next = { ...deps, runs: new CampaignRuns() };
    expect(await resumeInterruptedSends(next, new Date())).toEqual([campaign.name]);
    await ended(next, campaign.name);
    expect((await readCampaign(store, campaign.name)).state).toBe('sent');
    expect(new Set(held.map((m) => m.to)).size).toBe(journalists);
    expect(held).toHaveLength(journalists);
    // Finished: the start after that resumes nothing.
    expect(await resumeInterruptedSends({ ...deps, runs: new CampaignRuns() }, new Date())).toEqual([]);
  });

  it('a campaign file whose audience is empty now is not sent, saying why', async () => {
    const { deps, files, mailer } = await setUp();
    files.texts['campaigns/vide.yaml'] =
      'name: vide\npublication: etude-villes\naudience:\n  list: presse\n  tags: [personne]\n';
    const campaign = (await findAdminCampaign(deps, 'vide')) as AdminCampaign;
    expect(campaign.audience).toEqual({ count: 0 });
    const refused = await sendFromAdmin(deps, campaign);
    expect(isRefusal(refused) && refused.refused).toContain('nobody is in the audience of "vide"');
    expect(mailer.delivered).toHaveLength(0);
  });

  it('a send a dead server left half done resumes; one a command-line run left does not', async () => {
    const dead = () => false;
    const { deps, mailer, store } = await setUp(dead);
    const admin = await composed(deps, 'par-le-serveur');
    const cli = await composed(deps, 'par-la-commande');
    const leftSending = async (name: string, holder: string) =>
      updateCampaign(
        store,
        name,
        () => ({
          definition: (name === admin.name ? admin : cli).definition,
          state: 'sending',
          source: `campaigns/${name}.yaml`,
          createdAt: now.toISOString(),
          updatedAt: now.toISOString(),
          runs: [{ startedAt: now.toISOString() }],
          lease: {
            id: 'x',
            holder,
            host: 'test',
            pid: 99,
            since: now.toISOString(),
            expiresAt: new Date(now.getTime() + 60_000).toISOString(),
          },
        }),
        (c) => c,
      );
    await leftSending(admin.name, `${adminSendRole} test pid 99`);
    await leftSending(cli.name, 'poste-presse pid 99');
    const { registerCampaign } = await import('../../lambdas/core/campaigns/campaign.ts');
    await registerCampaign(store, admin.name);
    await registerCampaign(store, cli.name);
    expect(await resumeInterruptedSends(deps, now)).toEqual([admin.name]);
    await ended(deps, admin.name);
    expect((await readCampaign(store, admin.name)).state).toBe('sent');
    expect((await readCampaign(store, cli.name)).state).toBe('sending');
    expect(mailer.delivered).toHaveLength(journalists);
  });
});

describe('the campaign files on disk', () => {
  it('creates a file once, never over one; without a workspace it says why', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'pressroom-admin-campaigns-'));
    try {
      const files = workspaceCampaignFiles(root, memoryFiles({}));
      expect(await files.create('a.yaml', 'name: a\n')).toEqual({
        path: path.join(root, 'campaigns', 'a.yaml'),
        name: path.join('campaigns', 'a.yaml'),
      });
      expect(await files.create('a.yaml', 'name: b\n')).toBe('exists');
      expect(await readFile(path.join(root, 'campaigns', 'a.yaml'), 'utf8')).toBe('name: a\n');
      await expect(files.create('../b.yaml', '')).rejects.toThrow('is not a campaign file name');
      expect((await files.list()).map((f) => f.name)).toEqual([path.join('campaigns', 'a.yaml')]);
      await expect(workspaceCampaignFiles(undefined, memoryFiles({})).create('a.yaml', '')).rejects.toThrow(
        'no workspace',
      );
      expect(
        await workspaceSenders(root, { name: 'Villes Internet', address: 'presse@example.org' }),
      ).toEqual(['Villes Internet <presse@example.org>']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('the campaigns’ strings', () => {
  it('every one the pages and their code name is in French and in English', async () => {
    const { locales } = await loadAdminTemplates();
    const pages = Object.values(await loadCampaignTemplates());
    const code = await readFile(
      new URL('../../lambdas/core/admin/campaigns-pages.ts', import.meta.url),
      'utf8',
    );
    const named = new Set([
      ...pages.flatMap((source) => [...source.matchAll(/\bt\.(\w+)/g)].map((m) => m[1] ?? '')),
      ...[...code.matchAll(/\bt\.(campaigns\w+)/g)].map((m) => m[1] ?? ''),
      ...['Draft', 'Scheduled', 'Sending', 'Paused', 'Sent', 'Cancelled', 'Finished'].map(
        (s) => `campaignsState${s}`,
      ),
    ]);
    expect(named).toContain('campaignsSendNow');
    for (const lang of ['en', 'fr'] as const)
      expect(
        [...named].filter((key) => !(key in locales[lang])),
        lang,
      ).toEqual([]);
  });
});
