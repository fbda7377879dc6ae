import { localHolderAlive, thisProcess } from '../../lambdas/adapters/local-process.ts';
import { outboxKey } from '../../lambdas/adapters/outbox-mailer.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { resumeCampaign } from '../../lambdas/core/campaigns/control.ts';
import type { DispatchReport } from '../../lambdas/core/campaigns/dispatch.ts';
import type { Mailer } from '../../lambdas/core/campaigns/mailer.ts';
import {
  checkPacing,
  defaultDailyStart,
  type PacingSettings,
  planSending,
  type SendingPlan,
} from '../../lambdas/core/campaigns/quota.ts';
import {
  resumeCampaignRemotely,
  scheduleCampaignRemotely,
  startCampaign,
} from '../../lambdas/core/campaigns/remote.ts';
import { scheduleCampaign } from '../../lambdas/core/campaigns/schedule.ts';
import {
  type Progress,
  type SendDeps,
  type SendReport,
  type SendOptions as SendRunOptions,
  sendCampaign,
} from '../../lambdas/core/campaigns/send.ts';
import { formatInZone, showTime } from '../../lambdas/core/campaigns/time.ts';
import { audienceSize } from '../../lambdas/core/contacts/audience.ts';
import { normalizeEmail } from '../../lambdas/core/contacts/model.ts';
import { BusyError, UsageError } from '../../lambdas/core/errors.ts';
import type {
  CampaignResumeOptions,
  ScheduleOptions,
  SendCliOptions,
  SendOptions,
} from '../commands/send.ts';
import {
  campaignDefaults,
  createMailer,
  type LocalBackend,
  type LocalConfig,
  loadConfig,
  localBackend,
  localOnly,
  openAwsBackend,
} from '../context.ts';
import { forTerminal, print, warn } from '../output.ts';
import { planLines } from '../pacing.ts';

const takenOver = (name: string, by: string) =>
  `campaign "${name}" was taken over by ${by}, which found this run silent for too long: this run stopped, and that one sends the rest. \`pressroom campaign status ${name}\` follows it.`;

/**
 * A progress bar on a terminal, redrawn at most ten times a second; a plain line every few
 * seconds otherwise (logs, CI). The rate is the real one over the last few seconds (not
 * since the start, which counts reading the audience), and the ETA follows from it.
 */
