import { Option } from 'commander';

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
