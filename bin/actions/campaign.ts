import { writeFileAtomically } from '../../lambdas/adapters/file-output.ts';
import { audienceLists, campaignNames, readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { campaignReport, type DeliveredBy, reportTable } from '../../lambdas/core/campaigns/report.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { formatInZone, showTime } from '../../lambdas/core/campaigns/time.ts';
import { spreadsheetHeader, spreadsheetLines } from '../../lambdas/core/csv.ts';
import type {
  CampaignCancelOptions,
  CampaignListOptions,
  CampaignReportOptions,
  CampaignStatusOptions,
  CampaignStopOptions,
} from '../commands/send.ts';
import { loadConfig, openAwsBackend, storeAndLedger, storeFor } from '../context.ts';
import { print } from '../output.ts';
import { planLines } from '../pacing.ts';

/**
 * `pressroom campaign list|status|report|cancel`: they read (or cancel) campaigns in the store of
 * either backend, and load nothing that sends or renders, so that they start fast.
 */

/** `pressroom campaign status`: where a campaign stands, from the store of either backend. */
export async function showCampaignStatus(name: string, opts: CampaignStatusOptions): Promise<void> {
  const config = loadConfig(opts);
  const zone = config.timeZone;
  const { store, ledger } = await storeAndLedger(opts, config);
  const s = await campaignStatus(store, name, new Date(), ledger);
  if (opts.json) return print(s, true);
  print([
    `${s.name} (${s.newsletter !== undefined ? `newsletter ${s.newsletter}` : s.publication}): ${s.state}`,
    `  audience    ${s.audience}`,
    `  sent        ${s.sent}`,
    `  failed      ${s.failed}${
      Object.keys(s.failedByReason).length
        ? ` (${Object.entries(s.failedByReason)
            .map(([r, n]) => `${r}: ${n}`)
            .join(', ')})`
        : ''
    }${s.retryable ? `, ${s.retryable} to retry on resume` : ''}`,
    `  skipped     ${s.skipped}`,
    `  deferred    ${s.deferred}`,
    `  uncertain   ${s.uncertain}${s.uncertainRecipients.length ? `: ${s.uncertainRecipients.map((r) => r.name ?? r.email).join(', ')}` : ''}`,
    `  remaining   ${s.remaining}`,
    ...(s.lease
      ? [
          `  being sent by ${s.lease.holder} since ${showTime(s.lease.since, zone)} (lease renewed until ${showTime(s.lease.expiresAt, zone)})`,
        ]
      : []),
    // A due job that failed pauses with its error as the reason: said once, with its time.
    ...(s.pausedReason && s.pausedReason !== s.lastError?.message ? [`  paused: ${s.pausedReason}`] : []),
    ...(s.lastError ? [`  last error  ${showTime(s.lastError.at, zone)}: ${s.lastError.message}`] : []),
    ...(s.approval
      ? [
          `  approval    ${
            s.approval.by && s.approval.at
              ? `approved by ${s.approval.by}, ${showTime(s.approval.at, zone)} (version ${s.approval.version?.slice(0, 12)})`
              : 'none recorded'
          }${s.approval.required ? '; required to send' : ''}`,
        ]
      : []),
    ...(s.hold
      ? [
          `  held        all sending is held since ${showTime(s.hold.since, zone)} (${s.hold.reason}): nothing starts or resumes until the hold goes (docs/aws.md, "Reputation: the sending hold")`,
        ]
      : []),
    ...(s.state === 'paused' ? [`  resume      \`${resumeCommandFor(name, opts)}\``] : []),
    // Spread over days by the SES quota (--backend aws): the last dispatch's plan, while it
    // matters (a finished campaign sent in one go needs none).
    ...(s.plan && (s.plan.slices.length > 1 || s.state === 'sending' || s.state === 'scheduled')
      ? planLines(s.plan, '  pacing      ', new Date())
      : []),
  ]);
}

/** What "delivered" means, per mailer (lambdas/core/campaigns/report.ts). */
const deliveredMeaning: Record<DeliveredBy, string> = {
  provider: "SES: accepted by the recipient's server",
  relay: 'SMTP: accepted by the relay (250)',
  outbox: 'outbox: written to the outbox folder, nothing left this machine',
};

/**
 * `pressroom campaign report`: the counts, then one row per recipient (times in the
 * workspace's zone); `--csv` writes the rows (UTC times) into a file only its owner reads.
 */
export async function showCampaignReport(name: string, opts: CampaignReportOptions): Promise<void> {
  const config = loadConfig(opts);
  const zone = config.timeZone;
  const { store, ledger } = await storeAndLedger(opts, config);
  const report = await campaignReport(store, name, ledger);
  if (opts.csv) {
    const file = opts.csv;
    const table = reportTable(report);
    await writeFileAtomically(
      file,
      async (out) => {
        out.write(spreadsheetHeader(table.columns));
        out.write(spreadsheetLines(table.rows));
      },
      { mode: 0o600 },
    );
  }
  if (opts.json) return print(report, true);
  const c = report.counts;
  const short = (iso: string | undefined) => (iso ? showTime(iso, zone).slice(5, 16) : '');
  const columns = [
    'address',
    'status',
    'sent',
    'delivered',
    'bounced',
    'complained',
    'unsubscribed',
    ...(report.tracking.opens ? ['opened'] : []),
    ...(report.tracking.clicks ? ['clicked'] : []),
  ];
  const cells = report.rows.map((r) => [
    r.name ? `${r.name} <${r.email}>` : r.email,
    r.rejected
      ? `${r.status}, rejected by SES${r.rejected.reason ? ` (${r.rejected.reason})` : ''}`
      : r.reason
        ? `${r.status} (${r.reason})`
        : r.status,
    short(r.sentAt),
    short(r.delivered?.at),
    r.bounce ? `${short(r.bounce.at)} ${r.bounce.type}${r.bounce.subType ? `/${r.bounce.subType}` : ''}` : '',
    short(r.complainedAt),
    short(r.unsubscribedAt),
    ...(report.tracking.opens ? [r.opened ? `${short(r.opened.first)} ×${r.opened.count}` : ''] : []),
    ...(report.tracking.clicks ? [r.clicked ? `${short(r.clicked.first)} ×${r.clicked.count}` : ''] : []),
  ]);
  const widths = columns.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const pct = (n: number) => (c.sent > 0 ? ` (${Math.round((100 * n) / c.sent)}%)` : '');
  print([
    `${report.name} (${report.newsletter !== undefined ? `newsletter ${report.newsletter}` : report.publication}): ${report.state}`,
    `  recipients    ${c.recipients}`,
    `  sent          ${c.sent}`,
    `  delivered     ${c.delivered}${pct(c.delivered)}${report.deliveredBy.length ? `: ${report.deliveredBy.map((b) => deliveredMeaning[b]).join('; ')}` : ''}`,
    `  bounced       ${c.bounced}${pct(c.bounced)}${c.bounced ? `, ${c.hardBounced} permanent` : ''}`,
    `  complained    ${c.complained}`,
    `  unsubscribed  ${c.unsubscribed}`,
    ...(c.opened !== undefined ? [`  opened        ${c.opened}${pct(c.opened)}`] : []),
    ...(c.clicked !== undefined ? [`  clicked       ${c.clicked}${pct(c.clicked)}`] : []),
    ...(report.tracking.opens || report.tracking.clicks
      ? []
      : ['  opens, clicks not tracked (the campaign file did not turn them on)']),
    ...(c.rejected ? [`  rejected      ${c.rejected} (SES took them, then refused to send them)`] : []),
    `  failed ${c.failed}, skipped ${c.skipped}, not sent yet ${c.pending}`,
    '',
    `times in ${zone}`,
    line(columns),
    ...cells.map(line),
    ...(opts.csv ? ['', `Wrote ${report.rows.length} row(s) into ${opts.csv}`] : []),
  ]);
}

/** `pressroom campaign list`: every campaign, its state (marked when its last start failed) and its send time. */
export async function listCampaigns(opts: CampaignListOptions): Promise<void> {
  const store = await storeFor(opts);
  const rows = [];
  for (const name of await campaignNames(store)) {
    const c = await readCampaign(store, name);
    const at = c.definition.sendAt;
    rows.push({
      name,
      state: c.state,
      ...(c.definition.newsletter !== undefined
        ? { newsletter: c.definition.newsletter }
        : { publication: c.definition.publication }),
      list: audienceLists(c.definition.audience).join(', '),
      ...(at && { sendAt: { local: formatInZone(at.utc, at.zone), zone: at.zone, utc: at.utc } }),
      ...(c.lastError && { lastError: c.lastError }),
    });
  }
  if (opts.json) return print(rows, true);
  if (rows.length === 0) return print('No campaigns yet.');
  print(
    rows.map(
      (r) =>
        `${r.name.padEnd(28)} ${(r.lastError ? `${r.state} (failed: see campaign status)` : r.state).padEnd(10)} ${r.sendAt ? `${r.sendAt.local} = ${r.sendAt.utc} UTC` : 'no send time'}`,
    ),
  );
}

/** `pressroom campaign cancel`: cancels a scheduled campaign (and its schedule on the stack). */
export async function cancelScheduledCampaign(name: string, opts: CampaignCancelOptions): Promise<void> {
  if (opts.backend === 'aws') {
    const aws = await openAwsBackend();
    const { cancelCampaignRemotely } = await import('../../lambdas/core/campaigns/remote.ts');
    const { scheduleDeleted } = await cancelCampaignRemotely(name, aws, new Date());
    return print(
      `Cancelled ${name}${scheduleDeleted ? `; its schedule in ${aws.outputs.ScheduleGroupName} is deleted` : ' (it had no schedule left)'}.`,
    );
  }
  const { cancelCampaign } = await import('../../lambdas/core/campaigns/schedule.ts');
  await cancelCampaign(await storeFor(opts), name, new Date());
  print(`Cancelled ${name}.`);
}

/** The command that resumes a campaign on the backend the user named. */
export const resumeCommandFor = (name: string, opts: { backend: string }) =>
  `pressroom campaign resume ${name}${opts.backend === 'aws' ? ' --backend aws' : ''}`;

/**
 * `pressroom campaign stop`: marks a campaign being sent paused ("stopped by user@host at
 * time"); the run sending it stops before its next recipient, or, on the stack, its batches
 * still queued are dropped. `campaign resume` continues it.
 */
export async function stopCampaignByName(name: string, opts: CampaignStopOptions): Promise<void> {
  const { operator, localHolderAlive } = await import('../../lambdas/adapters/local-process.ts');
  const { stopCampaign } = await import('../../lambdas/core/campaigns/control.ts');
  const config = loadConfig(opts);
  const aws = opts.backend === 'aws';
  const result = await stopCampaign(name, {
    store: await storeFor(opts, config),
    by: operator(),
    timeZone: config.timeZone,
    ...(aws ? { backendFlag: ' --backend aws' } : { holderAlive: localHolderAlive }),
  });
  const reason = result.record.pausedReason ?? 'paused';
  if (opts.json) {
    return print(
      {
        name,
        state: result.record.state,
        pausedReason: reason,
        outcome: result.alreadyPaused !== undefined ? 'already paused' : 'stopped',
        ...(result.runStopping && { runStopping: result.runStopping }),
        ...(result.dispatchedRunClosed && { dispatchedRunClosed: result.dispatchedRunClosed }),
      },
      true,
    );
  }
  const resume = `\`${resumeCommandFor(name, opts)}\` continues it.`;
  if (result.alreadyPaused !== undefined) return print(`${name} is already paused: ${reason}. ${resume}`);
  print([
    `Stopped ${name}: paused, ${reason}.`,
    ...(result.runStopping
      ? [
          `  ${result.runStopping} stops before its next recipient (the sends in flight finish and are recorded).`,
        ]
      : []),
    ...(result.dispatchedRunClosed
      ? [
          '  The send function drops the batches still queued, leaving their recipients pending; a batch being sent finishes first.',
        ]
      : []),
    `  ${resume}`,
  ]);
}
