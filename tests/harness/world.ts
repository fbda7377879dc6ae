import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { LambdaFunctionURLEvent, S3Event, SNSEvent, SQSEvent } from 'aws-lambda';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll } from 'vitest';
import { DynamoLedger } from '../../lambdas/adapters/dynamodb-ledger.ts';
import { S3ObjectStore } from '../../lambdas/adapters/s3-store.ts';
import type { DispatchReport } from '../../lambdas/core/campaigns/dispatch.ts';
import type { CampaignDispatcher } from '../../lambdas/core/campaigns/remote.ts';
import { pathMatches } from '../support/cloudfront.ts';
import { createTable, startDynalite } from '../support/dynalite.ts';
import { listenLocally } from '../support/listen.ts';
import { S3RVER_CREDENTIALS, startS3rver } from '../support/s3rver.ts';
import { type Assembly, synthWithBundles } from './assembly.ts';
import { type CognitoFake, startCognitoFake } from './cognito.ts';
import { type Edge, type QueuedMessage, type SentMail, startEdge } from './edge.ts';
import {
  callerOf,
  FUNCTION_SECRET_KEY,
  type FunctionSpec,
  functionSpecs,
  type Invocation,
  LambdaContainer,
  runtimeEnvironment,
} from './functions.ts';
import { evaluate } from './iam.ts';
import { ACCOUNT, REGION, TemplateValues } from './template.ts';

/**
 * The stack as the template wires it, on 127.0.0.1: the functions' real bundles in their
 * own containers (worker threads with the template's environment), the edge in front of
 * s3rver, aws-ses-v2-local and the fakes, and the event sources (S3 notifications, the SQS
 * event source mapping, SNS subscriptions, Scheduler, Function URLs) read from the template.
 */
export interface HarnessWorld {
  assembly: Assembly;
  values: TemplateValues;
  outputs: Record<string, string>;
  edge: Edge;
  functions: FunctionSpec[];
  /** The data bucket, read and written as the operator (the command line) does. */
  store: S3ObjectStore;
  /** The ledger table, read as the operator (the command line) does. */
  ledger: DynamoLedger;
  /** The signing secret's value, as Secrets Manager holds it. */
  secret: string;
  /** The admin's user pool, its keys and its token endpoint (tests/harness/cognito.ts). */
  cognito: CognitoFake;
  /** A Scheduler client signed as the operator, as `pressroom schedule --backend aws` uses. */
  scheduler: SchedulerClient;
  container(logicalIdPrefix: string): LambdaContainer;
  /**
   * Delivers the asynchronous invocations functions made so far (Lambda Invoke of type Event,
   * which the edge authorized and kept), each to its function, as Lambda would.
   */
  deliverInvocations(): Promise<Delivery<unknown>[]>;
  /** Delivers the notifications the bucket's configuration makes of the objects created so far. */
  deliverS3Notifications(): Promise<Delivery<unknown>[]>;
  /** Runs the SQS event sources until their queues are empty or `rounds` is reached. */
  drainQueues(rounds?: number): Promise<Delivery<{ batchItemFailures?: { itemIdentifier: string }[] }>[]>;
  /** What Scheduler does when a schedule's time comes: assume its role, invoke its target. */
  fireSchedule(key: string): Promise<ScheduleFiring>;
  /** Publishes an SES event about a sent mail to the configuration set's SNS destination. */
  publishSesEvent(mail: SentMail, type: SesEventType, recipient?: string): Promise<Delivery<unknown>[]>;
  /** A request to a Function URL, as Lambda hands it to the function (payload 2.0). */
  functionUrlRequest(
    url: string,
    request: { method: string; headers?: Record<string, string>; body?: string; sourceIp?: string },
  ): Promise<Delivery<{ statusCode: number; headers?: Record<string, string>; body?: string }>>;
  /**
   * A visitor's request to the press room's domain, as CloudFront handles one for a path its
   * distribution sends to a Function URL: the first matching behaviour, its allowed methods,
   * its viewer-request CloudFront Function (the template's code, run), its origin request
   * policy, the origin's custom headers (secrets resolved as CloudFormation would), then the
   * Function URL request from a CloudFront address.
   */
  siteRequest(
    url: string,
    request: { method: string; headers?: Record<string, string>; body?: string; viewerIp?: string },
  ): Promise<Delivery<{ statusCode: number; headers?: Record<string, string>; body?: string }>>;
  stop(): Promise<void>;
}

