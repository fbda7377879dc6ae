import type { CampaignRecord } from '../campaigns/campaign.ts';
import { activeLease, type HolderAlive } from '../campaigns/lease.ts';
import type { Progress, SendOptions, SendReport } from '../campaigns/send.ts';

/**
 * The sends the web admin starts, run in the server's own process in the background through
 * the same ledgered send as `pressroom send` (the lease keeps one run per campaign, the ledger
 * one message per recipient). A second start of a campaign this process is sending is told
 * so and starts nothing; a restart resumes the campaigns a dead server left `sending`.
 */

/** How the admin's runs name themselves in a campaign's lease ("pressroom serve (admin) on host pid 42"). */
export const adminSendRole = 'pressroom serve (admin) on';

/** What the admin knows of a run of this process: the send's own progress, and when it began. */
export interface RunProgress extends Progress {
  startedAt: string;
  /** Set when the run ended: how (its report's state), or the error that ended it. */
  ended?: { state?: CampaignRecord['state']; error?: string };
}

/** A run to start: the send, given the signal that stops it and where its progress goes. */
export type CampaignRun = (options: Pick<SendOptions, 'signal' | 'onProgress'>) => Promise<SendReport>;

/** The longest a start waits for its run to take the campaign before answering "started". */
const startWaitMs = 5_000;

export class CampaignRuns {
  private readonly active = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  private readonly progress = new Map<string, RunProgress>();

  constructor(
    private readonly log: (line: string) => void = () => {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Whether this process is sending the campaign now. */
  isRunning(name: string): boolean {
    return this.active.has(name);
  }

  /** The progress of this process's latest run of the campaign, while the server runs. */
  progressOf(name: string): RunProgress | undefined {
    return this.progress.get(name);
  }

  /**
   * Starts `run` in the background. Answers once it has sent its first message, ended, or
   * waited a few seconds: an error before anything is sent (an embargo, an approval missing,
   * another run holding the campaign) is thrown here, for the page to show. `already` when
   * this process is sending the campaign (a second click): nothing more is started.
   */
  async start(name: string, run: CampaignRun): Promise<'started' | 'already'> {
    if (this.active.has(name)) return 'already';
    const controller = new AbortController();
    const startedAt = this.now().toISOString();
    let first: () => void = () => {};
    const firstProgress = new Promise<void>((resolve) => {
      first = resolve;
    });
    const onProgress = (p: Progress) => {
      this.progress.set(name, { ...p, startedAt });
      first();
    };
    const sending = run({ signal: controller.signal, onProgress });
    const done = sending.then(
      (report) => {
        const last = this.progress.get(name);
        this.progress.set(name, {
          ...(last ?? {
            total: report.audience,
            done: 0,
            sent: 0,
            failed: 0,
            skipped: 0,
            rate: 0,
            startedAt,
          }),
          ended: { state: report.state },
        });
        // Counts only: never an address.
        this.log(
          `campaign ${name}: ${report.state}, sent ${report.sent}, failed ${report.failed}, skipped ${report.skipped}${report.pausedReason ? ' (paused)' : ''}`,
        );
      },
      (error: unknown) => {
        this.log(`campaign ${name}: not sent (${(error as Error).name})`);
        throw error;
      },
    );
    const finished = done.finally(() => this.active.delete(name));
    this.active.set(name, { controller, done: finished.catch(() => {}) });
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, startWaitMs);
      timer.unref?.();
    });
    try {
      await Promise.race([finished, firstProgress, waited]);
    } finally {
      clearTimeout(timer);
    }
    return 'started';
  }

  /** Stops every run after its sends in flight (the server is shutting down); resolves once they ended. */
  async stopAll(): Promise<void> {
    const runs = [...this.active.values()];
    for (const r of runs) r.controller.abort();
    await Promise.all(runs.map((r) => r.done));
  }
}

/**
 * Whether a campaign was left `sending` by an admin run that died (a server stopped or
 * killed while sending): it is resumed when the server starts again.
 */
export function leftByDeadAdminRun(record: CampaignRecord, now: Date, holderAlive?: HolderAlive): boolean {
  return (
    record.state === 'sending' &&
    record.lease?.holder.startsWith(adminSendRole) === true &&
    activeLease(record, now, holderAlive) === undefined
  );
}
