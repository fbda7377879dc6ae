import type { PublishDeps } from '../core/archive/publish.ts';
import { releaseDueEmbargoes } from '../core/archive/publish.ts';
import { runDueCampaigns } from '../core/campaigns/schedule.ts';
import type { SendDeps } from '../core/campaigns/send.ts';

/**
 * The local stand-in for EventBridge Scheduler: every `intervalMs` it publishes releases
 * whose embargo has passed and runs the campaigns that are due (a campaign due while
 * nothing ran is run when this starts, once). `stop` waits for the work in flight.
 */
/** What the due jobs work with; a campaign started later than `lateFireWindowMinutes` is paused. */
export interface DueJobDeps {
  send: SendDeps;
  publish: Pick<PublishDeps, 'store' | 'pressRoom' | 'clock'>;
  lateFireWindowMinutes?: number;
  /** Topic alert digests that are due: published and scheduled; a line per campaign (bin/actions/digests.ts). */
  digests?: () => Promise<string[]>;
}

export function startDueJobRunner(
  deps: DueJobDeps,
  options: { intervalMs: number; log: (line: string) => void },
): { stop(): Promise<void>; tick(): Promise<void> } {
  const controller = new AbortController();
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const tick = async () => {
    try {
      const released = await releaseDueEmbargoes(deps.publish);
      if (released.length > 0) options.log(`embargo passed, now public: ${released.join(', ')}`);
      for (const line of (await deps.digests?.()) ?? []) options.log(line);
      const runs = await runDueCampaigns(deps.send, {
        signal: controller.signal,
        ...(deps.lateFireWindowMinutes !== undefined && {
          lateFireWindowMinutes: deps.lateFireWindowMinutes,
        }),
      });
      for (const run of runs) {
        options.log(
          run.report
            ? `campaign ${run.name}: ${run.report.state}, sent ${run.report.sent}, failed ${run.report.failed}, skipped ${run.report.skipped}`
            : `campaign ${run.name} not sent: ${run.error}`,
        );
      }
    } catch (error) {
      options.log(`due jobs failed: ${(error as Error).message}`);
    }
  };
  const loop = () => {
    running = tick().finally(() => {
      if (!controller.signal.aborted) timer = setTimeout(loop, options.intervalMs);
    });
  };
  loop();
  return {
    tick: () => (running = running.then(tick)),
    async stop() {
      controller.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
