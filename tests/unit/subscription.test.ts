/**
 * Subscriptions with double opt-in, through the public endpoint with an injected clock: the
 * rate limits (per address, per source), re-subscribing after an unsubscribe, which
 * suppressions a confirmation lifts and which it never does, and the purge of expired state,
 * including requests and windows written while a confirmation or the purge is under way.
 */
import { describe, expect, it } from 'vitest';
import { PermanentSendError } from '../../lambdas/core/campaigns/mailer.ts';
import {
  applyComplaint,
  applyHardBounce,
  applyUnsubscribe,
  unsubscribeAddress,
} from '../../lambdas/core/contacts/feedback.ts';
import { contactStoreKeys, shardOf } from '../../lambdas/core/contacts/model.ts';
import { findContact, readContactShard } from '../../lambdas/core/contacts/repository.ts';
import {
  addressInterval,
  purgeSubscriptionState,
  rateLimitedSource,
  sourceLimit,
  subscriptionKeys,
} from '../../lambdas/core/contacts/subscription.ts';
import { describeAddress, eraseAddress } from '../../lambdas/core/privacy.ts';
import { handlePublicRequest } from '../../lambdas/core/public/endpoint.ts';
import type { ObjectStore } from '../../lambdas/core/store/object-store.ts';
import {
  confirmBody,
  confirmPath,
  fixtureForEachTest,
  formHeaders,
  keys,
  req,
  subscribeForm,
} from '../support/subscription-fixtures.ts';

const f = fixtureForEachTest();

const call = (request: Parameters<typeof handlePublicRequest>[0]) => handlePublicRequest(request, f.deps());
const minutes = (n: number) => {
  f.now = new Date(f.now.getTime() + n * 60_000);
};
const camille = { email: 'camille@example.org', list: 'lettre' };

/** Subscribes and confirms; returns the confirmation link used. */
async function subscribeAndConfirm(fields: Record<string, string>): Promise<string> {
  expect((await call(subscribeForm(fields))).status).toBe(200);
  const link = await confirmPath(f.mailer.sent.at(-1) as never);
  expect((await call(req('POST', link, confirmBody))).status).toBe(200);
  return link;
}

describe('at most one confirmation email per address per 10 minutes', () => {
  it('two requests within 10 minutes: one email, the same answer; after 10 minutes: a second', async () => {
    const first = await call(subscribeForm(camille));
    minutes(9);
    const second = await call(subscribeForm({ ...camille, email: 'CAMILLE@example.org' }));
    expect(second).toEqual(first);
    expect(f.mailer.sent).toHaveLength(1);
    // Another address is not held back.
    await call(subscribeForm({ email: 'other@example.org', list: 'lettre' }));
    expect(f.mailer.sent).toHaveLength(2);
    minutes(1);
    expect(addressInterval.windowMs).toBe(10 * 60_000);
    const third = await call(subscribeForm(camille));
    expect(third).toEqual(first);
    expect(f.mailer.sent.map((m) => m.to)).toEqual([
      'camille@example.org',
      'other@example.org',
      'camille@example.org',
    ]);
  });

  it('counts requests for every list of the address together', async () => {
    await call(subscribeForm(camille));
    await call(subscribeForm({ ...camille, list: 'open-data' }));
    expect(f.mailer.sent).toHaveLength(1);
  });

  it('keeps the state under the contact id, never the address', async () => {
    await call(subscribeForm(camille));
    const id = keys.idOf(camille.email);
    const stored = Object.keys(await f.snapshot());
    expect(stored).toContain(subscriptionKeys.addressThrottle(id));
    expect(stored.join(' ')).not.toContain('camille');
  });

  it('both links work while they last; the name of the latest request is used', async () => {
    await call(subscribeForm({ ...camille, name: 'Camille' }));
    const first = await confirmPath(f.mailer.sent[0] as never);
    minutes(11);
    await call(subscribeForm({ ...camille, name: 'Camille Durand' }));
    expect(f.mailer.sent).toHaveLength(2);
    expect((await call(req('POST', first, confirmBody))).status).toBe(200);
    expect((await findContact(f.store, keys, camille.email)).contact?.firstName).toBe('Camille Durand');
  });
});

