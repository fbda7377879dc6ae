import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { StoredVersion } from '../contract/object-store.contract.ts';
import { listenLocally } from './listen.ts';

/**
 * S3 versioning in front of s3rver, which has none (its `?versions` answers NotImplemented):
 * an HTTP proxy on 127.0.0.1 that keeps each key's versions as a versioning-enabled bucket
 * does. The current version is s3rver's object at its key; an overwritten or deleted version
 * is copied first into the bucket `<bucket>-versions` under `<version id>/<key>`, and the
 * proxy remembers the order, version ids and delete markers. It answers ListObjectVersions,
 * GetObject and HeadObject with `versionId`, DeleteObject without one (a delete marker) and
 * with one (that version goes; removing the current one brings the previous back, as S3
 * does), and passes everything else on unchanged. Requests on one key must come one at a
 * time: the conditional-write proxy in front (s3-conditional.ts) does that.
 * DeleteObjects on a versioned bucket is refused (501): nothing in pressroom sends it.
 */
export interface VersionedS3 {
  endpoint: string;
  close(): Promise<void>;
}

/** The bucket that holds `bucket`'s old versions (s3rver must have it). */
export const versionsBucket = (bucket: string) => `${bucket}-versions`;

interface Version {
  id: string;
  marker: boolean;
  etag?: string;
  size?: number;
  lastModified: Date;
}

