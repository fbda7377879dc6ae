import type { Node } from 'constructs';
import { z } from 'zod';
import { identityCovers } from '../lambdas/core/campaigns/sender-identity.ts';
import { isTimeZone } from '../lambdas/core/campaigns/time.ts';
import { defaultConfirmationsPerHour } from '../lambdas/core/contacts/subscription-limits.ts';
import { showValue } from '../lambdas/core/errors.ts';
import { closest } from '../lambdas/core/input.ts';
import { languages } from '../lambdas/core/publication/schema.ts';
import { sendingPlan } from './sending-plan.ts';

/**
 * The deployment's configuration, read once at synth from the CDK context (`cdk.json`
 * "context", or `-c key=value`) and checked with zod. docs/aws.md, "Configuration (CDK
 * context)", lists the same keys.
 */
export interface PressroomConfig {
  /** CloudFormation stack name. */
  stackName: string;
  /** The address campaigns are sent from; its domain becomes the SES identity. */
  sender: string;
  /** The sender's domain (the SES domain identity, signed with Easy DKIM). */
  senderDomain: string;
  /** Optional custom domain of the press room, served by CloudFront with `certificateArn`. */
  site?: { domain: string; certificateArn: string };
  siteLang: (typeof languages)[number];
  siteTitle?: string;
  /** The account's SES sending rate (messages per second): `aws ses get-send-quota` → MaxSendRate. */
  sendRate: number;
  unsubscribeMailto?: string;
  /** Where the alarms (dead-letter queues) are mailed, if anywhere. */
  alarmEmail?: string;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** The share of invocations (0 to 1) that log at DEBUG whatever logLevel says. */
  logDebugSampleRate: number;
  /** Days the functions' logs and the access logs are kept. */
  logRetentionDays: number;
  /** Days an overwritten or deleted object's old version is kept in the data bucket (one under the personal-data prefixes: storage.ts). */
  noncurrentVersionDays: number;
  /** An existing signing secret to reuse (after a `cdk destroy`, or shared with another stack). */
  signingSecretArn?: string;
  /**
   * An SES identity that already exists in the account and region (the sender's domain, a
   * parent domain of it, or the sender's address): the stack then creates none and sends
   * from that one.
   */
  existingSesIdentity?: string;
  /**
   * Concurrency reserved for the send function, only when asked for: a new account has 10 in
   * all, and reserving fails the deploy when fewer than 10 would be left unreserved.
   */
  reservedSendConcurrency?: number;
  /** A schedule that fires more than this many minutes late pauses its campaign instead of sending. */
  lateFireWindowMinutes: number;
  /** At most this many subscription confirmation emails in all, per hour. */
  confirmationsPerHour: number;
  /** An AWS WAF web ACL (CLOUDFRONT scope, us-east-1) put in front of the press room, by ARN. */
  webAclArn?: string;
  /** The zone (IANA) digests of topic alerts go at 08:00 in: the workspace's `timeZone`. */
  timeZone: string;
  /**
   * The AWS SDK the functions run with: the Lambda runtime's (`runtime`: smaller bundles, SDK
   * fixes without a redeploy) or one bundled into each function, shaken down to the commands
   * it calls (`bundled`: faster cold starts, bundles about 500 KB larger). docs/performance.md.
   */
  awsSdk: 'runtime' | 'bundled';
}

/** Log retentions CloudWatch Logs accepts, in days. */
export const logRetentionChoices = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const maxSendRate = 10_000;

/** `-c key=14` arrives as the text "14": accept numbers written as text. */
const numeric = (schema: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v), schema);

const hostname = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** The stack's name when `stackName` is not set; the command line looks this stack up too. */
export const defaultStackName = 'Pressroom';

