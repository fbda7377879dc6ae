/**
 * The hourly cap on confirmation emails, whoever asks: a counter in the store taken by
 * compare-and-swap. Over the cap the form answers 503 with Retry-After and nothing is mailed
 * or written; requests that mail nothing (throttled, blocked) do not count; concurrent
 * requests never mail more than the cap.
 */
import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../../lambdas/core/campaigns/mailer.ts';
import { applyHardBounce } from '../../lambdas/core/contacts/feedback.ts';
import {
  defaultConfirmationsPerHour,
  purgeSubscriptionState,
  subscriptionKeys,
} from '../../lambdas/core/contacts/subscription.ts';
import { handlePublicRequest, type PublicEndpointDeps } from '../../lambdas/core/public/endpoint.ts';
import { getJson } from '../../lambdas/core/store/object-store.ts';
import { fixtureForEachTest, keys, subscribeForm } from '../support/subscription-fixtures.ts';

const f = fixtureForEachTest(new Date('2026-03-02T09:00:00Z'));
const capped: { limit: number; retryAfterSeconds: number }[] = [];

function deps(confirmationsPerHour?: number): PublicEndpointDeps {
  capped.length = 0;
  return {
    ...f.deps(confirmationsPerHour === undefined ? {} : { confirmationsPerHour }),
    onCapped: (cap) => capped.push(cap),
  };
}
const ask = (d: PublicEndpointDeps, email: string, extra: Parameters<typeof subscribeForm>[1] = {}) =>
  handlePublicRequest(subscribeForm({ email, list: 'lettre' }, extra), d);
const minutes = (n: number) => {
  f.now = new Date(f.now.getTime() + n * 60_000);
};
const counter = async () =>
  (await getJson<{ count: number; since: string }>(f.store, subscriptionKeys.confirmationsThrottle))?.value;

describe('a global cap on confirmation emails per hour', () => {
  it('defaults to 500 an hour', async () => {
    expect(defaultConfirmationsPerHour).toBe(500);
    await ask(deps(), 'a@example.org');
    expect((await counter())?.count).toBe(1);
  });

  it('past the cap: 503 with Retry-After until the hour ends, nothing mailed or written, for every address alike', async () => {
    const d = deps(3);
    for (const name of ['a', 'b', 'c']) expect((await ask(d, `${name}@example.org`)).status).toBe(200);
    minutes(20);
    await applyHardBounce(f.store, keys, 'bounced@example.org', f.now);
    const before = await f.snapshot();
    const refused = await ask(d, 'd@example.org');
    expect(refused.status).toBe(503);
    // The window began at 09:00; it is 09:20: 40 minutes left.
    expect(refused.headers['retry-after']).toBe(String(40 * 60));
    expect(refused.body).toContain('<html');
    // A suppressed address gets the same answer: the cap tells nothing about anyone.
    const suppressed = await ask(d, 'bounced@example.org');
    expect(suppressed.status).toBe(503);
    expect(suppressed.body).toBe(refused.body);
    expect(await f.snapshot()).toEqual(before);
    expect(f.mailer.sent.map((m) => m.to)).toEqual(['a@example.org', 'b@example.org', 'c@example.org']);
    // Counts only, never an address.
    expect(capped).toEqual([
      { limit: 3, retryAfterSeconds: 2400 },
      { limit: 3, retryAfterSeconds: 2400 },
    ]);
    expect(JSON.stringify(await counter())).not.toContain('example.org');

    const asJson = await handlePublicRequest(
      subscribeForm({ email: 'e@example.org', list: 'lettre' }, { headers: { accept: 'application/json' } }),
      d,
    );
    expect(asJson.status).toBe(503);
    expect(JSON.parse(asJson.body)).toMatchObject({ error: 'unavailable' });

    minutes(40);
    expect((await ask(d, 'd@example.org')).status).toBe(200);
    expect(f.mailer.sent).toHaveLength(4);
    expect((await counter())?.count).toBe(1);
  });

  it('counts only the emails sent: a throttled or blocked request, or a failed send, takes no slot', async () => {
    const d = deps(2);
    await applyHardBounce(f.store, keys, 'bounced@example.org', f.now);
    expect((await ask(d, 'a@example.org')).status).toBe(200);
    expect((await ask(d, 'a@example.org')).status).toBe(200); // throttled: within 10 minutes
    expect((await ask(d, 'bounced@example.org')).status).toBe(200); // blocked: no email
    expect((await counter())?.count).toBe(1);
    f.mailer.fail = new ThrottledError('Maximum sending rate exceeded');
    expect((await ask(d, 'b@example.org')).status).toBe(503);
    expect((await counter())?.count).toBe(1);
    f.mailer.fail = undefined;
    expect((await ask(d, 'b@example.org')).status).toBe(200);
    expect((await counter())?.count).toBe(2);
    expect(f.mailer.sent.map((m) => m.to)).toEqual(['a@example.org', 'b@example.org']);
  });

  it('applies past the per-source limit too: many sources cannot mail more than the cap', async () => {
    const d = deps(4);
    const replies = [];
    for (let i = 0; i < 6; i++)
      replies.push((await ask(d, `p${i}@example.org`, { sourceIp: `198.51.100.${i + 1}` })).status);
    expect(replies).toEqual([200, 200, 200, 200, 503, 503]);
    expect(f.mailer.sent).toHaveLength(4);
  });

  it('concurrent requests never mail more than the cap (compare-and-swap)', async () => {
    const d = deps(5);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ask(d, `concurrent${i}@example.org`)),
    );
    expect(replies.filter((r) => r.status === 200)).toHaveLength(5);
    expect(replies.filter((r) => r.status === 503)).toHaveLength(15);
    expect(f.mailer.sent).toHaveLength(5);
    expect((await counter())?.count).toBe(5);
    // The addresses turned away keep no 10-minute slot: they may ask again as soon as the cap allows.
    for (const [i, reply] of replies.entries()) {
      if (reply.status !== 503) continue;
      const window = await getJson<{ count: number }>(
        f.store,
        subscriptionKeys.addressThrottle(keys.idOf(`concurrent${i}@example.org`)),
      );
      expect(window?.value.count ?? 0).toBe(0);
    }
  });

  it('the hourly sweep removes the window once its hour is over', async () => {
    await ask(deps(2), 'a@example.org');
    expect((await purgeSubscriptionState(f.store, f.now)).throttles).toBe(0);
    minutes(60);
    await purgeSubscriptionState(f.store, f.now);
    expect(await counter()).toBeUndefined();
  });
});
