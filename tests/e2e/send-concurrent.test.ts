import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { exampleWorkspace, expectExit, pressroomBin, type Run, runPressroom } from '../support/cli.ts';

/**
 * Two real `pressroom send` processes on one folder store, to the outbox, 1,500 recipients:
 * the second is told who sends the campaign and exits 3, a third with --wait waits and finds
 * nothing left; a run killed with SIGKILL is taken over (at once on the same machine, when
 * its lease runs out when it held it from another) and resumes; every recipient ends with
 * exactly one message, and the campaign ends "sent".
 */
const secret = 'concurrent-send-secret-0123456789abcdef';
const keys = contactKeys(secret);
const recipients = 1500;
const rate = 400;
const emails = Array.from({ length: recipients }, (_, i) => `redaction.${i}@media-${i % 13}.example.org`);

let work: string;
let dataDir: string;
const children: ChildProcess[] = [];

const env = () => ({
  ...process.env,
  PRESSROOM_DATA_DIR: dataDir,
  PRESSROOM_SECRET: secret,
  PRESSROOM_MAILER: 'outbox',
  PRESSROOM_PUBLIC_URL: 'https://press.example.org',
  PRESSROOM_TIME_ZONE: 'Europe/Paris',
  CHROMIUM_PATH: '/nonexistent',
});
const pressroom = (...args: string[]) => runPressroom(args, { cwd: work, env: env() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A `pressroom send` left running; `done` is how it ended. */
function start(...args: string[]): { child: ChildProcess; done: Promise<Run & { signal: string | null }> } {
  const child = spawn(process.execPath, [pressroomBin, 'send', ...args], { cwd: work, env: env() });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<Run & { signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr })),
  );
  return { child, done };
}

const recordFile = (name: string) => path.join(dataDir, 'campaigns', name, 'campaign.json');
const readRecord = async (name: string) => JSON.parse(await readFile(recordFile(name), 'utf8'));
const outbox = (name: string) => readdir(path.join(dataDir, 'outbox', name)).catch(() => [] as string[]);

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function campaignFile(name: string): Promise<string> {
  const text = await readFile(path.join(work, 'examples/campaigns/etude-2021-presse.yaml'), 'utf8');
  const file = `${name}.yaml`;
  await writeFile(path.join(work, file), text.replace(/^name: .*$/m, `name: ${name}`));
  return file;
}

async function expectOneMessageEach(name: string): Promise<void> {
  const names = await outbox(name);
  expect(names).toHaveLength(recipients);
  expect(new Set(names)).toEqual(
    new Set(emails.map((e) => `${name}.${keys.idOf(e)}@villes-internet.example.org.eml`)),
  );
  const status = await pressroom('campaign', 'status', name, '--json');
  expectExit(status, 0);
  expect(JSON.parse(status.stdout)).toMatchObject({
    state: 'sent',
    audience: recipients,
    sent: recipients,
    failed: 0,
    uncertain: 0,
    remaining: 0,
  });
}

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-concurrent-');
  dataDir = path.join(work, 'data');
  await writeFile(
    path.join(work, 'presse.csv'),
    ['Prénom;Nom;Courriel', ...emails.map((e, i) => `Zoé;Lefèvre-${i};${e}`)].join('\r\n'),
  );
  const published = await pressroom(
    'publish',
    'examples/publications/2021-06-08-numerique-gestion-de-crise.md',
    '--no-pdf',
  );
  expectExit(published, 0);
  const imported = await pressroom('contacts', 'import', 'presse.csv', '--list', 'presse', '--json');
  expectExit(imported, 0);
  expect(JSON.parse(imported.stdout)).toMatchObject({ added: recipients });
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('concurrent sends of one campaign (real processes, 1,500 recipients)', () => {
  it('the second exits 3 saying who sends since when; --wait waits and finds nothing to do; one message each', async () => {
    const file = await campaignFile('simultane');
    // Slow enough (about 10 s) that the others start while it sends, even on a busy machine.
    const first = start(file, '--rate', '150', '--json');
    await until('the first run to hold the lease', async () =>
      readRecord('simultane').then(
        (r) => r.lease !== undefined,
        () => false,
      ),
    );

    const waiting = start(file, '--wait', '--json');
    const second = await pressroom('send', file);
    expectExit(second, 3);
    const pid = first.child.pid;
    expect(second.stderr).toMatch(
      new RegExp(
        `campaign "simultane" is being sent by ${hostname()} pid ${pid} since \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}(:\\d{2})? [+-]\\d{2}:\\d{2} Europe/Paris; follow it with \`pressroom campaign status simultane\``,
      ),
    );
    expect(second.stderr).not.toMatch(/internal error|at .*\.ts:/);

    const [a, c] = await Promise.all([first.done, waiting.done]);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ state: 'sent', sent: recipients, failed: 0 });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain(`waiting: campaign "simultane" is being sent by ${hostname()} pid ${pid}`);
    expect(JSON.parse(c.stdout)).toMatchObject({ state: 'sent', sent: 0, alreadyDone: recipients });
    await expectOneMessageEach('simultane');
    expect((await readRecord('simultane')).lease).toBeUndefined();
  }, 120_000);

  // Taken over at once when the dead holder was on this machine: send-faults.test.ts kills and
  // resumes over and over that way.
  it('a run killed with SIGKILL is taken over once its lease runs out, and resumed without duplicates', async () => {
    const file = await campaignFile('reprise');
    const killed = start(file, '--rate', String(rate));
    await until('some messages in the outbox', async () => (await outbox('reprise')).length >= 200);
    killed.child.kill('SIGKILL');
    expect((await killed.done).signal).toBe('SIGKILL');
    const written = (await outbox('reprise')).length;
    expect(written).toBeLessThan(recipients);

    // As if the dead run had held it from another machine: nobody can tell it died, so its
    // lease holds until it runs out.
    const record = await readRecord('reprise');
    expect(record.lease).toMatchObject({ host: hostname(), pid: killed.child.pid });
    await writeFile(
      recordFile('reprise'),
      JSON.stringify({
        ...record,
        lease: { ...record.lease, host: 'autre-poste', holder: 'autre-poste pid 7' },
      }),
    );
    const refused = await pressroom('send', file);
    expectExit(refused, 3);
    expect(refused.stderr).toContain('is being sent by autre-poste pid 7 since');
    // Once it has run out, the next run takes it over.
    await writeFile(
      recordFile('reprise'),
      JSON.stringify({
        ...record,
        lease: { ...record.lease, expiresAt: new Date(Date.now() - 1000).toISOString() },
      }),
    );
    const resumed = await pressroom('send', file, '--rate', String(rate), '--json');
    expectExit(resumed, 0);
    const report = JSON.parse(resumed.stdout);
    expect(report).toMatchObject({ state: 'sent', failed: 0, uncertain: [] });
    expect(report.alreadyDone + report.sent).toBe(recipients);
    expect(report.alreadyDone).toBeGreaterThanOrEqual(written - 64);
    await expectOneMessageEach('reprise');
    const runs = (await readRecord('reprise')).runs.map((r: { outcome?: string }) => r.outcome);
    expect(runs).toEqual(['abandoned', 'completed']);
  }, 180_000);
});
