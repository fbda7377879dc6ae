import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { PressroomError } from '../core/errors.ts';

/**
 * Writes a file through a stream, all or nothing: into a hidden temporary file beside it,
 * renamed into place once complete. A failure leaves no partial file (and no earlier file
 * replaced). `mode` 0o600 keeps exports of personal data private to their owner.
 */
export async function writeFileAtomically<T>(
  file: string,
  write: (out: Writable) => Promise<T>,
  options: { mode?: number } = {},
): Promise<T> {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  // Opened first, so that a missing folder or a refused write is a clear error, not a crash.
  const handle = await open(temp, 'wx', options.mode ?? 0o644).catch((error: NodeJS.ErrnoException) => {
    throw new PressroomError(
      `cannot write ${file}: ${error.code === 'ENOENT' ? 'its folder does not exist' : error.message}`,
      {
        cause: error,
      },
    );
  });
  const out = handle.createWriteStream();
  try {
    const result = await write(out);
    if (!out.writableEnded) out.end();
    await finished(out);
    await rename(temp, file);
    return result;
  } catch (error) {
    out.destroy();
    await unlink(temp).catch(() => {});
    throw error;
  }
}
