import { Command } from 'commander';
import { dataDirOption } from '../options.ts';

/** What `pressroom mailer check` is given. */
export interface MailerCheckOptions {
  from?: string;
  json?: boolean;
  dataDir?: string;
}

/** `pressroom mailer`: the mailer's commands (bin/actions/mailer.ts does the work). */
export function mailerCommand(): Command {
  const check = new Command('check')
    .description(
      'Check the configured mailer without sending anything (SMTP: connect, TLS, login; SES: identity, quota)',
    )
    .option('--from <address>', 'the sender to check (SES: is it a verified identity?)')
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addHelpText(
      'after',
      `
The mailer is PRESSROOM_MAILER (outbox, smtp or ses); SMTP is PRESSROOM_SMTP_HOST, _PORT,
_SECURE, _USER, _PASSWORD (or PRESSROOM_SMTP_URL). Exit status 0: ready; 3: not ready, and why.

Example:
  $ pressroom mailer check --from presse@villes-internet.example.org`,
    )
    .action(async (opts: MailerCheckOptions) => (await import('../actions/mailer.ts')).checkMailer(opts));

  return new Command('mailer').description('The mailer: check that it is ready to send').addCommand(check);
}
