import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { listenLocally } from '../support/listen.ts';
import { evaluate, type PolicyDocument } from './iam.ts';
import { ACCOUNT, REGION, type TemplateValues } from './template.ts';

/**
 * The harness's AWS: one HTTP server on 127.0.0.1 that every SDK client of every function
 * reaches through `AWS_ENDPOINT_URL`. For each request it
 *
 * 1. reads who signed it: the SigV4 credential's access key id is the function's logical id
 *    (each function gets its own), anything else is the operator (the command line);
 * 2. maps it to the IAM actions and resource ARNs AWS would authorize (S3 GetObject on
 *    `arn:aws:s3:::bucket/key`, SES SendRawEmail on the identity and the configuration set...);
 * 3. evaluates them against that function's role policies from the template, and answers
 *    a denied call as AWS would (403 AccessDenied), recording it;
 * 4. serves it: S3 goes to s3rver, SES SendRawEmail to aws-ses-v2-local, and SQS, Secrets
 *    Manager, EventBridge Scheduler and SES GetSendQuota are answered by small fakes that
 *    speak their wire protocols (AWS JSON 1.0/1.1, REST-JSON, query/XML). Lambda's Invoke
 *    of the asynchronous kind (`Event`) is kept in `invocations`, for the test to deliver.
 */

/** A function as the edge knows it: its access key id and its role's policies. */
export interface Caller {
  accessKeyId: string;
  name: string;
  roleArn: string;
  policies: PolicyDocument[];
}

/** One authorization AWS would make for a request. */
export interface AccessCheck {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

/** A call the edge saw. */
export interface EdgeCall {
  caller: string;
  service: string;
  operation: string;
  checks: AccessCheck[];
  denied: AccessCheck[];
  status: number;
}

/** A call a role's policy denies: what failed the test. */
export interface Denial extends AccessCheck {
  caller: string;
  operation: string;
}

/** A message SendRawEmail took, as the edge saw it go to aws-ses-v2-local. */
export interface SentMail {
  caller: string;
  messageId: string;
  source: string;
  destinations: string[];
  raw: string;
  configurationSet?: string;
  tags: Record<string, string>;
  at: Date;
}

/** An error the edge answers a SendRawEmail with, as SES would: its code, message and status. */
export interface SesFault {
  code: string;
  message: string;
  /** Default 400, as SES answers its refusals and throttling. */
  status?: number;
}

/** What a test's fault injection sees of a SendRawEmail, the role having allowed it. */
export interface SesRequest {
  source: string;
  destinations: string[];
}

export interface QueuedMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  sentTimestamp: number;
  receiveCount: number;
  senderId: string;
}

/** An asynchronous Lambda Invoke (`InvocationType: Event`) a function made, not delivered yet. */
export interface AsyncInvocation {
  caller: string;
  /** The function's ARN. */
  functionArn: string;
  payload: string;
}

export interface StoredSchedule {
  arn: string;
  name: string;
  groupName: string;
  definition: Record<string, unknown>;
}

/** An object PUT that S3 stored: what bucket notifications are made from. */
export interface ObjectCreated {
  bucket: string;
  key: string;
  eTag: string;
  size: number;
  eventName: 'ObjectCreated:Put' | 'ObjectCreated:Copy';
}

export interface EdgeOptions {
  values: TemplateValues;
  callers: Caller[];
  /** s3rver (behind the conditional-write proxy). */
  s3Endpoint: string;
  /** aws-ses-v2-local. */
  sesEndpoint: string;
  /** dynalite, behind the front that does transactions (tests/support/dynalite.ts). */
  dynamodbEndpoint?: string;
  /** The secrets' values, by ARN (Secrets Manager holds them). */
  secrets: Record<string, string>;
  /** What GetSendQuota answers. */
  sendQuota?: { max24HourSend: number; maxSendRate: number };
}

export interface Edge {
  endpoint: string;
  calls: EdgeCall[];
  denials: Denial[];
  mails: SentMail[];
  queues: Map<string, QueuedMessage[]>;
  schedules: Map<string, StoredSchedule>;
  objectsCreated: ObjectCreated[];
  /** The asynchronous invocations Lambda accepted (202), in order (world.deliverInvocations). */
  invocations: AsyncInvocation[];
  /**
   * Fault injection: set by a test, it answers a SendRawEmail the role allowed with an SES
   * error instead of sending it (undefined: sent). Unset, every allowed send goes out.
   */
  sesFault?: ((request: SesRequest) => SesFault | undefined) | undefined;
  /** The SendRawEmail calls a fault answered. */
  sesFaults: (SesRequest & SesFault)[];
  /**
   * Set by a test: what GetSendQuota answers from now on, `sentLast24Hours` included (unset:
   * the mails sent so far), e.g. a small account, or the 24-hour window moved on.
   */
  sendQuota?: { max24HourSend: number; maxSendRate: number; sentLast24Hours?: number } | undefined;
  close(): Promise<void>;
}

