/**
 * Campaign schedules on EventBridge Scheduler: the at() expression of a send time (Paris
 * across the daylight-saving changes, a time with an offset), the schedule name rules, and
 * scheduling, rescheduling and cancelling on a store in memory with the Scheduler client
 * mocked (aws-sdk-client-mock): the requests sent, update on reschedule, delete on cancel.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsBackend } from '../../bin/aws-backend.ts';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { EventBridgeCampaignScheduler } from '../../lambdas/adapters/scheduler.ts';
import { campaignNames, readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import {
  cancelCampaignRemotely,
  oneTimeSchedule,
  RemoteCampaignError,
  scheduleCampaignRemotely,
  scheduleNameFor,
  scheduleNamePattern,
} from '../../lambdas/core/campaigns/remote.ts';
import {
  defaultLateFireWindowMinutes,
  lateFire,
  ScheduleError,
} from '../../lambdas/core/campaigns/schedule.ts';
import { EmbargoError } from '../../lambdas/core/campaigns/send.ts';
import { parseSendTime, type SendTime } from '../../lambdas/core/campaigns/time.ts';
import { definition, publishedAt, publishReleases } from '../support/dispatch-fixtures.ts';
import { writeStackOutputs } from '../support/stack-outputs.ts';

function sendTime(text: string): SendTime {
  const t = parseSendTime(text);
  if ('error' in t) throw new Error(t.error);
  return t;
}

describe('the at() expression of a send time', () => {
  it('keeps 08:00 Paris time in summer, for a schedule made in winter', () => {
    // Made on 15 January (UTC+01:00) for 1 April (UTC+02:00): 08:00 there is 06:00 UTC.
    const at = sendTime('2026-04-01T08:00 Europe/Paris');
    expect(at.utc).toBe('2026-04-01T06:00:00.000Z');
    expect(oneTimeSchedule(at)).toEqual({ expression: 'at(2026-04-01T08:00:00)', timezone: 'Europe/Paris' });
  });

  it('keeps 08:00 Paris time in winter, for a schedule made in summer', () => {
    const at = sendTime('2026-11-02T08:00 Europe/Paris');
    expect(at.utc).toBe('2026-11-02T07:00:00.000Z');
    expect(oneTimeSchedule(at)).toEqual({ expression: 'at(2026-11-02T08:00:00)', timezone: 'Europe/Paris' });
  });

  it('gives the wall time of the day of the change itself (29 March 2026, clocks go forward at 02:00)', () => {
    const at = sendTime('2026-03-29T08:30:15 Europe/Paris');
    expect(at.utc).toBe('2026-03-29T06:30:15.000Z');
    expect(oneTimeSchedule(at).expression).toBe('at(2026-03-29T08:30:15)');
  });

  it('gives a time written with an offset in UTC: one instant, whatever the zone', () => {
    expect(oneTimeSchedule(sendTime('2026-04-01T08:00:00+02:00'))).toEqual({
      expression: 'at(2026-04-01T06:00:00)',
      timezone: 'UTC',
    });
    expect(oneTimeSchedule(sendTime('2026-04-01T23:30:00-05:00'))).toEqual({
      expression: 'at(2026-04-02T04:30:00)',
      timezone: 'UTC',
    });
    expect(oneTimeSchedule(sendTime('2026-04-01T08:00:00Z'))).toEqual({
      expression: 'at(2026-04-01T08:00:00)',
      timezone: 'UTC',
    });
  });
});

describe('schedule names', () => {
  it('are the campaign name when it fits', () => {
    expect(scheduleNameFor('etude-2021-presse')).toBe('etude-2021-presse');
    expect(scheduleNameFor('a'.repeat(64))).toBe('a'.repeat(64));
  });

  it('are cut to 64 characters with a hash that tells long names apart', () => {
    const long = `${'communique-'.repeat(8)}presse`;
    const other = `${'communique-'.repeat(8)}regions`;
    const name = scheduleNameFor(long);
    expect(name).toMatch(scheduleNamePattern);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name.startsWith('communique-communique-')).toBe(true);
    expect(name).not.toBe(scheduleNameFor(other));
    expect(scheduleNameFor(long)).toBe(name);
    // No "--" where the cut fell on a hyphen.
    expect(name).not.toContain('--');
  });
});

const GROUP = 'pressroom-campaigns';
const DISPATCH_ARN = 'arn:aws:lambda:eu-west-3:123456789012:function:Pressroom-Dispatch';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/Pressroom-SchedulerRole';
const DLQ_ARN = 'arn:aws:sqs:eu-west-3:123456789012:Pressroom-SchedulingDeadLetterQueue';
const retryAndDeadLetter = {
  RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 185 },
  DeadLetterConfig: { Arn: DLQ_ARN },
};

describe('scheduling on the stack (Scheduler mocked, store in memory)', () => {
  const scheduler = mockClient(SchedulerClient);
  let store: MemoryObjectStore;
  const clock = () => publishedAt;
  const adapter = () =>
    new EventBridgeCampaignScheduler({
      groupName: GROUP,
      targetArn: DISPATCH_ARN,
      roleArn: ROLE_ARN,
      deadLetterArn: DLQ_ARN,
      client: new SchedulerClient({ region: 'eu-west-3' }),
    });

  beforeAll(async () => {
    store = new MemoryObjectStore({ signingSecret: 's'.repeat(32), publicUrl: 'https://press.example.org' });
    await publishReleases(store);
  });

  beforeEach(() => {
    scheduler.reset();
  });

  it('creates a one-time schedule that invokes dispatch, and records the campaign as scheduled', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    const d = definition('etude-printemps', { sendAt: sendTime('2026-04-01T08:00 Europe/Paris') });
    const result = await scheduleCampaignRemotely(d, { store, scheduler: adapter(), clock }, 'etude.yaml');
    expect(result.action).toBe('created');
    const calls = scheduler.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      Name: 'etude-printemps',
      GroupName: GROUP,
      Description: 'pressroom campaign etude-printemps',
      ScheduleExpression: 'at(2026-04-01T08:00:00)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: DISPATCH_ARN,
        RoleArn: ROLE_ARN,
        // The time it was set for: dispatch pauses the campaign when it starts too late.
        Input: '{"campaign":"etude-printemps","scheduledAt":"2026-04-01T06:00:00.000Z"}',
        ...retryAndDeadLetter,
      },
    });
    const record = await readCampaign(store, 'etude-printemps');
    expect(record.state).toBe('scheduled');
    expect(record.source).toBe('etude.yaml');
    expect(await campaignNames(store)).toContain('etude-printemps');
  });

  it('updates the schedule when the campaign is scheduled again', async () => {
    scheduler.on(CreateScheduleCommand).rejects(
      new ConflictException({
        message: 'Schedule already exists.',
        Message: 'Schedule already exists.',
        $metadata: {},
      }),
    );
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    const d = definition('etude-printemps', { sendAt: sendTime('2026-04-02T09:15 Europe/Paris') });
    const result = await scheduleCampaignRemotely(d, { store, scheduler: adapter(), clock }, 'etude.yaml');
    expect(result.action).toBe('updated');
    const update = scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input;
    expect(update).toMatchObject({
      Name: 'etude-printemps',
      GroupName: GROUP,
      ScheduleExpression: 'at(2026-04-02T09:15:00)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: DISPATCH_ARN,
        RoleArn: ROLE_ARN,
        Input: '{"campaign":"etude-printemps","scheduledAt":"2026-04-02T07:15:00.000Z"}',
        ...retryAndDeadLetter,
      },
    });
    expect((await readCampaign(store, 'etude-printemps')).definition.sendAt?.utc).toBe(
      '2026-04-02T07:15:00.000Z',
    );
  });

  it('deletes the schedule and cancels the campaign; cancelling again with no schedule left is fine', async () => {
    scheduler.on(DeleteScheduleCommand).resolvesOnce({});
    const first = await cancelCampaignRemotely(
      'etude-printemps',
      { store, scheduler: adapter() },
      publishedAt,
    );
    expect(first.scheduleDeleted).toBe(true);
    expect(scheduler.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({
      Name: 'etude-printemps',
      GroupName: GROUP,
    });
    expect((await readCampaign(store, 'etude-printemps')).state).toBe('cancelled');

    scheduler.on(DeleteScheduleCommand).rejects(
      new ResourceNotFoundException({
        message: 'Schedule not found.',
        Message: 'Schedule not found.',
        $metadata: {},
      }),
    );
    const again = await cancelCampaignRemotely(
      'etude-printemps',
      { store, scheduler: adapter() },
      publishedAt,
    );
    expect(again.scheduleDeleted).toBe(false);
    expect(again.record.state).toBe('cancelled');
  });

  it('refuses a time before the embargo, a time in the past, and a campaign without sendAt, asking Scheduler nothing', async () => {
    const s = { store, scheduler: adapter(), clock };
    await expect(
      scheduleCampaignRemotely(
        definition('trop-tot', {
          publication: 'sous-embargo',
          sendAt: sendTime('2026-01-19T08:00 Europe/Paris'),
        }),
        s,
        'trop-tot.yaml',
      ),
    ).rejects.toThrow(EmbargoError);
    await expect(
      scheduleCampaignRemotely(
        definition('passe', { sendAt: sendTime('2026-01-01T08:00 Europe/Paris') }),
        s,
        'passe.yaml',
      ),
    ).rejects.toThrow(/in the past/);
    await expect(scheduleCampaignRemotely(definition('sans-date'), s, 'sans-date.yaml')).rejects.toThrow(
      ScheduleError,
    );
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('says what to do when Scheduler refuses, naming the campaign and the schedule', async () => {
    scheduler.on(CreateScheduleCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: iam:PassRole'), {
        name: 'AccessDeniedException',
      }),
    );
    const error = await scheduleCampaignRemotely(
      definition('refuse', { sendAt: sendTime('2026-04-01T08:00 Europe/Paris') }),
      { store, scheduler: adapter(), clock },
      'refuse.yaml',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteCampaignError);
    expect((error as Error).message).toMatch(
      /"refuse".*iam:PassRole.*pressroom schedule.*campaign cancel refuse/s,
    );
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });
});

describe('a schedule that fires late (the rule of dispatch and of the due-job runner)', () => {
  const setFor = '2026-04-01T06:00:00.000Z';
  const firedAt = (ms: number) => new Date(Date.parse(setFor) + ms);

  it('is on time up to the window, an hour by default, and late one moment after', () => {
    expect(defaultLateFireWindowMinutes).toBe(60);
    expect(lateFire(setFor, firedAt(0), 60)).toBeUndefined();
    expect(lateFire(setFor, firedAt(60 * 60_000), 60)).toBeUndefined();
    expect(lateFire(setFor, firedAt(60 * 60_000 + 1), 60)).toMatchObject({ minutesLate: 60 });
    // Early (a clock a little ahead) is not late.
    expect(lateFire(setFor, firedAt(-5_000), 60)).toBeUndefined();
  });

  it('says by how many whole minutes, when it was set for, the window, and how to resume', () => {
    const late = lateFire(setFor, firedAt(95 * 60_000 + 59_000), 60, 'etude-presse');
    expect(late?.minutesLate).toBe(95);
    expect(late?.reason).toBe(
      'the schedule fired 95 min late (set for 2026-04-01T06:00:00.000Z; the window is 60 min): paused instead of sending a stale announcement. Resume to send it now (`pressroom campaign resume etude-presse`, with --backend aws on AWS), or schedule it again',
    );
    expect(lateFire(setFor, firedAt(10 * 60_000), 5)?.reason).toMatch(
      /^the schedule fired 10 min late .*the window is 5 min/,
    );
  });
});

describe("the command line's scheduler, from the stack's outputs", () => {
  it('puts every schedule in the group, with the role, the retries and the dead-letter queue the outputs name', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pressroom-scheduler-'));
    try {
      await writeStackOutputs(dir, 'pressroom-data');
      const backend = await awsBackend({ PRESSROOM_STACK_OUTPUTS: path.join(dir, 'cdk-outputs.json') });
      const request = backend.scheduler.request({
        campaign: 'etude',
        name: 'etude',
        at: '2026-04-01T06:00:00.000Z',
        ...oneTimeSchedule(sendTime('2026-04-01T08:00 Europe/Paris')),
      });
      expect(request.GroupName).toBe(backend.outputs.ScheduleGroupName);
      expect(request.Target).toMatchObject({
        Arn: backend.outputs.DispatchFunctionArn,
        RoleArn: backend.outputs.SchedulerRoleArn,
        DeadLetterConfig: { Arn: backend.outputs.ScheduleDeadLetterQueueArn },
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 185 },
      });
      expect(backend.outputs.ScheduleDeadLetterQueueArn).toMatch(/^arn:aws:sqs:/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses outputs without the dead-letter queue (a stack deployed before it): deploy again', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pressroom-scheduler-'));
    try {
      await writeStackOutputs(dir, 'pressroom-data', { ScheduleDeadLetterQueueArn: '' });
      await expect(
        awsBackend({ PRESSROOM_STACK_OUTPUTS: path.join(dir, 'cdk-outputs.json') }),
      ).rejects.toThrow(/lacks the stack outputs ScheduleDeadLetterQueueArn: deploy the current stack again/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
