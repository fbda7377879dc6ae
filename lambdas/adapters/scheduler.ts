import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { LiftCanceller, LiftScheduler, ScheduledLift } from '../core/archive/lift.ts';
import type { CampaignSchedule, CampaignScheduler } from '../core/campaigns/remote.ts';
import { PressroomError } from '../core/errors.ts';

/** Options of {@link EventBridgeCampaignScheduler}: the stack's outputs of the same names. */
export interface EventBridgeCampaignSchedulerOptions {
  /** `ScheduleGroupName`: the group that holds the campaigns' schedules. */
  groupName: string;
  /** `DispatchFunctionArn`: what a schedule invokes. */
  targetArn: string;
  /** `SchedulerRoleArn`: the role Scheduler assumes to invoke it. */
  roleArn: string;
  /** `ScheduleDeadLetterQueueArn`: where Scheduler leaves an invocation that failed after its retries. */
  deadLetterArn: string;
  /** An SDK client to use (tests, another region); a default one is built otherwise. */
  client?: SchedulerClient;
}

export class SchedulerError extends PressroomError {
  override name = 'SchedulerError';
}

/**
 * Scheduler retries an invocation of dispatch that fails (throttled, dispatch unavailable)
 * for up to an hour, then leaves the event in the dead-letter queue, whose alarm says so.
 * 185 attempts is Scheduler's most; the hour is the default late-fire window, after which
 * dispatch would pause the campaign anyway.
 */
export const scheduleRetryPolicy = { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 185 };

/** What dispatch receives from a campaign's schedule (lambdas/handlers/dispatch.ts). */
export interface ScheduledDispatchEvent {
  campaign: string;
  /** The time the schedule was set for (UTC ISO): dispatch pauses a campaign started too late. */
  scheduledAt: string;
}

const errorName = (error: unknown) => (error as { name?: string } | undefined)?.name;

/**
 * Campaign schedules on EventBridge Scheduler: one-time `at()` schedules in the campaign's
 * time zone, invoking dispatch with `{"campaign": name, "scheduledAt": utc}`, retried and
 * dead-lettered when dispatch cannot be invoked, deleted by Scheduler once run
 * (`ActionAfterCompletion: DELETE`). Putting a schedule that exists replaces it
 * (`UpdateSchedule` takes the whole definition), which is how a campaign is rescheduled.
 */
export class EventBridgeCampaignScheduler implements CampaignScheduler {
  readonly client: SchedulerClient;

  constructor(private readonly options: EventBridgeCampaignSchedulerOptions) {
    this.client = options.client ?? new SchedulerClient({});
  }

  /** The request that creates (or replaces) a campaign's schedule. */
  request(schedule: CampaignSchedule): CreateScheduleCommandInput {
    return oneTimeInvocation(this.options, {
      name: schedule.name,
      description: `pressroom campaign ${schedule.campaign}`,
      expression: schedule.expression,
      timezone: schedule.timezone,
      input: { campaign: schedule.campaign, scheduledAt: schedule.at } satisfies ScheduledDispatchEvent,
    });
  }

  async put(schedule: CampaignSchedule): Promise<'created' | 'updated'> {
    return putSchedule(this.client, this.request(schedule));
  }

  remove(name: string): Promise<boolean> {
    return deleteSchedule(this.client, this.options.groupName, name);
  }
}

/** Deletes a schedule; false when there was none (it ran, or was never made). */
async function deleteSchedule(client: SchedulerClient, group: string, name: string): Promise<boolean> {
  try {
    await client.send(new DeleteScheduleCommand({ Name: name, GroupName: group }));
    return true;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return false;
    throw scheduleFailure('DeleteSchedule', group, name, error);
  }
}

function scheduleFailure(operation: string, group: string, name: string, error: unknown): SchedulerError {
  return new SchedulerError(
    `EventBridge Scheduler ${operation} failed for ${group}/${name}: ${(error as Error).message}`,
    { cause: error },
  );
}

/**
 * A one-time schedule of `group` that invokes `targetArn` with `input` as `roleArn`, retried
 * and dead-lettered, deleted by Scheduler once run.
 */
