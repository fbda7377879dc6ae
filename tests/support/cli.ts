import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect } from 'vitest';

const execFileAsync = promisify(execFile);

/** The repository's top folder. */
export const repo = path.resolve(import.meta.dirname, '../..');
/** The command as users run it: compiled to dist/ (tests/support/build-command.ts builds it). */
export const pressroomBin = path.join(repo, 'dist/pressroom.js');

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

/**
 * A new temporary folder (under the system's, named `prefix…`) holding a copy of examples/.
 * The folder is a workspace with every setting at its default (an empty pressroom.yaml), so
 * that commands run in it use its store, `.pressroom/`, as a user's workspace would; the copy
 * of examples/ under it is a workspace of its own (examples/pressroom.yaml).
 */
export async function exampleWorkspace(prefix: string): Promise<string> {
  const work = await mkdtemp(path.join(tmpdir(), prefix));
  await cp(path.join(repo, 'examples'), path.join(work, 'examples'), { recursive: true });
  await writeFile(
    path.join(work, 'pressroom.yaml'),
    '# A test workspace: every setting at its default, the store in .pressroom/.\n',
  );
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

/**
 * Every file, folder and symbolic link under `dir` with a hash of its bytes (or its target),
 * by path relative to `dir`: two snapshots are equal when nothing was added, removed or
 * changed. `skip` names top-level entries left out (node_modules, .git).
 */
export async function folderSnapshot(dir: string, skip: string[] = []): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const walk = async (sub: string): Promise<void> => {
    for (const name of (await readdir(path.join(dir, sub))).sort()) {
      const rel = sub ? `${sub}/${name}` : name;
      if (!sub && skip.includes(name)) continue;
      const full = path.join(dir, rel);
      const info = await lstat(full);
      if (info.isDirectory()) {
        found[`${rel}/`] = 'folder';
        await walk(rel);
      } else if (info.isSymbolicLink()) {
        found[rel] = `link to ${await readlink(full)}`;
      } else {
        found[rel] = createHash('sha256')
          .update(await readFile(full))
          .digest('hex');
      }
    }
  };
  await walk('');
  return found;
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
