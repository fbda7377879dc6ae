import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CampaignRecord, registerCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { contactKeys, isSuppressed, type Suppression, shardOf } from '../../lambdas/core/contacts/model.ts';
import {
  campaignFeedbackCounts,
  feedbackKeys,
  type RecipientFeedback,
} from '../../lambdas/core/contacts/provider-feedback.ts';
import { readSuppressionShard } from '../../lambdas/core/contacts/repository.ts';
import { describeAddress, eraseAddress } from '../../lambdas/core/privacy.ts';
import { getJson } from '../../lambdas/core/store/object-store.ts';
import { handler } from '../../lambdas/handlers/feedback.ts';
import {
  captureLogs,
  type HandlerWorld,
  recordedEvent,
  SECRET,
  SECRET_ARN,
  snsWith,
  startHandlerWorld,
} from './harness.ts';

// The same derivation as the command line's from PRESSROOM_SECRET: the ids must match.
const keys = contactKeys(SECRET);
const CAMPAIGN = 'etude-2021-presse';

let world: HandlerWorld;

async function suppressionOf(email: string): Promise<{ value?: Suppression; version?: string }> {
  const id = keys.idOf(email);
  const key = `suppressions/shards/${shardOf(id)}.json`;
  const shard = await getJson<{ suppressions: Record<string, Suppression> }>(world.store, key);
  return { value: shard?.value.suppressions[id], version: shard?.version };
}

async function campaignReports(email: string) {
  return (await getJson<RecipientFeedback>(world.store, feedbackKeys.recipient(CAMPAIGN, keys.idOf(email))))
    ?.value;
}

beforeAll(async () => {
  world = await startHandlerWorld();
  // The campaign the messages were tagged with, as `pressroom send` leaves it.
  const record: CampaignRecord = {
    definition: {
      name: CAMPAIGN,
      publication: 'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes',
      audience: { list: 'presse', tagsMode: 'any' },
      from: { name: 'Villes Internet', address: 'presse@villes-internet.example.org' },
      attachPdf: false,
    },
    state: 'sent',
    source: 'examples/campaigns/etude-2021-presse.yaml',
    createdAt: '2021-06-07T16:00:00.000Z',
    updatedAt: '2021-06-08T06:10:00.000Z',
    runs: [{ startedAt: '2021-06-08T06:00:00.000Z', endedAt: '2021-06-08T06:10:00.000Z', outcome: 'sent' }],
  };
  await world.store.put(`campaigns/${CAMPAIGN}/campaign.json`, JSON.stringify(record));
  await registerCampaign(world.store, CAMPAIGN);
});

afterAll(async () => {
  await world?.stop();
});