export type SesEventType = 'Delivery' | 'Bounce' | 'Complaint' | 'Reject';

/** One event handed to one function. */
export interface Delivery<T> {
  function: string;
  event: unknown;
  invocation: Invocation<T>;
}

export interface ScheduleFiring {
  /** Scheduler could assume the schedule's role (its trust policy, with AWS's context keys). */
  assumed: boolean;
  /** The role may invoke the target. */
  invokeAllowed: boolean;
  /** The role may send to the schedule's dead-letter queue; undefined when it names none. */
  deadLetterAllowed?: boolean;
  context: Record<string, string>;
  delivery?: Delivery<unknown>;
}

/** CreateTable input from an AWS::DynamoDB::Table of the template, named as CloudFormation would. */
function tableInputOf(values: TemplateValues, id: string): CreateTableCommandInput {
  const p = (values.resource(id).Properties ?? {}) as Record<string, unknown>;
  return {
    TableName: values.ref(id),
    AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
    BillingMode: p.BillingMode as CreateTableCommandInput['BillingMode'],
    ...(p.GlobalSecondaryIndexes !== undefined && {
      GlobalSecondaryIndexes: p.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'],
    }),
  };
}

type SesLocal = (config?: { host?: string; port?: number }) => Promise<Server>;

async function startSesLocal(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const module = (await import('aws-ses-v2-local')) as unknown as {
    default: SesLocal | { default: SesLocal };
  };
  const start = typeof module.default === 'function' ? module.default : module.default.default;
  return listenLocally(await start({ host: '127.0.0.1', port: 0 }));
}

/** The managed origin request policy AllViewerExceptHostHeader. */
const allViewerExceptHostHeader = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

interface CloudFrontConfig {
  Aliases?: string[];
  CustomErrorResponses?: { ErrorCode: number; ResponseCode?: number; ResponsePagePath?: string }[];
  Origins: {
    Id: string;
    DomainName: unknown;
    CustomOriginConfig?: unknown;
    OriginCustomHeaders?: { HeaderName: string; HeaderValue: unknown }[];
  }[];
  CacheBehaviors?: {
    PathPattern: string;
    TargetOriginId: string;
    AllowedMethods?: string[];
    OriginRequestPolicyId?: string;
    FunctionAssociations?: { EventType: string; FunctionARN: { 'Fn::GetAtt': [string, string] } }[];
  }[];
}

interface CloudFrontFunctionRequest {
  method: string;
  uri: string;
  querystring: Record<string, unknown>;
  headers: Record<string, { value: string }>;
}

/** GenerateSecretString: a password, or a JSON template with the password at one key. */
interface SecretGeneration {
  PasswordLength?: number;
  SecretStringTemplate?: unknown;
  GenerateStringKey?: string;
}

/** A value like the one Secrets Manager generates for GenerateSecretString (the template resolved). */
function generatedSecret(settings: SecretGeneration | undefined, values: TemplateValues): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const password = [...randomBytes(settings?.PasswordLength ?? 32)]
    .map((b) => alphabet[b % alphabet.length])
    .join('');
  if (settings?.SecretStringTemplate === undefined || !settings.GenerateStringKey) return password;
  const template = JSON.parse(String(values.resolve(settings.SecretStringTemplate))) as Record<
    string,
    unknown
  >;
  return JSON.stringify({ ...template, [settings.GenerateStringKey]: password });
}

/**
 * One harness for a test file: started before its tests (the synth takes a while), stopped
 * after them; `started` receives it.
 */
export function useHarness(context: Record<string, unknown>, started: (world: HarnessWorld) => void): void {
  let world: HarnessWorld | undefined;
  beforeAll(async () => {
    world = await startHarness(context);
    started(world);
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  });
}

/** The calls IAM denied since the last look, one line each (what a failing step prints). */
export function takeDenials(world: HarnessWorld): string[] {
  return world.edge.denials.splice(0).map((d) => `${d.caller} ${d.operation}: ${d.action} on ${d.resource}`);
}

