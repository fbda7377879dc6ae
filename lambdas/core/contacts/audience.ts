import { type AlertFrequency, type DigestRelease, inAlertAudience, wantsAnyTopic } from '../alerts/topics.ts';
import { audienceLists } from '../campaigns/campaign.ts';
import { type SpreadsheetFormat, spreadsheetHeader, spreadsheetLines } from '../csv.ts';
import { PressroomError } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import {
  type Contact,
  type ContactKeys,
  isSuppressed,
  type Suppression,
  shardNames,
  shardOf,
} from './model.ts';
import { languageMatches, matchKey } from './profile.ts';
import {
  contactShardReader,
  MergeNeededError,
  readSuppressionShard,
  suppressionsHadOlderIds,
  updateContactShard,
  updateSuppression,
} from './repository.ts';

/** Who a campaign is for: one list or several, optionally narrowed by tags. */
export interface AudienceFilter {
  /** One list (campaigns recorded before `lists` have this). */
  list?: string;
  /** Several lists: each person once, whichever lists they are on. */
  lists?: string[];
  tags?: string[];
  /** `any`: at least one of the tags (default); `all`: every one of them. */
  tagsMode?: 'any' | 'all';
  /** Contacts with at least one of these beats (compared without case, accents or spaces). */
  beats?: string[];
  /** Contacts of one of these outlets (their organisation when they have no outlet). */
  outlets?: string[];
  /** Contacts whose language is in one of these ranges: `fr` takes in `fr-BE`. */
  languages?: string[];
  /**
   * Topic alerts: only the members of the lists who confirmed one of these topics there (a
   * release's alert names the topics its tags match: alerts/release-alert.ts).
   */
  topics?: string[];
  /** Topic alerts: only the alert subscribers at this frequency (none chosen is `immediate`). */
  alertFrequency?: AlertFrequency;
  /** A digest group: only the subscribers whose topics pick exactly `picks` among `releases` (alerts/digest.ts). */
  digest?: { releases: DigestRelease[]; picks: string[] };
}

/** Who resolving an audience left out for a reason the sender should be told. */
export interface AudienceExclusions {
  /** On the audience's lists and matching it, but marked do-not-contact: never mailed. */
  doNotContact: number;
}

/** A recipient, and the campaign's lists that reach them (on the list, not unsubscribed from it). */
export type AudienceMember = Contact & { via: string[] };

/** A campaign names a list no contact is on (nor declared in the workspace). */
export class UnknownListError extends PressroomError {
  override name = 'UnknownListError';
}

/** Shards are read a few at a time: enough to hide S3's latency, few enough to bound memory. */
const parallelShards = 16;

async function* shardsInOrder<T>(read: (shard: string) => Promise<T>): AsyncGenerator<[string, T]> {
  for (let i = 0; i < shardNames.length; i += parallelShards) {
    const batch = shardNames.slice(i, i + parallelShards);
    const results = await Promise.all(batch.map(read));
    for (const [j, result] of results.entries()) yield [batch[j] as string, result];
  }
}

/** Every suppression, by contact id (10,000 of them are a few MB). */
export async function loadSuppressions(store: ObjectStore): Promise<Map<string, Suppression>> {
  const all = new Map<string, Suppression>();
  for await (const [, shard] of shardsInOrder((s) => readSuppressionShard(store, s))) {
    for (const [id, s] of Object.entries(shard.suppressions)) all.set(id, s);
  }
  return all;
}

export function matchesTags(contact: Contact, filter: AudienceFilter): boolean {
  const tags = filter.tags?.map((t) => t.toLowerCase()) ?? [];
  if (tags.length === 0) return true;
  return filter.tagsMode === 'all'
    ? tags.every((t) => contact.tags.includes(t))
    : tags.some((t) => contact.tags.includes(t));
}

/**
 * Whether a contact matches the audience's profile selectors: one of its beats, one of its
 * outlets, one of its languages (each selector given narrows the audience; none selects all).
 * Built once per audience: the selectors' keys are computed here, not per contact.
 */
