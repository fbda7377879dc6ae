import { execFile } from 'node:child_process';
import { readFileSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type HandlerName, handlerNames } from '../lib/functions.ts';
import { type Assembly, synthWithBundles } from '../tests/harness/assembly.ts';
import { type Benchmark, type BenchRow, median, msSince } from './types.ts';

/**
 * The functions' code as Lambda runs it (issue 19, "small Lambda code"): the stack is
 * synthesized with its bundles, as for a deploy, and each function's index.mjs (its source
 * map left out) is measured: its size, and its cold import in a new Node process, with the
 * AWS SDK alone within reach (a node_modules above the bundles, as the Lambda runtime
 * provides it, and NODE_PATH for require) and the function's own NODE_OPTIONS, beside a bare
 * `node -e 0` and the import of the same AWS SDK packages alone, timed in the same rounds;
 * and the bundle's own share: its import timed in a process that loaded those packages first.
 * Targets for send: ≤ 300 KB and ≤ 150 ms. Each function is measured again from the stack
 * synthesized with `-c awsSdk=bundled` (the SDK's parts it calls inside the bundle, nothing
 * left to the runtime): its size beside the runtime SDK's, its cold import in the same rounds.
 */

const run = promisify(execFile);
const rounds = 11;
const suite = 'lambda';
const sendBytes = 300 * 1024;
const sendImportMs = 150;

/**
 * A handler's function in the synthesized template: its logical id, its bundle's index.mjs
 * and the variables the template gives it (values CloudFormation resolves, such as the
 * bucket's name, are left as they are in the template).
 */
