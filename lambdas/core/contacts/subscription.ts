import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { type AlertFrequency, checkTopics, type DigestFrequency } from '../alerts/topics.ts';
import { type Mailer, PermanentSendError } from '../campaigns/mailer.ts';
import { PressroomError } from '../errors.ts';
import { limits } from '../limits.ts';
import { languageNamed } from '../publication/languages.ts';
import type { Language } from '../publication/schema.ts';
import type { TemplateSet } from '../render/templates.ts';
import {
  getJson,
  listAll,
  type ObjectStore,
  serializeJson,
  updateJson,
  VersionConflictError,
} from '../store/object-store.ts';
import { type Contact, type ContactKeys, normalizeEmail, type Suppression, shardOf } from './model.ts';
import {
  readContactShard,
  readSuppressionShard,
  updateContactShard,
  updateSuppression,
} from './repository.ts';
import { composeConfirmationEmail } from './subscription-email.ts';
import { defaultConfirmationsPerHour } from './subscription-limits.ts';
import { type SubscribableList, type SubscribableLists, subscribableList } from './subscription-lists.ts';
import {
  ExpiredTokenError,
  InvalidTokenError,
  signSubscriptionToken,
  verifySubscriptionToken,
} from './tokens.ts';

/**
 * Self-service subscription with double opt-in. A request for an open list stores a pending
 * request (keyed by the contact id) and mails a signed link that works for 48 hours; only
 * following it and pressing "confirm" adds the person to the list, records their consent and
 * lifts their own earlier unsubscribe from that list. The answer to a request never depends
 * on who is subscribed, blocked or rate-limited, so the endpoint reveals nothing about anyone.
 */

/** How long a confirmation link works. */
export const confirmationTtlHours = 48;
/** At most one confirmation email per address in this time. */
export const addressInterval = { max: 1, windowMs: 10 * 60_000 };
/** At most this many confirmation emails per source (an IPv4 address, an IPv6 /64) per hour. */
export const sourceLimit = { max: 30, windowMs: 60 * 60_000 };
export { defaultConfirmationsPerHour };

const hourMs = 60 * 60_000;
/** Longest name accepted from the form: the same as from an import. */
export const maxNameLength = limits.contactName;

export const subscriptionKeys = {
  prefix: 'subscriptions/',
  pendingPrefix: 'subscriptions/pending/',
  pending: (contactId: string) => `subscriptions/pending/${contactId}.json`,
  throttlePrefix: 'subscriptions/throttle/',
  addressThrottle: (contactId: string) => `subscriptions/throttle/address/${contactId}.json`,
  sourceThrottle: (sourceHash: string) => `subscriptions/throttle/source/${sourceHash}.json`,
  /** The window of the hourly cap on confirmation emails, shared by every request. */
  confirmationsThrottle: 'subscriptions/throttle/confirmations.json',
};

/** A request waiting for its confirmation, per list. The only place an unconfirmed address is kept. */
interface PendingRequest {
  lang: Language;
  firstName?: string;
  lastName?: string;
  /** An alert list's topics, as asked: they take effect only once confirmed. */
  topics?: string[];
  /** A digest asked for instead of immediate alerts. */
  frequency?: DigestFrequency;
  requestedAt: string;
  expiresAt: string;
}

/**
 * The requests of one address. Once none is left the record is written back without the
 * address (`email` absent) rather than deleted, and the purge removes it later: see
 * `deleteIfUnchanged` for why.
 */
export interface PendingSubscriptions {
  id: string;
  email?: string;
  requests: Record<string, PendingRequest>;
}

/** A fixed window: how many since when. */
interface ThrottleWindow {
  since: string;
  count: number;
  windowMs: number;
}

/** The mail provider could not take the confirmation now (throttled, paused, down): try later. */
export class SubscriptionUnavailableError extends PressroomError {
  override name = 'SubscriptionUnavailableError';
}

export interface SubscriptionDeps {
  store: ObjectStore;
  keys: ContactKeys;
  mailer: Mailer;
  templates: TemplateSet;
  lists: SubscribableLists;
  /** Base of confirmation and unsubscribe links, e.g. https://press.example.org */
  publicUrl: string;
  unsubscribeMailbox?: string;
  /** The hourly cap on confirmation emails; default `defaultConfirmationsPerHour`. */
  confirmationsPerHour?: number;
  clock?: () => Date;
}