export function profileMatcher(filter: AudienceFilter): (contact: Contact) => boolean {
  const beats = filter.beats?.length ? new Set(filter.beats.map(matchKey)) : undefined;
  const outlets = filter.outlets?.length ? new Set(filter.outlets.map(matchKey)) : undefined;
  const languages = filter.languages?.length ? filter.languages : undefined;
  if (!beats && !outlets && !languages) return () => true;
  return (contact) => {
    if (beats && !contact.beats?.some((b) => beats.has(matchKey(b)))) return false;
    // Contacts imported before outlets existed hold their "Média" as their organisation.
    const outlet = contact.outlet ?? contact.organization;
    if (outlets && (outlet === undefined || !outlets.has(matchKey(outlet)))) return false;
    if (languages && !languages.some((range) => languageMatches(contact.language, range))) return false;
    return true;
  };
}

/**
 * How many recipients the audience holds now (suppressed and do-not-contact left out): the
 * recipients resolveAudience yields, counted, holding none of them. Its errors are
 * resolveAudience's (a list nobody is on and `known` does not name).
 */
export async function audienceSize(
  store: ObjectStore,
  filter: AudienceFilter,
  known: readonly string[] = [],
): Promise<number> {
  let count = 0;
  for await (const _ of resolveAudience(store, filter, known)) count++;
  return count;
}

/**
 * The recipients a campaign may mail: on one of its lists and not unsubscribed from that
 * list, matching the tags and the profile selectors (beats, outlets, languages), not
 * suppressed from everything, not marked do-not-contact (counted in `excluded`). Each address once (contacts are
 * keyed by their address), with the lists that reach it (`via`): someone who left "presse"
 * but is still on "lettre" gets the campaign through "lettre" only, and its unsubscribe link
 * names "lettre". Yields shard by shard, so memory holds one batch of shards and the
 * suppressions, not the whole audience. A list no contact was ever on, and that `known`
 * does not name, is UnknownListError (at the end: the caller collects the audience first).
 */
export async function* resolveAudience(
  store: ObjectStore,
  filter: AudienceFilter,
  known: readonly string[] = [],
  excluded: AudienceExclusions = { doNotContact: 0 },
): AsyncGenerator<AudienceMember> {
  const lists = audienceLists(filter);
  const matchesProfile = profileMatcher(filter);
  const suppressions = await loadSuppressions(store);
  const seen = new Set<string>(known);
  const contacts = await contactShardReader(store);
  // Contacts or suppressions under an older id: a person could be mailed twice, or despite
  // an unsubscribe or a bounce under another form of the address. Nothing is resolved until
  // they are merged (callers collect the whole audience before sending anything).
  if (contacts.legacy() && suppressionsHadOlderIds(suppressions.values())) throw new MergeNeededError();
  const read = async (s: string) => {
    const shard = await contacts.read(s);
    if (contacts.olderIds()) throw new MergeNeededError();
    return shard;
  };
  for await (const [, shard] of shardsInOrder(read)) {
    for (const contact of Object.values(shard.contacts)) {
      for (const list of Object.keys(contact.lists)) seen.add(list);
      const suppression = suppressions.get(contact.id);
      const via = lists.filter(
        (list) =>
          contact.lists[list] &&
          !isSuppressed(suppression, list) &&
          (filter.topics === undefined || wantsAnyTopic(contact.lists[list].alerts, filter.topics)) &&
          inAlertAudience(contact.lists[list].alerts, filter),
      );
      if (via.length === 0) continue;
      if (!matchesTags(contact, filter) || !matchesProfile(contact)) continue;
      if (contact.doNotContact) {
        excluded.doNotContact++;
        continue;
      }
      yield { ...contact, via };
    }
  }
  const unknown = lists.filter((list) => !seen.has(list));
  if (unknown.length > 0) throw new UnknownListError(unknownListMessage(unknown, [...seen].sort()));
}

