import {
  type Body,
  checkKey,
  collect,
  type ListPage,
  ObjectExistsError,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
  type StreamedBody,
  VersionConflictError,
} from '../core/store/object-store.ts';
import { compareKeys, contentTypeOf } from './folder-store.ts';
import { DownloadSigner, type SignedDownloadCheck } from './signed-downloads.ts';

/**
 * An object store in memory: the port's plainest implementation, for benchmarks that
 * measure pressroom's own work without a disk's, and for tests. Versions are a write
 * counter: opaque, and new at each write, as the port promises.
 */
export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, StoredObject>();
  private writes = 0;
  private readonly signer: DownloadSigner;

  constructor(options: { signingSecret: string; publicUrl: string; now?: () => Date }) {
    this.signer = new DownloadSigner(
      options.signingSecret,
      options.publicUrl,
      options.now ?? (() => new Date()),
    );
  }

  locate(key: string): string {
    return `memory:${key}`;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const object = this.objects.get(checkKey(key));
    return object && { ...object, body: object.body.slice() };
  }

  async stream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const object = await this.get(key);
    if (!object) return undefined;
    return (async function* () {
      yield object.body;
    })();
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const object = this.objects.get(checkKey(key));
    if (!object) return undefined;
    const { body: _body, ...info } = object;
    return info;
  }

  async put(key: string, body: Body, options?: PutOptions): Promise<{ version: string }> {
    return this.write(checkKey(key), body, options);
  }

  async putStream(key: string, body: StreamedBody, options?: PutOptions): Promise<{ version: string }> {
    checkKey(key);
    return this.write(key, await collect(await body.open()), options);
  }

  async putIfAbsent(key: string, body: Body, options?: PutOptions): Promise<{ version: string }> {
    if (this.objects.has(checkKey(key))) throw new ObjectExistsError(key);
    return this.write(key, body, options);
  }

  async putIfVersion(
    key: string,
    body: Body,
    expectedVersion: string,
    options?: PutOptions,
  ): Promise<{ version: string }> {
    if (this.objects.get(checkKey(key))?.version !== expectedVersion) throw new VersionConflictError(key);
    return this.write(key, body, options);
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    const limit = options.limit ?? 1000;
    const after = options.cursor;
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (after === undefined || compareKeys(k, after) > 0))
      .sort(compareKeys);
    const items = keys.slice(0, limit).flatMap((k) => {
      const object = this.objects.get(k);
      if (!object) return [];
      const { body: _body, metadata: _metadata, ...info } = object;
      return [info];
    });
    const last = items.at(-1);
    return keys.length > limit && last ? { items, cursor: last.key } : { items };
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(checkKey(key));
  }

  /** Memory keeps no history: nothing to remove. */
  async purgeHistory(prefix: string): Promise<number> {
    if (prefix !== '') checkKey(prefix);
    return 0;
  }

  async signedUrl(
    key: string,
    options: { expiresInSeconds: number; downloadName?: string },
  ): Promise<string> {
    return this.signer.sign(key, options);
  }

  verifySignedUrl(pathAndQuery: string): SignedDownloadCheck {
    return this.signer.verify(pathAndQuery);
  }

  private write(key: string, body: Body, options?: PutOptions): { version: string } {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body.slice();
    // Opaque and new at each write, as the port asks; a counter is enough in one process.
    const version = `v${++this.writes}`;
    this.objects.set(key, {
      key,
      body: bytes,
      size: bytes.byteLength,
      version,
      lastModified: new Date(),
      contentType: options?.contentType ?? contentTypeOf(key),
      // As S3 keeps user metadata (get and head, not list).
      ...(options?.metadata && { metadata: { ...options.metadata } }),
    });
    return { version };
  }
}
