import type { SendTime } from './time.ts';

/** When a one-time schedule fires: an `at()` wall-clock time read in `timezone`. */
export interface OneTimeSchedule {
  /** `at(2021-06-08T08:00:00)` */
  expression: string;
  /** An IANA zone, or `UTC` for a time written with an offset. */
  timezone: string;
}

/** A fixed offset (`UTC+02:00`) or UTC itself: the zone of a time written with an offset. */
const offsetZone = /^UTC([+-]\d{2}:\d{2})?$/;

/**
 * The `at()` expression of a send time. A zoned time is given as its wall-clock time in
 * its IANA zone, so Scheduler keeps it at 08:00 Paris time whatever the daylight saving
 * (the wall time is read back from the stored instant, so a time in a spring-forward gap
 * fires at the instant the local mode would). A time written with an offset is one
 * instant: it is given in UTC.
 */
export function oneTimeSchedule(sendAt: SendTime): OneTimeSchedule {
  const instant = new Date(sendAt.utc);
  if (offsetZone.test(sendAt.zone)) {
    return { expression: `at(${instant.toISOString().slice(0, 19)})`, timezone: 'UTC' };
  }
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: sendAt.zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  const wall = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  return { expression: `at(${wall})`, timezone: sendAt.zone };
}