/** The SigV4 credential of a request: header or presigned query. */
export function credentialOf(
  req: IncomingMessage,
  url: URL,
): { accessKeyId: string; service: string } | undefined {
  const header = req.headers.authorization ?? '';
  const credential = /Credential=([^,\s]+)/.exec(header)?.[1] ?? url.searchParams.get('X-Amz-Credential');
  if (!credential) return undefined;
  const [accessKeyId, , , service] = credential.split('/');
  if (!accessKeyId || !service) return undefined;
  return { accessKeyId, service };
}

const decodeSegment = (s: string) => decodeURIComponent(s);

/** What S3 authorizes for a request: the action, the ARN and the condition keys. */
export function s3Checks(
  method: string,
  url: URL,
  headers: IncomingMessage['headers'],
  body: Buffer,
): {
  operation: string;
  checks: AccessCheck[];
} {
  const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
  const key = rest.map(decodeSegment).join('/');
  const q = url.searchParams;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const objectArn = `${bucketArn}/${key}`;
  if (key === '') {
    if (method === 'POST' && q.has('delete')) {
      const keys = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1] as string);
      return {
        operation: 'DeleteObjects',
        checks: keys.map((k) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${k}` })),
      };
    }
    if ((method === 'GET' || method === 'HEAD') && q.has('versions'))
      return {
        operation: 'ListObjectVersions',
        checks: [{ action: 's3:ListBucketVersions', resource: bucketArn }],
      };
    if (method === 'GET' || method === 'HEAD') {
      const context: Record<string, string> = {};
      for (const name of ['prefix', 'delimiter', 'max-keys']) {
        const value = q.get(name);
        if (value !== null) context[`s3:${name}`] = value;
      }
      return {
        operation:
          q.get('list-type') === '2' ? 'ListObjectsV2' : method === 'HEAD' ? 'HeadBucket' : 'ListObjects',
        checks: [{ action: 's3:ListBucket', resource: bucketArn, context }],
      };
    }
    return {
      operation: `${method} bucket`,
      checks: [{ action: `s3:Unmapped${method}Bucket`, resource: bucketArn }],
    };
  }
  const versioned = q.has('versionId');
  switch (method) {
    case 'GET':
    case 'HEAD':
      return {
        operation: method === 'GET' ? 'GetObject' : 'HeadObject',
        checks: [{ action: versioned ? 's3:GetObjectVersion' : 's3:GetObject', resource: objectArn }],
      };
    case 'PUT': {
      const source = headers['x-amz-copy-source'];
      const checks: AccessCheck[] = [{ action: 's3:PutObject', resource: objectArn }];
      if (typeof source === 'string') {
        checks.push({
          action: 's3:GetObject',
          resource: `arn:aws:s3:::${decodeURIComponent(source.replace(/^\//, '').split('?')[0] as string)}`,
        });
      }
      return { operation: source ? 'CopyObject' : 'PutObject', checks };
    }
    case 'DELETE':
      return {
        operation: 'DeleteObject',
        checks: [{ action: versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: objectArn }],
      };
    default:
      return {
        operation: `${method} object`,
        checks: [{ action: `s3:Unmapped${method}`, resource: objectArn }],
      };
  }
}

/** The address of a `Name <address>` sender. */
const addressOf = (source: string) => (/<([^>]+)>/.exec(source)?.[1] ?? source).trim().toLowerCase();

/** The SES identity a message is sent from: the address when it is an identity, else its domain. */
export function sesIdentityArn(source: string, identities: string[]): string {
  const address = addressOf(source);
  const domain = address.slice(address.lastIndexOf('@') + 1);
  const identity = identities.includes(address) ? address : domain;
  return `arn:aws:ses:${REGION}:${ACCOUNT}:identity/${identity}`;
}

const queueArnOf = (queueUrl: string) => {
  const [account, name] = new URL(queueUrl).pathname.slice(1).split('/');
  return `arn:aws:sqs:${REGION}:${account}:${name}`;
};

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

