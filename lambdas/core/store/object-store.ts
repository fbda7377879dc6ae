import { PressroomError } from '../errors.ts';

/**
 * The object store port: all of pressroom's state lives in one (S3 in AWS, a folder
 * locally). Keys are `/`-separated paths such as `archive/<slug>/release.json`; the
 * README documents the layout.
 */
export interface ObjectStore {
  /** The object, or undefined when there is none. */
  get(key: string): Promise<StoredObject | undefined>;
  /** The object's bytes as a stream (large files, exports), or undefined. */
  stream(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Metadata only, or undefined. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Writes the object, replacing any previous one. */
  put(key: string, body: Body, options?: PutOptions): Promise<{ version: string }>;
  /**
   * Writes the object from a stream of known size, never holding it whole (an attachment).
   * A store without it is written through `put` (see putContent).
   */
  putStream?(key: string, body: StreamedBody, options?: PutOptions): Promise<{ version: string }>;
  /** Writes the object only if there is none yet; throws ObjectExistsError otherwise. */
  putIfAbsent(key: string, body: Body, options?: PutOptions): Promise<{ version: string }>;
  /**
   * Replaces the object only if its version is still `expectedVersion`; throws
   * VersionConflictError otherwise (somebody else wrote it, or it is gone).
   */
  putIfVersion(
    key: string,
    body: Body,
    expectedVersion: string,
    options?: PutOptions,
  ): Promise<{ version: string }>;
  /** One page of the keys under a prefix, in key order; pass `cursor` back for the next page. */
  list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<ListPage>;
  /** Deletes the object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Removes the history of every object whose key begins with `prefix`, deleted objects
   * included: its older versions and delete markers (S3 with versioning). Current objects stay
   * as they are. Returns how many old copies went: an erasure's proof. A store that keeps no
   * history removes only copies it may have left behind (the folder's abandoned temporary
   * files) and answers how many.
   */
  purgeHistory(prefix: string): Promise<number>;
  /** A URL that lets anyone holding it download the object until it expires. */
  signedUrl(key: string, options: { expiresInSeconds: number; downloadName?: string }): Promise<string>;
  /** Where a key is, for people: a file path, `s3://bucket/key`. */
  locate?(key: string): string;
}

export type Body = string | Uint8Array;

/**
 * Bytes read while they are written, never held whole (an attachment, an image, a copy from
 * the archive): their size, known beforehand, and a way to read them, once per call.
 */
export interface StreamedBody {
  size: number;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/** What a file of a release holds: text, bytes, or bytes read when they are written. */
export type Content = Body | StreamedBody;

export function isStreamed(content: Content): content is StreamedBody {
  return typeof content === 'object' && !(content instanceof Uint8Array);
}

/** Bytes already in memory, as a StreamedBody. */
export function streamedBytes(bytes: Uint8Array): StreamedBody {
  return {
    size: bytes.byteLength,
    open: async () =>
      (async function* () {
        yield bytes;
      })(),
  };
}

/** Reads a stream whole (a store that cannot write from a stream, a comparison in memory). */
export async function collect(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Writes `content` at `key`: streamed when it is a StreamedBody and the store can. */
export async function putContent(
  store: ObjectStore,
  key: string,
  content: Content,
  options?: PutOptions,
): Promise<{ version: string }> {
  if (!isStreamed(content)) return store.put(key, content, options);
  if (store.putStream) return store.putStream(key, content, options);
  return store.put(key, await collect(await content.open()), options);
}

/** The object at `key` as a StreamedBody (its bytes read when they are written), or undefined. */
export async function storedBody(
  store: ObjectStore,
  key: string,
): Promise<{ info: ObjectInfo; body: StreamedBody } | undefined> {
  const info = await store.head(key);
  if (!info) return undefined;
  const body: StreamedBody = {
    size: info.size,
    open: async () => {
      const stream = await store.stream(key);
      if (!stream) throw new PressroomError(`${key} was removed while it was copied`);
      return stream;
    },
  };
  return { info, body };
}

export interface PutOptions {
  contentType?: string;
  /** Cache-Control for objects served to the public (the press room). */
  cacheControl?: string;
  /** Content-Disposition for objects served to the public: `attachment` makes them download (S3 only; a folder keeps no metadata). */
  contentDisposition?: string;
  /**
   * User metadata (S3's `x-amz-meta-*`: lower-case names, ASCII values), read back by `get` and
   * `head`. S3 only: a folder keeps no metadata (a web admin's draft mark: upload.ts).
   */
  metadata?: Record<string, string>;
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** An opaque version: an S3 ETag, or a content hash locally. Compare, never parse. */
  version: string;
  lastModified: Date;
  contentType?: string;
  /** The user metadata it was written with (`get` and `head` of S3; never from `list` or a folder). */
  metadata?: Record<string, string>;
}

export interface StoredObject extends ObjectInfo {
  body: Uint8Array;
}

export interface ListPage {
  items: ObjectInfo[];
  /** Present when there are more keys. */
  cursor?: string;
}

/** All keys under a prefix, page after page. */
export async function* listAll(store: ObjectStore, prefix: string): AsyncGenerator<ObjectInfo> {
  let cursor: string | undefined;
  do {
    const page = await store.list(prefix, { ...(cursor !== undefined && { cursor }) });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor !== undefined);
}

/** The object's text (UTF-8), or undefined. */
export async function getText(store: ObjectStore, key: string): Promise<string | undefined> {
  const object = await store.get(key);
  return object && new TextDecoder().decode(object.body);
}

/**
 * The object parsed as JSON, with its version, or undefined. Pressroom stores objects and
 * arrays only: anything else (a truncated copy, an edit gone wrong) is CorruptObjectError,
 * naming the file and how to repair it (`repair`: what is safe for this kind of file).
 */
export async function getJson<T>(
  store: ObjectStore,
  key: string,
  options: { repair?: string } = {},
): Promise<{ value: T; version: string } | undefined> {
  const object = await store.get(key);
  if (!object) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(object.body));
  } catch (error) {
    throw new CorruptObjectError(store, key, (error as Error).message, options.repair, { cause: error });
  }
  if (typeof value !== 'object' || value === null)
    throw new CorruptObjectError(
      store,
      key,
      `it holds ${JSON.stringify(value)}, not an object`,
      options.repair,
    );
  return { value: value as T, version: object.version };
}

/**
 * Reads a JSON object, changes it, and writes it back only if nobody wrote it meanwhile;
 * on a conflict it reads again and retries. `change` must be a pure function of its input.
 */
export async function updateJson<T>(
  store: ObjectStore,
  key: string,
  empty: () => T,
  change: (current: T) => T,
  options: { repair?: string } = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const current = await getJson<T>(store, key, options);
    const before = current ? current.value : empty();
    const next = change(before);
    // `change` hands back what it was given when nothing changed: no write, no new version.
    if (current && next === before) return next;
    const body = serializeJson(next);
    try {
      if (current) await store.putIfVersion(key, body, current.version, { contentType: 'application/json' });
      else await store.putIfAbsent(key, body, { contentType: 'application/json' });
      return next;
    } catch (error) {
      const conflict = error instanceof VersionConflictError || error instanceof ObjectExistsError;
      if (!conflict || attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
    }
  }
}

/**
 * JSON as stored by pressroom: compact, with non-ASCII characters escaped. Reading ASCII is
 * several times faster than decoding accented UTF-8, and shards are read far more often
 * than they are written (every audience resolution reads them all).
 */
export function serializeJson(value: unknown): string {
  return `${asciiJson(JSON.stringify(value))}\n`;
}

const notAscii = /[\u007f-\uffff]/g;

/**
 * A JSON text with its non-ASCII characters escaped, as serializeJson stores it. Escaping
 * each small part of a large value (one contact of a shard) and joining the bytes costs a
 * fraction of escaping one text of megabytes, which holds two-byte characters throughout.
 */
export function asciiJson(json: string): string {
  // One scan: a text with nothing to escape comes back as it is (testing it first scanned twice).
  return json.replace(notAscii, escapeOf);
}

/** `é` → `\u00e9`, remembered (a contact shard holds the same few accents thousands of times). */
const escapes = new Map<string, string>();
function escapeOf(c: string): string {
  let found = escapes.get(c);
  if (found === undefined) {
    found = `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    if (escapes.size >= 4096) escapes.clear();
    escapes.set(c, found);
  }
  return found;
}

/** Keys are relative paths: no leading "/", no "." or ".." segments, no empty segments, no backslashes. */
export function checkKey(key: string): string {
  if (key.length === 0 || key.length > 1024 || badKey.test(key)) throw new InvalidKeyError(key);
  return key;
}

/** A leading "/", a backslash, a NUL, an empty segment before the end, a "." or ".." segment. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what is refused
const badKey = /^\/|\\|\u0000|\/\/|(?:^|\/)\.{1,2}(?:\/|$)/;

export class ObjectExistsError extends PressroomError {
  override name = 'ObjectExistsError';
  constructor(
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(`${key} already exists`, options);
  }
}

export class VersionConflictError extends PressroomError {
  override name = 'VersionConflictError';
  constructor(
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(
      `${key} was changed by someone else (or removed) since it was read; read it again and retry`,
      options,
    );
  }
}

/**
 * A stored JSON file that cannot be read: damaged by a partial copy, a full disk on another
 * tool's write, or a hand edit. Names the file and how to repair it; pressroom itself writes
 * whole files only (rename into place, S3 PUT).
 */
export class CorruptObjectError extends PressroomError {
  override name = 'CorruptObjectError';
  constructor(
    store: Pick<ObjectStore, 'locate'>,
    readonly key: string,
    detail: string,
    repair?: string,
    options?: ErrorOptions,
  ) {
    const where = store.locate?.(key) ?? key;
    super(
      `the store's file ${where} is damaged and cannot be read (${detail}). ${repair ?? 'Restore it from a backup'}` +
        '; on S3 with versioning, restore its previous version. Nothing was changed.',
      options,
    );
  }
}

export class InvalidKeyError extends PressroomError {
  override name = 'InvalidKeyError';
  constructor(readonly key: string) {
    super(`invalid store key ${JSON.stringify(key)}: keys are relative paths without "." or ".." segments`);
  }
}
