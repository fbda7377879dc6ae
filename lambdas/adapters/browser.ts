import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { PressroomError } from '../core/errors.ts';
import { processAlive } from './folder-store.ts';

/**
 * Finds the Chromium that prints PDFs and draws pages, and launches it with playwright-core.
 * In this order:
 * 1. `CHROMIUM_PATH`: when set, the only one tried; it must be an executable file;
 * 2. a system Chromium or Chrome: the usual names on PATH, then the usual install paths;
 * 3. the Chromium shipped compressed inside the npm package `@sparticuz/chromium` (the build
 *    Lambda uses), extracted once into a cache folder with the fonts it ships.
 * Nothing is ever downloaded.
 */

/** Flags for headless Chromium on a locked-down machine: no sandbox as root, no background traffic. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Names looked up on PATH, in this order. */
export const systemBrowserNames = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

/** Where browsers are installed when they are not on PATH. */
export const systemBrowserPaths = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/snap/bin/chromium',
  '/opt/google/chrome/chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** Where a browser came from. */
export type BrowserSource = 'CHROMIUM_PATH' | 'system' | 'npm' | 'lambda';

/** A browser found, with what it needs to start. */
export interface FoundBrowser {
  source: BrowserSource;
  executablePath: string;
  args: string[];
  /** Variables added to the browser's environment: the npm build's fonts, and libraries when the machine lacks them. */
  env: Record<string, string>;
  /** Which browser, for messages: `Chromium from CHROMIUM_PATH (/x/chrome)`. */
  label: string;
  /** The npm build only: the folder of the fonts it ships (Open Sans). */
  fontsDir?: string;
}

/** Where to look; every field has a default from the environment. */
export interface BrowserSearch {
  /** `CHROMIUM_PATH`; when set, the only browser tried. */
  chromiumPath?: string | undefined;
  /** Folders searched by name for a system browser (default: PATH). */
  searchPath?: string;
  /** Full paths tried after PATH (default: `systemBrowserPaths`). */
  systemPaths?: readonly string[];
  /** The npm build: see `NpmChromiumOptions`. */
  npm?: NpmChromiumOptions;
}

export interface NpmChromiumOptions {
  /** The installed `@sparticuz/chromium` package's folder (default: resolved from here). */
  packageDir?: string;
  /** The folder holding the extracted builds (default: the first usable of `npmChromiumCacheRoots()`). */
  cacheRoot?: string;
}

/** No browser in any of the three places; the message says what was tried and how to fix it. */
export class BrowserNotFoundError extends PressroomError {
  override name = 'BrowserNotFoundError';
}

/** A browser was found but did not start. */
export class BrowserLaunchError extends PressroomError {
  override name = 'BrowserLaunchError';
}

/** Finds a browser in the three places, in order; throws BrowserNotFoundError naming each. */
export async function findBrowser(search: BrowserSearch = {}): Promise<FoundBrowser> {
  if (search.chromiumPath !== undefined) {
    const file = search.chromiumPath;
    if (!(await isExecutableFile(file))) {
      throw new BrowserNotFoundError(
        `no Chromium at ${file} (CHROMIUM_PATH): it is not an executable file. Point CHROMIUM_PATH at a Chromium or Chrome executable, or unset it to use the system's Chromium or the one in @sparticuz/chromium`,
      );
    }
    return {
      source: 'CHROMIUM_PATH',
      executablePath: file,
      args: chromiumArgs,
      env: {},
      label: `Chromium from CHROMIUM_PATH (${file})`,
    };
  }
  const system = await findSystemBrowser(search);
  if (system) {
    return {
      source: 'system',
      executablePath: system,
      args: chromiumArgs,
      env: {},
      label: `system Chromium (${system})`,
    };
  }
  try {
    return await npmChromium(search.npm);
  } catch (error) {
    if (!(error instanceof NpmChromiumUnavailableError)) throw error;
    throw new BrowserNotFoundError(
      `no browser found. Tried: CHROMIUM_PATH (not set); a system Chromium or Chrome (${systemBrowserNames.join(', ')} on PATH, and ${(search.systemPaths ?? systemBrowserPaths).join(', ')}): none; @sparticuz/chromium: ${error.message}. To fix: run \`npm ci\` (it installs @sparticuz/chromium, whose Chromium runs on Linux x64), install Chromium (apt-get install -y chromium), or set CHROMIUM_PATH to a Chromium or Chrome executable`,
      { cause: error },
    );
  }
}

