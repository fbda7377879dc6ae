/**
 * `npm run build` (also run by `npm ci` and `npm pack` through `prepare`): compiles the
 * `pressroom` command to plain JavaScript in dist/. One entry, dist/pressroom.js, and one
 * chunk per part that a command loads when it runs (dist/chunks/), so that `pressroom --help`
 * loads the command definitions and nothing heavy. Packages stay in node_modules (imported,
 * not copied in); the templates, schemas and examples are found beside dist/
 * (lambdas/adapters/package-files.ts).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
export const distDir = path.join(root, 'dist');

/** How the command's code is compiled: plain ES modules for Node 20, packages left in node_modules. */
export const compiled = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
} as const;

/**
 * Builds the command afresh into `outdir` (dist/ by default) and returns esbuild's account
 * of it: each output file and what it imports.
 */
export async function buildCommand(outdir = distDir): Promise<Metafile> {
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { pressroom: 'bin/pressroom.ts' },
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    ...compiled,
    splitting: true,
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}

if (import.meta.filename === process.argv[1]) {
  const started = performance.now();
  const metafile = await buildCommand();
  const outputs = Object.keys(metafile.outputs).length;
  console.log(`dist/: ${outputs} files in ${Math.round(performance.now() - started)} ms`);
}
