import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalId, realSender, removeOutdirs, synth } from './stack.ts';

/**
 * Embargoes lift on AWS (lib/embargoes.ts): the lifts' schedule group and the role its
 * schedules run with, the publish function's grants to set lifts there, and the 15-minute
 * safety refresh. The harness (tests/harness/embargo.test.ts) runs the same template.
 */

let t: Template;
let publish: string;
let group: string;
let role: string;
let dlq: string;
beforeAll(() => {
  t = synth(realSender).template;
  publish = logicalId(t, 'AWS::Lambda::Function', 'PublishFunction');
  group = logicalId(t, 'AWS::Scheduler::ScheduleGroup', 'EmbargoLiftsGroup');
  role = logicalId(t, 'AWS::IAM::Role', 'EmbargoLiftsSchedulerRole');
  dlq = logicalId(t, 'AWS::SQS::Queue', 'EmbargoLiftsDeadLetterQueue');
});
afterAll(removeOutdirs);

const arnOf = (logical: string) => ({ 'Fn::GetAtt': [logical, 'Arn'] });
const resources = (type: string) => t.findResources(type);
/** The statements of the AWS::IAM::Policy resources attached to a role. */
const statementsOf = (roleId: string) =>
  Object.values(resources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);

describe('embargo lifts', () => {
  it('have their own schedule group, deleted with the stack, named in an output', () => {
    const resource = resources('AWS::Scheduler::ScheduleGroup')[group];
    expect(resource?.DeletionPolicy).toBe('Delete');
    t.hasOutput('EmbargoScheduleGroupName', { Value: resource?.Properties.Name });
  });

  it('run with a role only Scheduler acting for that group can assume, which may invoke publish and write to its DLQ, nothing else', () => {
    const trust = resources('AWS::IAM::Role')[role]?.Properties;
    expect(trust.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': arnOf(group) },
        },
      },
    ]);
    expect(trust.ManagedPolicyArns).toBeUndefined();
    expect(statementsOf(role)).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: arnOf(publish) },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: arnOf(dlq) },
    ]);
  });

  it('publish may create, update and delete schedules of that group only, and pass that role only, to Scheduler only', () => {
    const publishRole = resources('AWS::Lambda::Function')[publish]?.Properties.Role['Fn::GetAtt'][0];
    const statements = statementsOf(publishRole).filter((s: { Action: string | string[] }) =>
      [s.Action].flat().some((a) => a.startsWith('scheduler:') || a.startsWith('iam:')),
    );
    const groupName = resources('AWS::Scheduler::ScheduleGroup')[group]?.Properties.Name;
    // CDK merges the PassRole of the campaigns' scheduler role (topic alerts, checked with
    // the rest of publish's permissions in tests/infra/iam.test.ts) into this one.
    const passRole = statements.find((s: { Action: string | string[] }) => s.Action === 'iam:PassRole');
    expect(passRole).toMatchObject({
      Effect: 'Allow',
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    expect([passRole?.Resource].flat()).toContainEqual(arnOf(role));
    const schedules = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':scheduler:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:schedule/${groupName}/*`,
        ],
      ],
    };
    // CDK merges the statement of the campaigns' group (topic alerts, the same actions) into
    // this one: the statements that name the group's schedules allow these three actions only.
    const onGroup = statements.filter((s: { Resource: unknown }) =>
      [s.Resource].flat().some((r) => JSON.stringify(r) === JSON.stringify(schedules)),
    );
    expect(onGroup).toHaveLength(1);
    expect(onGroup[0]?.Effect).toBe('Allow');
    expect([onGroup[0]?.Action].flat().sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:UpdateSchedule',
    ]);
    expect(onGroup[0]?.Condition).toBeUndefined();
  });

  it('give publish the group, the role and the dead-letter queue its lifts name', () => {
    const variables = resources('AWS::Lambda::Function')[publish]?.Properties.Environment.Variables;
    expect(variables).toMatchObject({
      PRESSROOM_LIFT_SCHEDULE_GROUP: resources('AWS::Scheduler::ScheduleGroup')[group]?.Properties.Name,
      PRESSROOM_LIFT_ROLE_ARN: arnOf(role),
      PRESSROOM_LIFT_DEAD_LETTER_ARN: arnOf(dlq),
    });
  });

  it('dead-letter into an encrypted queue whose alarm says what to do', () => {
    const queue = resources('AWS::SQS::Queue')[dlq]?.Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).filter((a) =>
      a.Properties.Dimensions?.some((d: { Value: unknown }) => JSON.stringify(d.Value).includes(`"${dlq}"`)),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties.AlarmDescription).toContain('safety refresh');
    expect(alarms[0]?.Properties.AlarmActions).toEqual([
      { Ref: logicalId(t, 'AWS::SNS::Topic', 'NotificationsAlarmTopic') },
    ]);
    t.hasOutput('EmbargoDeadLetterQueueUrl', { Value: { Ref: dlq } });
  });

  it('are backed by a safety refresh: every 15 minutes, { "lift": "embargoes" } to publish, which EventBridge may invoke', () => {
    const rules = Object.entries(resources('AWS::Events::Rule')).filter(([, r]) =>
      r.Properties.Targets.some((target: { Input?: string }) => target.Input?.includes('"lift"')),
    );
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0] as [string, (typeof rules)[number][1]];
    expect(rule.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: arnOf(publish),
        Input: JSON.stringify({ lift: 'embargoes' }),
        RetryPolicy: { MaximumEventAgeInSeconds: 900, MaximumRetryAttempts: 2 },
      }),
    ]);
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: arnOf(publish),
      Principal: 'events.amazonaws.com',
      SourceArn: arnOf(ruleId),
    });
  });
});
