import { PressroomError } from '../errors.ts';
import { isTimeZone, zonedToUtc } from './time.ts';

/**
 * Pacing a campaign by the provider's sending quota (SES: at most `max24Hour` messages in
 * any 24 hours, `maxSendRate` a second). A campaign larger than what is left now is cut into
 * slices, one per day: the first is sent now, each next one once the previous one has left
 * SES's rolling 24-hour window, and never before the daily start (09:00 by default) in the
 * campaign's zone. The local mailers have no quota: their plan is everything now.
 */

/** The account's quota as the provider reports it (SES `GetSendQuota`). */
export interface SendQuota {
  /** Messages allowed in any 24 hours. */
  max24Hour: number;
  /** Messages a second. */
  maxSendRate: number;
  /** Messages sent in the last 24 hours, the campaign's and everything else (confirmations...). */
  sentLast24Hours: number;
}

/** The sending-quota port: SES `GetSendQuota` on AWS (adapters/ses-quota.ts), a fake in tests. */
export interface SendingQuota {
  /** The quota now; undefined when the account has no daily limit. */
  read(): Promise<SendQuota | undefined>;
}

/**
 * The share of the daily quota no campaign takes: kept for the mail that cannot wait
 * (subscription confirmations, the public endpoint's messages, other campaigns' last
 * batches). 5 %: 2,500 of a new production account's 50,000, 10 of the sandbox's 200.
 */
export const quotaReserveRatio = 0.05;

/** When the next slices may start at the earliest, local time (`HH:MM`). */
export const defaultDailyStart = '09:00';

/** Where and from when a campaign's later slices go: the zone and the daily start. */
export interface PacingSettings {
  /** An IANA zone (`Europe/Paris`). */
  timeZone: string;
  /** `HH:MM`, 24-hour clock, in `timeZone`. */
  dailyStart: string;
}

/** One day's share of a campaign. */
export interface DaySlice {
  /** The local date the slice starts, in the plan's zone (`2026-12-08`). */
  date: string;
  /** Recipients sent in this slice. */
  count: number;
  /** When it may start (UTC ISO): the first slice now, the next ones at their start. */
  from: string;
}

/** How a campaign's remaining recipients are spread. */
export interface SendingPlan {
  /** When the plan was made (UTC ISO): "today" and "tomorrow" are relative to it. */
  madeAt: string;
  timeZone: string;
  dailyStart: string;
  /** The quota read, when the mailer has one; absent: no quota, everything now. */
  quota?: SendQuota;
  /** Messages of the daily quota kept free ({@link quotaReserveRatio}). */
  reserve: number;
  slices: DaySlice[];
}

export class PacingError extends PressroomError {
  override name = 'PacingError';
}

const dailyStartPattern = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Checks pacing settings; a clear error naming the value otherwise. */
export function checkPacing(settings: PacingSettings): PacingSettings {
  if (!dailyStartPattern.test(settings.dailyStart))
    throw new PacingError(
      `the daily start "${settings.dailyStart}" is not a time of day: write it as HH:MM on a 24-hour clock, e.g. 09:00`,
    );
  if (!isTimeZone(settings.timeZone))
    throw new PacingError(
      `the time zone "${settings.timeZone}" is unknown: use an IANA name such as Europe/Paris`,
    );
  return settings;
}

/** The messages of a daily quota kept free: {@link quotaReserveRatio} of it, rounded up. */
export function quotaReserve(quota: SendQuota): number {
  return Math.ceil(quota.max24Hour * quotaReserveRatio);
}

/** What a campaign may still send now: the quota less the reserve and the last 24 hours' sends. */
export function campaignAllowance(quota: SendQuota): number {
  return Math.max(0, Math.floor(quota.max24Hour - quotaReserve(quota) - quota.sentLast24Hours));
}

