import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { adminContactsBenchmark } from './admin-contacts.ts';
import { awsDispatchBenchmark } from './aws-dispatch.ts';
import { cliBenchmark } from './cli.ts';
import { contactHistoryBenchmark } from './contact-history.ts';
import { contactsBenchmark } from './contacts.ts';
import { lambdaBenchmark } from './lambda.ts';
import { publishBenchmark } from './publish.ts';
import { renderBenchmark } from './render.ts';
import { sendBenchmark } from './send.ts';
import type { Benchmark, BenchRow } from './types.ts';

/**
 * `npm run bench [-- [--json | --markdown] [name...]]`: runs the benchmark modules below (or
 * those named) and prints their figures as a table, as a JSON array with `--json`, or, with
 * `--markdown`, as one Markdown table of the whole run headed by the machine, the date and the
 * load (what docs/performance.md shows). Targets are shown
 * for information: a benchmark never fails because something is slow, only when a sanity
 * check on its output fails.
 */

const benchmarks: Benchmark[] = [
  cliBenchmark,
  renderBenchmark,
  publishBenchmark,
  contactsBenchmark,
  contactHistoryBenchmark,
  sendBenchmark,
  lambdaBenchmark,
  awsDispatchBenchmark,
  adminContactsBenchmark,
];

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    `usage: npm run bench -- [--json] [name...]\nbenchmarks: ${benchmarks.map((b) => b.name).join(', ')}`,
  );
  process.exit(0);
}
const json = args.includes('--json');
const markdown = args.includes('--markdown');
if (json && markdown) {
  console.error('choose one of --json and --markdown');
  process.exit(2);
}
const wanted = args.filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !benchmarks.some((b) => b.name === w));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}`,
  );
  process.exit(2);
}
const selected = wanted.length > 0 ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks;

const cpus = os.cpus();
const machine = {
  cpu: `${cpus[0]?.model.trim() ?? 'unknown CPU'} × ${cpus.length}`,
  node: process.version,
  os: `${os.platform()} ${os.release()} ${os.arch()}`,
  memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  loadAverage: os.loadavg()[0] ?? 0,
};

// Progress and the header go to stderr with --json, so stdout is the array alone.
const info = json || markdown ? (s: string) => console.error(s) : (s: string) => console.log(s);
info(`pressroom benchmarks — ${new Date().toISOString()}`);
info(
  `cpu: ${machine.cpu} | node ${machine.node} | ${machine.os} | ${machine.memory} | load ${machine.loadAverage.toFixed(1)}`,
);
if (machine.loadAverage > cpus.length * 0.75) {
  info(
    `note: the machine is busy (1-min load ${machine.loadAverage.toFixed(1)} on ${cpus.length} CPUs): timings will be noisy`,
  );
}

const rows: BenchRow[] = [];
let failed = false;
const started = process.hrtime.bigint();
const startedAt = new Date();
for (const bench of selected) {
  info(`\n[${bench.name}] ${bench.description}`);
  try {
    // Several modules: each in a process of its own, so that one module's heap (100,000
    // contacts, 1,000 releases) does not weigh on the next one's figures.
    const result =
      selected.length > 1
        ? await inChildProcess(bench.name)
        : await bench.run((message) => console.error(`  … ${message}`));
    rows.push(...result);
    if (!json && !markdown) console.log(`\n${table(result)}`);
  } catch (error) {
    failed = true;
    console.error(`[${bench.name}] failed:`, error);
  }
}

/** Runs one module as `bench/index.ts --json <name>` in a new process (same Node, same loader). */
async function inChildProcess(name: string): Promise<BenchRow[]> {
  const child = spawn(
    process.execPath,
    // With the modules' own options (`--recipients=N`, `--import-rows=N`).
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--json',
      name,
      ...args.filter((a) => /^--[a-z-]+=/.test(a)),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  // Its progress lines, but not its header: this process printed one already.
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n'))
      if (line.startsWith('  … ') || / failed/.test(line)) console.error(line);
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`the ${name} benchmark exited with ${code}`);
  return (JSON.parse(out) as (BenchRow & { withinTarget?: boolean; machine?: unknown })[]).map(
    ({ withinTarget: _w, machine: _m, ...row }) => row,
  );
}
info(`\ntotal ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);

if (json) {
  console.log(
    JSON.stringify(
      rows.map((r) => ({ ...r, withinTarget: r.target ? r.value < r.target.max : undefined, machine })),
      null,
      2,
    ),
  );
}
if (markdown) console.log(markdownReport(rows, selected));
if (failed) process.exitCode = 1;

/** The whole run as one Markdown table, headed by what it ran on, when, and under which load. */
function markdownReport(result: BenchRow[], ran: Benchmark[]): string {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const command = `npm run bench -- --markdown${wanted.length > 0 ? ` ${wanted.join(' ')}` : ''}`;
  const head = [
    `One run of \`${command}\` (${ran.map((b) => b.name).join(', ')}), started ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${seconds.toFixed(0)} s in all.`,
    `Machine: ${machine.cpu}, ${machine.memory}, ${machine.os}, Node ${machine.node}; 1-minute load ${machine.loadAverage.toFixed(1)} at the start, ${(os.loadavg()[0] ?? 0).toFixed(1)} at the end, on ${cpus.length} CPUs.`,
    '',
    '| suite | figure | value | anchor (same run) | ratio | target |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const lines = result.map((r) =>
    [
      r.suite,
      cell(r.name),
      `${formatValue(r.value)} ${r.unit}`,
      r.anchor ? `${cell(r.anchor.name)}: ${formatValue(r.anchor.value)} ${r.unit}` : '',
      r.anchor ? `${formatValue(r.value / r.anchor.value)}×` : '',
      r.target ? `${cell(r.target.label)} (${r.value < r.target.max ? 'within' : '**above**'})` : '',
    ].join(' | '),
  );
  return [...head, ...lines.map((l) => `| ${l} |`)].join('\n');
}

function formatValue(value: number): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toFixed(digits);
}

function table(result: BenchRow[]): string {
  const cells = result.map((r) => [
    r.name,
    formatValue(r.value),
    r.unit,
    r.anchor ? `${r.anchor.name}: ${formatValue(r.anchor.value)} ${r.unit}` : '',
    r.anchor ? `${formatValue(r.value / r.anchor.value)}×` : '',
    r.target ? `${r.target.label} (${r.value < r.target.max ? 'within' : 'ABOVE'})` : '',
  ]);
  const head = ['name', 'value', 'unit', 'anchor (same run)', 'ratio', 'target (info only)'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === 1 || i === 4 ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
