import { describe, expect, it } from 'vitest';
import { ConfigurationError, configVariables, loadConfig } from '../../lambdas/handlers/config.ts';

const complete = {
  PRESSROOM_BUCKET: 'pressroom-data-123456789012',
  PRESSROOM_SITE_URL: 'https://presse.example.org',
  PRESSROOM_PUBLIC_URL: 'https://presse.example.org/',
  PRESSROOM_SITE_LANG: 'en',
  PRESSROOM_SITE_TITLE: 'Newsroom',
  PRESSROOM_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:pressroom-signing-AbCdEf',
  PRESSROOM_QUEUE_URL: 'https://sqs.eu-west-3.amazonaws.com/123456789012/pressroom-send',
  PRESSROOM_WORKER_RATE: '2',
  PRESSROOM_RECIPIENTS_PER_MESSAGE: '50',
  PRESSROOM_LATE_FIRE_WINDOW_MINUTES: '90',
  PRESSROOM_SES_CONFIGURATION_SET: 'pressroom-events',
  PRESSROOM_SENDER_IDENTITY: 'example.org',
  PRESSROOM_UNSUBSCRIBE_MAILTO: 'desabonnement@example.org',
  PRESSROOM_TEMPLATES_DIR: '/var/task/templates',
  PRESSROOM_LIFT_SCHEDULE_GROUP: 'Pressroom-EmbargoLifts-Group-ABCD1234',
  PRESSROOM_LIFT_ROLE_ARN: 'arn:aws:iam::123456789012:role/pressroom-lifts',
  PRESSROOM_LIFT_DEAD_LETTER_ARN: 'arn:aws:sqs:eu-west-3:123456789012:pressroom-lifts-dlq',
  PRESSROOM_CAMPAIGN_SCHEDULE_GROUP: 'Pressroom-Scheduling-Campaigns-ABCD1234',
  PRESSROOM_CAMPAIGN_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/pressroom-campaigns',
  PRESSROOM_CAMPAIGN_SCHEDULE_DEAD_LETTER_ARN: 'arn:aws:sqs:eu-west-3:123456789012:pressroom-campaigns-dlq',
  PRESSROOM_DISPATCH_FUNCTION_ARN: 'arn:aws:lambda:eu-west-3:123456789012:function:pressroom-dispatch',
  PRESSROOM_ORIGIN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:SiteOriginSecret-AbCdEf',
  PRESSROOM_CONFIRMATIONS_PER_HOUR: '40',
  PRESSROOM_LEDGER_TABLE: 'Pressroom-LedgerTable-1A2B3C4D',
  PRESSROOM_TIME_ZONE: 'Europe/Paris',
  PRESSROOM_ADMIN_USER_POOL_ID: 'eu-west-3_AbCdEfGhI',
  PRESSROOM_ADMIN_AUTH_URL: 'https://pressroom-123456789012.auth.eu-west-3.amazoncognito.com/',
  PRESSROOM_ADMIN_SECRET_NAME: 'pressroom-admin-1a2b3c4d',
};

function problemOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('no error was thrown');
}

