/** One measured figure, as printed in the table and in the `--json` array. */
export interface BenchRow {
  /** Which benchmark module produced the row, e.g. `render`. */
  suite: string;
  name: string;
  value: number;
  unit: string;
  /** The target from the issue, for information only: a benchmark never fails on speed. */
  target?: { max: number; label: string };
  /**
   * What the figure is compared with, measured in the same run on the same machine (a bare
   * `node -e 0`, raw file writes, the bare parser): the table prints it and the ratio.
   */
  anchor?: { name: string; value: number };
}

/** A benchmark module: a name and a function that measures and returns rows. */
export interface Benchmark {
  name: string;
  description: string;
  run(log: (message: string) => void): Promise<BenchRow[]>;
}

/** Sorted copy's value at quantile q (0..1), nearest-rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Milliseconds elapsed since `start` (a `process.hrtime.bigint()` reading). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
