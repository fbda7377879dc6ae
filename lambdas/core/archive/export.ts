import { Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import yazl from 'yazl';
import { spreadsheetHeader, spreadsheetLines } from '../csv.ts';
import { PressroomError } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { catalogYears, readYear } from './catalog.ts';
import { archiveKeys, readManifest, stateOf } from './manifest.ts';
import { isReleaseFolderFile, releaseFiles } from './publish.ts';

/** Archived files that go into an export, and their names there (the archive keeps more). */
const exported: Record<string, string> = Object.fromEntries(
  releaseFiles.flatMap((f) => (f.exported ? [[f.archived, f.exported]] : [])),
);

/**
 * Writes a ZIP of the archive to `out`: one folder per release with every format, its
 * attachments and its press kit images (originals, web sizes, thumbnails), and `index.csv` listing the releases. Files are streamed from the store one
 * at a time, so memory does not grow with the archive's size.
 */
export async function exportArchive(
  store: ObjectStore,
  out: Writable,
  options: { year?: string; now?: Date } = {},
): Promise<{ releases: number; files: number }> {
  const now = options.now ?? new Date();
  const zip = new yazl.ZipFile();
  const done = finished(zip.outputStream.pipe(out));
  const rows: string[][] = [];
  let files = 0;
  const years = options.year ? [options.year] : await catalogYears(store);
  for (const year of years) {
    for (const summary of await readYear(store, year)) {
      const manifest = await readManifest(store, summary.slug);
      const prefix = archiveKeys.version(summary.slug, manifest.version);
      const names: string[] = [];
      for (const name of manifest.files) {
        const target = exported[name] ?? (isReleaseFolderFile(name) ? name : undefined);
        if (!target) continue;
        const key = prefix + name;
        const entry = `${summary.slug}/${target}`;
        names.push(target);
        zip.addReadStreamLazy(entry, { mtime: new Date(manifest.summary.updatedAt) }, (cb) => {
          store.stream(key).then(
            (body) =>
              body
                ? cb(null, Readable.from(body))
                : cb(new PressroomError(`archive is missing ${key}`), undefined as never),
            (error) => cb(error as Error, undefined as never),
          );
        });
        files++;
      }
      rows.push([
        summary.slug,
        summary.date,
        summary.title,
        stateOf(summary, now),
        summary.embargo ?? '',
        summary.lang,
        summary.publishers.join(' | '),
        summary.tags.map((t) => t.name).join(' | '),
        names.join(' | '),
      ]);
    }
  }
  const columns = ['slug', 'date', 'title', 'visibility', 'embargo', 'lang', 'publishers', 'tags', 'files'];
  const csv = spreadsheetHeader(columns) + spreadsheetLines(rows);
  zip.addBuffer(Buffer.from(csv), 'index.csv', { mtime: now });
  zip.end();
  await done;
  return { releases: rows.length, files };
}