function unknownListMessage(unknown: string[], known: string[]): string {
  const guesses = unknown.flatMap((name) => {
    const close = known.filter((k) => editDistance(name, k) <= Math.max(1, Math.floor(k.length / 4)));
    return close.length > 0 ? [`"${name}": did you mean "${close[0]}"?`] : [];
  });
  const names = unknown.map((n) => `"${n}"`).join(', ');
  return `no contact is on the list${unknown.length > 1 ? 's' : ''} ${names}${guesses.length ? ` (${guesses.join('; ')})` : ''}. ${
    known.length > 0
      ? `The lists with contacts are: ${known.join(', ')}.`
      : 'No list has contacts yet: import some with `pressroom contacts import FILE --list NAME`.'
  } Check the campaign's audience, or import the list first.`;
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Every contact, with its suppression, optionally on one list and with one tag. */
export async function* listContacts(
  store: ObjectStore,
  filter: { list?: string; tag?: string } = {},
): AsyncGenerator<{ contact: Contact; suppression?: Suppression }> {
  const suppressions = await loadSuppressions(store);
  const reader = await contactShardReader(store);
  for await (const [, shard] of shardsInOrder(reader.read)) {
    const contacts = Object.values(shard.contacts).sort((a, b) => a.email.localeCompare(b.email));
    for (const contact of contacts) {
      if (filter.list && !contact.lists[filter.list]) continue;
      if (filter.tag && !contact.tags.includes(filter.tag.toLowerCase())) continue;
      const suppression = suppressions.get(contact.id);
      yield { contact, ...(suppression && { suppression }) };
    }
  }
}

export const exportColumns = [
  'email',
  'first name',
  'last name',
  'organisation',
  'outlet',
  'role',
  'beats',
  'language',
  'phone',
  'notes',
  'tags',
  'do not contact',
  'status',
];

/** The status of a contact on a list, for people: subscribed, or why not. */
export function statusOn(suppression: Suppression | undefined, list: string | undefined): string {
  if (!suppression) return 'subscribed';
  if (suppression.all) return suppression.all.reason;
  if (list && suppression.lists?.[list]) return suppression.lists[list].reason;
  return 'subscribed';
}

/**
 * A list as CSV (UTF-8, with a BOM unless asked not to), every cell neutralised for
 * spreadsheets; re-importable as it is.
 */
export async function* exportContacts(
  store: ObjectStore,
  filter: { list: string },
  format: SpreadsheetFormat = {},
): AsyncGenerator<string> {
  yield spreadsheetHeader(exportColumns, format);
  for await (const { contact: c, suppression } of listContacts(store, { list: filter.list })) {
    const row = [
      c.email,
      c.firstName,
      c.lastName,
      c.organization,
      c.outlet,
      c.role,
      c.beats?.join(', '),
      c.language,
      c.phone,
      c.notes,
      c.tags.join(', '),
      c.doNotContact ? 'yes' : '',
      statusOn(suppression, filter.list),
    ];
    yield spreadsheetLines([row], format);
  }
}

/**
 * GDPR erasure: the contact and every personal detail go; only a suppression under the
 * contact's id (a keyed hash of the address) stays, so that an old spreadsheet cannot
 * bring the address back by mistake.
 */
export async function eraseContact(
  store: ObjectStore,
  keys: ContactKeys,
  email: string,
  at: Date,
): Promise<{ id: string; hadContact: boolean }> {
  const id = keys.idOf(email);
  let hadContact = false;
  // The suppression first: from then on no import stores the address again.
  await updateSuppression(store, id, () => ({ id, all: { reason: 'erased', at: at.toISOString() } }));
  await updateContactShard(store, shardOf(id), (shard) => {
    hadContact = id in shard.contacts;
    // Written even when the contact is not there: an import that read the suppressions
    // before the erasure and commits after it finds its shard changed, reads them again,
    // and leaves the address out.
    const { [id]: _erased, ...contacts } = shard.contacts;
    return { contacts };
  });
  return { id, hadContact };
}
