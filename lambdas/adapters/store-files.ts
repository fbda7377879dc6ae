import path from 'node:path';
import { RefusedFileError } from '../core/errors.ts';
import { fileTooLarge, publicationLimits } from '../core/limits.ts';
import type { SourceFiles } from '../core/publication/load.ts';
import { checkKey, InvalidKeyError, type ObjectStore, storedBody } from '../core/store/object-store.ts';

/**
 * Source files read from the object store: a publication uploaded to the bucket, with its
 * organisations and attachments beside it. A path is a key, written with or without a
 * leading "/" (the bucket's root): `/publications/2021/etude.md`. Reads are confined to
 * `root` (the uploads' prefix, `publications/`, the bucket's counterpart of a workspace):
 * a path whose `..` segments climb out of it is refused like a file outside a workspace,
 * and so is an object over the size limit. A path that is not a valid key reads as a
 * missing file, which the loader reports with the publication's line.
 */
export function storeSourceFiles(
  store: ObjectStore,
  options: { root: string; maxFileSize?: number },
): SourceFiles {
  const maxSize = options.maxFileSize ?? publicationLimits.fileSize;
  const keyOf = (file: string): string | undefined => {
    const key = path.posix.normalize(`/${file}`).slice(1);
    if (!key.startsWith(options.root)) {
      throw new RefusedFileError(
        file,
        'outside',
        `is outside ${options.root}: a publication reads only files uploaded beside it under ${options.root}`,
      );
    }
    try {
      return checkKey(key);
    } catch (error) {
      if (error instanceof InvalidKeyError) return undefined;
      throw error;
    }
  };
  const self: SourceFiles = {
    async readBytes(file, read) {
      const key = keyOf(file);
      const head = key === undefined ? undefined : await store.head(key);
      if (key === undefined || head === undefined) return undefined;
      const limit = Math.min(maxSize, read?.maxSize ?? maxSize);
      if (head.size > limit) throw fileTooLarge(file, head.size, limit);
      const object = await store.get(key);
      if (object && object.body.byteLength > limit) throw fileTooLarge(file, object.body.byteLength, limit);
      return object?.body;
    },
    async stream(file) {
      const key = keyOf(file);
      const object = key === undefined ? undefined : await storedBody(store, key);
      if (object && object.info.size > maxSize) throw fileTooLarge(file, object.info.size, maxSize);
      return object?.body;
    },
    async size(file) {
      const key = keyOf(file);
      const size = key === undefined ? undefined : (await store.head(key))?.size;
      if (size !== undefined && size > maxSize) throw fileTooLarge(file, size, maxSize);
      return size;
    },
    within: () => self,
  };
  return self;
}