const contextSchema = z
  .object({
    stackName: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9-]{0,127}$/,
        'must start with a letter and hold only letters, digits and "-" (a CloudFormation stack name)',
      )
      // The admin's Cognito sign-in domain is `<stack name in lower case>-<account id>`.
      .refine(
        (name) => name.length <= 50 && !/aws|amazon|cognito/i.test(name),
        'must be 50 characters at most, without "aws", "amazon" or "cognito": the web admin\'s sign-in domain is made from it (docs/aws.md, "The web admin")',
      )
      .default(defaultStackName),
    sender: z.email({
      error: (issue) =>
        issue.input === undefined
          ? 'is required: the address campaigns are sent from, e.g. press@your-domain.org'
          : 'must be an email address, e.g. press@your-domain.org',
    }),
    siteDomain: z
      .string()
      .regex(hostname, 'must be a host name such as press.your-domain.org (no https://, no path)')
      .optional(),
    certificateArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/,
        'must be the ARN of an ACM certificate in us-east-1 (CloudFront only uses certificates from us-east-1)',
      )
      .optional(),
    siteLang: z.enum(languages, { error: 'must be "fr" or "en"' }).default('fr'),
    siteTitle: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(200, 'must be 200 characters or fewer')
      .optional(),
    sendRate: numeric(
      z
        .number({ error: 'must be a number of messages per second' })
        .min(1, `must be between 1 and ${maxSendRate} messages per second`)
        .max(maxSendRate, `must be between 1 and ${maxSendRate} messages per second`),
    ).default(1),
    unsubscribeMailto: z.email('must be an email address').optional(),
    alarmEmail: z.email('must be an email address').optional(),
    logLevel: z
      .preprocess(
        (v) => (typeof v === 'string' ? v.toUpperCase() : v),
        z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR'], { error: 'must be DEBUG, INFO, WARN or ERROR' }),
      )
      .default('INFO'),
    logDebugSampleRate: numeric(
      z
        .number({ error: 'must be a number from 0 to 1 (the share of invocations that log at DEBUG)' })
        .min(0, 'must be from 0 to 1 (0.01: one invocation in a hundred logs at DEBUG)')
        .max(1, 'must be from 0 to 1 (0.01: one invocation in a hundred logs at DEBUG)'),
    ).default(0.01),
    logRetentionDays: numeric(
      z
        .number({ error: 'must be a number of days' })
        .refine((n) => (logRetentionChoices as readonly number[]).includes(n), {
          error: `must be one of the retentions CloudWatch Logs accepts: ${logRetentionChoices.join(', ')}`,
        }),
    ).default(90),
    noncurrentVersionDays: numeric(
      z
        .number({ error: 'must be a number of days' })
        .int('must be a whole number of days')
        .min(1, 'must be between 1 and 3650 days')
        .max(3650, 'must be between 1 and 3650 days'),
    ).default(90),
    signingSecretArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/,
        'must be the complete ARN of a Secrets Manager secret (ending in -XXXXXX)',
      )
      .optional(),
    existingSesIdentity: z
      .string()
      .trim()
      .toLowerCase()
      .refine((v) => hostname.test(v) || z.email().safeParse(v).success, {
        error:
          'must be the name of an SES identity: a domain such as your-domain.org, or an address such as press@your-domain.org',
      })
      .optional(),
    reservedSendConcurrency: numeric(
      z
        .number({ error: 'must be a whole number of concurrent executions' })
        .int('must be a whole number of concurrent executions')
        .min(2, 'must be at least 2 (the SQS event source runs at least 2 send functions)')
        .max(1000, 'must be 1000 or fewer'),
    ).optional(),
    lateFireWindowMinutes: numeric(
      z
        .number({ error: 'must be a number of minutes' })
        .int('must be a whole number of minutes')
        .min(1, 'must be between 1 and 10080 minutes (a week)')
        .max(10_080, 'must be between 1 and 10080 minutes (a week)'),
    ).default(60),
    confirmationsPerHour: numeric(
      z
        .number({ error: 'must be a number of emails per hour' })
        .int('must be a whole number of emails per hour')
        .min(1, 'must be between 1 and 100000 emails per hour')
        .max(100_000, 'must be between 1 and 100000 emails per hour'),
    ).default(defaultConfirmationsPerHour),
    timeZone: z
      .string()
      .refine(isTimeZone, {
        error: 'must be an IANA time zone such as Europe/Paris (the timeZone of pressroom.yaml)',
      })
      .default('UTC'),
    webAclArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[A-Za-z0-9_-]{1,128}\/[0-9a-f-]{36}$/,
        'must be the ARN of an AWS WAF web ACL of scope CLOUDFRONT, which lives in us-east-1: arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>',
      )
      .optional(),
    awsSdk: z
      .enum(['runtime', 'bundled'], {
        error:
          'must be "runtime" (the Lambda runtime\'s AWS SDK, the default) or "bundled" (the SDK inside each function: faster cold starts, larger bundles)',
      })
      .default('runtime'),
  })
  .superRefine((c, ctx) => {
    if (c.existingSesIdentity && !identityCovers(c.existingSesIdentity, c.sender)) {
      ctx.addIssue({
        code: 'custom',
        path: ['existingSesIdentity'],
        message: `does not cover the sender ${c.sender}: give the sender's domain, a parent domain of it, or the sender's own address`,
      });
    }
    const workers = sendingPlan(c.sendRate).workers;
    if (c.reservedSendConcurrency !== undefined && c.reservedSendConcurrency < workers) {
      ctx.addIssue({
        code: 'custom',
        path: ['reservedSendConcurrency'],
        message: `must be at least ${workers}, the send functions that sendRate ${c.sendRate} runs at once (fewer would throttle the queue's event source); or leave it unset`,
      });
    }
    if (c.siteDomain && !c.certificateArn)
      ctx.addIssue({
        code: 'custom',
        path: ['certificateArn'],
        message: `is required with siteDomain "${c.siteDomain}": the ARN of its ACM certificate in us-east-1`,
      });
    if (c.certificateArn && !c.siteDomain)
      ctx.addIssue({
        code: 'custom',
        path: ['siteDomain'],
        message: 'is required with certificateArn: the host name the certificate is for',
      });
  });

