import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { conditionalS3 } from './s3-conditional.ts';
import { versionedS3, versionsBucket } from './s3-versions.ts';

/** s3rver knows one account only: any other access key id gets InvalidAccessKeyId. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * s3rver runs in a child process because its ListObjectsV2 continuation tokens are DES
 * encrypted, which OpenSSL 3 (Node 17+) refuses unless Node starts with
 * --openssl-legacy-provider: in-process, every truncated listing is a 500 InternalError.
 * The child prints its address once listening and exits when its stdin closes, so it
 * cannot outlive the test process.
 */
const S3RVER_MAIN = `
const [modulePath, options, keys, flags] = process.argv.slice(1);
const S3rver = require(modulePath);
const { DUMMY_ACCOUNT } = require(require('path').join(require('path').dirname(modulePath), 'models/account.js'));
for (const { accessKeyId, secretAccessKey } of JSON.parse(keys)) DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
const server = new S3rver(JSON.parse(options));
if (JSON.parse(flags).deleteWithoutSweep) {
  const { unlink } = require('fs/promises');
  server.store.deleteObject = async function (bucket, key) {
    const gone = (error) => { if (error.code !== 'ENOENT') throw error; };
    await Promise.all(['object', 'object.md5', 'metadata.json'].map((r) => unlink(this.getResourcePath(bucket, key, r)).catch(gone)));
  };
}
server.run().then((address) => process.stdout.write(JSON.stringify(address) + '\\n'));
process.stdin.on('end', () => process.exit(0)).resume();
`;

export interface RunningS3rver {
  /**
   * `http://127.0.0.1:<port>`: s3rver behind the conditional-write proxy (s3-conditional.ts),
   * so If-None-Match and If-Match hold as on S3.
   */
  endpoint: string;
  /** s3rver itself, without the proxy. */
  s3rverEndpoint: string;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts s3rver on 127.0.0.1 with the given buckets, in a temporary folder. It accepts
 * S3RVER_CREDENTIALS, and `credentials` too (the harness signs each function's requests
 * with a key of its own, to tell them apart). `versioned`: the buckets keep versions, as the
 * stack's data bucket does (s3-versions.ts, between the conditional-write proxy and s3rver).
 */
export async function startS3rver(
  buckets: string[],
  options: {
    credentials?: { accessKeyId: string; secretAccessKey: string }[];
    /** Keep versions as a versioned bucket does: of every bucket, or of those named. */
    versioned?: boolean | string[];
    /**
     * DeleteObject without s3rver's sweep of empty folders, which reads the whole folder of
     * the key at each delete (synchronously): deleting n keys of one folder costs n² there,
     * and nothing on S3. For benchmarks that delete tens of thousands of keys of one prefix.
     */
    deleteWithoutSweep?: boolean;
  } = {},
): Promise<RunningS3rver> {
  const versioned = options.versioned === true ? buckets : options.versioned || [];
  const directory = await mkdtemp(path.join(tmpdir(), 'pressroom-s3rver-'));
  const serverOptions = {
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: [...buckets, ...versioned.map(versionsBucket)].map((name) => ({
      name,
    })),
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      '--no-deprecation',
      '-e',
      S3RVER_MAIN,
      createRequire(import.meta.url).resolve('s3rver'),
      JSON.stringify(serverOptions),
      JSON.stringify(options.credentials ?? []),
      JSON.stringify({ deleteWithoutSweep: options.deleteWithoutSweep === true }),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.stdin?.end();
      await exited;
    }
    await rm(directory, { recursive: true, force: true });
  };
  try {
    const [line] = (await Promise.race([
      once(createInterface({ input: child.stdout as Readable }), 'line'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`s3rver exited with code ${code} before listening`);
      }),
    ])) as [string];
    const { port } = JSON.parse(line) as AddressInfo;
    const s3rverEndpoint = `http://127.0.0.1:${port}`;
    const versions =
      versioned.length > 0 ? await versionedS3(s3rverEndpoint, versioned, S3RVER_CREDENTIALS) : undefined;
    const proxy = await conditionalS3(versions?.endpoint ?? s3rverEndpoint);
    return {
      endpoint: proxy.endpoint,
      s3rverEndpoint,
      async stop() {
        await proxy.close();
        await versions?.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** An S3 client configuration for s3rver at `endpoint`. */
export function s3rverClientConfig(endpoint: string): S3ClientConfig {
  return {
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    // Otherwise s3rver stores streamed uploads corrupted (see TOOLCHAIN.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/**
 * The same settings as environment variables, the way a Lambda function's SDK clients read
 * them: a handler under test builds its own default clients and finds s3rver through these.
 */
export function s3rverEnvironment(endpoint: string): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}
