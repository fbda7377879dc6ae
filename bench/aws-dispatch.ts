import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { symlinkSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../lambdas/adapters/s3-store.ts';
import type { RecipientBatch } from '../lambdas/core/campaigns/dispatch.ts';
import { type Contact, contactKeys, contactStoreKeys, shardNames } from '../lambdas/core/contacts/model.ts';
import { contactShardBody, newTag } from '../lambdas/core/contacts/repository.ts';
import { listAll, type ObjectStore, serializeJson } from '../lambdas/core/store/object-store.ts';
import { type Assembly, synthWithBundles } from '../tests/harness/assembly.ts';
import {
  definition,
  publicUrl,
  publishReleases,
  registerDraft,
  siteUrl,
} from '../tests/support/dispatch-fixtures.ts';
import { createTable, ledgerTableInput, startDynalite } from '../tests/support/dynalite.ts';
import { type Listening, listenLocally } from '../tests/support/listen.ts';
import { s3rverClientConfig, s3rverEnvironment, startS3rver } from '../tests/support/s3rver.ts';
import { type CostInput, costRows } from './aws-dispatch-cost.ts';
import { templateFunction } from './lambda.ts';
import { peakRssKbSource } from './memory.ts';
import { type Benchmark, type BenchRow, median, msSince } from './types.ts';

/**
 * `npm run bench -- aws-dispatch [--recipients=N]` (issue 18, "a benchmark at a million"):
 * the dispatch function's bundle, synthesized with the stack as for a deploy, run in a
 * process of its own with the template's variables and the AWS SDK found as the Lambda
 * runtime provides it, over N generated contacts (1,000,000 by default) in s3rver, putting
 * its batches on a fake SQS on 127.0.0.1 that checks every recipient arrives exactly once.
 * Printed: the recipients, the handler's time and the process's peak RSS (goal ≤ 512 MB),
 * the S3 and SQS requests it made, beside anchors of the same run (`node -e 0`, and the
 * same 256 shards read from s3rver alone, which no dispatch can avoid), and the cost model
 * of a campaign of 100,000 and 1,000,000 recipients (aws-dispatch-cost.ts).
 */

const suite = 'aws-dispatch';
const bucket = 'pressroom-bench-data';
const campaign = 'million';
const list = 'presse';
const secret = 'bench-secret-aws-dispatch-0123456789-abcdef';
const resultMark = 'aws-dispatch-result ';
const mib = (kb: number) => kb / 1024;
const peakRssGoalMb = 512;

/** `--recipients=N` (default 1,000,000). */
export function recipientsFlag(argv: readonly string[]): number {
  const flag = argv.find((a) => a.startsWith('--recipients='));
  if (!flag) return 1_000_000;
  const count = Number(flag.slice('--recipients='.length).replaceAll('_', '').replaceAll(',', ''));
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`${flag}: a whole number of recipients, e.g. --recipients=100000`);
  }
  return count;
}

/**
 * What the fake queue checks: every generated contact enqueued exactly once, in batches of
 * one campaign and one run, each batch index once.
 */
export class EnqueueCheck {
  recipients = 0;
  messages = 0;
  private readonly waiting: Set<string>;
  private readonly indexes = new Set<number>();
  private readonly runs = new Set<string>();
  private unexpected = 0;
  private readonly wrong: string[] = [];

  constructor(
    ids: Iterable<string>,
    private readonly campaign: string,
  ) {
    this.waiting = new Set(ids);
  }

  receive(batch: RecipientBatch): void {
    this.messages++;
    if (batch.campaign !== this.campaign) this.wrong.push(`a batch of campaign "${batch.campaign}"`);
    if (this.indexes.has(batch.index)) this.wrong.push(`batch ${batch.index} enqueued twice`);
    this.indexes.add(batch.index);
    this.runs.add(batch.run);
    for (const recipient of batch.recipients) {
      this.recipients++;
      // Gone from the set: enqueued before (twice), or never generated.
      if (!this.waiting.delete(recipient.id)) this.unexpected++;
    }
  }

  /** What is wrong, or nothing. */
  problems(): string[] {
    const problems = [...this.wrong.slice(0, 5)];
    if (this.waiting.size > 0) problems.push(`${this.waiting.size} recipients never enqueued`);
    if (this.unexpected > 0) problems.push(`${this.unexpected} recipients enqueued twice or unknown`);
    if (this.runs.size > 1) problems.push(`batches of ${this.runs.size} runs`);
    return problems;
  }
}

