import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDisposition, S3ObjectStore, S3StoreError } from '../../lambdas/adapters/s3-store.ts';
import { ObjectExistsError, VersionConflictError } from '../../lambdas/core/store/object-store.ts';
import { type ObjectStoreHarness, objectStoreContract } from '../contract/object-store.contract.ts';
import { bucketHistory } from '../support/s3-versions.ts';
import {
  type RunningS3rver,
  S3RVER_CREDENTIALS,
  s3rverClientConfig,
  startS3rver,
} from '../support/s3rver.ts';

const BUCKET = 'pressroom-test';
const CREDENTIALS = S3RVER_CREDENTIALS;

let s3rver: RunningS3rver | undefined;
let endpoint: string;

beforeAll(async () => {
  // Versioned, as the stack's data bucket is (tests/support/s3-versions.ts).
  s3rver = await startS3rver([BUCKET], { versioned: true });
  endpoint = s3rver.endpoint;
});

afterAll(async () => {
  await s3rver?.stop();
});

const s3rverClient = () => new S3Client(s3rverClientConfig(endpoint));

/** RFC 3986 encoding as SigV4 wants it: encodeURIComponent leaves ! ' ( ) * alone. */
const sigV4Encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * Checks a presigned GET URL's SigV4 query signature the way S3 does, written from the
 * SigV4 specification rather than with the SDK's signer (which made the URL). Returns what
 * is wrong, or undefined. Needed because s3rver checks expiry but not SigV4 signatures.
 */
function sigV4Problem(url: string, secretAccessKey: string): string | undefined {
  const u = new URL(url);
  const q = u.searchParams;
  const [algorithm, credential, date, signedHeaders, signature] = [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
  ].map((name) => q.get(name));
  if (algorithm !== 'AWS4-HMAC-SHA256' || !credential || !date || !signedHeaders || !signature) {
    return 'not a SigV4 presigned URL';
  }
  // A browser sends Host and nothing else we could have signed.
  if (signedHeaders !== 'host') return `the URL signs headers a browser will not send: ${signedHeaders}`;
  const [, day = '', region = '', service = '', terminator = ''] = credential.split('/');
  const scope = [day, region, service, terminator].join('/');
  const query = [...q.entries()]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [sigV4Encode(name), sigV4Encode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  // S3 signs the path as sent: encoded once, not normalised.
  const canonicalRequest = ['GET', u.pathname, query, `host:${u.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join(
    '\n',
  );
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    date,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const key = [day, region, service, terminator].reduce<Buffer | string>(
    (k, part) => hmac(k, part),
    `AWS4${secretAccessKey}`,
  );
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === signature ? undefined : 'SignatureDoesNotMatch';
}

let warned = false;

async function create(): Promise<ObjectStoreHarness> {
  if (!warned) {
    warned = true;
    console.warn(
      '[s3-store.test] s3rver 3.x does NOT verify SigV4 signatures (it only checks the access key id and ' +
        'expiry), so fetchSigned checks the signature itself before fetching from s3rver. Expiry is enforced ' +
        'by s3rver. The canary tests below fail when that changes.',
    );
  }
  const client = s3rverClient();
  return {
    store: new S3ObjectStore({ bucket: BUCKET, client }),
    history: (prefix) => bucketHistory(client, BUCKET, prefix),
    async fetchSigned(url) {
      const problem = sigV4Problem(url, CREDENTIALS.secretAccessKey);
      if (problem) return { status: 403, body: `refused by the test harness's SigV4 check: ${problem}` };
      const response = await fetch(url);
      return { status: response.status, body: await response.text() };
    },
  };
}

objectStoreContract('S3 over HTTP (s3rver behind the conditional-write and versioning proxies)', create);

