import { catalogYears, readYear } from '../../lambdas/core/archive/catalog.ts';
import { stateOf } from '../../lambdas/core/archive/manifest.ts';
import type { ArchiveListOptions } from '../commands/archive.ts';
import { loadConfig, localStore } from '../context.ts';
import { print } from '../output.ts';

// Apart from bin/actions/archive.ts: listing reads the catalogue and loads nothing that renders.

/** `pressroom archive list`: the archived releases, newest first, with their state and formats. */
export async function listArchive(opts: ArchiveListOptions): Promise<void> {
  const { store } = await localStore(loadConfig(opts));
  const now = new Date();
  const rows = [];
  for (const year of await catalogYears(store)) {
    for (const r of await readYear(store, year)) {
      rows.push({
        slug: r.slug,
        date: r.date,
        title: r.title,
        visibility: stateOf(r, now),
        ...(r.embargo && { embargo: r.embargo }),
        formats: [
          'page',
          'email',
          'text',
          ...(r.formats.pdf ? ['pdf'] : []),
          ...r.formats.attachments.map((a) => a.file),
        ],
      });
    }
  }
  if (opts.json) return print(rows, true);
  if (rows.length === 0) return print('No releases yet: `pressroom publish <file.md>` adds one.');
  print(
    rows.map(
      (r) =>
        `${r.date}  ${r.visibility.padEnd(9)}  ${r.slug}\n            ${r.title}\n            ${r.formats.join(', ')}`,
    ),
  );
}
