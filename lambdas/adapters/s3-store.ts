import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { PressroomError } from '../core/errors.ts';
import { contentDisposition } from '../core/public/site-headers.ts';
import {
  type Body,
  checkKey,
  type ListPage,
  ObjectExistsError,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
  type StreamedBody,
  VersionConflictError,
} from '../core/store/object-store.ts';

export { contentDisposition };

/** Options of {@link S3ObjectStore}. */
export interface S3ObjectStoreOptions {
  bucket: string;
  /**
   * A folder inside the bucket that holds every key (`tenant-a` or `tenant-a/`), so that
   * several stores can share one bucket; list results are relative to it.
   */
  prefix?: string;
  /** An SDK client to use (tests, custom endpoints); a default one is built otherwise. */
  client?: S3Client;
}

/** An S3 request failed for a reason the port has no error for (access denied, no such bucket, ...). */
export class S3StoreError extends PressroomError {
  override name = 'S3StoreError';
  constructor(
    readonly operation: string,
    readonly bucket: string,
    readonly key: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`S3 ${operation} failed for s3://${bucket}/${key}: ${detail}`, options);
  }
}

/** The largest page S3 returns, and the default one. */
const MAX_LIST_LIMIT = 1000;
/** Old versions deleted at a time by purgeHistory. */
const PURGE_PARALLEL = 16;
/** SigV4 presigned URLs live at most seven days. */
const MAX_SIGNED_URL_SECONDS = 604_800;

/**
 * A 409 ConditionalRequestConflict means another conditional write to the same key was in
 * flight; S3's documentation says to retry. The SDK does not retry 409s itself, so we do:
 * 25, 50, 100, 200 ms (with jitter) covers a concurrent small write, which is what the
 * ledger and the press-room index do.
 */
const CONFLICT_ATTEMPTS = 5;
const CONFLICT_BASE_DELAY_MS = 25;

/**
 * The object store on S3. Versions are ETags exactly as S3 returns them (quoted), so a
 * version read by `get`, `head` or `list` can be sent back as `If-Match`. Conditional writes
 * use `If-None-Match: *` and `If-Match` (S3 has supported both since 2024); the SDK's own
 * retries stay on for throttling and network errors.
 */