/** The fake SQS: answers SendMessageBatch (JSON protocol) and counts what it was given. */
export interface FakeQueue extends Listening {
  queueUrl: string;
  calls: number;
  entries: number;
  bytes: number;
  /** Requests as SQS bills them: each 64 KB of a call's payload counts as one. */
  billedRequests: number;
  /** GetSendQuota calls answered (the same fake speaks SES's query protocol for it). */
  quotaReads: number;
}

/** The daily quota the fake SES answers: more than any run of the bench sends. */
const sendQuota = 10_000_000;

export async function startFakeQueue(check: EnqueueCheck): Promise<FakeQueue> {
  const state = { calls: 0, entries: 0, bytes: 0, billedRequests: 0, quotaReads: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(body));
      };
      const body = Buffer.concat(chunks).toString('utf8');
      // SES's GetSendQuota (query protocol): an account whose daily quota holds the whole run,
      // so that dispatch paces by it as on AWS and enqueues everyone today.
      if (new URLSearchParams(body).get('Action') === 'GetSendQuota') {
        state.quotaReads++;
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          '<GetSendQuotaResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><GetSendQuotaResult>' +
            `<Max24HourSend>${sendQuota}</Max24HourSend><MaxSendRate>14</MaxSendRate><SentLast24Hours>0</SentLast24Hours>` +
            `</GetSendQuotaResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetSendQuotaResponse>`,
        );
        return;
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'AmazonSQS.SendMessageBatch') {
        return reply(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `not faked: ${target}` });
      }
      const input = JSON.parse(body) as {
        Entries: { Id: string; MessageBody: string }[];
      };
      state.calls++;
      let payload = 0;
      for (const entry of input.Entries) {
        payload += Buffer.byteLength(entry.MessageBody);
        check.receive(JSON.parse(entry.MessageBody) as RecipientBatch);
      }
      state.entries += input.Entries.length;
      state.bytes += payload;
      state.billedRequests += Math.max(1, Math.ceil(payload / 65_536));
      reply(200, {
        Successful: input.Entries.map((e) => ({
          Id: e.Id,
          MessageId: randomUUID(),
          MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex'),
        })),
        Failed: [],
      });
    });
  });
  const listening = await listenLocally(server);
  return Object.assign(state, listening, {
    queueUrl: `${listening.endpoint}/123456789012/pressroom-recipients`,
  });
}

/** An HTTP proxy in front of the S3 endpoint that counts requests by kind (GET, LIST, PUT...). */
export interface CountingProxy extends Listening {
  counts: Map<string, number>;
}

async function countingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    const kind =
      req.method === 'GET' && /[?&](list-type=|versions|uploads)/.test(url)
        ? 'LIST'
        : req.method === 'POST' && /[?&]delete/.test(url)
          ? 'DELETE (batch)'
          : String(req.method);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', (error) => res.destroy(error));
    req.pipe(out);
  });
  const listening = await listenLocally(server);
  return {
    counts,
    endpoint: listening.endpoint,
    async close() {
      await listening.close();
      agent.destroy();
    },
  };
}

/**
 * `count` contacts on the list, written as the repository writes them: 256 shard objects
 * (contactShardBody) and the index naming them. Returns their ids.
 */
export async function writeContacts(store: ObjectStore, count: number, at: Date): Promise<string[]> {
  const keys = contactKeys(secret);
  const ids = Array.from({ length: count }, (_, i) => keys.idOf(address(i)));
  const byShard = new Map<string, number[]>(shardNames.map((s) => [s, []]));
  for (const [i, id] of ids.entries()) byShard.get(id.slice(0, 2))?.push(i);
  const when = at.toISOString();
  const tag = newTag();
  const shards: Record<string, string> = {};
  const write = async (shard: string) => {
    const members = byShard.get(shard) ?? [];
    if (members.length === 0) return;
    const contacts: Record<string, Contact> = {};
    for (const i of members) {
      const id = ids[i] as string;
      contacts[id] = {
        id,
        email: address(i),
        firstName: 'Zoé',
        lastName: `Lefèvre-${i}`,
        organization: `Rédaction ${i % 500}`,
        tags: i % 2 === 0 ? ['national'] : ['régional'],
        lists: { [list]: { addedAt: when, source: 'import:presse.csv' } },
        createdAt: when,
        updatedAt: when,
      };
    }
    const key = contactStoreKeys.contactShard(shard, tag);
    await store.put(key, contactShardBody({ contacts }), { contentType: 'application/json' });
    shards[shard] = key;
  };
  for (let i = 0; i < shardNames.length; i += 8) await Promise.all(shardNames.slice(i, i + 8).map(write));
  await store.put(contactStoreKeys.index, serializeJson({ shards }), { contentType: 'application/json' });
  return ids;
}