const xmlEscape = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Reads a request body to the end. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The IAM actions and table ARNs a DynamoDB request needs: a batch or a transaction is
 * authorized item by item, as the action of each item (TransactWriteItems has no action of
 * its own: a Put needs dynamodb:PutItem), on its table (or index, for a Query on one).
 */
export function dynamodbChecks(operation: string, input: Record<string, unknown>): AccessCheck[] {
  const table = (name: unknown, index?: unknown) =>
    `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${String(name)}${index === undefined ? '' : `/index/${String(index)}`}`;
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((input.RequestItems ?? {}) as object).map((name) => ({
        action: `dynamodb:${operation}`,
        resource: table(name),
      }));
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const actions: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      };
      return ((input.TransactItems ?? []) as Record<string, { TableName?: string }>[]).map((item) => {
        const [kind, op] = Object.entries(item)[0] ?? ['', {}];
        return { action: `dynamodb:${actions[kind] ?? kind}`, resource: table(op.TableName) };
      });
    }
    default:
      return [{ action: `dynamodb:${operation}`, resource: table(input.TableName, input.IndexName) }];
  }
}

/** Sends the request on to an upstream server, unchanged; the answer goes back as is. */
function forward(
  upstream: string,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  const target = new URL(upstream);
  return new Promise((resolve, reject) => {
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (c: Buffer) => {
          chunks.push(c);
          res.write(c);
        });
        answer.on('end', () => {
          res.end();
          resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) });
        });
        answer.on('error', reject);
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

const json = (status: number, value: unknown, contentType = 'application/x-amz-json-1.0'): Answer => ({
  status,
  headers: { 'content-type': contentType },
  body: JSON.stringify(value),
});

const jsonError = (status: number, type: string, message: string): Answer => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type },
  body: JSON.stringify({ __type: type, message, Message: message }),
});

/**
 * The schedules the template itself creates (AWS::Scheduler::Schedule), as Scheduler holds
 * them once deployed: keyed `<group>/<name>` (the logical id when the template names none),
 * their definition the resolved properties.
 */
