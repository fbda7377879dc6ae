/**
 * Send times: an ISO date-time with an offset (`2021-06-08T08:00:00+02:00`), or a local
 * wall-clock time with an IANA zone (`2021-06-08T08:00 Europe/Paris`). Stored in UTC, the
 * zone kept for display; a zoned time keeps its wall-clock meaning across daylight saving.
 */

export interface SendTime {
  /** The instant, ISO in UTC. */
  utc: string;
  /** The zone the time was written in (IANA), or the offset, for display. */
  zone: string;
  /** As the user wrote it. */
  written: string;
}

const zoned =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?\s+([A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*)$/;
const withOffset = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Parses a send time; undefined with a reason when it is not one. */
export function parseSendTime(value: string): SendTime | { error: string } {
  const text = value.trim();
  const offset = withOffset.exec(text);
  if (offset) {
    const [, y, mo, d, h, mi, sec] = offset;
    const wall = {
      year: +(y ?? 0),
      month: +(mo ?? 0),
      day: +(d ?? 0),
      hour: +(h ?? 0),
      minute: +(mi ?? 0),
      second: +(sec ?? 0),
    };
    const ms = Date.parse(text);
    if (!realWallTime(wall) || Number.isNaN(ms)) return { error: 'is not a real date-time' };
    return {
      utc: new Date(ms).toISOString(),
      zone: offset[7] === 'Z' ? 'UTC' : `UTC${offset[7]}`,
      written: text,
    };
  }
  const match = zoned.exec(text);
  if (!match) {
    return {
      error:
        'must be a date-time with an offset (2021-06-08T08:00:00+02:00) or a local time with a time zone (2021-06-08T08:00 Europe/Paris)',
    };
  }
  const [, y, mo, d, h, mi, s, zone] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  if (!isTimeZone(zone))
    return { error: `has an unknown time zone "${zone}" (use an IANA name such as Europe/Paris)` };
  const wall = { year: +y, month: +mo, day: +d, hour: +h, minute: +mi, second: +(s ?? 0) };
  if (!realWallTime(wall)) return { error: 'is not a real date-time' };
  return { utc: zonedToUtc(wall, zone).toISOString(), zone, written: text };
}

/** A calendar date that exists, and a time of day from 00:00:00 to 23:59:59. */
function realWallTime(w: Wall): boolean {
  if (w.hour > 23 || w.minute > 59 || w.second > 59 || w.month < 1 || w.month > 12) return false;
  const check = new Date(Date.UTC(w.year, w.month - 1, w.day));
  return check.getUTCMonth() === w.month - 1 && check.getUTCDate() === w.day;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The zone's offset from UTC at an instant, in milliseconds. */
function offsetAt(instant: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant at which the zone's clocks show `wall`. A time skipped by a spring change
 * (02:30 in Paris on the last Sunday of March) is taken as the same time after the change
 * (03:30); a time shown twice by an autumn change is taken at its first showing.
 */
export function zonedToUtc(wall: Wall, zone: string): Date {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const before = offsetAt(asUtc - 86_400_000, zone);
  const after = offsetAt(asUtc + 86_400_000, zone);
  // Try both offsets around the date; keep the earliest that shows the wall time.
  const candidates = [...new Set([before, after])].map((o) => asUtc - o).sort((a, b) => a - b);
  for (const t of candidates) if (offsetAt(t, zone) === asUtc - t) return new Date(t);
  // In a gap: move forward by the size of the jump.
  return new Date(asUtc - before);
}

/** `mardi 8 juin 2021 à 08:00 (Europe/Paris)` style display in the time's own zone. */
export function formatInZone(utc: string, zone: string, locale = 'fr-FR'): string {
  const offset = /^UTC([+-])(\d{2}):(\d{2})$/.exec(zone);
  if (offset) {
    // A fixed offset: shift the instant and show it as UTC, whatever the offset's minutes.
    const minutes = (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
    const shifted = new Date(Date.parse(utc) + minutes * 60_000);
    return `${new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', timeZone: 'UTC' }).format(shifted)} (${zone})`;
  }
  return `${new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', timeZone: zone }).format(new Date(utc))} (${zone})`;
}

/**
 * A time as the command line shows it: in the workspace's zone, with the offset, so that
 * nobody has to convert from UTC (`2021-06-08 08:00 +02:00 Europe/Paris`). Seconds are shown
 * only when there are some.
 */
export function showTime(utc: string | Date, zone: string): string {
  const instant = typeof utc === 'string' ? Date.parse(utc) : utc.getTime();
  if (Number.isNaN(instant)) return String(utc);
  const offsetMs = offsetAt(instant, zone);
  const local = new Date(Math.floor(instant / 1000) * 1000 + offsetMs);
  const iso = local.toISOString();
  const seconds = iso.slice(17, 19);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}${seconds === '00' ? '' : `:${seconds}`} ${offsetText(offsetMs)} ${zone}`;
}

/** An offset from UTC in milliseconds as `+02:00`. */
function offsetText(offsetMs: number): string {
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const sign = offsetMs < 0 ? '-' : '+';
  return `${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/**
 * An instant as an ISO date-time with the offset its zone has then:
 * `2021-06-08T06:00:00.000Z` in Europe/Paris → `2021-06-08T08:00:00+02:00`.
 */
export function isoWithOffset(utc: string, zone: string): string {
  const instant = Math.floor(Date.parse(utc) / 1000) * 1000;
  const offsetMs = offsetAt(instant, zone);
  return `${new Date(instant + offsetMs).toISOString().slice(0, 19)}${offsetText(offsetMs)}`;
}

/** The machine's own time zone (IANA), the default when a workspace names none. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * A schedule that starts its campaign more than this many minutes after its time (an
 * outage, a runner that was off) pauses the campaign instead of sending: an announcement
 * meant for 08:00 may be wrong at noon. Locally `lateFireWindowMinutes` in pressroom.yaml
 * (or PRESSROOM_LATE_FIRE_WINDOW_MINUTES) sets it, on AWS the stack's context key.
 */
export const defaultLateFireWindowMinutes = 60;