export function progressPrinter(stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'>, now = () => Date.now()) {
  let lastLine = Number.NEGATIVE_INFINITY;
  const window = new RecentRate(5_000);
  return {
    update(p: Progress) {
      const at = now();
      window.add(at, p.done);
      const finished = p.done >= p.total;
      if (!finished && at - lastLine < (stream.isTTY ? 100 : 5000)) return;
      lastLine = at;
      const share = p.total ? p.done / p.total : 1;
      const rate = window.rate();
      const eta = rate > 0 ? formatDuration((p.total - p.done) / rate) : '?';
      const text = `${p.done}/${p.total} · sent ${p.sent} · failed ${p.failed} · skipped ${p.skipped} · ${rate >= 100 ? Math.round(rate) : rate.toFixed(1)}/s · ETA ${eta}`;
      if (stream.isTTY) {
        const width = 24;
        const bar = '█'.repeat(Math.round(share * width)).padEnd(width, '░');
        stream.write(`\r${bar} ${text}\u001b[K`);
        if (finished) stream.write('\n');
      } else {
        stream.write(`${text}\n`);
      }
    },
    end() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}

/** Messages per second over the last `spanMs`, from (time, count done) readings. */
class RecentRate {
  private readonly times: number[] = [];
  private readonly counts: number[] = [];
  private head = 0;
  constructor(private readonly spanMs: number) {}
  add(at: number, done: number): void {
    this.times.push(at);
    this.counts.push(done);
    // Keep one reading older than the span, as the start of the window.
    while (this.head + 1 < this.times.length && (this.times[this.head + 1] as number) <= at - this.spanMs)
      this.head++;
    if (this.head > 1024) {
      this.times.splice(0, this.head);
      this.counts.splice(0, this.head);
      this.head = 0;
    }
  }
  rate(): number {
    const last = this.times.length - 1;
    const ms = (this.times[last] as number) - (this.times[this.head] as number);
    if (last <= this.head || ms <= 0) return 0;
    return (((this.counts[last] as number) - (this.counts[this.head] as number)) / ms) * 1000;
  }
}

/** 75 → "1m15s", 3 → "3s". */
function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A mailer for a dry run on the stack, which composes a sample and sends nothing. */
const noMailer: Mailer = {
  name: 'none (dry run)',
  idempotent: true,
  send() {
    throw new Error('a dry run sends nothing');
  },
};

/**
 * What sending needs on the local backend: this process as the lease holder (`role`, e.g.
 * "pressroom serve on"), its addresses for the link check, the workspace's time zone.
 */
export function localSendDeps(backend: LocalBackend, mailer: Mailer, role?: string): SendDeps {
  const config = backend.config;
  return {
    store: backend.store,
    mailer,
    keys: backend.keys,
    publicUrl: config.publicUrl,
    siteUrl: config.siteUrl,
    ...(config.unsubscribeMailbox && { unsubscribeMailbox: config.unsubscribeMailbox }),
    owner: thisProcess(role),
    holderAlive: localHolderAlive,
    timeZone: config.timeZone,
    // Lists pressroom.yaml declares are known even before anyone is on them.
    lists: Object.keys(config.lists),
  };
}

/**
 * `send --backend aws`: the campaign record goes into the bucket and the stack's dispatch
 * function is invoked; a dry run reads the bucket and composes a sample here.
 */
async function sendOnStack(file: string, opts: SendCliOptions): Promise<void> {
  localOnly(
    opts.testTo !== undefined,
    '--test-to',
    'the stack sends only whole campaigns. Send the test from this machine with the same data: `pressroom send --test-to` on the local backend, or a campaign whose list holds only you',
  );
  localOnly(
    opts.rate !== undefined,
    '--rate',
    'the stack’s sending rate is its `sendRate` context value (npx cdk deploy -c sendRate=N)',
  );
  const aws = await openAwsBackend();
  const definition = await readCampaignFile(file, aws.files, campaignDefaults(loadConfig({})));
  (await import('../aws-backend.ts')).checkSenderOnStack(aws, definition.name, definition.from.address);
  if (opts.dryRun) {
    const report = await sendCampaign(
      definition,
      {
        store: aws.store,
        mailer: noMailer,
        keys: await aws.signingKeys(),
        // Links are on the press room's domain, as the stack's send function makes them.
        publicUrl: aws.outputs.PressRoomUrl.replace(/\/+$/, ''),
      },
      { dryRun: true },
    );
    const plan = await estimatePlan(report.audience - report.alreadyDone, new Date(), pacingFor(opts));
    if (opts.json) return print({ ...report, ...(plan && { plan }) }, true);
    const sample = report.dryRun?.sample;
    return print([
      `Dry run of ${definition.name} on the stack (${aws.outputs.DataBucketName}): nothing sent, nothing written.`,
      `  audience      ${report.audience} (already done: ${report.alreadyDone})`,
      ...doNotContactLine(report.doNotContact),
      sample
        ? `  sample        "${sample.subject}" to ${sample.to}, ${Math.round(sample.size / 1024)} KB`
        : '  sample        none: the audience is empty',
      ...estimateLines(plan),
    ]);
  }
  let report: Awaited<ReturnType<typeof startCampaign>>;
  for (let told = false; ; told = true) {
    try {
      report = await startCampaign(definition, aws, file, {
        resendUncertain: opts.resendUncertain === true,
        pacing: pacingFor(opts),
      });
      break;
    } catch (error) {
      // Another run holds the campaign: with --wait, dispatch again every few seconds.
      if (!(error instanceof BusyError) || !opts.wait) throw error;
      if (!told) process.stderr.write(`waiting: ${error.message.replace(/; follow it.*$/, '')}\n`);
      await new Promise((r) => setTimeout(r, 5_000));
    }
  }
  printDispatch(definition.name, report, aws.outputs.DispatchFunctionName, opts);
}

/**
 * Where and from when a campaign larger than the SES quota allows goes on the next days: the
 * workspace's zone, `--daily-start` (default 09:00). Kept in the campaign's record for dispatch.
 */
function pacingFor(opts: { dailyStart?: string }): PacingSettings {
  try {
    return checkPacing({
      timeZone: loadConfig({}).timeZone,
      dailyStart: opts.dailyStart ?? defaultDailyStart,
    });
  } catch (error) {
    throw new UsageError(`--daily-start: ${(error as Error).message}`);
  }
}

/**
 * The plan `schedule` and `send --dry-run` show with `--backend aws`: `count` recipients from
 * `start`, by the quota read now with these credentials (what was sent in the last 24 hours is
 * gone by a start a day away). Dispatch makes the real plan when it runs. Undefined when SES
 * cannot be asked (or its account has no daily limit).
 */
async function estimatePlan(
  count: number | Promise<number>,
  start: Date,
  pacing: PacingSettings,
): Promise<SendingPlan | undefined> {
  const { SesSendingQuota } = await import('../../lambdas/adapters/ses-quota.ts');
  const quota = await new SesSendingQuota({ timeoutMs: 10_000 }).read().catch(() => undefined);
  if (!quota) return undefined;
  const dayAway = start.getTime() - Date.now() >= 86_400_000;
  return planSending(await count, dayAway ? { ...quota, sentLast24Hours: 0 } : quota, start, pacing);
}

/** The estimated plan's lines, or that it is unknown. */
function estimateLines(plan: SendingPlan | undefined): string[] {
  return plan
    ? planLines(plan, '  pacing        ', new Date()).map((line, i) =>
        i === 0 ? `${line} (an estimate, from the quota and the audience now)` : line,
      )
    : ['  pacing        unknown: the SES quota could not be read (dispatch reads it when it runs)'];
}

/** The do-not-contact people the audience left out, when there are any. */
function doNotContactLine(count: number | undefined): string[] {
  return count ? [`  do not contact ${count}: matching the audience, left out (never mailed)`] : [];
}

/** What dispatch on the stack did, as `send` and `campaign resume` print it. */
function printDispatch(name: string, report: DispatchReport, by: string, opts: { json?: boolean }): void {
  if (opts.json) {
    print(report, true);
    return;
  }
  print([
    `${name}: dispatched by ${by} (${report.state})`,
    `  audience      ${report.audience}`,
    ...doNotContactLine(report.doNotContact),
    `  enqueued      ${report.enqueued} recipient(s) in ${report.batches} batch(es)`,
    `  already done  ${report.alreadyDone}`,
    ...planLines(report.plan, '  pacing        '),
    ...(report.continuation
      ? [
          `  next slice    dispatched again at ${showTime(report.continuation.at, report.plan?.timeZone ?? 'UTC')} by its schedule ${report.continuation.name} (the quota is read again then)`,
        ]
      : []),
    ...(report.uncertain.length
      ? [
          `  uncertain     ${report.uncertain.length}: in flight when a run stopped, not resent (see --resend-uncertain)`,
        ]
      : []),
    `  \`pressroom campaign status ${name} --backend aws\` follows the sending.`,
  ]);
}

/** `schedule --backend aws`: the record says scheduled and an EventBridge schedule starts dispatch. */
async function scheduleOnStack(
  file: string,
  opts: Pick<ScheduleOptions, 'json' | 'dailyStart'>,
): Promise<void> {
  const aws = await openAwsBackend();
  const definition = await readCampaignFile(file, aws.files, campaignDefaults(loadConfig({})));
  (await import('../aws-backend.ts')).checkSenderOnStack(aws, definition.name, definition.from.address);
  const { record, schedule, action } = await scheduleCampaignRemotely(
    definition,
    { ...aws, pacing: pacingFor(opts) },
    file,
  );
  const at = record.definition.sendAt;
  const plan =
    at &&
    (await estimatePlan(
      audienceSize(aws.store, definition.audience, Object.keys(loadConfig({}).lists)),
      new Date(at.utc),
      pacingFor(opts),
    ));
  if (opts.json) {
    return print(
      {
        name: definition.name,
        state: record.state,
        sendAt: at,
        schedule: { group: aws.outputs.ScheduleGroupName, ...schedule, action },
        ...(plan && { plan }),
      },
      true,
    );
  }
  print([
    `${action === 'created' ? 'Scheduled' : 'Rescheduled'} ${definition.name} for ${at ? `${formatInZone(at.utc, at.zone)} = ${at.utc} UTC` : '?'}`,
    `  EventBridge Scheduler ${aws.outputs.ScheduleGroupName}/${schedule.name}: ${schedule.expression} ${schedule.timezone} invokes ${aws.outputs.DispatchFunctionName}, then is deleted.`,
    ...estimateLines(plan),
  ]);
}

/**
 * `pressroom send`: sends a campaign, one personal message per recipient, resumable, at the
 * provider's rate; or a dry run, or one [TEST] message. On the stack (`--backend aws`) the
 * stack's dispatch function sends it. Exit 3 when paused or taken over, nothing lost.
 */
export async function sendCampaignFile(file: string, options: SendOptions): Promise<void> {
  // Checked here rather than when the command line is parsed, which loads nothing heavy.
  const testTo = options.testTo?.map((given) => {
    const address = normalizeEmail(given);
    if (!address)
      throw new UsageError(
        `--test-to ${JSON.stringify(given)} is not an email address: give the addresses the test goes to (a@example.org,b@example.org, or --test-to repeated)`,
      );
    return address;
  });
  const opts: SendOptions = { ...options, ...(testTo && { testTo: [...new Set(testTo)] }) };
  if (opts.backend === 'aws') return sendOnStack(file, opts);
  const config = loadConfig(opts);
  const backend = await localBackend(config, { pdf: false });
  const definition = await readCampaignFile(file, backend.files, campaignDefaults(config));
  await sendHere(definition.name, config, backend, opts, (deps, sendOptions) =>
    sendCampaign(definition, deps, sendOptions),
  );
}

/**
 * A run on this machine, of `send` or `campaign resume`: the mailer, Ctrl-C, the progress
 * bar, and the report; exit 3 when paused or taken over, nothing lost.
 */
async function sendHere(
  name: string,
  config: LocalConfig,
  backend: LocalBackend,
  opts: SendCliOptions,
  run: (deps: SendDeps, options: SendRunOptions) => Promise<SendReport>,
): Promise<void> {
  const mailer = await createMailer(config, backend.store);
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping after the sends in flight (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  const bar = opts.json || opts.dryRun || opts.testTo ? undefined : progressPrinter(process.stderr);
  let waiting = false;
  try {
    const report = await run(localSendDeps(backend, mailer), {
      ...(opts.rate !== undefined && { rate: opts.rate }),
      wait: opts.wait === true,
      onWait: (busy) => {
        if (waiting) return;
        waiting = true;
        process.stderr.write(`waiting: ${busy.message.replace(/; follow it.*$/, '')}\n`);
      },
      dryRun: opts.dryRun === true,
      ...(opts.testTo && { testTo: opts.testTo }),
      resendUncertain: opts.resendUncertain === true,
      signal: controller.signal,
      ...(bar && { onProgress: bar.update }),
    });
    const outbox = config.mailer.kind === 'outbox' ? backend.store.fileOf(`outbox/${name}`) : undefined;
    // Paused (a stop, the provider refuses, too many failures) or taken over: exit 3, nothing lost.
    const stoppedBy = report.pausedReason ?? (report.takenOverBy && takenOver(name, report.takenOverBy));
    if (stoppedBy) process.exitCode = 3;
    const whyStopped = () => {
      if (!stoppedBy) return;
      const resume = report.pausedReason?.startsWith('stopped by ')
        ? `: \`pressroom campaign resume ${name}\` continues it`
        : '';
      process.stderr.write(`pressroom: ${forTerminal(stoppedBy)}${resume}\n`);
    };
    if (opts.json) {
      print({ ...report, ...(outbox && { outbox }) }, true);
      return whyStopped();
    }
    if (report.tests) {
      return print([
        ...report.tests.map((test) => {
          const where = outbox ? ` (${backend.store.fileOf(outboxKey(name, test.messageId))})` : '';
          return `Sent one [TEST] message to ${test.to}${where}.`;
        }),
        'Nothing recorded in the campaign.',
      ]);
    }
    if (report.dryRun) {
      const s = report.dryRun.sample;
      return print([
        `Dry run of ${name}: nothing sent.`,
        `  audience      ${report.audience} (already done: ${report.alreadyDone})`,
        ...doNotContactLine(report.doNotContact),
        s
          ? `  sample        "${s.subject}" to ${s.to}, ${Math.round(s.size / 1024)} KB`
          : '  sample        none: the audience is empty',
      ]);
    }
    print([
      `${name}: ${report.state}${report.interrupted ? ` (interrupted: \`pressroom campaign resume ${name}\` resumes it)` : ''}`,
      `  audience      ${report.audience}`,
      ...doNotContactLine(report.doNotContact),
      `  sent          ${report.sent}${report.alreadyDone ? ` (+${report.alreadyDone} in earlier runs)` : ''}`,
      `  failed        ${report.failed}`,
      `  skipped       ${report.skipped} (suppressed since the start)`,
      `  throttled     ${report.throttled} (retried; never a failure)`,
      ...(report.deferred
        ? [
            `  deferred      ${report.deferred}: still throttled or stopped; \`pressroom campaign resume ${name}\` sends them`,
          ]
        : []),
      ...(report.uncertain.length
        ? [
            `  uncertain     ${report.uncertain.length}: in flight when a run stopped, not resent (see --resend-uncertain)`,
          ]
        : []),
      ...(outbox ? [`  outbox        ${outbox}`] : []),
    ]);
    whyStopped();
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    bar?.end();
    mailer.close?.();
  }
}

