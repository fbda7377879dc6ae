import { BusyError } from '../errors.ts';
import type { CampaignRecord } from './campaign.ts';
import { showTime } from './time.ts';

/**
 * The lease on a campaign: one run sends it at a time. The run that holds it renews it
 * while it runs (every `leaseRenewMs`, for `leaseMs`); another `send` of the same campaign
 * is told who holds it since when (BusyError, exit 3), or waits. A lease that was not
 * renewed in time belongs to a run that died (kill -9, power loss, a laptop put to sleep):
 * the next run takes it over and resumes, and the ledger keeps anyone from a second copy.
 * The lease lives in the campaign record, so that taking it and changing the campaign's
 * state are one compare-and-swap (the scheduler's takeover included).
 */

/** Who holds a lease, as people are shown it: never a person's name or address. */
export interface LeaseOwner {
  /** "host pid 1234", "the dispatch function", "pressroom serve on host pid 99". */
  holder: string;
  /** The machine and process, when the holder is a local process: a dead one is known at once. */
  host?: string;
  pid?: number;
}

export interface CampaignLease extends LeaseOwner {
  /** The run holding it (its start time for a dispatched run, a random id otherwise). */
  id: string;
  since: string;
  expiresAt: string;
}

/** How long a lease lasts without renewal, and how often a running send renews it. */
export const leaseMs = 90_000;
export const leaseRenewMs = 20_000;
/**
 * A dispatched run (AWS) is renewed by its batches as the send functions take them: a
 * batch can wait in the queue for minutes (throttling, visibility timeouts), so its lease is
 * longer.
 */
export const dispatchLeaseMs = 15 * 60_000;

/**
 * Tells whether the process behind a lease still runs: false when it is known dead (same
 * machine, no such process), undefined when it cannot be told (another machine, AWS).
 */
export type HolderAlive = (lease: CampaignLease) => boolean | undefined;

/** The campaign is being sent by another run: try again later, or `--wait`. */
export class CampaignBusyError extends BusyError {
  override name = 'CampaignBusyError';
  constructor(
    readonly campaign: string,
    readonly lease: CampaignLease,
    timeZone = 'UTC',
  ) {
    super(
      `campaign "${campaign}" is being sent by ${lease.holder} since ${showTime(lease.since, timeZone)}; follow it with \`pressroom campaign status ${campaign}\`, or add --wait to send once it is done (the lease ends at ${showTime(lease.expiresAt, timeZone)} unless renewed).`,
    );
  }
}

/**
 * The lease in force on a campaign at `now`, or undefined when it is free: no lease, an
 * expired one, or one whose process is known dead. A record written before leases existed
 * has its open run's heartbeat as its lease.
 */
export function activeLease(
  record: CampaignRecord,
  now: Date,
  alive?: HolderAlive,
): CampaignLease | undefined {
  const lease = record.lease ?? legacyLease(record);
  if (!lease) return undefined;
  if (Date.parse(lease.expiresAt) <= now.getTime()) return undefined;
  if (alive?.(lease) === false) return undefined;
  return lease;
}

function legacyLease(record: CampaignRecord): CampaignLease | undefined {
  const last = record.runs.at(-1);
  if (record.state !== 'sending' || !last || last.endedAt || last.batches !== undefined) return undefined;
  const alive = last.heartbeatAt ?? last.startedAt;
  return {
    id: last.startedAt,
    holder: 'an earlier run',
    since: last.startedAt,
    expiresAt: new Date(Date.parse(alive) + leaseMs).toISOString(),
  };
}

/**
 * The record with the lease taken by run `id` until `now + duration`; CampaignBusyError when
 * another run holds it. Taking a lease one already holds renews it.
 */
export function takeLease(
  record: CampaignRecord,
  campaign: string,
  id: string,
  owner: LeaseOwner,
  now: Date,
  options: { duration?: number; alive?: HolderAlive; timeZone?: string } = {},
): CampaignRecord {
  const current = activeLease(record, now, options.alive);
  if (current && current.id !== id) throw new CampaignBusyError(campaign, current, options.timeZone);
  const lease: CampaignLease = {
    ...owner,
    id,
    since: current?.id === id ? current.since : now.toISOString(),
    expiresAt: new Date(now.getTime() + (options.duration ?? leaseMs)).toISOString(),
  };
  return { ...record, lease };
}

/** The record without run `id`'s lease (unchanged when another run holds it now). */
export function dropLease(record: CampaignRecord, id: string): CampaignRecord {
  if (record.lease?.id !== id) return record;
  const { lease: _gone, ...rest } = record;
  return rest;
}
