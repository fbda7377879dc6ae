import type { ObjectStore } from '../store/object-store.ts';
import { type ContactTextField, contactTextFields } from './fields.ts';
import { valueProblem } from './import.ts';
import { type Contact, type ContactKeys, shardOf } from './model.ts';
import { addProfileValue, isProfileField, type ProfileValues } from './profile.ts';
import { updateContactShard } from './repository.ts';

/**
 * `pressroom contacts set`: one contact's profile fields and do-not-contact flag, changed by
 * hand. Values are checked as an import checks them; an empty value clears a field.
 */

/** What to change: a value replaces, `''` (or no beats) clears; do-not-contact true sets, false lifts. */
export type ProfileChanges = { [F in ContactTextField]?: string } & {
  beats?: string[];
  doNotContact?: boolean;
};

/** A value that cannot be set: the field, the value as given, and why. */
export interface ProfileProblem {
  field: ContactTextField | 'beats';
  value: string;
  message: string;
}

/** The values as given (command-line options), checked and read (language tags, beats split). */
export function readProfileChanges(
  given: { [F in ContactTextField | 'beats']?: string } & { doNotContact?: boolean },
): { changes: ProfileChanges; problems: ProfileProblem[] } {
  const changes: ProfileChanges = {};
  const problems: ProfileProblem[] = [];
  for (const field of [...contactTextFields, 'beats'] as const) {
    const raw = given[field];
    if (raw === undefined) continue;
    const value = raw.trim();
    if (value === '') {
      if (field === 'beats') changes.beats = [];
      else changes[field] = '';
      continue;
    }
    const problem = valueProblem(field, value);
    if (problem) {
      problems.push({ field, value: raw, message: problem });
      continue;
    }
    if (!isProfileField(field)) {
      changes[field] = value;
      continue;
    }
    const read: ProfileValues = {};
    const refused = addProfileValue(read, field, value);
    if (refused) problems.push({ field, value: raw, message: refused });
    else if (field === 'beats') changes.beats = read.beats ?? [];
    else changes[field] = read[field] ?? '';
  }
  if (given.doNotContact !== undefined) changes.doNotContact = given.doNotContact;
  return { changes, problems };
}

/** The contact with the changes applied (a new object; `contact` is left as it is). */
export function applyProfileChanges(
  contact: Contact,
  changes: ProfileChanges,
  at: { now: string; source: string },
): Contact {
  const next: Contact = { ...contact };
  for (const field of contactTextFields) {
    const value = changes[field];
    if (value === undefined) continue;
    if (value === '') delete next[field];
    else next[field] = value;
  }
  if (changes.beats !== undefined) {
    if (changes.beats.length === 0) delete next.beats;
    else next.beats = changes.beats;
  }
  if (changes.doNotContact === true && !next.doNotContact)
    next.doNotContact = { at: at.now, source: at.source };
  if (changes.doNotContact === false) delete next.doNotContact;
  return next;
}

/**
 * Changes the profile of the contact of `email` (compare-and-swap on its shard through the
 * contact index). Undefined when there is no such contact: nothing is created.
 */
export async function setContactProfile(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  changes: ProfileChanges,
  at: Date,
): Promise<{ before: Contact; after: Contact } | undefined> {
  const id = keys.idOf(email);
  let result: { before: Contact; after: Contact } | undefined;
  await updateContactShard(store, shardOf(id), (shard) => {
    const before = shard.contacts[id];
    result = undefined;
    if (!before) return shard;
    const after = applyProfileChanges(before, changes, { now: at.toISOString(), source: 'cli' });
    result = { before, after };
    if (JSON.stringify(after) === JSON.stringify(before)) return shard;
    after.updatedAt = at.toISOString();
    return { contacts: { ...shard.contacts, [id]: after } };
  });
  return result;
}
