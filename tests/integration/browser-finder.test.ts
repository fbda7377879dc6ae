/**
 * Finding the browser: CHROMIUM_PATH, then a system Chromium or Chrome, then the Chromium of
 * @sparticuz/chromium. The npm build's extraction is tried on a stand-in package (the real
 * package's code, with a small shell script for a browser and a counter of extractions), in
 * a cache folder of the test's own: several processes at once, a lock left by a process that
 * died, a half-extracted folder, a broken copy.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserLaunchError,
  BrowserNotFoundError,
  chromiumArgs,
  findBrowser,
  launchBrowser,
  npmChromium,
  systemBrowserNames,
} from '../../lambdas/adapters/browser.ts';
import { repo } from '../support/cli.ts';

const run = promisify(execFile);

let work: string;
/** A folder of executables standing for browsers: `file(name)` makes one. */
let bin: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'pressroom-finder-'));
  bin = path.join(work, 'bin');
  await mkdir(bin);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function file(name: string, mode = 0o755): Promise<string> {
  const p = path.join(work, name);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, '#!/bin/sh\necho "Chromium 1.0"\n');
  await chmod(p, mode);
  return p;
}

/** Nothing on PATH, nothing installed, no npm package: where every search ends empty. */
const nowhere = () => ({
  searchPath: path.join(work, 'empty'),
  systemPaths: [],
  npm: { packageDir: path.join(work, 'no-package'), cacheRoot: path.join(work, 'no-cache') },
});

describe('CHROMIUM_PATH', () => {
  it('is used when set, before a system browser', async () => {
    const chosen = await file('chosen/chrome');
    await file('bin/chromium');
    const found = await findBrowser({ chromiumPath: chosen, searchPath: bin });
    expect(found).toEqual({
      source: 'CHROMIUM_PATH',
      executablePath: chosen,
      args: chromiumArgs,
      env: {},
      label: `Chromium from CHROMIUM_PATH (${chosen})`,
    });
  });

  it('must be an executable file: missing, a folder or not executable is an error naming it', async () => {
    const notExecutable = await file('plain/chrome', 0o644);
    for (const bad of [path.join(work, 'missing'), work, notExecutable]) {
      const error = await findBrowser({ ...nowhere(), chromiumPath: bad }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrowserNotFoundError);
      expect((error as Error).message).toBe(
        `no Chromium at ${bad} (CHROMIUM_PATH): it is not an executable file. Point CHROMIUM_PATH at a Chromium or Chrome executable, or unset it to use the system's Chromium or the one in @sparticuz/chromium`,
      );
    }
  });
});

describe('a browser that does not start', () => {
  it('is reported with its origin and the reason the browser itself gave', async () => {
    const broken = path.join(work, 'broken/chromium');
    await mkdir(path.dirname(broken), { recursive: true });
    await writeFile(
      broken,
      '#!/bin/sh\necho "$0: error while loading shared libraries: libnss3.so: cannot open shared object file" >&2\nexit 127\n',
    );
    await chmod(broken, 0o755);
    const error = await launchBrowser(await findBrowser({ chromiumPath: broken })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrowserLaunchError);
    expect((error as Error).message).toBe(
      `Chromium from CHROMIUM_PATH (${broken}) did not start: ${broken}: error while loading shared libraries: libnss3.so: cannot open shared object file. Point CHROMIUM_PATH at another Chromium, or see docs/development.md (Testing)`,
    );
  });
});

describe('a system browser', () => {
  it('is found on PATH by its usual names, in order, skipping files that are not executable', async () => {
    const dirs = [path.join(work, 'path-a'), path.join(work, 'path-b')];
    await file('path-a/chromium', 0o644);
    const chrome = await file('path-a/google-chrome');
    const chromium = await file('path-b/chromium');
    const found = await findBrowser({ searchPath: dirs.join(path.delimiter), systemPaths: [] });
    // chromium comes first among the names, wherever it is on PATH; the one in path-a cannot run.
    expect(systemBrowserNames.indexOf('chromium')).toBeLessThan(systemBrowserNames.indexOf('google-chrome'));
    expect(found).toMatchObject({ source: 'system', executablePath: chromium, env: {} });
    await rm(chromium);
    expect(await findBrowser({ searchPath: dirs.join(path.delimiter), systemPaths: [] })).toMatchObject({
      executablePath: chrome,
    });
  });

  it('is found at the usual install paths when PATH has none', async () => {
    const installed = await file('opt/google/chrome/chrome');
    const found = await findBrowser({ searchPath: '', systemPaths: [path.join(work, 'nope'), installed] });
    expect(found).toMatchObject({
      source: 'system',
      executablePath: installed,
      label: `system Chromium (${installed})`,
    });
  });
});

