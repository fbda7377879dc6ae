/**
 * `work` over `items`, at most `limit` at once, the results in the items' order (as
 * `Promise.all(items.map(work))`, without starting every call together: a store's reads a few
 * at a time). The first failure is thrown once the calls in flight have ended; no call starts
 * after it.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`the concurrency limit must be a whole number of 1 or more (value: ${limit})`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}

/**
 * A queue that runs the work given to it one at a time, in the order given: each call starts
 * once the one before has ended (settled, whether it succeeded or failed). For a check then a
 * write of the same files (a version compared, then the file replaced): two at once could both
 * pass the check. It serialises within one process only.
 */
export function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (work) => {
    const run = last.then(work);
    last = run.catch(() => undefined);
    return run;
  };
}
