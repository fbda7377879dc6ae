/**
 * `npm start`, the real script, as a newcomer runs it: in a temporary HOME and TMPDIR, with a
 * hostile environment (a data folder, a real mailer, the AWS backend, a public URL). The demo
 * works in a folder of its own, mails only to its outbox, and touches neither the project
 * nor the data folder it was given.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSnapshot, repo } from '../support/cli.ts';
import { rawRequest, type Server, startServer, stopServer } from '../support/serve.ts';

const execFileAsync = promisify(execFile);

let home: string;
let data: string;
let demo: string;
let server: Server | undefined;

/** A mailer, a store and a backend that must never be used, and links that must never be written. */
const hostile = () => ({
  PATH: process.env.PATH,
  HOME: home,
  TMPDIR: path.join(home, 'tmp'),
  PRESSROOM_DATA_DIR: data,
  PRESSROOM_MAILER: 'smtp',
  PRESSROOM_SMTP_URL: 'smtp://someone:secret@127.0.0.1:9',
  PRESSROOM_BACKEND: 'aws',
  PRESSROOM_PUBLIC_URL: 'https://hostile.example.org',
  ...(process.env.CHROMIUM_PATH && { CHROMIUM_PATH: process.env.CHROMIUM_PATH }),
  // The browser from @sparticuz/chromium is extracted once per machine: the test's HOME is
  // new, so point at the real cache rather than extracting 210 MB again.
  XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'),
});

async function npmStart(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('npm', ['start', '--silent'], { cwd: repo, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The path printed after `label` in the summary. */
function shown(stdout: string, label: string): string {
  const line = stdout.split('\n').find((l) => l.trimStart().startsWith(`${label} `));
  if (!line) throw new Error(`no "${label}" line in:\n${stdout}`);
  return line
    .trim()
    .slice(label.length)
    .trim()
    .split(/\/? \(|\/$/)[0] as string;
}

const runs: { code: number; stdout: string; stderr: string }[] = [];
let projectBefore: Record<string, string>;
let projectAfter: Record<string, string>;
let dataBefore: Record<string, string>;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'pressroom-demo-test-'));
  data = path.join(home, 'data');
  demo = path.join(home, 'tmp', 'pressroom-demo');
  await mkdir(path.join(home, 'tmp'));
  await mkdir(data);
  await writeFile(path.join(data, 'precious.txt'), 'the real store');
  // Not the project: dependencies, git, and what other test files write while this one runs
  // (browser screenshots, synthesised stacks).
  const skip = ['node_modules', '.git', 'test-output', 'cdk.out'];
  projectBefore = await folderSnapshot(repo, skip);
  dataBefore = await folderSnapshot(data);
  runs.push(await npmStart(hostile()));
  runs.push(await npmStart(hostile()));
  projectAfter = await folderSnapshot(repo, skip);
}, 180_000);

afterAll(async () => {
  await stopServer(server, 'SIGTERM');
  if (home) await rm(home, { recursive: true, force: true });
});

describe('npm start', () => {
  it('ends with a summary, twice, and says which settings it ignored', () => {
    for (const run of runs) {
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toContain(`pressroom demo in ${demo}`);
      expect(run.stdout).toContain(
        'The demo ignores PRESSROOM_BACKEND, PRESSROOM_DATA_DIR, PRESSROOM_MAILER, PRESSROOM_PUBLIC_URL, PRESSROOM_SMTP_URL',
      );
      expect(run.stdout).toContain('always mails to its outbox (never a real mailer)');
      expect(run.stdout).toContain(
        'published  gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes (public)',
      );
      expect(run.stdout).toContain('published  open-data-barometer-2024 (public)');
      // Its French translation, published after it (translationOf names a release of the archive).
      expect(run.stdout).toContain('published  barometre-open-data-2024 (public)');
      expect(run.stdout.indexOf('published  barometre-open-data-2024')).toBeGreaterThan(
        run.stdout.indexOf('published  open-data-barometer-2024'),
      );
      expect(run.stdout).toContain('published  newsletter 2024-03-lettre (public)');
      expect(run.stdout).toContain('into the list "presse": 30 added, 0 rejected');
      // A fresh demo at each run: the second sends the 30 messages again into a new outbox.
      expect(run.stdout).toContain('to the outbox: 30 sent, 0 failed (sent)');
      // HOME is the test's folder, so the store line shows the path from ~.
      expect(run.stderr).toContain('store: ~/tmp/pressroom-demo/.pressroom (workspace ~/tmp/pressroom-demo)');
    }
  });

  it('leaves the project and the data folder it was given byte-identical', async () => {
    expect(projectAfter).toEqual(projectBefore);
    expect(await folderSnapshot(data)).toEqual(dataBefore);
  });

  it('puts 30 .eml files in the outbox of its own workspace, with localhost links only', async () => {
    const outbox = shown(runs[1]?.stdout ?? '', 'outbox');
    expect(outbox).toBe(path.join(demo, '.pressroom/outbox/etude-2021-presse'));
    const files = await readdir(outbox);
    expect(files).toHaveLength(30);
    expect(files.every((f) => f.endsWith('.eml'))).toBe(true);
    const message = await readFile(path.join(outbox, files[0] as string), 'utf8');
    expect(message).toContain('http://localhost:3000/unsubscribe/');
    expect(message).not.toContain('hostile.example.org');
    expect(await readFile(path.join(demo, '.pressroom-demo'), 'utf8')).toContain('npm start');
  });

  it('prints where the email, page, PDF and press room are, as absolute paths that exist', async () => {
    const stdout = runs[1]?.stdout ?? '';
    const email = shown(stdout, 'email');
    const page = shown(stdout, 'page');
    const room = shown(stdout, 'press room');
    for (const file of [email, page, room]) {
      expect(path.isAbsolute(file), file).toBe(true);
      expect(file.startsWith(`${demo}/`), file).toBe(true);
      expect((await stat(file)).isFile(), file).toBe(true);
    }
    expect(await readFile(email, 'utf8')).toContain('Gestion de crise avec le numérique');
    expect(await readFile(page, 'utf8')).toContain('Gestion de crise avec le numérique');
    // A browser is always found (CHROMIUM_PATH, the system's, or the one in @sparticuz/chromium).
    const pdf = shown(stdout, 'PDF');
    expect(path.isAbsolute(pdf), pdf).toBe(true);
    expect((await readFile(pdf)).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('prints the command that serves the demo press room, and that command serves it', async () => {
    const stdout = runs[1]?.stdout ?? '';
    const line = stdout.split('\n').find((l) => l.trim().startsWith('npx pressroom serve '));
    expect(line, stdout).toBe(
      `  npx pressroom serve --data-dir ${path.join(demo, '.pressroom')} --lists ${path.join(demo, 'lists.yaml')}`,
    );
    const args = (line ?? '').trim().split(' ').slice(3);
    server = await startServer(args, { cwd: repo, env: { ...process.env, PRESSROOM_DATA_DIR: undefined } });
    const index = await rawRequest(server.url, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('Gestion de crise avec le numérique');
    expect(server.output()).toContain('lists open to subscription');
  });

  it('never deletes a folder it did not make', async () => {
    const mine = path.join(home, 'mine');
    await mkdir(mine);
    await writeFile(path.join(mine, 'thesis.docx'), 'precious');
    const refused = await npmStart({ ...hostile(), PRESSROOM_DEMO_DIR: mine });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `${mine} exists and was not made by the demo (it has no .pressroom-demo file)`,
    );
    expect(await readdir(mine)).toEqual(['thesis.docx']);
  });
});
