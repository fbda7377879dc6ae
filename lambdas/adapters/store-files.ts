import path from 'node:path';
import type { SourceFiles } from '../core/publication/load.ts';
import { checkKey, getText, InvalidKeyError, type ObjectStore } from '../core/store/object-store.ts';

/**
 * Source files read from the object store: a publication uploaded to the bucket, with its
 * organisations and attachments beside it. A path is a key, written with or without a
 * leading "/" (the bucket's root): `/publications/2021/etude.md`. `..` segments are
 * resolved first and cannot climb above the root; a path that is not a valid key reads as
 * a missing file, which the loader reports with the publication's line.
 */
export function storeSourceFiles(store: ObjectStore): SourceFiles {
  const keyOf = (file: string): string | undefined => {
    const key = path.posix.normalize(`/${file}`).slice(1);
    try {
      return checkKey(key);
    } catch (error) {
      if (error instanceof InvalidKeyError) return undefined;
      throw error;
    }
  };
  return {
    async readText(file) {
      const key = keyOf(file);
      return key === undefined ? undefined : getText(store, key);
    },
    async size(file) {
      const key = keyOf(file);
      return key === undefined ? undefined : (await store.head(key))?.size;
    },
    async readBytes(file) {
      const key = keyOf(file);
      const object = key === undefined ? undefined : await store.get(key);
      if (!object) throw new Error(`${file}: no such object in the store`);
      return object.body;
    },
  };
}
