import type { WithdrawRequest } from '../core/archive/withdraw.ts';
import { type WithdrawalRequest, withdrawalRequestKey } from '../core/archive/withdrawal-request.ts';
import type { ObjectStore } from '../core/store/object-store.ts';

/**
 * Withdrawing on a deployed stack from the web admin: the request written to
 * `publications/withdrawals/<slug>.json` (withdrawal-request.ts), whose creation starts the
 * publish function, which withdraws the release. The admin itself writes nothing of the
 * archive, the catalog or the press room.
 */
export function storeWithdrawals(
  store: ObjectStore,
  clock: () => Date = () => new Date(),
): (slug: string, request: WithdrawRequest) => Promise<void> {
  return async (slug, { reason, by }) => {
    const request: WithdrawalRequest = { slug, reason, by, at: clock().toISOString() };
    await store.put(withdrawalRequestKey(slug), `${JSON.stringify(request, null, 2)}\n`, {
      contentType: 'application/json',
    });
  };
}
