import { Command } from 'commander';
import { dataDirOption } from '../options.ts';

/** What `pressroom schema` is given. */
export interface SchemaOptions {
  out: string;
  dataDir?: string;
}

/** `pressroom schema` (bin/actions/schema.ts does the work). A new command each call. */
export function schemaCommand(): Command {
  return new Command('schema')
    .description(
      'Write the JSON Schemas of publication and newsletter front matter, organisation files and pressroom.yaml',
    )
    .option('--out <dir>', 'output folder', 'schemas')
    .addOption(dataDirOption)
    .action(async (opts: SchemaOptions) => (await import('../actions/schema.ts')).writeSchemas(opts));
}
