import { readFile, stat } from 'node:fs/promises';
import type { SourceFiles } from '../core/publication/load.ts';

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

/** Source files read from the local disk, paths relative to the working directory. */
export const localSourceFiles: SourceFiles = {
  async readText(file) {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  async size(file) {
    try {
      const s = await stat(file);
      return s.isFile() ? s.size : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  async readBytes(file) {
    return new Uint8Array(await readFile(file));
  },
};
