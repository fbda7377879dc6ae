import { afterAll, describe, expect, it } from 'vitest';
import { removeOutdirs, synth } from '../infra/stack.ts';
import type { CfnTemplate } from './assembly.ts';
import { evaluate, type PolicyDocument } from './iam.ts';
import { ACCOUNT, REGION, TemplateValues } from './template.ts';

/**
 * What each AWS service needs from the template to call the next one, decided by the
 * harness's evaluator with the context keys the service sends: S3 and SNS invoking their
 * functions, SES publishing its events to an encrypted topic, the SQS event source polling
 * with the function's role, failed invocations reaching their dead-letter queues, logs.
 * Every check walks the template's own wiring, and asserts it found something to check.
 */

afterAll(removeOutdirs);

const { stack, template } = synth({ sender: 'presse@villes-internet.net' }, { nag: false });
const values = new TemplateValues(template.toJSON() as CfnTemplate, stack.stackName);
const props = (id: string) => values.resolve(values.resource(id).Properties) as Record<string, unknown>;
/** Requests as AWS makes them: over TLS (the policies deny anything else). */
const tls = { 'aws:SecureTransport': 'true' };
const decide = (
  documents: PolicyDocument[],
  service: string,
  action: string,
  resource: string,
  context: Record<string, string>,
) =>
  evaluate(documents, { action, resource, principal: { service }, context: { ...tls, ...context } }).effect;
// CDK's own deploy-time handler (bucket notifications) runs with an AWS managed policy.
const functions = values
  .ofType('AWS::Lambda::Function')
  .filter((id) => !id.startsWith('BucketNotificationsHandler'));
const roleOf = (functionId: string) =>
  (values.resource(functionId).Properties as { Role: { 'Fn::GetAtt': [string] } }).Role['Fn::GetAtt'][0];
const roleAllows = (functionId: string, action: string, resource: string) =>
  evaluate(values.rolePolicies(roleOf(functionId)), { action, resource }).effect;

