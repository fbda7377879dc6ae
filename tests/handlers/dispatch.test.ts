/**
 * The dispatch and send functions together, as on AWS: dispatch puts batches on SQS (mocked
 * at the client: there is no SQS emulator), the captured message bodies come back as a
 * recorded SQS event to the send function, which mails through aws-ses-v2-local over HTTP;
 * the data bucket is s3rver.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CampaignRecord,
  campaignKeys,
  readCampaign,
  updateCampaign,
} from '../../lambdas/core/campaigns/campaign.ts';
import type { DispatchReport, RecipientBatch } from '../../lambdas/core/campaigns/dispatch.ts';
import { type LedgerEntry, readLedger } from '../../lambdas/core/campaigns/ledger.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { getJson } from '../../lambdas/core/store/object-store.ts';
import { handler as dispatch } from '../../lambdas/handlers/dispatch.ts';
import { handler as send } from '../../lambdas/handlers/send.ts';
import {
  definition,
  importCsv,
  importJournalists,
  journalist,
  publishReleases,
  registerDraft,
} from '../support/dispatch-fixtures.ts';
import { captureLogs, type HandlerWorld, recordedEvent, SECRET, startHandlerWorld } from './harness.ts';

type StartSesLocal = (config?: { host?: string; port?: number }) => Promise<Server>;
const sesLocal = await import('aws-ses-v2-local').then((m) => {
  const exported = m.default as unknown as StartSesLocal | { default: StartSesLocal };
  return typeof exported === 'function' ? exported : exported.default;
});

const keys = contactKeys(SECRET);
const QUEUE_URL = 'https://sqs.eu-west-3.amazonaws.com/123456789012/pressroom-recipients';
const AUDIENCE = 5;

let world: HandlerWorld;
let ses: Server;
let sesEndpoint: string;
let sqs: AwsClientStub<SQSClient>;
/** Every SendMessageBatch entry body, in order. */
let enqueued: string[] = [];

beforeAll(async () => {
  ses = await sesLocal({ host: '127.0.0.1', port: 0 });
  sesEndpoint = `http://127.0.0.1:${(ses.address() as AddressInfo).port}`;
  world = await startHandlerWorld({
    AWS_ENDPOINT_URL_SES: sesEndpoint,
    PRESSROOM_QUEUE_URL: QUEUE_URL,
    PRESSROOM_RECIPIENTS_PER_MESSAGE: '2',
    PRESSROOM_WORKER_RATE: '50',
    PRESSROOM_PUBLIC_URL: 'https://abc.lambda-url.eu-west-3.on.aws',
    PRESSROOM_SITE_URL: 'https://press.example.org/',
    PRESSROOM_SES_CONFIGURATION_SET: 'pressroom-events',
    PRESSROOM_SENDER_IDENTITY: 'villes-internet.net',
  });
  sqs = mockClient(SQSClient);
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string; MessageBody: string }[] }) => {
    enqueued.push(...input.Entries.map((e) => e.MessageBody));
    return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })), Failed: [] };
  });
  await publishReleases(world.store);
  await importJournalists(world.store, keys, AUDIENCE);
  await registerDraft(world.store, definition('etude'));
  await registerDraft(world.store, definition('etude-lente'));
  await registerDraft(world.store, definition('etude-pause'));
  await registerDraft(
    world.store,
    definition('plus-tard', {
      sendAt: {
        utc: '2099-06-08T06:00:00.000Z',
        zone: 'Europe/Paris',
        written: '2099-06-08T08:00 Europe/Paris',
      },
    }),
  );
}, 60_000);

afterAll(async () => {
  sqs?.restore();
  await world?.stop();
  await new Promise<void>((resolve) => (ses ? ses.close(() => resolve()) : resolve()));
});

interface StoredMail {
  destination: { to: string[] };
  subject: string;
}
async function mails(): Promise<StoredMail[]> {
  return ((await (await fetch(`${sesEndpoint}/store`)).json()) as { emails: StoredMail[] }).emails;
}