export interface SubscriptionRequest {
  /** As typed. */
  email: string;
  list: string;
  lang: Language;
  firstName?: string;
  lastName?: string;
  /** An alert list's topics (tag slugs): at least one, each offered by the list; none for another list. */
  topics?: string[];
  /** An alert list's frequency, one it offers; default the first it offers. */
  frequency?: string;
  /** The requester's IP address, for the per-source limit; never stored in clear. */
  sourceIp?: string;
}

/**
 * What became of a request. `accepted` is all the requester ever learns; `detail` is for
 * tests and counts: `sent`, `throttled` (a confirmation went out less than 10 minutes ago),
 * `blocked` (suppressed from every list: bounce, complaint, block, erasure or a global
 * unsubscribe; no email), `refused` (the provider refused the address).
 */
export type RequestOutcome =
  | { outcome: 'invalid-email' }
  | { outcome: 'invalid-field'; field: string; max: number }
  | { outcome: 'unknown-list' }
  /** A topic the list does not offer (`value`), or topics for a list that offers none. */
  | { outcome: 'unknown-topic'; list: SubscribableList; value: string }
  /** A frequency the list does not offer (`value`), or one for a list without topics. */
  | { outcome: 'unknown-frequency'; list: SubscribableList; value: string }
  /** An alert list, and no topic picked. */
  | { outcome: 'no-topic'; list: SubscribableList }
  | { outcome: 'source-limited'; list: SubscribableList }
  /** The hourly cap on confirmation emails is reached: nothing was mailed; ask again later. */
  | { outcome: 'capped'; list: SubscribableList; limit: number; retryAfterSeconds: number }
  | {
      outcome: 'accepted';
      list: SubscribableList;
      detail: 'sent' | 'throttled' | 'blocked' | 'refused';
      messageId?: string;
    };

/** The problems a request can have, found before anything is read or written. */
export function checkSubscriptionRequest(
  request: Pick<SubscriptionRequest, 'email' | 'list' | 'firstName' | 'lastName' | 'topics' | 'frequency'>,
  lists: SubscribableLists,
):
  | { ok: true; email: string; list: SubscribableList; topics?: string[]; frequency?: AlertFrequency }
  | Extract<
      RequestOutcome,
      {
        outcome:
          | 'invalid-email'
          | 'invalid-field'
          | 'unknown-list'
          | 'unknown-topic'
          | 'unknown-frequency'
          | 'no-topic';
      }
    > {
  const email = normalizeEmail(request.email);
  if (!email || email.length > 254) return { outcome: 'invalid-email' };
  for (const field of ['firstName', 'lastName'] as const) {
    const value = request[field];
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (value !== undefined && (value.length > maxNameLength || /[\u0000-\u001f\u007f]/.test(value)))
      return { outcome: 'invalid-field', field, max: maxNameLength };
  }
  const list = subscribableList(lists, request.list);
  if (!list) return { outcome: 'unknown-list' };
  const asked = request.topics ?? [];
  if (!list.topics) {
    const [first] = asked;
    if (request.frequency !== undefined)
      return { outcome: 'unknown-frequency', list, value: request.frequency };
    return first === undefined ? { ok: true, email, list } : { outcome: 'unknown-topic', list, value: first };
  }
  const offered = list.frequencies ?? ['immediate'];
  const frequency = (request.frequency ?? offered[0]) as AlertFrequency;
  if (!offered.includes(frequency)) return { outcome: 'unknown-frequency', list, value: frequency };
  const topics = checkTopics(list.topics, asked);
  if (!topics.ok)
    return topics.problem === 'none'
      ? { outcome: 'no-topic', list }
      : { outcome: 'unknown-topic', list, value: topics.value };
  return { ok: true, email, list, topics: topics.topics, frequency };
}

