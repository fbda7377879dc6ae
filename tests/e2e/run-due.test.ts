/**
 * `pressroom run-due`, the due jobs once for cron: nothing due, then an embargo that passed
 * and a scheduled campaign that came due (sent to the outbox, once), a campaign another run
 * holds (exit 3, left alone), and a due campaign whose release was withdrawn since (paused,
 * exit 1). Real commands on one folder store; the held run is written into the store as a
 * running `pressroom send` would leave it.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { readCampaign, updateCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { scheduleKeys } from '../../lambdas/core/campaigns/schedule.ts';
import { updateJson } from '../../lambdas/core/store/object-store.ts';
import { exampleWorkspace, expectExit, type Run, runPressroom } from '../support/cli.ts';
import { barometer, crise } from '../support/example-releases.ts';
import { publishToPressList } from '../support/press-list.ts';
import { outboxEnv } from '../support/serve.ts';

const secret = 'e2e-run-due-secret-0123456789abcdef0123';
const embargoed = { file: 'examples/publications/embargo.md', slug: 'annonce-imminente-2024' };

let work: string;
let data: string;

const pressroomWith = (extra: Record<string, string>, ...args: string[]): Promise<Run> =>
  runPressroom(args, {
    cwd: work,
    env: { ...outboxEnv({ data, secret, publicUrl: 'https://press.example.org' }), ...extra },
  });
const pressroom = (...args: string[]): Promise<Run> => pressroomWith({}, ...args);

/** A campaign of `publication` to the press list, due `inMs` from now. */
async function campaign(name: string, publication: string, inMs: number): Promise<number> {
  const at = Date.now() + inMs;
  await writeFile(
    path.join(work, `${name}.yaml`),
    `name: ${name}\npublication: ${publication}\naudience:\n  list: presse\nfrom: "Villes Internet <presse@villes-internet.example.org>"\nsendAt: "${new Date(at).toISOString().replace(/\.\d+Z$/, '+00:00')}"\n`,
  );
  expectExit(await pressroom('schedule', `${name}.yaml`), 0);
  return at;
}

const messages = async (name: string) =>
  (await readdir(path.join(data, 'outbox', name)).catch(() => [])).filter((f) => f.endsWith('.eml'));

