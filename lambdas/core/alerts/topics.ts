import type { Language } from '../publication/schema.ts';

/**
 * Topic alerts: an open list that names `topics:` (pressroom.yaml, or lists.yaml on AWS) is an
 * alert list. Its subscribers pick topics on the public form, and each release published with
 * one of their topics' tags is mailed to them. Off unless a list names topics. A topic is a
 * tag, by the slug the press room gives it (`Numérique` → `numerique`), with a label in each
 * language for the form; topics are read with the lists (subscription-lists.ts).
 */

/** A topic offered on the form. */
export interface AlertTopic {
  /** The tag's slug, as the press room gives it. */
  tag: string;
  label: Record<Language, string>;
}

/** How often a subscriber is alerted: at each release, or in a daily or weekly digest. */
export const alertFrequencies = ['immediate', 'daily', 'weekly'] as const;
export type AlertFrequency = (typeof alertFrequencies)[number];
export type DigestFrequency = Exclude<AlertFrequency, 'immediate'>;

/** A release of a digest, with the topics of the list it matches. */
export interface DigestRelease {
  slug: string;
  topics: string[];
}

/** The releases (slugs, in order) that a subscriber with these topics gets in a digest. */
export function digestReleases(releases: readonly DigestRelease[], topics: readonly string[]): string[] {
  return releases.filter((r) => r.topics.some((t) => topics.includes(t))).map((r) => r.slug);
}

/**
 * Whether a member's alert subscription is in an alert's audience: at the frequency asked
 * (none written is `immediate`), and, for a digest group, exactly the group's releases.
 */
export function inAlertAudience(
  subscription: AlertSubscription | undefined,
  filter: { alertFrequency?: AlertFrequency; digest?: { releases: DigestRelease[]; picks: string[] } },
): boolean {
  if (
    filter.alertFrequency !== undefined &&
    (subscription?.frequency ?? 'immediate') !== filter.alertFrequency
  )
    return false;
  if (!filter.digest) return true;
  const picked = digestReleases(filter.digest.releases, subscription?.topics ?? []);
  return picked.join(' ') === filter.digest.picks.join(' ');
}

/** A subscriber's confirmed topics, as their membership of the alert list keeps them. */
export interface AlertSubscription {
  topics: string[];
  /** Absent: `immediate`. */
  frequency?: DigestFrequency;
  /** When the topics were confirmed (double opt-in). */
  confirmedAt: string;
}

/** The topics of `offered` that a release with these tags (slugs) matches, in the offered order. */
export function matchingTopics(offered: readonly AlertTopic[], releaseTags: readonly string[]): string[] {
  const tags = new Set(releaseTags);
  return offered.filter((t) => tags.has(t.tag)).map((t) => t.tag);
}

/** Whether a subscription asks for one of these topics. */
export function wantsAnyTopic(
  subscription: AlertSubscription | undefined,
  topics: readonly string[],
): boolean {
  return subscription?.topics.some((t) => topics.includes(t)) === true;
}

/**
 * The topics a subscriber asked for, checked against those offered: duplicates dropped, in the
 * offered order. `unknown` is the first that is not offered; `none` when nothing was asked.
 */
export function checkTopics(
  offered: readonly AlertTopic[],
  asked: readonly string[],
):
  | { ok: true; topics: string[] }
  | { ok: false; problem: 'none' }
  | { ok: false; problem: 'unknown'; value: string } {
  const known = new Set(offered.map((t) => t.tag));
  const unknown = asked.find((t) => !known.has(t));
  if (unknown !== undefined) return { ok: false, problem: 'unknown', value: unknown };
  if (asked.length === 0) return { ok: false, problem: 'none' };
  const wanted = new Set(asked);
  return { ok: true, topics: offered.filter((t) => wanted.has(t.tag)).map((t) => t.tag) };
}