/** Checks a request, and mails a confirmation link when it may. */
export async function requestSubscription(
  request: SubscriptionRequest,
  deps: SubscriptionDeps,
): Promise<RequestOutcome> {
  const now = (deps.clock ?? (() => new Date()))();
  const checked = checkSubscriptionRequest(request, deps.lists);
  if (!('ok' in checked)) return checked;
  const { email, list, topics, frequency } = checked;
  const id = deps.keys.idOf(email);
  // The source's slot is taken first, whoever the address: otherwise a source that used up
  // its slots could tell suppressed addresses (answered) from others (refused).
  if (request.sourceIp) {
    const source = sourceHash(deps.keys, request.sourceIp);
    if (!(await takeSlot(deps.store, subscriptionKeys.sourceThrottle(source), sourceLimit, now)))
      return { outcome: 'source-limited', list };
  }
  // The cap is looked at before anyone's suppression, so that while it holds every address
  // gets the same answer; its slot is taken only when a mail is about to go.
  const cap = { max: deps.confirmationsPerHour ?? defaultConfirmationsPerHour, windowMs: hourMs };
  const full = await windowFull(deps.store, subscriptionKeys.confirmationsThrottle, cap, now);
  if (full) return { outcome: 'capped', list, limit: cap.max, retryAfterSeconds: full.retryAfterSeconds };
  const suppression = (await readSuppressionShard(deps.store, shardOf(id))).suppressions[id];
  // A bounce, a complaint, a block or an erasure is not lifted by a form anyone can fill,
  // and such an address is not mailed again.
  if (suppression?.all) return { outcome: 'accepted', list, detail: 'blocked' };
  const addressKey = subscriptionKeys.addressThrottle(id);
  if (!(await takeSlot(deps.store, addressKey, addressInterval, now)))
    return { outcome: 'accepted', list, detail: 'throttled' };
  if (!(await takeSlot(deps.store, subscriptionKeys.confirmationsThrottle, cap, now))) {
    // Filled by other requests since it was looked at: this address may ask again later.
    await giveSlotBack(deps.store, addressKey);
    const left = await windowFull(deps.store, subscriptionKeys.confirmationsThrottle, cap, now);
    return { outcome: 'capped', list, limit: cap.max, retryAfterSeconds: left?.retryAfterSeconds ?? 60 };
  }

  const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + confirmationTtlHours * 3600_000);
  const pending: PendingRequest = {
    lang: request.lang,
    ...(request.firstName && { firstName: request.firstName }),
    ...(request.lastName && { lastName: request.lastName }),
    ...(topics && { topics }),
    ...(frequency && frequency !== 'immediate' && { frequency }),
    requestedAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
  };
  await updateJson<PendingSubscriptions>(
    deps.store,
    subscriptionKeys.pending(id),
    () => ({ id, email, requests: {} }),
    (current) => ({ id, email, requests: { ...current.requests, [list.name]: pending } }),
  );
  const token = signSubscriptionToken(deps.keys, { contact: id, list: list.name, expiresAt });
  const message = await composeConfirmationEmail(
    {
      list,
      lang: request.lang,
      contactId: id,
      email,
      confirmUrl: `${deps.publicUrl.replace(/\/$/, '')}/subscribe/confirm/${token}`,
      hours: confirmationTtlHours,
      publicUrl: deps.publicUrl,
      ...(deps.unsubscribeMailbox && { unsubscribeMailbox: deps.unsubscribeMailbox }),
      now,
    },
    deps,
  );
  try {
    await deps.mailer.send(message);
  } catch (error) {
    // A refused address is answered like any other: the page must not tell.
    if (error instanceof PermanentSendError) return { outcome: 'accepted', list, detail: 'refused' };
    // Nothing went out: the address may ask again at once, and the mail is not counted.
    await giveSlotBack(deps.store, addressKey);
    await giveSlotBack(deps.store, subscriptionKeys.confirmationsThrottle);
    throw new SubscriptionUnavailableError(
      `the confirmation email could not be sent: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { outcome: 'accepted', list, detail: 'sent', messageId: message.messageId };
}

/** What following a confirmation link finds, or (with `apply`) does. */
export type ConfirmOutcome =
  | { outcome: 'invalid' }
  | { outcome: 'unknown-list'; name: string; lang?: Language }
  | { outcome: 'expired'; list: SubscribableList; lang: Language }
  | { outcome: 'blocked'; list: SubscribableList; lang: Language }
  | { outcome: 'already'; list: SubscribableList; lang: Language }
  | {
      outcome: 'ask';
      list: SubscribableList;
      lang: Language;
      name?: string;
      topics?: string[];
      frequency?: AlertFrequency;
    }
  | { outcome: 'confirmed'; list: SubscribableList; lang: Language };

/**
 * Reads a confirmation link (`apply: false`, the page with the button) or confirms it
 * (`apply: true`, the button's POST): the contact joins the list with its consent recorded,
 * its own unsubscribe from that list is lifted, and the pending request is removed, so a
 * link works once. Invalid, expired and used links change nothing.
 */
export async function confirmSubscription(
  token: string,
  deps: Pick<SubscriptionDeps, 'store' | 'keys' | 'lists' | 'clock'>,
  options: { apply: boolean },
): Promise<ConfirmOutcome> {
  const now = (deps.clock ?? (() => new Date()))();
  let payload: { contact: string; list: string };
  let expired = false;
  try {
    payload = verifySubscriptionToken(deps.keys, token, now);
  } catch (error) {
    if (!(error instanceof ExpiredTokenError)) {
      if (error instanceof InvalidTokenError) return { outcome: 'invalid' };
      throw error;
    }
    expired = true;
    // Signed by us, so its content can be read for the page's language and list title.
    payload = readExpiredToken(token);
  }
  const requestId = payload.contact;
  const pending = await getJson<PendingSubscriptions>(deps.store, subscriptionKeys.pending(requestId));
  // A record holds the address as long as it holds a request (an emptied one holds neither).
  const email = pending?.value.email;
  // A request made before canonical addresses carries the id its address had then: the
  // contact is kept under the canonical one.
  const id = email === undefined ? requestId : deps.keys.idOf(email);
  const [contacts, suppressions] = await Promise.all([
    readContactShard(deps.store, shardOf(id)),
    readSuppressionShard(deps.store, shardOf(id)),
  ]);
  const contact = contacts.contacts[id];
  const request = email === undefined ? undefined : pending?.value.requests[payload.list];
  const list = subscribableList(deps.lists, payload.list);
  const lang = request?.lang ?? languageNamed(contact?.language) ?? list?.lang;
  if (!list) return { outcome: 'unknown-list', name: payload.list, ...(lang && { lang }) };
  const pageLang = lang ?? list.lang;
  if (expired) return { outcome: 'expired', list, lang: pageLang };
  const suppression = suppressions.suppressions[id];
  const listSuppression = suppression?.lists?.[list.name];
  if (!request || email === undefined) {
    // Used already (or purged): a subscribed person sees so; anyone else needs a new link.
    const subscribed = contact?.lists[list.name] !== undefined && !suppression?.all && !listSuppression;
    return { outcome: subscribed ? 'already' : 'expired', list, lang: pageLang };
  }
  if (suppression?.all || (listSuppression && listSuppression.reason !== 'unsubscribed'))
    return { outcome: 'blocked', list, lang: pageLang };
  if (!options.apply) {
    const name = [request.firstName, request.lastName].filter(Boolean).join(' ');
    return {
      outcome: 'ask',
      list,
      lang: pageLang,
      ...(name && { name }),
      ...(request.topics && { topics: request.topics, frequency: request.frequency ?? 'immediate' }),
    };
  }

  // Contact first, suppression next, pending request last: a click that fails half-way can
  // be repeated and finishes the job.
  const at = now.toISOString();
  await updateContactShard(deps.store, shardOf(id), (shard) => {
    const before = shard.contacts[id];
    const after: Contact = before
      ? { ...before, lists: { ...before.lists } }
      : { id, email, tags: [], lists: {}, createdAt: at, updatedAt: at };
    // What the person typed fills gaps; it never overwrites what the organisation holds.
    if (!after.firstName && request.firstName) after.firstName = request.firstName;
    if (!after.lastName && request.lastName) after.lastName = request.lastName;
    after.language ??= request.lang;
    const membership = before?.lists[list.name];
    after.lists[list.name] = {
      addedAt: membership?.addedAt ?? at,
      source: membership?.source ?? 'form',
      consent: { method: 'double-opt-in', requestedAt: request.requestedAt, confirmedAt: at },
      // The topics confirmed now replace any earlier choice: the link confirms what was asked.
      ...(request.topics && {
        alerts: {
          topics: request.topics,
          ...(request.frequency && { frequency: request.frequency }),
          confirmedAt: at,
        },
      }),
    };
    after.updatedAt = at;
    return { contacts: { ...shard.contacts, [id]: after } };
  });
  // An erasure (or a bounce) may have landed since the suppression was read: it wins, and
  // the contact written back a moment ago goes again.
  if ((await readSuppressionShard(deps.store, shardOf(id))).suppressions[id]?.all) {
    await updateContactShard(deps.store, shardOf(id), (shard) => {
      if (!shard.contacts[id]) return shard;
      const { [id]: _gone, ...contacts } = shard.contacts;
      return { contacts };
    });
    return { outcome: 'blocked', list, lang: pageLang };
  }
  await updateSuppression(deps.store, id, (current) => liftUnsubscribe(current, list.name));
  await removePendingRequest(deps.store, requestId, list.name);
  return { outcome: 'confirmed', list, lang: pageLang };
}

/** The person's own unsubscribe from `list` is lifted; every other suppression stays. */
function liftUnsubscribe(current: Suppression | undefined, list: string): Suppression | undefined {
  if (current?.lists?.[list]?.reason !== 'unsubscribed') return current;
  const { [list]: _lifted, ...lists } = current.lists;
  const { lists: _old, ...rest } = current;
  const next: Suppression = Object.keys(lists).length > 0 ? { ...rest, lists } : rest;
  // Nothing left to remember: no record at all, as for an address never suppressed.
  return next.all || next.lists || next.softBounces || next.events?.length ? next : undefined;
}

async function removePendingRequest(store: ObjectStore, id: string, list: string): Promise<void> {
  // Not deleted, even when it was the last request: a request for another list (or for the
  // same one after 10 minutes) written between this write and a delete would be deleted with
  // it, and its link, already mailed, would answer 410. The purge removes the empty record.
  await updateIfPresent<PendingSubscriptions>(store, subscriptionKeys.pending(id), (current) => {
    if (!current.requests[list]) return current;
    const { [list]: _done, ...requests } = current.requests;
    return withRequests(current, requests);
  });
}

/** The record with these requests; without the address when none is left. */
function withRequests(
  current: PendingSubscriptions,
  requests: Record<string, PendingRequest>,
): PendingSubscriptions {
  return Object.keys(requests).length > 0 ? { ...current, requests } : { id: current.id, requests };
}

/** The requests of an address still waiting for their confirmation, or undefined when there is none. */
export async function readPendingSubscriptions(
  store: ObjectStore,
  contactId: string,
): Promise<PendingSubscriptions | undefined> {
  const pending = (await getJson<PendingSubscriptions>(store, subscriptionKeys.pending(contactId)))?.value;
  return pending && Object.keys(pending.requests).length > 0 ? pending : undefined;
}

/** The content of a token whose signature was checked and whose time is over. */
function readExpiredToken(token: string): { contact: string; list: string } {
  const [contact, list] = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  return { contact: String(contact), list: String(list) };
}

/** The source address, keyed: counted without being kept. */
export function sourceHash(keys: ContactKeys, ip: string): string {
  return createHmac('sha256', keys.tokenKey)
    .update(`subscription-source:${rateLimitedSource(ip)}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * What the per-source limit counts for an IP address: an IPv4 address as it is; for IPv6, its
 * /64 prefix (`2001:db8:1:2::/64`), since one client (a home, a phone, a virtual server)
 * usually gets a whole /64 and could otherwise take a new address for each request. An
 * IPv4-mapped address (`::ffff:203.0.113.7`, what a dual-stack server sees of an IPv4
 * client) counts as its IPv4 address. Anything else is counted as given.
 */
export function rateLimitedSource(ip: string): string {
  const address = ip.trim();
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address;
  const groups = ipv6Groups(address.replace(/%.*$/, ''));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function ipv6Groups(address: string): number[] {
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  let text = address;
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${address.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** Takes one of `max` slots of the current window; false when none is left. Compare-and-swap. */
async function takeSlot(
  store: ObjectStore,
  key: string,
  limit: { max: number; windowMs: number },
  now: Date,
): Promise<boolean> {
  let taken = false;
  const fresh = (): ThrottleWindow => ({ since: now.toISOString(), count: 0, windowMs: limit.windowMs });
  await updateJson<ThrottleWindow>(store, key, fresh, (current) => {
    const window = now.getTime() - Date.parse(current.since) >= limit.windowMs ? fresh() : current;
    taken = window.count < limit.max;
    return taken ? { ...window, count: window.count + 1 } : current;
  });
  return taken;
}

/** When the current window has no slot left: the seconds until it ends (at least 1); else undefined. */
async function windowFull(
  store: ObjectStore,
  key: string,
  limit: { max: number; windowMs: number },
  now: Date,
): Promise<{ retryAfterSeconds: number } | undefined> {
  const window = (await getJson<ThrottleWindow>(store, key))?.value;
  if (!window) return undefined;
  const endsAt = Date.parse(window.since) + limit.windowMs;
  if (now.getTime() >= endsAt || window.count < limit.max) return undefined;
  return { retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000)) };
}

async function giveSlotBack(store: ObjectStore, key: string): Promise<void> {
  await updateIfPresent<ThrottleWindow>(store, key, (current) =>
    current.count > 0 ? { ...current, count: current.count - 1 } : current,
  );
}

/** Like updateJson, for an object that is changed only if it exists. */
async function updateIfPresent<T>(
  store: ObjectStore,
  key: string,
  change: (current: T) => T,
): Promise<T | undefined> {
  for (let attempt = 0; ; attempt++) {
    const current = await getJson<T>(store, key);
    if (!current) return undefined;
    const next = change(current.value);
    if (next === current.value) return next;
    try {
      await store.putIfVersion(key, serializeJson(next), current.version, {
        contentType: 'application/json',
      });
      return next;
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 50) throw error;
    }
  }
}

/**
 * Removes what has served its time: pending requests past their expiry (the unconfirmed
 * addresses they hold), records left empty by confirmations, and rate-limit windows that are
 * over; counts only come back (no address). `pressroom serve` runs it at start and every
 * hour, `pressroom subscriptions sweep` on demand, and on AWS the public function every hour
 * (an EventBridge rule's `{ "sweep": "subscriptions" }`).
 */
export async function purgeSubscriptionState(
  store: ObjectStore,
  now: Date,
): Promise<{ pending: number; throttles: number }> {
  const removed = { pending: 0, throttles: 0 };
  const expired = (request: PendingRequest) => Date.parse(request.expiresAt) <= now.getTime();
  for await (const item of listAll(store, subscriptionKeys.pendingPrefix)) {
    const current = await getJson<PendingSubscriptions>(store, item.key);
    if (!current) continue;
    // Nothing live in it (also true of a record emptied by confirmations): the whole record goes.
    if (Object.values(current.value.requests).every(expired)) {
      if (await deleteIfUnchanged(store, item.key, current.version)) removed.pending++;
      continue;
    }
    // Live requests stay, with the address they need; the expired ones go.
    await updateIfPresent<PendingSubscriptions>(store, item.key, (record) => {
      const live = Object.entries(record.requests).filter(([, request]) => !expired(request));
      if (live.length === Object.keys(record.requests).length) return record;
      return withRequests(record, Object.fromEntries(live));
    });
  }
  for await (const item of listAll(store, subscriptionKeys.throttlePrefix)) {
    const window = await getJson<ThrottleWindow>(store, item.key);
    if (window && now.getTime() - Date.parse(window.value.since) >= window.value.windowMs) {
      if (await deleteIfUnchanged(store, item.key, window.version)) removed.throttles++;
    }
  }
  return removed;
}

/**
 * Deletes an object judged spent (no live request, a window that is over) only if it is still
 * the version that was judged: it is read again just before the delete, so that a request or a
 * window written since survives until the next purge. The object store has no conditional
 * delete, so a write landing between this last read and the delete (one round trip) is still
 * lost. That is harmless: it needs a request from that very address (or source) in that
 * instant of an hourly purge; a lost window only lets one more email through, and a lost
 * request only makes its link answer 410 ("ask again"); nobody is subscribed and no address
 * is kept by it. A conditional delete in the port (S3 `If-Match` on DeleteObject) would close
 * it, at the price of one more operation in every store.
 */
async function deleteIfUnchanged(store: ObjectStore, key: string, version: string): Promise<boolean> {
  if ((await store.head(key))?.version !== version) return false;
  await store.delete(key);
  return true;
}

/** Forgets an address's pending requests and rate-limit window (erasure), at once. */
export async function forgetSubscriptionRequests(store: ObjectStore, contactId: string): Promise<void> {
  await store.delete(subscriptionKeys.pending(contactId));
  await store.delete(subscriptionKeys.addressThrottle(contactId));
}
