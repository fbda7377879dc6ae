import * as z from 'zod';
import { isTimeZone } from '../core/campaigns/time.ts';
import { defaultConfirmationsPerHour } from '../core/contacts/subscription-limits.ts';
import { PressroomError } from '../core/errors.ts';
import { languages } from '../core/publication/schema.ts';

/**
 * The functions' configuration: environment variables set by the stack, read once per
 * container and checked here, so that a missing or bad value stops the function at once
 * with the variable's name. Each function asks only for what it uses
 * (`loadConfig(['bucket', 'siteUrl'])`). The README's "Lambda handlers" table lists the
 * same names.
 */

const httpUrl = z.url({ protocol: /^https?$/ });

/** Each setting: its variable, its schema (defaults and optionality included), what it should be. */
const settings = {
  bucket: {
    variable: 'PRESSROOM_BUCKET',
    schema: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/),
    expected: 'the data bucket\'s name, e.g. "pressroom-data-123456789012"',
  },
  siteUrl: {
    variable: 'PRESSROOM_SITE_URL',
    schema: httpUrl.transform((url) => (url.endsWith('/') ? url : `${url}/`)),
    expected: 'the press room\'s public URL, e.g. "https://presse.example.org/"',
  },
  publicUrl: {
    variable: 'PRESSROOM_PUBLIC_URL',
    schema: httpUrl.transform((url) => url.replace(/\/+$/, '')),
    expected:
      'the base URL of unsubscribe and confirmation links: the press room, e.g. "https://presse.example.org"',
  },
  originSecretArn: {
    variable: 'PRESSROOM_ORIGIN_SECRET_ARN',
    schema: z
      .string()
      .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/)
      .optional(),
    expected: 'the ARN of the secret CloudFront adds to the requests it sends the public function',
  },
  adminUserPoolId: {
    variable: 'PRESSROOM_ADMIN_USER_POOL_ID',
    schema: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$/),
    expected: 'the id of the Cognito user pool of the admin\'s users, e.g. "eu-west-3_AbCdEfGhI"',
  },
  adminAuthUrl: {
    variable: 'PRESSROOM_ADMIN_AUTH_URL',
    schema: z.url({ protocol: /^https$/ }).transform((url) => url.replace(/\/+$/, '')),
    expected:
      'the address of the user pool\'s sign-in domain, e.g. "https://pressroom-123456789012.auth.eu-west-3.amazoncognito.com"',
  },
  adminSecretName: {
    variable: 'PRESSROOM_ADMIN_SECRET_NAME',
    schema: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/),
    expected:
      'the name of the admin\'s secret in Secrets Manager (its app client id and session key), e.g. "Pressroom-admin"',
  },
  confirmationsPerHour: {
    variable: 'PRESSROOM_CONFIRMATIONS_PER_HOUR',
    schema: z.coerce.number().int().positive().default(defaultConfirmationsPerHour),
    expected: 'at most this many confirmation emails in all per hour, a whole number such as "500"',
  },
  siteLang: {
    variable: 'PRESSROOM_SITE_LANG',
    schema: z.enum(languages).default('fr'),
    expected: '"fr" or "en"',
  },
  siteTitle: {
    variable: 'PRESSROOM_SITE_TITLE',
    schema: z.string().min(1).optional(),
    expected: "the press room's title",
  },
  secretArn: {
    variable: 'PRESSROOM_SECRET_ARN',
    schema: z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/),
    expected:
      'the ARN of the signing secret in Secrets Manager, e.g. "arn:aws:secretsmanager:eu-west-3:123456789012:secret:pressroom-signing-AbCdEf"',
  },
  queueUrl: {
    variable: 'PRESSROOM_QUEUE_URL',
    schema: z.url({ protocol: /^https?$/ }),
    expected: 'the URL of the SQS queue of recipient batches',
  },
  workerRate: {
    variable: 'PRESSROOM_WORKER_RATE',
    schema: z.coerce.number().positive().finite(),
    expected: 'messages per second one send function may start, a positive number such as "2"',
  },
  recipientsPerMessage: {
    variable: 'PRESSROOM_RECIPIENTS_PER_MESSAGE',
    schema: z.coerce.number().int().positive(),
    expected: 'how many recipients one queue message carries, a whole number such as "50"',
  },
  lateFireWindowMinutes: {
    variable: 'PRESSROOM_LATE_FIRE_WINDOW_MINUTES',
    schema: z.coerce.number().int().positive().default(60),
    expected:
      'minutes after its time past which a schedule pauses its campaign instead of sending, a whole number such as "60"',
  },
  sesConfigurationSet: {
    variable: 'PRESSROOM_SES_CONFIGURATION_SET',
    schema: z.string().min(1).optional(),
    expected: 'the SES configuration set whose events reach the feedback function',
  },
  senderIdentity: {
    variable: 'PRESSROOM_SENDER_IDENTITY',
    schema: z.string().min(1),
    expected:
      'the SES identity the stack sends from: a domain such as "example.org", or an address (its SenderIdentity output)',
  },
  unsubscribeMailto: {
    variable: 'PRESSROOM_UNSUBSCRIBE_MAILTO',
    schema: z.email().optional(),
    expected: 'the mailbox of the List-Unsubscribe mailto:, e.g. "desabonnement@example.org"',
  },
  timeZone: {
    variable: 'PRESSROOM_TIME_ZONE',
    schema: z.string().refine(isTimeZone),
    expected: 'the IANA zone digests of topic alerts go at 08:00 in, e.g. "Europe/Paris"',
  },
  liftScheduleGroup: {
    variable: 'PRESSROOM_LIFT_SCHEDULE_GROUP',
    schema: z.string().regex(/^[0-9A-Za-z._-]{1,64}$/),
    expected:
      'the EventBridge Scheduler group of the embargoes\' lifts, e.g. "Pressroom-EmbargoLifts-Group-1A2B3C4D"',
  },
  liftRoleArn: {
    variable: 'PRESSROOM_LIFT_ROLE_ARN',
    schema: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/),
    expected:
      'the ARN of the role the lifts\' schedules run with, e.g. "arn:aws:iam::123456789012:role/pressroom-lifts"',
  },
  liftDeadLetterArn: {
    variable: 'PRESSROOM_LIFT_DEAD_LETTER_ARN',
    schema: z.string().regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:.+$/),
    expected: 'the ARN of the SQS queue where Scheduler leaves a lift it could not deliver',
  },
  campaignScheduleGroup: {
    variable: 'PRESSROOM_CAMPAIGN_SCHEDULE_GROUP',
    // Unset: no pacing by the SES quota (tests of the handler alone). The stack always sets it.
    schema: z
      .string()
      .regex(/^[0-9A-Za-z._-]{1,64}$/)
      .optional(),
    expected:
      'the EventBridge Scheduler group of the campaigns\' schedules, where dispatch puts the next day\'s slice of a campaign the SES quota spreads, e.g. "Pressroom-Scheduling-Campaigns-1A2B3C4D"',
  },
  campaignSchedulerRoleArn: {
    variable: 'PRESSROOM_CAMPAIGN_SCHEDULER_ROLE_ARN',
    schema: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/),
    expected:
      'the ARN of the role the campaigns\' schedules run with, e.g. "arn:aws:iam::123456789012:role/pressroom-campaigns"',
  },
  dispatchFunctionArn: {
    variable: 'PRESSROOM_DISPATCH_FUNCTION_ARN',
    schema: z.string().regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+$/),
    expected:
      'the ARN of the dispatch function, which a campaign\'s next quota window (send) and a topic alert\'s schedule (publish) invoke, e.g. "arn:aws:lambda:eu-west-3:123456789012:function:pressroom-dispatch"',
  },
  campaignScheduleDeadLetterArn: {
    variable: 'PRESSROOM_CAMPAIGN_SCHEDULE_DEAD_LETTER_ARN',
    schema: z.string().regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:.+$/),
    expected: 'the ARN of the SQS queue where Scheduler leaves a campaign schedule it could not deliver',
  },
  ledgerTable: {
    variable: 'PRESSROOM_LEDGER_TABLE',
    // Unset: the ledger stays in the data bucket (campaigns/<name>/ledger/), as before the table.
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/)
      .optional(),
    expected: 'the DynamoDB table of the delivery ledger, e.g. "Pressroom-LedgerTable-1A2B3C4D"',
  },
  templatesDir: {
    variable: 'PRESSROOM_TEMPLATES_DIR',
    // Unset: the project's own templates/ (tests, local runs). The stack always sets it.
    schema: z.string().min(1).optional(),
    expected: 'the folder of the templates bundled with the function, e.g. "/var/task/templates"',
  },
} as const;

