import { Duration, Stack } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { PressroomFunction } from './functions.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import { ScheduledInvocations } from './scheduling.ts';

export interface EmbargoLiftsProps {
  /** The publish function: it sets the lifts and runs them. */
  publish: PressroomFunction;
  /** Where the alarm of the lifts' dead-letter queue goes. */
  alarmTopic: ITopic;
}

/** How often the safety refresh looks for embargoes that passed without their lift. */
export const safetyRefreshMinutes = 15;

/** What the lifts and the safety refresh send the publish function (lambdas/handlers/publish.ts). */
export const liftEvent = { lift: 'embargoes' } as const;

/**
 * Embargoes lift on AWS. Publishing an embargoed release makes the publish function create
 * a one-time schedule in this group at the embargo's instant, which invokes it again with
 * `{"lift": "embargoes"}`: due releases are published and the press room refreshed. Every
 * 15 minutes a rule sends the same event, so that a lift that failed (its dead-letter alarm
 * fires) or was never set still happens within 15 minutes.
 *
 * The publish function may create, update and delete schedules of this group only, and pass
 * only this group's role, to Scheduler only; that role may invoke the publish function only.
 */
export class EmbargoLifts extends ScheduledInvocations {
  readonly safetyRefresh: Rule;

  constructor(scope: Construct, id: string, props: EmbargoLiftsProps) {
    const publish = props.publish;
    super(scope, id, {
      groupId: 'Group',
      target: publish.function,
      alarmTopic: props.alarmTopic,
      roleDescription: 'pressroom: EventBridge Scheduler lifts embargoes by invoking the publish function',
      alarmDescription: `An embargo's lift could not invoke the publish function, even after its retries. The safety refresh (every ${safetyRefreshMinutes} minutes) publishes the release unless the publish function itself fails: read its logs and the message in the lifts' dead-letter queue.`,
    });

    const env = {
      PRESSROOM_LIFT_SCHEDULE_GROUP: this.group.scheduleGroupName,
      PRESSROOM_LIFT_ROLE_ARN: this.role.roleArn,
      PRESSROOM_LIFT_DEAD_LETTER_ARN: this.deadLetterQueue.queueArn,
    };
    for (const [name, value] of Object.entries(env)) publish.function.addEnvironment(name, value);

    // A lift is named after its release: republished with another embargo, the schedule is
    // updated in place. Scheduler deletes it once run; a release withdrawn under its embargo
    // has it deleted, by publish (the web admin's withdrawal requests) or by `archive withdraw
    // --backend aws` (the operator's credentials).
    const schedules = Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.group.scheduleGroupName}/*`,
    });
    publish.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
        resources: [schedules],
      }),
    );
    publish.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    acknowledgeWildcardResource(
      publish,
      schedules,
      'One schedule per embargoed release, named after its slug: the releases are not known at deploy time, the group is.',
    );

    // Missed lifts: Scheduler gave up (dead-letter queue), or publishing stopped between
    // archiving the release and creating its schedule. 96 invocations a day that read
    // catalog/pending.json and stop there when nothing is due: well inside Lambda's free tier.
    this.safetyRefresh = new Rule(this, 'SafetyRefresh', {
      description: `pressroom: publishes the releases whose embargo has passed, every ${safetyRefreshMinutes} minutes, in case a lift was missed`,
      schedule: Schedule.rate(Duration.minutes(safetyRefreshMinutes)),
      targets: [
        new LambdaFunction(publish.function, {
          event: RuleTargetInput.fromObject(liftEvent),
          // The next refresh comes soon: a missed one is not worth retrying for long.
          retryAttempts: 2,
          maxEventAge: Duration.minutes(safetyRefreshMinutes),
        }),
      ],
    });
  }
}
