import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildCommand, distDir } from '../scripts/build.ts';
import { type Benchmark, type BenchRow, median, msSince } from './types.ts';

/**
 * Start-up of the `pressroom` command (issue 15, "a fast command"): the compiled command
 * (dist/pressroom.js, built afresh first) run as a user runs it, in a new process each time,
 * against a bare `node -e 0` timed in the same rounds (each round runs every command once,
 * in turn, so that a busy moment weighs on all of them alike). Goals: `--help` within 3× the
 * bare Node start, a small command (`archive list`, `campaign list` in a new workspace, which
 * load the workspace, its settings and the store) within 5×. For contrast, the same `--help`
 * through tsx from the TypeScript sources, as `npm run pressroom` does.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const rounds = 15;
const suite = 'cli';

export const cliBenchmark: Benchmark = {
  name: suite,
  description: `start-up of the compiled command, ${rounds} runs each, beside a bare node -e 0`,
  async run(log) {
    log('building dist/');
    await buildCommand();
    const bin = path.join(distDir, 'pressroom.js');
    const workspace = await mkdtemp(path.join(os.tmpdir(), 'pressroom-bench-cli-'));
    try {
      await run(process.execPath, [bin, 'init', workspace]);
      const commands: { name: string; args: string[]; target?: number }[] = [
        { name: 'node -e 0', args: ['-e', '0'] },
        { name: 'pressroom --help', args: [bin, '--help'], target: 3 },
        { name: 'pressroom --version', args: [bin, '--version'], target: 3 },
        { name: 'pressroom send --help', args: [bin, 'send', '--help'], target: 3 },
        { name: 'pressroom archive list (new workspace)', args: [bin, 'archive', 'list'], target: 5 },
        { name: 'pressroom campaign list (new workspace)', args: [bin, 'campaign', 'list'], target: 5 },
      ];
      const tsx = path.join(root, 'node_modules/tsx/dist/cli.mjs');
      if (existsSync(tsx)) {
        commands.push({
          name: 'tsx bin/pressroom.ts --help (sources)',
          args: [tsx, 'bin/pressroom.ts', '--help'],
        });
      }
      const times = new Map(commands.map((c) => [c.name, [] as number[]]));
      log(`${rounds} rounds of ${commands.length} commands`);
      for (let round = 0; round < rounds; round++) {
        for (const command of commands) {
          const cwd = command.name.includes('workspace') ? workspace : root;
          const start = process.hrtime.bigint();
          await run(process.execPath, command.args, { cwd, env: { ...process.env, PRESSROOM_DATA_DIR: '' } });
          times.get(command.name)?.push(msSince(start));
        }
      }
      const bare = median(times.get('node -e 0') ?? []);
      const rows: BenchRow[] = [{ suite, name: `node -e 0 (median of ${rounds})`, value: bare, unit: 'ms' }];
      for (const command of commands.slice(1)) {
        const value = median(times.get(command.name) ?? []);
        rows.push({
          suite,
          name: `${command.name} (median of ${rounds})`,
          value,
          unit: 'ms',
          anchor: { name: 'node -e 0', value: bare },
          ...(command.target && {
            target: { max: command.target * bare, label: `≤ ${command.target}× node -e 0` },
          }),
        });
      }
      return rows;
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  },
};