describe('service integrations as the template wires them', () => {
  it('S3 may invoke the function of each bucket notification, for that bucket and account only', () => {
    const configs = values.ofType('Custom::S3BucketNotifications').flatMap((id) => {
      const p = props(id) as {
        BucketName: string;
        NotificationConfiguration: { LambdaFunctionConfigurations?: { LambdaFunctionArn: string }[] };
      };
      return (p.NotificationConfiguration.LambdaFunctionConfigurations ?? []).map((c) => ({
        bucket: p.BucketName,
        fn: c.LambdaFunctionArn,
      }));
    });
    expect(configs.length).toBeGreaterThan(0);
    for (const { bucket, fn } of configs) {
      const policy = [values.lambdaPolicy(fn)];
      const context = { 'aws:SourceArn': `arn:aws:s3:::${bucket}`, 'aws:SourceAccount': ACCOUNT };
      expect(decide(policy, 's3.amazonaws.com', 'lambda:InvokeFunction', fn, context)).toBe('allow');
      expect(
        decide(policy, 's3.amazonaws.com', 'lambda:InvokeFunction', fn, {
          ...context,
          'aws:SourceArn': 'arn:aws:s3:::another-bucket',
        }),
      ).toBe('implicit-deny');
    }
  });

  it('SES may publish each configuration set event to its topic, and encrypt it with the topic key', () => {
    const destinations = values.ofType('AWS::SES::ConfigurationSetEventDestination').map(
      (id) =>
        props(id) as {
          ConfigurationSetName: string;
          EventDestination: { SnsDestination?: { TopicARN: string } };
        },
    );
    const sns = destinations.filter((d) => d.EventDestination.SnsDestination);
    expect(sns.length).toBeGreaterThan(0);
    for (const d of sns) {
      const topic = d.EventDestination.SnsDestination?.TopicARN as string;
      // SES publishes as its configuration set: https://docs.aws.amazon.com/ses/latest/dg/event-publishing-add-event-destination-sns.html
      const context = {
        'aws:SourceAccount': ACCOUNT,
        'aws:SourceArn': values.getAtt(
          values.logicalIdOf('AWS::SES::ConfigurationSet', d.ConfigurationSetName) as string,
          'Arn',
        ),
      };
      expect(
        decide(
          values.attachedPolicies('AWS::SNS::TopicPolicy', topic),
          'ses.amazonaws.com',
          'sns:Publish',
          topic,
          context,
        ),
      ).toBe('allow');
      const topicId = values.logicalIdOf('AWS::SNS::Topic', topic) as string;
      const key = props(topicId).KmsMasterKeyId as string | undefined;
      if (key) {
        for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
          expect(decide([values.keyPolicy(key)], 'ses.amazonaws.com', action, key, context), action).toBe(
            'allow',
          );
        }
      }
    }
  });

  it('SNS may invoke each subscribed function for its topic, and put what fails in the redrive queue', () => {
    const subscriptions = values.ofType('AWS::SNS::Subscription').map(
      (id) =>
        props(id) as {
          TopicArn: string;
          Protocol: string;
          Endpoint: string;
          RedrivePolicy?: { deadLetterTargetArn: string };
        },
    );
    const lambdas = subscriptions.filter((s) => s.Protocol === 'lambda');
    expect(lambdas.length).toBeGreaterThan(0);
    for (const s of lambdas) {
      const context = { 'aws:SourceArn': s.TopicArn, 'aws:SourceAccount': ACCOUNT };
      expect(
        decide(
          [values.lambdaPolicy(s.Endpoint)],
          'sns.amazonaws.com',
          'lambda:InvokeFunction',
          s.Endpoint,
          context,
        ),
      ).toBe('allow');
      if (s.RedrivePolicy) {
        const queueArn = s.RedrivePolicy.deadLetterTargetArn;
        const queueUrl = values.ref(values.logicalIdOf('AWS::SQS::Queue', queueArn, 'Arn') as string);
        expect(
          decide(
            values.attachedPolicies('AWS::SQS::QueuePolicy', queueUrl),
            'sns.amazonaws.com',
            'sqs:SendMessage',
            queueArn,
            context,
          ),
        ).toBe('allow');
      }
    }
  });

  it('each SQS event source polls with its function role: receive, delete, change visibility, read attributes', () => {
    const mappings = values
      .ofType('AWS::Lambda::EventSourceMapping')
      .map((id) => props(id) as { EventSourceArn: string; FunctionName: string });
    expect(mappings.length).toBeGreaterThan(0);
    for (const m of mappings) {
      const fn = values.logicalIdOf('AWS::Lambda::Function', m.FunctionName) as string;
      for (const action of [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
      ]) {
        expect(roleAllows(fn, action, m.EventSourceArn), `${fn} ${action}`).toBe('allow');
      }
    }
  });

  it('each function may send its failed asynchronous events to its dead-letter queue, and write its logs', () => {
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      const p = props(fn) as {
        DeadLetterConfig?: { TargetArn: string };
        LoggingConfig?: { LogGroup?: string };
      };
      if (p.DeadLetterConfig)
        expect(roleAllows(fn, 'sqs:SendMessage', p.DeadLetterConfig.TargetArn), fn).toBe('allow');
      const group = p.LoggingConfig?.LogGroup ?? `/aws/lambda/${values.ref(fn)}`;
      const stream = `arn:aws:logs:eu-west-3:${ACCOUNT}:log-group:${group}:log-stream:2026/01/01/[$LATEST]abc`;
      for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
        expect(roleAllows(fn, action, stream), `${fn} ${action}`).toBe('allow');
      }
    }
  });

  it('anyone may call each Function URL with auth NONE: both permissions Lambda asks for since October 2025', () => {
    const urls = values
      .ofType('AWS::Lambda::Url')
      .map((id) => props(id) as { TargetFunctionArn: string; AuthType: string });
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) {
      const context = { 'lambda:FunctionUrlAuthType': u.AuthType, 'lambda:InvokedViaFunctionUrl': 'true' };
      const policy = [values.lambdaPolicy(u.TargetFunctionArn)];
      const anyone = (action: string) =>
        evaluate(policy, { action, resource: u.TargetFunctionArn, principal: {}, context }).effect;
      expect(anyone('lambda:InvokeFunctionUrl')).toBe('allow');
      expect(anyone('lambda:InvokeFunction')).toBe('allow');
    }
  });

  it('CloudWatch may encrypt what each alarm publishes to its encrypted topic', () => {
    const actions = values
      .ofType('AWS::CloudWatch::Alarm')
      .flatMap((id) => (props(id).AlarmActions as string[] | undefined) ?? []);
    expect(actions.length).toBeGreaterThan(0);
    for (const topic of actions) {
      const key = props(values.logicalIdOf('AWS::SNS::Topic', topic) as string).KmsMasterKeyId as
        | string
        | undefined;
      if (!key) continue;
      for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        expect(
          decide([values.keyPolicy(key)], 'cloudwatch.amazonaws.com', action, key, {
            'aws:SourceAccount': ACCOUNT,
          }),
          action,
        ).toBe('allow');
      }
    }
  });

  it('CloudWatch may publish each alarm to its topic (the SSL-only topic policy replaced the default), for this account only', () => {
    const alarms = values.ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const id of alarms) {
      // CloudFormation names an alarm after the stack and its logical id.
      const alarmArn = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${stack.stackName}-${id}-ABC123`;
      for (const topic of (props(id).AlarmActions as string[] | undefined) ?? []) {
        const policies = values.attachedPolicies('AWS::SNS::TopicPolicy', topic);
        const publish = (context: Record<string, string>) =>
          decide(policies, 'cloudwatch.amazonaws.com', 'sns:Publish', topic, context);
        // https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html (CloudWatch alarms)
        expect(publish({ 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': alarmArn }), id).toBe('allow');
        expect(
          publish({
            'aws:SourceAccount': '999999999999',
            'aws:SourceArn': alarmArn.replace(ACCOUNT, '999999999999'),
          }),
        ).toBe('implicit-deny');
        // Not over plain HTTP: the SSL-only statement still denies it.
        expect(
          evaluate(policies, {
            action: 'sns:Publish',
            resource: topic,
            principal: { service: 'cloudwatch.amazonaws.com' },
            context: {
              'aws:SecureTransport': 'false',
              'aws:SourceAccount': ACCOUNT,
              'aws:SourceArn': alarmArn,
            },
          }).effect,
        ).toBe('explicit-deny');
        // Nobody else gained anything.
        expect(
          decide(policies, 'events.amazonaws.com', 'sns:Publish', topic, { 'aws:SourceAccount': ACCOUNT }),
        ).toBe('implicit-deny');
      }
    }
  });
});
