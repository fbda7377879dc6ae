/**
 * `npm start`: the main job on the local default. For now it renders every publication in
 * examples/publications/ into ./out/<slug>/ and says where to look. Later issues extend it
 * to the whole pipeline (publish, import contacts, send to the outbox).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderToFolders } from './commands/render.ts';
import { fail } from './output.ts';

const examples = fileURLToPath(new URL('../examples/publications/', import.meta.url));

async function main(): Promise<void> {
  const files = (await readdir(examples)).filter((f) => f.endsWith('.md')).sort();
  const outRoot = process.env.PRESSROOM_OUT_DIR ?? 'out';
  const results = await renderToFolders(
    files.map((f) => path.relative(process.cwd(), path.join(examples, f))),
    { outRoot },
  );
  const lines = [
    `Rendered ${results.length} press release(s) from ${path.relative(process.cwd(), examples) || '.'}:`,
  ];
  for (const r of results) {
    lines.push(
      '',
      `  ${r.slug}`,
      `    email preview  ${path.join(r.dir, 'preview.html')}`,
      `    web page       ${path.join(r.dir, 'page.html')}`,
      `    plain text     ${path.join(r.dir, 'preview.txt')}`,
    );
  }
  lines.push('', 'Open the .html files in a browser. Render your own: npx pressroom render <file.md>');
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch(fail);