/**
 * `pressroom campaign resume <name>`: continues a paused or interrupted campaign from its
 * record (no campaign file), with the same lease and ledger as `send`; on the stack
 * (`--backend aws`) dispatch is invoked and enqueues only the recipients still pending.
 */
export async function resumeCampaignByName(name: string, opts: CampaignResumeOptions): Promise<void> {
  if (opts.backend === 'aws') {
    localOnly(
      opts.wait === true,
      '--wait',
      'on the stack a stop frees the campaign at once: resume it once `campaign status` shows it paused',
    );
    localOnly(
      opts.rate !== undefined,
      '--rate',
      'the stack’s sending rate is its `sendRate` context value (npx cdk deploy -c sendRate=N)',
    );
    const aws = await openAwsBackend();
    const config = loadConfig({});
    const report = await resumeCampaignRemotely(
      name,
      { store: aws.store, dispatcher: aws.dispatcher, timeZone: config.timeZone },
      { resendUncertain: opts.resendUncertain === true },
    );
    return printDispatch(name, report, aws.outputs.DispatchFunctionName, opts);
  }
  const config = loadConfig(opts);
  const backend = await localBackend(config, { pdf: false });
  await sendHere(name, config, backend, opts, (deps, sendOptions) => resumeCampaign(name, deps, sendOptions));
}

