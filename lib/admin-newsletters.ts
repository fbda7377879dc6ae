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
 * The web admin's newsletters section and withdrawals on the stack (docs/aws.md, "The web admin",
 * "Newsletters"): its reads, and the zone a draft is named in.
 */
export function grantAdminNewsletters(
  fn: PressroomFunction,
  props: { storage: Storage; config: PressroomConfig },
): void {
  props.storage.grantData(fn, { read: [...adminNewsletterReads], write: [...adminWithdrawalWrites] });
  fn.function.addEnvironment('PRESSROOM_TIME_ZONE', props.config.timeZone);
}