const address = (i: number) => `journaliste.${i}@redaction-${i % 500}.example.org`;

/** What the dispatch process prints on its last line. */
interface DispatchFigures {
  handlerMs: number;
  cpuMs: number;
  maxRssKb: number;
  importedRssKb: number;
  report: { audience: number; enqueued: number; batches: number; alreadyDone: number; uncertain: number };
}

/** The dispatch bundle's handler, called once as Lambda would, in this new process. */
const dispatchScript = (bundle: string, name: string) => `${peakRssKbSource}
const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
const importedRssKb = process.memoryUsage.rss() / 1024;
const started = performance.now();
// The context's ARN is what a continuation schedule would invoke (pacing: none here).
const context = { invokedFunctionArn: 'arn:aws:lambda:eu-west-3:123456789012:function:pressroom-dispatch',
  functionName: 'pressroom-dispatch', getRemainingTimeInMillis: () => 900_000 };
const report = await handler({ campaign: ${JSON.stringify(name)} }, context);
const handlerMs = performance.now() - started;
const usage = process.resourceUsage();
process.stdout.write(${JSON.stringify(resultMark)} + JSON.stringify({
  handlerMs, importedRssKb, maxRssKb: peakRssKb(), cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
  report: { audience: report.audience, enqueued: report.enqueued, batches: report.batches,
    alreadyDone: report.alreadyDone, uncertain: report.uncertain.length },
}) + '\\n');
`;

/** The anchor: the index and the 256 shards read and parsed, 16 at a time, with the same SDK. */
const shardReadScript = `${peakRssKbSource}
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
const client = new S3Client({});
const text = async (Key) =>
  (await client.send(new GetObjectCommand({ Bucket: ${JSON.stringify(bucket)}, Key }))).Body.transformToString();
const started = performance.now();
const keys = Object.values(JSON.parse(await text('contacts/index.json')).shards);
let contacts = 0;
for (let i = 0; i < keys.length; i += 16) {
  for (const body of await Promise.all(keys.slice(i, i + 16).map(text)))
    contacts += Object.keys(JSON.parse(body).contacts).length;
}
const handlerMs = performance.now() - started;
process.stdout.write(${JSON.stringify(resultMark)} + JSON.stringify({ handlerMs, contacts, maxRssKb: peakRssKb() }) + '\\n');
`;

/** Runs an ES module script in a new Node process; its wall time and its result line. */
async function runNode<T>(
  script: string,
  options: { cwd: string; env: Record<string, string> },
): Promise<{ wallMs: number; result: T; logLines: number }> {
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    // The function's own JSON logs are counted, not kept.
    if (out.length > 1_000_000) out = out.slice(-100_000);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err = (err + chunk).slice(-20_000);
  });
  const [code] = (await once(child, 'close')) as [number | null];
  const wallMs = msSince(start);
  const lines = out.split('\n');
  const line = lines.find((l) => l.startsWith(resultMark));
  if (code !== 0 || !line) {
    throw new Error(`the process exited with ${code}: ${err.trim() || lines.slice(-5).join('\n')}`);
  }
  return { wallMs, result: JSON.parse(line.slice(resultMark.length)) as T, logLines: lines.length - 2 };
}

const ledgerTableName = 'pressroom-ledger';

