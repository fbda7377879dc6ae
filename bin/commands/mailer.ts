import { Command, InvalidArgumentError } from 'commander';
import { normalizeEmail } from '../../lambdas/core/contacts/model.ts';
import { dataDirOption, loadConfig } from '../context.ts';
import { print } from '../output.ts';

function address(value: string): string {
  const email = normalizeEmail(value);
  if (!email) throw new InvalidArgumentError('give an email address');
  return email;
}

/**
 * `pressroom mailer check`: is the configured mailer ready to send, without sending
 * anything? SMTP: connect, TLS or STARTTLS, log in, quit. SES: sending enabled, the sender's
 * identity verified, sandbox or production, quota and rate. The outbox: where it writes.
 * Exit 0 when ready; 3 (busy or unavailable) with what is wrong and the fix otherwise.
 */
const checkCommand = new Command('check')
  .description(
    'Check the configured mailer without sending anything (SMTP: connect, TLS, login; SES: identity, quota)',
  )
  .option('--from <address>', 'the sender to check (SES: is it a verified identity?)', address)
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
  .action(async (opts: { from?: string; json?: boolean; dataDir: string }) => {
    const config = loadConfig(opts);
    const mailer = config.mailer;
    if (mailer.kind === 'smtp') {
      const { checkSmtp } = await import('../../lambdas/adapters/smtp-mailer.ts');
      const { kind: _smtp, ...settings } = mailer;
      const check = await checkSmtp(settings);
      if (opts.json) return print({ mailer: 'smtp', ready: true, ...check }, true);
      return print([
        `SMTP server ${check.server}: ready (nothing was sent)`,
        `  encryption  ${check.tls === 'none' ? 'none: messages cross the network in clear' : check.tls}`,
        `  login       ${check.login}`,
      ]);
    }
    if (mailer.kind === 'ses') {
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const { checkSes } = await import('../../lambdas/adapters/ses-mailer.ts');
      const check = await checkSes(opts.from ? { from: opts.from } : {});
      if (opts.json) return print({ mailer: 'ses', ready: true, ...check }, true);
      const q = check.quota;
      return print([
        `Amazon SES in ${check.region}: ready (nothing was sent)`,
        check.identity
          ? `  sender      ${opts.from}: ${check.identity.name} is verified`
          : '  sender      not checked: add --from ADDRESS to check that it is a verified identity',
        check.mode === 'sandbox'
          ? '  account     sandbox (a quota of 200 a day, 1 a second): it sends only to verified addresses; request production access before a real campaign'
          : '  account     production',
        `  quota       ${q.sentLast24Hours} of ${q.max24HourSend} sent in the last 24 hours, at most ${q.maxSendRate} a second`,
      ]);
    }
    const outbox = `${config.dataDir}/outbox/<campaign>/`;
    if (opts.json) return print({ mailer: 'outbox', ready: true, outbox }, true);
    print([
      `The outbox: messages are written as .eml files under ${outbox}, one per recipient; nothing leaves this machine.`,
      '  Set PRESSROOM_MAILER=smtp (PRESSROOM_SMTP_HOST...) or ses to send for real.',
    ]);
  });

export const mailerCommand = new Command('mailer')
  .description('The mailer: check that it is ready to send')
  .addCommand(checkCommand);
