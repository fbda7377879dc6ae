import type { DueJobDeps } from '../../lambdas/adapters/due-job-runner.ts';
import { localHolderAlive } from '../../lambdas/adapters/local-process.ts';
import { releaseDueEmbargoes } from '../../lambdas/core/archive/publish.ts';
import { readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { activeLease } from '../../lambdas/core/campaigns/lease.ts';
import type { Mailer } from '../../lambdas/core/campaigns/mailer.ts';
import { dueCampaigns, runDueCampaigns } from '../../lambdas/core/campaigns/schedule.ts';
import { showTime } from '../../lambdas/core/campaigns/time.ts';
import { BusyError, PressroomError } from '../../lambdas/core/errors.ts';
import type { RunDueOptions } from '../commands/due.ts';
import { createMailer, type LocalBackend, loadConfig, localBackend } from '../context.ts';
import { print } from '../output.ts';
import { localDigests } from './digests.ts';
import { localSendDeps } from './send.ts';

/**
 * What the due jobs need, the same for `serve` (every few seconds) and `run-due` (once);
 * `role` names the process in the campaign's lease ("pressroom serve on host pid 42").
 */
export function dueJobDeps(backend: LocalBackend, mailer: Mailer, role: string): DueJobDeps {
  const digests = localDigests(backend);
  return {
    send: localSendDeps(backend, mailer, role),
    publish: backend,
    lateFireWindowMinutes: backend.config.lateFireWindowMinutes,
    ...(digests && { digests }),
  };
}

/**
 * `pressroom run-due`: the due jobs once, for cron or a systemd timer, on a machine where
 * `pressroom serve` does not run them: releases whose embargo has passed appear, and campaigns
 * whose time has come are sent. A campaign another run is sending is left to it (exit 3); a
 * due campaign that cannot be sent is paused (exit 1).
 */
export async function runDueJobs(opts: RunDueOptions): Promise<void> {
  const config = loadConfig(opts);
  const backend = await localBackend(config, { pdf: false });
  const mailer = await createMailer(config, backend.store);
  try {
    const deps = dueJobDeps(backend, mailer, 'pressroom run-due on');
    const released = await releaseDueEmbargoes(deps.publish);
    const digests = (await deps.digests?.()) ?? [];
    const runs = await runDueCampaigns(deps.send, { lateFireWindowMinutes: deps.lateFireWindowMinutes });
    const now = new Date();
    const held: { name: string; holder: string; since: string }[] = [];
    for (const name of await dueCampaigns(backend.store, now)) {
      const campaign = await readCampaign(backend.store, name);
      const lease = activeLease(campaign, now, localHolderAlive);
      if (lease) held.push({ name, holder: lease.holder, since: lease.since });
    }
    const failed = runs.filter((r) => r.error !== undefined);
    const heldLines = held.map(
      (h) =>
        `Campaign ${h.name}: being sent by ${h.holder} since ${showTime(h.since, config.timeZone)}; follow it with \`pressroom campaign status ${h.name}\``,
    );
    if (opts.json) {
      print({ released, digests, campaigns: runs, held }, true);
    } else {
      print([
        released.length > 0 ? `Now public: ${released.join(', ')}` : 'No embargo has passed.',
        ...digests,
        ...runs.map((r) =>
          r.report
            ? `Campaign ${r.name}: ${r.report.state}, sent ${r.report.sent}, failed ${r.report.failed}, skipped ${r.report.skipped}`
            : `Campaign ${r.name} not sent: ${r.error}`,
        ),
        ...heldLines,
        ...(runs.length === 0 && held.length === 0 ? ['No campaign is due.'] : []),
      ]);
    }
    // A campaign that needs someone's attention comes before one that only needs time.
    if (failed.length > 0) {
      throw new PressroomError(
        `${failed.length} due campaign(s) could not be sent and were paused: ${failed.map((f) => f.name).join(', ')} (\`pressroom campaign status <name>\` says why)`,
      );
    }
    if (held.length > 0) {
      throw new BusyError(
        `${held.map((h) => `${h.name} (by ${h.holder} since ${showTime(h.since, config.timeZone)})`).join(', ')} ${held.length === 1 ? 'is' : 'are'} being sent by another run; follow it with \`pressroom campaign status\`. The next run-due takes it over if that run dies.`,
      );
    }
  } finally {
    mailer.close?.();
    await backend.close();
  }
}
