import { describePlan, type SendingPlan } from '../lambdas/core/campaigns/quota.ts';

/*
 * How `send`, `schedule` and `campaign status` show the plan that spreads a campaign over days
 * by the SES quota (lambdas/core/campaigns/quota.ts). Locally there is no quota: no lines.
 */

const count = new Intl.NumberFormat('en-US');

/** The plan's lines, `label` padded as the command's other lines; "today" is `now`'s date. */
export function planLines(plan: SendingPlan | undefined, label: string, now?: Date): string[] {
  if (!plan?.quota) return [];
  const q = plan.quota;
  return [
    `${label}${describePlan(plan, 'en', now)}`,
    `${' '.repeat(label.length)}(SES quota: ${count.format(q.sentLast24Hours)} of ${count.format(q.max24Hour)} sent in the last 24 hours, at most ${q.maxSendRate} a second; ${count.format(plan.reserve)} kept free for other mail)`,
  ];
}
