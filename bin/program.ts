import { Command } from 'commander';
import { archiveCommand } from './commands/archive.ts';
import { contactsCommand } from './commands/contacts.ts';
import { coverageCommand } from './commands/coverage.ts';
import { runDueCommand } from './commands/due.ts';
import { initCommand } from './commands/init.ts';
import { mailerCommand } from './commands/mailer.ts';
import { newsletterCommand } from './commands/newsletter.ts';
import { proofCommand } from './commands/proof.ts';
import { publishCommand } from './commands/publish.ts';
import { renderCommand } from './commands/render.ts';
import { schemaCommand } from './commands/schema.ts';
import { campaignCommand, scheduleCommand, sendCommand } from './commands/send.ts';
import { serveCommand } from './commands/serve.ts';
import { siteCommand } from './commands/site.ts';
import { subscriptionsCommand } from './commands/subscriptions.ts';
import { setJsonOutput } from './output.ts';

/**
 * The whole command line: every command with its options and help, as `pressroom` parses it.
 * Building it loads commander and the command definitions only; each command loads what it
 * does when it runs (bin/actions/), so `pressroom --help` starts in a tenth of a second.
 * Tests parse the documentation's examples with it (tests/unit/docs-commands.test.ts).
 */
export function buildProgram(): Command {
  const program = new Command('pressroom')
    .description('Press releases and newsletters: render, archive, schedule and mail them.')
    .version('0.1.0')
    .showHelpAfterError()
    .addCommand(initCommand())
    .addCommand(renderCommand())
    .addCommand(publishCommand())
    .addCommand(newsletterCommand())
    .addCommand(archiveCommand())
    .addCommand(coverageCommand())
    .addCommand(contactsCommand())
    .addCommand(subscriptionsCommand())
    .addCommand(sendCommand())
    .addCommand(scheduleCommand())
    .addCommand(proofCommand())
    .addCommand(campaignCommand())
    .addCommand(runDueCommand())
    .addCommand(mailerCommand())
    .addCommand(serveCommand())
    .addCommand(siteCommand())
    .addCommand(schemaCommand());

  // With --json the store a command used goes into its result rather than on stderr.
  program.hook('preAction', (_program, action) => setJsonOutput(action.opts().json === true));

  // Usage errors (unknown command or option, missing argument) exit with 2, after commander has
  // printed them; help and version exit with 0. Every command gets the same rule.
  const exitOnUsage = (command: Command): void => {
    command.exitOverride();
    for (const sub of command.commands) exitOnUsage(sub);
  };
  exitOnUsage(program);
  return program;
}
