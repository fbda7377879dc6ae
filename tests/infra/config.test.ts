import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, isPlaceholderDomain, parseConfig } from '../../lib/config.ts';
import { externalModules } from '../../lib/functions.ts';
import { realSender, removeOutdirs, repo, synth } from './stack.ts';

const execFileAsync = promisify(execFile);

/** The error message parseConfig gives, or a failure if it accepts the context. */
function problemsOf(context: Record<string, unknown>): string {
  try {
    parseConfig(context);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(context)}`);
}

afterAll(removeOutdirs);

describe('configuration from the CDK context', () => {
  it('needs only a sender, and fills in the defaults', () => {
    expect(parseConfig({ sender: 'Presse@Villes-Internet.net' })).toEqual({
      stackName: 'Pressroom',
      sender: 'Presse@Villes-Internet.net',
      senderDomain: 'villes-internet.net',
      siteLang: 'fr',
      sendRate: 1,
      logLevel: 'INFO',
      logDebugSampleRate: 0.01,
      logRetentionDays: 90,
      noncurrentVersionDays: 90,
      lateFireWindowMinutes: 60,
      confirmationsPerHour: 500,
      timeZone: 'UTC',
      awsSdk: 'runtime',
    });
  });

  it("takes the AWS SDK the functions run with: the runtime's, or bundled into each", () => {
    const sender = 'press@example.org';
    expect(parseConfig({ sender, awsSdk: 'bundled' }).awsSdk).toBe('bundled');
    expect(parseConfig({ sender, awsSdk: '' }).awsSdk).toBe('runtime');
    expect(problemsOf({ sender, awsSdk: 'true' })).toContain(
      'awsSdk: must be "runtime" (the Lambda runtime\'s AWS SDK, the default) or "bundled" (the SDK inside each function: faster cold starts, larger bundles) (value: "true")',
    );
    expect(externalModules('runtime')).toEqual(['@aws-sdk/*']);
    expect(externalModules('bundled')).toEqual([]);
  });

  it('takes the time zone digests go at 08:00 in, an IANA name', () => {
    const sender = 'press@example.org';
    expect(parseConfig({ sender, timeZone: 'Europe/Paris' }).timeZone).toBe('Europe/Paris');
    expect(problemsOf({ sender, timeZone: 'Paris' })).toContain(
      'timeZone: must be an IANA time zone such as Europe/Paris (the timeZone of pressroom.yaml) (value: "Paris")',
    );
  });

  it('takes an hourly cap on confirmation mails, a whole number from 1 to 100000', () => {
    const sender = 'press@example.org';
    expect(parseConfig({ sender, confirmationsPerHour: '40' }).confirmationsPerHour).toBe(40);
    expect(problemsOf({ sender, confirmationsPerHour: 0 })).toContain(
      'confirmationsPerHour: must be between 1 and 100000 emails per hour (value: 0)',
    );
    expect(problemsOf({ sender, confirmationsPerHour: '2.5' })).toContain(
      'confirmationsPerHour: must be a whole number of emails per hour',
    );
  });

  it('takes a WAF web ACL by ARN, of scope CLOUDFRONT (us-east-1) only', () => {
    const sender = 'press@example.org';
    const webAclArn =
      'arn:aws:wafv2:us-east-1:123456789012:global/webacl/pressroom-rate/0a1b2c3d-1111-2222-3333-444455556666';
    expect(parseConfig({ sender, webAclArn }).webAclArn).toBe(webAclArn);
    expect(parseConfig({ sender }).webAclArn).toBeUndefined();
    const regional = webAclArn.replace('us-east-1', 'eu-west-3').replace('global', 'regional');
    expect(problemsOf({ sender, webAclArn: regional })).toContain(
      'webAclArn: must be the ARN of an AWS WAF web ACL of scope CLOUDFRONT, which lives in us-east-1',
    );
    expect(problemsOf({ sender, webAclArn: 'pressroom-rate' })).toContain('webAclArn: must be the ARN');
  });

  it('takes an SES identity that exists: the domain, a parent domain, or the address itself', () => {
    const sender = 'presse@lettres.villes-internet.net';
    for (const existingSesIdentity of ['lettres.villes-internet.net', 'Villes-Internet.net', sender]) {
      expect(parseConfig({ sender, existingSesIdentity }).existingSesIdentity).toBe(
        existingSesIdentity.toLowerCase(),
      );
    }
  });

  it('refuses an existing identity that does not cover the sender, or is no identity name', () => {
    const sender = 'presse@villes-internet.net';
    expect(problemsOf({ sender, existingSesIdentity: 'autre-domaine.org' })).toContain(
      'existingSesIdentity: does not cover the sender presse@villes-internet.net: give the sender\'s domain, a parent domain of it, or the sender\'s own address (value: "autre-domaine.org")',
    );
    expect(problemsOf({ sender, existingSesIdentity: 'contact@villes-internet.net' })).toContain(
      'existingSesIdentity: does not cover the sender',
    );
    // villes-internet.net ends with internet.net, but is no subdomain of it.
    expect(problemsOf({ sender, existingSesIdentity: 'internet.net' })).toContain(
      'existingSesIdentity: does not cover the sender',
    );
    expect(problemsOf({ sender, existingSesIdentity: 'https://villes-internet.net' })).toContain(
      'existingSesIdentity: must be the name of an SES identity: a domain such as your-domain.org, or an address',
    );
  });

  it('reserves send concurrency only when asked, and no less than the send functions the rate runs', () => {
    expect(parseConfig({ sender: 'press@example.org' }).reservedSendConcurrency).toBeUndefined();
    expect(parseConfig({ sender: 'press@example.org', reservedSendConcurrency: '4' })).toMatchObject({
      reservedSendConcurrency: 4,
    });
    expect(problemsOf({ sender: 'press@example.org', sendRate: 250, reservedSendConcurrency: 10 })).toContain(
      'reservedSendConcurrency: must be at least 25, the send functions that sendRate 250 runs at once',
    );
    expect(problemsOf({ sender: 'press@example.org', reservedSendConcurrency: 1 })).toContain(
      'reservedSendConcurrency: must be at least 2',
    );
  });

  it.each([
    [0, 'lateFireWindowMinutes: must be between 1 and 10080 minutes (a week) (value: 0)'],
    ['1.5', 'lateFireWindowMinutes: must be a whole number of minutes (value: "1.5")'],
    ['soon', 'lateFireWindowMinutes: must be a number of minutes (value: "soon")'],
  ])('reports a bad lateFireWindowMinutes %j', (lateFireWindowMinutes, expected) => {
    expect(problemsOf({ sender: 'press@example.org', lateFireWindowMinutes })).toContain(expected);
  });

  it('accepts numbers written as text, as `-c sendRate=14` passes them, and ignores CDK feature flags', () => {
    const config = parseConfig({
      sender: 'press@example.org',
      sendRate: '14',
      logRetentionDays: '30',
      logLevel: 'debug',
      '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
      'aws:cdk:bundling-stacks': [],
    });
    expect(config).toMatchObject({ sendRate: 14, logRetentionDays: 30, logLevel: 'DEBUG' });
  });

  it('takes a custom press room domain with its certificate', () => {
    const certificateArn =
      'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';
    expect(
      parseConfig({ sender: 'press@example.org', siteDomain: 'presse.example.org', certificateArn }).site,
    ).toEqual({ domain: 'presse.example.org', certificateArn });
  });

  it('reports a missing sender with the key and what to do', () => {
    const message = problemsOf({});
    expect(message).toContain('sender: is required: the address campaigns are sent from');
    expect(message).toContain('-c key=value');
  });

  it('reports a malformed sender with its value', () => {
    expect(problemsOf({ sender: 'press-at-example.org' })).toContain(
      'sender: must be an email address, e.g. press@your-domain.org (value: "press-at-example.org")',
    );
  });

  it.each([
    ['fast', 'sendRate: must be a number of messages per second (value: "fast")'],
    [0, 'sendRate: must be between 1 and 10000 messages per second (value: 0)'],
    ['20000', 'sendRate: must be between 1 and 10000 messages per second (value: "20000")'],
  ])('reports a bad sendRate %j', (sendRate, expected) => {
    expect(problemsOf({ sender: 'press@example.org', sendRate })).toContain(expected);
  });

  it('wants the certificate with the domain, and from us-east-1', () => {
    expect(problemsOf({ sender: 'press@example.org', siteDomain: 'presse.example.org' })).toContain(
      'certificateArn: is required with siteDomain "presse.example.org"',
    );
    expect(
      problemsOf({
        sender: 'press@example.org',
        siteDomain: 'presse.example.org',
        certificateArn: 'arn:aws:acm:eu-west-3:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666',
      }),
    ).toContain('certificateArn: must be the ARN of an ACM certificate in us-east-1');
    expect(problemsOf({ sender: 'press@example.org', siteDomain: 'https://presse.example.org/' })).toContain(
      'siteDomain: must be a host name such as press.your-domain.org (no https://, no path) (value: "https://presse.example.org/")',
    );
  });

  it('suggests the right spelling of a mistyped key', () => {
    expect(problemsOf({ sender: 'press@example.org', sendrate: 14 })).toContain(
      'sendrate: unknown context key: did you mean "sendRate"?',
    );
  });

  it('reports every problem at once', () => {
    const message = problemsOf({
      sender: 'nobody',
      siteLang: 'de',
      logRetentionDays: 10,
      noncurrentVersionDays: 1.5,
      signingSecretArn: 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:pressroom',
    });
    expect(message.split('\n').filter((line) => line.startsWith('  '))).toHaveLength(5);
    expect(message).toContain('siteLang: must be "fr" or "en" (value: "de")');
    expect(message).toContain('logRetentionDays: must be one of the retentions CloudWatch Logs accepts');
    expect(message).toContain('noncurrentVersionDays: must be a whole number of days (value: 1.5)');
    expect(message).toContain('signingSecretArn: must be the complete ARN of a Secrets Manager secret');
  });

  it.each([
    ['example.org', true],
    ['mail.example.com', true],
    ['pressroom.test', true],
    ['villes-internet.net', false],
    ['example.fr', false],
  ])('knows whether %s is a placeholder domain', (domain, placeholder) => {
    expect(isPlaceholderDomain(domain)).toBe(placeholder);
  });

  it('warns at synth when the sender is a placeholder, and only then', () => {
    const placeholder = synth({}, { nag: false });
    Annotations.fromStack(placeholder.stack).hasWarning(
      '/Pressroom',
      Match.stringLikeRegexp('sender "press@example.org" is a placeholder'),
    );
    const real = synth(realSender, { nag: false });
    Annotations.fromStack(real.stack).hasNoWarning('*', Match.stringLikeRegexp('placeholder'));
  });

  it('stops the CDK app with the message and a non-zero exit, writing no template', async () => {
    const outdir = await mkdtemp(path.join(tmpdir(), 'pressroom-cdk-'));
    try {
      const run = await execFileAsync(
        process.execPath,
        ['--import', 'tsx', path.join(repo, 'bin/cdk-app.ts')],
        {
          cwd: repo,
          env: {
            ...process.env,
            CDK_OUTDIR: outdir,
            CDK_CONTEXT_JSON: JSON.stringify({ sender: 'nobody', sendRate: 'fast' }),
          },
        },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'invalid pressroom configuration in the CDK context; nothing was synthesised:',
      );
      expect(run.stderr).toContain('sender: must be an email address');
      expect(run.stderr).toContain('sendRate: must be a number of messages per second (value: "fast")');
      expect((await readdir(outdir)).filter((f) => f.endsWith('.template.json'))).toEqual([]);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  });
});