function oneTimeInvocation(
  where: { groupName: string; targetArn: string; roleArn: string; deadLetterArn: string },
  what: { name: string; description: string; expression: string; timezone: string; input: object },
): CreateScheduleCommandInput {
  return {
    Name: what.name,
    GroupName: where.groupName,
    Description: what.description,
    ScheduleExpression: what.expression,
    ScheduleExpressionTimezone: what.timezone,
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    State: 'ENABLED',
    Target: {
      Arn: where.targetArn,
      RoleArn: where.roleArn,
      Input: JSON.stringify(what.input),
      RetryPolicy: scheduleRetryPolicy,
      DeadLetterConfig: { Arn: where.deadLetterArn },
    },
  };
}

/**
 * Creates a schedule, or replaces the one of the same name: `UpdateSchedule` takes the
 * whole definition, so nothing of the old one (its time above all) stays.
 */
async function putSchedule(
  client: SchedulerClient,
  input: CreateScheduleCommandInput,
): Promise<'created' | 'updated'> {
  const fail = (operation: string, error: unknown) =>
    scheduleFailure(operation, String(input.GroupName), String(input.Name), error);
  try {
    await client.send(new CreateScheduleCommand(input));
    return 'created';
  } catch (error) {
    if (errorName(error) !== 'ConflictException') throw fail('CreateSchedule', error);
  }
  try {
    await client.send(new UpdateScheduleCommand(input));
    return 'updated';
  } catch (error) {
    throw fail('UpdateSchedule', error);
  }
}

/** Options of {@link EventBridgeLiftScheduler}: the publish function's settings. */
export interface EventBridgeLiftSchedulerOptions {
  /** The group of the embargoes' lifts (PRESSROOM_LIFT_SCHEDULE_GROUP). */
  groupName: string;
  /** What a lift invokes: the publish function itself (its ARN, unqualified). */
  targetArn: string;
  /** The role Scheduler assumes to invoke it (PRESSROOM_LIFT_ROLE_ARN). */
  roleArn: string;
  /** Where Scheduler leaves a lift it could not deliver (PRESSROOM_LIFT_DEAD_LETTER_ARN). */
  deadLetterArn: string;
  client?: SchedulerClient;
}

/** What a lift's schedule sends the publish function (lambdas/handlers/publish.ts). */
export interface LiftEvent {
  lift: 'embargoes';
  /** The release whose embargo set this lift (for the logs: every due embargo is lifted). */
  release?: string;
}

/**
 * Embargo lifts on EventBridge Scheduler: one one-time `at()` schedule per release, in UTC,
 * named after its slug, invoking the publish function with `{"lift": "embargoes"}`, retried
 * and dead-lettered like campaign schedules, deleted by Scheduler once run.
 */
export class EventBridgeLiftScheduler implements LiftScheduler {
  readonly client: SchedulerClient;

  constructor(private readonly options: EventBridgeLiftSchedulerOptions) {
    this.client = options.client ?? new SchedulerClient({});
  }

  /** The request that creates (or moves) a release's lift. */
  request(lift: ScheduledLift): CreateScheduleCommandInput {
    return oneTimeInvocation(this.options, {
      name: lift.name,
      description: `pressroom embargo of ${lift.slug}`.slice(0, 512),
      // Scheduler's at() takes seconds and no zone: the instant in UTC.
      expression: `at(${lift.at.toISOString().slice(0, 19)})`,
      timezone: 'UTC',
      input: { lift: 'embargoes', release: lift.slug } satisfies LiftEvent,
    });
  }

  schedule(lift: ScheduledLift): Promise<'created' | 'updated'> {
    return putSchedule(this.client, this.request(lift));
  }
}

/**
 * Deletes lifts from the command line (`pressroom archive withdraw --backend aws`), which
 * knows the group from the stack's outputs (`EmbargoScheduleGroupName`) but not the target.
 */
export class EventBridgeLiftCanceller implements LiftCanceller {
  readonly client: SchedulerClient;

  constructor(private readonly options: { groupName: string; client?: SchedulerClient }) {
    this.client = options.client ?? new SchedulerClient({});
  }

  cancel(name: string): Promise<boolean> {
    return deleteSchedule(this.client, this.options.groupName, name);
  }
}