describe('at most 30 confirmation emails per source address per hour', () => {
  it('the 31st request from one source in an hour gets 429 and sends nothing; other sources go on', async () => {
    for (let i = 0; i < sourceLimit.max; i++) {
      const reply = await call(
        subscribeForm({ email: `p${i}@example.org`, list: 'lettre' }, { sourceIp: '203.0.113.7' }),
      );
      expect(reply.status).toBe(200);
    }
    const before = await f.snapshot();
    const limited = await call(
      subscribeForm({ email: 'late@example.org', list: 'lettre' }, { sourceIp: '203.0.113.7' }),
    );
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('3600');
    expect(limited.body).toContain('Trop de demandes');
    expect(await f.snapshot()).toEqual(before);
    expect(f.mailer.sent).toHaveLength(sourceLimit.max);
    // A suppressed address is refused alike: the answer does not tell who bounced.
    await applyHardBounce(f.store, keys, 'bounced@example.org', new Date());
    expect(
      (
        await call(
          subscribeForm({ email: 'bounced@example.org', list: 'lettre' }, { sourceIp: '203.0.113.7' }),
        )
      ).status,
    ).toBe(429);
    expect(
      (await call(subscribeForm({ email: 'late@example.org', list: 'lettre' }, { sourceIp: '198.51.100.2' })))
        .status,
    ).toBe(200);
    minutes(60);
    expect(
      (await call(subscribeForm({ email: 'later@example.org', list: 'lettre' }, { sourceIp: '203.0.113.7' })))
        .status,
    ).toBe(200);
    // The source is kept as a keyed hash only.
    expect(Object.keys(await f.snapshot()).join(' ')).not.toContain('203.0.113');
  });
});

