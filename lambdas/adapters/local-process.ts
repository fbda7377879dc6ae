import { hostname, userInfo } from 'node:os';
import type { CampaignLease, HolderAlive, LeaseOwner } from '../core/campaigns/lease.ts';
import { processAlive } from './folder-store.ts';

/**
 * This process as the holder of a campaign's lease: the machine's name and the process id,
 * which tell which terminal or server is sending, and nothing about who sits there.
 */
export function thisProcess(role?: string): LeaseOwner {
  const host = hostname();
  return { holder: `${role ? `${role} ` : ''}${host} pid ${process.pid}`, host, pid: process.pid };
}

/**
 * A holder on this machine whose process is gone is known dead: its lease is taken over at
 * once rather than when it runs out. A holder elsewhere cannot be told (undefined).
 */
export const localHolderAlive: HolderAlive = (lease: CampaignLease) => {
  if (lease.host !== hostname() || lease.pid === undefined) return undefined;
  if (lease.pid === process.pid) return true;
  return processAlive(lease.pid);
};

/** Who runs the command, for the records it leaves (a withdrawal, a stop): `user@host`. */
export function operator(): string {
  let user = 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // No user entry (some containers): the host still says where it came from.
  }
  return `${user}@${hostname()}`;
}
