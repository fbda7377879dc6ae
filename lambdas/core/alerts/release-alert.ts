import type { ReleaseSummary } from '../archive/catalog.ts';
import type { CampaignDefinition, CampaignRecord } from '../campaigns/campaign.ts';
import { campaignKeys, campaignNames } from '../campaigns/campaign.ts';
import { cancelCampaign, scheduleCampaign } from '../campaigns/schedule.ts';
import type { SubscribableLists } from '../contacts/subscription-lists.ts';
import { getJson, type ObjectStore } from '../store/object-store.ts';
import { matchingTopics } from './topics.ts';

/**
 * A release's alert: for each alert list with a topic among the release's tags, a campaign
 * generated from the release, to that list's members who confirmed one of the topics it
 * matches. It goes through the ordinary send path (ledger, one message per person however many
 * of their topics match, one-click unsubscribe, suppressions), scheduled by the due-job runner
 * a minute after publishing, or at the embargo's lift for an embargoed release: never before.
 */

/** How long after publishing an alert goes: a moment to withdraw a release published by mistake. */
export const alertDelayMs = 60_000;

/** The name of a release's alert campaign on a list: `alert-<list>-<release>`. */
export function alertCampaignName(list: string, release: string): string {
  return `alert-${list}-${release}`;
}

/** The release as an alert needs it. */
export type AlertedRelease = Pick<ReleaseSummary, 'slug' | 'tags' | 'visibility' | 'embargo' | 'withdrawn'>;

/**
 * The alert campaigns a release calls for now: none for a private or withdrawn release, one
 * per alert list that offers one of its tags. Each goes at the later of `now` plus
 * {@link alertDelayMs} and the embargo.
 */
export function releaseAlerts(
  release: AlertedRelease,
  lists: SubscribableLists,
  now: Date,
): CampaignDefinition[] {
  if (release.visibility !== 'public' || release.withdrawn) return [];
  const tags = release.tags.map((t) => t.slug);
  const at = Math.max(now.getTime() + alertDelayMs, release.embargo ? Date.parse(release.embargo) : 0);
  const utc = new Date(at).toISOString();
  return Object.values(lists).flatMap((list) => {
    const topics = list.topics ? matchingTopics(list.topics, tags) : [];
    if (topics.length === 0) return [];
    const definition: CampaignDefinition = {
      name: alertCampaignName(list.name, release.slug),
      publication: release.slug,
      // Those who chose a digest get the release in it instead.
      audience: { lists: [list.name], topics, alertFrequency: 'immediate', tagsMode: 'any' },
      from: list.from,
      ...(list.replyTo !== undefined && { replyTo: list.replyTo }),
      sendAt: { utc, zone: 'UTC', written: utc },
      attachPdf: false,
    };
    return [definition];
  });
}

/** What publishing did about a release's alerts, per alert list. */
export interface AlertOutcome {
  campaign: string;
  /** `scheduled`: it goes at `sendAt`; `kept`: already sent (or being sent, paused, cancelled): nothing more; `cancelled`: the release is no longer public. */
  action: 'scheduled' | 'kept' | 'cancelled';
  topics: string[];
  sendAt?: string;
  /** The alert's state when it is kept: sent, sending, paused or cancelled. */
  state?: CampaignRecord['state'];
}

/**
 * Where alerts are scheduled: by default the local schedule (`serve` and `run-due` send it);
 * on the stack, `schedule` and `cancel` are the remote ones (an EventBridge Scheduler one-time
 * schedule that starts dispatch: campaigns/remote.ts).
 */
export interface AlertDeps {
  store: ObjectStore;
  clock?: () => Date;
  schedule?: (definition: CampaignDefinition, source: string, now: Date) => Promise<unknown>;
  cancel?: (name: string, now: Date) => Promise<unknown>;
}

/**
 * Schedules a release's alerts (publishing calls it): a new alert, or one still waiting moved
 * to the release's current embargo and topics. An alert that went (or is going, or was
 * stopped or cancelled by someone) is kept as it is: publishing the release again never alerts
 * twice. A waiting alert of a release that is now private or withdrawn is cancelled.
 */
export async function queueReleaseAlerts(
  release: AlertedRelease,
  lists: SubscribableLists,
  deps: AlertDeps,
): Promise<AlertOutcome[]> {
  const schedule =
    deps.schedule ??
    ((definition, source, now) => scheduleCampaign(definition, { ...deps, clock: () => now }, source));
  const cancel = deps.cancel ?? ((name, now) => cancelCampaign(deps.store, name, now));
  const now = (deps.clock ?? (() => new Date()))();
  const wanted = releaseAlerts(release, lists, now);
  const outcomes: AlertOutcome[] = [];
  for (const list of Object.values(lists)) {
    if (!list.topics) continue;
    const name = alertCampaignName(list.name, release.slug);
    const definition = wanted.find((d) => d.name === name);
    const current = (await getJson<CampaignRecord>(deps.store, campaignKeys.record(name)))?.value;
    const waiting = current?.state === 'scheduled' || current?.state === 'draft';
    if (!definition) {
      if (waiting) {
        await cancel(name, now);
        outcomes.push({
          campaign: name,
          action: 'cancelled',
          topics: current.definition.audience.topics ?? [],
        });
      }
      continue;
    }
    const topics = definition.audience.topics ?? [];
    if (current && !waiting) {
      outcomes.push({ campaign: name, action: 'kept', topics, state: current.state });
      continue;
    }
    await schedule(definition, `alert of ${release.slug}`, now);
    outcomes.push({ campaign: name, action: 'scheduled', topics, sendAt: definition.sendAt?.utc as string });
  }
  return outcomes;
}

/** How a withdrawn release's waiting alerts are cancelled: locally by default, on the stack with their schedules. */
export type AlertCanceller = (name: string, now: Date) => Promise<unknown>;

/**
 * Cancels the alerts of a release that are still waiting (withdrawing it calls it): every
 * campaign `alert-<list>-<slug>` of that release, whatever lists offer topics now, that is
 * scheduled or a draft. An alert that went or is going is left as it is (dispatch and send
 * refuse a withdrawn release anyway).
 */
export async function cancelReleaseAlerts(
  slug: string,
  deps: { store: ObjectStore; cancel?: AlertCanceller },
  now: Date,
): Promise<AlertOutcome[]> {
  const cancel = deps.cancel ?? ((name, at) => cancelCampaign(deps.store, name, at));
  const outcomes: AlertOutcome[] = [];
  for (const name of await campaignNames(deps.store)) {
    if (!name.startsWith('alert-') || !name.endsWith(`-${slug}`)) continue;
    const current = (await getJson<CampaignRecord>(deps.store, campaignKeys.record(name)))?.value;
    // `alert-news-a-b` is list "news" and release "a-b", or list "news-a" and release "b".
    if (!current || current.definition.publication !== slug) continue;
    if (current.state !== 'scheduled' && current.state !== 'draft') continue;
    await cancel(name, now);
    outcomes.push({ campaign: name, action: 'cancelled', topics: current.definition.audience.topics ?? [] });
  }
  return outcomes;
}
