import { createHash } from 'node:crypto';

/** A schedule name: letters, digits, `-`, `_` and `.`, 64 characters at most. */
export const scheduleNamePattern = /^[0-9A-Za-z._-]{1,64}$/;

/**
 * A schedule's name for a campaign or a release: its name (a slug, so only valid
 * characters) when it fits in 64 characters; else its first 55 characters and 8 hex digits
 * of its SHA-256, so two long names never share a schedule.
 */
export function scheduleNameFor(name: string): string {
  if (scheduleNamePattern.test(name)) return name;
  const safe = name.replace(/[^0-9A-Za-z._-]/g, '-');
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${safe.slice(0, 55).replace(/-+$/, '')}-${hash}`;
}
