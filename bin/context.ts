import path from 'node:path';
import { Option } from 'commander';

/**
 * Options every command accepts, read once. Environment variables give the defaults,
 * command-line options win.
 */
export interface GlobalOptions {
  /** The local store (used from the archive on): `--data-dir`, `PRESSROOM_DATA_DIR`. */
  dataDir: string;
}

export const dataDirOption = new Option('--data-dir <dir>', 'local data folder (the store)')
  .env('PRESSROOM_DATA_DIR')
  .default('./.pressroom');

export function globalOptions(opts: { dataDir?: string }): GlobalOptions {
  return { dataDir: path.resolve(opts.dataDir ?? './.pressroom') };
}
