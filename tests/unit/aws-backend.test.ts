/**
 * The command line's AWS backend, with the SDK clients mocked (aws-sdk-client-mock): where
 * the stack's outputs come from (cdk-outputs.json, CloudFormation, neither), the signing
 * secret, the dispatch invocation (its payload, a function error) and `startCampaign`, which
 * writes the record dispatch reads before invoking it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsBackend, loadStackOutputs, type StackOutputs, StackOutputsError } from '../../bin/aws-backend.ts';
import { DispatchFailedError, LambdaCampaignDispatcher } from '../../lambdas/adapters/lambda-dispatcher.ts';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { archiveKeys } from '../../lambdas/core/archive/manifest.ts';
import { campaignKeys, readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import type { DispatchReport } from '../../lambdas/core/campaigns/dispatch.ts';
import { startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { EmbargoError } from '../../lambdas/core/campaigns/send.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { awaitOutcome, snapshotOutcome } from '../../lambdas/core/publication/upload.ts';
import { definition, publishedAt, publishReleases } from '../support/dispatch-fixtures.ts';

const outputs: StackOutputs = {
  Region: 'eu-west-3',
  DataBucketName: 'pressroom-data-abc123',
  PressRoomUrl: 'https://d111111abcdef8.cloudfront.net/',
  PublicEndpointUrl: 'https://abc.lambda-url.eu-west-3.on.aws',
  DispatchFunctionName: 'Pressroom-Dispatch',
  DispatchFunctionArn: 'arn:aws:lambda:eu-west-3:123456789012:function:Pressroom-Dispatch',
  SchedulerRoleArn: 'arn:aws:iam::123456789012:role/Pressroom-SchedulerRole',
  ScheduleGroupName: 'pressroom-campaigns',
  ScheduleDeadLetterQueueArn: 'arn:aws:sqs:eu-west-3:123456789012:Pressroom-SchedulingDeadLetterQueue',
  SigningSecretArn: 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:pressroom-signing-AbCdEf',
};

let dir: string;
const cloudFormation = mockClient(CloudFormationClient);
const secrets = mockClient(SecretsManagerClient);
const lambda = mockClient(LambdaClient);
const cfClient = () => new CloudFormationClient({ region: 'eu-west-3' });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pressroom-aws-backend-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  cloudFormation.reset();
  secrets.reset();
  lambda.reset();
});

describe('the stack outputs', () => {
  it('come from the cdk-outputs.json that PRESSROOM_STACK_OUTPUTS names, without asking CloudFormation', async () => {
    const file = path.join(dir, 'outputs.json');
    await writeFile(file, JSON.stringify({ Pressroom: { ...outputs, DkimRecord1: 'x CNAME y' } }));
    const loaded = await loadStackOutputs({ PRESSROOM_STACK_OUTPUTS: file }, { cloudFormation: cfClient() });
    expect(loaded.outputs).toEqual(outputs);
    expect(loaded.from).toBe(file);
    expect(cloudFormation.calls()).toHaveLength(0);
  });

  it('pick the stack PRESSROOM_STACK names in a file with several, and say which ones there are otherwise', async () => {
    const file = path.join(dir, 'two.json');
    const other = { ...outputs, DataBucketName: 'other-bucket' };
    await writeFile(file, JSON.stringify({ Federation: other, Villes: outputs }));
    const loaded = await loadStackOutputs({ PRESSROOM_STACK_OUTPUTS: file, PRESSROOM_STACK: 'Federation' });
    expect(loaded.outputs.DataBucketName).toBe('other-bucket');
    await expect(loadStackOutputs({ PRESSROOM_STACK_OUTPUTS: file })).rejects.toThrow(
      /several stacks.*"Federation", "Villes".*PRESSROOM_STACK/,
    );
  });

  it('name the outputs a file lacks, and refuse a file that is not JSON', async () => {
    const partial = path.join(dir, 'partial.json');
    await writeFile(partial, JSON.stringify({ Pressroom: { Region: 'eu-west-3', DataBucketName: 'b' } }));
    await expect(loadStackOutputs({ PRESSROOM_STACK_OUTPUTS: partial })).rejects.toThrow(
      /lacks the stack outputs PressRoomUrl, .*SigningSecretArn/,
    );
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{"Pressroom": ');
    await expect(loadStackOutputs({ PRESSROOM_STACK_OUTPUTS: broken })).rejects.toThrow(/is not JSON/);
  });

  it('come from CloudFormation DescribeStacks when there is no cdk-outputs.json', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Villes' }).resolves({
      Stacks: [
        {
          StackName: 'Villes',
          CreationTime: new Date(),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const loaded = await loadStackOutputs({ PRESSROOM_STACK: 'Villes' }, { cloudFormation: cfClient() });
      expect(loaded.outputs).toEqual(outputs);
      expect(loaded.from).toBe('stack Villes');
    } finally {
      process.chdir(cwd);
    }
  });

  it('are a clear error naming both ways when neither works', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id Pressroom does not exist'), { name: 'ValidationError' }),
      );
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const error = await loadStackOutputs({}, { cloudFormation: cfClient() }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StackOutputsError);
      const message = (error as Error).message;
      expect(message).toContain(`no ${path.join(dir, 'cdk-outputs.json')}`);
      expect(message).toContain(
        'DescribeStacks on "Pressroom" failed (Stack with id Pressroom does not exist)',
      );
      expect(message).toContain('npx cdk deploy --outputs-file cdk-outputs.json');
      expect(message).toContain('PRESSROOM_STACK_OUTPUTS');
      expect(message).toContain('PRESSROOM_STACK');
    } finally {
      process.chdir(cwd);
    }
    // A file named explicitly must exist: no silent fallback to another stack.
    await expect(
      loadStackOutputs(
        { PRESSROOM_STACK_OUTPUTS: path.join(dir, 'missing.json') },
        { cloudFormation: cfClient() },
      ),
    ).rejects.toThrow(/PRESSROOM_STACK_OUTPUTS names .*missing\.json, which does not exist/);
  });
});

describe('the embargo lifts', () => {
  it('are deleted in EmbargoScheduleGroupName; a stack without that output has none to delete', async () => {
    const file = path.join(dir, 'lifts-outputs.json');
    await writeFile(file, JSON.stringify({ Pressroom: { ...outputs, EmbargoScheduleGroupName: 'lifts' } }));
    expect((await awsBackend({ PRESSROOM_STACK_OUTPUTS: file })).lifts).toBeDefined();
    await writeFile(file, JSON.stringify({ Pressroom: outputs }));
    expect((await awsBackend({ PRESSROOM_STACK_OUTPUTS: file })).lifts).toBeUndefined();
  });
});

describe('the signing keys', () => {
  const file = () => path.join(dir, 'cdk-outputs.json');
  beforeAll(async () => {
    await writeFile(file(), JSON.stringify({ Pressroom: outputs }));
  });

  it('come from the stack secret (GetSecretValue on SigningSecretArn)', async () => {
    const secret = 'k'.repeat(40);
    secrets
      .on(GetSecretValueCommand, { SecretId: outputs.SigningSecretArn })
      .resolves({ SecretString: secret });
    const backend = await awsBackend(
      { PRESSROOM_STACK_OUTPUTS: file() },
      { secretsManager: new SecretsManagerClient({ region: 'eu-west-3' }) },
    );
    expect(backend.store.bucket).toBe(outputs.DataBucketName);
    expect((await backend.signingKeys()).idOf('zoe@example.org')).toBe(
      contactKeys(secret).idOf('zoe@example.org'),
    );
    await backend.signingKeys();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('come from PRESSROOM_SECRET when set, without reading the secret', async () => {
    const secret = 'p'.repeat(32);
    const backend = await awsBackend(
      { PRESSROOM_STACK_OUTPUTS: file(), PRESSROOM_SECRET: secret },
      { secretsManager: new SecretsManagerClient({ region: 'eu-west-3' }) },
    );
    expect((await backend.signingKeys()).idOf('zoe@example.org')).toBe(
      contactKeys(secret).idOf('zoe@example.org'),
    );
    expect(secrets.calls()).toHaveLength(0);
    const short = await awsBackend({ PRESSROOM_STACK_OUTPUTS: file(), PRESSROOM_SECRET: 'short' });
    await expect(short.signingKeys()).rejects.toThrow(/at least 32 characters \(value not shown/);
  });

  it('say which permission is missing when the secret cannot be read', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const backend = await awsBackend(
      { PRESSROOM_STACK_OUTPUTS: file() },
      { secretsManager: new SecretsManagerClient({ region: 'eu-west-3' }) },
    );
    await expect(backend.signingKeys()).rejects.toThrow(/secretsmanager:GetSecretValue.*PRESSROOM_SECRET/);
  });
});

const report: DispatchReport = {
  campaign: 'etude-presse',
  run: '2026-01-15T09:00:00.000Z',
  state: 'sending',
  audience: 3,
  enqueued: 3,
  batches: 2,
  alreadyDone: 0,
  uncertain: [],
};
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const dispatcher = () =>
  new LambdaCampaignDispatcher({
    functionName: outputs.DispatchFunctionName,
    client: new LambdaClient({ region: 'eu-west-3' }),
  });

describe('invoking dispatch', () => {
  it('sends {"campaign"} (and resendUncertain when asked) and waits for the report', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode(report) as never });
    expect(await dispatcher().dispatch('etude-presse')).toEqual(report);
    await dispatcher().dispatch('etude-presse', { resendUncertain: true });
    const [first, second] = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(first?.FunctionName).toBe('Pressroom-Dispatch');
    expect(first?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(first?.Payload as Uint8Array))).toEqual({
      campaign: 'etude-presse',
    });
    expect(JSON.parse(new TextDecoder().decode(second?.Payload as Uint8Array))).toEqual({
      campaign: 'etude-presse',
      resendUncertain: true,
    });
  });

  it('raises the function’s own message when the function failed', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: encode({
        errorType: 'EmbargoError',
        errorMessage: '"etude" is under embargo until 2026-01-20T07:00:00.000Z: nothing is sent before then.',
        trace: [],
      }) as never,
    });
    const error = await dispatcher()
      .dispatch('etude-presse')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DispatchFailedError);
    expect((error as Error).message).toBe(
      'dispatch of campaign "etude-presse" failed (Unhandled): "etude" is under embargo until 2026-01-20T07:00:00.000Z: nothing is sent before then.',
    );
  });

  it('names the function when it cannot be invoked', async () => {
    lambda.on(InvokeCommand).rejects(
      Object.assign(new Error('Function not found: Pressroom-Dispatch'), {
        name: 'ResourceNotFoundException',
      }),
    );
    await expect(dispatcher().dispatch('etude-presse')).rejects.toThrow(
      /cannot invoke the dispatch function Pressroom-Dispatch: Function not found/,
    );
  });
});

describe('starting a campaign on the stack', () => {
  let store: MemoryObjectStore;
  const clock = () => publishedAt;
  beforeAll(async () => {
    store = new MemoryObjectStore({ signingSecret: 's'.repeat(32), publicUrl: 'https://press.example.org' });
    await publishReleases(store);
  });

  it('writes the campaign record dispatch reads, then invokes dispatch', async () => {
    let recordAtInvoke: unknown;
    lambda.on(InvokeCommand).callsFake(async () => {
      recordAtInvoke = await readCampaign(store, 'etude-presse');
      return { StatusCode: 200, Payload: encode(report) };
    });
    const d = definition('etude-presse');
    const result = await startCampaign(d, { store, dispatcher: dispatcher(), clock }, 'campaigns/etude.yaml');
    expect(result).toEqual(report);
    expect(recordAtInvoke).toMatchObject({ definition: d, state: 'draft', source: 'campaigns/etude.yaml' });
  });

  it('refuses a release under embargo before writing anything or invoking', async () => {
    const d = definition('trop-tot', { publication: 'sous-embargo' });
    await expect(
      startCampaign(d, { store, dispatcher: dispatcher(), clock }, 'trop-tot.yaml'),
    ).rejects.toThrow(EmbargoError);
    expect(await store.head(campaignKeys.record('trop-tot'))).toBeUndefined();
    expect(lambda.calls()).toHaveLength(0);
  });
});

describe('waiting for the publish function', () => {
  const slug = 'etude';
  const reportKey = 'publications/2021/etude.errors.json';
  const manifestKey = archiveKeys.manifest(slug);
  const newStore = () =>
    new MemoryObjectStore({ signingSecret: 's'.repeat(32), publicUrl: 'https://press.example.org' });
  /** A sleep that lets the "function" write something on the n-th look. */
  const onLook = (looks: number, write: () => Promise<unknown>) => {
    let n = 0;
    return async () => {
      if (++n === looks) await write();
    };
  };

  it('sees a new error report, not the stale one that was there before the upload', async () => {
    const store = newStore();
    await store.put(reportKey, JSON.stringify({ message: 'old problem' }));
    const before = await snapshotOutcome(store, manifestKey, reportKey);
    const sleep = onLook(2, () => store.put(reportKey, JSON.stringify({ message: 'new problem' })));
    const outcome = await awaitOutcome(
      store,
      { manifestKey: manifestKey, reportKey, before },
      { timeoutMs: 60_000, sleep },
    );
    expect(outcome).toEqual({ outcome: 'rejected', report: { message: 'new problem' } });
  });

  it('sees the manifest change when the release is published again', async () => {
    const store = newStore();
    await store.put(manifestKey, JSON.stringify({ version: 'v1', summary: { slug } }));
    const before = await snapshotOutcome(store, manifestKey, reportKey);
    const sleep = onLook(3, () =>
      store.put(manifestKey, JSON.stringify({ version: 'v2', summary: { slug } })),
    );
    const outcome = await awaitOutcome(
      store,
      { manifestKey: manifestKey, reportKey, before },
      { timeoutMs: 60_000, sleep },
    );
    expect(outcome).toMatchObject({ outcome: 'published', manifest: { version: 'v2' } });
  });

  it('gives up after the timeout with "pending"', async () => {
    const store = newStore();
    let clock = 0;
    const outcome = await awaitOutcome(
      store,
      { manifestKey, reportKey, before: {} },
      {
        timeoutMs: 5000,
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      },
    );
    expect(outcome).toEqual({ outcome: 'pending' });
    expect(clock).toBe(5000);
  });
});
