import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { Context } from 'aws-lambda';
import { S3ObjectStore } from '../adapters/s3-store.ts';
import { type ContactKeys, contactKeys } from '../core/contacts/model.ts';
import { redactEmailAddresses } from '../core/redact.ts';
import { ConfigurationError, configVariables } from './config.ts';

/**
 * What every function shares, built on first use and kept for the container's life: the
 * Powertools logger, the S3 store, the signing secret's keys (the templates: templates.ts).
 *
 * AWS clients are the SDK's defaults: region and credentials come from the Lambda
 * environment. Tests and local runs point them elsewhere with the SDK's own variables
 * (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`, ...), so no code path exists
 * only for tests.
 */

/** Replaces addresses in every string of a log line, and in object keys. */
function withoutAddresses(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return redactEmailAddresses(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Error)) {
    const keys = Object.keys(value);
    if (keys.some((k) => redactEmailAddresses(k) !== k)) {
      return Object.fromEntries(
        keys.map((k) => [redactEmailAddresses(k), (value as Record<string, unknown>)[k]]),
      );
    }
  }
  return value;
}

/**
 * The functions' logger: JSON lines (Powertools), in which no email address ever appears.
 * Every string of a line, messages, attributes and errors (message, stack, causes) alike,
 * passes through `redactEmailAddresses` as the line is serialised.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pressroom',
  jsonReplacerFn: withoutAddresses,
});

/**
 * What every invocation starts with: the Lambda context on each log line, and the draw that
 * makes this invocation one of the sampled few logging at DEBUG (POWERTOOLS_LOGGER_SAMPLE_RATE).
 */
export function startInvocation(lambdaContext: Context | undefined): void {
  if (lambdaContext) logger.addContext(lambdaContext);
  logger.refreshSampleRateCalculation();
}

/**
 * Caches what `make` resolves to, for the container's life. A failure is not cached: the
 * next invocation tries again (a throttled Secrets Manager, a slow start).
 */
export function cached<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    if (!value) {
      value = make();
      value.catch(() => {
        value = undefined;
      });
    }
    return value;
  };
}

const stores = new Map<string, S3ObjectStore>();

/** The object store on the data bucket, one per container. */
export function dataStore(bucket: string): S3ObjectStore {
  let store = stores.get(bucket);
  if (!store) {
    store = new S3ObjectStore({ bucket });
    stores.set(bucket, store);
  }
  return store;
}

/** Powertools keeps the secret this long (seconds); it never changes once contacts exist. */
const secretMaxAge = 3600;

/**
 * The signing secret from Secrets Manager: the secret's SecretString is the secret itself,
 * 32 characters or more, as `PRESSROOM_SECRET` is for the command line.
 */
export async function signingSecret(secretArn: string): Promise<string> {
  let value: unknown;
  try {
    value = await getSecret(secretArn, { maxAge: secretMaxAge });
  } catch (error) {
    throw new ConfigurationError(
      `the signing secret named by ${configVariables.secretArn} cannot be read (${secretArn}): ${(error as Error).message}. Check that the secret exists and that the function's role may read it.`,
      { cause: error },
    );
  }
  if (typeof value !== 'string' || value.length < 32) {
    throw new ConfigurationError(
      `the signing secret named by ${configVariables.secretArn} (${secretArn}) must be a SecretString of 32 characters or more (value not shown: it is a secret)`,
    );
  }
  return value;
}

/**
 * Contact ids and unsubscribe-token keys, derived from the signing secret exactly as the
 * command line derives them from PRESSROOM_SECRET: the same secret gives the same ids.
 */
export async function signingKeys(secretArn: string): Promise<ContactKeys> {
  return contactKeys(await signingSecret(secretArn));
}

/**
 * This function's ARN without a version or alias, for schedules that invoke it again (embargo
 * lifts, a campaign's next slice). `purpose` says what needs it, for the error.
 */
export function ownFunctionArn(invokedFunctionArn: string | undefined, purpose: string): string {
  if (invokedFunctionArn === undefined)
    throw new ConfigurationError(`${purpose} invokes this function, whose ARN the invocation lacks`);
  return invokedFunctionArn.split(':').slice(0, 7).join(':');
}
