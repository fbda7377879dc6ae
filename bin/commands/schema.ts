import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { issueFrontMatterSchema } from '../../lambdas/core/newsletter/schema.ts';
import { organizationSchema, publicationFrontMatterSchema } from '../../lambdas/core/publication/schema.ts';
import { workspaceFileSchema } from '../../lambdas/core/workspace/schema.ts';
import { dataDirOption } from '../options.ts';
import { print } from '../output.ts';

/** JSON Schemas generated from the zod schemas that validate the files. */
export function jsonSchemas(): Record<string, unknown> {
  return {
    'publication.schema.json': {
      title: 'pressroom publication front matter',
      ...z.toJSONSchema(publicationFrontMatterSchema, { io: 'input', unrepresentable: 'any' }),
    },
    'organization.schema.json': {
      title: 'pressroom organisation',
      ...z.toJSONSchema(organizationSchema, { io: 'input', unrepresentable: 'any' }),
    },
    'newsletter.schema.json': {
      title: 'pressroom newsletter issue front matter',
      ...z.toJSONSchema(issueFrontMatterSchema, { io: 'input', unrepresentable: 'any' }),
    },
    'workspace.schema.json': {
      title: 'pressroom workspace (pressroom.yaml)',
      ...z.toJSONSchema(workspaceFileSchema, { io: 'input', unrepresentable: 'any' }),
    },
  };
}

export const schemaCommand = new Command('schema')
  .description(
    'Write the JSON Schemas of publication and newsletter front matter, organisation files and pressroom.yaml',
  )
  .option('--out <dir>', 'output folder', 'schemas')
  .addOption(dataDirOption)
  .action(async (opts: { out: string }) => {
    await mkdir(opts.out, { recursive: true });
    const written = [];
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      const file = path.join(opts.out, name);
      await writeFile(file, `${JSON.stringify(schema, null, 2)}\n`);
      written.push(file);
    }
    print(written);
  });