/**
 * `pressroom schedule`: schedules a campaign for its sendAt; `pressroom serve` (or `run-due`)
 * sends it then. On the stack an EventBridge schedule starts its dispatch.
 */
export async function scheduleCampaignFile(file: string, opts: ScheduleOptions): Promise<void> {
  if (opts.backend === 'aws') return scheduleOnStack(file, opts);
  const backend = await localBackend(loadConfig(opts), { pdf: false });
  const definition = await readCampaignFile(file, backend.files, campaignDefaults(backend.config));
  const saved = await scheduleCampaign(definition, backend, file);
  const at = saved.definition.sendAt;
  if (opts.json) return print({ name: definition.name, state: saved.state, sendAt: at }, true);
  print([
    `Scheduled ${definition.name} for ${at ? `${formatInZone(at.utc, at.zone)} = ${at.utc} UTC` : '?'}`,
    '  `pressroom serve` sends it then (a campaign missed while the server was down goes when it starts).',
  ]);
}

/** The campaign file, checked; what reading it noticed (a file converted to UTF-8) is shown. */
async function readCampaignFile(...[file, files, defaults]: Parameters<typeof loadCampaignFile>) {
  const notices: string[] = [];
  const definition = await loadCampaignFile(file, files, defaults, notices);
  warn(notices);
  return definition;
}
