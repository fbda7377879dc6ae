import { readFileSync } from 'node:fs';

/**
 * The peak resident set of this process since it started, in KiB: Linux's VmHWM
 * (/proc/self/status), the high-water mark of the process's own memory. Not
 * `process.resourceUsage().maxRSS`: Linux carries into it the resident set of the process
 * before its exec, so a child spawned by a large parent (the bench process itself, a few
 * hundred MiB after its other suites) reports the parent's size. Elsewhere, maxRSS it is.
 */
export function peakRssKb(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch {
    // Not Linux: no /proc.
  }
  return process.resourceUsage().maxRSS;
}

/** The same, as the source of a function for the scripts the benches run with `node -e` (ES modules). */
export const peakRssKbSource = `
import { readFileSync as __readStatus } from 'node:fs';
function peakRssKb() {
  try {
    const hwm = /^VmHWM:\\s+(\\d+)\\s+kB$/m.exec(__readStatus('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch {}
  return process.resourceUsage().maxRSS;
}
`;
