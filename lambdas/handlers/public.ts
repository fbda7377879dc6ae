import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';

/** A Function URL response in its structured form (status, headers, body). */
export type FunctionUrlResponse = Exclude<LambdaFunctionURLResult, string>;

import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import { SesMailer } from '../adapters/ses-mailer.ts';
import { purgeSubscriptionState } from '../core/contacts/subscription.ts';
import type { SubscribableLists } from '../core/contacts/subscription-lists.ts';
import { handlePublicRequest } from '../core/public/endpoint.ts';
import type { ObjectStore } from '../core/store/object-store.ts';
import { loadConfig } from './config.ts';
import { currentStackLists, listsKey } from './lists.ts';
import { cached, dataStore, logger, signingKeys, startInvocation } from './runtime.ts';
import { publicRequestOf, requestOrigin } from './site-origin.ts';
import { templateSet } from './templates.ts';

/**
 * The public function, behind a Lambda Function URL: unsubscribe (a GET page and the
 * RFC 8058 one-click POST), subscription and its confirmation, answered by the core's
 * `handlePublicRequest` exactly as the local server answers them. Confirmation emails go out
 * through SES.
 *
 * The lists open to subscription are `config/lists.yaml` in the data bucket (the format of
 * `lists.yaml`), read again every few minutes. Absent: no list is open. Invalid: the error
 * is logged and no list is open, while unsubscribing keeps working.
 *
 * Its other event is `{ "sweep": "subscriptions" }`, sent every hour by an EventBridge rule:
 * expired confirmation requests (the unconfirmed addresses they hold), records emptied by
 * confirmations and spent rate-limit windows are removed (`purgeSubscriptionState`, which
 * writes by compare-and-swap, so a confirmation at the same moment is kept). Counts only are
 * logged and returned.
 */

/** The event of the hourly sweep (the rule's fixed input). */
export const sweepEventSchema = z.strictObject({ sweep: z.literal('subscriptions') });
export type SweepEvent = z.infer<typeof sweepEventSchema>;

/** What a sweep removed. */
export interface SweepReport {
  sweep: 'subscriptions';
  /** Request records removed (expired, or emptied by confirmations). */
  pending: number;
  /** Rate-limit windows that were over. */
  throttles: number;
}

export { listsKey, publicRequestOf, requestOrigin };

const context = cached(async () => {
  const config = loadConfig([
    'bucket',
    'secretArn',
    'siteLang',
    'sesConfigurationSet',
    'unsubscribeMailto',
    'templatesDir',
    'confirmationsPerHour',
    'originSecretArn',
  ]);
  // The press room's address cannot be given to the function when CloudFront makes it (the
  // distribution is made after the function): without PRESSROOM_PUBLIC_URL (a custom
  // domain), links use the host the request came to, the press room's through CloudFront.
  const publicUrl = process.env.PRESSROOM_PUBLIC_URL ? loadConfig(['publicUrl']).publicUrl : undefined;
  return {
    store: dataStore(config.bucket),
    keys: await signingKeys(config.secretArn),
    templates: await templateSet(config.templatesDir),
    mailer: new SesMailer({
      ...(config.sesConfigurationSet !== undefined && { configurationSet: config.sesConfigurationSet }),
    }),
    lang: config.siteLang,
    publicUrl,
    unsubscribeMailbox: config.unsubscribeMailto,
    confirmationsPerHour: config.confirmationsPerHour,
    originSecret:
      config.originSecretArn === undefined
        ? undefined
        : String(await getSecret(config.originSecretArn, { maxAge: 3600 })),
  };
});

/** `config/lists.yaml`, kept a minute (lists.ts). */
const subscribableLists = (store: ObjectStore): Promise<SubscribableLists> =>
  currentStackLists(
    store,
    (message, error) => logger.error(message, { error }),
    'no list is open to subscription',
  );

/** The bucket only: a sweep needs neither the secret nor the templates. */
const sweepStore = cached(async () => dataStore(loadConfig(['bucket']).bucket));

/** The hourly sweep of subscription state: counts, never an address. */
export async function sweepSubscriptions(clock: () => Date = () => new Date()): Promise<SweepReport> {
  const removed = await purgeSubscriptionState(await sweepStore(), clock());
  logger.info('subscription sweep', { ...removed });
  return { sweep: 'subscriptions', ...removed };
}

/** The Lambda entry point: a Function URL request, or the hourly sweep's event. */
export async function handler(
  event: LambdaFunctionURLEvent,
  lambdaContext?: Context,
): Promise<FunctionUrlResponse>;
export async function handler(event: SweepEvent, lambdaContext?: Context): Promise<SweepReport>;
export async function handler(
  event: LambdaFunctionURLEvent | SweepEvent,
  lambdaContext?: Context,
): Promise<FunctionUrlResponse | SweepReport> {
  startInvocation(lambdaContext);
  if (!('requestContext' in event)) {
    const sweep = sweepEventSchema.safeParse(event);
    if (!sweep.success)
      throw new Error('the public function takes a Function URL request or { "sweep": "subscriptions" }');
    return sweepSubscriptions();
  }
  return answer(event);
}

async function answer(event: LambdaFunctionURLEvent): Promise<FunctionUrlResponse> {
  const started = performance.now();
  const c = await context();
  const origin = requestOrigin(event, c.originSecret);
  const request = { ...publicRequestOf(event), sourceIp: origin.sourceIp };
  let status = 500;
  try {
    const response = await handlePublicRequest(request, {
      store: c.store,
      keys: c.keys,
      templates: c.templates,
      mailer: c.mailer,
      settings: {
        publicUrl: c.publicUrl ?? `https://${origin.host}`,
        lang: c.lang,
        lists: await subscribableLists(c.store),
        ...(c.unsubscribeMailbox !== undefined && { unsubscribeMailbox: c.unsubscribeMailbox }),
        confirmationsPerHour: c.confirmationsPerHour,
      },
      // Counts only: who asked is never logged.
      onCapped: (cap) => logger.warn('subscription confirmations capped for this hour', { ...cap }),
    });
    status = response.status;
    return {
      statusCode: response.status,
      headers: response.headers,
      body: response.body,
      ...(response.isBase64Encoded && { isBase64Encoded: true }),
    };
  } catch (error) {
    logger.error('public request failed', { error: error as Error });
    return {
      statusCode: 500,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
      body: 'Internal error\n',
    };
  } finally {
    // The route only: tokens in the path are not logged, nor is who asked.
    logger.info('public request', {
      method: request.method,
      route: request.path.split('/').slice(0, 2).join('/') || '/',
      via: origin.viaSite ? 'site' : 'function-url',
      status,
      ms: Math.round(performance.now() - started),
    });
  }
}