export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  /** Empty, or a folder ending with `/`. */
  readonly prefix: string;
  readonly client: S3Client;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = normalisePrefix(options.prefix);
    // Region and credentials come from the environment (AWS_REGION, the Lambda role).
    this.client = options.client ?? new S3Client({});
  }

  locate(key: string): string {
    return `s3://${this.bucket}/${this.s3Key(key)}`;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const response = await this.getObject('GetObject', key);
    if (!response) return undefined;
    const body = await response.Body?.transformToByteArray();
    if (!body) throw new S3StoreError('GetObject', this.bucket, this.s3Key(key), 'the response has no body');
    return { ...this.info(key, response, body.length), body };
  }

  async stream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const response = await this.getObject('GetObject (stream)', key);
    if (!response) return undefined;
    // In Node the body is an IncomingMessage, which is an async iterable of Buffers.
    const body: unknown = response.Body;
    if (!isAsyncIterable(body)) {
      throw new S3StoreError('GetObject', this.bucket, this.s3Key(key), 'the response body is not a stream');
    }
    return body;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const s3Key = this.s3Key(key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: s3Key }));
      return this.info(key, response, response.ContentLength ?? 0);
    } catch (error) {
      // A HEAD response has no body, so every 404 (even a missing bucket) arrives as NotFound.
      if (isMissing(error) || statusOf(error) === 404) return undefined;
      throw this.failure('HeadObject', s3Key, error);
    }
  }

  async put(key: string, body: Body, options?: PutOptions): Promise<{ version: string }> {
    const s3Key = this.s3Key(key);
    try {
      return { version: this.version(s3Key, await this.client.send(this.putCommand(s3Key, body, options))) };
    } catch (error) {
      throw this.failure('PutObject', s3Key, error);
    }
  }

  /**
   * One PutObject whose body is the stream, its length given beforehand: the bytes pass
   * through, never held whole (S3 takes up to 5 GB this way, far above the file size limit).
   */
  async putStream(key: string, body: StreamedBody, options?: PutOptions): Promise<{ version: string }> {
    const s3Key = this.s3Key(key);
    try {
      const stream = Readable.from(await body.open());
      const command = this.putCommand(s3Key, stream, options, {}, body.size);
      return { version: this.version(s3Key, await this.client.send(command)) };
    } catch (error) {
      throw this.failure('PutObject', s3Key, error);
    }
  }

  async putIfAbsent(key: string, body: Body, options?: PutOptions): Promise<{ version: string }> {
    const s3Key = this.s3Key(key);
    const command = this.putCommand(s3Key, body, options, { IfNoneMatch: '*' });
    for (let attempt = 1; ; attempt++) {
      try {
        return { version: this.version(s3Key, await this.client.send(command)) };
      } catch (error) {
        // When the SDK retried after a lost response, this 412 can be our own first attempt:
        // a caller that must tell (a ledger claim) writes a unique token and reads it back.
        if (isPreconditionFailed(error)) throw new ObjectExistsError(key, { cause: error });
        if (isConditionalConflict(error)) {
          if (attempt < CONFLICT_ATTEMPTS) {
            await backOff(attempt);
            continue;
          }
          // Not ObjectExistsError: the other write may yet fail, and a caller told "exists"
          // would skip the work (a ledger claim, a recipient) that nobody then does.
          throw new S3StoreError(
            'PutObject (If-None-Match)',
            this.bucket,
            s3Key,
            `another conditional write to this key was still in progress after ${attempt} attempts; whether the object exists is unknown: retry later`,
            { cause: error },
          );
        }
        throw this.failure('PutObject (If-None-Match)', s3Key, error);
      }
    }
  }

  async putIfVersion(
    key: string,
    body: Body,
    expectedVersion: string,
    options?: PutOptions,
  ): Promise<{ version: string }> {
    const s3Key = this.s3Key(key);
    const command = this.putCommand(s3Key, body, options, { IfMatch: expectedVersion });
    for (let attempt = 1; ; attempt++) {
      try {
        return { version: this.version(s3Key, await this.client.send(command)) };
      } catch (error) {
        // 412: someone else wrote it. 404 NoSuchKey: it was deleted. Either way, re-read.
        if (isPreconditionFailed(error) || isMissing(error))
          throw new VersionConflictError(key, { cause: error });
        if (isConditionalConflict(error)) {
          if (attempt < CONFLICT_ATTEMPTS) {
            await backOff(attempt);
            continue;
          }
          // Safe to report as a conflict: the caller's answer is to read again and retry.
          throw new VersionConflictError(key, { cause: error });
        }
        throw this.failure('PutObject (If-Match)', s3Key, error);
      }
    }
  }

  async list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<ListPage> {
    const s3Prefix = this.prefix + (prefix === '' ? '' : checkKey(prefix));
    const limit = Math.min(Math.max(Math.trunc(options?.limit ?? MAX_LIST_LIMIT), 1), MAX_LIST_LIMIT);
    try {
      const response = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: s3Prefix,
          MaxKeys: limit,
          ...(options?.cursor !== undefined && { ContinuationToken: options.cursor }),
        }),
      );
      const items = (response.Contents ?? []).map((object): ObjectInfo => {
        const s3Key = object.Key ?? '';
        return {
          key: s3Key.slice(this.prefix.length),
          size: object.Size ?? 0,
          version: this.requireETag(s3Key, object.ETag),
          lastModified: object.LastModified ?? new Date(0),
        };
      });
      const cursor = response.IsTruncated ? response.NextContinuationToken : undefined;
      return { items, ...(cursor !== undefined && { cursor }) };
    } catch (error) {
      throw this.failure('ListObjectsV2', s3Prefix, error);
    }
  }

  async delete(key: string): Promise<void> {
    const s3Key = this.s3Key(key);
    try {
      // S3 answers 204 for a missing key too, which is what the port asks for.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: s3Key }));
    } catch (error) {
      throw this.failure('DeleteObject', s3Key, error);
    }
  }

  /**
   * Deletes every version of the keys under `prefix` that is not current, and every delete
   * marker: what a versioned bucket still holds of an object overwritten or deleted. Needs
   * s3:ListBucketVersions and s3:DeleteObjectVersion. The whole history is listed first; old
   * versions go before delete markers, so that a deleted object never comes back, even when
   * this stops half-way (run it again). A version made current meanwhile is not touched.
   */
  async purgeHistory(prefix: string): Promise<number> {
    const s3Prefix = this.prefix + (prefix === '' ? '' : checkKey(prefix));
    const versions: { Key: string; VersionId: string }[] = [];
    const markers: { Key: string; VersionId: string }[] = [];
    let page: { KeyMarker?: string; VersionIdMarker?: string } = {};
    try {
      for (;;) {
        const response = await this.client.send(
          new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: s3Prefix, ...page }),
        );
        for (const v of response.Versions ?? [])
          if (!v.IsLatest && v.Key && v.VersionId) versions.push({ Key: v.Key, VersionId: v.VersionId });
        for (const m of response.DeleteMarkers ?? [])
          if (m.Key && m.VersionId) markers.push({ Key: m.Key, VersionId: m.VersionId });
        if (!response.IsTruncated) break;
        page = {
          ...(response.NextKeyMarker !== undefined && { KeyMarker: response.NextKeyMarker }),
          ...(response.NextVersionIdMarker !== undefined && {
            VersionIdMarker: response.NextVersionIdMarker,
          }),
        };
      }
    } catch (error) {
      throw this.failure('ListObjectVersions', s3Prefix, error);
    }
    for (const batch of [versions, markers]) {
      for (let i = 0; i < batch.length; i += PURGE_PARALLEL) {
        await Promise.all(
          batch.slice(i, i + PURGE_PARALLEL).map(async (version) => {
            try {
              await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, ...version }));
            } catch (error) {
              throw this.failure('DeleteObject (VersionId)', version.Key, error);
            }
          }),
        );
      }
    }
    return versions.length + markers.length;
  }

  /**
   * A presigned GetObject URL. Signing is local (no request to S3), so it works for a
   * missing object too. A URL signed with temporary credentials (a Lambda role) stops
   * working when they expire, whatever `expiresInSeconds` says.
   */
  async signedUrl(
    key: string,
    options: { expiresInSeconds: number; downloadName?: string },
  ): Promise<string> {
    const s3Key = this.s3Key(key);
    const { expiresInSeconds, downloadName } = options;
    if (
      !Number.isInteger(expiresInSeconds) ||
      expiresInSeconds < 1 ||
      expiresInSeconds > MAX_SIGNED_URL_SECONDS
    ) {
      throw new RangeError(
        `expiresInSeconds must be a whole number from 1 to ${MAX_SIGNED_URL_SECONDS} (7 days), got ${expiresInSeconds}`,
      );
    }
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: s3Key,
      ...(downloadName !== undefined && { ResponseContentDisposition: contentDisposition(downloadName) }),
    });
    // Imported here, not at the top: no Lambda function signs links (the command line may),
    // and the presigner would cost each of them its load at every cold start (issue 19).
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    return getSignedUrl(this.client, command, { expiresIn: expiresInSeconds });
  }

  private s3Key(key: string): string {
    return this.prefix + checkKey(key);
  }

  /** GetObject, or undefined when there is no such key. */
  private async getObject(operation: string, key: string): Promise<GetObjectCommandOutput | undefined> {
    const s3Key = this.s3Key(key);
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: s3Key }));
    } catch (error) {
      // Only a missing key is "no object": a missing bucket (NoSuchBucket) is a misconfiguration
      // and must not read as an empty store. Without s3:ListBucket, S3 answers 403 instead of
      // 404 for a missing key: the role needs it (grantRead includes it).
      if (isMissing(error)) return undefined;
      throw this.failure(operation, s3Key, error);
    }
  }

  private putCommand(
    s3Key: string,
    body: Body | Readable,
    options: PutOptions | undefined,
    condition?: Pick<PutObjectCommandInput, 'IfMatch' | 'IfNoneMatch'>,
    contentLength?: number,
  ): PutObjectCommand {
    return new PutObjectCommand({
      Bucket: this.bucket,
      Key: s3Key,
      Body: body,
      ...(contentLength !== undefined && { ContentLength: contentLength }),
      ...(options?.contentType !== undefined && { ContentType: options.contentType }),
      ...(options?.cacheControl !== undefined && { CacheControl: options.cacheControl }),
      ...(options?.contentDisposition !== undefined && { ContentDisposition: options.contentDisposition }),
      ...(options?.metadata !== undefined && { Metadata: options.metadata }),
      ...condition,
    });
  }

  private info(
    key: string,
    response: { ETag?: string; LastModified?: Date; ContentType?: string; Metadata?: Record<string, string> },
    size: number,
  ): ObjectInfo {
    return {
      key,
      size,
      version: this.requireETag(this.s3Key(key), response.ETag),
      lastModified: response.LastModified ?? new Date(0),
      ...(response.ContentType !== undefined && { contentType: response.ContentType }),
      ...(response.Metadata !== undefined &&
        Object.keys(response.Metadata).length > 0 && { metadata: response.Metadata }),
    };
  }

  private version(s3Key: string, response: { ETag?: string }): string {
    return this.requireETag(s3Key, response.ETag);
  }

  /** Compare-and-swap rests on the ETag: an S3 look-alike without one cannot back this store. */
  private requireETag(s3Key: string, etag: string | undefined): string {
    if (etag === undefined || etag === '') {
      throw new S3StoreError('request', this.bucket, s3Key, 'the response has no ETag, which versions need');
    }
    return etag;
  }

  private failure(operation: string, s3Key: string, error: unknown): S3StoreError {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    const status = statusOf(error);
    const detail = `${name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${message}`;
    return new S3StoreError(operation, this.bucket, s3Key, detail, { cause: error });
  }
}

/** `tenant-a`, `tenant-a/` and `/tenant-a/` all mean the folder `tenant-a/`. */
function normalisePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${checkKey(trimmed)}/`;
}

/** The SDK names service errors after S3's error code; HEAD errors are named after the status. */
function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isMissing(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchKey' || name === 'NotFound';
}

function isPreconditionFailed(error: unknown): boolean {
  return errorName(error) === 'PreconditionFailed' || statusOf(error) === 412;
}

/** Only this 409 is worth a retry: other 409s on a PUT (bucket state) will not go away. */
function isConditionalConflict(error: unknown): boolean {
  return errorName(error) === 'ConditionalRequestConflict';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/** Exponential back-off with jitter, so racing writers do not retry in step. */
function backOff(attempt: number): Promise<void> {
  const delay = CONFLICT_BASE_DELAY_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, delay));
}