/** Starts a browser found by `findBrowser` through playwright-core; the caller closes it. */
export async function launchBrowser(found: FoundBrowser): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  try {
    return await chromium.launch({
      executablePath: found.executablePath,
      args: found.args,
      env: { ...env, ...found.env },
    });
  } catch (error) {
    // Playwright's first line is often "browser has been closed"; the browser's own words say why.
    const lines = (error as Error).message.split('\n').map((line) => line.trim());
    const detail =
      lines.find((line) => /error while loading shared libraries/.test(line))?.replace(/^.*\[err\]\s*/, '') ??
      lines.find((line) => line !== '') ??
      String(error);
    throw new BrowserLaunchError(
      `${found.label} did not start: ${detail}. ${found.source === 'CHROMIUM_PATH' ? 'Point CHROMIUM_PATH at another Chromium' : 'Set CHROMIUM_PATH to a Chromium that starts'}, or see docs/development.md (Testing)`,
      { cause: error },
    );
  }
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findSystemBrowser(search: BrowserSearch): Promise<string | undefined> {
  const folders = (search.searchPath ?? process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  const candidates = [
    ...systemBrowserNames.flatMap((name) => folders.map((folder) => path.join(folder, name))),
    ...(search.systemPaths ?? systemBrowserPaths),
  ];
  for (const file of candidates) if (await isExecutableFile(file)) return file;
  return undefined;
}

// --- on Lambda ---------------------------------------------------------------------------

/**
 * @sparticuz/chromium's Lambda flags that pressroom leaves out: it prints its own pages with
 * JavaScript off and the network closed, and needs no exception to the same-origin policy.
 */
const unwantedLambdaArgs = new Set(['--disable-web-security', '--allow-running-insecure-content']);

/**
 * The Chromium of the publish function's layer (`@sparticuz/chromium`, found through
 * NODE_PATH), as that package runs it on Lambda: its `executablePath()` extracts the build,
 * the fonts it ships (Open Sans) and the Amazon Linux libraries it needs into the temporary
 * folder (/tmp, once per execution environment), and its `args` are the flags Lambda needs
 * (one process, no zygote, no sandbox), less `unwantedLambdaArgs`, with WebGL off.
 * Fontconfig reads a file of ours that names the temporary folder (the package's own names
 * /tmp), so that text is drawn with the shipped fonts wherever the temporary folder is. The publish handler asks for it: no environment variable
 * is guessed from here, and the command line keeps `findBrowser`.
 */
export async function lambdaChromium(): Promise<FoundBrowser> {
  let chromium: typeof import('@sparticuz/chromium')['default'];
  try {
    chromium = (await import('@sparticuz/chromium')).default;
  } catch (error) {
    throw new BrowserNotFoundError(
      `@sparticuz/chromium cannot be loaded (${(error as Error).message}): the function needs the Chromium layer`,
      { cause: error },
    );
  }
  chromium.setGraphicsMode = false;
  let executablePath: string;
  try {
    executablePath = await chromium.executablePath();
  } catch (error) {
    throw new BrowserNotFoundError(
      `the Chromium of @sparticuz/chromium could not be extracted into ${os.tmpdir()}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const fontsDir = path.join(os.tmpdir(), 'fonts');
  const fontconfig = path.join(os.tmpdir(), 'pressroom-fonts.conf');
  await writeFile(fontconfig, fontconfigFile([fontsDir], path.join(os.tmpdir(), 'fonts-cache')));
  return {
    source: 'lambda',
    executablePath,
    args: chromium.args.filter((arg) => !unwantedLambdaArgs.has(arg)),
    env: { FONTCONFIG_FILE: fontconfig },
    label: `Chromium of the layer's @sparticuz/chromium (${executablePath})`,
    fontsDir,
  };
}

// --- the npm build -------------------------------------------------------------------------

/** The npm build cannot be used here; the message says why (it ends a sentence). */
export class NpmChromiumUnavailableError extends PressroomError {
  override name = 'NpmChromiumUnavailableError';
}

/** How long one extraction may take, and how long others wait for it before doing it themselves. */
const extractionTimeoutMs = 5 * 60_000;

/**
 * The cache folder for extracted builds: `$XDG_CACHE_HOME/pressroom` or `~/.cache/pressroom`
 * (kept across reboots, on disk rather than a RAM-backed /tmp), else a folder of this user's
 * in the system's temporary folder (Lambda, or a home that cannot be written).
 */
export function npmChromiumCacheRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  // The XDG spec ignores a relative XDG_CACHE_HOME.
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  const home = xdg ?? path.join(os.homedir(), '.cache');
  return [path.join(home, 'pressroom'), path.join(os.tmpdir(), `pressroom-cache-${uid ?? 'user'}`)];
}

/** Extractions under way in this process, by target folder: one per folder. */
const preparing = new Map<string, Promise<FoundBrowser>>();

/**
 * The Chromium of `@sparticuz/chromium`, extracted once (about 210 MB) into
 * `<cache>/chromium-<version>/` with its fonts and a fontconfig file that adds them to the
 * machine's. Several processes may ask at once: one extracts (into a folder of its own,
 * renamed into place when complete) while the others wait; a crashed extraction leaves
 * nothing that is mistaken for a build.
 */
export async function npmChromium(options: NpmChromiumOptions = {}): Promise<FoundBrowser> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new NpmChromiumUnavailableError(
      `its Chromium is built for Linux x64 only, and this is ${process.platform} ${process.arch}`,
    );
  }
  const packageDir = options.packageDir ?? installedPackageDir();
  const version = await packageVersion(packageDir);
  const root = await usableCacheRoot(options.cacheRoot ? [options.cacheRoot] : npmChromiumCacheRoots());
  const target = path.join(root, `chromium-${version}`);
  let found = preparing.get(target);
  if (!found) {
    found = prepare(packageDir, version, target).catch((error: Error) => {
      if (error instanceof NpmChromiumUnavailableError) throw error;
      // A full disk, a folder that cannot be written: the message says where.
      throw new NpmChromiumUnavailableError(`its extraction into ${target} failed: ${error.message}`, {
        cause: error,
      });
    });
    preparing.set(target, found);
    found.catch(() => preparing.delete(target));
  }
  return found;
}