export async function versionedS3(
  upstream: string,
  buckets: string[],
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<VersionedS3> {
  const target = new URL(upstream);
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: upstream,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  /** `bucket/key` → its versions, oldest first. */
  const history = new Map<string, Version[]>();
  const versionsOf = (bucket: string, key: string) => {
    const all = history.get(`${bucket}/${key}`) ?? [];
    history.set(`${bucket}/${key}`, all);
    return all;
  };
  const newId = () => randomBytes(12).toString('hex');
  const shadow = (bucket: string, key: string, id: string) => ({
    Bucket: versionsBucket(bucket),
    Key: `${id}/${key}`,
  });
  const copy = (from: { Bucket: string; Key: string }, to: { Bucket: string; Key: string }) =>
    client.send(
      new CopyObjectCommand({
        ...to,
        CopySource: `${from.Bucket}/${from.Key.split('/').map(encodeURIComponent).join('/')}`,
      }),
    );

  /** Keeps the current version's bytes under its id before it is overwritten or deleted. */
  const keepCurrent = async (bucket: string, key: string) => {
    const latest = versionsOf(bucket, key).at(-1);
    if (latest && !latest.marker) await copy({ Bucket: bucket, Key: key }, shadow(bucket, key, latest.id));
  };

  /** Makes the newest remaining version current again (after the current one was removed). */
  const restoreLatest = async (bucket: string, key: string) => {
    const latest = versionsOf(bucket, key).at(-1);
    if (!latest || latest.marker) return;
    await copy(shadow(bucket, key, latest.id), { Bucket: bucket, Key: key });
    await client.send(new DeleteObjectCommand(shadow(bucket, key, latest.id)));
  };

  const forward = (req: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const out = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () =>
            resolve({
              status: answer.statusCode ?? 502,
              headers: answer.headers,
              body: Buffer.concat(chunks),
            }),
          );
          answer.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://s3');
    const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const versionId = url.searchParams.get('versionId');
    const pass = async (after?: (status: number, headers: Record<string, string>) => Promise<void>) => {
      const answer = await forward(req, body);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(answer.headers))
        if (value !== undefined) headers[name] = String(value);
      if (after) await after(answer.status, headers);
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    };
    if (!buckets.includes(bucket)) return pass();

    if (key === '') {
      if (req.method === 'GET' && url.searchParams.has('versions')) return listVersions(res, bucket, url);
      if (req.method === 'POST' && url.searchParams.has('delete'))
        return xmlError(res, 501, 'NotImplemented', 'DeleteObjects is not emulated on a versioned bucket');
      return pass();
    }
    const versions = versionsOf(bucket, key);
    if (req.method === 'PUT' && [...url.searchParams.keys()].every((k) => k === 'x-id')) {
      await keepCurrent(bucket, key);
      return pass(async (status, headers) => {
        if (status !== 200) return;
        const stored = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        const version: Version = {
          id: newId(),
          marker: false,
          etag: stored.ETag ?? '',
          size: stored.ContentLength ?? 0,
          lastModified: stored.LastModified ?? new Date(),
        };
        versions.push(version);
        headers['x-amz-version-id'] = version.id;
      });
    }
    if (req.method === 'DELETE' && versionId === null) {
      await keepCurrent(bucket, key);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      const marker: Version = { id: newId(), marker: true, lastModified: new Date() };
      versions.push(marker);
      res.writeHead(204, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.id });
      return res.end();
    }
    if (versionId === null) return pass();

    const index = versions.findIndex((v) => v.id === versionId);
    const version = versions[index];
    const current = index === versions.length - 1;
    if (req.method === 'DELETE') {
      if (version) {
        versions.splice(index, 1);
        if (current && !version.marker) {
          await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
          await restoreLatest(bucket, key);
        } else if (current) {
          await restoreLatest(bucket, key);
        } else if (!version.marker) {
          await client.send(new DeleteObjectCommand(shadow(bucket, key, version.id)));
        }
      }
      res.writeHead(204, {
        'x-amz-version-id': versionId,
        ...(version?.marker && { 'x-amz-delete-marker': 'true' }),
      });
      return res.end();
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (!version) return xmlError(res, 404, 'NoSuchVersion', 'The specified version does not exist.');
      if (version.marker) {
        res.writeHead(405, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': version.id });
        return res.end();
      }
      const object = await client.send(
        new GetObjectCommand(current ? { Bucket: bucket, Key: key } : shadow(bucket, key, version.id)),
      );
      const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
      res.writeHead(200, {
        'content-length': String(bytes.length),
        'content-type': object.ContentType ?? 'application/octet-stream',
        etag: version.etag ?? '',
        'last-modified': version.lastModified.toUTCString(),
        'x-amz-version-id': version.id,
      });
      return res.end(req.method === 'HEAD' ? undefined : bytes);
    }
    return pass();
  };

  /** ListObjectVersions: keys in order, each key's versions newest first; max-keys and markers page it. */
  const listVersions = (res: ServerResponse, bucket: string, url: URL) => {
    const prefix = url.searchParams.get('prefix') ?? '';
    const maxKeys = Number(url.searchParams.get('max-keys') ?? 1000);
    const keyMarker = url.searchParams.get('key-marker');
    const versionMarker = url.searchParams.get('version-id-marker');
    const all = [...history.entries()]
      .filter(([name]) => name.startsWith(`${bucket}/${prefix}`))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([name, versions]) => {
        const key = name.slice(bucket.length + 1);
        return versions.map((v, i) => ({ key, v, latest: i === versions.length - 1 })).reverse();
      });
    let start = 0;
    if (keyMarker !== null) {
      const at = versionMarker
        ? all.findIndex((e) => e.key === keyMarker && e.v.id === versionMarker)
        : all.findLastIndex((e) => e.key <= keyMarker);
      start = at + 1;
    }
    const page = all.slice(start, start + maxKeys);
    const truncated = start + maxKeys < all.length;
    const last = page.at(-1);
    const entries = page.map(({ key, v, latest }) => {
      const common = `<Key>${xml(key)}</Key><VersionId>${v.id}</VersionId><IsLatest>${latest}</IsLatest><LastModified>${v.lastModified.toISOString()}</LastModified>`;
      return v.marker
        ? `<DeleteMarker>${common}</DeleteMarker>`
        : `<Version>${common}<ETag>${xml(v.etag ?? '')}</ETag><Size>${v.size ?? 0}</Size><StorageClass>STANDARD</StorageClass></Version>`;
    });
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucket)}</Name><Prefix>${xml(prefix)}</Prefix><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${
        truncated && last
          ? `<NextKeyMarker>${xml(last.key)}</NextKeyMarker><NextVersionIdMarker>${last.v.id}</NextVersionIdMarker>`
          : ''
      }${entries.join('')}</ListVersionsResult>`,
    );
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
        if (!res.headersSent) xmlError(res, 500, 'InternalError', String(error));
        else res.end();
      });
    });
  });
  const listening = await listenLocally(server);
  return {
    endpoint: listening.endpoint,
    async close() {
      await listening.close();
      client.destroy();
    },
  };
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xml(message)}</Message><RequestId>versions</RequestId><HostId>versions</HostId></Error>`,
  );
}

/**
 * Every version a versioned bucket holds under a prefix, delete markers included, each read
 * back by its version id: what an erasure must leave without the person.
 */
export async function bucketHistory(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<StoredVersion[]> {
  const listed = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
  const all = [
    ...(listed.Versions ?? []).map((v) => ({ ...v, marker: false })),
    ...(listed.DeleteMarkers ?? []).map((m) => ({ ...m, marker: true })),
  ];
  return Promise.all(
    all.map(async (v): Promise<StoredVersion> => {
      const found = { key: v.Key ?? '', latest: v.IsLatest === true, marker: v.marker };
      if (v.marker) return found;
      const object = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }),
      );
      return { ...found, body: await object.Body?.transformToString() };
    }),
  );
}
