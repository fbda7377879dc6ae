import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
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
    return {
      Name: schedule.name,
      GroupName: this.options.groupName,
      Description: `pressroom campaign ${schedule.campaign}`,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: schedule.timezone,
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: this.options.targetArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify({
          campaign: schedule.campaign,
          scheduledAt: schedule.at,
        } satisfies ScheduledDispatchEvent),
        RetryPolicy: scheduleRetryPolicy,
        DeadLetterConfig: { Arn: this.options.deadLetterArn },
      },
    };
  }

  async put(schedule: CampaignSchedule): Promise<'created' | 'updated'> {
    const input = this.request(schedule);
    try {
      await this.client.send(new CreateScheduleCommand(input));
      return 'created';
    } catch (error) {
      if (errorName(error) !== 'ConflictException')
        throw this.failure('CreateSchedule', schedule.name, error);
    }
    try {
      await this.client.send(new UpdateScheduleCommand(input));
      return 'updated';
    } catch (error) {
      throw this.failure('UpdateSchedule', schedule.name, error);
    }
  }

  async remove(name: string): Promise<boolean> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }));
      return true;
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return false;
      throw this.failure('DeleteSchedule', name, error);
    }
  }

  private failure(operation: string, name: string, error: unknown): SchedulerError {
    return new SchedulerError(
      `EventBridge Scheduler ${operation} failed for ${this.options.groupName}/${name}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