function installedPackageDir(): string {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  } catch {
    throw new NpmChromiumUnavailableError('the package is not installed');
  }
  // The entry is <package>/build/index.js.
  return path.resolve(path.dirname(entry), '..');
}

async function packageVersion(packageDir: string): Promise<string> {
  try {
    const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8'));
    if (typeof version === 'string' && /^[\w.+-]+$/.test(version)) return version;
  } catch {}
  throw new NpmChromiumUnavailableError(`no readable version in ${path.join(packageDir, 'package.json')}`);
}

/** The first cache root that can be made and is this user's alone. */
async function usableCacheRoot(roots: string[]): Promise<string> {
  const problems: string[] = [];
  for (const root of roots) {
    try {
      await mkdir(root, { recursive: true, mode: 0o700 });
      await checkPrivate(root);
      return root;
    } catch (error) {
      problems.push(`${root}: ${(error as Error).message}`);
    }
  }
  throw new NpmChromiumUnavailableError(`no cache folder to extract it into (${problems.join('; ')})`);
}

/** A shared folder could hold someone else's executable: it must be ours and closed to others. */
async function checkPrivate(folder: string): Promise<void> {
  const info = await lstat(folder);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (!info.isDirectory()) throw new Error('not a folder');
  if (uid !== undefined && info.uid !== uid)
    throw new Error(`owned by user ${info.uid}, not by you (${uid})`);
  if (info.mode & 0o022) throw new Error('writable by other users');
}

async function prepare(packageDir: string, version: string, target: string): Promise<FoundBrowser> {
  await extractOnce(packageDir, target);
  const executablePath = path.join(target, 'chromium');
  const env: Record<string, string> = {};
  // A fontconfig setup of the user's own wins over ours.
  if (!process.env.FONTCONFIG_FILE && !process.env.FONTCONFIG_PATH) {
    env.FONTCONFIG_FILE = path.join(target, 'fonts.conf');
  }
  const libraries = await missingLibraries(executablePath, path.join(target, 'al2023', 'lib'));
  if (libraries) env.LD_LIBRARY_PATH = libraries;
  return {
    source: 'npm',
    executablePath,
    args: chromiumArgs,
    env,
    label: `Chromium of @sparticuz/chromium ${version} (${executablePath})`,
    fontsDir: path.join(target, 'fonts'),
  };
}