/** The recorded SQS event with these bodies (one per record, the recorded records reused). */
function sqsEvent(bodies: (string | undefined)[]): SQSEvent {
  const event = recordedEvent<SQSEvent>('sqs-batch-three-records.json');
  event.Records = event.Records.slice(0, bodies.length).map((r, i) => {
    const body = bodies[i];
    return body === undefined ? r : { ...r, body };
  });
  return event;
}

const lambdaContext = (remainingMs: number): Context =>
  ({
    functionName: 'pressroom-send',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-3:123456789012:function:pressroom-send',
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/pressroom-send',
    logStreamName: '2021/06/08/[$LATEST]abc',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingMs,
  }) as unknown as Context;

describe('dispatch handler', () => {
  it('refuses a campaign whose links would not work (PRESSROOM_PUBLIC_URL on localhost): nothing enqueued', async () => {
    vi.stubEnv('PRESSROOM_PUBLIC_URL', 'http://localhost:3000');
    vi.resetModules();
    try {
      const { handler } = await import('../../lambdas/handlers/dispatch.ts');
      await expect(handler({ campaign: 'etude' })).rejects.toThrow(
        /PRESSROOM_PUBLIC_URL is http:\/\/localhost:3000 \(localhost is a local name: recipients cannot open it\): set it to your public address, e\.g\. PRESSROOM_PUBLIC_URL=https:\/\/presse\.example\.org/,
      );
    } finally {
      vi.stubEnv('PRESSROOM_PUBLIC_URL', 'https://abc.lambda-url.eu-west-3.on.aws');
      vi.resetModules();
    }
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect((await readCampaign(world.store, 'etude')).state).toBe('draft');
  });

  it('refuses a malformed event and a campaign whose sendAt is ahead: nothing enqueued', async () => {
    await expect(dispatch({ campagne: 'etude' })).rejects.toThrow(/"campaign": "<campaign name>"/);
    await expect(dispatch({ campaign: 'plus-tard' })).rejects.toThrow(/set to go at 2099-06-08T08:00/);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect((await readCampaign(world.store, 'plus-tard')).state).toBe('draft');
  });
});

