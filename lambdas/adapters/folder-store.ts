import { createHmac, randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { PressroomError } from '../core/errors.ts';
import { mediaTypeOf } from '../core/public/site-headers.ts';
import {
  type Body,
  checkKey,
  InvalidKeyError,
  type ListPage,
  ObjectExistsError,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
  type StreamedBody,
  VersionConflictError,
} from '../core/store/object-store.ts';
import { DownloadSigner, type SignedDownloadCheck } from './signed-downloads.ts';

/**
 * The object store on the local disk: key `a/b/c.html` is the file `<root>/a/b/c.html`, so a
 * data folder can be synced to a bucket as it is. Writes go to a temporary file that is
 * then renamed into place, so readers never see half a file. Pressroom's own bookkeeping
 * lives in `<root>/.pressroom-store/` (temporary files, locks), outside the key space.
 */
export interface FolderStoreOptions {
  root: string;
  /** Secret for signed download URLs (HMAC-SHA256). */
  signingSecret: string;
  /** Base URL of the local server that serves signed downloads, e.g. http://localhost:3000. */
  publicUrl: string;
  /** The clock, for signed URL expiry (tests inject one). */
  now?: () => Date;
}

export { signedDownloadPath } from './signed-downloads.ts';

/** The content type of a key, from its extension (a folder keeps no metadata). */
export const contentTypeOf: (key: string) => string = mediaTypeOf;

/**
 * The file system refused a read or a write: a full disk, a quota, a read-only mount, a file
 * or folder pressroom may not touch. The message names the file and what to do; the write
 * left nothing behind (its temporary file is removed).
 */
export class FolderStoreError extends PressroomError {
  override name = 'FolderStoreError';
  constructor(
    readonly file: string,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const fileProblems: Record<string, string> = {
  ENOSPC: 'the disk is full: free some space',
  EDQUOT: 'the disk quota is used up: free some space',
  EACCES:
    'permission denied: let the user running pressroom read and write the data folder, or use another --data-dir',
  EPERM:
    'operation not permitted: let the user running pressroom read and write the data folder, or use another --data-dir',
  EROFS: 'the file system is read-only: use a data folder on a writable disk',
  EMFILE: 'too many open files: raise the limit (ulimit -n)',
};

/** A file system error as a FolderStoreError naming the file, or the error itself when it is not one of those. */
function fileFailure(error: unknown, verb: 'read' | 'write', file: string): unknown {
  const { code, path: at } = error as NodeJS.ErrnoException;
  const problem = code && fileProblems[code];
  if (!problem) return error;
  // The failing call may be on the temporary file or the lock, not the file itself: say both.
  const detail = at && at !== file ? `${code} on ${at}` : code;
  return new FolderStoreError(
    file,
    code,
    `cannot ${verb} ${file} (${detail}): ${problem}, then run the command again`,
    {
      cause: error,
    },
  );
}

const lockStaleMs = 30_000;
/** A temporary file this old was left by a writer that was killed before renaming it into place. */
const abandonedTempMs = 60 * 60_000;
const emptyLockStaleMs = 1_000;

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone: what was wanted.
  }
}
const lockWaitMs = 10_000;
const turnStaleMs = 2_000;

export class FolderObjectStore implements ObjectStore {
  readonly root: string;
  private readonly internal: string;
  private readonly now: () => Date;
  private readonly signer: DownloadSigner;

  constructor(options: FolderStoreOptions) {
    this.root = path.resolve(options.root);
    this.internal = path.join(this.root, '.pressroom-store');
    this.now = options.now ?? (() => new Date());
    this.signer = new DownloadSigner(options.signingSecret, options.publicUrl, this.now);
  }

  /** The file behind a key. */
  fileOf(key: string): string {
    checkKey(key);
    if (key.split('/')[0] === '.pressroom-store') throw new InvalidKeyError(key);
    return path.join(this.root, ...key.split('/'));
  }

  locate(key: string): string {
    return this.fileOf(key);
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const file = this.fileOf(key);
    // One handle for the bytes and the version: a rename between two separate calls would
    // pair old bytes with a new version, and a compare-and-swap would then lose an update.
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw fileFailure(error, 'read', file);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) return undefined;
      const body = await handle.readFile();
      return { ...this.info(key, info), body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    } finally {
      await handle.close();
    }
  }

  async stream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const file = this.fileOf(key);
    const handle = await open(file, 'r').catch((error) => {
      if (isMissing(error)) return undefined;
      throw fileFailure(error, 'read', file);
    });
    if (!handle) return undefined;
    return handle.createReadStream({ autoClose: true, highWaterMark: 64 * 1024 });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.fileOf(key));
      return info.isFile() ? this.info(key, info) : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async put(key: string, body: Body, _options?: PutOptions): Promise<{ version: string }> {
    return this.replace(key, async () => body);
  }

  /** Piped into a temporary file, which then takes the key's place: never held whole. */
  async putStream(key: string, body: StreamedBody, _options?: PutOptions): Promise<{ version: string }> {
    return this.replace(key, () => body.open());
  }

  private async replace(
    key: string,
    body: () => Promise<Body | AsyncIterable<Uint8Array>>,
  ): Promise<{ version: string }> {
    const file = this.fileOf(key);
    try {
      const temp = await this.writeTemp(await body());
      try {
        await this.withDir(path.dirname(file), () => rename(temp, file));
      } catch (error) {
        unlinkQuietly(temp);
        throw error;
      }
      return { version: await this.versionOf(file) };
    } catch (error) {
      throw fileFailure(error, 'write', file);
    }
  }

  /*
   * The conditional writes (ledger claims and outcomes, catalogue and contact shards) call
   * the file system synchronously: each call is a few microseconds of page-cache work,
   * while a trip through libuv's thread pool costs ten times that on the main thread, and a
   * campaign makes two such writes per recipient. Nothing here waits on the disk (no fsync).
   */
  async putIfAbsent(key: string, body: Body, _options?: PutOptions): Promise<{ version: string }> {
    const file = this.fileOf(key);
    let temp: string;
    try {
      temp = this.writeTempSync(body);
    } catch (error) {
      throw fileFailure(error, 'write', file);
    }
    try {
      // link() fails with EEXIST when the name is taken: an atomic create-if-absent of a
      // complete file (O_EXCL on the final name would let readers see it half-written).
      this.withDirSync(path.dirname(file), () => linkSync(temp, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new ObjectExistsError(key, { cause: error });
      throw fileFailure(error, 'write', file);
    } finally {
      unlinkQuietly(temp);
    }
    return { version: versionFromStat(statSync(file)) };
  }

  async putIfVersion(
    key: string,
    body: Body,
    expectedVersion: string,
    _options?: PutOptions,
  ): Promise<{ version: string }> {
    const file = this.fileOf(key);
    let temp: string | undefined;
    try {
      temp = this.writeTempSync(body);
      const release = await this.lock(key);
      try {
        const current = statSync(file, { throwIfNoEntry: false });
        if (!current || versionFromStat(current) !== expectedVersion) throw new VersionConflictError(key);
        renameSync(temp, file);
        temp = undefined;
        return { version: versionFromStat(statSync(file)) };
      } finally {
        release();
      }
    } catch (error) {
      throw fileFailure(error, 'write', file);
    } finally {
      if (temp) unlinkQuietly(temp);
    }
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    const limit = options.limit ?? 1000;
    // Walk only the folder that holds the prefix: `site/tags/` reads site/tags, not the store.
    const slash = prefix.lastIndexOf('/');
    const base = slash >= 0 ? prefix.slice(0, slash + 1) : '';
    const keys: string[] = [];
    await this.walk(base, prefix, keys);
    keys.sort(compareKeys);
    const after = options.cursor;
    const from = after === undefined ? 0 : keys.findIndex((k) => compareKeys(k, after) > 0);
    const selected = from < 0 ? [] : keys.slice(from, from + limit);
    const items: ObjectInfo[] = [];
    for (const key of selected) {
      const info = await this.head(key);
      if (info) items.push(info);
    }
    const more = from >= 0 && from + limit < keys.length;
    return { items, ...(more && selected.length > 0 && { cursor: selected.at(-1) }) };
  }

  async delete(key: string): Promise<void> {
    const file = this.fileOf(key);
    await rm(file, { force: true }).catch((error) => {
      throw fileFailure(error, 'write', file);
    });
    // Remove folders left empty, as a bucket has no empty folders.
    let dir = path.dirname(file);
    while (dir.startsWith(this.root + path.sep)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
      dir = path.dirname(dir);
    }
  }

  /**
   * A folder keeps no old versions: an overwritten or deleted file is gone. The only copies
   * left behind are temporary files of writers killed before their rename (`.pressroom-store/tmp/`):
   * they cannot be told apart by key, so every one older than an hour goes (younger ones may
   * belong to a write in flight). Locks hold a process id and a host name, never data.
   */
  async purgeHistory(prefix: string): Promise<number> {
    if (prefix !== '') checkKey(prefix);
    const dir = path.join(this.internal, 'tmp');
    const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw fileFailure(error, 'read', dir);
    });
    let removed = 0;
    for (const name of names) {
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile() || Date.now() - info.mtimeMs < abandonedTempMs) continue;
      await rm(file, { force: true }).catch((error) => {
        throw fileFailure(error, 'write', file);
      });
      removed++;
    }
    return removed;
  }

  async signedUrl(
    key: string,
    options: { expiresInSeconds: number; downloadName?: string },
  ): Promise<string> {
    return this.signer.sign(key, options);
  }

  /**
   * Checks a signed download URL (path and query, any host) as S3 would: the signature
   * must match the key, expiry and download name, and the expiry must not have passed.
   */
  verifySignedUrl(pathAndQuery: string): SignedDownloadCheck {
    return this.signer.verify(pathAndQuery);
  }

  private info(key: string, s: { size: number; mtime: Date; ino: number; mtimeMs: number }): ObjectInfo {
    return {
      key,
      size: s.size,
      version: versionFromStat(s),
      lastModified: s.mtime,
      contentType: contentTypeOf(key),
    };
  }

  private async versionOf(file: string): Promise<string> {
    return versionFromStat(await stat(file, { bigint: false }));
  }

  private tmpDirReady: Promise<unknown> | undefined;

  private async writeTemp(body: Body | AsyncIterable<Uint8Array>): Promise<string> {
    const dir = path.join(this.internal, 'tmp');
    // Made once per store; a folder removed meanwhile is made again below.
    this.tmpDirReady ??= mkdir(dir, { recursive: true });
    await this.tmpDirReady;
    const temp = path.join(dir, `${process.pid}-${randomBytes(8).toString('hex')}`);
    // A write that fails half-way (a full disk) leaves a partial file: it goes at once.
    const write = () =>
      writeFile(temp, body, { flag: 'wx' }).catch((error) => {
        unlinkQuietly(temp);
        throw error;
      });
    try {
      await write();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dir, { recursive: true });
      await write();
    }
    return temp;
  }

  private readonly dirsMade = new Set<string>();

  /** mkdir -p, once per folder and store (a folder removed meanwhile is made again on ENOENT). */
  private ensureDirSync(dir: string): void {
    if (this.dirsMade.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.dirsMade.add(dir);
  }

  /** `withDirSync` for an asynchronous `op`. */
  private async withDir(dir: string, op: () => Promise<void>): Promise<void> {
    if (!this.dirsMade.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.dirsMade.add(dir);
    }
    try {
      await op();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.dirsMade.delete(dir);
      await mkdir(dir, { recursive: true });
      this.dirsMade.add(dir);
      await op();
    }
  }

  /** Runs `op` in `dir`, made first, and made again if it was removed meanwhile. */
  private withDirSync(dir: string, op: () => void): void {
    this.ensureDirSync(dir);
    try {
      op();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.dirsMade.delete(dir);
      this.ensureDirSync(dir);
      op();
    }
  }

  private writeTempSync(body: Body): string {
    const dir = path.join(this.internal, 'tmp');
    const temp = path.join(dir, `${process.pid}-${randomBytes(8).toString('hex')}`);
    this.withDirSync(dir, () => {
      try {
        writeFileSync(temp, body, { flag: 'wx' });
      } catch (error) {
        // A write that fails half-way (a full disk) leaves a partial file: it goes at once.
        unlinkQuietly(temp);
        throw error;
      }
    });
    return temp;
  }

  /**
   * A per-key lock file created with O_EXCL, for compare-and-swap across processes. It holds
   * the owner's pid and host: a lock whose owner died (kill -9) is broken at once, and any
   * lock older than 30 s is taken to be abandoned.
   */
  private async lock(key: string): Promise<() => void> {
    const dir = path.join(this.internal, 'locks');
    const file = path.join(dir, createHmac('sha256', 'lock').update(key).digest('hex'));
    const deadline = Date.now() + lockWaitMs;
    for (let attempt = 0; ; attempt++) {
      // Created with O_EXCL and the owner written at once: one file per lock, not a second
      // one linked into place (a campaign takes a lock per recipient). A taker killed
      // between the two leaves an empty lock, which breakIfAbandoned removes after a second.
      try {
        this.withDirSync(dir, () => {
          const fd = openSync(file, 'wx');
          try {
            writeSync(fd, `${process.pid} ${hostname()}\n`);
          } finally {
            closeSync(fd);
          }
        });
        return () => unlinkQuietly(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      await this.breakIfAbandoned(file);
      if (Date.now() > deadline) throw new VersionConflictError(key);
      await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 2) * Math.random() + 1));
    }
  }

  /**
   * Removes a lock whose owner is gone. Breakers take turns through an atomic mkdir, and look
   * again once they have the turn, so a fresh lock taken meanwhile is never removed.
   */
  private async breakIfAbandoned(file: string): Promise<void> {
    const turn = `${file}.breaking`;
    try {
      await mkdir(turn);
    } catch {
      // A breaker holds the turn for milliseconds; one killed while holding it leaves it behind.
      const info = await stat(turn).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > turnStaleMs) await rmdir(turn).catch(() => {});
      return;
    }
    try {
      const [content, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]).catch(() => [
        undefined,
        undefined,
      ]);
      if (content === undefined || !info) return;
      const [pid, host] = content.trim().split(' ');
      const ownerDead =
        (host === hostname() && Number(pid) > 0 && !processAlive(Number(pid))) ||
        // Empty for over a second: its taker died between creating and writing it.
        (content === '' && Date.now() - info.mtimeMs > emptyLockStaleMs);
      if (!ownerDead && Date.now() - info.mtimeMs <= lockStaleMs) return;
      // Still the same lock file as the one judged abandoned (not a fresh one since)?
      const again = await stat(file).catch(() => undefined);
      if (again?.ino === info.ino) await unlink(file).catch(() => {});
    } finally {
      await rmdir(turn).catch(() => {});
    }
  }

  private async walk(dirKey: string, prefix: string, out: string[]): Promise<void> {
    const dir = dirKey ? path.join(this.root, ...dirKey.split('/').filter(Boolean)) : this.root;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const entry of entries) {
      if (!dirKey && entry.name === '.pressroom-store') continue;
      const key = dirKey + entry.name;
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix))
          await this.walk(`${key}/`, prefix, out);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        out.push(key);
      }
    }
  }
}

/** S3 lists keys in UTF-8 byte order; so does the folder store. */
/** Key order as S3 lists keys: by their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Every write renames a new file into place, so inode + mtime + size change with each one. */
function versionFromStat(s: { ino: number; mtimeMs: number; size: number }): string {
  return `${s.ino.toString(36)}-${Math.round(s.mtimeMs * 1000).toString(36)}-${s.size.toString(36)}`;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

/** Whether a process of this machine is running (a process of another user's counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
