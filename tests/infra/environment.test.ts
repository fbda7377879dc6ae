import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConfigName, configVariables, loadConfig } from '../../lambdas/handlers/config.ts';
import { handlerNames } from '../../lib/functions.ts';
import { logicalId, realSender, removeOutdirs, repo, synth } from './stack.ts';

/**
 * Least data: each function's environment holds the variables its handler reads and nothing
 * else. The lists below are the handlers' `loadConfig` names; the first test holds them to the
 * handlers' code, so a handler that starts reading a variable changes its list here, and the
 * stack then gives it that variable.
 */

afterAll(removeOutdirs);

const reads: Record<(typeof handlerNames)[number], ConfigName[]> = {
  publish: [
    'bucket',
    'siteUrl',
    'siteLang',
    'siteTitle',
    'templatesDir',
    'liftScheduleGroup',
    'liftRoleArn',
    'liftDeadLetterArn',
    // Topic alerts: their schedules in the campaigns' group invoke dispatch (lib/scheduling.ts).
    'campaignScheduleGroup',
    'campaignSchedulerRoleArn',
    'campaignScheduleDeadLetterArn',
    'dispatchFunctionArn',
    // Digests: 08:00 in this zone (lib/digests.ts).
    'timeZone',
  ],
  dispatch: [
    'bucket',
    'queueUrl',
    'recipientsPerMessage',
    'publicUrl',
    'siteUrl',
    'lateFireWindowMinutes',
    // Pacing by the SES quota: where the next day's slice is scheduled (lib/scheduling.ts).
    'campaignScheduleGroup',
    'campaignSchedulerRoleArn',
    'campaignScheduleDeadLetterArn',
    'ledgerTable',
  ],
  send: [
    'bucket',
    'secretArn',
    'publicUrl',
    'workerRate',
    'sesConfigurationSet',
    'unsubscribeMailto',
    'senderIdentity',
    'ledgerTable',
    // SES's daily quota used up with no next slice planned: the next quota window (lib/scheduling.ts).
    'campaignScheduleGroup',
    'campaignSchedulerRoleArn',
    'campaignScheduleDeadLetterArn',
    'dispatchFunctionArn',
  ],
  feedback: ['bucket', 'secretArn'],
  // publicUrl only when set (a custom domain): otherwise the host the request came to.
  public: [
    'bucket',
    'secretArn',
    'siteLang',
    'sesConfigurationSet',
    'unsubscribeMailto',
    'templatesDir',
    'publicUrl',
    'confirmationsPerHour',
    'originSecretArn',
  ],
  // siteUrl only when set (a custom domain): otherwise the host the request came to.
  admin: [
    'bucket',
    'siteLang',
    'siteUrl',
    'templatesDir',
    'originSecretArn',
    'adminUserPoolId',
    'adminAuthUrl',
    'adminSecretName',
    // Its contacts section (admin-contacts.ts) and campaigns section (admin-campaigns.ts).
    'secretArn',
    'ledgerTable',
    'senderIdentity',
    'campaignScheduleGroup',
    'campaignSchedulerRoleArn',
    'campaignScheduleDeadLetterArn',
    // The newsletters section (admin-newsletters.ts) and campaigns: a draft's day, schedules' zone.
    'timeZone',
  ],
};
/** Read by a handler when set, never given by this stack: see lib/README.md. */
const notGiven = new Set(['public PRESSROOM_PUBLIC_URL', 'admin PRESSROOM_SITE_URL']);
/** What every function has for the runtime and its logger, whatever its handler reads. */
const runtime = [
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_LOGGER_SAMPLE_RATE',
  'NODE_OPTIONS',
];

/** The config names in a handler's `loadConfig([...])` calls, its sections' files (`<handler>-*.ts`) included. */
function namesRead(handler: string): string[] {
  const dir = path.join(repo, 'lambdas/handlers');
  const source = readdirSync(dir)
    .filter((f) => f === `${handler}.ts` || f.startsWith(`${handler}-`))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
  const calls = [...source.matchAll(/loadConfig\(\s*\[([^\]]*)\]/g)].map((m) => m[1] ?? '');
  return [...new Set(calls.flatMap((list) => [...list.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1] ?? '')))];
}

describe('each function is given only the variables its handler reads', () => {
  // Every optional variable configured, so that each can appear.
  const { template } = synth(
    { ...realSender, siteTitle: 'Salle de presse', unsubscribeMailto: 'desabonnement@villes-internet.net' },
    { nag: false },
  );
  const environmentOf = (handler: string) => {
    const id = logicalId(
      template,
      'AWS::Lambda::Function',
      handler.charAt(0).toUpperCase() + handler.slice(1),
    );
    const fn = template.toJSON().Resources[id] as {
      Properties: { Environment?: { Variables?: Record<string, unknown> } };
    };
    return Object.keys(fn.Properties.Environment?.Variables ?? {});
  };

  it.each(handlerNames)('%s: the list here is what its handler reads', (handler) => {
    expect(namesRead(handler).sort()).toEqual([...reads[handler]].sort());
  });

  it.each(handlerNames)(
    '%s: its environment is its reads (required ones set), and the runtime',
    (handler) => {
      const variables = environmentOf(handler);
      const allowed = new Set([...reads[handler].map((name) => configVariables[name]), ...runtime]);
      expect(variables.filter((v) => !allowed.has(v))).toEqual([]);
      const required = reads[handler].filter((name) => {
        try {
          loadConfig([name], {});
          return false;
        } catch {
          return true;
        }
      });
      const missing = required
        .map((name) => configVariables[name])
        .filter((v) => !variables.includes(v) && !notGiven.has(`${handler} ${v}`));
      expect(missing).toEqual([]);
    },
  );

  it('the variables the harness found set but unread are gone', () => {
    const given = (handler: string, variable: string) => environmentOf(handler).includes(variable);
    expect(given('send', 'PRESSROOM_SENDER')).toBe(false);
    expect(given('public', 'PRESSROOM_SENDER')).toBe(false);
    expect(given('dispatch', 'PRESSROOM_SEND_RATE')).toBe(false);
    expect(given('send', 'PRESSROOM_SEND_RATE')).toBe(false);
    expect(given('send', 'PRESSROOM_RECIPIENTS_PER_MESSAGE')).toBe(false);
    for (const handler of ['send', 'feedback', 'public'])
      expect(given(handler, 'PRESSROOM_SITE_URL')).toBe(false);
    for (const handler of ['send', 'feedback']) expect(given(handler, 'PRESSROOM_SITE_LANG')).toBe(false);
    for (const handler of ['publish', 'feedback']) expect(given(handler, 'PRESSROOM_PUBLIC_URL')).toBe(false);
    // Read where it is kept: public's pages and confirmation mails, dispatch's links.
    expect(given('public', 'PRESSROOM_SITE_LANG')).toBe(true);
    expect(given('dispatch', 'PRESSROOM_RECIPIENTS_PER_MESSAGE')).toBe(true);
    expect(given('dispatch', 'PRESSROOM_PUBLIC_URL')).toBe(true);
  });
});