describe('dispatch → SQS → send handler (s3rver + aws-ses-v2-local)', () => {
  let bodies: string[] = [];
  let first: SQSEvent;

  it('dispatch enqueues the audience in batches of PRESSROOM_RECIPIENTS_PER_MESSAGE', async () => {
    enqueued = [];
    const report = await dispatch({ campaign: 'etude' });
    expect(report).toMatchObject({ audience: AUDIENCE, enqueued: AUDIENCE, batches: 3, state: 'sending' });
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.QueueUrl).toBe(QUEUE_URL);
    bodies = [...enqueued];
    const batches = bodies.map((b) => JSON.parse(b) as RecipientBatch);
    expect(batches.map((b) => [b.campaign, b.index, b.recipients.length])).toEqual([
      ['etude', 0, 2],
      ['etude', 1, 2],
      ['etude', 2, 1],
    ]);
    expect(batches.flatMap((b) => b.recipients.map((r) => r.email)).sort()).toEqual(
      Array.from({ length: AUDIENCE }, (_, i) => journalist(i)).sort(),
    );
    expect((await readCampaign(world.store, 'etude')).runs.at(-1)?.batches).toBe(3);
  });

  it('reports a batch queued without its encoded To (by an older dispatch) as malformed, claiming nobody', async () => {
    const batch = JSON.parse(bodies[0] as string) as RecipientBatch;
    expect(batch.recipients.every((r) => typeof r.to === 'string')).toBe(true);
    const old = sqsEvent([
      JSON.stringify({ ...batch, recipients: batch.recipients.map(({ to: _, ...r }) => r) }),
    ]);
    const response = await send(old, lambdaContext(60_000));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: old.Records[0]?.messageId }] });
    expect(await mails()).toHaveLength(0);
    expect((await readLedger(world.store, 'etude')).size).toBe(0);
  });

  it('sends two batches; the poisoned record fails alone; no address in the logs', async () => {
    first = sqsEvent([bodies[0], undefined, bodies[1]]);
    let response: Awaited<ReturnType<typeof send>> | undefined;
    const logs = await captureLogs(async () => {
      response = await send(first, lambdaContext(60_000));
    });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: first.Records[1]?.messageId }] });
    expect(await mails()).toHaveLength(4);
    expect(logs).toContain('malformed queue message');
    expect(logs).not.toMatch(/@[a-z0-9-]+\.example\.org/);
    expect((await readCampaign(world.store, 'etude')).state).toBe('sending');
    // The counts as CloudWatch metrics (embedded metric format): the service's, summed over
    // the invocation, and the campaign's own.
    const emf = logs
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map(
        (l) =>
          JSON.parse(l) as Record<string, unknown> & {
            _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
          },
      );
    /** A metric's total over lines (a line may hold several values of one metric). */
    const total = (lines: typeof emf, name: string) =>
      lines.flatMap((m) => m[name] ?? []).reduce((n: number, v) => n + Number(v), 0);
    const service = emf.filter((m) => m.campaign === undefined);
    expect(service).toHaveLength(1);
    expect(service[0]).toMatchObject({ service: 'pressroom' });
    expect(service[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe('pressroom');
    expect([total(service, 'Sent'), total(service, 'Failed'), total(service, 'Throttled')]).toEqual([
      4, 0, 0,
    ]);
    const own = emf.filter((m) => m.campaign === 'etude');
    expect(own.every((m) => m._aws.CloudWatchMetrics[0]?.Dimensions[0]?.includes('campaign'))).toBe(true);
    expect(total(own, 'Sent')).toBe(4);
  });

  it('the last batch completes the campaign: everyone exactly once, ledger sent', async () => {
    expect(await send(sqsEvent([bodies[2]]), lambdaContext(60_000))).toEqual({ batchItemFailures: [] });
    const all = await mails();
    for (let i = 0; i < AUDIENCE; i++) {
      expect(
        all.filter((m) => m.destination.to.some((t) => t.includes(journalist(i)))),
        journalist(i),
      ).toHaveLength(1);
    }
    for (let i = 0; i < AUDIENCE; i++) {
      const entry = await getJson<LedgerEntry>(
        world.store,
        campaignKeys.ledger('etude', keys.idOf(journalist(i))),
      );
      expect(entry?.value.status).toBe('sent');
    }
    const record = await readCampaign(world.store, 'etude');
    expect(record.state).toBe('sent');
    expect(record.runs.at(-1)).toMatchObject({ outcome: 'completed', batches: 3 });
  });

  it('redelivering the same SQS event sends nothing more', async () => {
    const response = await send(first, lambdaContext(60_000));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([first.Records[1]?.messageId]);
    expect(await mails()).toHaveLength(AUDIENCE);
  });

  it('a throttling SES leaves recipients deferred and reports the record as a failure', async () => {
    enqueued = [];
    await dispatch({ campaign: 'etude-lente' });
    const sesMock = mockClient(SESClient);
    sesMock
      .on(SendRawEmailCommand)
      .rejects(Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'Throttling' }));
    try {
      const event = sqsEvent([enqueued[0]]);
      // One second left: the throttled retries stop at the deadline, the rest waits.
      const response = await send(event, lambdaContext(1000));
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] });
    } finally {
      sesMock.restore();
    }
    const batch = JSON.parse(enqueued[0] as string) as RecipientBatch;
    const statuses = await Promise.all(
      batch.recipients.map(
        async (r) =>
          (await getJson<LedgerEntry>(world.store, campaignKeys.ledger('etude-lente', r.id)))?.value.status,
      ),
    );
    expect(statuses.every((s) => s === undefined || s === 'deferred')).toBe(true);
    expect(statuses).toContain('deferred');
    expect((await readCampaign(world.store, 'etude-lente')).state).toBe('sending');
    expect(await mails()).toHaveLength(AUDIENCE);
  });

  it('a second dispatch while a run is being sent is busy, naming the dispatch function', async () => {
    enqueued = [];
    await dispatch({ campaign: 'etude-pause' });
    await expect(dispatch({ campaign: 'etude-pause' })).rejects.toThrow(
      /campaign "etude-pause" is being sent by the dispatch function since/,
    );
    expect(enqueued).toHaveLength(3);
    // Busy is not a failure of the campaign: the lease says who sends it.
    expect((await readCampaign(world.store, 'etude-pause')).lastError).toBeUndefined();
  });

  it('an SES account whose sending is paused pauses the campaign with the reason: nobody failed, nothing left for the DLQ', async () => {
    const sesMock = mockClient(SESClient);
    sesMock
      .on(SendRawEmailCommand)
      .rejects(
        Object.assign(new Error('Account sending paused.'), { name: 'AccountSendingPausedException' }),
      );
    let response: Awaited<ReturnType<typeof send>>;
    try {
      response = await send(sqsEvent([enqueued[0], enqueued[1]]), lambdaContext(60_000));
    } finally {
      sesMock.restore();
    }
    // Not failures: SQS deletes them; dispatching again (once fixed) makes new batches.
    expect(response.batchItemFailures).toEqual([]);
    const record = await readCampaign(world.store, 'etude-pause');
    expect(record.state).toBe('paused');
    expect(record.pausedReason).toMatch(/whole AWS account.*update-account-sending-enabled/);
    expect(record.lease).toBeUndefined();
    const statuses = await Promise.all(
      Array.from(
        { length: AUDIENCE },
        async (_, i) =>
          (
            await getJson<LedgerEntry>(
              world.store,
              campaignKeys.ledger('etude-pause', keys.idOf(journalist(i))),
            )
          )?.value.status,
      ),
    );
    expect(statuses).not.toContain('failed');
    // Fixed: dispatching again resumes with everyone.
    enqueued = [];
    expect(await dispatch({ campaign: 'etude-pause' })).toMatchObject({
      enqueued: AUDIENCE,
      state: 'sending',
    });
  });
});

