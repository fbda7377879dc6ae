import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PressroomError } from '../core/errors.ts';
import type { ReleaseFile } from '../core/release/render-release.ts';
import { isStreamed } from '../core/store/object-store.ts';

/** Left in every folder `render` writes, so that it only ever replaces its own folders. */
export const outputMarker = '.pressroom-output';

/** A marker file: its name, and what it says to whoever opens it. */
export interface FolderMarker {
  name: string;
  text: string;
}

const renderMarker: FolderMarker = {
  name: outputMarker,
  text: 'Written by pressroom; replaced as a whole on the next render.\n',
};

/** Writes one file of a folder being made: bytes, text, or a stream of bytes. */
export type WriteFile = (
  name: string,
  content: string | Uint8Array | AsyncIterable<Uint8Array>,
) => Promise<void>;

/** A folder that is there, not empty, and not one of ours: never replaced. */
async function assertReplaceable(target: string, marker: FolderMarker): Promise<void> {
  const entries = await readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    if (error.code === 'ENOTDIR') throw new PressroomError(`${target} is a file: choose a folder for --out`);
    throw error;
  });
  if (entries.length === 0) return;
  const ours = await access(path.join(target, marker.name)).then(
    () => true,
    () => false,
  );
  if (!ours) {
    throw new PressroomError(
      `${target} already holds files that pressroom did not write there (no ${marker.name} file): choose another --out (it would be replaced), or empty it first`,
    );
  }
}

/**
 * Writes a folder all at once: the files go to a hidden sibling folder, which then takes
 * the target's place. A failure half-way leaves the previous folder as it was, and never
 * a half-written one. Nothing is written outside the folder: a name that would leave it is
 * refused.
 */
export async function replaceFolder(
  dir: string,
  fill: (write: WriteFile) => Promise<void>,
  marker: FolderMarker = renderMarker,
): Promise<void> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = path.join(parent, `.${path.basename(target)}.tmp-${suffix}`);
  const previous = path.join(parent, `.${path.basename(target)}.old-${suffix}`);
  await assertReplaceable(target, marker);
  await mkdir(parent, { recursive: true });
  try {
    await mkdir(staging, { recursive: true });
    await writeFile(path.join(staging, marker.name), marker.text);
    await fill(async (name, content) => {
      const dest = path.resolve(staging, name);
      if (!dest.startsWith(staging + path.sep) || name.includes('\0'))
        throw new Error(`refusing to write outside the folder: ${name}`);
      await mkdir(path.dirname(dest), { recursive: true });
      if (typeof content === 'string' || content instanceof Uint8Array)
        await writeFile(dest, content, { flag: 'wx' });
      else await pipeline(Readable.from(content), createWriteStream(dest, { flags: 'wx' }));
    });
    let hadPrevious = true;
    try {
      await rename(target, previous);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      hadPrevious = false;
    }
    try {
      await rename(staging, target);
    } catch (error) {
      if (hadPrevious) await rename(previous, target);
      throw error;
    }
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** {@link replaceFolder} with files already in memory (a rendered release). */
export async function writeFolderAtomically(dir: string, files: readonly ReleaseFile[]): Promise<string[]> {
  await replaceFolder(dir, async (write) => {
    for (const file of files)
      await write(file.name, isStreamed(file.content) ? await file.content.open() : file.content);
  });
  return files.map((f) => path.join(dir, f.name));
}
