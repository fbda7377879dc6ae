import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { campaignFilesPrefix } from '../lambdas/adapters/store-campaign-files.ts';
import type { PressroomFunction } from './functions.ts';
import type { LedgerTable } from './ledger-table.ts';
import { allowCampaignSchedules, type Scheduling } from './scheduling.ts';
import type { Storage } from './storage.ts';

/** What the admin's campaigns section works with on the stack. */
export interface AdminCampaignsProps {
  storage: Storage;
  /** The function a send (and a resume) is handed to, and campaign schedules invoke. */
  dispatch: IFunction;
  scheduling: Scheduling;
  ledger: LedgerTable;
  /** The key of contact ids and links: proof links are signed with it. */
  signingSecret: ISecret;
  /** The SES identity the stack sends from: campaigns from another sender are refused. */
  senderIdentity: string;
  /** The zone the schedule form offers and times are shown in. */
  timeZone: string;
}

/** What the campaigns section reads of the data bucket. */
export const adminCampaignReads = [
  `${campaignFilesPrefix}*`,
  // The records, approvals and counters (with the bucket's ledger of older campaigns).
  'campaigns/*',
  'proofs/*',
  // What a campaign sends: the release or issue, rendered, and their catalogs.
  'archive/*',
  'newsletters/*',
  'catalog/*',
  // The audience: the lists, who is on them, who may not be mailed.
  'config/lists.yaml',
  'contacts/*',
  'suppressions/*',
] as const;

/** What it writes: campaign files (never over one), records, approvals, proofs. */
export const adminCampaignWrites = [
  `${campaignFilesPrefix}*.yaml`,
  'campaigns/index.json',
  // The scheduled campaigns' index (core/campaigns/schedule.ts), as `schedule --backend aws` writes it.
  'campaigns/schedule.json',
  'campaigns/*/campaign.json',
  'campaigns/*/approval.json',
  'proofs/*',
] as const;

/**
 * The campaigns section of the web admin on the stack (docs/aws.md, "The web admin"), as the
 * `--backend aws` commands do it, and no more: invoke the dispatch function (its ARN only; a
 * send is handed to it, never sent by the admin), create, update and delete schedules of the
 * campaigns' group only and pass its role to Scheduler only, read the ledger table, read the
 * signing secret (proof links), the bucket's prefixes above. No SES grant: the admin sends no
 * message itself (no test message on the stack: lambdas/handlers/admin-campaigns.ts says why).
 */
export function grantAdminCampaigns(fn: PressroomFunction, props: AdminCampaignsProps): void {
  props.storage.grantData(fn, { read: [...adminCampaignReads], write: [...adminCampaignWrites] });
  props.ledger.grant(fn, 'read');
  // A policy of its own, not the role's default one, which the function depends on: dispatch
  // depends on the distribution (the press room's address), the distribution on the admin's
  // URL, so the function cannot depend on dispatch. For the same reason its ARN reaches the
  // function in the admin's secret (lib/admin.ts), not in its environment.
  const role = fn.function.role;
  if (!role) throw new Error('the admin function has no role');
  new Policy(fn, 'InvokeDispatch', {
    roles: [role],
    statements: [
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.dispatch.functionArn] }),
    ],
  });
  allowCampaignSchedules(
    props.scheduling,
    fn,
    ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
    "A campaign's schedule is named after the campaign, which the admin composes: the campaigns are not known at deploy time, the group is.",
  );
  fn.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [props.signingSecret.secretArn],
    }),
  );
  const environment = {
    PRESSROOM_SECRET_ARN: props.signingSecret.secretArn,
    PRESSROOM_SENDER_IDENTITY: props.senderIdentity,
    PRESSROOM_LEDGER_TABLE: props.ledger.table.tableName,
    PRESSROOM_TIME_ZONE: props.timeZone,
  };
  for (const [name, value] of Object.entries(environment)) fn.function.addEnvironment(name, value);
}