describe('feedback handler (SNS-wrapped SES events → suppressions and campaign outcomes, on s3rver)', () => {
  it('a permanent bounce suppresses the address everywhere and is recorded in its campaign', async () => {
    const summary = await handler(recordedEvent<SNSEvent>('sns-ses-bounce-permanent.json'));

    expect(summary).toEqual({ applied: 1, ignored: 0, skipped: 0 });
    const { value } = await suppressionOf('jeanne.martin@example.org');
    expect(value?.all).toEqual({ reason: 'hard-bounce', at: '2021-06-08T06:01:02.669Z' });
    expect(value?.events).toEqual(['0102017a3f1c2d3e-6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d-000000']);
    expect(isSuppressed(value, 'presse')).toBe(true);
    expect(await campaignReports('jeanne.martin@example.org')).toEqual({
      contact: keys.idOf('jeanne.martin@example.org'),
      reports: {
        'hard-bounce': {
          at: '2021-06-08T06:01:02.669Z',
          count: 1,
          detail: { type: 'Permanent', subType: 'General', status: '5.1.1' },
        },
      },
      events: ['hard-bounce:0102017a3f1c2d3e-6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d-000000'],
    });
  });

  it('a redelivered notification changes nothing', async () => {
    const before = await suppressionOf('jeanne.martin@example.org');
    const reportKey = feedbackKeys.recipient(CAMPAIGN, keys.idOf('jeanne.martin@example.org'));
    const reportBefore = await world.store.head(reportKey);
    await handler(recordedEvent<SNSEvent>('sns-ses-bounce-permanent.json'));
    const after = await suppressionOf('jeanne.martin@example.org');
    expect(after).toEqual(before); // same content, and not even rewritten: same version
    expect((await world.store.head(reportKey))?.version).toBe(reportBefore?.version);
  });

  it('a complaint suppresses the address', async () => {
    expect(await handler(recordedEvent<SNSEvent>('sns-ses-complaint.json'))).toEqual({
      applied: 1,
      ignored: 0,
      skipped: 0,
    });
    const { value } = await suppressionOf('paul.durand@example.org');
    expect(value?.all?.reason).toBe('complaint');
    expect((await campaignReports('paul.durand@example.org'))?.reports.complaint).toMatchObject({
      count: 1,
      detail: { type: 'abuse' },
    });
  });

  it('a transient bounce only counts a soft bounce: the address stays mailable', async () => {
    await handler(recordedEvent<SNSEvent>('sns-ses-bounce-transient.json'));
    await handler(recordedEvent<SNSEvent>('sns-ses-bounce-transient.json')); // redelivered
    const { value } = await suppressionOf('lea.petit@example.org');
    expect(value).toEqual({
      id: keys.idOf('lea.petit@example.org'),
      email: 'lea.petit@example.org',
      softBounces: { count: 1, lastAt: '2021-06-08T06:05:11.902Z' },
      events: ['0102017a3f20aa01-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f-000000'],
    });
    expect(isSuppressed(value, 'presse')).toBe(false);
    expect((await campaignReports('lea.petit@example.org'))?.reports['soft-bounce']).toMatchObject({
      count: 1,
      detail: { type: 'Transient', subType: 'MailboxFull', status: '4.2.2' },
    });
  });

  it('a third soft bounce in a row suppresses; a delivery before it resets the count', async () => {
    const bounce = (feedbackId: string) =>
      snsWith('sns-ses-bounce-transient.json', (m) => {
        (m.bounce as { feedbackId: string }).feedbackId = feedbackId;
      });
    await handler(bounce('soft-2'));
    expect((await suppressionOf('lea.petit@example.org')).value?.softBounces?.count).toBe(2);

    await handler(recordedEvent<SNSEvent>('sns-ses-delivery.json'));
    expect((await suppressionOf('lea.petit@example.org')).value?.softBounces).toBeUndefined();
    expect((await campaignReports('lea.petit@example.org'))?.reports.delivery).toEqual({
      at: '2021-06-08T06:00:04.133Z',
      count: 1,
    });

    for (const id of ['soft-3', 'soft-4']) await handler(bounce(id));
    expect((await suppressionOf('lea.petit@example.org')).value?.all).toBeUndefined();
    await handler(bounce('soft-5'));
    expect((await suppressionOf('lea.petit@example.org')).value?.all?.reason).toBe('soft-bounces');
  });

  it('an identity notification (notificationType, no tags) suppresses; no campaign to record it in', async () => {
    expect(await handler(recordedEvent<SNSEvent>('sns-ses-notification-bounce.json'))).toEqual({
      applied: 1,
      ignored: 0,
      skipped: 0,
    });
    expect((await suppressionOf('marc.leroy@example.org')).value?.all?.reason).toBe('hard-bounce');
    expect(await campaignReports('marc.leroy@example.org')).toBeUndefined();
  });

  it('a campaign tag naming no campaign suppresses but writes under no campaign', async () => {
    const event = snsWith('sns-ses-complaint.json', (m) => {
      (m.mail as { tags: Record<string, string[]> }).tags.campaign = ['campagne-inconnue'];
      (m.complaint as { complainedRecipients: unknown[] }).complainedRecipients = [
        { emailAddress: 'nina.roux@example.org' },
      ];
    });
    await handler(event);
    expect((await suppressionOf('nina.roux@example.org')).value?.all?.reason).toBe('complaint');
    expect(
      await world.store.head(feedbackKeys.recipient('campagne-inconnue', keys.idOf('nina.roux@example.org'))),
    ).toBeUndefined();
  });

  it('a reject is recorded in its campaign and suppresses nobody', async () => {
    const event = snsWith('sns-ses-delivery.json', (m) => {
      m.eventType = 'Reject';
      delete m.delivery;
      m.reject = { reason: 'Bad content' };
      (m.mail as { destination: string[] }).destination = ['olivier.blanc@example.org'];
    });
    expect(await handler(event)).toEqual({ applied: 1, ignored: 0, skipped: 0 });
    expect((await suppressionOf('olivier.blanc@example.org')).value).toBeUndefined();
    expect(
      (
        await getJson<RecipientFeedback>(
          world.store,
          feedbackKeys.recipient(CAMPAIGN, keys.idOf('olivier.blanc@example.org')),
        )
      )?.value.reports.reject,
    ).toMatchObject({ detail: { reason: 'Bad content' } });
  });

  it('counts a campaign’s reports by kind', async () => {
    expect(await campaignFeedbackCounts(world.store, CAMPAIGN)).toEqual({
      delivery: 1,
      'hard-bounce': 1,
      'soft-bounce': 1,
      complaint: 1,
      reject: 1,
    });
  });

  it('malformed records are logged without addresses and skipped; the good ones in the batch applied', async () => {
    const good = recordedEvent<SNSEvent>('sns-ses-complaint.json');
    const template = good.Records[0];
    if (!template) throw new Error('no record');
    const withMessage = (message: string) => ({ ...template, Sns: { ...template.Sns, Message: message } });
    const complaint = JSON.parse(template.Sns.Message) as { complaint: { complainedRecipients: unknown[] } };
    complaint.complaint.complainedRecipients = [{ emailAddress: 'chloe.fabre@example.org' }];
    const badAddress = JSON.parse(template.Sns.Message) as { complaint: { complainedRecipients: unknown[] } };
    badAddress.complaint.complainedRecipients = [{ emailAddress: 'not an address <chloe.fabre@example.org' }];
    const batch: SNSEvent = {
      Records: [
        withMessage(
          '{"eventType":"Bounce","mail":{"messageId":"m-1","destination":["chloe.fabre@example.org"]',
        ),
        withMessage(
          JSON.stringify({
            eventType: 'Bounce',
            mail: { messageId: 'm-2', destination: ['chloe.fabre@example.org'] },
          }),
        ),
        withMessage(JSON.stringify({ hello: 'chloe.fabre@example.org' })),
        withMessage(JSON.stringify(badAddress)),
        withMessage(JSON.stringify({ eventType: 'Open', mail: { messageId: 'm-3' }, open: {} })),
        withMessage(JSON.stringify({ notificationType: 'AmazonSnsSubscriptionSucceeded', message: 'ok' })),
        withMessage(JSON.stringify(complaint)),
      ],
    };

    let summary: unknown;
    const logs = await captureLogs(async () => {
      summary = await handler(batch);
    });

    expect(summary).toEqual({ applied: 1, ignored: 2, skipped: 4 });
    expect((await suppressionOf('chloe.fabre@example.org')).value?.all?.reason).toBe('complaint');
    expect(logs).toContain('SES event skipped');
    expect(logs).toContain('provider feedback applied');
    expect(logs).not.toMatch(/@|%40/);
    expect(logs).not.toContain('chloe.fabre');
  });

  it('a store failure fails the invocation, so that SNS delivers it again', async () => {
    const s3 = mockClient(S3Client);
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' }),
    );
    try {
      await expect(handler(recordedEvent<SNSEvent>('sns-ses-complaint.json'))).rejects.toThrow(
        /ServiceUnavailable/,
      );
    } finally {
      s3.restore();
    }
  });

  it('an access request shows the provider’s reports; an erasure removes them', async () => {
    const held = await describeAddress(world.store, keys, 'jeanne.martin@example.org');
    expect(held.providerReports).toEqual([
      { campaign: CAMPAIGN, reports: { 'hard-bounce': expect.objectContaining({ count: 1 }) } },
    ]);
    await eraseAddress(world.store, keys, 'jeanne.martin@example.org', new Date('2021-07-01T00:00:00Z'));
    expect(await campaignReports('jeanne.martin@example.org')).toBeUndefined();
    // The suppression stays, under the id only, so that the address is never mailed again.
    const { value } = await suppressionOf('jeanne.martin@example.org');
    expect(value?.all).toBeDefined();
    expect(value?.email).toBeUndefined();
  });

  it('read the signing secret once for the container, from the ARN it was given', async () => {
    const calls = world.secrets.commandCalls(GetSecretValueCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ SecretId: SECRET_ARN });
    expect(
      await readSuppressionShard(world.store, shardOf(keys.idOf('paul.durand@example.org'))),
    ).toMatchObject({
      suppressions: { [keys.idOf('paul.durand@example.org')]: expect.anything() },
    });
  });
});
