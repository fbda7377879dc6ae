import { Duration } from 'aws-cdk-lib';
import type { PressroomConfig } from './config.ts';
import type { PressroomFunction } from './functions.ts';
import type { Storage } from './storage.ts';

/**
 * What the admin's newsletters section reads of the data bucket besides the releases'
 * (lib/admin.ts): the catalog's years (the releases an issue can add, and a draft's), and
 * each issue's manifest (published or not). It writes issues as drafts under
 * `publications/newsletters/`, which the releases' `publications/*.md` already covers.
 */
export const adminNewsletterReads = [
  'catalog/years.json',
  'catalog/years/*',
  // A release item's data (its lead, image and press contacts): archive/<slug>/<version>/publication.json.
  'archive/*/publication.json',
  'newsletters/*/issue.json',
] as const;

/**
 * Withdrawing from the admin (docs/aws.md, "Withdrawing"): a request object the publish
 * function acts on, which alone may write the archive, the catalog and the press room.
 */
export const adminWithdrawalWrites = ['publications/withdrawals/*.json'] as const;

/**
 * Signing out (docs/aws.md, "Signing out"): one object per session ended before its time,
 * read on each signed-in request by whichever instance answers (store-signed-out.ts).
 */
export const adminSignOuts = 'admin/signed-out/*';

/**
 * The web admin's newsletters section, withdrawals and sign-outs on the stack (docs/aws.md,
 * "The web admin"): their reads and writes, the sign-outs' lifecycle rule, and the zone a
 * draft is named in.
 */
export function grantAdminNewsletters(
  fn: PressroomFunction,
  props: { storage: Storage; config: PressroomConfig },
): void {
  props.storage.grantData(fn, {
    read: [...adminNewsletterReads, adminSignOuts],
    write: [...adminWithdrawalWrites, adminSignOuts],
  });
  // Sessions last 8 hours: a sign-out's object is of no use after that.
  props.storage.dataBucket.addLifecycleRule({
    id: 'expire-admin-sign-outs',
    prefix: 'admin/signed-out/',
    expiration: Duration.days(1),
    noncurrentVersionExpiration: Duration.days(1),
  });
  fn.function.addEnvironment('PRESSROOM_TIME_ZONE', props.config.timeZone);
}
