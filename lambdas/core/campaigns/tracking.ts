import { createHash } from 'node:crypto';
import type { ContactKeys } from '../contacts/model.ts';
import { ExpiredTokenError, InvalidTokenError, openToken, signToken } from '../contacts/tokens.ts';
import { slugPattern } from '../publication/schema.ts';
import { getJson, listAll, ObjectExistsError, type ObjectStore } from '../store/object-store.ts';

/**
 * Opens and clicks, for campaigns that ask for them (`tracking: { opens: true, clicks: true }`;
 * both off by default). The links of the email's HTML go through the press room's own domain,
 * `/c/<token>`, which records the click and redirects; an open is a 1×1 image, `/o/<token>`.
 * The token is signed (tokens.ts's primitive, its own version `t1`) and names the campaign,
 * the contact's id and, for a click, the target: only links we put in our own messages
 * redirect (no open redirect), and nothing in a token can be changed to record for someone
 * else or another campaign.
 *
 * Each event is an object of its own, written create-if-absent, so that writers at the same
 * moment never lose one; the same event again within a minute (a mail client loading the
 * image twice) is the same object:
 *
 *   campaigns/<name>/events/<contact-id>/open-<yyyymmddThhmm>.json
 *   campaigns/<name>/events/<contact-id>/click-<yyyymmddThhmm>-<link hash>.json
 *
 * They hold the contact's id, the time and the link, never an address.
 */

/** What a campaign tracks. Off unless the campaign file says so. */
export interface CampaignTracking {
  opens: boolean;
  clicks: boolean;
}

export type TrackingKind = 'open' | 'click';

/** What a tracking link carries. */
export interface TrackingToken {
  kind: TrackingKind;
  campaign: string;
  /** Contact id. */
  contact: string;
  /** Events are recorded until then (whole seconds); a click still redirects afterwards. */
  until: Date;
  /** The target of a click. */
  url?: string;
}

/** How long after a message is sent its opens and clicks are recorded. */
export const trackingDays = 180;

export const trackingPaths = { open: '/o/', click: '/c/' } as const;

const version = 't1';
const kinds: Record<string, TrackingKind> = { o: 'open', c: 'click' };
/** Contact ids are hex; older ones were too. Checked again here: they become part of a key. */
const contactPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** A well-signed tracking token past its time: a click still goes where it pointed. */
export class ExpiredTrackingTokenError extends ExpiredTokenError {
  override name = 'ExpiredTrackingTokenError';
  constructor(
    message: string,
    readonly token: TrackingToken,
  ) {
    super(message);
  }
}

export function signTrackingToken(keys: ContactKeys, token: TrackingToken): string {
  const parts: (string | number)[] = [
    token.kind === 'open' ? 'o' : 'c',
    token.campaign,
    token.contact,
    Math.floor(token.until.getTime() / 1000),
  ];
  if (token.kind === 'click') parts.push(token.url ?? '');
  return signToken(keys, version, parts);
}

/**
 * The token's content; InvalidTokenError when we did not sign it or it was changed (another
 * campaign, contact or target), ExpiredTrackingTokenError (with the content) when its time
 * is over at `now`.
 */
export function verifyTrackingToken(keys: ContactKeys, token: string, now: Date): TrackingToken {
  const parts = openToken(keys, version, token, 'tracking');
  const [k, campaign, contact, until, url] = parts;
  const kind = typeof k === 'string' ? kinds[k] : undefined;
  if (
    kind === undefined ||
    parts.length !== (kind === 'click' ? 5 : 4) ||
    typeof campaign !== 'string' ||
    !slugPattern.test(campaign) ||
    typeof contact !== 'string' ||
    !contactPattern.test(contact) ||
    !Number.isSafeInteger(until) ||
    (kind === 'click' && (typeof url !== 'string' || !isWebLink(url)))
  ) {
    throw new InvalidTokenError('this tracking link is not valid (unreadable)');
  }
  const payload: TrackingToken = {
    kind,
    campaign,
    contact,
    until: new Date((until as number) * 1000),
    ...(kind === 'click' && { url: url as string }),
  };
  if (now.getTime() >= payload.until.getTime())
    throw new ExpiredTrackingTokenError(
      `this tracking link expired at ${payload.until.toISOString()}`,
      payload,
    );
  return payload;
}

const isWebLink = (value: string) => /^https?:\/\/[^\s{}]+$/i.test(value);

/* ---------------------------------------------------------------- the email */

/** A campaign's HTML with its links and image made into placeholders, and the links in order. */
export interface TrackedEmail {
  html: string;
  /** The targets of the rewritten links; `tracking.links.[i]` stands for the i-th. */
  links: string[];
  opens: boolean;
}

/** What the recipient stage fills in (render/recipient.ts). */
export interface RecipientTracking {
  open?: string;
  links?: string[];
}

const anchorHref = /(<a\b[^>]*?\shref\s*=\s*)(?:"([^"]*)"|'([^']*)')/gi;

