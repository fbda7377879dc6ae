/**
 * `npm run check:package`: the package as npm would publish it works once installed. It packs
 * the project (`npm pack`, which builds dist/ first), installs the tarball into an empty
 * folder with npm, and there runs `npx pressroom --help`, `pressroom init` and
 * `pressroom render` of the seed release shipped in the package. It also checks what the
 * tarball holds: the compiled command, templates, schemas and examples, and no sources,
 * tests or stack code. It needs the npm registry (or npm's cache) for the dependencies.
 *
 * With `--link` it installs nothing from the registry: the tarball is unpacked into the empty
 * folder's node_modules beside links to this clone's production dependencies (`npm ls
 * --omit=dev`), as the test tests/e2e/package.test.ts does (tests use the loopback only).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const seed = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';

/** What one check of the packed package found. */
export interface PackageCheck {
  tarball: string;
  /** Bytes of the tarball. */
  size: number;
  files: string[];
  /** The folder it was installed in (removed afterwards unless kept). */
  folder: string;
  /** Each step with what the command printed. */
  steps: { command: string; output: string }[];
}

/** What the tarball must hold, and must not. */
export function packageContentProblems(files: string[]): string[] {
  const problems: string[] = [];
  for (const wanted of ['dist/pressroom.js', 'package.json', 'README.md', 'LICENSE', seed]) {
    if (!files.includes(wanted)) problems.push(`the package lacks ${wanted}`);
  }
  for (const prefix of ['templates/press-release/', 'templates/workspace/', 'schemas/']) {
    if (!files.some((f) => f.startsWith(prefix))) problems.push(`the package has nothing under ${prefix}`);
  }
  const unwanted = files.filter(
    (f) => /^(tests|lib|lambdas|bin|bench|scripts|docs|node_modules|\.ci)\//.test(f) || /\.ts$/.test(f),
  );
  if (unwanted.length > 0)
    problems.push(`the package ships what does not run: ${unwanted.slice(0, 5).join(', ')}`);
  return problems;
}

/**
 * Packs, installs into a new temporary folder and runs the command there. `link`: no
 * registry (see above). `build`: let `npm pack` build dist/ (its `prepare`); the test passes
 * false, since its set-up built dist/ and other tests are running it.
 */
export async function checkPackage(options: {
  link: boolean;
  build: boolean;
  keep?: boolean;
}): Promise<PackageCheck> {
  const folder = await mkdtemp(path.join(tmpdir(), 'pressroom-package-'));
  const steps: PackageCheck['steps'] = [];
  const step = async (command: string, file: string, args: string[], cwd = folder) => {
    try {
      const { stdout, stderr } = await run(file, args, { cwd, maxBuffer: 64 * 2 ** 20, env: cleanEnv() });
      steps.push({ command, output: `${stdout}${stderr}` });
      return stdout;
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${command} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
    }
  };
  try {
    // npm pack would build through `prepare`, but what the build prints would mix with the JSON.
    if (options.build) await step('npm run build', 'npm', ['run', 'build'], root);
    const packArgs = ['pack', '--json', '--ignore-scripts', '--pack-destination', folder];
    const packed = JSON.parse(await step('npm pack', 'npm', packArgs, root)) as {
      filename: string;
      size: number;
      files: { path: string }[];
    }[];
    const info = packed[0];
    if (!info) throw new Error('npm pack printed no package');
    const tarball = path.join(folder, info.filename);
    const files = info.files.map((f) => f.path);
    const problems = packageContentProblems(files);
    if (problems.length > 0) throw new Error(problems.join('\n'));

    const project = path.join(folder, 'project');
    await mkdir(project);
    if (options.link) await unpackWithLinks(tarball, project);
    else {
      await step(
        'npm install',
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball],
        project,
      );
    }
    const pressroom = path.join(project, 'node_modules/.bin/pressroom');
    await step(
      'npx pressroom --help',
      'npm',
      ['exec', '--no', '--offline', '--', 'pressroom', '--help'],
      project,
    );
    await step('pressroom --version', pressroom, ['--version'], project);
    await step('pressroom init', pressroom, ['init', 'presse', '--name', 'Villes Internet'], project);
    const shipped = path.join(project, 'node_modules/pressroom-cli', seed);
    await step(
      'pressroom render',
      pressroom,
      ['render', shipped, '--out', path.join(project, 'out')],
      project,
    );
    const page = await readFile(path.join(project, 'out', 'preview.html'), 'utf8').catch(() => '');
    if (!page.includes('Gestion de crise')) {
      throw new Error(
        `pressroom render wrote no preview of the seed release in ${path.join(project, 'out')}`,
      );
    }
    if (!existsSync(path.join(project, 'presse', 'pressroom.yaml'))) {
      throw new Error('pressroom init made no presse/pressroom.yaml');
    }
    return { tarball, size: info.size, files, folder: project, steps };
  } finally {
    if (!options.keep) await rm(folder, { recursive: true, force: true });
  }
}

/** The environment without the clone's own settings (a store, a mailer...): a new user's. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PRESSROOM_')));
}

/** Unpacks the tarball as node_modules/pressroom-cli beside links to this clone's production dependencies. */
async function unpackWithLinks(tarball: string, project: string): Promise<void> {
  const modules = path.join(project, 'node_modules');
  const target = path.join(modules, 'pressroom-cli');
  await mkdir(target, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: root,
    maxBuffer: 16 * 2 ** 20,
  });
  const top = path.join(root, 'node_modules') + path.sep;
  for (const dir of stdout.split('\n')) {
    if (!dir.startsWith(top)) continue;
    const name = dir.slice(top.length);
    // Only the packages at the top of node_modules (`a` or `@scope/a`); nested ones come with them.
    if (name.includes('/node_modules/') || name.split('/').length > (name.startsWith('@') ? 2 : 1)) continue;
    const link = path.join(modules, name);
    if (existsSync(link)) continue;
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(dir, link);
  }
  const manifest = JSON.parse(await readFile(path.join(target, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  await mkdir(path.join(modules, '.bin'));
  for (const [name, file] of Object.entries(manifest.bin)) {
    await symlink(path.join('..', 'pressroom-cli', file), path.join(modules, '.bin', name));
  }
}

if (import.meta.filename === process.argv[1]) {
  const link = process.argv.includes('--link');
  const keep = process.argv.includes('--keep');
  try {
    const check = await checkPackage({ link, build: true, keep });
    console.log(
      `${path.basename(check.tarball)}: ${check.files.length} files, ${(check.size / 1024).toFixed(0)} kB`,
    );
    for (const s of check.steps) console.log(`ok  ${s.command}`);
    console.log(
      `installed ${link ? "beside links to this clone's dependencies" : 'with npm'} and ran${keep ? ` in ${check.folder}` : ''}: the package works`,
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