export function templateFunction(
  assembly: Assembly,
  name: HandlerName,
): { logicalId: string; file: string; variables: Record<string, unknown> } {
  const resources = assembly.template.Resources;
  const roleId = Object.keys(resources).find(
    (id) =>
      resources[id]?.Type === 'AWS::IAM::Role' &&
      resources[id]?.Properties?.Description === `pressroom ${name} function`,
  );
  const fnId = Object.keys(resources).find((id) => {
    const p = resources[id]?.Properties;
    return (
      resources[id]?.Type === 'AWS::Lambda::Function' &&
      JSON.stringify(p?.Role) === JSON.stringify({ 'Fn::GetAtt': [roleId, 'Arn'] })
    );
  });
  if (!fnId) throw new Error(`no function for the ${name} handler in the template`);
  const variables =
    (resources[fnId]?.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {};
  return { logicalId: fnId, file: path.join(assembly.assetDir(fnId), 'index.mjs'), variables };
}

/** Each handler's bundle file and the NODE_OPTIONS the template gives it. */
function bundles(
  assembly: Assembly,
): { name: HandlerName; file: string; nodeOptions: string; sdk: string[] }[] {
  return handlerNames.map((name) => {
    const { file, variables } = templateFunction(assembly, name);
    // The SDK packages the bundle leaves to the runtime, as its import statements name them.
    const sdk = [...new Set(readFileSync(file, 'utf8').match(/(?<=from\s*["'])@aws-sdk\/[^"']+/g) ?? [])];
    return { name, file, nodeOptions: String(variables.NODE_OPTIONS ?? ''), sdk: sdk.sort() };
  });
}

export const lambdaBenchmark: Benchmark = {
  name: suite,
  description: `each function's bundle from the cloud assembly: size, and cold import (${rounds} runs) beside node -e 0`,
  async run(log) {
    log('cdk synth with the bundles (esbuild)');
    const assembly = synthWithBundles();
    // The same stack with `awsSdk: bundled`: each function holds the SDK's parts it calls.
    let bundledAssembly: Assembly | undefined;
    try {
      log('cdk synth with the bundles, the AWS SDK in them (-c awsSdk=bundled)');
      bundledAssembly = synthWithBundles({ awsSdk: 'bundled' });
      const functions = bundles(assembly);
      const withSdk = new Map(bundles(bundledAssembly).map((f) => [f.name, f]));
      // ES modules ignore NODE_PATH: the SDK is found from a node_modules above the bundles.
      symlinkSync(assembly.runtimeModules, path.join(assembly.outdir, 'node_modules'), 'dir');
      const nodeOptions = functions[0]?.nodeOptions ?? '';
      const env = { ...process.env, NODE_PATH: assembly.runtimeModules, NODE_OPTIONS: nodeOptions };
      const commands = [
        { name: 'node -e 0', args: ['-e', '0'] },
        ...functions.flatMap((f) => [
          {
            name: f.name,
            args: [
              '--input-type=module',
              '-e',
              `await import(${JSON.stringify(pathToFileURL(f.file).href)})`,
            ],
          },
          {
            name: `${f.name} sdk`,
            args: ['--input-type=module', '-e', f.sdk.map((m) => `await import('${m}');`).join(' ')],
          },
          {
            // The bundle's own share: its import timed inside a process that loaded the SDK first.
            name: `${f.name} own`,
            args: [
              '--input-type=module',
              '-e',
              `${f.sdk.map((m) => `await import('${m}');`).join(' ')} const t = performance.now(); await import(${JSON.stringify(pathToFileURL(f.file).href)}); console.log(performance.now() - t);`,
            ],
            reports: true,
          },
          {
            name: `${f.name} bundled`,
            args: [
              '--input-type=module',
              '-e',
              `await import(${JSON.stringify(pathToFileURL(withSdk.get(f.name)?.file ?? '').href)})`,
            ],
          },
        ]),
      ];
      const times = new Map(commands.map((c) => [c.name, [] as number[]]));
      log(`${rounds} rounds: node -e 0 and the import of each bundle, in turn (NODE_OPTIONS=${nodeOptions})`);
      for (let round = 0; round < rounds; round++) {
        for (const command of commands) {
          const start = process.hrtime.bigint();
          const { stdout } = await run(process.execPath, command.args, { cwd: assembly.outdir, env });
          times.get(command.name)?.push('reports' in command ? Number(stdout.trim()) : msSince(start));
        }
      }
      const bare = median(times.get('node -e 0') ?? []);
      const rows: BenchRow[] = [{ suite, name: `node -e 0 (median of ${rounds})`, value: bare, unit: 'ms' }];
      for (const f of functions) {
        const bytes = statSync(f.file).size;
        rows.push({
          suite,
          name: `${f.name}: index.mjs size`,
          value: bytes / 1024,
          unit: 'KB',
          ...(f.name === 'send' && { target: { max: sendBytes / 1024 + 0.001, label: '≤ 300 KB' } }),
        });
        rows.push({
          suite,
          name: `${f.name}: cold import (median of ${rounds})`,
          value: median(times.get(f.name) ?? []),
          unit: 'ms',
          anchor: { name: 'node -e 0', value: bare },
          ...(f.name === 'send' && { target: { max: sendImportMs, label: '≤ 150 ms' } }),
        });
        rows.push({
          suite,
          name: `${f.name}: its AWS SDK packages alone (${f.sdk.map((m) => m.replace('@aws-sdk/', '')).join(', ')})`,
          value: median(times.get(`${f.name} sdk`) ?? []),
          unit: 'ms',
          anchor: { name: 'node -e 0', value: bare },
        });
        rows.push({
          suite,
          name: `${f.name}: the bundle's own import, its SDK packages loaded first (median of ${rounds})`,
          value: median(times.get(`${f.name} own`) ?? []),
          unit: 'ms',
          anchor: { name: 'node -e 0', value: bare },
        });
        const bundled = withSdk.get(f.name);
        if (!bundled) throw new Error(`no ${f.name} function in the stack synthesized with awsSdk=bundled`);
        if (bundled.sdk.length > 0)
          throw new Error(
            `with awsSdk=bundled, ${f.name} still imports ${bundled.sdk.join(', ')} from the runtime`,
          );
        rows.push({
          suite,
          name: `${f.name} with awsSdk=bundled: index.mjs size`,
          value: statSync(bundled.file).size / 1024,
          unit: 'KB',
          anchor: { name: 'runtime SDK', value: bytes / 1024 },
          ...(f.name === 'send' && { target: { max: sendBytes / 1024 + 0.001, label: '≤ 300 KB' } }),
        });
        rows.push({
          suite,
          name: `${f.name} with awsSdk=bundled: cold import (median of ${rounds})`,
          value: median(times.get(`${f.name} bundled`) ?? []),
          unit: 'ms',
          anchor: { name: 'node -e 0', value: bare },
          ...(f.name === 'send' && { target: { max: sendImportMs, label: '≤ 150 ms' } }),
        });
      }
      return rows;
    } finally {
      assembly.remove();
      bundledAssembly?.remove();
    }
  },
};
