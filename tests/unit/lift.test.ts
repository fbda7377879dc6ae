/**
 * Embargo lifts: the lift of an embargoed release (its schedule name, its instant rounded up
 * to the second), `planLift` on a store in memory with a controlled clock (scheduled while the
 * embargo is ahead, lifted at once when it passed during the publish), and the Scheduler
 * requests of the AWS adapter (aws-sdk-client-mock): created, then updated in place.
 */

import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import {
  EventBridgeLiftCanceller,
  EventBridgeLiftScheduler,
  SchedulerError,
} from '../../lambdas/adapters/scheduler.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { type LiftScheduler, liftOf, planLift, type ScheduledLift } from '../../lambdas/core/archive/lift.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { withdrawRelease } from '../../lambdas/core/archive/withdraw.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { releaseDeps, releaseWorkspace } from '../support/dispatch-fixtures.ts';
import { memoryFiles } from '../support/memory-files.ts';

const embargo = '2026-03-25T07:00:00.000Z';

/** A LiftScheduler that keeps what it was asked. */
function recordingLifts(): LiftScheduler & { lifts: ScheduledLift[] } {
  const lifts: ScheduledLift[] = [];
  return {
    lifts,
    async schedule(lift) {
      const moved = lifts.some((l) => l.name === lift.name);
      lifts.push(lift);
      return moved ? 'updated' : 'created';
    },
  };
}

describe('the lift of a release', () => {
  it('is named after the slug and set at the embargo, rounded up to the second (never before it)', () => {
    expect(liftOf('sous-embargo', '2026-03-25T07:00:00.000Z')).toEqual({
      slug: 'sous-embargo',
      name: 'sous-embargo',
      at: new Date('2026-03-25T07:00:00.000Z'),
    });
    expect(liftOf('sous-embargo', '2026-03-25T07:00:00.001Z').at).toEqual(
      new Date('2026-03-25T07:00:01.000Z'),
    );
  });

  it('has a schedule name of 64 characters at most, distinct for two long slugs', () => {
    const long = `${'communique-'.repeat(10)}a`;
    const name = liftOf(long, embargo).name;
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).not.toBe(liftOf(`${long}b`, embargo).name);
  });
});

describe('planLift after publishing an embargoed release', () => {
  const setup = async (now: string) => {
    const store = new MemoryObjectStore({
      signingSecret: 's'.repeat(32),
      publicUrl: 'https://press.example.org',
    });
    const clock = { now: new Date(now) };
    const deps = releaseDeps(
      store,
      await loadTemplateFiles(),
      memoryFiles(releaseWorkspace('embargo: 2026-03-25T08:00:00+01:00\n')),
      () => clock.now,
    );
    return { store, clock, deps };
  };

  it('sets the lift while the embargo is ahead; the release stays out of the press room', async () => {
    const { store, deps } = await setup('2026-03-24T10:00:00Z');
    const published = await publishRelease('publications/embargo.md', deps);
    expect(published).toMatchObject({ state: 'embargoed', embargo });
    const lifts = recordingLifts();
    expect(await planLift({ slug: published.slug, embargo }, { ...deps, lifts })).toEqual({
      lift: 'scheduled',
      name: 'sous-embargo',
      at: embargo,
      schedule: 'created',
    });
    expect(lifts.lifts).toEqual([{ slug: 'sous-embargo', name: 'sous-embargo', at: new Date(embargo) }]);
    expect(await getText(store, 'site/index.html')).not.toContain('sous-embargo');
  });

  it('lifts at once, scheduling nothing, when the embargo passed while publishing', async () => {
    const { store, clock, deps } = await setup('2026-03-25T06:59:59Z');
    const published = await publishRelease('publications/embargo.md', deps);
    expect(published.state).toBe('embargoed');
    clock.now = new Date('2026-03-25T07:00:00Z');
    const lifts = recordingLifts();
    expect(await planLift({ slug: published.slug, embargo }, { ...deps, lifts })).toEqual({
      lift: 'lifted',
      released: ['sous-embargo'],
    });
    expect(lifts.lifts).toEqual([]);
    expect(await getText(store, 'site/index.html')).toContain('releases/sous-embargo/');
  });
});

