/**
 * Workspaces as a user meets them: `pressroom init`, commands run anywhere inside the
 * workspace using its store, the store shown, and commands run outside any workspace
 * refusing rather than making an empty store.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkspace } from '../../lambdas/adapters/workspace-file.ts';
import { expectExit, folderSnapshot, repo, runPressroom } from '../support/cli.ts';
import { type Server, startServer, stopServer } from '../support/serve.ts';

let top: string;
/** The environment of every run: none of the variables that choose a store or a mailer. */
const env = () =>
  Object.fromEntries(
    Object.entries({ ...process.env, CHROMIUM_PATH: '/nonexistent/chromium' }).filter(
      ([name]) => !name.startsWith('PRESSROOM_'),
    ),
  );
const pressroom = (cwd: string, ...args: string[]) => runPressroom(args, { cwd, env: env() });

beforeAll(async () => {
  top = await mkdtemp(path.join(tmpdir(), 'pressroom-workspace-'));
});
let server: Server | undefined;
afterAll(async () => {
  await stopServer(server, 'SIGTERM');
  if (top) await rm(top, { recursive: true, force: true });
});

describe('pressroom init', () => {
  it('creates pressroom.yaml, a .gitignore for the store and one example of each, never overwriting', async () => {
    const run = await pressroom(
      top,
      'init',
      'presse',
      '--name',
      'Villes Internet',
      '--time-zone',
      'Europe/Paris',
    );
    expectExit(run, 0);
    const ws = path.join(top, 'presse');
    expect(run.stdout).toContain(`Created the workspace ${ws}:`);
    expect(run.stdout).toContain('  cd presse');
    const files = Object.keys(await folderSnapshot(ws)).filter((f) => !f.endsWith('/'));
    expect(files.sort()).toEqual([
      '.gitignore',
      'campaigns/premier-communique-presse.yaml',
      'contacts/journalistes.csv',
      'organizations/villes-internet.yaml',
      'pressroom.yaml',
      expect.stringMatching(/^publications\/\d{4}-\d{2}-\d{2}-premier-communique\.md$/),
    ]);
    const settings = await readFile(path.join(ws, 'pressroom.yaml'), 'utf8');
    expect(settings.split('\n')[0]).toBe(
      `# yaml-language-server: $schema=${path.relative(ws, path.join(repo, 'schemas'))}/workspace.schema.json`,
    );
    expect(loadWorkspace(ws)?.settings).toMatchObject({
      name: 'Villes Internet',
      language: 'fr',
      timeZone: 'Europe/Paris',
      sender: { name: 'Villes Internet', address: 'presse@example.org' },
      organizations: ['villes-internet'],
      store: '.pressroom',
      mailer: { kind: 'outbox' },
    });
    expect(await readFile(path.join(ws, '.gitignore'), 'utf8')).toContain('/.pressroom/');

    const again = await pressroom(top, 'init', 'presse');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('presse is already a workspace (it has pressroom.yaml)');
    expect(await readFile(path.join(ws, 'pressroom.yaml'), 'utf8')).toBe(settings);
  }, 120_000);

  it('keeps the files already there and adds the store to an existing .gitignore', async () => {
    const ws = path.join(top, 'existing');
    await mkdir(path.join(ws, 'contacts'), { recursive: true });
    await writeFile(path.join(ws, '.gitignore'), 'node_modules/');
    await writeFile(path.join(ws, 'contacts/journalists.csv'), 'mine');
    const run = await pressroom(ws, 'init', '--language', 'en', '--json');
    expectExit(run, 0);
    const result = JSON.parse(run.stdout);
    expect(result.root).toBe(ws);
    expect(result.kept).toEqual(['contacts/journalists.csv']);
    expect(result.created).toEqual(
      expect.arrayContaining(['pressroom.yaml', '.gitignore (store lines added)']),
    );
    expect(await readFile(path.join(ws, 'contacts/journalists.csv'), 'utf8')).toBe('mine');
    expect(await readFile(path.join(ws, '.gitignore'), 'utf8')).toBe(
      `node_modules/\n${await readFile(path.join(repo, 'templates/workspace/gitignore'), 'utf8')}`,
    );
    expect(loadWorkspace(ws)?.settings).toMatchObject({ language: 'en', lists: { press: { press: true } } });
    // The English starter publication renders as it is.
    const [publication] = await readdir(path.join(ws, 'publications'));
    const rendered = await pressroom(ws, 'render', `publications/${publication}`);
    expectExit(rendered, 0);
    expect(await readFile(path.join(ws, 'out/first-release/page.html'), 'utf8')).toContain(
      'My organisation issues its first release',
    );
  }, 120_000);

  it('refuses a bad option as a usage error', async () => {
    const run = await pressroom(top, 'init', 'nowhere', '--time-zone', 'Europe/Parsi');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      '--time-zone "Europe/Parsi" is not a time zone: give an IANA time zone such as Europe/Paris',
    );
    await expect(readdir(path.join(top, 'nowhere'))).rejects.toThrow(/ENOENT/);
  });
});

