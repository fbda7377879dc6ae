import { isPublic, type ReleaseSummary, readTag } from '../archive/catalog.ts';
import type { CampaignDefinition } from '../campaigns/campaign.ts';
import { localDate } from '../campaigns/quota.ts';
import { zonedToUtc } from '../campaigns/time.ts';
import { listContacts } from '../contacts/audience.ts';
import { isSuppressed } from '../contacts/model.ts';
import type { SubscribableList, SubscribableLists } from '../contacts/subscription-lists.ts';
import { getJson, type ObjectStore, updateJson } from '../store/object-store.ts';
import { type DigestFrequency, type DigestRelease, digestReleases } from './topics.ts';

/**
 * Daily and weekly digests of topic alerts. A subscriber who chose a digest gets, at 08:00 in
 * the workspace's zone (every day, or on Mondays), one email listing the releases made public
 * since the last digest with one of their topics; nothing when there is none. The email is a
 * newsletter issue generated from those releases (private: not in the press room), sent as a
 * campaign by the ordinary send path. People whose topics pick the same releases share one
 * issue and one campaign (a group); each campaign's audience is exactly its group's people.
 */

/** When digests go, in the workspace's zone. */
export const digestHour = '08:00';
/** The day of weekly digests (0 is Sunday): Monday. */
export const weeklyDigestDay = 1;

/** Where each alert list keeps the time its last digest of each frequency covered. */
export const digestKeys = { state: (list: string) => `alerts/digests/${list}.json` };

type DigestState = Partial<Record<DigestFrequency, string>>;

/** The latest digest time of `frequency` at or before `now`: 08:00 in `zone` (on a Monday, weekly). */
export function lastDigestTime(frequency: DigestFrequency, now: Date, zone: string): Date {
  const [y, m, d] = localDate(now, zone).split('-').map(Number) as [number, number, number];
  for (let back = 0; back <= 8; back++) {
    const day = new Date(Date.UTC(y, m - 1, d - back));
    if (frequency === 'weekly' && day.getUTCDay() !== weeklyDigestDay) continue;
    const [hour, minute] = digestHour.split(':').map(Number) as [number, number];
    const [year, month, date] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
    const time = zonedToUtc({ year, month, day: date, hour, minute, second: 0 }, zone);
    if (time.getTime() <= now.getTime()) return time;
  }
  throw new Error(`no digest time found before ${now.toISOString()} in ${zone}`);
}

/** A group of a digest: the releases its people get, and how many they are. */
export interface DigestGroup {
  releases: string[];
  people: number;
}

/**
 * The people of a digest grouped by the releases their topics pick: one group (one issue, one
 * campaign) per distinct set, so each person gets one email listing each release once however
 * many of their topics it has. People whose topics pick none get nothing.
 */
