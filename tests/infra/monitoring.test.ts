import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalId, realSender, removeOutdirs, synth } from './stack.ts';

/**
 * What the operators watch (lib/monitoring.ts): the alarms mailed through the alarm topic,
 * the rule that holds sending at SES's review levels, and the dashboard. The harness
 * (tests/harness/monitoring.test.ts) runs the rule's event through the real dispatch bundle.
 */

let t: Template;
let topic: string;
let dispatch: string;
beforeAll(() => {
  t = synth({ ...realSender, alarmEmail: 'alertes@villes-internet.net' }).template;
  topic = logicalId(t, 'AWS::SNS::Topic', 'NotificationsAlarmTopic');
  dispatch = logicalId(t, 'AWS::Lambda::Function', 'DispatchFunction');
});
afterAll(removeOutdirs);

interface AlarmProperties {
  MetricName?: string;
  Namespace?: string;
  Threshold: number;
  ComparisonOperator: string;
  AlarmActions: unknown[];
  OKActions?: unknown[];
  Dimensions?: { Name: string; Value: unknown }[];
  AlarmDescription: string;
  TreatMissingData: string;
}
const alarms = () =>
  Object.entries(t.findResources('AWS::CloudWatch::Alarm')).map(
    ([id, r]) => [id, r.Properties as AlarmProperties] as const,
  );
const alarmOn = (namespace: string, metric: string, threshold: number) =>
  alarms().filter(
    ([, p]) => p.Namespace === namespace && p.MetricName === metric && p.Threshold === threshold,
  );

describe('alarms', () => {
  it('mail every alarm to the alarm topic, which the configured address is subscribed to', () => {
    const all = alarms();
    // Six dead-letter queues, four reputation levels, five functions' errors, the queue's age.
    expect(all.length).toBeGreaterThanOrEqual(16);
    for (const [id, p] of all) {
      expect(p.AlarmActions, id).toEqual([{ Ref: topic }]);
      expect(p.TreatMissingData, id).toBe('notBreaching');
      expect(p.AlarmDescription.length, id).toBeGreaterThan(40);
    }
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'alertes@villes-internet.net',
      TopicArn: { Ref: topic },
    });
  });

  it('watch the SES bounce rate at 2 % and 5 %, the complaint rate at 0.05 % and 0.1 %, for the account', () => {
    for (const [metric, levels] of [
      ['Reputation.BounceRate', [0.02, 0.05]],
      ['Reputation.ComplaintRate', [0.0005, 0.001]],
    ] as const) {
      for (const level of levels) {
        const found = alarmOn('AWS/SES', metric, level);
        expect(found, `${metric} ≥ ${level}`).toHaveLength(1);
        const [, p] = found[0] as (typeof found)[number];
        expect(p.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
        expect(p.Dimensions).toBeUndefined();
        expect(p.OKActions).toEqual([{ Ref: topic }]);
      }
    }
  });

  it('watch the errors of each function, and the age of the oldest batch on the send queue', () => {
    const functions = Object.keys(t.findResources('AWS::Lambda::Function')).filter((id) =>
      /^(Publish|Dispatch|Send|Feedback|Public)Function/.test(id),
    );
    expect(functions).toHaveLength(5);
    for (const fn of functions) {
      const found = alarms().filter(
        ([, p]) =>
          p.MetricName === 'Errors' &&
          p.Namespace === 'AWS/Lambda' &&
          JSON.stringify(p.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: fn } }]),
      );
      expect(found, fn).toHaveLength(1);
      expect(found[0]?.[1].Threshold).toBe(1);
    }
    const queue = logicalId(t, 'AWS::SQS::Queue', 'SendingQueue');
    const age = alarmOn('AWS/SQS', 'ApproximateAgeOfOldestMessage', 3600);
    expect(age).toHaveLength(1);
    expect(age[0]?.[1].Dimensions).toEqual([
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } },
    ]);
  });
});

describe('the sending hold', () => {
  it('a rule passes the review-level alarms’ changes of state to dispatch, and only theirs', () => {
    const review = [
      ...alarmOn('AWS/SES', 'Reputation.BounceRate', 0.05),
      ...alarmOn('AWS/SES', 'Reputation.ComplaintRate', 0.001),
    ].map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] }));
    expect(review).toHaveLength(2);
    const rules = Object.values(t.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern?.['detail-type']?.[0] === 'CloudWatch Alarm State Change',
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.Properties;
    expect(rule.EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      resources: review,
    });
    expect(rule.Targets).toHaveLength(1);
    const target = rule.Targets[0];
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [dispatch, 'Arn'] });
    expect(target.InputTransformer.InputPathsMap).toEqual({
      'detail-state-value': '$.detail.state.value',
      'detail-alarmName': '$.detail.alarmName',
      'detail-state-reason': '$.detail.state.reason',
    });
    expect(JSON.parse(target.InputTransformer.InputTemplate.replace(/<([\w-]+)>/g, '"$1"'))).toEqual({
      hold: 'detail-state-value',
      alarm: 'detail-alarmName',
      reason: 'detail-state-reason',
    });
  });
});

describe('the dashboard', () => {
  it('shows sending, reputation, function errors and throttles, and the queues; its name is an output', () => {
    const id = logicalId(t, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard');
    t.hasOutput('DashboardName', { Value: { Ref: id } });
    const body = JSON.stringify(t.findResources('AWS::CloudWatch::Dashboard')[id]?.Properties.DashboardBody);
    for (const title of [
      'Sent per minute',
      'Bounce rate (%)',
      'Complaint rate (%)',
      'Function errors',
      'Function throttles',
      'Send queue: batches waiting and in flight',
      'Dead-letter queues',
    ])
      expect(body).toContain(title);
    for (const metric of [
      'Reputation.BounceRate',
      'Reputation.ComplaintRate',
      'Throttles',
      'Sent',
      'Failed',
      'Throttled',
    ])
      expect(body).toContain(metric);
  });
});
