import { mkdtempSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { S3Event, SNSEvent } from 'aws-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, vi } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/s3-store.ts';
import { listAll, type ObjectInfo } from '../../lambdas/core/store/object-store.ts';
import { type RunningS3rver, s3rverClientConfig, s3rverEnvironment, startS3rver } from '../support/s3rver.ts';

/**
 * The handlers' world in a test: s3rver on 127.0.0.1 holds the data bucket, and the
 * functions find it through the SDK's own variables (AWS_ENDPOINT_URL_S3...), as they would
 * any endpoint. Secrets Manager has no emulator: it is mocked at the client level.
 */

export const BUCKET = 'pressroom-data-test';
export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:pressroom-signing-AbCdEf';
export const SECRET = 'a-signing-secret-of-at-least-32-characters-for-tests';

export interface HandlerWorld {
  /** The data bucket, read and written by the test as the functions do. */
  store: S3ObjectStore;
  secrets: AwsClientStub<SecretsManagerClient>;
  stop(): Promise<void>;
}

/** Starts s3rver, points the functions' environment at it and mocks Secrets Manager. */
export async function startHandlerWorld(env: Record<string, string> = {}): Promise<HandlerWorld> {
  // Versioned, as the stack's data bucket is.
  const s3rver: RunningS3rver = await startS3rver([BUCKET], { versioned: true });
  for (const [name, value] of Object.entries({
    ...s3rverEnvironment(s3rver.endpoint),
    PRESSROOM_BUCKET: BUCKET,
    PRESSROOM_SECRET_ARN: SECRET_ARN,
    POWERTOOLS_SERVICE_NAME: 'pressroom-test',
    ...env,
  })) {
    vi.stubEnv(name, value);
  }
  const secrets = mockClient(SecretsManagerClient);
  secrets
    .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
    .resolves({ ARN: SECRET_ARN, SecretString: SECRET });
  return {
    store: new S3ObjectStore({ bucket: BUCKET, client: new S3Client(s3rverClientConfig(s3rver.endpoint)) }),
    secrets,
    async stop() {
      secrets.restore();
      vi.unstubAllEnvs();
      await s3rver.stop();
    },
  };
}

/** A recorded event of `tests/handlers/events/`, parsed afresh (tests may change it). */
export function recordedEvent<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(new URL(`events/${name}`, import.meta.url), 'utf8')) as T;
}

/** S3 encodes keys in notifications as a form would: `%XX`, and `+` for a space. */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** The recorded ObjectCreated notification, about `key` in the test bucket. */
export function objectCreated(key: string, eTag: string, size = 1): S3Event {
  const event = recordedEvent<S3Event>('s3-object-created.json');
  const record = event.Records[0];
  if (!record) throw new Error('the recorded S3 event has no record');
  record.s3.bucket.name = BUCKET;
  record.s3.bucket.arn = `arn:aws:s3:::${BUCKET}`;
  record.s3.object = { ...record.s3.object, key: encodeS3Key(key), eTag: eTag.replace(/"/g, ''), size };
  return event;
}

/** A recorded SNS event whose SES message is changed by `change`. */
export function snsWith(name: string, change: (message: Record<string, unknown>) => void): SNSEvent {
  const event = recordedEvent<SNSEvent>(name);
  for (const record of event.Records) {
    const message = JSON.parse(record.Sns.Message) as Record<string, unknown>;
    change(message);
    record.Sns.Message = JSON.stringify(message);
  }
  return event;
}

/** Every key under `prefix` with its version: what "unchanged" is compared on. */
export async function snapshot(store: S3ObjectStore, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const item of listAll(store, prefix)) out[(item as ObjectInfo).key] = item.version;
  return out;
}

/**
 * The versions stored under `prefix` (`archive/<slug>/` or `newsletters/<id>/`): the names of
 * the folders below it, and of any file there but its manifest (`release.json`, `issue.json`).
 */
export async function versionsOf(
  store: S3ObjectStore,
  prefix: string,
  manifest: string,
): Promise<Set<string>> {
  const keys = Object.keys(await snapshot(store, prefix));
  return new Set(
    keys.map((key) => key.slice(prefix.length).split('/')[0] as string).filter((n) => n !== manifest),
  );
}

/** Everything the functions print (Powertools writes JSON lines to stdout), while `run` runs. */
export async function captureLogs(run: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    await run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines.join('');
}

/** The repository's examples folder. */
export const examples = path.resolve(import.meta.dirname, '../../examples');

/**
 * A workspace under publications/, from the examples: organisations in
 * publications/organizations/ (where the loader looks: beside a publication, then one level
 * up), attachments in publications/attachments/ and press kit images in publications/images/.
 */
export async function uploadExampleWorkspace(store: S3ObjectStore): Promise<void> {
  for (const [from, to] of [
    ['organizations', 'publications/organizations'],
    ['publications/attachments', 'publications/attachments'],
    ['publications/images', 'publications/images'],
  ] as const) {
    for (const name of await readdir(path.join(examples, from)))
      await store.put(`${to}/${name}`, await readFile(path.join(examples, from, name)));
  }
}

/** The press room's address in the publish function's environment. */
export const SITE_URL = 'https://presse.example.org/';

export interface PublishWorld extends HandlerWorld {
  /** Uploads a file as a user would, and returns the notification S3 would send about it. */
  upload(key: string, body: string | Uint8Array): Promise<S3Event>;
}

/**
 * The publish function's world for all the tests of the calling file: started before them (a
 * `beforeAll` registered by this call, so before the file's own), stopped after them.
 */
export function publishWorldForFile(): PublishWorld {
  const world = {} as PublishWorld;
  beforeAll(async () => {
    Object.assign(world, await startPublishWorld());
  });
  afterAll(async () => {
    await world.stop?.();
  });
  return world;
}

/**
 * The publish function's world: the press room's settings, and the examples' workspace
 * uploaded. Its temporary folder (`TMPDIR`) is its own, as a Lambda execution environment's
 * /tmp is: the function prints PDFs with the Chromium of @sparticuz/chromium, extracted there.
 */
export async function startPublishWorld(): Promise<PublishWorld> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pressroom-publish-tmp-'));
  const world = await startHandlerWorld({
    PRESSROOM_SITE_URL: SITE_URL,
    PRESSROOM_SITE_LANG: 'fr',
    PRESSROOM_SITE_TITLE: 'Salle de presse des villes',
    TMPDIR: tmp,
  });
  const stop = async () => {
    await world.stop();
    await rm(tmp, { recursive: true, force: true });
  };
  try {
    await uploadExampleWorkspace(world.store);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    ...world,
    stop,
    async upload(key, body) {
      const { version } = await world.store.put(key, body);
      const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      return objectCreated(key, version, size);
    },
  };
}