/** The record as `pressroom schedule --backend aws` leaves it: scheduled for its sendAt. */
async function scheduled(name: string, extra: Parameters<typeof definition>[1] = {}) {
  await registerDraft(world.store, definition(name, extra));
  await updateCampaign(
    world.store,
    name,
    () => {
      throw new Error(`no campaign ${name}`);
    },
    (c) => ({ ...c, state: 'scheduled' }),
  );
}

describe('a scheduled campaign whose dispatch fails, as EventBridge Scheduler invokes it', () => {
  const record = (name: string): Promise<CampaignRecord> => readCampaign(world.store, name);

  it('records the error where campaign status reads it, keeps the state, and still fails the invocation; a later dispatch clears it', async () => {
    await scheduled('etude-regions', { audience: { list: 'presse-regions', tagsMode: 'any' } });
    enqueued = [];
    const before = Date.now();
    let failure: unknown;
    const logs = await captureLogs(async () => {
      failure = await dispatch({ campaign: 'etude-regions' }).then(
        () => undefined,
        (error: unknown) => error,
      );
    });
    // The invocation fails (Scheduler and Lambda see it), and CloudWatch has it as before.
    expect((failure as Error).message).toMatch(/no contact is on the list "presse-regions"/);
    expect(logs).toContain('dispatch failed');
    expect(enqueued).toEqual([]);

    const failed = await record('etude-regions');
    expect(failed.state).toBe('scheduled');
    expect(failed.runs).toEqual([]);
    expect(failed.lastError?.message).toBe((failure as Error).message);
    expect(Date.parse(failed.lastError?.at ?? '')).toBeGreaterThanOrEqual(before - 1000);
    // The message names lists, not people.
    expect(failed.lastError?.message).toContain('The lists with contacts are: presse.');
    expect(failed.lastError?.message).not.toContain('@');
    const status = await campaignStatus(world.store, 'etude-regions');
    expect(status).toMatchObject({ state: 'scheduled', lastError: failed.lastError });

    // The list gets its contacts; the schedule's retry (or `pressroom send --backend aws`) dispatches it.
    await importCsv(
      { store: world.store, keys },
      'Prénom;Nom;Courriel\r\nLéa;Roux;lea.roux@ouest.example.org',
      {
        file: 'regions.csv',
        list: 'presse-regions',
        now: new Date(),
      },
    );
    expect(await dispatch({ campaign: 'etude-regions' })).toMatchObject({ enqueued: 1, state: 'sending' });
    const started = await record('etude-regions');
    expect(started.state).toBe('sending');
    expect(started.lastError).toBeUndefined();
    expect((await campaignStatus(world.store, 'etude-regions')).lastError).toBeUndefined();
  });

  it('a schedule that fires on a cancelled campaign records why nothing was sent; the campaign stays cancelled', async () => {
    await scheduled('etude-annulee');
    await updateCampaign(
      world.store,
      'etude-annulee',
      () => {
        throw new Error('no campaign');
      },
      (c) => ({ ...c, state: 'cancelled' }),
    );
    await expect(dispatch({ campaign: 'etude-annulee' })).rejects.toThrow(/was cancelled: nothing is sent/);
    const cancelled = await record('etude-annulee');
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.lastError?.message).toMatch(/campaign "etude-annulee" was cancelled/);
  });
});

