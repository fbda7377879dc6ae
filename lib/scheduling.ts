import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PressroomFunction } from './functions.ts';
import { acknowledge, acknowledgeWildcardResource } from './nag.ts';
import { deadLetterAlarm } from './sending.ts';

export interface ScheduledInvocationsProps {
  /** The construct id of the schedule group (CDK names the group after its path). */
  groupId: string;
  /** The one function the group's schedules invoke. */
  target: IFunction;
  /** Where the alarm of the schedules' dead-letter queue goes. */
  alarmTopic: ITopic;
  /** The role's description. */
  roleDescription: string;
  /** What the alarm says happened and what to do. */
  alarmDescription: string;
}

/**
 * An EventBridge Scheduler group for one-time schedules that invoke one function (with
 * ActionAfterCompletion DELETE, a retry policy and this construct's dead-letter queue), and
 * the role Scheduler assumes to run them. That role can invoke the function and send to the
 * dead-letter queue, nothing else, and only schedules of this group, in this account, can
 * assume it.
 */
export class ScheduledInvocations extends Construct {
  readonly group: ScheduleGroup;
  readonly role: Role;
  /** Where Scheduler puts an invocation that failed after its retries. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ScheduledInvocationsProps) {
    super(scope, id);
    // Deleted with the stack: CDK names the group after its path, the same name at every
    // deploy, and a group kept after `cdk destroy` made the next deploy fail ("already exists").
    // Deleting a group deletes the schedules in it; the records they act on stay in the bucket.
    this.group = new ScheduleGroup(this, props.groupId, { removalPolicy: RemovalPolicy.DESTROY });
    const stack = Stack.of(this);
    this.role = new Role(this, 'SchedulerRole', {
      description: props.roleDescription,
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        // Scheduler's source ARN is the schedule GROUP's ARN, never a schedule's: a condition
        // on schedule ARNs matches nothing, and no schedule could assume the role.
        // https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
        // ("The value of aws:SourceArn must be your EventBridge Scheduler schedule group ARN";
        // "Do not scope the aws:SourceArn statement to a specific schedule").
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': this.group.scheduleGroupArn,
          },
        },
      }),
    });
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.target.functionArn] }),
    );

    // Scheduler sends dead-letter events with the schedule's execution role, so the role gets
    // sqs:SendMessage on the queue (no queue policy is needed):
    // https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'It is a dead-letter queue: each schedule names it in its DeadLetterConfig, which cdk-nag cannot see.',
    );
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
    deadLetterAlarm(this, 'DeadLetterAlarm', this.deadLetterQueue, props.alarmTopic, props.alarmDescription);
  }
}

export interface SchedulingProps {
  /** The function a schedule starts: dispatch. */
  dispatch: IFunction;
  /** Where the alarm of the schedules' dead-letter queue goes. */
  alarmTopic: ITopic;
}

/**
 * The campaigns' schedules: `pressroom schedule --backend aws` creates them in this group,
 * with this role and dead-letter queue; each invokes dispatch.
 */
export class Scheduling extends ScheduledInvocations {
  constructor(scope: Construct, id: string, props: SchedulingProps) {
    super(scope, id, {
      groupId: 'Campaigns',
      target: props.dispatch,
      alarmTopic: props.alarmTopic,
      roleDescription: 'pressroom: EventBridge Scheduler starts campaigns by invoking the dispatch function',
      alarmDescription:
        'A campaign schedule could not invoke the dispatch function, even after its retries: the campaign did not start. Read the message in the schedules dead-letter queue, then run `pressroom campaign status` and start it again.',
    });
  }
}

/**
 * Pacing by the SES quota (lambdas/core/campaigns/quota.ts): dispatch reads the account's
 * quota (`ses:GetSendQuota`, account-level: resource `*`), enqueues what fits now and puts
 * the next day's slice of the campaign as a one-time schedule of the campaigns' group, with
 * the group's role and dead-letter queue, invoking dispatch itself. The send function puts the
 * same schedule when the quota runs out with no next slice planned (SES answering "Daily
 * message quota exceeded"): the campaign's next quota window (core/campaigns/batch.ts). Each
 * may create and update that group's schedules only, and pass that group's role only, to
 * Scheduler only. (The send function's own `ses:GetSendQuota` is granted with its sending.)
 */
export function allowContinuations(
  scheduling: Scheduling,
  dispatch: PressroomFunction,
  send: PressroomFunction,
): void {
  const why =
    "A campaign's schedule is named after the campaign: the campaigns are not known at deploy time, the group is.";
  allowCampaignSchedules(scheduling, dispatch, ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule'], why);
  allowCampaignSchedules(scheduling, send, ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule'], why);
  send.function.addEnvironment('PRESSROOM_DISPATCH_FUNCTION_ARN', dispatch.function.functionArn);
  dispatch.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['ses:GetSendQuota'], resources: ['*'] }),
  );
  acknowledge(
    dispatch,
    'AwsSolutions-IAM5[Resource::*]',
    'ses:GetSendQuota is an account-level action: IAM accepts no resource but "*" for it.',
  );
}

/**
 * Topic alerts (lambdas/core/alerts/release-alert.ts): publishing a release whose tags an alert
 * list offers schedules the alert's campaign as `pressroom schedule --backend aws` does, a
 * one-time schedule of the campaigns' group invoking dispatch; a waiting alert of a release no
 * longer public is cancelled, its schedule deleted. The publish function may create, update
 * and delete that group's schedules only, and pass that group's role only, to Scheduler only.
 */
export function allowAlerts(scheduling: Scheduling, publish: PressroomFunction, dispatch: IFunction): void {
  publish.function.addEnvironment('PRESSROOM_DISPATCH_FUNCTION_ARN', dispatch.functionArn);
  allowCampaignSchedules(
    scheduling,
    publish,
    ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
    "A release's alert schedule is named after its campaign (alert-<list>-<slug>): the releases are not known at deploy time, the group is.",
  );
}

/**
 * Lets `fn` put one-time schedules in the campaigns' group (the `actions` on its schedules
 * only) with the group's role (passed to Scheduler only) and dead-letter queue, named in its
 * environment.
 */
export function allowCampaignSchedules(
  scheduling: Scheduling,
  fn: PressroomFunction,
  actions: string[],
  why: string,
): void {
  const env = {
    PRESSROOM_CAMPAIGN_SCHEDULE_GROUP: scheduling.group.scheduleGroupName,
    PRESSROOM_CAMPAIGN_SCHEDULER_ROLE_ARN: scheduling.role.roleArn,
    PRESSROOM_CAMPAIGN_SCHEDULE_DEAD_LETTER_ARN: scheduling.deadLetterQueue.queueArn,
  };
  for (const [name, value] of Object.entries(env)) fn.function.addEnvironment(name, value);
  const schedules = Stack.of(scheduling).formatArn({
    service: 'scheduler',
    resource: 'schedule',
    resourceName: `${scheduling.group.scheduleGroupName}/*`,
  });
  fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [schedules] }));
  fn.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [scheduling.role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }),
  );
  acknowledgeWildcardResource(fn, schedules, why);
}
