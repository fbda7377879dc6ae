import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PressroomError } from '../core/errors.ts';
import type { ReleaseFile } from '../core/release/render-release.ts';

/** Left in every folder pressroom writes, so that it only ever replaces its own folders. */
export const outputMarker = '.pressroom-output';

/** A folder that is there, not empty, and not one of ours: never replaced. */
async function assertReplaceable(target: string): Promise<void> {
  const entries = await readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    if (error.code === 'ENOTDIR') throw new PressroomError(`${target} is a file: choose a folder for --out`);
    throw error;
  });
  if (entries.length === 0) return;
  const ours = await access(path.join(target, outputMarker)).then(
    () => true,
    () => false,
  );
  if (!ours) {
    throw new PressroomError(
      `${target} already holds files that pressroom did not write: choose another --out (it would be replaced), or empty it first`,
    );
  }
}

/**
 * Writes a folder all at once: the files go to a hidden sibling folder, which then takes
 * the target's place. A failure half-way leaves the previous folder as it was, and never
 * a half-written one.
 */
export async function writeFolderAtomically(dir: string, files: readonly ReleaseFile[]): Promise<string[]> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = path.join(parent, `.${path.basename(target)}.tmp-${suffix}`);
  const previous = path.join(parent, `.${path.basename(target)}.old-${suffix}`);
  await assertReplaceable(target);
  await mkdir(parent, { recursive: true });
  try {
    await mkdir(staging, { recursive: true });
    await writeFile(
      path.join(staging, outputMarker),
      'Written by pressroom; replaced as a whole on the next render.\n',
    );
    for (const file of files) {
      const dest = path.join(staging, file.name);
      if (!dest.startsWith(staging + path.sep))
        throw new Error(`refusing to write outside the folder: ${file.name}`);
      await mkdir(path.dirname(dest), { recursive: true });
      await writeFile(dest, file.content);
    }
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
  return files.map((f) => path.join(dir, f.name));
}