describe('the per-source limit over IPv6: one /64 counts as one source', () => {
  it('reduces an address to what is counted: IPv4 as it is, IPv6 to its /64, IPv4-mapped to the IPv4', () => {
    expect(rateLimitedSource('203.0.113.7')).toBe('203.0.113.7');
    for (const ip of [
      '2001:db8:1:2::1',
      '2001:DB8:0001:0002:ffff:ffff:ffff:ffff',
      '2001:db8:1:2:3:4:1.2.3.4',
    ])
      expect(rateLimitedSource(ip)).toBe('2001:db8:1:2::/64');
    expect(rateLimitedSource('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(rateLimitedSource('2001:db8:1::5')).toBe('2001:db8:1:0::/64');
    expect(rateLimitedSource('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    for (const ip of ['::ffff:203.0.113.7', '::FFFF:cb00:7107', '0:0:0:0:0:ffff:203.0.113.7'])
      expect(rateLimitedSource(ip)).toBe('203.0.113.7');
  });

  it('two addresses of one /64 share the limit; another /64 does not', async () => {
    for (let i = 0; i < sourceLimit.max; i++) {
      // A new interface identifier for every request, as a client that owns the /64 can.
      const sourceIp = `2001:db8:1:2:${(i + 1).toString(16)}::${((i * 7919) % 0x10000).toString(16)}`;
      const reply = await call(subscribeForm({ email: `p${i}@example.org`, list: 'lettre' }, { sourceIp }));
      expect(reply.status).toBe(200);
    }
    const before = await f.snapshot();
    const limited = await call(
      subscribeForm({ email: 'late@example.org', list: 'lettre' }, { sourceIp: '2001:DB8:1:2:0:0:0:ABCD' }),
    );
    expect(limited.status).toBe(429);
    expect(await f.snapshot()).toEqual(before);
    expect(f.mailer.sent).toHaveLength(sourceLimit.max);
    // The next /64 (a neighbour) is another source.
    expect(
      (
        await call(
          subscribeForm({ email: 'late@example.org', list: 'lettre' }, { sourceIp: '2001:db8:1:3::1' }),
        )
      ).status,
    ).toBe(200);
    expect(Object.keys(await f.snapshot()).join(' ')).not.toMatch(/2001|db8/i);
  });

  it('an IPv4-mapped address (a dual-stack server) counts as the IPv4 address', async () => {
    for (let i = 0; i < sourceLimit.max; i++) {
      const sourceIp = i % 2 === 0 ? '203.0.113.7' : '::ffff:203.0.113.7';
      const reply = await call(subscribeForm({ email: `p${i}@example.org`, list: 'lettre' }, { sourceIp }));
      expect(reply.status).toBe(200);
    }
    for (const sourceIp of ['203.0.113.7', '::ffff:203.0.113.7', '::ffff:cb00:7107'])
      expect(
        (await call(subscribeForm({ email: 'late@example.org', list: 'lettre' }, { sourceIp }))).status,
      ).toBe(429);
    expect(
      (
        await call(
          subscribeForm({ email: 'late@example.org', list: 'lettre' }, { sourceIp: '::ffff:203.0.113.8' }),
        )
      ).status,
    ).toBe(200);
  });
});

describe('suppressions', () => {
  it('re-subscribing after an unsubscribe needs a new confirmation, which lifts that list only', async () => {
    const oldLink = await subscribeAndConfirm({ ...camille, lang: 'en' });
    const id = keys.idOf(camille.email);
    await unsubscribeAddress(f.store, keys, camille.email, f.now, 'open-data');
    const token = (await import('../../lambdas/core/contacts/tokens.ts')).signUnsubscribeToken(keys, {
      contact: id,
      list: 'lettre',
      campaign: 'c',
    });
    await applyUnsubscribe(f.store, keys, token, f.now);
    expect(
      Object.keys((await findContact(f.store, keys, camille.email)).suppression?.lists ?? {}).sort(),
    ).toEqual(['lettre', 'open-data']);

    // The old link, still within its 48 hours, does not bring the person back.
    minutes(30);
    const before = await f.snapshot();
    const reused = await call(req('POST', oldLink, confirmBody));
    expect(reused.status).toBe(410);
    expect(await f.snapshot()).toEqual(before);

    // A new request: an email, and until it is confirmed the unsubscribe stands.
    await call(subscribeForm(camille));
    expect(f.mailer.sent).toHaveLength(2);
    expect((await findContact(f.store, keys, camille.email)).suppression?.lists?.lettre).toBeDefined();
    const link = await confirmPath(f.mailer.sent[1] as never);
    expect((await call(req('POST', link, confirmBody))).status).toBe(200);
    const after = await findContact(f.store, keys, camille.email);
    expect(after.suppression?.lists?.lettre).toBeUndefined();
    expect(after.suppression?.lists?.['open-data']).toMatchObject({ reason: 'unsubscribed' });
    expect(after.contact?.lists.lettre?.consent?.confirmedAt).toBe(f.now.toISOString());
  });

  it('the last lifted unsubscribe removes the suppression record altogether', async () => {
    await unsubscribeAddress(f.store, keys, camille.email, f.now, 'lettre');
    await subscribeAndConfirm(camille);
    expect((await findContact(f.store, keys, camille.email)).suppression).toBeUndefined();
  });

  it('a complaint, a bounce or an unsubscribe from every list is never lifted by the form', async () => {
    await unsubscribeAddress(f.store, keys, 'all@example.org', f.now);
    await applyComplaint(f.store, keys, 'complained@example.org', f.now);
    const before = await f.snapshot();
    for (const email of ['all@example.org', 'complained@example.org'])
      expect((await call(subscribeForm({ email, list: 'lettre' }))).status).toBe(200);
    expect(f.mailer.sent).toEqual([]);
    expect(await f.snapshot()).toEqual(before);
  });

  it('a complaint between the request and the click: the confirmation is refused (403), nothing changes', async () => {
    await call(subscribeForm(camille));
    const link = await confirmPath(f.mailer.sent[0] as never);
    await applyComplaint(f.store, keys, camille.email, f.now);
    const before = await f.snapshot();
    const reply = await call(req('POST', link, confirmBody));
    expect(reply.status).toBe(403);
    expect(reply.body).toContain('Écrivez à contact@villes-internet.example.org');
    expect(await f.snapshot()).toEqual(before);
  });

  it('a confirmation never overwrites what the organisation holds about a known contact', async () => {
    await subscribeAndConfirm({ ...camille, name: 'Camille', lang: 'en' });
    minutes(11);
    await subscribeAndConfirm({ email: camille.email, list: 'open-data', name: 'Someone Else', lang: 'fr' });
    const { contact } = await findContact(f.store, keys, camille.email);
    expect(contact).toMatchObject({ firstName: 'Camille', language: 'en' });
    expect(Object.keys(contact?.lists ?? {}).sort()).toEqual(['lettre', 'open-data']);
  });

  it('an address the provider refuses gets the usual answer', async () => {
    f.mailer.fail = new PermanentSendError('invalid-address', 'Address rejected');
    const reply = await call(subscribeForm(camille));
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('Consultez votre messagerie');
  });
});

describe('erasure', () => {
  it('an erasure that lands while a confirmation is under way wins: the address is not stored again', async () => {
    await call(subscribeForm(camille));
    const link = await confirmPath(f.mailer.sent[0] as never);
    const id = keys.idOf(camille.email);
    // The erasure runs right after the confirmation has read the state, before it writes
    // (the contacts' index is read once to read, once to write).
    let reads = 0;
    let erased: Promise<unknown> | undefined;
    const store = new Proxy(f.store, {
      get(target, prop, receiver) {
        if (prop !== 'get') return Reflect.get(target, prop, receiver);
        return async (key: string) => {
          if (key === contactStoreKeys.index && ++reads === 2) {
            erased = eraseAddress(target, keys, camille.email, f.now);
            await erased;
          }
          return target.get(key);
        };
      },
    });
    const reply = await handlePublicRequest(req('POST', link, confirmBody), { ...f.deps(), store });
    expect(erased).toBeDefined();
    expect(reply.status).not.toBe(200);
    expect((await findContact(f.store, keys, camille.email)).contact).toBeUndefined();
    expect(JSON.stringify(await readContactShard(f.store, shardOf(id)))).not.toContain(id);
  });

  it('removes a pending request (it holds the address), and the form cannot bring the person back', async () => {
    await call(subscribeForm(camille));
    const link = await confirmPath(f.mailer.sent[0] as never);
    // An access request shows it first.
    expect((await describeAddress(f.store, keys, camille.email)).pendingSubscriptions).toMatchObject({
      email: camille.email,
    });
    await eraseAddress(f.store, keys, camille.email, f.now);
    expect((await describeAddress(f.store, keys, camille.email)).pendingSubscriptions).toBeUndefined();
    const left = Object.keys(await f.snapshot());
    // Only the hourly cap's counter stays: a count of mails, no address.
    expect(left.filter((k) => k.startsWith(subscriptionKeys.prefix))).toEqual([
      subscriptionKeys.confirmationsThrottle,
    ]);
    // The link finds no request any more.
    expect((await call(req('POST', link, confirmBody))).status).toBe(410);
    minutes(11);
    await call(subscribeForm(camille));
    expect(f.mailer.sent).toHaveLength(1);
  });
});

describe('purging expired state', () => {
  it('removes expired requests (with the addresses they hold) and spent windows, and keeps live ones', async () => {
    await call(subscribeForm(camille));
    minutes(24 * 60);
    await call(subscribeForm({ email: 'recent@example.org', list: 'lettre' }, { sourceIp: '192.0.2.1' }));
    minutes(24 * 60 + 1);
    const removed = await purgeSubscriptionState(f.store, f.now);
    // Both addresses' windows, the source's and the hourly cap's are over; one request is still live.
    expect(removed).toEqual({ pending: 1, throttles: 4 });
    const left = Object.keys(await f.snapshot()).sort();
    expect(left).toEqual([subscriptionKeys.pending(keys.idOf('recent@example.org'))]);
    // Nothing left to do: a second purge changes nothing.
    expect(await purgeSubscriptionState(f.store, f.now)).toEqual({ pending: 0, throttles: 0 });
  });

  it('a confirmation keeps no address: the emptied record stays for the purge, which removes it', async () => {
    await subscribeAndConfirm({ ...camille, name: 'Camille Durand' });
    const key = subscriptionKeys.pending(keys.idOf(camille.email));
    const emptied = new TextDecoder().decode((await f.store.get(key))?.body);
    expect(emptied).not.toMatch(/camille|durand|@/i);
    expect((await describeAddress(f.store, keys, camille.email)).pendingSubscriptions).toBeUndefined();
    expect(await purgeSubscriptionState(f.store, f.now)).toMatchObject({ pending: 1 });
    expect(await f.store.head(key)).toBeUndefined();
  });

  it('a request written right after a confirmation emptied the record survives, and its link works', async () => {
    await call(subscribeForm(camille));
    const first = await confirmPath(f.mailer.sent[0] as never);
    minutes(11);
    const key = subscriptionKeys.pending(keys.idOf(camille.email));
    // The request for another list lands just after the confirmation's write.
    const raced = racingStore(f.store, key, () => call(subscribeForm({ ...camille, list: 'open-data' })));
    expect(
      (await handlePublicRequest(req('POST', first, confirmBody), { ...f.deps(), store: raced.store }))
        .status,
    ).toBe(200);
    expect(raced.ran()).toBe(true);
    expect(f.mailer.sent).toHaveLength(2);
    expect(await purgeSubscriptionState(f.store, f.now)).toMatchObject({ pending: 0 });
    const second = await confirmPath(f.mailer.sent[1] as never);
    expect((await call(req('POST', second, confirmBody))).status).toBe(200);
    expect(
      Object.keys((await findContact(f.store, keys, camille.email)).contact?.lists ?? {}).sort(),
    ).toEqual(['lettre', 'open-data']);
  });

  it('a request written after the purge judged the record expired survives, and its link works', async () => {
    await call(subscribeForm(camille));
    minutes(49 * 60);
    const key = subscriptionKeys.pending(keys.idOf(camille.email));
    const raced = racingStore(f.store, key, () => call(subscribeForm(camille)));
    expect(await purgeSubscriptionState(raced.store, f.now)).toMatchObject({ pending: 0 });
    expect(raced.ran()).toBe(true);
    expect(f.mailer.sent).toHaveLength(2);
    const link = await confirmPath(f.mailer.sent[1] as never);
    expect((await call(req('POST', link, confirmBody))).status).toBe(200);
  });

  it('a window opened after the purge judged the old one over is kept: still one email per 10 minutes', async () => {
    await call(subscribeForm(camille));
    minutes(11);
    const key = subscriptionKeys.addressThrottle(keys.idOf(camille.email));
    const raced = racingStore(f.store, key, () => call(subscribeForm(camille)));
    expect(await purgeSubscriptionState(raced.store, f.now)).toMatchObject({ throttles: 0 });
    expect(raced.ran()).toBe(true);
    expect(f.mailer.sent).toHaveLength(2);
    minutes(1);
    await call(subscribeForm(camille));
    expect(f.mailer.sent).toHaveLength(2);
  });

  it('the confirm link of a purged request is expired', async () => {
    await call(subscribeForm(camille));
    const link = await confirmPath(f.mailer.sent[0] as never);
    await purgeSubscriptionState(f.store, new Date(f.now.getTime() + 49 * 3600_000));
    expect((await call(req('GET', link))).status).toBe(410);
    expect((await call(req('POST', link, { body: 'confirm=yes', headers: formHeaders }))).status).toBe(410);
  });
});

/**
 * The store with a write slipped in on `key` once it has been read: right after the first
 * compare-and-swap on it (a confirmation or the purge emptying it), or right before the
 * first head or delete of it (the purge about to remove it). `write` uses the plain store.
 */
function racingStore(store: ObjectStore, key: string, write: () => Promise<unknown>) {
  let ran = false;
  const race = async () => {
    if (ran) return;
    ran = true;
    await write();
  };
  const raced = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      const method = value.bind(target) as (k: string, ...rest: unknown[]) => Promise<unknown>;
      if (prop === 'putIfVersion')
        return async (k: string, ...rest: unknown[]) => {
          const result = await method(k, ...rest);
          if (k === key) await race();
          return result;
        };
      if (prop === 'head' || prop === 'delete')
        return async (k: string, ...rest: unknown[]) => {
          if (k === key) await race();
          return method(k, ...rest);
        };
      return method;
    },
  });
  return { store: raced, ran: () => ran };
}
