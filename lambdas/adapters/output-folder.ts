import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReleaseFile } from '../core/release/render-release.ts';

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
  await mkdir(parent, { recursive: true });
  try {
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