type Settings = typeof settings;

/** Every setting a function may ask for, typed after its schema. */
export type HandlerConfig = { [K in keyof Settings]: z.output<Settings[K]['schema']> };

/** The name of a setting, e.g. `bucket`. */
export type ConfigName = keyof HandlerConfig;

/** The environment variable behind each setting. */
export const configVariables: { readonly [K in ConfigName]: string } = Object.fromEntries(
  Object.entries(settings).map(([name, s]) => [name, s.variable]),
) as { [K in ConfigName]: string };

/** A variable is missing or has a bad value: the function cannot start. */
export class ConfigurationError extends PressroomError {
  override name = 'ConfigurationError';
}

/**
 * Reads the settings named in `needs` from the environment. Every problem is reported at
 * once, each with its variable, the value found and what is expected. An empty variable
 * counts as unset.
 */
export function loadConfig<const K extends ConfigName>(
  needs: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Pick<HandlerConfig, K> {
  const config: Partial<Record<ConfigName, unknown>> = {};
  const problems: string[] = [];
  for (const name of new Set(needs)) {
    const setting: { variable: string; schema: z.ZodType; expected: string } = settings[name];
    const raw = env[setting.variable] === '' ? undefined : env[setting.variable];
    const parsed = setting.schema.safeParse(raw);
    if (parsed.success) {
      if (parsed.data !== undefined) config[name] = parsed.data;
    } else {
      problems.push(
        raw === undefined
          ? `${setting.variable} is not set: it must be ${setting.expected}`
          : `${setting.variable} must be ${setting.expected} (value: ${JSON.stringify(raw)})`,
      );
    }
  }
  if (problems.length > 0) {
    throw new ConfigurationError(`bad configuration of the function: ${problems.join('; ')}`);
  }
  return config as Pick<HandlerConfig, K>;
}
