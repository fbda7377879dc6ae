/**
 * `npm start`: the main job on the local default. Publishes every publication in
 * examples/publications/ into the local store (PRESSROOM_DATA_DIR, default ./.pressroom),
 * which renders it, archives it and updates the press room, then says where to look.
 * Later issues extend it to the whole pipeline (contacts, sending to the outbox).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { siteKeys } from '../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../lambdas/core/archive/publish.ts';
import { loadConfig, localBackend } from './context.ts';
import { fail } from './output.ts';

const examples = fileURLToPath(new URL('../examples/publications/', import.meta.url));

async function main(): Promise<void> {
  const config = loadConfig({ dataDir: process.env.PRESSROOM_DATA_DIR ?? './.pressroom' });
  const backend = await localBackend(config);
  const lines: string[] = [];
  try {
    const files = (await readdir(examples)).filter((f) => f.endsWith('.md')).sort();
    lines.push(`Published ${files.length} example release(s) into ${config.dataDir}:`);
    for (const f of files) {
      const result = await publishRelease(path.relative(process.cwd(), path.join(examples, f)), backend, {
        replace: true,
      });
      lines.push(
        '',
        `  ${result.slug} (${result.action}, ${result.state})`,
        `    email (archived)  ${backend.store.fileOf(`archive/${result.slug}/${result.version}/email.html`)}`,
        `    PDF               ${result.pdf.stored ? 'stored' : `skipped: ${result.pdf.reason}`}`,
      );
    }
  } finally {
    await backend.close();
  }
  lines.push(
    '',
    `Press room: ${backend.store.fileOf(siteKeys.index)}`,
    `  open it in a browser, or run \`npx pressroom serve\` and visit ${config.siteUrl}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch(fail);
