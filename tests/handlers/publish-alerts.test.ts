import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { handler } from '../../lambdas/handlers/publish.ts';
import { releaseText, villesInternet } from '../support/memory-files.ts';
import { publishWorldForFile } from './harness.ts';

/**
 * The publish function's topic alerts (s3rver, Scheduler mocked at the client): a public
 * release with an alert list's topic among its tags gets its alert campaign, scheduled in the
 * campaigns' group and invoking dispatch; published again as private, the waiting alert is
 * cancelled and its schedule deleted; an invalid config/lists.yaml publishes the release with
 * a notice and schedules nothing. A digests event of another shape is refused; an invalid
 * config/lists.yaml makes no digest.
 */

const world = publishWorldForFile();
const campaigns = {
  PRESSROOM_CAMPAIGN_SCHEDULE_GROUP: 'Pressroom-Scheduling-Campaigns-ABCD1234',
  PRESSROOM_CAMPAIGN_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/pressroom-campaigns',
  PRESSROOM_CAMPAIGN_SCHEDULE_DEAD_LETTER_ARN: 'arn:aws:sqs:eu-west-3:123456789012:pressroom-schedules-dlq',
  PRESSROOM_DISPATCH_FUNCTION_ARN: 'arn:aws:lambda:eu-west-3:123456789012:function:pressroom-dispatch',
};
const scheduler = mockClient(SchedulerClient);
const listsYaml = `lists:
  alertes:
    title: Alertes
    from: "Villes Internet <alertes@villes-internet.net>"
    topics:
      numerique: Numérique
`;
const tagged = (visibility: string) =>
  releaseText('etude-alerte', 'Étude : le numérique', `tags: [Numérique]\nvisibility: ${visibility}\n`);
const name = 'alert-alertes-etude-alerte';

beforeAll(async () => {
  for (const [variable, value] of Object.entries(campaigns)) vi.stubEnv(variable, value);
  await world.store.put('publications/organizations/villes-internet.yaml', villesInternet);
});
beforeEach(() => {
  scheduler.reset();
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
  scheduler.on(DeleteScheduleCommand).resolves({});
});
afterAll(() => scheduler.restore());

describe('publish handler: topic alerts', () => {
  it("schedules a public tagged release's alert in the campaigns' group, invoking dispatch", async () => {
    await world.store.put('config/lists.yaml', listsYaml);
    const event = await world.upload('publications/alerte.md', tagged('public'));
    const [outcome] = await handler(event);
    expect(outcome).toMatchObject({
      slug: 'etude-alerte',
      alerts: [{ campaign: name, action: 'scheduled', topics: ['numerique'] }],
    });
    const record = await readCampaign(world.store, name);
    expect(record).toMatchObject({
      state: 'scheduled',
      definition: { publication: 'etude-alerte', audience: { lists: ['alertes'], topics: ['numerique'] } },
    });
    const sendAt = record.definition.sendAt?.utc as string;
    expect(scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({
        GroupName: campaigns.PRESSROOM_CAMPAIGN_SCHEDULE_GROUP,
        ScheduleExpression: `at(${sendAt.slice(0, 19)})`,
        Target: expect.objectContaining({
          Arn: campaigns.PRESSROOM_DISPATCH_FUNCTION_ARN,
          RoleArn: campaigns.PRESSROOM_CAMPAIGN_SCHEDULER_ROLE_ARN,
          DeadLetterConfig: { Arn: campaigns.PRESSROOM_CAMPAIGN_SCHEDULE_DEAD_LETTER_ARN },
          Input: JSON.stringify({ campaign: name, scheduledAt: sendAt }),
        }),
      }),
    ]);
  });

  it('cancels the waiting alert of a release published again as private, and deletes its schedule', async () => {
    const event = await world.upload('publications/alerte.md', tagged('private'));
    const [outcome] = await handler(event);
    expect(outcome).toMatchObject({ alerts: [{ campaign: name, action: 'cancelled' }] });
    expect((await readCampaign(world.store, name)).state).toBe('cancelled');
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(1);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toEqual([]);
  });

  it('publishes the release with a notice and schedules nothing when config/lists.yaml is invalid', async () => {
    await world.store.put('config/lists.yaml', 'lists:\n  alertes:\n    topics:\n      Numérique: x\n');
    const event = await world.upload(
      'publications/autre.md',
      releaseText('autre-alerte', 'Autre étude', 'tags: [Numérique]\n'),
    );
    const [outcome] = await handler(event);
    expect(outcome).toMatchObject({ outcome: 'published', slug: 'autre-alerte' });
    expect(outcome && 'alerts' in outcome).toBe(false);
    expect(outcome && 'notices' in outcome ? outcome.notices : []).toEqual([
      expect.stringMatching(
        /^config\/lists\.yaml is invalid, so no topic alert was scheduled for autre-alerte; fix it, then upload the release again:\n.*config\/lists\.yaml:4:7 lists\.alertes\.topics\.Numérique: is not a tag slug/s,
      ),
    ]);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toEqual([]);
  });
});

describe('publish handler: digests', () => {
  it('refuses a digests event of another shape, and makes no digest from an invalid config/lists.yaml', async () => {
    vi.stubEnv('PRESSROOM_TIME_ZONE', 'Europe/Paris');
    await expect(handler({ digests: 'now' } as never)).rejects.toThrow(
      'a digests event is { "digests": "due" }',
    );
    await world.store.put('config/lists.yaml', 'lists:\n  alertes:\n    topics: 3\n');
    expect(await handler({ digests: 'due' })).toEqual({ digests: 'due', campaigns: [] });
    expect(scheduler.commandCalls(CreateScheduleCommand)).toEqual([]);
  });
});
