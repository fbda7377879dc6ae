import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PressroomError, RefusedFileError } from '../core/errors.ts';
import { fileTooLarge, publicationLimits } from '../core/limits.ts';
import type { SourceFiles } from '../core/publication/load.ts';
import { findWorkspaceRoot } from './workspace-root.ts';

/**
 * Source files read from the local disk (paths relative to the working directory), only
 * from inside a workspace: a publication's files are those under its workspace folder (the
 * nearest folder upwards with a pressroom.yaml; outside any workspace, the publication's own
 * folder). A file must be a regular file reached without any symbolic link below that
 * folder, and no larger than the size limit. What is checked is what is read: the real path
 * is opened without following a final link, and the open descriptor itself is examined (its
 * type, its size, and on Linux the path it was opened at), so a file swapped for a link
 * between the check and the read is refused too.
 */

export interface LocalFilesOptions {
  /** The largest file read, in bytes (PRESSROOM_MAX_FILE_SIZE); 50 MB by default. */
  maxFileSize?: number;
}

/** The folder a file's reads are confined to: its workspace, or its own folder outside any. */
export function workspaceOf(file: string): string {
  const dir = path.dirname(path.resolve(file));
  return findWorkspaceRoot(dir) ?? dir;
}

/**
 * The local files. Read directly (a campaign file, say), a file is confined to its own
 * workspace; `within(publication)` confines every read to the publication's.
 */
export function localFiles(options: LocalFilesOptions = {}): SourceFiles {
  return {
    readBytes: (file, read) => filesUnder(workspaceOf(file), options).readBytes(file, read),
    stream: (file) => filesUnder(workspaceOf(file), options).stream(file),
    size: (file) => filesUnder(workspaceOf(file), options).size(file),
    within: (publicationFile) => filesUnder(workspaceOf(publicationFile), options),
  };
}

/** The local files with the default size limit. */
export const localSourceFiles: SourceFiles = localFiles();

/** Files read only from under `root` (a workspace, a template folder's workspace). */
export function filesUnder(root: string, options: LocalFilesOptions = {}): SourceFiles {
  const maxSize = options.maxFileSize ?? publicationLimits.fileSize;
  const self: SourceFiles = {
    readBytes: (file, read) => {
      const limit = Math.min(maxSize, read?.maxSize ?? maxSize);
      return opened(file, root, limit, (handle, size) => readAll(handle, size, limit, file));
    },
    size: (file) => opened(file, root, maxSize, (_handle, size) => size),
    // Checked now for its size, checked again when it is opened to be read.
    stream: async (file) => {
      const size = await self.size(file);
      return size === undefined ? undefined : { size, open: () => streamOf(file, root, maxSize) };
    },
    within: () => self,
  };
  return self;
}

const copyInstead =
  'pressroom reads only regular files inside the workspace: copy the file itself into the workspace (an attachment into attachments/ beside the publication)';

/** Opens `file` if it may be read, gives the open descriptor and its size to `use`, closes it. */
async function opened<T>(
  file: string,
  root: string,
  maxSize: number,
  use: (handle: FileHandle, size: number) => Promise<T> | T,
): Promise<T | undefined> {
  const found = await openChecked(file, root, maxSize);
  if (!found) return undefined;
  try {
    return await use(found.handle, found.size);
  } finally {
    await found.handle.close();
  }
}

/**
 * The file's bytes as a stream, from a descriptor checked as `opened` checks it: as many
 * bytes as it had when it was opened (a file that grows meanwhile is cut there), in 1 MB
 * chunks; the descriptor closes at the end or on an error.
 */
async function streamOf(file: string, root: string, maxSize: number): Promise<AsyncIterable<Uint8Array>> {
  const found = await openChecked(file, root, maxSize);
  if (!found) throw new PressroomError(`${file} was removed while it was being read: publish again`);
  if (found.size === 0) {
    await found.handle.close();
    return Readable.from([]);
  }
  return found.handle.createReadStream({ start: 0, end: found.size - 1, highWaterMark: 1024 * 1024 });
}

/** The open descriptor of `file` and its size, once every check passed; undefined when there is none. */
async function openChecked(
  file: string,
  root: string,
  maxSize: number,
): Promise<{ handle: FileHandle; size: number } | undefined> {
  if (file.includes('\0')) {
    throw new RefusedFileError(file, 'special', 'has a NUL character in its name: fix the file name');
  }
  const absolute = path.resolve(file);
  const relative = path.relative(path.resolve(root), absolute);
  if (!isBelow(relative)) {
    throw new RefusedFileError(file, 'outside', `is outside the workspace ${root}: ${copyInstead}`);
  }
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(absolute);
  } catch (error) {
    if (!isMissing(error)) throw error;
    // A link to nothing is a link all the same.
    const link = await lstat(absolute).catch(() => undefined);
    if (link?.isSymbolicLink())
      throw new RefusedFileError(file, 'link', `is a symbolic link: ${copyInstead}`);
    return undefined;
  }
  // No link below the workspace folder: the real path is the written one (links above it,
  // such as a home folder reached through a link, are the workspace's own business).
  if (!samePath(real, path.join(realRoot, relative))) {
    throw new RefusedFileError(
      file,
      'link',
      `is a symbolic link, or lies in a linked folder (it leads to ${real}): ${copyInstead}`,
    );
  }
  if (/^\/(?:proc|sys|dev)(?:\/|$)/.test(real)) {
    throw new RefusedFileError(file, 'special', `is a system file (${real}): ${copyInstead}`);
  }
  let handle: FileHandle;
  try {
    // No final link followed; a FIFO opens without waiting for a writer, and is refused below.
    handle = await open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new RefusedFileError(file, 'link', `is a symbolic link: ${copyInstead}`);
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new RefusedFileError(file, 'special', `is ${kindOf(stats)}, not a regular file: ${copyInstead}`);
    }
    if (stats.size > maxSize) throw fileTooLarge(file, stats.size, maxSize, 'PRESSROOM_MAX_FILE_SIZE');
    // Linux tells where the descriptor really points: a folder swapped for a link after the
    // checks above would show here.
    const openedAt = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (openedAt !== undefined && openedAt !== real) {
      throw new RefusedFileError(file, 'link', `changed while being read (now ${openedAt}): ${copyInstead}`);
    }
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Reads an open file to its end, refusing it once it passes `maxSize` (it may grow meanwhile). */
async function readAll(handle: FileHandle, size: number, maxSize: number, file: string): Promise<Uint8Array> {
  let buffer = Buffer.allocUnsafe(Math.min(size, maxSize) + 1);
  let total = 0;
  for (;;) {
    if (total === buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxSize + 1));
      buffer.copy(grown, 0, 0, total);
      buffer = grown;
    }
    const { bytesRead } = await handle.read(buffer, total, buffer.length - total, total);
    if (bytesRead === 0) break;
    total += bytesRead;
    if (total > maxSize) throw fileTooLarge(file, total, maxSize, 'PRESSROOM_MAX_FILE_SIZE');
  }
  return buffer.subarray(0, total);
}

/** Paths compared as the file system does: without case on macOS and Windows. */
function samePath(a: string, b: string): boolean {
  const folded = process.platform === 'darwin' || process.platform === 'win32';
  return folded ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/** True when a path relative to a folder stays under it. */
function isBelow(relative: string): boolean {
  return (
    relative !== '' &&
    relative !== '..' &&
    !relative.startsWith(`..${path.sep}`) &&
    !path.isAbsolute(relative)
  );
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
