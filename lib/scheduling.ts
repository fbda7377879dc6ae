import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface SchedulingProps {
  /** The function a schedule starts: dispatch. */
  dispatch: IFunction;
}

/**
 * EventBridge Scheduler: the group that holds the campaigns' one-time schedules
 * (`pressroom schedule --backend aws` creates them, with ActionAfterCompletion DELETE),
 * and the role Scheduler assumes to run them. That role can invoke dispatch and nothing
 * else, and only schedules of this group, in this account, can assume it.
 */
export class Scheduling extends Construct {
  readonly group: ScheduleGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: SchedulingProps) {
    super(scope, id);
    this.group = new ScheduleGroup(this, 'Campaigns', {});
    const stack = Stack.of(this);
    this.role = new Role(this, 'SchedulerRole', {
      description: 'pressroom: EventBridge Scheduler starts campaigns by invoking the dispatch function',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'scheduler',
              resource: 'schedule',
              resourceName: `${this.group.scheduleGroupName}/*`,
            }),
          },
        },
      }),
    });
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.dispatch.functionArn] }),
    );
  }
}
