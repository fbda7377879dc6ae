import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { prng, type Run, runPressroom } from '../support/cli.ts';

/**
 * The fault test of the sending issue: the real `pressroom send` in a child process, killed
 * with SIGKILL at random points and resumed, then run to the end: every recipient has
 * exactly one .eml, nobody is missing. And one Ctrl-C, which stops cleanly.
 */
const _run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const cli = path.join(repo, 'dist/pressroom.js');
const seedRelease = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
const secret = 'fault-test-secret-0123456789abcdef-fixed';
const keys = contactKeys(secret);
const campaignName = 'fautes-e2e';
const recipients = 300;
const rate = 400;
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000_007);

let work: string;
let dataDir: string;
const emails = Array.from(
  { length: recipients },
  (_, i) => `journaliste.${i}@redaction-${i % 11}.example.${i % 2 ? 'com' : 'org'}`,
);
const expectedFiles = new Set(
  emails.map((e) => `${campaignName}.${keys.idOf(e)}@villes-internet.example.org.eml`),
);

const env = () => ({
  ...process.env,
  PRESSROOM_DATA_DIR: dataDir,
  PRESSROOM_SECRET: secret,
  PRESSROOM_MAILER: 'outbox',
  PRESSROOM_PUBLIC_URL: 'https://press.example.org',
  CHROMIUM_PATH: '/nonexistent',
});