/**
 * Rewrites the archived email's HTML once per campaign: each `<a href>` to an http(s) address
 * (clicks) becomes a placeholder for the recipient's own signed link, and a 1×1 image is put
 * before `</body>` (opens). Placeholders already there (the unsubscribe link) and mailto:
 * links are left alone. The text part is not changed: its links are not tracked.
 */
export function trackEmail(html: string, tracking: CampaignTracking): TrackedEmail {
  const links: string[] = [];
  let out = html;
  if (tracking.clicks) {
    out = out.replace(anchorHref, (whole, before: string, double?: string, single?: string) => {
      const url = (double ?? single ?? '').replace(/&amp;/g, '&').trim();
      if (!isWebLink(url)) return whole;
      let index = links.indexOf(url);
      if (index < 0) index = links.push(url) - 1;
      return `${before}"{{tracking.links.[${index}]}}"`;
    });
  }
  if (tracking.opens) {
    const pixel =
      '{{#if tracking.open}}<img src="{{tracking.open}}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">{{/if}}';
    const end = out.toLowerCase().lastIndexOf('</body>');
    out = end < 0 ? `${out}${pixel}` : `${out.slice(0, end)}${pixel}${out.slice(end)}`;
  }
  return { html: out, links, opens: tracking.opens };
}

/** One recipient's signed links for a tracked email. */
export function recipientTracking(
  keys: ContactKeys,
  email: TrackedEmail,
  who: { campaign: string; contact: string; publicUrl: string; sentAt: Date },
): RecipientTracking {
  const base = who.publicUrl.replace(/\/$/, '');
  const until = new Date(who.sentAt.getTime() + trackingDays * 86_400_000);
  const token = (kind: TrackingKind, url?: string) =>
    signTrackingToken(keys, {
      kind,
      campaign: who.campaign,
      contact: who.contact,
      until,
      ...(url !== undefined && { url }),
    });
  return {
    ...(email.opens && { open: `${base}${trackingPaths.open}${token('open')}.gif` }),
    ...(email.links.length > 0 && {
      links: email.links.map((url) => `${base}${trackingPaths.click}${token('click', url)}`),
    }),
  };
}

/* ---------------------------------------------------------------- events */

export interface TrackingEvent {
  kind: TrackingKind;
  at: string;
  url?: string;
}

export const trackingKeys = {
  prefix: (campaign: string) => `campaigns/${campaign}/events/`,
  recipient: (campaign: string, contact: string) => `campaigns/${campaign}/events/${contact}/`,
  event(token: Pick<TrackingToken, 'kind' | 'campaign' | 'contact' | 'url'>, at: Date): string {
    const minute = at.toISOString().slice(0, 16).replace(/[-:]/g, '');
    const link =
      token.kind === 'click'
        ? `-${createHash('sha256')
            .update(token.url ?? '')
            .digest('hex')
            .slice(0, 12)}`
        : '';
    return `${trackingKeys.recipient(token.campaign, token.contact)}${token.kind}-${minute}${link}.json`;
  },
};

/** Records an open or a click; false when the same one was recorded this minute already. */
export async function recordTrackingEvent(
  store: ObjectStore,
  token: TrackingToken,
  at: Date,
): Promise<boolean> {
  const event: TrackingEvent = {
    kind: token.kind,
    at: at.toISOString(),
    ...(token.url !== undefined && { url: token.url }),
  };
  try {
    await store.putIfAbsent(trackingKeys.event(token, at), `${JSON.stringify(event)}\n`, {
      contentType: 'application/json',
    });
    return true;
  } catch (error) {
    if (error instanceof ObjectExistsError) return false;
    throw error;
  }
}

/** A recipient's opens or clicks: the first, and how many (repeats within a minute count once). */
export interface Engagement {
  first: string;
  count: number;
}

export interface RecipientEngagement {
  opens?: Engagement;
  clicks?: Engagement & { links: string[] };
}

/** Every recipient's opens and clicks in a campaign, by contact id. */
export async function readTrackingEvents(
  store: ObjectStore,
  campaign: string,
): Promise<Map<string, RecipientEngagement>> {
  const prefix = trackingKeys.prefix(campaign);
  const keys: string[] = [];
  for await (const item of listAll(store, prefix)) keys.push(item.key);
  const out = new Map<string, RecipientEngagement>();
  for (let i = 0; i < keys.length; i += 32) {
    const batch = keys.slice(i, i + 32);
    const events = await Promise.all(batch.map((key) => getJson<TrackingEvent>(store, key)));
    events.forEach((found, j) => {
      const contact = (batch[j] as string).slice(prefix.length).split('/')[0] as string;
      if (!found) return;
      const event = found.value;
      const engagement = out.get(contact) ?? {};
      const seen = (e: Engagement | undefined): Engagement => ({
        first: e && e.first < event.at ? e.first : event.at,
        count: (e?.count ?? 0) + 1,
      });
      if (event.kind === 'open') engagement.opens = seen(engagement.opens);
      else if (event.kind === 'click') {
        const links = new Set(engagement.clicks?.links);
        if (event.url) links.add(event.url);
        engagement.clicks = { ...seen(engagement.clicks), links: [...links] };
      }
      out.set(contact, engagement);
    });
  }
  return out;
}