/** The dispatch function's variables: the template's, with the fakes' names and addresses. */
function dispatchEnvironment(
  assembly: Assembly,
  fn: ReturnType<typeof templateFunction>,
  where: { s3: string; queue: FakeQueue; dynamodb: string },
): Record<string, string> {
  const own: Record<string, string> = {
    PRESSROOM_BUCKET: bucket,
    PRESSROOM_LEDGER_TABLE: ledgerTableName,
    PRESSROOM_QUEUE_URL: where.queue.queueUrl,
    PRESSROOM_PUBLIC_URL: publicUrl,
    PRESSROOM_SITE_URL: siteUrl,
    // Pacing by the SES quota (answered by the fake): the next day's slice would be scheduled in
    // this group, with this role; the quota holds the whole run, so nothing is.
    PRESSROOM_CAMPAIGN_SCHEDULE_GROUP: 'pressroom-campaigns',
    PRESSROOM_CAMPAIGN_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/pressroom-campaigns',
    PRESSROOM_CAMPAIGN_SCHEDULE_DEAD_LETTER_ARN: 'arn:aws:sqs:eu-west-3:123456789012:pressroom-campaigns-dlq',
  };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.variables)) {
    if (name in own) continue;
    if (typeof value !== 'string') {
      throw new Error(`the dispatch function's ${name} is ${JSON.stringify(value)}: give the bench a value`);
    }
    env[name] = value;
  }
  const memory = String(assembly.template.Resources[fn.logicalId]?.Properties?.MemorySize ?? 128);
  return {
    ...env,
    ...own,
    ...s3rverEnvironment(where.s3),
    AWS_ENDPOINT_URL_SQS: where.queue.endpoint,
    AWS_ENDPOINT_URL_SES: where.queue.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: where.dynamodb,
    // As on Lambda: the SDK the runtime provides, nothing else of node_modules.
    NODE_PATH: assembly.runtimeModules,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_LAMBDA_FUNCTION_NAME: 'pressroom-dispatch',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: memory,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_CONFIG_FILE: path.join(assembly.outdir, '.no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(assembly.outdir, '.no-aws-credentials'),
  };
}

/** The figures of one run, and what the correctness check found. */
export interface AwsDispatchRun {
  rows: BenchRow[];
  recipients: number;
  enqueued: number;
  /** Objects left under the campaign's staging prefix (none when it went well). */
  stagingLeft: number;
  problems: string[];
}

/**
 * One run over `recipients` contacts: synthesize, seed, anchors, dispatch, check. Throws
 * when the check fails (a recipient missing or enqueued twice, staging left behind).
 */
