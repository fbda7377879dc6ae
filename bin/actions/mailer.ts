import { normalizeEmail } from '../../lambdas/core/contacts/model.ts';
import { UsageError } from '../../lambdas/core/errors.ts';
import type { MailerCheckOptions } from '../commands/mailer.ts';
import { loadConfig, smtpSettings, storeDir } from '../context.ts';
import { print } from '../output.ts';

/**
 * `pressroom mailer check`: is the configured mailer ready to send, without sending
 * anything? SMTP: connect, TLS or STARTTLS, log in, quit. SES: sending enabled, the sender's
 * identity verified, sandbox or production, quota and rate. The outbox: where it writes.
 * Exit 0 when ready; 3 (busy or unavailable) with what is wrong and the fix otherwise.
 */
export async function checkMailer(opts: MailerCheckOptions): Promise<void> {
  const from = opts.from === undefined ? undefined : normalizeEmail(opts.from);
  if (opts.from !== undefined && !from) {
    throw new UsageError(
      `--from ${JSON.stringify(opts.from)} is not an email address: give the sender's address`,
    );
  }
  const config = loadConfig(opts);
  const mailer = config.mailer;
  if (mailer.kind === 'smtp') {
    const { checkSmtp } = await import('../../lambdas/adapters/smtp-mailer.ts');
    // The same settings, checked the same way, as a send would use.
    const check = await checkSmtp(smtpSettings(mailer));
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
    const check = await checkSes(from ? { from } : {});
    if (opts.json) return print({ mailer: 'ses', ready: true, ...check }, true);
    const q = check.quota;
    return print([
      `Amazon SES in ${check.region}: ready (nothing was sent)`,
      check.identity
        ? `  sender      ${from}: ${check.identity.name} is verified`
        : '  sender      not checked: add --from ADDRESS to check that it is a verified identity',
      check.mode === 'sandbox'
        ? '  account     sandbox (a quota of 200 a day, 1 a second): it sends only to verified addresses; request production access before a real campaign'
        : '  account     production',
      `  quota       ${q.sentLast24Hours} of ${q.max24HourSend} sent in the last 24 hours, at most ${q.maxSendRate} a second`,
    ]);
  }
  const outbox = `${storeDir(config)}/outbox/<campaign>/`;
  if (opts.json) return print({ mailer: 'outbox', ready: true, outbox }, true);
  print([
    `The outbox: messages are written as .eml files under ${outbox}, one per recipient; nothing leaves this machine.`,
    '  Set PRESSROOM_MAILER=smtp (PRESSROOM_SMTP_HOST...) or ses to send for real.',
  ]);
}