describe('no browser anywhere', () => {
  it('says which three places were tried and how to fix it', async () => {
    const error = await findBrowser(nowhere()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrowserNotFoundError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^no browser found\. Tried: CHROMIUM_PATH \(not set\); a system Chromium or Chrome \(chromium, chromium-browser, google-chrome-stable, google-chrome on PATH, and \): none; @sparticuz\/chromium: no readable version in .*no-package\/package\.json\. To fix: /,
    );
    expect(message).toContain('run `npm ci`');
    expect(message).toContain('apt-get install -y chromium');
    expect(message).toContain('set CHROMIUM_PATH to a Chromium or Chrome executable');
  });
});

/**
 * A stand-in for @sparticuz/chromium: its real code (re-exported), its real fonts and
 * libraries, and for Chromium a shell script that prints a version. Each extraction waits
 * `delayMs` (so that concurrent processes overlap) and adds a line to `extractions.log`.
 */
async function standInPackage(dir: string, delayMs: number): Promise<string> {
  const real = path.resolve(
    path.dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')),
    '..',
  );
  await mkdir(path.join(dir, 'bin'), { recursive: true });
  await mkdir(path.join(dir, 'build'));
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'stand-in', version: '1.0.0-test' }),
  );
  await writeFile(
    path.join(dir, 'bin', 'chromium.br'),
    brotliCompressSync('#!/bin/sh\necho "Chromium 1.0"\n'),
  );
  for (const f of ['fonts.tar.br', 'swiftshader.tar.br', 'al2023.tar.br']) {
    await copyFile(path.join(real, 'bin', f), path.join(dir, 'bin', f));
  }
  const log = path.join(dir, 'extractions.log');
  await writeFile(
    path.join(dir, 'build', 'index.js'),
    `import { appendFileSync } from 'node:fs';
import chromium, { inflate } from ${JSON.stringify(pathToFileURL(path.join(real, 'build', 'index.js')).href)};
export { inflate };
export default {
  async executablePath(input) {
    appendFileSync(${JSON.stringify(log)}, process.pid + '\\n');
    await new Promise((resolve) => setTimeout(resolve, ${delayMs}));
    return chromium.executablePath(input);
  },
};
`,
  );
  return dir;
}

async function extractions(packageDir: string): Promise<number> {
  const log = await readFile(path.join(packageDir, 'extractions.log'), 'utf8').catch(() => '');
  return log.split('\n').filter(Boolean).length;
}