describe('withdrawing a release under its embargo', () => {
  const withdrawing = async (cancel: (name: string) => Promise<boolean>) => {
    const store = new MemoryObjectStore({
      signingSecret: 's'.repeat(32),
      publicUrl: 'https://press.example.org',
    });
    const deps = releaseDeps(
      store,
      await loadTemplateFiles(),
      memoryFiles(releaseWorkspace('embargo: 2026-03-25T08:00:00+01:00\n')),
      () => new Date('2026-03-24T10:00:00Z'),
    );
    await publishRelease('publications/embargo.md', deps);
    await publishRelease('publications/etude.md', deps);
    const asked: string[] = [];
    const lifts = {
      cancel: (name: string) => {
        asked.push(name);
        return cancel(name);
      },
    };
    return { deps: { ...deps, lifts }, asked };
  };
  const request = { reason: 'annulée', by: 'test@host' };

  it('deletes its lift, and only for a release still waiting for its embargo', async () => {
    const { deps, asked } = await withdrawing(async () => true);
    expect((await withdrawRelease('sous-embargo', request, deps)).lift).toEqual({
      outcome: 'deleted',
      name: 'sous-embargo',
    });
    expect((await withdrawRelease('etude-villes', request, deps)).lift).toBeUndefined();
    expect(asked).toEqual(['sous-embargo']);
  });

  it('is done even when the lift cannot be deleted: it would fire and publish nothing', async () => {
    const { deps } = await withdrawing(async () => {
      throw new Error('AccessDenied');
    });
    const result = await withdrawRelease('sous-embargo', request, deps);
    expect(result).toMatchObject({
      outcome: 'withdrawn',
      lift: { outcome: 'failed', name: 'sous-embargo', reason: 'AccessDenied' },
    });
    expect(
      await planLift(
        { slug: 'sous-embargo', embargo },
        { ...deps, clock: () => new Date(embargo), lifts: recordingLifts() },
      ),
    ).toEqual({
      lift: 'lifted',
      released: [],
    });
  });
});

describe('EventBridgeLiftScheduler', () => {
  const options = {
    groupName: 'Pressroom-EmbargoLifts-ABCD1234',
    targetArn: 'arn:aws:lambda:eu-west-3:123456789012:function:pressroom-publish',
    roleArn: 'arn:aws:iam::123456789012:role/pressroom-lifts',
    deadLetterArn: 'arn:aws:sqs:eu-west-3:123456789012:pressroom-lifts-dlq',
  };
  const lift = liftOf('sous-embargo', embargo);

  it('creates a one-time UTC schedule invoking publish with the lift event, retried, dead-lettered, deleted once run', async () => {
    const client = mockClient(SchedulerClient);
    client.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    const scheduler = new EventBridgeLiftScheduler({ ...options, client: new SchedulerClient({}) });
    expect(await scheduler.schedule(lift)).toBe('created');
    expect(client.commandCalls(CreateScheduleCommand)[0]?.args[0].input).toEqual({
      Name: 'sous-embargo',
      GroupName: options.groupName,
      Description: 'pressroom embargo of sous-embargo',
      ScheduleExpression: 'at(2026-03-25T07:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: options.targetArn,
        RoleArn: options.roleArn,
        Input: '{"lift":"embargoes","release":"sous-embargo"}',
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 185 },
        DeadLetterConfig: { Arn: options.deadLetterArn },
      },
    });
    client.restore();
  });

  it('moves the lift a release already has (republished with another embargo) instead of adding one', async () => {
    const client = mockClient(SchedulerClient);
    client
      .on(CreateScheduleCommand)
      .rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    client.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    const scheduler = new EventBridgeLiftScheduler({ ...options, client: new SchedulerClient({}) });
    const later = liftOf('sous-embargo', '2026-03-26T07:00:00.000Z');
    expect(await scheduler.schedule(later)).toBe('updated');
    expect(client.commandCalls(UpdateScheduleCommand)[0]?.args[0].input).toMatchObject({
      Name: 'sous-embargo',
      ScheduleExpression: 'at(2026-03-26T07:00:00)',
    });
    client.restore();
  });

  it('says which schedule failed, and why', async () => {
    const client = mockClient(SchedulerClient);
    client.on(CreateScheduleCommand).rejects(new Error('AccessDenied'));
    const scheduler = new EventBridgeLiftScheduler({ ...options, client: new SchedulerClient({}) });
    const failure = scheduler.schedule(lift);
    await expect(failure).rejects.toBeInstanceOf(SchedulerError);
    await expect(failure).rejects.toThrow(
      'EventBridge Scheduler CreateSchedule failed for Pressroom-EmbargoLifts-ABCD1234/sous-embargo: AccessDenied',
    );
    client.restore();
  });
});

describe('EventBridgeLiftCanceller', () => {
  it('deletes the schedule of the group, and says when there was none', async () => {
    const client = mockClient(SchedulerClient);
    client
      .on(DeleteScheduleCommand, { Name: 'sous-embargo' })
      .resolves({})
      .on(DeleteScheduleCommand, { Name: 'partie' })
      .rejects(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }));
    const lifts = new EventBridgeLiftCanceller({ groupName: 'lifts', client: new SchedulerClient({}) });
    expect(await lifts.cancel('sous-embargo')).toBe(true);
    expect(await lifts.cancel('partie')).toBe(false);
    expect(client.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([
      { Name: 'sous-embargo', GroupName: 'lifts' },
      { Name: 'partie', GroupName: 'lifts' },
    ]);
    client.restore();
  });
});