describe('a schedule that fires later than the late-fire window', () => {
  /** A scheduled campaign, and the event its schedule sends `minutesAgo` after its time. */
  async function scheduledFor(name: string, minutesAgo: number) {
    await scheduled(name);
    // Seconds more than the whole minutes: the handler rounds down.
    const scheduledAt = new Date(Date.now() - minutesAgo * 60_000 - 20_000).toISOString();
    return { campaign: name, scheduledAt };
  }

  it('pauses the campaign with the reason instead of sending, and succeeds; a resume sends it', async () => {
    const event = await scheduledFor('etude-en-retard', 95);
    enqueued = [];
    let report: DispatchReport | undefined;
    const logs = await captureLogs(async () => {
      report = (await dispatch(event)) as DispatchReport;
    });
    expect(report).toMatchObject({
      campaign: 'etude-en-retard',
      state: 'paused',
      enqueued: 0,
      batches: 0,
      pausedReason: expect.stringMatching(
        /^the schedule fired 95 min late \(set for .+; the window is 60 min\)/,
      ),
    });
    expect(report?.pausedReason).toContain('Resume to send');
    expect(enqueued).toEqual([]);
    expect(logs).toContain('its schedule fired too late');
    expect(logs).not.toMatch(/@[a-z0-9-]+\.example\.org/);

    const paused = await readCampaign(world.store, 'etude-en-retard');
    expect(paused.state).toBe('paused');
    expect(paused.runs).toEqual([]);
    expect(paused.pausedReason).toBe(report?.pausedReason);
    expect(paused.lastError?.message).toBe(report?.pausedReason);
    expect(await campaignStatus(world.store, 'etude-en-retard')).toMatchObject({
      state: 'paused',
      pausedReason: report?.pausedReason,
    });

    // The same event again (Lambda's retry, a duplicate delivery): still nothing sent.
    expect(await dispatch(event)).toMatchObject({ state: 'paused', enqueued: 0 });
    expect(enqueued).toEqual([]);

    // Resumed by hand (`pressroom send --backend aws` invokes dispatch without scheduledAt).
    expect(await dispatch({ campaign: 'etude-en-retard' })).toMatchObject({
      state: 'sending',
      enqueued: AUDIENCE,
    });
    const resumed = await readCampaign(world.store, 'etude-en-retard');
    expect(resumed.pausedReason).toBeUndefined();
    expect(resumed.lastError).toBeUndefined();
  });

  it('sends a schedule that fires late but within the window', async () => {
    enqueued = [];
    const report = (await dispatch(await scheduledFor('etude-un-peu-tard', 10))) as DispatchReport;
    expect(report).toMatchObject({ state: 'sending', enqueued: AUDIENCE });
    expect(report.pausedReason).toBeUndefined();
    expect(enqueued.length).toBeGreaterThan(0);
  });

  it('takes its window from PRESSROOM_LATE_FIRE_WINDOW_MINUTES, and refuses a scheduledAt that is no time', async () => {
    const event = await scheduledFor('etude-fenetre-courte', 10);
    vi.stubEnv('PRESSROOM_LATE_FIRE_WINDOW_MINUTES', '5');
    vi.resetModules();
    try {
      const { handler } = await import('../../lambdas/handlers/dispatch.ts');
      expect(await handler(event)).toMatchObject({
        state: 'paused',
        enqueued: 0,
        pausedReason: expect.stringMatching(/fired 10 min late .*the window is 5 min/),
      });
      await expect(
        handler({ campaign: 'etude-fenetre-courte', scheduledAt: 'demain matin' }),
      ).rejects.toThrow(/scheduledAt/);
    } finally {
      // Empty counts as unset: the default window again.
      vi.stubEnv('PRESSROOM_LATE_FIRE_WINDOW_MINUTES', '');
      vi.resetModules();
    }
    expect((await readCampaign(world.store, 'etude-fenetre-courte')).state).toBe('paused');
  });
});