export function digestGroups(
  releases: readonly DigestRelease[],
  people: readonly { topics: string[] }[],
): DigestGroup[] {
  const groups = new Map<string, DigestGroup>();
  for (const person of people) {
    const picked = digestReleases(releases, person.topics);
    if (picked.length === 0) continue;
    const key = picked.join(' ');
    const group = groups.get(key) ?? { releases: picked, people: 0 };
    group.people++;
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** The public releases with one of the list's topics made public in (after, until]. */
async function releasesBetween(
  store: ObjectStore,
  list: SubscribableList,
  after: Date,
  until: Date,
): Promise<DigestRelease[]> {
  const found = new Map<string, DigestRelease & { since: number }>();
  for (const topic of list.topics ?? []) {
    for (const release of await readTag(store, topic.tag)) {
      const since = publicSince(release);
      if (!isPublic(release, until) || since <= after.getTime() || since > until.getTime()) continue;
      const entry = found.get(release.slug) ?? { slug: release.slug, topics: [], since };
      entry.topics.push(topic.tag);
      found.set(release.slug, entry);
    }
  }
  // Oldest first, as they were published.
  return [...found.values()]
    .sort((a, b) => a.since - b.since || a.slug.localeCompare(b.slug))
    .map(({ slug, topics }) => ({ slug, topics }));
}

/** When a release became public: its first publishing, or its embargo's lift. */
function publicSince(release: Pick<ReleaseSummary, 'publishedAt' | 'embargo'>): number {
  return Math.max(Date.parse(release.publishedAt), release.embargo ? Date.parse(release.embargo) : 0);
}

/** What the digest job needs: the store, the lists, the zone, and how to publish an issue and schedule a campaign. */
export interface DigestDeps {
  store: ObjectStore;
  lists: SubscribableLists;
  timeZone: string;
  /** The organisation ids that publish digests (the workspace's `organizations`); the first is used. */
  publishers: readonly string[];
  /** Publishes a newsletter issue from its Markdown (front matter and body), under `id`. */
  publishIssue: (id: string, markdown: string) => Promise<void>;
  /** Schedules a campaign due at its sendAt, which is now: the due-job runner sends it next. */
  schedule: (definition: CampaignDefinition, source: string) => Promise<unknown>;
  clock?: () => Date;
}

/** What a digest run did for one list and frequency. */
export interface DigestOutcome {
  list: string;
  frequency: DigestFrequency;
  /** The digest time it covered up to. */
  until: string;
  /** The campaigns written, one per group. */
  campaigns: { name: string; releases: string[]; people: number }[];
}

/**
 * Runs the digests that are due: for each alert list offering daily or weekly digests, when a
 * digest time passed since the last one, the releases made public in between are grouped per
 * person and a campaign is scheduled for each group. The first run only marks the time (no
 * digest of the past). A digest time is marked done once its campaigns are scheduled; a run
 * cut short is repeated whole (same issue ids and campaign names: nothing is sent twice).
 */
export async function runDueDigests(deps: DigestDeps): Promise<DigestOutcome[]> {
  const now = (deps.clock ?? (() => new Date()))();
  const outcomes: DigestOutcome[] = [];
  for (const list of Object.values(deps.lists)) {
    const frequencies = (list.frequencies ?? []).filter((f): f is DigestFrequency => f !== 'immediate');
    if (!list.topics || frequencies.length === 0) continue;
    const key = digestKeys.state(list.name);
    const state = (await getJson<DigestState>(deps.store, key))?.value ?? {};
    for (const frequency of frequencies) {
      const until = lastDigestTime(frequency, now, deps.timeZone);
      const mark = state[frequency];
      if (mark !== undefined && Date.parse(mark) >= until.getTime()) continue;
      const campaigns =
        mark === undefined ? [] : await scheduleDigest(list, frequency, new Date(mark), until, now, deps);
      await updateJson<DigestState>(
        deps.store,
        key,
        () => ({}),
        (current) => ({ ...current, [frequency]: until.toISOString() }),
      );
      outcomes.push({ list: list.name, frequency, until: until.toISOString(), campaigns });
    }
  }
  return outcomes;
}

async function scheduleDigest(
  list: SubscribableList,
  frequency: DigestFrequency,
  after: Date,
  until: Date,
  now: Date,
  deps: DigestDeps,
): Promise<DigestOutcome['campaigns']> {
  const releases = await releasesBetween(deps.store, list, after, until);
  if (releases.length === 0) return [];
  const people: { topics: string[] }[] = [];
  for await (const { contact, suppression } of listContacts(deps.store, { list: list.name })) {
    const alerts = contact.lists[list.name]?.alerts;
    if (alerts?.frequency !== frequency || contact.doNotContact || isSuppressed(suppression, list.name))
      continue;
    people.push({ topics: alerts.topics });
  }
  const publisher = deps.publishers[0];
  const groups = digestGroups(releases, people);
  if (groups.length > 0 && publisher === undefined)
    throw new Error(
      `the ${frequency} digest of "${list.name}" needs a publisher: name the workspace's organisations under "organizations" in pressroom.yaml`,
    );
  const day = localDate(until, deps.timeZone);
  const title = `${list.title[list.lang]} – ${day}`;
  const out: DigestOutcome['campaigns'] = [];
  for (const [i, group] of groups.entries()) {
    const name = `digest-${list.name}-${frequency}-${day}-${i + 1}`;
    const markdown = [
      '---',
      `title: ${JSON.stringify(title)}`,
      `date: ${day}`,
      `lang: ${list.lang}`,
      `publishers: [${publisher}]`,
      'visibility: private',
      `intro: ${JSON.stringify(list.lang === 'fr' ? 'Les communiqués publiés sur vos thèmes.' : 'The releases published on your topics.')}`,
      'items:',
      ...group.releases.map((slug) => `  - release: ${slug}`),
      '---',
      '',
    ].join('\n');
    await deps.publishIssue(name, markdown);
    const at = now.toISOString();
    await deps.schedule(
      {
        name,
        newsletter: name,
        audience: {
          lists: [list.name],
          alertFrequency: frequency,
          digest: { releases, picks: group.releases },
          tagsMode: 'any',
        },
        from: list.from,
        ...(list.replyTo !== undefined && { replyTo: list.replyTo }),
        subject: title,
        sendAt: { utc: at, zone: 'UTC', written: at },
        attachPdf: false,
      },
      `${frequency} digest of ${list.name}`,
    );
    out.push({ name, releases: group.releases, people: group.people });
  }
  return out;
}
