import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { DynamoLedger } from '../lambdas/adapters/dynamodb-ledger.ts';
import { LambdaCampaignDispatcher } from '../lambdas/adapters/lambda-dispatcher.ts';
import { localSourceFiles } from '../lambdas/adapters/local-files.ts';
import { S3ObjectStore } from '../lambdas/adapters/s3-store.ts';
import { EventBridgeCampaignScheduler, EventBridgeLiftCanceller } from '../lambdas/adapters/scheduler.ts';
import { checkSenderIdentity } from '../lambdas/core/campaigns/sender-identity.ts';
import { type ContactKeys, contactKeys } from '../lambdas/core/contacts/model.ts';
import { PressroomError } from '../lambdas/core/errors.ts';
import type { SourceFiles } from '../lambdas/core/publication/load.ts';
import { languages } from '../lambdas/core/publication/schema.ts';
import { defaultStackName } from '../lib/config.ts';

/**
 * The command line against a deployed stack (`--backend aws`): the stack's outputs say
 * where everything is (a `cdk-outputs.json`, else CloudFormation), and the same core runs on
 * the S3 store, with dispatch invoked on Lambda and schedules on EventBridge Scheduler.
 * Credentials come from the SDK's usual chain (AWS_PROFILE, environment, SSO...).
 */

export class StackOutputsError extends PressroomError {
  override name = 'StackOutputsError';
}

const text = z.string().min(1);

/** The outputs the command line uses; the stack has more (DKIM records, queues...). */
const outputsSchema = z.object({
  Region: text,
  DataBucketName: text,
  PressRoomUrl: text,
  PublicEndpointUrl: text,
  DispatchFunctionName: text,
  DispatchFunctionArn: text,
  SchedulerRoleArn: text,
  ScheduleGroupName: text,
  ScheduleDeadLetterQueueArn: text,
  SigningSecretArn: text,
  /** The press room's language and title (stacks deployed before they were outputs lack them). */
  SiteLang: z.enum(languages).optional(),
  SiteTitle: text.optional(),
  /** The SES identity the functions may send from (stacks deployed before it was an output lack it). */
  SenderIdentity: text.optional(),
  /** Where publish sets the lifts of embargoed releases (stacks deployed before it lack it). */
  EmbargoScheduleGroupName: text.optional(),
  /** The delivery ledger's table (stacks deployed before it keep the ledger in the bucket). */
  LedgerTableName: text.optional(),
});

export type StackOutputs = z.infer<typeof outputsSchema>;

/** Where the outputs came from, for messages: a file, or `stack <name>`. */
export interface LoadedOutputs {
  outputs: StackOutputs;
  from: string;
}

const howToGetOutputs = (file: string, stack: string) =>
  `either write ${file} with \`npx cdk deploy --outputs-file cdk-outputs.json\` (or point PRESSROOM_STACK_OUTPUTS at such a file), or let pressroom read the outputs of the CloudFormation stack "${stack}" (set PRESSROOM_STACK to its name, AWS_REGION to its region, and give AWS credentials that may call cloudformation:DescribeStacks)`;

function checkOutputs(values: unknown, from: string): StackOutputs {
  const parsed = outputsSchema.safeParse(values);
  if (parsed.success) return parsed.data;
  const missing = parsed.error.issues.map((i) => String(i.path[0])).join(', ');
  throw new StackOutputsError(
    `${from} lacks the stack outputs ${missing}: deploy the current stack again (npx cdk deploy --outputs-file cdk-outputs.json)`,
  );
}

/**
 * The stack's outputs: from `PRESSROOM_STACK_OUTPUTS` (default `./cdk-outputs.json`) when
 * that file exists, else from CloudFormation `DescribeStacks` on `PRESSROOM_STACK`
 * (default the stack's default name). Neither: an error that names both ways.
 */
