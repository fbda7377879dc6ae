import { Command, InvalidArgumentError, Option } from 'commander';
import { type BackendKind, backendOption, dataDirOption } from '../options.ts';

/*
 * The campaign commands: `send`, `schedule` and `campaign list|status|cancel`. This module only
 * defines them (arguments, options, help); bin/actions/send.ts does the work when one runs.
 */

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('give a number above 0');
  return n;
}

/** `--rate` of send and campaign resume. */
function rateOption(): Option {
  return new Option(
    '--rate <n>',
    'messages per second at most (default: SES’s limit; none for the outbox; 10 for SMTP)',
  ).argParser(positive);
}

/** `--resend-uncertain` of send and campaign resume. */
function resendUncertainOption(): Option {
  return new Option(
    '--resend-uncertain',
    'also send to recipients whose send was in flight when a run stopped (may duplicate)',
  );
}

/** `--daily-start` of send and schedule: checked when the command runs (bin/actions/send.ts). */
function dailyStartOption(): Option {
  return new Option(
    '--daily-start <HH:MM>',
    'on AWS, when the SES daily quota spreads the campaign over days: the earliest time the next days start, in the workspace’s time zone (default 09:00)',
  );
}

/** The options of `pressroom send` that both backends read. */
export interface SendCliOptions {
  dryRun?: boolean;
  /** Checked when the command runs (bin/actions/send.ts): email addresses. */
  testTo?: string[];
  rate?: number;
  resendUncertain?: boolean;
  wait?: boolean;
  json?: boolean;
  /** `HH:MM`: the earliest start of the next days' slices (AWS, quota pacing). */
  dailyStart?: string;
}

