import { Command } from 'commander';
import { type BackendKind, backendOption, dataDirOption } from '../options.ts';

/** What `pressroom subscriptions sweep` is given. */
export interface SubscriptionsSweepOptions {
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/**
 * `pressroom subscriptions`: the state of the subscription form (bin/actions/subscriptions.ts
 * does the work). `sweep` removes what `serve` and the stack's hourly rule remove, on demand.
 */
export function subscriptionsCommand(): Command {
  const subscriptions = new Command('subscriptions').description(
    'The requests of the subscription form (double opt-in)',
  );
  subscriptions
    .command('sweep')
    .description(
      'Remove expired confirmation requests (the unconfirmed addresses they hold) and spent rate-limit windows, now',
    )
    .option('--json', 'print the counts as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
A confirmation link works for 48 hours; after that its request, the only place an
unconfirmed address is kept, is removed. \`pressroom serve\` does this at start and every
hour, and so does the stack every hour on AWS; this command does it now. A request confirmed
or made while it runs is kept. It prints counts, never an address.

Examples:
  $ pressroom subscriptions sweep
  $ pressroom subscriptions sweep --backend aws --json`,
    )
    .action(async (opts: SubscriptionsSweepOptions) =>
      (await import('../actions/subscriptions.ts')).sweepSubscriptions(opts),
    );
  return subscriptions;
}
