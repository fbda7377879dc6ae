import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSourceFiles } from '../../lambdas/adapters/local-files.ts';
import { S3ObjectStore } from '../../lambdas/adapters/s3-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { updateCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { listAll } from '../../lambdas/core/store/object-store.ts';
import { exampleWorkspace, expectExit, pressroomBin, type Run, repo, runPressroom } from '../support/cli.ts';
import { definition, registerDraft, releaseDeps } from '../support/dispatch-fixtures.ts';
import { type RunningS3rver, s3rverClientConfig, s3rverEnvironment, startS3rver } from '../support/s3rver.ts';
import { writeStackOutputs } from '../support/stack-outputs.ts';

/**
 * The real `pressroom campaign stop|resume` and `newsletter publish --backend aws`: a send
 * running in one process is stopped from another (it exits 3, saying who stopped it and how
 * to resume), `campaign resume` sends the rest from the record, one .eml each; refusals say
 * what to do. On the stack (s3rver as the bucket), `campaign stop` closes the dispatched run
 * and `newsletter publish` uploads the issue under publications/newsletters/.
 */

const recipients = 120;
let work: string;
let dataDir: string;
const children: ChildProcess[] = [];
const env = () => ({
  ...process.env,
  PRESSROOM_DATA_DIR: dataDir,
  PRESSROOM_SECRET: 'control-cli-secret-0123456789abcdef',
  PRESSROOM_MAILER: 'outbox',
  PRESSROOM_PUBLIC_URL: 'https://press.example.org',
  PRESSROOM_BACKEND: 'local',
  CHROMIUM_PATH: '/nonexistent',
});
const pressroom = (...args: string[]) => runPressroom(args, { cwd: work, env: env() });
const outbox = (name: string) => readdir(path.join(dataDir, 'outbox', name)).catch(() => [] as string[]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-control-cli-');
  dataDir = path.join(work, 'data');
  const emails = Array.from({ length: recipients }, (_, i) => `redaction.${i}@media-${i % 7}.example.org`);
  await writeFile(
    path.join(work, 'presse.csv'),
    ['Prénom;Nom;Courriel', ...emails.map((e, i) => `Zoé;Lefèvre-${i};${e}`)].join('\r\n'),
  );
  expectExit(
    await pressroom('publish', 'examples/publications/2021-06-08-numerique-gestion-de-crise.md', '--no-pdf'),
    0,
  );
  expectExit(await pressroom('contacts', 'import', 'presse.csv', '--list', 'presse'), 0);
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('pressroom campaign stop and resume (real processes, the outbox)', () => {
  it('stops a send running in another process, and resumes it from the record: one message each', async () => {
    const child = spawn(
      process.execPath,
      [pressroomBin, 'send', 'examples/campaigns/etude-2021-presse.yaml', '--rate', '20'],
      { cwd: work, env: env() },
    );
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    for (let i = 0; i < 3000 && (await outbox('etude-2021-presse')).length < 5; i++) await sleep(10);
    const stop = await pressroom('campaign', 'stop', 'etude-2021-presse');
    expectExit(stop, 0);
    expect(stop.stdout).toMatch(/^Stopped etude-2021-presse: paused, stopped by \S+@\S+ at /);
    expect(stop.stdout).toContain('stops before its next recipient');
    expect(stop.stdout).toContain('`pressroom campaign resume etude-2021-presse` continues it.');
    expect(await exited).toBe(3);
    expect(stderr).toMatch(
      /pressroom: stopped by \S+ at \S+: `pressroom campaign resume etude-2021-presse` continues it/,
    );
    const sentBefore = (await outbox('etude-2021-presse')).length;
    expect(sentBefore).toBeLessThan(recipients);
    const status = await pressroom('campaign', 'status', 'etude-2021-presse');
    expect(status.stdout).toMatch(/: paused\n/);
    expect(status.stdout).toContain('resume      `pressroom campaign resume etude-2021-presse`');

    const resumed = await pressroom('campaign', 'resume', 'etude-2021-presse', '--rate', '400', '--json');
    expectExit(resumed, 0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      state: 'sent',
      sent: recipients - sentBefore,
      alreadyDone: sentBefore,
    });
    expect(await outbox('etude-2021-presse')).toHaveLength(recipients);
  }, 60_000);

  it('refuses what does not apply, saying what to do', async () => {
    const expectRefused = (run: Run, code: number, text: string) => {
      expectExit(run, code);
      expect(run.stderr).toContain(text);
    };
    expectRefused(
      await pressroom('campaign', 'resume', 'etude-2021-press'),
      1,
      'no campaign "etude-2021-press": did you mean "etude-2021-presse"?',
    );
    expectRefused(await pressroom('campaign', 'resume', 'etude-2021-presse'), 1, 'is sent: everyone');
    expectRefused(
      await pressroom('campaign', 'stop', 'etude-2021-presse'),
      1,
      'is sent: there is nothing to stop',
    );
    // `pause` is the same command.
    expectRefused(
      await pressroom('campaign', 'pause', 'etude-2021-presse'),
      1,
      'is sent: there is nothing to stop',
    );
  });
});