export async function loadStackOutputs(
  env: NodeJS.ProcessEnv = process.env,
  clients: { cloudFormation?: CloudFormationClient } = {},
): Promise<LoadedOutputs> {
  const file = path.resolve(env.PRESSROOM_STACK_OUTPUTS || 'cdk-outputs.json');
  const stack = env.PRESSROOM_STACK || defaultStackName;
  let content: string | undefined;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new StackOutputsError(`cannot read ${file} (${code})`, { cause: error });
    if (env.PRESSROOM_STACK_OUTPUTS) {
      throw new StackOutputsError(
        `PRESSROOM_STACK_OUTPUTS names ${file}, which does not exist: ${howToGetOutputs(file, stack)}`,
      );
    }
  }
  if (content !== undefined)
    return { outputs: outputsFromFile(content, file, env.PRESSROOM_STACK), from: file };

  const client = clients.cloudFormation ?? new CloudFormationClient({});
  try {
    const answer = await client.send(new DescribeStacksCommand({ StackName: stack }));
    const found = answer.Stacks?.[0];
    if (!found) throw new Error(`no stack "${stack}"`);
    const values = Object.fromEntries((found.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    return { outputs: checkOutputs(values, `stack ${stack}`), from: `stack ${stack}` };
  } catch (error) {
    if (error instanceof StackOutputsError) throw error;
    throw new StackOutputsError(
      `cannot find the deployed stack: there is no ${file}, and CloudFormation DescribeStacks on "${stack}" failed (${(error as Error).message}). To use --backend aws, ${howToGetOutputs(file, stack)}.`,
      { cause: error },
    );
  }
}

/** `cdk-outputs.json` is `{ "<stack name>": { "<output>": "<value>" } }`. */
function outputsFromFile(content: string, file: string, wanted: string | undefined): StackOutputs {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    throw new StackOutputsError(
      `${file} is not JSON (${(error as Error).message}): write it again with \`npx cdk deploy --outputs-file cdk-outputs.json\``,
      { cause: error },
    );
  }
  const stacks = z.record(z.string(), z.record(z.string(), z.unknown())).safeParse(json);
  if (!stacks.success || Object.keys(stacks.data).length === 0) {
    throw new StackOutputsError(
      `${file} holds no stack outputs: it should look like {"Pressroom": {"DataBucketName": "..."}}, as \`npx cdk deploy --outputs-file cdk-outputs.json\` writes it`,
    );
  }
  const names = Object.keys(stacks.data);
  const name =
    wanted ??
    (names.length === 1 ? names[0] : names.includes(defaultStackName) ? defaultStackName : undefined);
  const values = name === undefined ? undefined : stacks.data[name];
  if (!name || !values) {
    throw new StackOutputsError(
      `${file} ${wanted ? `has no stack "${wanted}"` : 'holds several stacks'} (it has ${names.map((n) => `"${n}"`).join(', ')}): set PRESSROOM_STACK to one of them`,
    );
  }
  return checkOutputs(values, `${file} (stack "${name}")`);
}

/**
 * Refuses, before anything is written or dispatched, a campaign whose sender the stack may
 * not send from (core/campaigns/sender-identity.ts). Older stacks, without the
 * `SenderIdentity` output, are not checked here: the send pauses with the same reason.
 */
export function checkSenderOnStack(
  loaded: Pick<AwsBackend, 'outputs' | 'outputsFrom'>,
  campaign: string,
  from: string,
) {
  const identity = loaded.outputs.SenderIdentity;
  if (identity !== undefined)
    checkSenderIdentity(identity, campaign, from, `SenderIdentity in ${loaded.outputsFrom}`);
}

/** The SDK clients the AWS backend uses; tests pass mocks, otherwise defaults in the stack's region. */
export interface AwsClients {
  cloudFormation?: CloudFormationClient;
  s3?: S3Client;
  secretsManager?: SecretsManagerClient;
  lambda?: LambdaClient;
  scheduler?: SchedulerClient;
  dynamodb?: DynamoDBClient;
}