function pressroom(...args: string[]): Promise<Run> {
  return runPressroom(args, { cwd: work, env: env() });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const outboxDir = () => path.join(dataDir, 'outbox', campaignName);
const outboxNames = () => readdir(outboxDir()).catch(() => [] as string[]);

/** How many runs the campaign record lists (a new one appears when a run starts sending). */
async function runsStarted(): Promise<number> {
  try {
    const record = JSON.parse(
      await readFile(path.join(dataDir, 'campaigns', campaignName, 'campaign.json'), 'utf8'),
    );
    return record.runs.length;
  } catch {
    return 0;
  }
}

interface Child {
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

function startSend(...extra: string[]): Child {
  const child = spawn(process.execPath, [cli, 'send', 'campaign.yaml', '--rate', String(rate), ...extra], {
    cwd: work,
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { process: child, exited, output: () => out };
}

/** Resolves once the child has started a new run (or has exited): true when it is sending. */
async function sendingStarted(runsBefore: number, exited: { done: boolean }): Promise<boolean> {
  for (;;) {
    if (exited.done) return false;
    if ((await runsStarted()) > runsBefore) return true;
    await sleep(5);
  }
}

/** Resolves once the child wrote (or rewrote) an .eml, as the outbox folder's mtime shows. */
async function firstWrite(since: number, exited: { done: boolean }): Promise<boolean> {
  const sinceWall = Date.now() - (performance.now() - since);
  for (;;) {
    if (exited.done) return false;
    const info = await stat(outboxDir()).catch(() => undefined);
    if (info && info.mtimeMs > sinceWall) return true;
    await sleep(5);
  }
}

/** Ledger entries by status, read from the files. */
async function ledgerCounts(): Promise<Record<string, number>> {
  const ledgerDir = path.join(dataDir, 'campaigns', campaignName, 'ledger');
  const counts: Record<string, number> = {};
  for (const name of await readdir(ledgerDir).catch(() => [] as string[])) {
    const entry = JSON.parse(await readFile(path.join(ledgerDir, name), 'utf8').catch(() => '{}'));
    const key = String(entry.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** What the data folder holds, for failure messages: ledger entries by status, lock files left. */
async function diagnose(): Promise<string> {
  const counts = await ledgerCounts();
  const locks = await readdir(path.join(dataDir, '.pressroom-store', 'locks')).catch(() => [] as string[]);
  return `ledger ${JSON.stringify(counts)}; lock files left: ${locks.length}; outbox ${(await outboxNames()).length}`;
}

async function status(): Promise<Record<string, unknown>> {
  const { code, stdout, stderr } = await pressroom('campaign', 'status', campaignName, '--json');
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}

const children: Child[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'pressroom-faults-'));
  dataDir = path.join(work, 'data');
  await cp(path.join(repo, 'examples'), path.join(work, 'examples'), { recursive: true });
  const csv = [
    'Prénom;Nom;Courriel;Média',
    ...emails.map(
      (e, i) => `${['Zoé', 'Hélène', 'François', 'Maëlle'][i % 4]};Lefèvre-${i};${e};Rédaction ${i % 11}`,
    ),
  ].join('\r\n');
  await writeFile(path.join(work, 'presse.csv'), csv);
  const campaign = await readFile(path.join(work, 'examples/campaigns/etude-2021-presse.yaml'), 'utf8');
  await writeFile(path.join(work, 'campaign.yaml'), campaign.replace(/^name: .*$/m, `name: ${campaignName}`));
  const [published, imported] = await Promise.all([
    pressroom('publish', seedRelease, '--no-pdf'),
    pressroom('contacts', 'import', 'presse.csv', '--list', 'presse', '--json'),
  ]);
  expect(published.code, published.stderr).toBe(0);
  expect(imported.code, imported.stderr).toBe(0);
  expect(JSON.parse(imported.stdout)).toMatchObject({ added: recipients, rejected: [] });
});

afterAll(async () => {
  for (const c of children)
    if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  if (work) await rm(work, { recursive: true, force: true });
});

describe(`pressroom send under faults (seed ${seed})`, () => {
  it('stops cleanly on Ctrl-C after the sends in flight, and stays resumable', async () => {
    const runsBefore = await runsStarted();
    const child = startSend();
    children.push(child);
    const exited = { done: false };
    void child.exited.then(() => {
      exited.done = true;
    });
    expect(await sendingStarted(runsBefore, exited), child.output()).toBe(true);
    // Interrupt once sending is under way: a first message is in the outbox.
    for (let waited = 0; (await outboxNames()).length === 0 && waited < 15_000; waited += 20) await sleep(20);
    const interruptedAt = performance.now();
    child.process.kill('SIGINT');
    const result = await Promise.race([child.exited, sleep(15_000).then(() => 'still running' as const)]);
    expect(result, child.output()).not.toBe('still running');
    const stoppedIn = performance.now() - interruptedAt;
    expect(stoppedIn).toBeLessThan(15_000);
    expect(result).toMatchObject({ signal: null });
    expect(child.output()).toContain('stopping after the sends in flight');
    expect(child.output()).toContain('interrupted');

    const s = await status();
    expect(s).toMatchObject({ state: 'sending', uncertain: 0, failed: 0 });
    expect(s.sent as number).toBeGreaterThan(0);
    expect(s.sent as number).toBeLessThan(recipients);
    // Recipients claimed but still waiting for their turn when the stop came are deferred.
    expect(s.remaining).toBe(recipients - (s.sent as number));
    // What the ledger says was sent is exactly what is in the outbox.
    expect((await outboxNames()).length).toBe(s.sent);
  }, 60_000);

  it('never mails anyone twice nor misses anyone across SIGKILLs at random points and resumes', async () => {
    const random = prng(seed);
    const kills: string[] = [];
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      const before = (await ledgerCounts()).sent ?? 0;
      if (before >= recipients) break;
      const runsBefore = await runsStarted();
      const child = startSend();
      children.push(child);
      const spawnedAt = performance.now();
      const exited = { done: false };
      void child.exited.then(() => {
        exited.done = true;
      });
      let where: string;
      // The last kill lands while messages are written, so that the final run resumes right
      // after a process died in the middle of sending.
      const kind = round === rounds - 1 ? 1 : random();
      if (kind < 0.15) {
        // During start-up: loading, audience, ledger.
        const delay = 50 + random() * 550;
        await sleep(delay);
        where = `${Math.round(delay)} ms after spawn`;
      } else if (kind < 0.4) {
        // Just after the run started: claims, reclaims and the first messages being composed.
        const started = await sendingStarted(runsBefore, exited);
        const delay = random() * 300;
        await sleep(delay);
        where = `${started ? '' : '(had exited) '}${Math.round(delay)} ms after the run started`;
      } else {
        // While messages are written: the rest would take about (left / rate) seconds.
        const started = await firstWrite(spawnedAt, exited);
        const left = recipients - before;
        const delay = 50 + random() * Math.min(550, (left / rate) * 1000);
        await sleep(delay);
        where = `${started ? '' : '(had exited) '}${Math.round(delay)} ms after its first .eml`;
      }
      where += `, ${Math.round(performance.now() - spawnedAt)} ms after spawn`;
      child.process.kill('SIGKILL');
      const result = await child.exited;
      kills.push(`round ${round}: ${where}: ${result.signal ?? `exit ${result.code}`}; ${await diagnose()}`);
    }
    const log = `seed ${seed}\n${kills.join('\n')}`;
    expect(kills.length, log).toBeGreaterThan(0);

    // Run to completion, once.
    const finalStart = performance.now();
    const final = await pressroom('send', 'campaign.yaml', '--rate', String(rate), '--json');
    const finalLog = `${log}\nfinal run: ${Math.round(performance.now() - finalStart)} ms, ${final.stdout}\n${final.stderr}\n${await diagnose()}`;
    expect(final.code, finalLog).toBe(0);
    const report = JSON.parse(final.stdout);
    expect(report, finalLog).toMatchObject({ state: 'sent', interrupted: false, failed: 0, uncertain: [] });

    const names = await outboxNames();
    expect(names.length, log).toBe(recipients);
    expect(new Set(names), log).toEqual(expectedFiles);
    // Each file is one whole message to its own recipient.
    const idToEmail = new Map(emails.map((e) => [keys.idOf(e), e]));
    for (const name of names) {
      const mail = await simpleParser(await readFile(path.join(outboxDir(), name)));
      const id = /^[^.]+(?:-[^.]+)*\.([0-9a-f]{32})@/.exec(name)?.[1] ?? '';
      const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
      expect(
        to.flatMap((t) => t.value.map((v) => v.address)),
        `${name}\n${log}`,
      ).toEqual([idToEmail.get(id)]);
      expect(mail.html, name).toBeTruthy();
      expect(mail.text, name).toBeTruthy();
    }

    const s = await status();
    expect(s, log).toMatchObject({
      state: 'sent',
      audience: recipients,
      sent: recipients,
      failed: 0,
      skipped: 0,
      uncertain: 0,
      remaining: 0,
    });

    // And again: nothing more is sent.
    const again = await pressroom('send', 'campaign.yaml', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ sent: 0, alreadyDone: recipients, state: 'sent' });
    expect((await outboxNames()).length).toBe(recipients);
  }, 120_000);
});
