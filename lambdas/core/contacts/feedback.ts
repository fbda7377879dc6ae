import type { ObjectStore } from '../store/object-store.ts';
import { type ContactKeys, type Suppression, type SuppressionReason, shardOf } from './model.ts';
import { readSuppressionShard, updateSuppression } from './repository.ts';
import { type UnsubscribeToken, verifyUnsubscribeToken } from './tokens.ts';

/**
 * What recipients and the mail provider tell us: unsubscribes, bounces, complaints,
 * deliveries. Each is idempotent: applying the same event twice changes nothing more.
 */

const keptEvents = 50;
export const softBounceLimit = 3;

function remember(s: Suppression, eventId: string | undefined): Suppression {
  if (!eventId) return s;
  return { ...s, events: [...(s.events ?? []), eventId].slice(-keptEvents) };
}

function seen(s: Suppression | undefined, eventId: string | undefined): boolean {
  return eventId !== undefined && (s?.events ?? []).includes(eventId);
}

/** Suppresses an address from every list; the first reason stays. */
async function suppressAll(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  reason: SuppressionReason,
  at: Date,
  eventId?: string,
): Promise<Suppression | undefined> {
  const id = keys.idOf(email);
  return updateSuppression(store, id, (current) => {
    if (seen(current, eventId)) return current;
    const base: Suppression = current ?? { id };
    return remember(
      {
        ...base,
        ...(base.all?.reason !== 'erased' && { email: email.trim() }),
        all: base.all ?? { reason, at: at.toISOString() },
      },
      eventId,
    );
  });
}

/** A one-click unsubscribe from a signed token: the lists it names only. Returns what the token named. */
export async function applyUnsubscribe(
  store: ObjectStore,
  keys: ContactKeys,
  token: string,
  at: Date,
): Promise<UnsubscribeToken & { already: boolean }> {
  const payload = verifyUnsubscribeToken(keys, token);
  // Every list the message reached the person through (a campaign to several lists).
  const lists = payload.lists ?? [payload.list];
  // A link mailed before `contacts merge` names the id the contact had then.
  const pointer = (await readSuppressionShard(store, shardOf(payload.contact))).suppressions[payload.contact];
  const id = pointer?.mergedInto ?? payload.contact;
  let already = false;
  await updateSuppression(store, id, (current) => {
    const base: Suppression = current ?? { id };
    const left = lists.filter((list) => !base.lists?.[list]);
    if (left.length === 0 || base.all) {
      already = true;
      return current;
    }
    const unsubscribed = { reason: 'unsubscribed' as const, at: at.toISOString() };
    return { ...base, lists: { ...base.lists, ...Object.fromEntries(left.map((l) => [l, unsubscribed])) } };
  });
  return { ...payload, already };
}

/** An unsubscribe asked by the person some other way (a reply, a call): one list, or all. */
export async function unsubscribeAddress(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  at: Date,
  list?: string,
): Promise<Suppression | undefined> {
  if (!list) return suppressAll(store, keys, email, 'unsubscribed', at);
  const id = keys.idOf(email);
  return updateSuppression(store, id, (current) => {
    const base: Suppression = current ?? { id, email: email.trim() };
    if (base.lists?.[list]) return current;
    return { ...base, lists: { ...base.lists, [list]: { reason: 'unsubscribed', at: at.toISOString() } } };
  });
}

export function applyHardBounce(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  at: Date,
  eventId?: string,
) {
  return suppressAll(store, keys, email, 'hard-bounce', at, eventId);
}

export function applyComplaint(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  at: Date,
  eventId?: string,
) {
  return suppressAll(store, keys, email, 'complaint', at, eventId);
}

export function blockAddress(store: ObjectStore, keys: ContactKeys, email: string, at: Date) {
  return suppressAll(store, keys, email, 'manual', at);
}

/** A soft bounce: counted; the third in a row suppresses the address. */
export async function applySoftBounce(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  at: Date,
  eventId?: string,
): Promise<Suppression | undefined> {
  const id = keys.idOf(email);
  return updateSuppression(store, id, (current) => {
    if (seen(current, eventId)) return current;
    const base: Suppression = current ?? { id, email: email.trim() };
    const count = (base.softBounces?.count ?? 0) + 1;
    const next: Suppression = {
      ...base,
      softBounces: { count, lastAt: at.toISOString() },
      ...(count >= softBounceLimit && !base.all && { all: { reason: 'soft-bounces', at: at.toISOString() } }),
    };
    return remember(next, eventId);
  });
}

/** A delivery ends a run of soft bounces. */
export async function applyDelivery(store: ObjectStore, keys: ContactKeys, email: string): Promise<void> {
  const id = keys.idOf(email);
  await updateSuppression(store, id, (current) => {
    if (!current?.softBounces || current.softBounces.count === 0) return current;
    const { softBounces: _reset, ...rest } = current;
    return rest.all || rest.lists || rest.events ? rest : undefined;
  });
}