/** Everything the commands need to work on a deployed stack. */
export interface AwsBackend {
  outputs: StackOutputs;
  /** Where the outputs were read: a file, or `stack <name>`. */
  outputsFrom: string;
  store: S3ObjectStore;
  /** The ledger table (LedgerTableName); absent on a stack deployed before it: the bucket's. */
  ledger?: DynamoLedger;
  /** Local files: what `publish` and `send` read before uploading or dispatching. */
  files: SourceFiles;
  dispatcher: LambdaCampaignDispatcher;
  scheduler: EventBridgeCampaignScheduler;
  /** Deletes the lift of an embargoed release (undefined on a stack without embargo lifts). */
  lifts?: EventBridgeLiftCanceller;
  /** Contact ids and token keys from the stack's signing secret, read on first use. */
  signingKeys(): Promise<ContactKeys>;
}

/**
 * The signing secret: `PRESSROOM_SECRET` when set (it must then equal the stack's secret,
 * or contact ids and unsubscribe links will not match), else the stack's secret read with
 * Secrets Manager `GetSecretValue`.
 */
export async function stackSigningSecret(
  outputs: StackOutputs,
  env: NodeJS.ProcessEnv,
  client: SecretsManagerClient,
): Promise<string> {
  const given = env.PRESSROOM_SECRET;
  if (given !== undefined && given !== '') {
    if (given.length < 32) {
      throw new StackOutputsError(
        'PRESSROOM_SECRET must be at least 32 characters (value not shown: it holds a secret)',
      );
    }
    return given;
  }
  let value: string | undefined;
  try {
    value = (await client.send(new GetSecretValueCommand({ SecretId: outputs.SigningSecretArn })))
      .SecretString;
  } catch (error) {
    throw new StackOutputsError(
      `cannot read the stack's signing secret ${outputs.SigningSecretArn} (${(error as Error).message}): give credentials that may call secretsmanager:GetSecretValue on it, or set PRESSROOM_SECRET to its value`,
      { cause: error },
    );
  }
  if (!value || value.length < 32) {
    throw new StackOutputsError(
      `the signing secret ${outputs.SigningSecretArn} must be a SecretString of 32 characters or more (value not shown)`,
    );
  }
  return value;
}

/** Builds the AWS backend from the stack's outputs. */
export async function awsBackend(
  env: NodeJS.ProcessEnv = process.env,
  clients: AwsClients = {},
): Promise<AwsBackend> {
  const { outputs, from } = await loadStackOutputs(env, clients);
  const region = outputs.Region;
  let keys: Promise<ContactKeys> | undefined;
  const schedulerClient = clients.scheduler ?? new SchedulerClient({ region });
  return {
    outputs,
    outputsFrom: from,
    store: new S3ObjectStore({
      bucket: outputs.DataBucketName,
      client: clients.s3 ?? new S3Client({ region }),
    }),
    ...(outputs.LedgerTableName !== undefined && {
      ledger: new DynamoLedger({
        table: outputs.LedgerTableName,
        client: clients.dynamodb ?? new DynamoDBClient({ region }),
      }),
    }),
    files: localSourceFiles,
    dispatcher: new LambdaCampaignDispatcher({
      functionName: outputs.DispatchFunctionName,
      client: clients.lambda ?? new LambdaClient({ region }),
    }),
    scheduler: new EventBridgeCampaignScheduler({
      groupName: outputs.ScheduleGroupName,
      targetArn: outputs.DispatchFunctionArn,
      roleArn: outputs.SchedulerRoleArn,
      deadLetterArn: outputs.ScheduleDeadLetterQueueArn,
      client: schedulerClient,
    }),
    ...(outputs.EmbargoScheduleGroupName !== undefined && {
      lifts: new EventBridgeLiftCanceller({
        groupName: outputs.EmbargoScheduleGroupName,
        client: schedulerClient,
      }),
    }),
    signingKeys() {
      keys ??= stackSigningSecret(
        outputs,
        env,
        clients.secretsManager ?? new SecretsManagerClient({ region }),
      ).then(contactKeys);
      keys.catch(() => {
        keys = undefined;
      });
      return keys;
    },
  };
}
