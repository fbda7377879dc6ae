import { Command } from 'commander';
import { dataDirOption } from '../options.ts';

/** What `pressroom run-due` is given. */
export interface RunDueOptions {
  json?: boolean;
  dataDir?: string;
}

/**
 * `pressroom run-due`: the due jobs once, for cron or a systemd timer, on a machine where
 * `pressroom serve` does not run them (bin/actions/due.ts does the work).
 */
export function runDueCommand(): Command {
  return new Command('run-due')
    .description(
      'Publish releases whose embargo has passed and send the campaigns that are due, once, then exit (for cron)',
    )
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addHelpText(
      'after',
      `
What \`pressroom serve\` does every --interval seconds, once: for a machine where the press
room is static and nothing runs all the time. A campaign that another run is sending now
is left to it, and the command exits with 3 (a run that died is taken over once its
lease, renewed every 20 s, is 90 s old). A due campaign that cannot be sent (its release withdrawn, its
embargo moved) is paused with the reason, and the command exits with 1 (before 3).

Example (crontab, every minute):
  * * * * *  cd /srv/presse && pressroom run-due >>/var/log/pressroom-due.log 2>&1`,
    )
    .action(async (opts: RunDueOptions) => (await import('../actions/due.ts')).runDueJobs(opts));
}