describe('--backend aws (s3rver as the bucket)', () => {
  const BUCKET = 'pressroom-control-e2e';
  let s3: RunningS3rver;
  let store: S3ObjectStore;
  let awsEnv: NodeJS.ProcessEnv;
  const onStack = (...args: string[]) =>
    runPressroom([...args, '--backend', 'aws'], { cwd: work, env: awsEnv });

  beforeAll(async () => {
    s3 = await startS3rver([BUCKET]);
    await writeStackOutputs(work, BUCKET);
    const { PRESSROOM_BACKEND: _b, PRESSROOM_STACK_OUTPUTS: _o, PRESSROOM_STACK: _s, ...rest } = process.env;
    awsEnv = {
      ...rest,
      ...s3rverEnvironment(s3.endpoint),
      PRESSROOM_SECRET: 'control-cli-secret-0123456789abcdef',
    };
    store = new S3ObjectStore({ bucket: BUCKET, client: new S3Client(s3rverClientConfig(s3.endpoint)) });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('campaign stop closes the dispatched run; campaign resume refuses a draft, naming send', async () => {
    const run = '2026-01-16T07:30:00.000Z';
    await registerDraft(store, definition('envoi-aws'));
    await updateCampaign(
      store,
      'envoi-aws',
      () => {
        throw new Error('registered');
      },
      (c) => ({ ...c, state: 'sending', runs: [{ startedAt: run, heartbeatAt: run, batches: 2 }] }),
    );
    const stop = await onStack('campaign', 'stop', 'envoi-aws', '--json');
    expectExit(stop, 0);
    expect(JSON.parse(stop.stdout)).toMatchObject({
      state: 'paused',
      outcome: 'stopped',
      dispatchedRunClosed: run,
      pausedReason: expect.stringMatching(/^stopped by /),
    });
    await registerDraft(store, definition('brouillon-aws'));
    const resume = await onStack('campaign', 'resume', 'brouillon-aws');
    expectExit(resume, 1);
    expect(resume.stderr).toContain(
      'has not started: there is nothing to resume. Send it with `pressroom send campaigns/brouillon-aws.yaml --backend aws`',
    );
    const rate = await onStack('campaign', 'resume', 'envoi-aws', '--rate', '5');
    expectExit(rate, 1);
    expect(rate.stderr).toContain('--rate does not work with --backend aws');
  });

  it('newsletter publish uploads the issue and its organisation under publications/newsletters/ (--no-wait)', async () => {
    // The releases the issue names, in the stack's archive.
    const deps = releaseDeps(store, await loadTemplateFiles(), localSourceFiles, () => new Date());
    for (const name of ['2021-06-08-numerique-gestion-de-crise.md', '2024-03-12-open-data-barometer.md'])
      await publishRelease(path.join(repo, 'examples/publications', name), deps);
    const run = await onStack('newsletter', 'publish', 'examples/newsletters/2024-03-lettre.md', '--no-wait');
    expectExit(run, 0);
    expect(run.stdout).toContain('Uploaded publications/newsletters/2024-03-lettre.md (2 file(s))');
    const keys: string[] = [];
    for await (const o of listAll(store, 'publications/')) keys.push(o.key);
    expect(keys.sort()).toEqual([
      'publications/newsletters/2024-03-lettre.md',
      'publications/organizations/villes-internet.yaml',
    ]);
    const waited = await onStack(
      'newsletter',
      'publish',
      'examples/newsletters/2024-03-lettre.md',
      '--wait',
      '1',
    );
    expectExit(waited, 4);
    expect(waited.stderr).toContain('no result after 1 s');
    expect(waited.stderr).toContain('newsletters/2024-03-lettre/issue.json');
  });

  it('newsletter publish refuses an issue naming a release the stack does not have, and uploads nothing', async () => {
    await writeFile(
      path.join(work, 'examples/newsletters/inconnue.md'),
      '---\ntitle: Lettre\ndate: 2024-04-01\npublishers: [villes-internet]\nintro: Bonjour\nitems:\n  - release: nulle-part\n---\n',
    );
    const run = await onStack('newsletter', 'publish', 'examples/newsletters/inconnue.md', '--no-wait');
    expectExit(run, 1);
    expect(run.stderr).toContain('nulle-part');
    expect(await store.head('publications/newsletters/inconnue.md')).toBeUndefined();
  });
});
