import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCommand } from '../../scripts/build.ts';

/**
 * `pressroom --help` starts fast because building the command line loads commander and the
 * command definitions, nothing heavy: each command imports what it does when it runs. This
 * test reads the compiled command's import graph (esbuild's metafile) instead of timing it
 * (the time is `npm run bench -- cli`).
 */

let outdir: string;
let metafile: Metafile;

beforeAll(async () => {
  outdir = await mkdtemp(path.join(tmpdir(), 'pressroom-build-'));
  metafile = await buildCommand(outdir);
}, 60_000);
afterAll(() => rm(outdir, { recursive: true, force: true }));

/** The packages an output loads before its first line runs: its static imports, transitively. */
function loadedAtStart(entry: string): { packages: Set<string>; files: Set<string> } {
  const packages = new Set<string>();
  const files = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? []) {
      if (imported.kind !== 'import-statement') continue;
      if (imported.external) packages.add(imported.path);
      else visit(imported.path);
    }
  };
  visit(entry);
  return { packages, files };
}

describe('the compiled command', () => {
  const entry = () => {
    const found = Object.keys(metafile.outputs).find((f) => f.endsWith('/pressroom.js'));
    if (!found) throw new Error(`no pressroom.js among ${Object.keys(metafile.outputs).join(', ')}`);
    return found;
  };

  it('loads commander and Node built-ins only to build the command line', () => {
    const { packages } = loadedAtStart(entry());
    const notBuiltIn = [...packages].filter((p) => !p.startsWith('node:'));
    expect(notBuiltIn).toEqual(['commander']);
  });

  it('keeps what the commands do in chunks loaded when they run', () => {
    const { files } = loadedAtStart(entry());
    const all = Object.keys(metafile.outputs).filter((f) => f.endsWith('.js'));
    // Rendering (MJML), sending, contacts and the AWS backend are all somewhere, but not at start.
    const lazy = all.filter((f) => !files.has(f));
    expect(lazy.length).toBeGreaterThan(5);
    const heavy = ['mjml', 'playwright-core', '@aws-sdk/client-s3', 'csv-parse', 'zod', 'yaml'];
    const everywhere = new Set(all.flatMap((f) => (metafile.outputs[f]?.imports ?? []).map((i) => i.path)));
    for (const name of heavy.filter((h) => everywhere.has(h))) {
      expect(loadedAtStart(entry()).packages.has(name), name).toBe(false);
    }
    // The check above would pass on a build that lost them: make sure most are imported somewhere.
    expect(heavy.filter((h) => everywhere.has(h)).length).toBeGreaterThanOrEqual(3);
  });
});
