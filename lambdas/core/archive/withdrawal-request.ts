import * as z from 'zod';
import { slug } from '../publication/schema.ts';
import { uploadPrefix } from '../publication/upload.ts';

/**
 * A withdrawal asked of a deployed stack apart from the one who asks (the web admin): a small
 * JSON object `publications/withdrawals/<slug>.json`, whose creation starts the publish
 * function (an S3 notification of its own, lib/pressroom-stack.ts), which withdraws the
 * release as `pressroom archive withdraw` does (withdraw.ts). The object stays, the last
 * request for that slug. A redelivered notification finds it withdrawn (`already`), finishes a
 * withdrawal cut short (`resumed`), or, when the release was brought back since it was asked,
 * leaves it as it is (`ignored`).
 */

export const withdrawalRequestPrefix = `${uploadPrefix}withdrawals/`;
export const withdrawalRequestSuffix = '.json';

export const withdrawalRequestSchema = z.strictObject({
  slug,
  /** Why, one line (checkWithdrawReason): recorded in the archive. */
  reason: z.string().min(1),
  /** Who asked, as the archive records it. */
  by: z.string().min(1),
  /** When it was asked (UTC). */
  at: z.iso.datetime(),
});
export type WithdrawalRequest = z.infer<typeof withdrawalRequestSchema>;

export function withdrawalRequestKey(releaseSlug: string): string {
  return `${withdrawalRequestPrefix}${releaseSlug}${withdrawalRequestSuffix}`;
}

/** The slug a request's key names, or undefined when the key is not a request's. */
export function slugOfWithdrawalRequest(key: string): string | undefined {
  if (!key.startsWith(withdrawalRequestPrefix) || !key.endsWith(withdrawalRequestSuffix)) return undefined;
  const name = key.slice(withdrawalRequestPrefix.length, -withdrawalRequestSuffix.length);
  return slug.safeParse(name).success ? name : undefined;
}