describe('a workspace made by init', () => {
  const ws = () => path.join(top, 'presse');

  it('renders, publishes, imports and sends from any folder in it, into its own store', async () => {
    const [publication] = (await readdir(path.join(ws(), 'publications'))).map((f) => `publications/${f}`);
    if (!publication) throw new Error('init wrote no publication');
    expectExit(await pressroom(ws(), 'render', publication), 0);
    const published = await pressroom(ws(), 'publish', publication);
    expectExit(published, 0);
    expect(published.stderr).toContain(`store: ${path.join(ws(), '.pressroom')} (workspace ${ws()})`);
    expect(published.stdout).toContain('Published premier-communique (public)');
    const sub = path.join(ws(), 'contacts');
    expectExit(await pressroom(sub, 'contacts', 'import', 'journalistes.csv', '--list', 'presse'), 0);
    const sent = await pressroom(sub, 'send', '../campaigns/premier-communique-presse.yaml', '--json');
    expectExit(sent, 0);
    const report = JSON.parse(sent.stdout);
    expect(report).toMatchObject({ sent: 2, failed: 0, store: path.join(ws(), '.pressroom') });
    // The campaign file names no sender: the workspace's is used.
    const outbox = path.join(ws(), '.pressroom/outbox/premier-communique-presse');
    const [eml] = await readdir(outbox);
    const mail = await simpleParser(await readFile(path.join(outbox, eml as string)));
    expect(mail.from?.value[0]).toEqual({ name: 'Villes Internet', address: 'presse@example.org' });
    // Nothing was made anywhere else.
    expect(await readdir(sub)).toEqual(['journalistes.csv']);
  }, 120_000);

  it("reads a campaign's sendAt without zone in the workspace's zone", async () => {
    await writeFile(
      path.join(ws(), 'campaigns/later.yaml'),
      'name: later\npublication: premier-communique\naudience:\n  list: presse\nsendAt: 2099-06-10 08:00\n',
    );
    const run = await pressroom(ws(), 'schedule', 'campaigns/later.yaml', '--json');
    expectExit(run, 0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      state: 'scheduled',
      sendAt: { utc: '2099-06-10T06:00:00.000Z', zone: 'Europe/Paris' },
      store: path.join(ws(), '.pressroom'),
    });
  });

  it('puts the store line on stderr when a --json result is a list', async () => {
    const run = await pressroom(path.join(ws(), 'publications'), 'archive', 'list', '--json');
    expectExit(run, 0);
    expect(JSON.parse(run.stdout).map((r: { slug: string }) => r.slug)).toEqual(['premier-communique']);
    expect(run.stderr).toContain(`store: ${path.join(ws(), '.pressroom')} (workspace ${ws()})`);
  });

  it('serves the lists pressroom.yaml opens to subscription', async () => {
    server = await startServer([], { cwd: ws(), env: env() });
    // The line comes right after the URL, maybe in a later chunk of the output.
    const started = server;
    await expect
      .poll(() => started.output())
      .toContain('lists open to subscription (pressroom.yaml): lettre');
    await stopServer(server, 'SIGTERM');
    server = undefined;
  });

  it('stops every command on a broken pressroom.yaml, with the line and the key meant', async () => {
    const file = path.join(ws(), 'pressroom.yaml');
    const good = await readFile(file, 'utf8');
    await writeFile(file, good.replace('timeZone:', 'timezone:'));
    try {
      const run = await pressroom(path.join(ws(), 'publications'), 'archive', 'list');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /\.\.\/pressroom\.yaml:\d+:1 timezone: unknown field "timezone": did you mean "timeZone"\?/,
      );
    } finally {
      await writeFile(file, good);
    }
  });
});