export async function runAwsDispatch(
  recipients: number,
  log: (message: string) => void,
): Promise<AwsDispatchRun> {
  log('cdk synth with the bundles (esbuild), as for a deploy');
  const assembly = synthWithBundles();
  const stops: (() => Promise<void>)[] = [async () => assembly.remove()];
  try {
    const fn = templateFunction(assembly, 'dispatch');
    // ES modules ignore NODE_PATH: the SDK is found from a node_modules above the bundles.
    symlinkSync(assembly.runtimeModules, path.join(assembly.outdir, 'node_modules'), 'dir');
    // s3rver reads a key's whole folder at each delete: n² over the staged batches, not S3's cost.
    const s3rver = await startS3rver([bucket], { deleteWithoutSweep: true });
    stops.unshift(() => s3rver.stop());
    const s3 = await countingProxy(s3rver.endpoint);
    stops.unshift(() => s3.close());
    const store = new S3ObjectStore({ bucket, client: new S3Client(s3rverClientConfig(s3.endpoint)) });
    // The ledger table (empty: a first run reads one page of it, to find no one done).
    const dynamodb = await startDynalite();
    stops.unshift(() => dynamodb.stop());
    await createTable(dynamodb.client(), ledgerTableInput(ledgerTableName));

    log('publishing the release and registering the campaign');
    await publishReleases(store);
    await registerDraft(store, definition(campaign, { audience: { list, tagsMode: 'any' } }));
    log(`writing ${recipients.toLocaleString('en')} contacts in 256 shards`);
    const ids = await writeContacts(store, recipients, new Date('2026-01-10T09:00:00Z'));
    const check = new EnqueueCheck(ids, campaign);
    ids.length = 0;
    const queue = await startFakeQueue(check);
    stops.unshift(() => queue.close());
    const env = dispatchEnvironment(assembly, fn, { s3: s3.endpoint, queue, dynamodb: dynamodb.endpoint });
    const where = { cwd: assembly.outdir, env };

    log('anchors: node -e 0 (5 runs), the 256 shards read alone');
    const bare: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint();
      await runNode(`process.stdout.write(${JSON.stringify(resultMark)} + '{}\\n')`, where);
      bare.push(msSince(start));
    }
    const readBefore = await runNode<{ handlerMs: number; contacts: number; maxRssKb: number }>(
      shardReadScript,
      where,
    );
    if (readBefore.result.contacts !== recipients) {
      throw new Error(`the shards hold ${readBefore.result.contacts} contacts, not ${recipients}`);
    }

    log('the dispatch function, in a process of its own');
    s3.counts.clear();
    const dispatch = await runNode<DispatchFigures>(dispatchScript(fn.file, campaign), where);
    const requests = new Map(s3.counts);
    const readAfter = await runNode<{ handlerMs: number; contacts: number; maxRssKb: number }>(
      shardReadScript,
      where,
    );

    let stagingLeft = 0;
    for await (const _ of listAll(store, `campaigns/${campaign}/staging/`)) stagingLeft++;
    const { report } = dispatch.result;
    const problems = check.problems();
    if (stagingLeft > 0) problems.push(`${stagingLeft} staged batches left in the store`);
    if (report.enqueued !== recipients || report.audience !== recipients) {
      problems.push(`the function reported ${report.audience} in the audience, ${report.enqueued} enqueued`);
    }
    if (check.recipients !== recipients) problems.push(`the queue received ${check.recipients} recipients`);
    if (problems.length > 0) throw new Error(`aws-dispatch check failed: ${problems.join('; ')}`);

    const readMs = (readBefore.result.handlerMs + readAfter.result.handlerMs) / 2;
    const readRssMb = mib(Math.max(readBefore.result.maxRssKb, readAfter.result.maxRssKb));
    const bareMs = median(bare);
    const s3Requests = [...requests.entries()].sort(([a], [b]) => a.localeCompare(b));
    const rows: BenchRow[] = [
      {
        suite,
        name: 'recipients (each enqueued exactly once, no staging left)',
        value: recipients,
        unit: '',
      },
      {
        suite,
        name: "dispatch: the handler's time (audience read, batches staged, enqueued)",
        value: dispatch.result.handlerMs / 1000,
        unit: 's',
        anchor: { name: 'the 256 shards read and parsed alone (mean of 2)', value: readMs / 1000 },
      },
      {
        suite,
        name: 'dispatch: the whole process (start-up, import, handler)',
        value: dispatch.wallMs / 1000,
        unit: 's',
        anchor: { name: 'node -e 0 (median of 5)', value: bareMs / 1000 },
      },
      {
        suite,
        name: 'dispatch: CPU time (user + system)',
        value: dispatch.result.cpuMs / 1000,
        unit: 's',
      },
      {
        suite,
        name: 'dispatch: peak RSS of the process',
        value: mib(dispatch.result.maxRssKb),
        unit: 'MB',
        anchor: { name: 'the shard-reading process', value: readRssMb },
        target: { max: peakRssGoalMb + 0.001, label: `≤ ${peakRssGoalMb} MB` },
      },
      {
        suite,
        name: 'dispatch: RSS once the bundle is imported',
        value: mib(dispatch.result.importedRssKb),
        unit: 'MB',
      },
      { suite, name: 'queue messages (batches)', value: queue.entries, unit: '' },
      { suite, name: 'SendMessageBatch calls', value: queue.calls, unit: '' },
      { suite, name: 'SQS requests billed (64 KB chunks)', value: queue.billedRequests, unit: '' },
      { suite, name: 'SES GetSendQuota calls (pacing)', value: queue.quotaReads, unit: '' },
      { suite, name: 'bytes enqueued per recipient', value: queue.bytes / recipients, unit: 'B' },
      ...s3Requests.map(([kind, n]) => ({
        suite,
        name: `S3 requests by the dispatch: ${kind}`,
        value: n,
        unit: '',
      })),
    ];
    const input: CostInput = {
      recipients,
      dispatchSeconds: dispatch.result.handlerMs / 1000,
      dispatchMemoryMb: Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE),
      s3: Object.fromEntries(requests),
      sqs: { messages: queue.entries, billedSends: queue.billedRequests, calls: queue.calls },
    };
    rows.push(...costRows(input).map((r) => ({ ...r, suite })));
    return { rows, recipients, enqueued: check.recipients, stagingLeft, problems };
  } finally {
    for (const stop of stops) await stop().catch(() => {});
  }
}

export const awsDispatchBenchmark: Benchmark = {
  name: suite,
  description:
    'the bundled dispatch function over generated contacts (--recipients=N, 1,000,000 by default) in s3rver, onto a fake SQS: time, peak RSS, requests, cost model',
  async run(log) {
    return (await runAwsDispatch(recipientsFlag(process.argv), log)).rows;
  },
};