describe('the Chromium of @sparticuz/chromium', () => {
  it('is extracted once into the cache, with its fonts and a fontconfig file that adds them', async () => {
    const packageDir = await standInPackage(path.join(work, 'pkg-once'), 0);
    const cacheRoot = path.join(work, 'cache-once');
    await mkdir(cacheRoot, { mode: 0o700 });
    const found = await npmChromium({ packageDir, cacheRoot });
    const target = path.join(cacheRoot, 'chromium-1.0.0-test');
    expect(found).toEqual({
      source: 'npm',
      executablePath: path.join(target, 'chromium'),
      args: chromiumArgs,
      env: { FONTCONFIG_FILE: path.join(target, 'fonts.conf') },
      label: `Chromium of @sparticuz/chromium 1.0.0-test (${path.join(target, 'chromium')})`,
      fontsDir: path.join(target, 'fonts'),
    });
    const { stdout } = await run(found.executablePath, ['--version']);
    expect(stdout).toBe('Chromium 1.0\n');
    expect(
      (await readdir(found.fontsDir ?? '', { recursive: true })).filter((f) => f.endsWith('.ttf')),
    ).toEqual(expect.arrayContaining(['fonts/Open_Sans/OpenSans-Regular.ttf']));
    const conf = await readFile(path.join(target, 'fonts.conf'), 'utf8');
    expect(conf).toContain('<include ignore_missing="yes">/etc/fonts/fonts.conf</include>');
    expect(conf).toContain(`<dir>${path.join(target, 'fonts')}</dir>`);
    // The libraries for machines that lack them are there, unused here.
    expect((await stat(path.join(target, 'al2023', 'lib', 'libnss3.so'))).isFile()).toBe(true);
    // Nothing left beside it; asked again (in another process: no memory of the first), no new extraction.
    expect((await readdir(cacheRoot)).sort()).toEqual(['chromium-1.0.0-test']);
    await runChild(packageDir, cacheRoot);
    expect(await extractions(packageDir)).toBe(1);
  });

  it('is extracted by one process when several ask at once; the others wait and get the same', async () => {
    const packageDir = await standInPackage(path.join(work, 'pkg-race'), 3000);
    const cacheRoot = path.join(work, 'cache-race');
    await mkdir(cacheRoot, { mode: 0o700 });
    const results = await Promise.all(Array.from({ length: 4 }, () => runChild(packageDir, cacheRoot)));
    const target = path.join(cacheRoot, 'chromium-1.0.0-test');
    expect(new Set(results.map((r) => r.executablePath))).toEqual(new Set([path.join(target, 'chromium')]));
    expect(await extractions(packageDir)).toBe(1);
    expect(await readdir(cacheRoot)).toEqual(['chromium-1.0.0-test']);
  });

  it('takes over a lock left by a dead process, and removes the half-extracted folder it left', async () => {
    const packageDir = await standInPackage(path.join(work, 'pkg-stale'), 0);
    const cacheRoot = path.join(work, 'cache-stale');
    const target = path.join(cacheRoot, 'chromium-1.0.0-test');
    const dead = await deadPid();
    await mkdir(`${target}.lock`, { recursive: true, mode: 0o700 });
    await writeFile(path.join(`${target}.lock`, 'owner'), `${os.hostname()} ${dead}`);
    const part = `${target}.part-${os.hostname()}-${dead}-abcd1234`;
    await mkdir(part);
    await writeFile(path.join(part, 'chromium'), 'half');
    const found = await npmChromium({ packageDir, cacheRoot });
    expect((await run(found.executablePath, ['--version'])).stdout).toBe('Chromium 1.0\n');
    expect(await readdir(cacheRoot)).toEqual(['chromium-1.0.0-test']);
  });

  it('replaces a broken copy (its browser removed by hand)', async () => {
    const packageDir = await standInPackage(path.join(work, 'pkg-broken'), 0);
    const cacheRoot = path.join(work, 'cache-broken');
    const target = path.join(cacheRoot, 'chromium-1.0.0-test');
    await mkdir(path.join(target, 'fonts'), { recursive: true });
    await writeFile(path.join(target, 'fonts.conf'), '<fontconfig/>');
    const found = await runChild(packageDir, cacheRoot);
    expect((await run(found.executablePath, ['--version'])).stdout).toBe('Chromium 1.0\n');
    expect(await extractions(packageDir)).toBe(1);
  });

  it('refuses a cache folder that other users can write to', async () => {
    const packageDir = await standInPackage(path.join(work, 'pkg-open'), 0);
    const cacheRoot = path.join(work, 'cache-open');
    await mkdir(cacheRoot);
    await chmod(cacheRoot, 0o777);
    await expect(runChild(packageDir, cacheRoot)).rejects.toThrow(/writable by other users/);
    expect(await extractions(packageDir)).toBe(0);
  });
});

/** Asks for the npm build in a new process, as a test worker or a `pressroom` command would. */
async function runChild(packageDir: string, cacheRoot: string): Promise<{ executablePath: string }> {
  const script = `
    import { npmChromium } from ${JSON.stringify(pathToFileURL(path.join(repo, 'lambdas/adapters/browser.ts')).href)};
    const found = await npmChromium({ packageDir: process.argv[1], cacheRoot: process.argv[2] });
    process.stdout.write(JSON.stringify(found));
  `;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, packageDir, cacheRoot],
    { cwd: repo },
  ).catch((error: { stderr?: string }) => {
    throw new Error(error.stderr ?? String(error));
  });
  return JSON.parse(stdout);
}

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const { stdout } = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(stdout);
}