describe('S3ObjectStore on s3rver', () => {
  let store: S3ObjectStore;
  let n = 0;
  const prefix = () => `s3-${++n}-${Date.now().toString(36)}/`;

  beforeAll(() => {
    store = new S3ObjectStore({ bucket: BUCKET, client: s3rverClient() });
  });

  it('canary: s3rver serves a tampered SigV4 URL (so the harness checks signatures itself)', async () => {
    const p = prefix();
    await store.put(`${p}a.txt`, 'a');
    await store.put(`${p}b.txt`, 'b');
    const tampered = (await store.signedUrl(`${p}a.txt`, { expiresInSeconds: 60 })).replace('a.txt', 'b.txt');
    expect(sigV4Problem(tampered, CREDENTIALS.secretAccessKey)).toBe('SignatureDoesNotMatch');
    // If this starts failing, s3rver checks SigV4 now: drop sigV4Problem from fetchSigned.
    const response = await fetch(tampered);
    expect({ status: response.status, body: await response.text() }).toEqual({ status: 200, body: 'b' });
  });

  it('canary: s3rver itself refuses an expired URL', async () => {
    const p = prefix();
    await store.put(`${p}a.txt`, 'a');
    const command = new GetObjectCommand({ Bucket: BUCKET, Key: `${p}a.txt` });
    const expired = await getSignedUrl(s3rverClient(), command, {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 120_000),
    });
    const response = await fetch(expired);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Request has expired');
  });

  it('offers a download name with accents through Content-Disposition', async () => {
    const p = prefix();
    await store.put(`${p}etude.pdf`, '%PDF', { contentType: 'application/pdf' });
    const name = 'Étude «villes» (2021)\u00a0: l’été.pdf';
    const url = await store.signedUrl(`${p}etude.pdf`, { expiresInSeconds: 60, downloadName: name });
    expect(sigV4Problem(url, CREDENTIALS.secretAccessKey)).toBeUndefined();
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(contentDisposition(name));
    expect(await response.text()).toBe('%PDF');
  });

  it('reports the same quoted ETag as the version from put, get, head and list', async () => {
    const p = prefix();
    const { version } = await store.put(`${p}doc.json`, '{}', { contentType: 'application/json' });
    expect(version).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await store.get(`${p}doc.json`))?.version).toBe(version);
    expect((await store.head(`${p}doc.json`))?.version).toBe(version);
    expect((await store.list(p)).items.map((i) => i.version)).toEqual([version]);
  });

  it('stores Cache-Control and Content-Type', async () => {
    const p = prefix();
    await store.put(`${p}index.html`, '<p>x</p>', {
      contentType: 'text/html; charset=utf-8',
      cacheControl: 'public, max-age=300',
    });
    const head = await s3rverClient().send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${p}index.html` }));
    expect(head).toMatchObject({
      CacheControl: 'public, max-age=300',
      ContentType: 'text/html; charset=utf-8',
    });
  });

  it('keeps user metadata: get and head give it back, list does not', async () => {
    const p = prefix();
    const key = `${p}draft.md`;
    await store.put(key, '---\n', { metadata: { 'pressroom-draft': 'web-admin' } });
    expect((await store.head(key))?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });
    expect((await store.get(key))?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });
    expect((await store.list(p)).items[0]?.metadata).toBeUndefined();
    await store.put(key, '---\n');
    expect((await store.head(key))?.metadata).toBeUndefined();
  });

  it('keeps every key under its prefix, and lists relative to it', async () => {
    const p = prefix();
    const tenant = new S3ObjectStore({ bucket: BUCKET, prefix: `${p}tenant-a`, client: s3rverClient() });
    expect(tenant.prefix).toBe(`${p}tenant-a/`);
    await tenant.put('archive/2021/release.json', '{}');
    expect(await store.get(`${p}tenant-a/archive/2021/release.json`)).toBeDefined();
    expect(await tenant.get(`${p}tenant-a/archive/2021/release.json`)).toBeUndefined();
    expect((await tenant.list('archive/')).items.map((i) => i.key)).toEqual(['archive/2021/release.json']);
    expect((await tenant.list('')).items.map((i) => i.key)).toEqual(['archive/2021/release.json']);
  });

  it('does not mistake a missing bucket for a missing object', async () => {
    const nowhere = new S3ObjectStore({ bucket: 'no-such-bucket', client: s3rverClient() });
    const error = await nowhere.get('a.txt').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3StoreError);
    expect((error as Error).message).toMatch(/s3:\/\/no-such-bucket\/a\.txt.*NoSuchBucket/);
    expect((error as Error).cause).toMatchObject({ name: 'NoSuchBucket' });
  });
});

/**
 * Errors built the way the SDK builds them from S3's XML (checked against the SDK's
 * deserialiser with canned responses, see the next block): modelled codes get their class
 * (NoSuchKey, NotFound), others an S3ServiceException named after the code.
 */
function s3Error(name: string, httpStatusCode: number, message: string): S3ServiceException {
  return Object.assign(
    new S3ServiceException({
      name,
      $fault: httpStatusCode < 500 ? 'client' : 'server',
      $metadata: { httpStatusCode },
      message,
    }),
    { Code: name },
  );
}
const preconditionFailed = () =>
  s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
const conditionalConflict = () =>
  s3Error(
    'ConditionalRequestConflict',
    409,
    'A conflicting conditional operation is currently in progress against this resource. Please try again.',
  );
const noSuchKey = () =>
  new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });

describe('S3ObjectStore request and error mapping (aws-sdk-client-mock)', () => {
  /** A fresh mocked client per test: only this instance is stubbed, the s3rver tests keep real ones. */
  function mocked(options: { prefix?: string } = {}) {
    const client = new S3Client({ region: 'us-east-1', credentials: CREDENTIALS });
    const mock = mockClient(client);
    const store = new S3ObjectStore({ bucket: 'press', client, ...options });
    return { mock, store };
  }

  it('purgeHistory lists every page, then deletes old versions before delete markers, never a current one', async () => {
    const { mock, store } = mocked({ prefix: 'tenant' });
    mock
      .on(ListObjectVersionsCommand, { KeyMarker: undefined })
      .resolves({
        IsTruncated: true,
        NextKeyMarker: 'tenant/contacts/shards/0a-1.json',
        NextVersionIdMarker: 'v2',
        DeleteMarkers: [{ Key: 'tenant/contacts/shards/0a-1.json', VersionId: 'm1', IsLatest: true }],
        Versions: [{ Key: 'tenant/contacts/shards/0a-1.json', VersionId: 'v2', IsLatest: false }],
      })
      .on(ListObjectVersionsCommand, { KeyMarker: 'tenant/contacts/shards/0a-1.json' })
      .resolves({
        IsTruncated: false,
        Versions: [
          { Key: 'tenant/contacts/shards/0a-2.json', VersionId: 'v4', IsLatest: true },
          { Key: 'tenant/contacts/shards/0a-2.json', VersionId: 'v3', IsLatest: false },
        ],
      });
    mock.on(DeleteObjectCommand).resolves({});
    await expect(store.purgeHistory('contacts/shards/0a')).resolves.toBe(3);
    expect(mock.commandCalls(ListObjectVersionsCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'press', Prefix: 'tenant/contacts/shards/0a' },
      {
        Bucket: 'press',
        Prefix: 'tenant/contacts/shards/0a',
        KeyMarker: 'tenant/contacts/shards/0a-1.json',
        VersionIdMarker: 'v2',
      },
    ]);
    expect(mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.VersionId)).toEqual([
      'v2',
      'v3',
      'm1',
    ]);
  });

  it('purgeHistory names the bucket and the operation when S3 refuses it', async () => {
    const { mock, store } = mocked();
    mock.on(ListObjectVersionsCommand).rejects(s3Error('AccessDenied', 403, 'Access Denied'));
    const error = await store.purgeHistory('contacts/shards/0a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3StoreError);
    expect((error as Error).message).toBe(
      'S3 ListObjectVersions failed for s3://press/contacts/shards/0a: AccessDenied (HTTP 403): Access Denied',
    );
  });

  it('putIfAbsent sends If-None-Match: * with the body and headers', async () => {
    const { mock, store } = mocked({ prefix: 'tenant' });
    mock.on(PutObjectCommand).resolves({ ETag: '"abc"' });
    await expect(
      store.putIfAbsent('ledger/c1/r1.json', '{}', {
        contentType: 'application/json',
        cacheControl: 'no-store',
      }),
    ).resolves.toEqual({ version: '"abc"' });
    expect(mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([
      {
        Bucket: 'press',
        Key: 'tenant/ledger/c1/r1.json',
        Body: '{}',
        ContentType: 'application/json',
        CacheControl: 'no-store',
        IfNoneMatch: '*',
      },
    ]);
  });

  it('putIfAbsent maps 412 PreconditionFailed to ObjectExistsError, with the cause', async () => {
    const { mock, store } = mocked();
    const cause = preconditionFailed();
    mock.on(PutObjectCommand).rejects(cause);
    const error = await store.putIfAbsent('claim', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectExistsError);
    expect((error as Error).cause).toBe(cause);
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('putIfAbsent retries 409 ConditionalRequestConflict, then reports what S3 finally says', async () => {
    const { mock, store } = mocked();
    mock.on(PutObjectCommand).rejectsOnce(conditionalConflict()).resolvesOnce({ ETag: '"new"' });
    await expect(store.putIfAbsent('claim', 'x')).resolves.toEqual({ version: '"new"' });
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(2);

    mock.reset();
    mock
      .on(PutObjectCommand)
      .rejectsOnce(conditionalConflict())
      .rejectsOnce(conditionalConflict())
      .rejectsOnce(preconditionFailed());
    await expect(store.putIfAbsent('claim', 'x')).rejects.toBeInstanceOf(ObjectExistsError);
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(3);
  });

  it('putIfAbsent does not claim the object exists when the conflict never clears', async () => {
    const { mock, store } = mocked();
    mock.on(PutObjectCommand).rejects(conditionalConflict());
    const error = await store.putIfAbsent('claim', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3StoreError);
    expect(error).not.toBeInstanceOf(ObjectExistsError);
    expect((error as Error).message).toMatch(/still in progress after 5 attempts/);
    expect((error as Error).cause).toMatchObject({ name: 'ConditionalRequestConflict' });
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(5);
  });

  it('putIfVersion sends If-Match with the ETag as read, and the metadata as x-amz-meta-*', async () => {
    const { mock, store } = mocked();
    mock.on(PutObjectCommand).resolves({ ETag: '"v2"' });
    await expect(store.putIfVersion('doc', 'v2', '"v1"')).resolves.toEqual({ version: '"v2"' });
    expect(mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'press',
      Key: 'doc',
      Body: 'v2',
      IfMatch: '"v1"',
    });
    await store.putIfVersion('doc', 'v3', '"v2"', { metadata: { 'pressroom-draft': 'web-admin' } });
    expect(mock.commandCalls(PutObjectCommand)[1]?.args[0].input).toEqual({
      Bucket: 'press',
      Key: 'doc',
      Body: 'v3',
      Metadata: { 'pressroom-draft': 'web-admin' },
      IfMatch: '"v2"',
    });
  });

  it('putIfVersion maps 412 and NoSuchKey to VersionConflictError, with the cause', async () => {
    const { mock, store } = mocked();
    for (const cause of [preconditionFailed(), noSuchKey()]) {
      mock.reset();
      mock.on(PutObjectCommand).rejects(cause);
      const error = await store.putIfVersion('doc', 'x', '"v1"').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VersionConflictError);
      expect((error as Error).cause).toBe(cause);
    }
  });

  it('putIfVersion retries 409, and reports a conflict when it never clears', async () => {
    const { mock, store } = mocked();
    mock.on(PutObjectCommand).rejectsOnce(conditionalConflict()).resolvesOnce({ ETag: '"v2"' });
    await expect(store.putIfVersion('doc', 'x', '"v1"')).resolves.toEqual({ version: '"v2"' });
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(2);

    mock.reset();
    mock.on(PutObjectCommand).rejects(conditionalConflict());
    const error = await store.putIfVersion('doc', 'x', '"v1"').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect((error as Error).cause).toMatchObject({ name: 'ConditionalRequestConflict' });
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(5);
  });

  it('get and head map a missing key to undefined', async () => {
    const { mock, store } = mocked();
    mock.on(GetObjectCommand).rejects(noSuchKey());
    mock
      .on(HeadObjectCommand)
      .rejects(new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'NotFound' }));
    expect(await store.get('missing')).toBeUndefined();
    expect(await store.stream('missing')).toBeUndefined();
    expect(await store.head('missing')).toBeUndefined();
  });

  it('passes other errors on as S3StoreError, saying where, with the cause', async () => {
    const { mock, store } = mocked({ prefix: 'tenant/' });
    const denied = s3Error('AccessDenied', 403, 'Access Denied');
    mock.on(GetObjectCommand).rejects(denied);
    mock.on(PutObjectCommand).rejects(denied);
    for (const call of [
      () => store.get('a/b.json'),
      () => store.put('a/b.json', 'x'),
      () => store.putIfAbsent('a/b.json', 'x'),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(S3StoreError);
      expect((error as Error).message).toMatch(
        /s3:\/\/press\/tenant\/a\/b\.json: AccessDenied \(HTTP 403\): Access Denied/,
      );
      expect((error as Error).cause).toBe(denied);
    }
    // Other 409s are not conditional-write conflicts and are not retried.
    const { mock: mock2, store: store2 } = mocked();
    mock2
      .on(PutObjectCommand)
      .rejects(s3Error('OperationAborted', 409, 'A conflicting conditional operation'));
    await expect(store2.putIfVersion('doc', 'x', '"v1"')).rejects.toBeInstanceOf(S3StoreError);
    expect(mock2.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('lists with Prefix, MaxKeys and ContinuationToken, relative to the store prefix', async () => {
    const { mock, store } = mocked({ prefix: 'tenant' });
    const lastModified = new Date('2021-06-08T08:00:00Z');
    mock.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: 'tenant/archive/a.json', Size: 2, ETag: '"e"', LastModified: lastModified }],
      IsTruncated: true,
      NextContinuationToken: 'next',
    });
    const page = await store.list('archive/', { limit: 1, cursor: 'token' });
    expect(page).toEqual({
      items: [{ key: 'archive/a.json', size: 2, version: '"e"', lastModified }],
      cursor: 'next',
    });
    expect(mock.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toEqual({
      Bucket: 'press',
      Prefix: 'tenant/archive/',
      MaxKeys: 1,
      ContinuationToken: 'token',
    });
    await store.list('archive/', { limit: 5000 });
    expect(mock.commandCalls(ListObjectsV2Command)[1]?.args[0].input).toMatchObject({ MaxKeys: 1000 });
  });
});

describe('S3ObjectStore against S3 error responses over HTTP', () => {
  // s3rver ignores conditional headers, so these canned replies (S3's documented error
  // bodies) prove the SDK's real deserialiser produces the errors the mapping expects.
  const replies: Record<string, [number, string]> = {
    '412': [412, 'PreconditionFailed'],
    '409': [409, 'ConditionalRequestConflict'],
    '404': [404, 'NoSuchKey'],
  };
  let fake: Server;
  let store: S3ObjectStore;
  const seen: string[] = [];

  beforeAll(async () => {
    fake = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const key = (req.url ?? '').split('?')[0]?.split('/').pop() ?? '';
        seen.push(`${req.method} ${key}`);
        const [status, code] = replies[key] ?? [500, 'InternalError'];
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>canned</Message><RequestId>r</RequestId><HostId>h</HostId></Error>`,
        );
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const { port } = fake.address() as AddressInfo;
    store = new S3ObjectStore({
      bucket: BUCKET,
      // No SDK retries here, so the request count shows the store's own 409 retries.
      client: new S3Client({ ...s3rverClientConfig(`http://127.0.0.1:${port}`), maxAttempts: 1 }),
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => fake?.close(resolve));
  });

  it('maps 412, 404 NoSuchKey and 409 as S3 sends them', async () => {
    await expect(store.putIfAbsent('412', 'x')).rejects.toBeInstanceOf(ObjectExistsError);
    await expect(store.putIfVersion('412', 'x', '"v"')).rejects.toBeInstanceOf(VersionConflictError);
    await expect(store.putIfVersion('404', 'x', '"v"')).rejects.toBeInstanceOf(VersionConflictError);
    expect(await store.get('404')).toBeUndefined();
    seen.length = 0;
    await expect(store.putIfVersion('409', 'x', '"v"')).rejects.toBeInstanceOf(VersionConflictError);
    expect(seen).toEqual(Array(5).fill('PUT 409'));
  });
});

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 8187)', () => {
    expect(contentDisposition('rapport.pdf')).toBe(
      `attachment; filename="rapport.pdf"; filename*=UTF-8''rapport.pdf`,
    );
    expect(contentDisposition('Étude «villes» (2021) "final".pdf')).toBe(
      `attachment; filename="Etude _villes_ (2021) _final_.pdf"; ` +
        `filename*=UTF-8''%C3%89tude%20%C2%ABvilles%C2%BB%20%282021%29%20%22final%22.pdf`,
    );
  });
});