/** The message SES was given for `address` (the first one): a failure names the address. */
export function mailTo(world: HarnessWorld, address: string): SentMail {
  const mail = world.edge.mails.find((m) => m.destinations.includes(address));
  if (!mail) throw new Error(`no mail was sent to ${address}`);
  return mail;
}

/**
 * The HTML of the message SES was given for `address`, and its first tracked link (`<press
 * room>/c/…`), if it has one.
 */
export async function trackedHtml(
  world: HarnessWorld,
  address: string,
): Promise<{ html: string; link: string | undefined }> {
  const html = String((await simpleParser(mailTo(world, address).raw)).html);
  const site = world.outputs.PressRoomUrl as string;
  const link = [...html.matchAll(/href="([^"]+)"/g)]
    .map((m) => m[1] as string)
    .find((href) => href.startsWith(`${site}c/`));
  return { html, link };
}

/** `pressroom send|campaign resume --backend aws`: the dispatch function invoked on demand. */
export function dispatchFunction(world: HarnessWorld): CampaignDispatcher {
  return {
    async dispatch(campaign, options = {}) {
      const invocation = await world.container('Dispatch').invoke<DispatchReport>({ campaign, ...options });
      if (!invocation.ok) throw new Error(invocation.error.errorMessage);
      return invocation.result;
    },
  };
}