/** The context keys pressroom reads. */
export const contextKeyNames = Object.keys(contextSchema.shape) as string[];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and checks the configuration from CDK context values. Every problem is reported at
 * once, each naming the context key, its value and what to do.
 */
export function parseConfig(context: Record<string, unknown>): PressroomConfig {
  const mine: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(context)) {
    if (contextKeyNames.includes(key)) {
      // An empty -c value means "not set", as in cdk.json's "key": null.
      if (value !== null && value !== '') mine[key] = value;
      continue;
    }
    // CDK's own keys carry ":" or "@"; anything else close to one of ours is a typo.
    if (key.includes(':') || key.includes('@')) continue;
    const suggestion = closest(key, contextKeyNames);
    if (suggestion) problems.push(`${key}: unknown context key: did you mean "${suggestion}"?`);
  }
  const parsed = contextSchema.safeParse(mine);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const value = mine[key];
      problems.push(`${key}: ${issue.message}${value !== undefined ? ` (value: ${showValue(value)})` : ''}`);
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(
      [
        'invalid pressroom configuration in the CDK context; nothing was synthesised:',
        ...problems.map((p) => `  ${p}`),
        'Set the values in the "context" of cdk.json, or pass them as -c key=value (see "Configuration (CDK context)" in docs/aws.md).',
      ].join('\n'),
    );
  }
  const c = parsed.data;
  return {
    stackName: c.stackName,
    sender: c.sender,
    senderDomain: c.sender.slice(c.sender.lastIndexOf('@') + 1).toLowerCase(),
    ...(c.siteDomain &&
      c.certificateArn && { site: { domain: c.siteDomain, certificateArn: c.certificateArn } }),
    siteLang: c.siteLang,
    ...(c.siteTitle !== undefined && { siteTitle: c.siteTitle }),
    sendRate: c.sendRate,
    ...(c.unsubscribeMailto !== undefined && { unsubscribeMailto: c.unsubscribeMailto }),
    ...(c.alarmEmail !== undefined && { alarmEmail: c.alarmEmail }),
    logLevel: c.logLevel,
    logDebugSampleRate: c.logDebugSampleRate,
    logRetentionDays: c.logRetentionDays,
    noncurrentVersionDays: c.noncurrentVersionDays,
    ...(c.signingSecretArn !== undefined && { signingSecretArn: c.signingSecretArn }),
    ...(c.existingSesIdentity !== undefined && { existingSesIdentity: c.existingSesIdentity }),
    ...(c.reservedSendConcurrency !== undefined && { reservedSendConcurrency: c.reservedSendConcurrency }),
    lateFireWindowMinutes: c.lateFireWindowMinutes,
    confirmationsPerHour: c.confirmationsPerHour,
    ...(c.webAclArn !== undefined && { webAclArn: c.webAclArn }),
    timeZone: c.timeZone,
    awsSdk: c.awsSdk,
  };
}

// In the core: the admin function checks a campaign's sender with it too.
export { identityCovers };

/** The configuration from a construct's context (the app's: cdk.json and -c values). */
export function configFromContext(node: Node): PressroomConfig {
  return parseConfig(node.getAllContext());
}

/**
 * Domains reserved for documentation and tests (RFC 2606, RFC 6761): a sender there can
 * synthesise, but SES will never verify it.
 */
export function isPlaceholderDomain(domain: string): boolean {
  const d = domain.toLowerCase();
  return (
    /(^|\.)example\.(com|org|net)$/.test(d) ||
    /\.(example|test|invalid|localhost)$/.test(d) ||
    d === 'localhost'
  );
}