describe('outside any workspace', () => {
  it('refuses every command that needs a store, and creates nothing', async () => {
    const nowhere = path.join(top, 'nowhere-else');
    await mkdir(nowhere);
    const seed = path.join(repo, 'examples/publications/2021-06-08-numerique-gestion-de-crise.md');
    const commands = [
      ['publish', seed, '--no-pdf'],
      ['archive', 'list'],
      ['contacts', 'list'],
      ['contacts', 'import', path.join(repo, 'examples/contacts/journalistes.csv'), '--list', 'presse'],
      ['campaign', 'status', 'etude-2021-presse'],
      ['send', path.join(repo, 'examples/campaigns/etude-2021-presse.yaml')],
      ['serve', '--port', '0'],
    ];
    const runs = await Promise.all(commands.map((args) => pressroom(nowhere, ...args)));
    runs.forEach((run, i) => {
      expect(run.code, `${commands[i]?.join(' ')}\n${run.stderr}`).toBe(1);
      expect(run.stderr).toContain('no workspace here: run `pressroom init` or pass --data-dir');
      expect(run.stdout).toBe('');
    });
    expect(await readdir(nowhere)).toEqual([]);
  }, 120_000);

  it('says how to keep using a store made before workspaces', async () => {
    const old = path.join(top, 'old');
    await mkdir(path.join(old, '.pressroom', '.pressroom-store'), { recursive: true });
    const run = await pressroom(old, 'archive', 'list');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      '`pressroom init` here makes the folder a workspace that keeps using it, or pass --data-dir .pressroom',
    );
  });

  it('renders anywhere, and uses the store --data-dir or PRESSROOM_DATA_DIR names', async () => {
    const free = path.join(top, 'free');
    await mkdir(free);
    const seed = path.join(repo, 'examples/publications/2021-06-08-numerique-gestion-de-crise.md');
    expectExit(await pressroom(free, 'render', seed, '--out', 'seed'), 0);
    const withOption = await pressroom(free, 'contacts', 'list', '--data-dir', 'store');
    expectExit(withOption, 0);
    expect(withOption.stderr).toContain(`store: ${path.join(free, 'store')} (--data-dir)`);
    const withEnv = await runPressroom(['contacts', 'list', '--json'], {
      cwd: free,
      env: { ...env(), PRESSROOM_DATA_DIR: path.join(free, 'other') },
    });
    expectExit(withEnv, 0);
    expect(withEnv.stderr).toContain(`store: ${path.join(free, 'other')} (PRESSROOM_DATA_DIR)`);
    expect((await readdir(free)).sort()).toEqual(['other', 'seed', 'store']);
  }, 120_000);
});

describe('the examples workspace', () => {
  it('publishes into examples/.pressroom when run in examples/', async () => {
    const copy = path.join(top, 'copy');
    await mkdir(copy);
    const { cp } = await import('node:fs/promises');
    await cp(path.join(repo, 'examples'), path.join(copy, 'examples'), { recursive: true });
    const run = await pressroom(
      path.join(copy, 'examples', 'publications'),
      'publish',
      '2024-03-12-open-data-barometer.md',
      '--json',
    );
    expectExit(run, 0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      slug: 'open-data-barometer-2024',
      store: path.join(copy, 'examples/.pressroom'),
    });
  });
});
