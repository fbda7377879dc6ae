import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { issueFrontMatterSchema } from '../../lambdas/core/newsletter/schema.ts';
import { organizationSchema, publicationFrontMatterSchema } from '../../lambdas/core/publication/schema.ts';
import { workspaceFileSchema } from '../../lambdas/core/workspace/schema.ts';
import type { SchemaOptions } from '../commands/schema.ts';
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

/** `pressroom schema`: writes the JSON Schemas (jsonSchemas) into the `--out` folder and lists the files. */
export async function writeSchemas(opts: SchemaOptions): Promise<void> {
  await mkdir(opts.out, { recursive: true });
  const written = [];
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    const file = path.join(opts.out, name);
    await writeFile(file, `${JSON.stringify(schema, null, 2)}\n`);
    written.push(file);
  }
  print(written);
}