/** What `pressroom send` is given. */
export interface SendOptions extends SendCliOptions {
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom schedule` is given. */
export interface ScheduleOptions {
  json?: boolean;
  /** `HH:MM`: the earliest start of the next days' slices (AWS, quota pacing). */
  dailyStart?: string;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom campaign status` is given. */
export interface CampaignStatusOptions {
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom campaign report` is given. */
export interface CampaignReportOptions {
  csv?: string;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom campaign list` is given. */
export interface CampaignListOptions {
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom campaign cancel` is given. */
export interface CampaignCancelOptions {
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom campaign resume` is given. */
export interface CampaignResumeOptions {
  rate?: number;
  resendUncertain?: boolean;
  wait?: boolean;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom campaign approve` is given. */
export interface CampaignApproveOptions {
  by: string;
  version?: string;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** `--test-to a@x,b@y`, repeatable: every address, in order. */
function addresses(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((a) => a.trim())];
}

/** What `pressroom campaign stop` is given. */
export interface CampaignStopOptions {
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** `pressroom send`: sends a campaign (locally or on the stack). */
export function sendCommand(): Command {
  return new Command('send')
    .description('Send a campaign: one personal message per recipient, resumable, at the provider’s rate')
    .argument('<campaign.yaml>', 'the campaign file')
    .option('--dry-run', 'resolve the audience and compose one sample message; send nothing')
    .option(
      '--test-to <address>',
      'send one [TEST] message to each of these addresses only (a@x,b@y or the option repeated); record nothing',
      addresses,
    )
    .addOption(rateOption())
    .addOption(resendUncertainOption())
    .option('--wait', 'when another run is sending this campaign, wait for it to end, then send what is left')
    .addOption(dailyStartOption())
    .option('--json', 'print the report as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
One run sends a campaign at a time: a second \`send\` of it says who is sending it since when
and exits with status 3 (or waits, with --wait). A run that died (kill -9, power loss) is
taken over at once on the same machine, and after 90 s from another one.
Running it again on an interrupted campaign (crash, kill, Ctrl-C), or \`pressroom campaign
resume <name>\`, sends only to recipients who have no outcome yet: nobody gets two copies.
Ctrl-C, or \`pressroom campaign stop <name>\` from elsewhere, stops after the sends in flight.
The mailer is the outbox by default (.eml files under <data-dir>/outbox/<campaign>/);
PRESSROOM_MAILER=smtp or ses sends for real.

Example:
  $ pressroom send examples/campaigns/etude-2021-presse.yaml --dry-run`,
    )
    .action(async (file: string, opts: SendOptions) =>
      (await import('../actions/send.ts')).sendCampaignFile(file, opts),
    );
}

/** `pressroom schedule`: schedules a campaign for its sendAt. */
export function scheduleCommand(): Command {
  return new Command('schedule')
    .description('Schedule a campaign for its sendAt; `pressroom serve` sends it then')
    .argument('<campaign.yaml>', 'the campaign file, with sendAt')
    .addOption(dailyStartOption())
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
sendAt is a date-time with an offset (2021-06-08T08:00:00+02:00) or a local time with an
IANA time zone (2021-06-08T08:00 Europe/Paris): a zoned time is sent at that wall-clock time,
daylight saving or not. Refused when sendAt is missing, in the past, or before the release's
embargo. Scheduling again with another sendAt reschedules; \`pressroom campaign cancel\` cancels.`,
    )
    .action(async (file: string, opts: ScheduleOptions) =>
      (await import('../actions/send.ts')).scheduleCampaignFile(file, opts),
    );
}

/** `pressroom campaign`: list, status, cancel. */
export function campaignCommand(): Command {
  const listCommand = new Command('list')
    .description('Every campaign, its state and its send time (in its own zone and in UTC)')
    .option('--json', 'print as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .action(async (opts: CampaignListOptions) =>
      (await import('../actions/campaign.ts')).listCampaigns(opts),
    );

  const statusCommand = new Command('status')
    .description('Where a campaign stands: sent, failed (by reason), skipped, uncertain, remaining')
    .argument('<name>', 'the campaign name')
    .option('--json', 'print as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .action(async (name: string, opts: CampaignStatusOptions) =>
      (await import('../actions/campaign.ts')).showCampaignStatus(name, opts),
    );

  const reportCommand = new Command('report')
    .description(
      'One row per recipient: sent, delivered, bounced, complained, unsubscribed (opened, clicked)',
    )
    .argument('<name>', 'the campaign name')
    .option('--csv <file>', 'also write the rows as CSV into this file (it holds addresses: mode 600)')
    .option('--json', 'print as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
"Delivered" is what the mailer can know: with SES (--backend aws, or PRESSROOM_MAILER=ses
with its events) the recipient's server accepted the message; with SMTP the relay answered
250; with the outbox the message was written to the outbox folder. Opened and clicked are
shown only for a campaign whose file turns them on (tracking: { opens: true, clicks: true }).

Example:
  $ pressroom campaign report etude-2021-presse --csv rapport.csv`,
    )
    .action(async (name: string, opts: CampaignReportOptions) =>
      (await import('../actions/campaign.ts')).showCampaignReport(name, opts),
    );

  const cancelCommand = new Command('cancel')
    .description('Cancel a scheduled campaign (before it starts)')
    .argument('<name>', 'the campaign name')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .action(async (name: string, opts: CampaignCancelOptions) =>
      (await import('../actions/campaign.ts')).cancelScheduledCampaign(name, opts),
    );

  const resumeCommand = new Command('resume')
    .description('Continue a paused or interrupted campaign: only recipients without an outcome are sent to')
    .argument('<name>', 'the campaign name')
    .addOption(rateOption())
    .addOption(resendUncertainOption())
    .option('--wait', 'when a stopped run has not ended yet, wait for it, then send what is left')
    .option('--json', 'print the report as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
Resumes from the campaign's record (no campaign file needed): a campaign paused by a stop,
the provider, the error budget or a late schedule, or left "sending" by a run that was
interrupted or died. The same lease and ledger as \`pressroom send\`: nobody already mailed
gets a second message. On the stack (--backend aws) it invokes the dispatch function, which
enqueues only the recipients still pending.`,
    )
    .action(async (name: string, opts: CampaignResumeOptions) =>
      (await import('../actions/send.ts')).resumeCampaignByName(name, opts),
    );

  const stopCommand = new Command('stop')
    .alias('pause')
    .description('Stop (pause) a campaign being sent: it is paused, and `campaign resume` continues it')
    .argument('<name>', 'the campaign name')
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
The campaign is marked paused, "stopped by <user@host> at <time>". A run sending it here
stops before its next recipient (the sends in flight finish and are recorded). On the stack
(--backend aws) the dispatched run is closed at once: the send function drops each of its
batches still queued, leaving their recipients pending; a batch being sent finishes first.`,
    )
    .action(async (name: string, opts: CampaignStopOptions) =>
      (await import('../actions/campaign.ts')).stopCampaignByName(name, opts),
    );

  const approveCommand = new Command('approve')
    .description('Record who approved a campaign, as its latest proof shows it (approval: required)')
    .argument('<name>', 'the campaign name')
    .requiredOption('--by <name>', 'who approves, e.g. --by "Florence Poznanski"')
    .option(
      '--version <hash>',
      'approve the proof of this version (8 hex digits or more) rather than the latest',
    )
    .option('--json', 'print the approval as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
Approves the version the latest proof (\`pressroom proof <campaign.yaml>\`) shows: its subject,
sender, audience and options, and the release's (or the issue's) email, page and PDF. Refused
when that is no longer what would be sent (the release was published again since). A campaign
file with \`approval: required\` is then sent and scheduled only while it is that version:
editing it, or publishing the release again, voids the approval.`,
    )
    .action(async (name: string, opts: CampaignApproveOptions) =>
      (await import('../actions/proof.ts')).approveCampaignByName(name, opts),
    );

  return new Command('campaign')
    .description('Campaigns: list, status, report, cancel, stop, resume, approve')
    .addCommand(listCommand)
    .addCommand(statusCommand)
    .addCommand(reportCommand)
    .addCommand(cancelCommand)
    .addCommand(stopCommand)
    .addCommand(resumeCommand)
    .addCommand(approveCommand);
}