function templateSchedules(values: TemplateValues): Map<string, StoredSchedule> {
  const schedules = new Map<string, StoredSchedule>();
  for (const id of values.ofType('AWS::Scheduler::Schedule')) {
    const definition = values.resolve(values.resource(id).Properties) as Record<string, unknown>;
    const groupName = (definition.GroupName as string | undefined) ?? 'default';
    const name = (definition.Name as string | undefined) ?? id;
    schedules.set(`${groupName}/${name}`, {
      arn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${groupName}/${name}`,
      name,
      groupName,
      definition,
    });
  }
  return schedules;
}

/** Starts the edge on 127.0.0.1. */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const { values } = options;
  const callers = new Map(options.callers.map((c) => [c.accessKeyId, c]));
  const identities = values.ofType('AWS::SES::EmailIdentity').map((id) => values.ref(id).toLowerCase());
  const groups = new Set([
    'default',
    ...values.ofType('AWS::Scheduler::ScheduleGroup').map((id) => values.ref(id)),
  ]);
  const edge: Edge = {
    endpoint: '',
    calls: [],
    denials: [],
    mails: [],
    queues: new Map(values.ofType('AWS::SQS::Queue').map((id) => [values.getAtt(id, 'Arn'), []])),
    schedules: templateSchedules(values),
    objectsCreated: [],
    invocations: [],
    sesFaults: [],
    close: async () => {},
  };

  /**
   * In one account a call is allowed when the caller's policies allow it and no resource
   * policy (the bucket's, the queue's, the topic's) denies it explicitly. Requests reach AWS
   * over TLS: the policies that deny anything else are evaluated as such.
   */
  const allowed = (caller: Caller, check: AccessCheck) => {
    const context = { 'aws:SecureTransport': 'true', ...check.context };
    if (evaluate(caller.policies, { ...check, context }).effect !== 'allow') return false;
    const principal = { arn: caller.roleArn };
    return (
      evaluate(values.resourcePolicies(check.resource), { ...check, principal, context }).effect !==
      'explicit-deny'
    );
  };

  const deniedMessage = (caller: Caller, check: AccessCheck) =>
    `User: arn:aws:sts::${ACCOUNT}:assumed-role/${caller.roleArn.split('/').pop()}/${caller.name} is not authorized to perform: ${check.action} on resource: ${check.resource} because no identity-based policy allows the ${check.action} action`;

  // ------------------------------------------------------------------ the fakes

  const sqs = (operation: string, input: Record<string, unknown>): Answer => {
    const queueUrl = String(input.QueueUrl ?? '');
    const queue = edge.queues.get(queueArnOf(queueUrl));
    if (!queue)
      return jsonError(
        400,
        'com.amazonaws.sqs#QueueDoesNotExist',
        `The specified queue does not exist: ${queueUrl}`,
      );
    const enqueue = (body: string, sender: string) => {
      const message: QueuedMessage = {
        messageId: randomUUID(),
        body,
        md5OfBody: md5(body),
        sentTimestamp: Date.now(),
        receiveCount: 0,
        senderId: sender,
      };
      queue.push(message);
      return message;
    };
    if (operation === 'SendMessageBatch') {
      const entries = (input.Entries as { Id: string; MessageBody: string }[]) ?? [];
      const successful = entries.map((e) => {
        const m = enqueue(e.MessageBody, 'harness');
        return { Id: e.Id, MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody };
      });
      return json(200, { Successful: successful, Failed: [] });
    }
    if (operation === 'SendMessage') {
      const m = enqueue(String(input.MessageBody), 'harness');
      return json(200, { MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody });
    }
    return jsonError(
      400,
      'com.amazonaws.sqs#UnsupportedOperation',
      `the harness's SQS does not answer ${operation}`,
    );
  };

  /** A secret's ARN from its ARN, partial ARN or name, as Secrets Manager finds it (IAM authorizes that ARN). */
  const secretArnOf = (id: string): string | undefined =>
    Object.keys(options.secrets).find(
      (a) =>
        a === id ||
        a.replace(/-[A-Za-z0-9]{6}$/, '') === id ||
        a.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '') === id,
    );

  const secretsManager = (operation: string, input: Record<string, unknown>): Answer => {
    if (operation !== 'GetSecretValue')
      return jsonError(
        400,
        'InvalidRequestException',
        `the harness's Secrets Manager does not answer ${operation}`,
      );
    const arn = secretArnOf(String(input.SecretId ?? ''));
    if (!arn)
      return jsonError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return json(
      200,
      {
        ARN: arn,
        Name: arn.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, ''),
        SecretString: options.secrets[arn],
        VersionId: '00000000-0000-0000-0000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      },
      'application/x-amz-json-1.1',
    );
  };

  const scheduler = (operation: string, url: URL, input: Record<string, unknown>): Answer => {
    const name = decodeURIComponent(url.pathname.replace(/^\/schedules\//, ''));
    const groupName = String(input.GroupName ?? url.searchParams.get('groupName') ?? 'default');
    const arn = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${groupName}/${name}`;
    const restError = (status: number, type: string, message: string): Answer => ({
      status,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
      body: JSON.stringify({ Message: message }),
    });
    if (!url.pathname.startsWith('/schedules/'))
      return restError(400, 'ValidationException', `the harness's Scheduler does not answer ${url.pathname}`);
    if (!groups.has(groupName))
      return restError(404, 'ResourceNotFoundException', `Schedule group ${groupName} does not exist.`);
    const key = `${groupName}/${name}`;
    const existing = edge.schedules.get(key);
    if (operation === 'CreateSchedule' && existing)
      return restError(409, 'ConflictException', `Schedule ${name} already exists.`);
    if (operation !== 'CreateSchedule' && !existing)
      return restError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
    switch (operation) {
      case 'CreateSchedule':
      case 'UpdateSchedule':
        edge.schedules.set(key, { arn, name, groupName, definition: input });
        return json(200, { ScheduleArn: arn }, 'application/json');
      case 'DeleteSchedule':
        edge.schedules.delete(key);
        return json(200, {}, 'application/json');
      case 'GetSchedule':
        return json(
          200,
          { ...existing?.definition, Name: name, GroupName: groupName, Arn: arn },
          'application/json',
        );
      default:
        return restError(400, 'ValidationException', `the harness's Scheduler does not answer ${operation}`);
    }
  };

  // ------------------------------------------------------------------ routing

  const send = (res: ServerResponse, answer: Answer) => {
    res.writeHead(answer.status, { ...answer.headers, 'x-amzn-requestid': randomUUID() });
    res.end(answer.body ?? '');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(req);
    const credential = credentialOf(req, url);
    const caller = credential ? callers.get(credential.accessKeyId) : undefined;
    const service = credential?.service ?? 'unsigned';
    const target = String(req.headers['x-amz-target'] ?? '');
    const form = () => new URLSearchParams(body.toString('utf8'));
    const input = () =>
      body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};

    let operation: string;
    let checks: AccessCheck[];
    switch (service) {
      case 's3':
        ({ operation, checks } = s3Checks(req.method ?? 'GET', url, req.headers, body));
        break;
      case 'ses': {
        const params = form();
        operation = params.get('Action') ?? `${req.method} ${url.pathname}`;
        if (operation === 'SendRawEmail') {
          const raw = Buffer.from(params.get('RawMessage.Data') ?? '', 'base64').toString('utf8');
          const source = params.get('Source') ?? /^From:\s*(.+)$/im.exec(raw)?.[1] ?? '';
          const set = params.get('ConfigurationSetName');
          checks = [
            {
              action: 'ses:SendRawEmail',
              resource: sesIdentityArn(source, identities),
              context: { 'ses:FromAddress': addressOf(source) },
            },
            ...(set
              ? [
                  {
                    action: 'ses:SendRawEmail',
                    resource: `arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/${set}`,
                  },
                ]
              : []),
          ];
        } else checks = [{ action: `ses:${operation}`, resource: '*' }];
        break;
      }
      case 'sqs': {
        operation = target.replace(/^AmazonSQS\./, '');
        const action = `sqs:${operation.replace(/Batch$/, '')}`;
        checks = [{ action, resource: queueArnOf(String(input().QueueUrl ?? 'http://x/0/none')) }];
        break;
      }
      case 'dynamodb':
        operation = target.replace(/^DynamoDB_20120810\./, '');
        checks = dynamodbChecks(operation, input());
        break;
      case 'secretsmanager': {
        operation = target.replace(/^secretsmanager\./, '');
        const id = String(input().SecretId ?? '');
        const arn = secretArnOf(id) ?? id;
        checks = [{ action: `secretsmanager:${operation}`, resource: arn }];
        break;
      }
      case 'scheduler': {
        const name = decodeURIComponent(url.pathname.replace(/^\/schedules\//, ''));
        const data = input();
        const group = String(data.GroupName ?? url.searchParams.get('groupName') ?? 'default');
        operation =
          { POST: 'CreateSchedule', PUT: 'UpdateSchedule', DELETE: 'DeleteSchedule', GET: 'GetSchedule' }[
            req.method ?? ''
          ] ?? 'Unknown';
        checks = [
          {
            action: `scheduler:${operation}`,
            resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${group}/${name}`,
          },
        ];
        const roleArn = (data.Target as { RoleArn?: string } | undefined)?.RoleArn;
        if (roleArn)
          checks.push({
            action: 'iam:PassRole',
            resource: roleArn,
            context: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
          });
        break;
      }
      case 'lambda': {
        const name = decodeURIComponent(
          /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname)?.[1] ?? '',
        );
        operation = name ? 'Invoke' : `${req.method} ${url.pathname}`;
        const arn = name.startsWith('arn:') ? name : `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
        checks = [{ action: 'lambda:InvokeFunction', resource: arn }];
        break;
      }
      default:
        operation = `${req.method} ${url.pathname}`;
        checks = [{ action: `${service}:Unknown`, resource: '*' }];
    }

    // The operator (the command line, the test) is not checked: only the functions' roles are.
    const denied = caller ? checks.filter((c) => !allowed(caller, c)) : [];
    const call: EdgeCall = {
      caller: caller?.name ?? 'operator',
      service,
      operation,
      checks,
      denied,
      status: 0,
    };
    edge.calls.push(call);
    if (caller && denied.length > 0) {
      for (const d of denied) edge.denials.push({ ...d, caller: caller.name, operation });
      const message = deniedMessage(caller, denied[0] as AccessCheck);
      call.status = 403;
      if (service === 's3' || service === 'ses') {
        const xml =
          service === 's3'
            ? `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${xmlEscape(message)}</Message><RequestId>harness</RequestId></Error>`
            : `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>harness</RequestId></ErrorResponse>`;
        return send(res, {
          status: 403,
          headers: { 'content-type': 'text/xml' },
          body: req.method === 'HEAD' ? '' : xml,
        });
      }
      return send(res, jsonError(400, 'AccessDeniedException', message));
    }

    switch (service) {
      case 's3': {
        const answer = await forward(options.s3Endpoint, req, body, res);
        call.status = answer.status;
        const key = url.pathname.slice(1).split('/').slice(1).map(decodeSegment).join('/');
        if (req.method === 'PUT' && key !== '' && answer.status === 200) {
          const [, bucket = ''] = url.pathname.split('/');
          const copied = req.headers['x-amz-copy-source'] !== undefined;
          const eTag = copied
            ? (/<ETag>([^<]+)<\/ETag>/.exec(answer.body.toString('utf8'))?.[1] ?? '').replace(/&quot;/g, '"')
            : String(answer.headers.etag ?? '');
          edge.objectsCreated.push({
            bucket,
            key,
            eTag,
            size: body.length,
            eventName: copied ? 'ObjectCreated:Copy' : 'ObjectCreated:Put',
          });
        }
        return;
      }
      case 'ses': {
        if (operation === 'GetSendQuota') {
          const q = edge.sendQuota ?? options.sendQuota ?? { max24HourSend: 50_000, maxSendRate: 14 };
          const sent = (edge.sendQuota?.sentLast24Hours ?? edge.mails.length).toString();
          call.status = 200;
          return send(res, {
            status: 200,
            headers: { 'content-type': 'text/xml' },
            body: `<GetSendQuotaResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><GetSendQuotaResult><Max24HourSend>${q.max24HourSend}</Max24HourSend><MaxSendRate>${q.maxSendRate}</MaxSendRate><SentLast24Hours>${sent}</SentLast24Hours></GetSendQuotaResult><ResponseMetadata><RequestId>harness</RequestId></ResponseMetadata></GetSendQuotaResponse>`,
          });
        }
        const params = form();
        const destinations: string[] = [];
        for (let i = 1; params.has(`Destinations.member.${i}`); i++)
          destinations.push(params.get(`Destinations.member.${i}`) as string);
        if (operation === 'SendRawEmail' && edge.sesFault) {
          const request = { source: params.get('Source') ?? '', destinations };
          const fault = edge.sesFault(request);
          if (fault) {
            edge.sesFaults.push({ ...request, ...fault });
            call.status = fault.status ?? 400;
            return send(res, {
              status: call.status,
              headers: { 'content-type': 'text/xml' },
              body: `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>${xmlEscape(fault.code)}</Code><Message>${xmlEscape(fault.message)}</Message></Error><RequestId>harness</RequestId></ErrorResponse>`,
            });
          }
        }
        const answer = await forward(options.sesEndpoint, req, body, res);
        call.status = answer.status;
        if (operation === 'SendRawEmail' && answer.status === 200) {
          const raw = Buffer.from(params.get('RawMessage.Data') ?? '', 'base64').toString('utf8');
          const tags: Record<string, string> = {};
          for (let i = 1; params.has(`Tags.member.${i}.Name`); i++) {
            tags[params.get(`Tags.member.${i}.Name`) as string] = params.get(`Tags.member.${i}.Value`) ?? '';
          }
          const set = params.get('ConfigurationSetName');
          edge.mails.push({
            caller: call.caller,
            messageId: /<MessageId>([^<]+)<\/MessageId>/.exec(answer.body.toString('utf8'))?.[1] ?? '',
            source: params.get('Source') ?? '',
            destinations,
            raw,
            ...(set !== null && { configurationSet: set }),
            tags,
            at: new Date(),
          });
        }
        return;
      }
      case 'sqs': {
        const answer = sqs(operation, input());
        call.status = answer.status;
        return send(res, answer);
      }
      case 'dynamodb': {
        if (!options.dynamodbEndpoint) throw new Error('the harness was started without DynamoDB');
        const answer = await forward(options.dynamodbEndpoint, req, body, res);
        call.status = answer.status;
        return;
      }
      case 'secretsmanager': {
        const answer = secretsManager(operation, input());
        call.status = answer.status;
        return send(res, answer);
      }
      case 'scheduler': {
        const answer = scheduler(operation, url, input());
        call.status = answer.status;
        return send(res, answer);
      }
      case 'lambda': {
        const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
        if (operation !== 'Invoke' || type !== 'Event') {
          call.status = 400;
          return send(
            res,
            jsonError(
              400,
              'InvalidParameterValueException',
              `the harness's Lambda answers Invoke of type Event only (${operation}, ${type})`,
            ),
          );
        }
        const [check] = checks;
        edge.invocations.push({
          caller: call.caller,
          functionArn: check?.resource ?? '',
          payload: body.toString('utf8'),
        });
        call.status = 202;
        return send(res, { status: 202, headers: { 'content-type': 'application/json' }, body: '' });
      }
      default:
        call.status = 400;
        return send(
          res,
          jsonError(400, 'UnknownOperationException', `the harness does not emulate ${service}`),
        );
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  const listening = await listenLocally(server);
  edge.endpoint = listening.endpoint;
  edge.close = listening.close;
  return edge;
}
