import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect } from 'vitest';

const execFileAsync = promisify(execFile);

/** The repository's top folder. */
export const repo = path.resolve(import.meta.dirname, '../..');
/** The command as users run it. */
export const pressroomBin = path.join(repo, 'bin/pressroom.js');

/** What a run of the command said, and how it ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `pressroom` command as a child process; a non-zero exit is a result, not an error. */
export async function runPressroom(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [pressroomBin, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Fails with everything the command printed, so a failure says why. */
export function expectExit(run: Run, code: number): void {
  expect(run.code, `exit code\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`).toBe(code);
}

/** A new temporary folder (under the system's, named `prefix…`) holding a copy of examples/. */
export async function exampleWorkspace(prefix: string): Promise<string> {
  const work = await mkdtemp(path.join(tmpdir(), prefix));
  await cp(path.join(repo, 'examples'), path.join(work, 'examples'), { recursive: true });
  return work;
}

/**
 * One workspace holding a copy of examples/ for all the tests of a file: made before them and
 * removed after them, by hooks this call registers (call it above the file's own `beforeAll`).
 */
export function exampleWorkspaceForFile(prefix: string): {
  /** Its folder (once made). */
  readonly dir: string;
  /** Runs the real command in it, as a user would. */
  pressroom: (...args: string[]) => Promise<Run>;
} {
  let made: string | undefined;
  beforeAll(async () => {
    made = await exampleWorkspace(prefix);
  });
  afterAll(async () => {
    if (made) await rm(made, { recursive: true, force: true });
  });
  const dir = () => {
    if (!made) throw new Error('the workspace was not made: see the error of beforeAll');
    return made;
  };
  return {
    get dir() {
      return dir();
    },
    pressroom: (...args) => runPressroom(args, { cwd: dir() }),
  };
}

/** A deterministic pseudo-random generator (mulberry32), for fault tests that print their seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
