import { createHash } from 'node:crypto';
import type { AdminSession, SignedOutStore } from '../core/admin/session.ts';
import { getText, type ObjectStore } from '../core/store/object-store.ts';

/** Where the stack keeps the admin's ended sessions: expired after a day by a lifecycle rule (lib/admin-newsletters.ts). */
export const signedOutPrefix = 'admin/signed-out/';

/**
 * The admin's sign-outs on a deployed stack, known to every Lambda instance: one small object
 * per ended session (`admin/signed-out/<SHA-256 of its id>`, its end time inside), read on
 * each signed-in request. The id is hashed so that the bucket's access logs never show one.
 * A session ends 8 hours after it opened, so the bucket's lifecycle rule removes the objects
 * after a day, and `has` ignores one past its session's end.
 */
export function storeSignedOutSessions(store: ObjectStore): SignedOutStore {
  const keyOf = (session: AdminSession) =>
    `${signedOutPrefix}${createHash('sha256').update(session.id).digest('hex')}`;
  return {
    async end(session) {
      await store.put(keyOf(session), session.expiresAt.toISOString(), { contentType: 'text/plain' });
    },
    async has(session, now) {
      const until = await getText(store, keyOf(session));
      return until !== undefined && Date.parse(until) > now.getTime();
    },
  };
}
