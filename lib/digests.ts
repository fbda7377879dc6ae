import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { PressroomFunction } from './functions.ts';
import { ScheduledInvocations } from './scheduling.ts';

export interface DigestsProps {
  /** The publish function: it makes the digests (their issues are rendered with MJML). */
  publish: PressroomFunction;
  /** The zone (IANA) the digests go at 08:00 in: the workspace's `timeZone`. */
  timeZone: string;
  /** Where the alarm of the digests' dead-letter queue goes. */
  alarmTopic: ITopic;
}

/** What the digests' schedule sends the publish function (lambdas/handlers/publish.ts). */
export const digestEvent = { digests: 'due' } as const;

/** Every day at 08:00 (lambdas/core/alerts/digest.ts: `digestHour`), in the schedule's zone. */
export const digestCron = 'cron(0 8 * * ? *)';

/**
 * Daily and weekly digests of topic alerts on AWS: a recurring EventBridge Scheduler schedule,
 * every day at 08:00 in `timeZone`, invokes the publish function with `{"digests": "due"}`. It
 * runs the same digest job as `pressroom serve` and `run-due` (the weekly one on Mondays, as the
 * job decides), publishes each digest as a private newsletter issue and schedules its campaign
 * in the campaigns' group a minute later, which dispatch and send then mail.
 *
 * The schedule has a group, a role and a dead-letter queue of its own: the role may invoke the
 * publish function only, and only this group's schedules may assume it. Nothing creates
 * schedules in this group at run time.
 */
export class Digests extends ScheduledInvocations {
  readonly schedule: CfnSchedule;

  constructor(scope: Construct, id: string, props: DigestsProps) {
    super(scope, id, {
      groupId: 'Group',
      target: props.publish.function,
      alarmTopic: props.alarmTopic,
      roleDescription:
        'pressroom: EventBridge Scheduler starts the digests of topic alerts by invoking the publish function',
      alarmDescription:
        "The digests' schedule could not invoke the publish function, even after its retries: today's digests were not made. The next day's run makes them (it covers every release since the last digest): read the message in the digests' dead-letter queue and the publish function's logs.",
    });
    props.publish.function.addEnvironment('PRESSROOM_TIME_ZONE', props.timeZone);
    this.schedule = new CfnSchedule(this, 'Daily', {
      description: 'pressroom: makes the daily (and on Mondays weekly) digests of topic alerts at 08:00',
      groupName: this.group.scheduleGroupName,
      scheduleExpression: digestCron,
      scheduleExpressionTimezone: props.timeZone,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: props.publish.function.functionArn,
        roleArn: this.role.roleArn,
        input: JSON.stringify(digestEvent),
        deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
        // A run cut short is repeated whole (same issue ids and campaign names: nothing twice).
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    });
  }
}