describe('the sending hold (a reputation alarm)', () => {
  const alarm = (state: string) => ({
    hold: state,
    alarm: 'pressroom-BounceRateReview',
    reason: 'Threshold Crossed: 1 datapoint [0.061] was greater than or equal to the threshold (0.05).',
  });

  it('ALARM pauses the campaign being sent; its queued batch sends nobody; a start is paused instead', async () => {
    await registerDraft(world.store, definition('etude-tenue'));
    await registerDraft(world.store, definition('etude-apres'));
    enqueued = [];
    const started = (await dispatch({ campaign: 'etude-tenue' })) as DispatchReport;
    expect(started.state).toBe('sending');
    const queued = [...enqueued];
    const before = (await mails()).length;

    // Every campaign being sent pauses (earlier tests leave some mid-way).
    const on = await dispatch(alarm('ALARM'));
    expect(on).toMatchObject({ hold: 'on', paused: expect.arrayContaining(['etude-tenue']) });
    expect(on).not.toMatchObject({ paused: expect.arrayContaining(['etude-apres']) });
    const held = await readCampaign(world.store, 'etude-tenue');
    expect(held.state).toBe('paused');
    expect(held.pausedReason).toMatch(
      /^sending is held since .+ \(alarm pressroom-BounceRateReview: Threshold/,
    );

    // The batch on the queue before the alarm: nobody sent, nothing failed.
    expect(await send(sqsEvent([queued[0]]), lambdaContext(60_000))).toEqual({ batchItemFailures: [] });
    expect((await mails()).length).toBe(before);

    // A campaign that would start while held: paused with the reason, nothing enqueued.
    enqueued = [];
    const refused = (await dispatch({ campaign: 'etude-apres' })) as DispatchReport;
    expect(refused).toMatchObject({ state: 'paused', enqueued: 0, pausedReason: held.pausedReason });
    expect(enqueued).toEqual([]);
    expect((await readCampaign(world.store, 'etude-apres')).lastError?.message).toMatch(
      /campaign "etude-apres" cannot start: sending is held .* then resume it/,
    );
    // The alarm firing again changes nothing: the hold keeps its first time.
    expect(await dispatch(alarm('ALARM'))).toEqual({ hold: 'on', paused: [] });
  });

  it('OK lifts the hold: the paused campaigns stay paused until resumed, and a resume sends', async () => {
    expect(await dispatch(alarm('INSUFFICIENT_DATA'))).toEqual({ hold: 'unchanged' });
    expect(await dispatch(alarm('OK'))).toEqual({ hold: 'lifted' });
    expect(await dispatch(alarm('OK'))).toEqual({ hold: 'unchanged' });
    expect((await readCampaign(world.store, 'etude-tenue')).state).toBe('paused');
    enqueued = [];
    const resumed = (await dispatch({ campaign: 'etude-apres' })) as DispatchReport;
    expect(resumed).toMatchObject({ state: 'sending', enqueued: AUDIENCE });
  });

  it('refuses a hold event that is not one', async () => {
    await expect(dispatch({ hold: 'ALARM' })).rejects.toThrow(/"campaign": "<campaign name>"/);
  });
});