/** Messages one slice may hold: the quota less the reserve, and what the rate allows in a day. */
function sliceCapacity(quota: SendQuota): number {
  const byRate = quota.maxSendRate > 0 ? Math.floor(quota.maxSendRate * 86_400) : Number.POSITIVE_INFINITY;
  return Math.max(0, Math.min(Math.floor(quota.max24Hour - quotaReserve(quota)), byRate));
}

/** What dispatch may enqueue now: the first slice's limit (no quota: everyone). */
export function nowLimit(quota: SendQuota | undefined): number {
  return quota ? Math.min(campaignAllowance(quota), sliceCapacity(quota)) : Number.POSITIVE_INFINITY;
}

/**
 * Whether the send function should leave a batch for later: what the account may still send
 * in the 24-hour window is at most half the reserve. Dispatch plans with the whole reserve
 * free; the batches may eat into its first half (a confirmation sent meanwhile, a stale read),
 * never the second.
 */
export function quotaSpent(quota: SendQuota): boolean {
  return quota.max24Hour - quota.sentLast24Hours <= quotaReserve(quota) / 2;
}

/** A quota read at most once per `ttlMs` (GetSendQuota is cheap, not free): per container. */
export function cachedQuota(source: SendingQuota, ttlMs = 60_000, now = () => Date.now()): SendingQuota {
  let last: { at: number; quota: Promise<SendQuota | undefined> } | undefined;
  return {
    read() {
      if (last && now() - last.at < ttlMs) return last.quota;
      const quota = source.read();
      last = { at: now(), quota };
      quota.catch(() => {
        last = undefined;
      });
      return quota;
    },
  };
}

const dayMs = 86_400_000;

/**
 * Spreads `remaining` recipients over days. Without a quota: one slice, now. With one:
 *
 * - now, what the quota allows ({@link campaignAllowance}; maybe nothing);
 * - each next slice the quota less the reserve (and at most a day at `maxSendRate`), from the
 *   later of: the day's start (`dailyStart` in `timeZone`, on the next local day), and the
 *   moment the previous slice has left SES's 24-hour window (its start + 24 hours + the time
 *   it takes at `maxSendRate`; for the first slice, now + 24 hours, when whatever the account
 *   sent before now is gone too). So a campaign started at 15:00 continues the next day at
 *   15:00 and some, not at 09:00 when its first messages still count; across a change of
 *   daylight saving the 24 hours are real hours.
 */
export function planSending(
  remaining: number,
  quota: SendQuota | undefined,
  now: Date,
  settings: PacingSettings,
): SendingPlan {
  const base = {
    madeAt: now.toISOString(),
    timeZone: settings.timeZone,
    dailyStart: settings.dailyStart,
  };
  if (!quota) {
    return {
      ...base,
      reserve: 0,
      slices: [{ date: localDate(now, settings.timeZone), count: remaining, from: now.toISOString() }],
    };
  }
  const capacity = sliceCapacity(quota);
  if (remaining > 0 && capacity === 0)
    throw new PacingError(
      `the sending quota allows nothing (${quota.max24Hour} a day, ${quota.maxSendRate} a second): ask AWS for production access or a higher quota (Service Quotas, Amazon SES)`,
    );
  const slices: DaySlice[] = [];
  let left = remaining;
  const first = Math.min(left, campaignAllowance(quota), capacity);
  slices.push({ date: localDate(now, settings.timeZone), count: first, from: now.toISOString() });
  left -= first;
  // The first slice's window ends once everything sent before now has left it too.
  let windowClears = now.getTime() + dayMs + sendingMs(first, quota);
  let day = localDate(now, settings.timeZone);
  while (left > 0) {
    day = nextDate(day);
    const dayStart = startOfDay(day, settings);
    let from = Math.max(dayStart, windowClears);
    // Past that day's start by more than a day (a long slice): its own date, not the next.
    day = localDate(new Date(from), settings.timeZone);
    from = Math.max(from, startOfDay(day, settings));
    const count = Math.min(left, capacity);
    slices.push({ date: day, count, from: new Date(Math.ceil(from / 60_000) * 60_000).toISOString() });
    left -= count;
    windowClears = from + dayMs + sendingMs(count, quota);
  }
  return { ...base, quota, reserve: quotaReserve(quota), slices };
}

