import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';

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
