/** The public function behind its Function URL: recorded GET and POST events, on s3rver. */
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactKeys, isSuppressed, shardOf } from '../../lambdas/core/contacts/model.ts';
import { readSuppressionShard } from '../../lambdas/core/contacts/repository.ts';
import { signUnsubscribeToken } from '../../lambdas/core/contacts/tokens.ts';
import { siteRequestHeaders } from '../../lambdas/core/public/site-headers.ts';
import { getJson } from '../../lambdas/core/store/object-store.ts';
import { handler, publicRequestOf, requestOrigin } from '../../lambdas/handlers/public.ts';
import { importJournalists, journalist } from '../support/dispatch-fixtures.ts';
import { fromNow, pendingRequest } from '../support/subscription-fixtures.ts';
import { type HandlerWorld, recordedEvent, SECRET, snapshot, startHandlerWorld } from './harness.ts';

const keys = contactKeys(SECRET);
let world: HandlerWorld;

beforeAll(async () => {
  world = await startHandlerWorld({ PRESSROOM_SITE_LANG: 'fr' });
  await importJournalists(world.store, keys, 2);
}, 30_000);

afterAll(async () => {
  await world?.stop();
});

function event(name: string, token: string): LambdaFunctionURLEvent {
  const e = recordedEvent<LambdaFunctionURLEvent>(name);
  e.rawPath = `/unsubscribe/${token}`;
  e.requestContext.http.path = e.rawPath;
  return e;
}

const suppressionOf = async (email: string) => {
  const id = keys.idOf(email);
  return (await readSuppressionShard(world.store, shardOf(id))).suppressions[id];
};

describe('public handler (Function URL)', () => {
  const id = () => keys.idOf(journalist(0));
  const token = () => signUnsubscribeToken(keys, { contact: id(), list: 'presse', campaign: 'etude' });

  it('maps the Function URL event to the endpoint request', () => {
    const request = publicRequestOf(event('function-url-post.json', 'x'));
    expect(request).toMatchObject({
      method: 'POST',
      path: '/unsubscribe/x',
      isBase64Encoded: true,
      sourceIp: '198.51.100.23',
    });
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it("believes CloudFront's host and visitor address only beside the origin secret, and hides them from the endpoint", () => {
    const secret = 'origin-secret-0123456789abcdefghijklmnopqrstuv';
    const viaSite = (origin: string | undefined) => {
      const e = event('function-url-post.json', 'x');
      e.headers = {
        ...e.headers,
        [siteRequestHeaders.host]: 'Presse.Villes-Internet.net',
        [siteRequestHeaders.viewer]: '2001:db8::7',
        ...(origin !== undefined && { [siteRequestHeaders.origin]: origin }),
      };
      return e;
    };
    const direct = {
      host: viaSite(secret).requestContext.domainName,
      sourceIp: '198.51.100.23',
      viaSite: false,
    };
    expect(requestOrigin(viaSite(secret), secret)).toEqual({
      host: 'presse.villes-internet.net',
      sourceIp: '2001:db8::7',
      viaSite: true,
    });
    expect(requestOrigin(viaSite('a guess'), secret)).toEqual(direct);
    expect(requestOrigin(viaSite(`${secret}x`), secret)).toEqual(direct);
    expect(requestOrigin(viaSite(undefined), secret)).toEqual(direct);
    // No secret configured (a stack before the press room's domain): nothing is believed.
    expect(requestOrigin(viaSite(secret), undefined)).toEqual(direct);
    const headers = publicRequestOf(viaSite(secret)).headers;
    for (const name of Object.values(siteRequestHeaders)) expect(headers[name]).toBeUndefined();
  });

  it('GET shows the unsubscribe page and changes nothing', async () => {
    const before = await snapshot(world.store, 'suppressions/');
    const response = await handler(event('function-url-get.json', token()));
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toMatch(/text\/html/);
    expect(response.body).toContain('List-Unsubscribe');
    expect(await snapshot(world.store, 'suppressions/')).toEqual(before);
    expect(await suppressionOf(journalist(0))).toBeUndefined();
  });

  it('the RFC 8058 one-click POST unsubscribes from the list', async () => {
    const response = await handler(event('function-url-post.json', token()));
    expect(response.statusCode).toBeLessThan(300);
    const s = await suppressionOf(journalist(0));
    expect(isSuppressed(s, 'presse')).toBe(true);
    expect(isSuppressed(await suppressionOf(journalist(1)), 'presse')).toBe(false);
  });

  it('a forged token gets a 400 page and changes nothing', async () => {
    const before = await snapshot(world.store, 'suppressions/');
    const response = await handler(event('function-url-post.json', `${token().slice(0, -2)}xx`));
    expect(response.statusCode).toBe(400);
    expect(await snapshot(world.store, 'suppressions/')).toEqual(before);
  });
});

describe('public handler (the hourly sweep)', () => {
  it('{ sweep: "subscriptions" } removes expired requests and their addresses, keeps live ones, returns counts', async () => {
    const hour = 3600_000;
    await world.store.put(
      'subscriptions/pending/aaaa.json',
      JSON.stringify({
        id: 'aaaa',
        email: 'ancienne@exemple.org',
        requests: { lettre: pendingRequest(-hour) },
      }),
    );
    await world.store.put(
      'subscriptions/pending/bbbb.json',
      JSON.stringify({
        id: 'bbbb',
        email: 'vivante@exemple.org',
        requests: { lettre: pendingRequest(hour), 'open-data': pendingRequest(-hour) },
      }),
    );
    await world.store.put(
      'subscriptions/throttle/address/aaaa.json',
      JSON.stringify({ since: fromNow(-hour), count: 1, windowMs: 600_000 }),
    );
    const report = await handler({ sweep: 'subscriptions' });
    expect(report).toEqual({ sweep: 'subscriptions', pending: 1, throttles: 1 });
    expect(Object.keys(await snapshot(world.store, 'subscriptions/'))).toEqual([
      'subscriptions/pending/bbbb.json',
    ]);
    const live = (
      await getJson<{ email?: string; requests: object }>(world.store, 'subscriptions/pending/bbbb.json')
    )?.value;
    expect(Object.keys(live?.requests ?? {})).toEqual(['lettre']);
    expect(live?.email).toBe('vivante@exemple.org');
    expect(await handler({ sweep: 'subscriptions' })).toEqual({
      sweep: 'subscriptions',
      pending: 0,
      throttles: 0,
    });
  });

  it('any other event is refused, and changes nothing', async () => {
    const before = await snapshot(world.store, 'subscriptions/');
    await expect(handler({ sweep: 'everything' } as never)).rejects.toThrow(/sweep/);
    expect(await snapshot(world.store, 'subscriptions/')).toEqual(before);
  });
});