/** Synthesizes the stack with `context`, starts everything, and returns the world. */
export async function startHarness(context: Record<string, unknown> = {}): Promise<HarnessWorld> {
  const assembly = synthWithBundles(context);
  const cleanups: (() => Promise<void> | void)[] = [() => assembly.remove()];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    // The queue URLs point at the edge, which is only known once it listens: a first pass
    // gives the names, the second the URLs.
    const draft = new TemplateValues(assembly.template, assembly.stackName);
    const functions = functionSpecs(assembly, draft);
    const buckets = draft.ofType('AWS::S3::Bucket');
    const s3 = await startS3rver(
      buckets.map((id) => draft.ref(id)),
      {
        // Those the template versions keep their versions (erasure removes them: privacy.ts).
        versioned: buckets
          .filter(
            (id) =>
              (draft.resource(id).Properties?.VersioningConfiguration as { Status?: string } | undefined)
                ?.Status === 'Enabled',
          )
          .map((id) => draft.ref(id)),
        credentials: functions.map((f) => ({
          accessKeyId: f.logicalId,
          secretAccessKey: FUNCTION_SECRET_KEY,
        })),
      },
    );
    cleanups.push(() => s3.stop());
    const ses = await startSesLocal();
    cleanups.push(() => ses.close());
    // The ledger's tables, made as the template declares them (keys, indexes, billing).
    const dynamodb = await startDynalite();
    cleanups.push(() => dynamodb.stop());
    const tableIds = draft.ofType('AWS::DynamoDB::Table');
    for (const id of tableIds) await createTable(dynamodb.client(), tableInputOf(draft, id));
    const secrets = Object.fromEntries(
      draft
        .ofType('AWS::SecretsManager::Secret')
        .map((id) => [
          draft.ref(id),
          generatedSecret(draft.resource(id).Properties?.GenerateSecretString as SecretGeneration, draft),
        ]),
    );
    /** `{{resolve:secretsmanager:<arn>:SecretString:::}}`, as CloudFormation resolves it at deploy. */
    const resolveSecrets = (text: string) =>
      text.replace(/\{\{resolve:secretsmanager:(.+?):SecretString:::\}\}/g, (_, arn: string) => {
        const value = secrets[arn];
        if (value === undefined) throw new Error(`no secret ${arn} in the template`);
        return value;
      });
    const edge = await startEdge({
      values: draft,
      callers: functions.map((f) => callerOf(f, draft)),
      s3Endpoint: s3.endpoint,
      sesEndpoint: ses.endpoint,
      dynamodbEndpoint: dynamodb.endpoint,
      secrets,
    });
    cleanups.push(() => edge.close());
    const values = new TemplateValues(assembly.template, assembly.stackName, edge.endpoint);
    const cognito = await startCognitoFake(values);
    if (!cognito) throw new Error('the template has no admin user pool, app client and domain');
    cleanups.push(() => cognito.close());
    const specs = functionSpecs(assembly, values);
    const containers = new Map(
      specs.map((spec) => {
        const tmpDir = path.join(assembly.outdir, 'tmp', spec.logicalId);
        mkdirSync(tmpDir, { recursive: true });
        const where = { runtimeModules: assembly.runtimeModules, tmpDir };
        const env = runtimeEnvironment(spec, edge.endpoint, where);
        return [spec.logicalId, new LambdaContainer(spec, env, cognito.internet)];
      }),
    );
    cleanups.push(async () => {
      for (const c of containers.values()) await c.stop();
    });
    const operatorConfig = {
      region: REGION,
      endpoint: edge.endpoint,
      credentials: S3RVER_CREDENTIALS,
    };
    const dataBucket = values.ofType('AWS::S3::Bucket').find((id) => id.includes('Data'));
    if (!dataBucket) throw new Error('the template has no data bucket');
    const store = new S3ObjectStore({
      bucket: values.ref(dataBucket),
      client: new S3Client({
        ...operatorConfig,
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    });
    const scheduler = new SchedulerClient(operatorConfig);
    const ledgerTableId = tableIds.find((id) => id.startsWith('Ledger'));
    if (!ledgerTableId) throw new Error('the template has no ledger table');
    const ledger = new DynamoLedger({
      table: values.ref(ledgerTableId),
      client: new DynamoDBClient(operatorConfig),
    });
    const secretId = values
      .ofType('AWS::SecretsManager::Secret')
      .find((id) => id.startsWith('SigningSecret'));
    const secret = secretId ? (secrets[values.ref(secretId)] as string) : '';

    const byArn = (arn: string) => {
      const spec = specs.find((s) => s.arn === arn || s.name === arn);
      if (!spec) throw new Error(`no bundled function has the ARN ${arn}`);
      return containers.get(spec.logicalId) as LambdaContainer;
    };
    const deliver = async <T>(container: LambdaContainer, event: unknown): Promise<Delivery<T>> => ({
      function: container.spec.logicalId,
      event,
      invocation: await container.invoke<T>(event),
    });

    /** Whether a service may invoke a function, by the function's resource-based policy. */
    const mayInvoke = (
      fnArn: string,
      service: string,
      context: Record<string, string>,
      action = 'lambda:InvokeFunction',
    ) =>
      evaluate([values.lambdaPolicy(fnArn)], { action, resource: fnArn, principal: { service }, context })
        .effect === 'allow';

    const world: HarnessWorld = {
      assembly,
      values,
      outputs: values.outputs(),
      edge,
      functions: specs,
      store,
      ledger,
      secret,
      cognito,
      scheduler,
      container(prefix) {
        const spec = specs.find((s) => s.logicalId.startsWith(prefix));
        if (!spec) throw new Error(`no function ${prefix}* in the template`);
        return containers.get(spec.logicalId) as LambdaContainer;
      },

      async deliverInvocations() {
        const deliveries: Delivery<unknown>[] = [];
        for (const invocation of edge.invocations.splice(0))
          deliveries.push(await deliver(byArn(invocation.functionArn), JSON.parse(invocation.payload)));
        return deliveries;
      },

      async deliverS3Notifications() {
        const deliveries: Delivery<unknown>[] = [];
        const created = edge.objectsCreated.splice(0);
        for (const id of values.ofType('Custom::S3BucketNotifications')) {
          const p = values.resolve(values.resource(id).Properties) as {
            BucketName: string;
            NotificationConfiguration: {
              LambdaFunctionConfigurations?: {
                Events: string[];
                LambdaFunctionArn: string;
                Filter?: { Key?: { FilterRules?: { Name: string; Value: string }[] } };
              }[];
            };
          };
          for (const config of p.NotificationConfiguration.LambdaFunctionConfigurations ?? []) {
            const rules = config.Filter?.Key?.FilterRules ?? [];
            const prefix = rules.find((r) => r.Name.toLowerCase() === 'prefix')?.Value ?? '';
            const suffix = rules.find((r) => r.Name.toLowerCase() === 'suffix')?.Value ?? '';
            for (const object of created) {
              if (
                object.bucket !== p.BucketName ||
                !object.key.startsWith(prefix) ||
                !object.key.endsWith(suffix)
              )
                continue;
              if (!config.Events.some((e) => e === 's3:ObjectCreated:*' || e === `s3:${object.eventName}`))
                continue;
              const bucketArn = `arn:aws:s3:::${object.bucket}`;
              if (
                !mayInvoke(config.LambdaFunctionArn, 's3.amazonaws.com', {
                  'aws:SourceArn': bucketArn,
                  'aws:SourceAccount': ACCOUNT,
                })
              ) {
                throw new Error(
                  `S3 may not invoke ${config.LambdaFunctionArn}: no permission for ${bucketArn}`,
                );
              }
              const event: S3Event = {
                Records: [
                  {
                    eventVersion: '2.1',
                    eventSource: 'aws:s3',
                    awsRegion: REGION,
                    eventTime: new Date().toISOString(),
                    eventName: object.eventName,
                    userIdentity: { principalId: 'AWS:AIDAOPERATOR' },
                    requestParameters: { sourceIPAddress: '198.51.100.7' },
                    responseElements: { 'x-amz-request-id': 'HARNESS', 'x-amz-id-2': 'HARNESS' },
                    s3: {
                      s3SchemaVersion: '1.0',
                      configurationId: id,
                      bucket: {
                        name: object.bucket,
                        ownerIdentity: { principalId: 'A3OWNER' },
                        arn: bucketArn,
                      },
                      object: {
                        // Form encoding, as S3 writes keys in notifications.
                        key: encodeURIComponent(object.key).replace(/%20/g, '+').replace(/%2F/g, '/'),
                        size: object.size,
                        eTag: object.eTag.replace(/"/g, ''),
                        sequencer: Date.now().toString(16).toUpperCase(),
                      },
                    },
                  },
                ],
              };
              deliveries.push(await deliver(byArn(config.LambdaFunctionArn), event));
            }
          }
        }
        return deliveries;
      },

      async drainQueues(rounds = 10) {
        const deliveries: Delivery<{ batchItemFailures?: { itemIdentifier: string }[] }>[] = [];
        for (let round = 0; round < rounds; round++) {
          let delivered = false;
          for (const id of values.ofType('AWS::Lambda::EventSourceMapping')) {
            const p = values.resolve(values.resource(id).Properties) as {
              EventSourceArn: string;
              FunctionName: string;
              BatchSize?: number;
              FunctionResponseTypes?: string[];
              Enabled?: boolean;
            };
            const queue = edge.queues.get(p.EventSourceArn);
            if (!queue || queue.length === 0 || p.Enabled === false) continue;
            const batch: QueuedMessage[] = queue.splice(0, p.BatchSize ?? 10);
            for (const m of batch) m.receiveCount++;
            const event: SQSEvent = {
              Records: batch.map((m) => ({
                messageId: m.messageId,
                receiptHandle: `${m.messageId}#${m.receiveCount}`,
                body: m.body,
                attributes: {
                  ApproximateReceiveCount: String(m.receiveCount),
                  SentTimestamp: String(m.sentTimestamp),
                  SenderId: m.senderId,
                  ApproximateFirstReceiveTimestamp: String(m.sentTimestamp),
                },
                messageAttributes: {},
                md5OfBody: m.md5OfBody,
                eventSource: 'aws:sqs',
                eventSourceARN: p.EventSourceArn,
                awsRegion: REGION,
              })),
            };
            const delivery = await deliver<{ batchItemFailures?: { itemIdentifier: string }[] }>(
              byArn(p.FunctionName),
              event,
            );
            deliveries.push(delivery);
            delivered = true;
            // What the event source mapping deletes and what it leaves for redelivery.
            const reports = p.FunctionResponseTypes?.includes('ReportBatchItemFailures');
            const failed = new Set(
              !delivery.invocation.ok
                ? batch.map((m) => m.messageId)
                : reports
                  ? (delivery.invocation.result?.batchItemFailures ?? []).map((f) => f.itemIdentifier)
                  : [],
            );
            queue.push(...batch.filter((m) => failed.has(m.messageId)));
          }
          if (!delivered) break;
        }
        return deliveries;
      },

      async fireSchedule(key) {
        const schedule = edge.schedules.get(key);
        if (!schedule) throw new Error(`no schedule ${key}`);
        const target = schedule.definition.Target as {
          Arn: string;
          RoleArn: string;
          Input?: string;
          DeadLetterConfig?: { Arn?: string };
        };
        const groupId = values
          .ofType('AWS::Scheduler::ScheduleGroup')
          .find((id) => values.ref(id) === schedule.groupName);
        // AWS documents the schedule group's ARN as the source ARN Scheduler assumes roles with.
        const context = {
          'aws:SourceAccount': ACCOUNT,
          'aws:SourceArn': groupId
            ? values.getAtt(groupId, 'Arn')
            : `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${schedule.groupName}`,
        };
        const roleId = values.logicalIdOf('AWS::IAM::Role', target.RoleArn, 'Arn');
        const assumed =
          roleId !== undefined &&
          evaluate([values.trustPolicy(roleId)], {
            action: 'sts:AssumeRole',
            principal: { service: 'scheduler.amazonaws.com' },
            context,
          }).effect === 'allow';
        const invokeAllowed =
          roleId !== undefined &&
          evaluate(values.rolePolicies(roleId), { action: 'lambda:InvokeFunction', resource: target.Arn })
            .effect === 'allow';
        // Scheduler sends what it could not deliver to the dead-letter queue with the same role.
        const deadLetter = target.DeadLetterConfig?.Arn;
        const deadLetterAllowed =
          deadLetter === undefined
            ? undefined
            : roleId !== undefined &&
              edge.queues.has(deadLetter) &&
              evaluate(values.rolePolicies(roleId), { action: 'sqs:SendMessage', resource: deadLetter })
                .effect === 'allow';
        // Scheduler deletes a one-time schedule once it ran (ActionAfterCompletion DELETE).
        if (schedule.definition.ActionAfterCompletion === 'DELETE') edge.schedules.delete(key);
        const delivery = await deliver(
          byArn(target.Arn),
          target.Input === undefined ? {} : JSON.parse(target.Input),
        );
        return {
          assumed,
          invokeAllowed,
          ...(deadLetterAllowed !== undefined && { deadLetterAllowed }),
          context,
          delivery,
        };
      },

      async publishSesEvent(mail, type, recipient) {
        const to = recipient ?? mail.destinations[0] ?? '';
        const destinations = values.ofType('AWS::SES::ConfigurationSetEventDestination').map(
          (id) =>
            values.resolve(values.resource(id).Properties) as {
              ConfigurationSetName: string;
              EventDestination: {
                Enabled?: boolean;
                MatchingEventTypes: string[];
                SnsDestination?: { TopicARN: string };
              };
            },
        );
        const destination = destinations.find(
          (d) =>
            d.ConfigurationSetName === mail.configurationSet &&
            d.EventDestination.Enabled !== false &&
            d.EventDestination.MatchingEventTypes.map((t) => t.toLowerCase()).includes(type.toLowerCase()) &&
            d.EventDestination.SnsDestination,
        );
        if (!destination) return [];
        const topicArn = destination.EventDestination.SnsDestination?.TopicARN as string;
        const now = new Date().toISOString();
        const domain = mail.source.slice(mail.source.lastIndexOf('@') + 1).replace(/>$/, '');
        const message: Record<string, unknown> = {
          eventType: type,
          mail: {
            timestamp: mail.at.toISOString(),
            source: mail.source,
            sourceArn: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/${domain}`,
            sendingAccountId: ACCOUNT,
            messageId: mail.messageId,
            destination: mail.destinations,
            headersTruncated: false,
            tags: {
              'ses:configuration-set': [mail.configurationSet],
              'ses:from-domain': [domain],
              ...Object.fromEntries(Object.entries(mail.tags).map(([k, v]) => [k, [v]])),
            },
          },
        };
        if (type === 'Delivery')
          message.delivery = {
            timestamp: now,
            recipients: [to],
            processingTimeMillis: 500,
            smtpResponse: '250 2.0.0 OK',
            reportingMTA: 'a1-1.smtp-out.amazonses.com',
          };
        if (type === 'Bounce')
          message.bounce = {
            bounceType: 'Permanent',
            bounceSubType: 'General',
            bouncedRecipients: [
              {
                emailAddress: to,
                action: 'failed',
                status: '5.1.1',
                diagnosticCode: 'smtp; 550 5.1.1 user unknown',
              },
            ],
            timestamp: now,
            feedbackId: `${randomUUID()}-000000`,
          };
        if (type === 'Complaint')
          message.complaint = {
            complainedRecipients: [{ emailAddress: to }],
            timestamp: now,
            feedbackId: `${randomUUID()}-000000`,
            complaintFeedbackType: 'abuse',
          };
        if (type === 'Reject') message.reject = { reason: 'Bad content' };
        const deliveries: Delivery<unknown>[] = [];
        for (const id of values.ofType('AWS::SNS::Subscription')) {
          const s = values.resolve(values.resource(id).Properties) as {
            TopicArn: string;
            Protocol: string;
            Endpoint: string;
          };
          if (s.TopicArn !== topicArn || s.Protocol !== 'lambda') continue;
          if (
            !mayInvoke(s.Endpoint, 'sns.amazonaws.com', {
              'aws:SourceArn': topicArn,
              'aws:SourceAccount': ACCOUNT,
            })
          ) {
            throw new Error(`SNS may not invoke ${s.Endpoint} for ${topicArn}`);
          }
          const event: SNSEvent = {
            Records: [
              {
                EventVersion: '1.0',
                EventSubscriptionArn: `${topicArn}:${randomUUID()}`,
                EventSource: 'aws:sns',
                Sns: {
                  SignatureVersion: '1',
                  Timestamp: now,
                  Signature: 'harness',
                  SigningCertUrl: `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-harness.pem`,
                  MessageId: randomUUID(),
                  Message: JSON.stringify(message),
                  MessageAttributes: {},
                  Type: 'Notification',
                  UnsubscribeUrl: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe`,
                  TopicArn: topicArn,
                  Subject: '',
                },
              },
            ],
          };
          deliveries.push(await deliver(byArn(s.Endpoint), event));
        }
        return deliveries;
      },

      async functionUrlRequest(url, request) {
        const target = new URL(url);
        const urlId = values
          .ofType('AWS::Lambda::Url')
          .find((id) => new URL(values.getAtt(id, 'FunctionUrl')).host === target.host);
        if (!urlId) throw new Error(`no Function URL at ${target.host}`);
        const p = values.resolve(values.resource(urlId).Properties) as {
          TargetFunctionArn: string;
          AuthType: string;
        };
        if (p.AuthType !== 'NONE') throw new Error(`the Function URL ${url} needs ${p.AuthType} signing`);
        if (
          !mayInvoke(
            p.TargetFunctionArn,
            '*',
            { 'lambda:FunctionUrlAuthType': 'NONE' },
            'lambda:InvokeFunctionUrl',
          )
        ) {
          throw new Error(`anyone may not invoke the Function URL of ${p.TargetFunctionArn}`);
        }
        const sourceIp = request.sourceIp ?? '198.51.100.23';
        const headers: Record<string, string> = {
          ...request.headers,
          host: target.host,
          'x-forwarded-proto': 'https',
          'x-forwarded-for': sourceIp,
        };
        // Payload 2.0 carries the cookies apart, not as a header.
        const cookies = headers.cookie?.split(/;\s*/).filter(Boolean);
        delete headers.cookie;
        const body = request.body === undefined ? undefined : Buffer.from(request.body).toString('base64');
        const event: LambdaFunctionURLEvent = {
          version: '2.0',
          routeKey: '$default',
          rawPath: target.pathname,
          rawQueryString: target.search.slice(1),
          headers,
          ...(target.search && { queryStringParameters: Object.fromEntries(target.searchParams) }),
          ...(cookies?.length && { cookies }),
          requestContext: {
            accountId: 'anonymous',
            apiId: target.host.split('.')[0] as string,
            domainName: target.host,
            domainPrefix: target.host.split('.')[0] as string,
            http: {
              method: request.method,
              path: target.pathname,
              protocol: 'HTTP/1.1',
              sourceIp,
              userAgent: headers['user-agent'] ?? 'harness',
            },
            requestId: randomUUID(),
            routeKey: '$default',
            stage: '$default',
            time: new Date().toUTCString(),
            timeEpoch: Date.now(),
          },
          ...(body !== undefined && { body }),
          isBase64Encoded: body !== undefined,
        };
        return deliver(byArn(p.TargetFunctionArn), event);
      },

      async siteRequest(url, request) {
        const target = new URL(url);
        const [distributionId] = values.ofType('AWS::CloudFront::Distribution');
        if (!distributionId) throw new Error('the template has no distribution');
        const config = values.resource(distributionId).Properties?.DistributionConfig as CloudFrontConfig;
        const domains = [values.getAtt(distributionId, 'DomainName'), ...(config.Aliases ?? [])];
        if (!domains.includes(target.host)) throw new Error(`${target.host} is not the press room's domain`);
        const behavior = (config.CacheBehaviors ?? []).find((b) =>
          pathMatches(b.PathPattern, target.pathname),
        );
        if (!behavior)
          throw new Error(
            `CloudFront sends ${target.pathname} to the bucket, which the harness does not serve`,
          );
        if (!behavior.AllowedMethods?.includes(request.method))
          throw new Error(`CloudFront refuses ${request.method} on ${behavior.PathPattern} (403)`);
        if (behavior.OriginRequestPolicyId !== allViewerExceptHostHeader)
          throw new Error(`the harness knows the origin request policy AllViewerExceptHostHeader only`);
        const origin = config.Origins.find((o) => o.Id === behavior.TargetOriginId);
        if (!origin?.CustomOriginConfig)
          throw new Error(`${behavior.PathPattern} does not go to a custom origin`);
        // The viewer's request, as a CloudFront Function sees it (header names in lower case).
        let viewerRequest: CloudFrontFunctionRequest = {
          method: request.method,
          uri: target.pathname,
          querystring: {},
          headers: Object.fromEntries(
            Object.entries({ ...request.headers, host: target.host }).map(([k, v]) => [
              k.toLowerCase(),
              { value: v },
            ]),
          ),
        };
        for (const association of behavior.FunctionAssociations ?? []) {
          if (association.EventType !== 'viewer-request') continue;
          const [functionId] = association.FunctionARN['Fn::GetAtt'];
          const code = String(values.resource(functionId).Properties?.FunctionCode);
          const handler = new Function(`${code}; return handler;`)() as (event: unknown) => unknown;
          const result = (await handler({
            viewer: { ip: request.viewerIp ?? '203.0.113.50' },
            request: viewerRequest,
          })) as CloudFrontFunctionRequest & { statusCode?: number };
          if (result.statusCode !== undefined)
            throw new Error(`the CloudFront Function answered ${result.statusCode}`);
          viewerRequest = result;
        }
        // AllViewerExceptHostHeader: every viewer header but Host; then the origin's own.
        const headers: Record<string, string> = {};
        for (const [name, { value }] of Object.entries(viewerRequest.headers))
          if (name !== 'host') headers[name] = value;
        for (const h of origin.OriginCustomHeaders ?? [])
          headers[h.HeaderName.toLowerCase()] = resolveSecrets(String(values.resolve(h.HeaderValue)));
        const host = String(values.resolve(origin.DomainName));
        const delivery = await world.functionUrlRequest(
          `https://${host}${viewerRequest.uri}${target.search}`,
          {
            method: request.method,
            headers,
            ...(request.body !== undefined && { body: request.body }),
            // An address of CloudFront's origin-facing servers.
            sourceIp: '130.176.0.10',
          },
        );
        // The distribution's custom error responses apply to every origin: the page (from the
        // default behaviour, the bucket's site/) and status stand in for the function's answer.
        const answer = delivery.invocation.ok ? delivery.invocation.result : undefined;
        const custom = config.CustomErrorResponses?.find((r) => r.ErrorCode === answer?.statusCode);
        if (!answer || !custom?.ResponsePagePath) return delivery;
        const page = await world.store.get(`site${custom.ResponsePagePath}`);
        const replaced = {
          statusCode: custom.ResponseCode ?? answer.statusCode,
          headers: { 'content-type': 'text/html; charset=utf-8' },
          body: page ? Buffer.from(page.body).toString('utf8') : '',
        };
        return { ...delivery, invocation: { ...delivery.invocation, ok: true as const, result: replaced } };
      },

      stop: stopAll,
    };
    return world;
  } catch (error) {
    await stopAll();
    throw error;
  }
}
