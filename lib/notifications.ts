import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationsProps {
  /** Mailed when an alarm fires (the subscription must be confirmed from that mailbox). */
  alarmEmail?: string;
}

/**
 * The key that encrypts the stack's SNS topics (SES feedback carries recipients'
 * addresses), and the topic alarms are published to.
 */
export class Notifications extends Construct {
  readonly key: Key;
  readonly alarmTopic: Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const { account, partition, region } = Stack.of(this);
    this.key = new Key(this, 'TopicKey', {
      description: 'pressroom: encrypts the SES feedback and alarm topics',
      enableKeyRotation: true,
      // It only encrypts messages in flight: nothing is left to decrypt once the topics are gone.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // SES (feedback events) and CloudWatch (alarms) publish to the encrypted topics. The
    // AWS-managed SNS key cannot be shared with them, hence this customer-managed key.
    // In a key policy, "*" means this key.
    for (const service of ['ses.amazonaws.com', 'cloudwatch.amazonaws.com']) {
      this.key.addToResourcePolicy(
        new PolicyStatement({
          principals: [new ServicePrincipal(service)],
          actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': account } },
        }),
      );
    }
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'pressroom alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default one (the
    // account's principals may publish): without this statement CloudWatch's sns:Publish is
    // denied and no alarm reaches anyone. The form is AWS's ("Allow CloudWatch alarms to
    // publish to a topic", SNS developer guide): the service, this account, its alarms.
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
  }
}
