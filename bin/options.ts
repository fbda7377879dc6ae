import { InvalidArgumentError, Option } from 'commander';

/**
 * The options several commands share. This module is loaded to build the command line, even
 * for `pressroom --help`: it imports commander and nothing else (see bin/program.ts).
 */

export const dataDirOption = new Option(
  '--data-dir <dir>',
  "the store folder (default: the workspace's, <workspace>/.pressroom)",
).env('PRESSROOM_DATA_DIR');

/** Where the commands work: the local data folder, or a deployed stack (see aws-backend.ts). */
export type BackendKind = 'local' | 'aws';

export const backendOption = new Option(
  '--backend <where>',
  'local: the data folder; aws: the deployed stack (outputs from cdk-outputs.json or CloudFormation)',
)
  .choices(['local', 'aws'])
  .env('PRESSROOM_BACKEND')
  .default('local');

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('give a number of seconds, 0 or more');
  return n;
}

/** `--wait <seconds>` of the commands that upload to the stack's publish function. */
export function waitOption(): Option {
  return new Option('--wait <seconds>', 'with --backend aws: how long to wait for the publish function')
    .argParser(seconds)
    .default(60);
}

/** Its `--no-wait`. */
export function noWaitOption(): Option {
  return new Option('--no-wait', 'with --backend aws: upload and return at once');
}