/**
 * When a campaign whose quota ran out now may go on: the later of 24 hours from now (whatever
 * the account sent before now has left SES's rolling window by then) and the daily start of
 * the next local day. As {@link planSending} starts the slice after an empty first one.
 */
export function nextQuotaWindow(now: Date, settings: PacingSettings): string {
  const from = Math.max(
    now.getTime() + dayMs,
    startOfDay(nextDate(localDate(now, settings.timeZone)), settings),
  );
  return new Date(Math.ceil(from / 60_000) * 60_000).toISOString();
}

/** How long `count` messages take at the quota's rate (none: instant). */
function sendingMs(count: number, quota: SendQuota): number {
  return quota.maxSendRate > 0 ? Math.ceil((count / quota.maxSendRate) * 1000) : 0;
}

/** The instant of `dailyStart` on a local date. */
function startOfDay(date: string, settings: PacingSettings): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const [hour, minute] = settings.dailyStart.split(':').map(Number) as [number, number];
  return zonedToUtc({ year, month, day, hour, minute, second: 0 }, settings.timeZone).getTime();
}

/** The local date of an instant in a zone, `YYYY-MM-DD`. */
export function localDate(instant: Date, zone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant);
}

function nextDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + dayMs).toISOString().slice(0, 10);
}

/** The slices after the first: the continuations still to come. */
export function laterSlices(plan: SendingPlan | undefined): DaySlice[] {
  return plan ? plan.slices.slice(1).filter((s) => s.count > 0) : [];
}

const words = {
  en: { today: 'today', tomorrow: 'tomorrow', from: 'from', on: 'on', none: 'nothing to send' },
  fr: { today: 'aujourd’hui', tomorrow: 'demain', from: 'à partir de', on: 'le', none: 'rien à envoyer' },
};

/**
 * A plan in words: `78,000 today, 22,000 tomorrow from 09:00 Europe/Paris` (en), `78 000
 * aujourd’hui, 22 000 demain à partir de 09:00 Europe/Paris` (fr). Days after tomorrow are
 * named (`on Wed 9 Dec`, `le mer. 9 déc.`); the start's time is shown on each slice that does
 * not start `now`, the zone once at the end. "Today" is `now`'s date (default: when the plan
 * was made; `campaign status` passes the time it is shown).
 */
export function describePlan(
  plan: SendingPlan,
  language: 'en' | 'fr' = 'en',
  now: Date = new Date(plan.madeAt),
): string {
  const w = words[language];
  const locale = language === 'fr' ? 'fr-FR' : 'en-GB';
  const number = new Intl.NumberFormat(language === 'fr' ? 'fr-FR' : 'en-US');
  const today = localDate(now, plan.timeZone);
  const parts = plan.slices
    .filter((slice, i) => i === 0 || slice.count > 0)
    .map((slice, i) => {
      const when =
        slice.date === today
          ? w.today
          : slice.date === nextDate(today)
            ? w.tomorrow
            : `${w.on} ${new Intl.DateTimeFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(`${slice.date}T12:00:00Z`))}`;
      const time =
        i === 0 && slice.from === now.toISOString()
          ? ''
          : ` ${w.from} ${new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: plan.timeZone }).format(new Date(slice.from))}`;
      return `${number.format(slice.count)} ${when}${time}`;
    });
  if (plan.slices.length === 1 && plan.slices[0]?.count === 0) return w.none;
  const timed = parts.some((p) => p.includes(` ${w.from} `));
  return `${parts.join(', ')}${timed ? ` ${plan.timeZone}` : ''}`;
}