describe('handler configuration', () => {
  it('reads only the settings a function asks for, typed and normalised', () => {
    const config = loadConfig(
      ['bucket', 'siteUrl', 'publicUrl', 'workerRate', 'recipientsPerMessage'],
      complete,
    );
    expect(config).toEqual({
      bucket: 'pressroom-data-123456789012',
      siteUrl: 'https://presse.example.org/',
      publicUrl: 'https://presse.example.org',
      workerRate: 2,
      recipientsPerMessage: 50,
    });
  });

  it('reads every setting', () => {
    const all = Object.keys(configVariables) as (keyof typeof configVariables)[];
    expect(loadConfig(all, complete)).toEqual({
      bucket: 'pressroom-data-123456789012',
      siteUrl: 'https://presse.example.org/',
      publicUrl: 'https://presse.example.org',
      siteLang: 'en',
      siteTitle: 'Newsroom',
      secretArn: complete.PRESSROOM_SECRET_ARN,
      queueUrl: complete.PRESSROOM_QUEUE_URL,
      workerRate: 2,
      recipientsPerMessage: 50,
      lateFireWindowMinutes: 90,
      sesConfigurationSet: 'pressroom-events',
      senderIdentity: 'example.org',
      unsubscribeMailto: 'desabonnement@example.org',
      templatesDir: '/var/task/templates',
      liftScheduleGroup: complete.PRESSROOM_LIFT_SCHEDULE_GROUP,
      liftRoleArn: complete.PRESSROOM_LIFT_ROLE_ARN,
      liftDeadLetterArn: complete.PRESSROOM_LIFT_DEAD_LETTER_ARN,
      campaignScheduleGroup: complete.PRESSROOM_CAMPAIGN_SCHEDULE_GROUP,
      campaignSchedulerRoleArn: complete.PRESSROOM_CAMPAIGN_SCHEDULER_ROLE_ARN,
      campaignScheduleDeadLetterArn: complete.PRESSROOM_CAMPAIGN_SCHEDULE_DEAD_LETTER_ARN,
      dispatchFunctionArn: complete.PRESSROOM_DISPATCH_FUNCTION_ARN,
      originSecretArn: complete.PRESSROOM_ORIGIN_SECRET_ARN,
      confirmationsPerHour: 40,
      ledgerTable: complete.PRESSROOM_LEDGER_TABLE,
      timeZone: 'Europe/Paris',
      adminUserPoolId: 'eu-west-3_AbCdEfGhI',
      // Without its trailing slash: paths are appended to it.
      adminAuthUrl: 'https://pressroom-123456789012.auth.eu-west-3.amazoncognito.com',
      adminSecretName: 'pressroom-admin-1a2b3c4d',
    });
  });

  it('a setting nobody asked for is not checked', () => {
    expect(loadConfig(['bucket'], { ...complete, PRESSROOM_WORKER_RATE: 'fast' })).toEqual({
      bucket: complete.PRESSROOM_BUCKET,
    });
  });

  it('applies defaults and leaves optional settings out; an empty variable counts as unset', () => {
    const config = loadConfig(
      ['siteLang', 'siteTitle', 'templatesDir', 'sesConfigurationSet', 'unsubscribeMailto'],
      {
        PRESSROOM_SITE_TITLE: '',
      },
    );
    expect(config).toEqual({ siteLang: 'fr' });
    expect(loadConfig(['confirmationsPerHour', 'originSecretArn'], {})).toEqual({
      confirmationsPerHour: 500,
    });
  });

  it('names every missing variable at once, with what it should be', () => {
    const message = problemOf(() => loadConfig(['bucket', 'secretArn', 'siteUrl'], {}));
    expect(message).toContain('PRESSROOM_BUCKET is not set: it must be the data bucket');
    expect(message).toContain('PRESSROOM_SECRET_ARN is not set');
    expect(message).toContain('PRESSROOM_SITE_URL is not set');
  });

  it('names a bad value with the value found', () => {
    const env = {
      ...complete,
      PRESSROOM_BUCKET: 'My_Bucket',
      PRESSROOM_SITE_URL: 'presse.example.org',
      PRESSROOM_WORKER_RATE: '-3',
      PRESSROOM_SITE_LANG: 'de',
      PRESSROOM_UNSUBSCRIBE_MAILTO: 'desabonnement',
      PRESSROOM_SECRET_ARN: 'pressroom-signing',
      PRESSROOM_RECIPIENTS_PER_MESSAGE: '2.5',
    };
    const message = problemOf(() =>
      loadConfig(
        [
          'bucket',
          'siteUrl',
          'workerRate',
          'siteLang',
          'unsubscribeMailto',
          'secretArn',
          'recipientsPerMessage',
        ],
        env,
      ),
    );
    expect(message).toContain("PRESSROOM_BUCKET must be the data bucket's name");
    expect(message).toContain('(value: "My_Bucket")');
    expect(message).toContain("PRESSROOM_SITE_URL must be the press room's public URL");
    expect(message).toContain('PRESSROOM_WORKER_RATE must be messages per second');
    expect(message).toContain('(value: "-3")');
    expect(message).toContain('PRESSROOM_SITE_LANG must be "fr" or "en" (value: "de")');
    expect(message).toContain('PRESSROOM_UNSUBSCRIBE_MAILTO must be the mailbox');
    expect(message).toContain('PRESSROOM_SECRET_ARN must be the ARN');
    expect(message).toContain('PRESSROOM_RECIPIENTS_PER_MESSAGE must be how many recipients');
  });
});