async function isExtracted(target: string): Promise<boolean> {
  return (
    (await isExecutableFile(path.join(target, 'chromium'))) && (await exists(path.join(target, 'fonts.conf')))
  );
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Extracts the build into `target` unless it is there. The lock (a folder made with mkdir,
 * which only one process can make) keeps the others waiting instead of extracting the same
 * 210 MB alongside; correctness does not rest on it: each extraction writes its own folder
 * and renames it into place, and rename is atomic. A lock whose holder died is taken over;
 * a holder that seems stuck past the timeout is ignored.
 */
async function extractOnce(packageDir: string, target: string): Promise<void> {
  const lock = `${target}.lock`;
  const deadline = Date.now() + extractionTimeoutMs;
  while (!(await isExtracted(target))) {
    if (await takeLock(lock)) {
      try {
        if (!(await isExtracted(target))) {
          await removeAbandonedParts(target);
          await extract(packageDir, target);
        }
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
      return;
    }
    if (Date.now() > deadline) return extract(packageDir, target);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function takeLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (await isStaleLock(lock)) await rm(lock, { recursive: true, force: true });
    return false;
  }
  await writeFile(path.join(lock, 'owner'), `${os.hostname()} ${process.pid}`);
  return true;
}

async function isStaleLock(lock: string): Promise<boolean> {
  const made = await stat(lock).then(
    (s) => s.mtimeMs,
    () => undefined,
  );
  if (made === undefined) return false; // released meanwhile
  if (Date.now() - made > extractionTimeoutMs) return true;
  const [host, pid] = (await readFile(path.join(lock, 'owner'), 'utf8').catch(() => '')).split(' ');
  // The owner is written just after the folder is made: give its holder a moment.
  if (!host || !Number(pid)) return Date.now() - made > 10_000;
  // A process of another machine (a home shared over the network) cannot be checked: wait.
  return host === os.hostname() && !processAlive(Number(pid));
}

/**
 * Folders left by extractions of this machine whose process died
 * (`chromium-<version>.part-<host>-<pid>-<random>`).
 */
async function removeAbandonedParts(target: string): Promise<void> {
  const prefix = `${path.basename(target)}.part-${os.hostname()}-`;
  for (const name of await readdir(path.dirname(target))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!processAlive(pid)) await rm(path.join(path.dirname(target), name), { recursive: true, force: true });
  }
}

/**
 * The package's own `executablePath()` extracts into the system's temporary folder, checks
 * only that /tmp/chromium exists (a half-written file passes) and writes it in place: so it
 * runs in a child process whose TMPDIR is a new folder of ours, which is renamed into place
 * once complete. The libraries it ships for Amazon Linux (nss, nspr, expat) are extracted
 * too, for machines that lack them.
 */
async function extract(packageDir: string, target: string): Promise<void> {
  const part = `${target}.part-${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(part, { mode: 0o700 });
  try {
    const script = `
      const { existsSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { default: chromium, inflate } = await import(process.argv[1]);
      await chromium.executablePath(join(process.argv[2], 'bin'));
      const libraries = join(process.argv[2], 'bin', 'al2023.tar.br');
      if (existsSync(libraries)) await inflate(libraries);
    `;
    const entry = pathToFileURL(path.join(packageDir, 'build', 'index.js')).href;
    await run(process.execPath, ['--input-type=module', '-e', script, entry, packageDir], {
      ...process.env,
      TMPDIR: part,
    }).catch((error: Error) => {
      throw new NpmChromiumUnavailableError(`its extraction into ${part} failed: ${error.message}`, {
        cause: error,
      });
    });
    await writeFile(
      path.join(part, 'fonts.conf'),
      fontconfigFile([path.join(target, 'fonts')], path.join(target, 'fontconfig-cache'), {
        machineFonts: true,
      }),
    );
    try {
      await rename(part, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      // Another process got there first; or a broken copy (files removed by hand) is in the way.
      if (await isExtracted(target)) return;
      await rm(target, { recursive: true, force: true });
      await rename(part, target);
    }
  } finally {
    await rm(part, { recursive: true, force: true });
  }
}

/**
 * A fontconfig file for the Chromium of @sparticuz/chromium: the fonts it ships (`dirs`), plus,
 * with `machineFonts`, the machine's setup when it has one (its fonts and rules stay as they
 * are): on a machine with no fonts at all, text is still drawn.
 */
function fontconfigFile(dirs: string[], cacheDir: string, options: { machineFonts?: boolean } = {}): string {
  const xml = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<!-- Written by pressroom for the Chromium of @sparticuz/chromium. -->
<fontconfig>
${options.machineFonts ? '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n' : ''}${dirs.map((d) => `  <dir>${xml(d)}</dir>\n`).join('')}  <cachedir>${xml(cacheDir)}</cachedir>
</fontconfig>
`;
}

/**
 * `LD_LIBRARY_PATH` for the shipped libraries when the machine lacks those the build needs
 * (a bare image with Node only), else undefined: the machine's own are preferred.
 */
async function missingLibraries(executable: string, shipped: string): Promise<string | undefined> {
  const version = (env: NodeJS.ProcessEnv) => run(executable, ['--version'], env);
  try {
    await version(process.env);
    return undefined;
  } catch (error) {
    if (!/error while loading shared libraries/.test((error as Error).message) || !(await exists(shipped))) {
      throw new NpmChromiumUnavailableError(`${executable} does not run: ${(error as Error).message}`);
    }
    const libraries = [shipped, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    await version({ ...process.env, LD_LIBRARY_PATH: libraries }).catch((again: Error) => {
      throw new NpmChromiumUnavailableError(
        `${executable} does not run, even with the libraries it ships: ${again.message}`,
      );
    });
    return libraries;
  }
}

/** Runs a program to its end; rejects with its last lines of error output. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env, timeout: extractionTimeoutMs, maxBuffer: 1 << 20 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const said = stderr.trim().split('\n').slice(-3).join(' / ');
        reject(new Error(said || error.message));
      },
    );
  });
}
