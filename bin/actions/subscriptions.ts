import { purgeSubscriptionState } from '../../lambdas/core/contacts/subscription.ts';
import type { SubscriptionsSweepOptions } from '../commands/subscriptions.ts';
import { storeFor } from '../context.ts';
import { print } from '../output.ts';

/**
 * `pressroom subscriptions sweep`: expired confirmation requests and spent rate-limit windows
 * removed now, in the local store or the stack's bucket; counts only.
 */
export async function sweepSubscriptions(opts: SubscriptionsSweepOptions): Promise<void> {
  const store = await storeFor(opts);
  const removed = await purgeSubscriptionState(store, new Date());
  if (opts.json) return print(removed, true);
  print(
    `Removed ${removed.pending} expired or emptied request record(s) and ${removed.throttles} spent rate-limit window(s).`,
  );
}