async function waitUntil(at: number): Promise<void> {
  const left = at - Date.now();
  if (left > 0) await new Promise((r) => setTimeout(r, left + 200));
}

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-run-due-');
  data = path.join(work, 'data');
  const source = await readFile(path.join(work, barometer.file), 'utf8');
  await writeFile(
    path.join(work, embargoed.file),
    source
      .replace(/^slug: .*$/m, `slug: ${embargoed.slug}`)
      .replace(/^embargo: .*$/m, `embargo: "${new Date(Date.now() + 60_000).toISOString()}"`),
  );
  await publishToPressList(pressroom, [crise.file, barometer.file, embargoed.file]);
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('pressroom run-due', { timeout: 240_000 }, () => {
  let due: number;

  it('does nothing when nothing is due, and says so', async () => {
    due = await campaign('crise-presse', crise.slug, 25_000);
    const run = await pressroom('run-due');
    expectExit(run, 0);
    expect(run.stdout).toBe('No embargo has passed.\nNo campaign is due.\n');
    expect(await messages('crise-presse')).toEqual([]);
  });

  it('sends the campaign that came due, once, and publishes the release whose embargo passed', async () => {
    const embargo = Date.parse(
      /^embargo: "(.*)"$/m.exec(await readFile(path.join(work, embargoed.file), 'utf8'))?.[1] ?? '',
    );
    await waitUntil(Math.max(due, embargo));
    const run = await pressroom('run-due', '--json');
    expectExit(run, 0);
    const result = JSON.parse(run.stdout) as {
      released: string[];
      campaigns: { name: string; report?: { state: string; sent: number } }[];
      held: unknown[];
    };
    expect(result.released).toEqual([embargoed.slug]);
    expect(result.campaigns).toEqual([
      { name: 'crise-presse', report: expect.objectContaining({ state: 'sent', sent: 30 }) },
    ]);
    expect(result.held).toEqual([]);
    expect(await messages('crise-presse')).toHaveLength(30);
    expect(await readFile(path.join(data, 'site/index.html'), 'utf8')).toContain(embargoed.slug);

    const again = await pressroom('run-due');
    expectExit(again, 0);
    expect(again.stdout).toContain('No campaign is due.');
    expect(await messages('crise-presse')).toHaveLength(30);
  });

  it('leaves a campaign that another run is sending, and exits 3', async () => {
    const at = await campaign('barometre-presse', barometer.slug, 15_000);
    await waitUntil(at);
    // What a `pressroom send` running elsewhere leaves in the store: sending, heartbeat now.
    const store = new FolderObjectStore({
      root: data,
      signingSecret: secret,
      publicUrl: 'https://press.example.org',
    });
    const now = new Date().toISOString();
    await updateCampaign(
      store,
      'barometre-presse',
      () => {
        throw new Error('no campaign');
      },
      (c) => ({ ...c, state: 'sending', runs: [...c.runs, { startedAt: now, heartbeatAt: now }] }),
    );
    const run = await pressroom('run-due');
    expectExit(run, 3);
    expect(run.stderr).toContain('barometre-presse (by an earlier run since ');
    expect(run.stderr).toContain('is being sent by another run');
    expect(run.stderr).toContain('pressroom campaign status');
    expect(await messages('barometre-presse')).toEqual([]);
    expect((await readCampaign(store, 'barometre-presse')).state).toBe('sending');
  });

  it('pauses a due campaign whose release was withdrawn since it was scheduled, and exits 1', async () => {
    const at = await campaign('embargo-presse', embargoed.slug, 15_000);
    expectExit(await pressroom('archive', 'withdraw', embargoed.slug, '--reason', 'annulé'), 0);
    await waitUntil(at);
    const run = await pressroom('run-due');
    expectExit(run, 1);
    expect(run.stdout).toContain(`Campaign embargo-presse not sent: "${embargoed.slug}" was withdrawn on`);
    expect(run.stderr).toContain('1 due campaign(s) could not be sent and were paused: embargo-presse');
    // The campaign still held by the other run is said too; the failure decides the exit code.
    expect(run.stdout).toContain('Campaign barometre-presse: being sent by an earlier run since');
    expect(await messages('embargo-presse')).toEqual([]);
    const status = await pressroom('campaign', 'status', 'embargo-presse', '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({
      state: 'paused',
      lastError: { at: expect.any(String), message: expect.stringContaining('was withdrawn on') },
    });
    // Said once, with its time in the workspace's zone.
    const text = await pressroom('campaign', 'status', 'embargo-presse');
    expectExit(text, 0);
    expect(text.stdout).toMatch(
      new RegExp(
        `\\n {2}last error {2}\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}(:\\d{2})? [+-]\\d{2}:\\d{2} \\S+: "${embargoed.slug}" was withdrawn on`,
      ),
    );
    expect(text.stdout).not.toContain('  paused:');
    const list = await pressroom('campaign', 'list');
    expect(list.stdout).toMatch(/embargo-presse\s+paused \(failed: see campaign status\)/);
    expect(list.stdout).toMatch(/crise-presse\s+sent /);
  });

  it('pauses a campaign started later than the late-fire window, and sends one within a wider window', async () => {
    const store = new FolderObjectStore({
      root: data,
      signingSecret: secret,
      publicUrl: 'https://press.example.org',
    });
    // Two campaigns whose time was two hours ago (the runner was off): the schedule says so.
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    for (const name of ['retard-presse', 'retard-accepte']) {
      await campaign(name, crise.slug, 120_000);
    }
    // The campaign's time and the schedule's entry, as a campaign due two hours ago has them.
    const setDue = async (name: string) => {
      await updateCampaign(
        store,
        name,
        () => {
          throw new Error('no campaign');
        },
        (c) => ({
          ...c,
          definition: { ...c.definition, sendAt: { written: twoHoursAgo, utc: twoHoursAgo, zone: 'UTC' } },
        }),
      );
      await updateJson<{ due: Record<string, string> }>(
        store,
        scheduleKeys.schedule,
        () => ({ due: {} }),
        (index) => ({ ...index, due: { ...index.due, [name]: twoHoursAgo } }),
      );
    };
    await setDue('retard-presse');
    const late = await pressroom('run-due');
    expectExit(late, 1);
    expect(late.stdout).toContain('Campaign retard-presse not sent: the schedule fired 120 min late');
    expect(late.stdout).toContain('the window is 60 min');
    expect(await messages('retard-presse')).toEqual([]);
    expect((await readCampaign(store, 'retard-presse')).state).toBe('paused');

    await setDue('retard-accepte');
    const wider = await pressroomWith({ PRESSROOM_LATE_FIRE_WINDOW_MINUTES: '180' }, 'run-due', '--json');
    const result = JSON.parse(wider.stdout) as { campaigns: { name: string; report?: { state: string } }[] };
    expect(result.campaigns).toContainEqual({
      name: 'retard-accepte',
      report: expect.objectContaining({ state: 'sent' }),
    });
    expect(await messages('retard-accepte')).toHaveLength(30);

    const bad = await pressroomWith({ PRESSROOM_LATE_FIRE_WINDOW_MINUTES: 'soon' }, 'run-due');
    expectExit(bad, 1);
    expect(bad.stderr).toContain(
      'PRESSROOM_LATE_FIRE_WINDOW_MINUTES must be a whole number of minutes such as 60',
    );
  });
});
