import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { HandlerName } from './functions.ts';

/**
 * What the operators watch and what stops sending by itself (docs/aws.md, "Watching the
 * stack"): alarms mailed through the alarm topic, and one CloudWatch dashboard.
 *
 * - SES reputation: the account's bounce rate above 2 % and complaint rate above 0.05 % (where
 *   AWS advises acting), and at 5 % and 0.1 % (where SES puts an account under review) a
 *   second pair whose changes of state reach the dispatch function, which holds all sending
 *   while they are in alarm (lambdas/core/campaigns/hold.ts).
 * - Each function's errors, and the age of the oldest batch on the send queue. The dead-letter
 *   queues have their own alarms (sending.ts, the stack).
 */

/** SES reputation levels, as fractions (the metrics' unit). */
export const reputationLevels = {
  bounce: { warn: 0.02, review: 0.05 },
  complaint: { warn: 0.0005, review: 0.001 },
} as const;

/** A batch older than this on the send queue means sending is stuck (or far behind). */
export const sendQueueAgeAlarmSeconds = 3600;

/** The namespace of pressroom's own metrics (Powertools Metrics in the send function). */
export const metricsNamespace = 'pressroom';

export interface MonitoringProps {
  alarmTopic: ITopic;
  functions: Record<HandlerName, IFunction>;
  sendQueue: IQueue;
  /** Every dead-letter queue, by what it holds (for the dashboard). */
  deadLetterQueues: Record<string, IQueue>;
  /** The function that holds and releases sending (its event: { hold, alarm, reason }). */
  holdTarget: IFunction;
}

export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  /** The alarms at SES's review levels, whose state holds sending. */
  readonly holdAlarms: Alarm[];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const action = new SnsAction(props.alarmTopic);
    const alarm = (name: string, description: string, metric: IMetric, threshold: number, periods = 1) => {
      const made = new Alarm(this, name, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      made.addAlarmAction(action);
      made.addOkAction(action);
      this.alarms.push(made);
      return made;
    };

    const bounceRate = sesMetric('Reputation.BounceRate', 'Maximum', Duration.minutes(15));
    const complaintRate = sesMetric('Reputation.ComplaintRate', 'Maximum', Duration.minutes(15));
    const percent = (n: number) => `${+(n * 100).toFixed(2)} %`;
    const { bounce, complaint } = reputationLevels;
    alarm(
      'BounceRate',
      `The SES bounce rate of the account is ${percent(bounce.warn)} or more: clean the lists (hard bounces are suppressed already; look for old or bought addresses) before SES reviews the account at ${percent(bounce.review)}.`,
      bounceRate,
      bounce.warn,
    );
    alarm(
      'ComplaintRate',
      `The SES complaint rate of the account is ${percent(complaint.warn)} or more: recipients mark the mail as spam. Check who is mailed and why (lists, consent) before SES reviews the account at ${percent(complaint.review)}.`,
      complaintRate,
      complaint.warn,
    );
    this.holdAlarms = [
      alarm(
        'BounceRateReview',
        `The SES bounce rate is ${percent(bounce.review)} or more, where SES reviews the account: pressroom holds all sending (every campaign being sent is paused) until it is back under the level. Clean the lists, then resume the campaigns.`,
        bounceRate,
        bounce.review,
      ),
      alarm(
        'ComplaintRateReview',
        `The SES complaint rate is ${percent(complaint.review)} or more, where SES reviews the account: pressroom holds all sending (every campaign being sent is paused) until it is back under the level. Find the cause, then resume the campaigns.`,
        complaintRate,
        complaint.review,
      ),
    ];

    const doing: Record<HandlerName, string> = {
      publish: 'a publication or a lift could not be published',
      dispatch:
        'a campaign could not start (its record says why: `pressroom campaign status <name> --backend aws`)',
      send: 'a batch of recipients failed (it is retried, then kept in the dead-letter queue)',
      feedback: 'SES feedback (bounces, complaints) could not be applied (it is retried, then kept)',
      public: 'an unsubscribe, subscribe or confirm request failed (the visitor got an error page)',
      admin: 'a web admin request failed (the person got "Internal error")',
    };
    for (const [name, fn] of Object.entries(props.functions) as [HandlerName, IFunction][]) {
      alarm(
        `${capitalized(name)}Errors`,
        `The ${name} function failed: ${doing[name]}. Read its logs.`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
      );
    }
    const queueAge = props.sendQueue.metric('ApproximateAgeOfOldestMessage', {
      period: Duration.minutes(5),
      statistic: 'Maximum',
    });
    alarm(
      'SendQueueAge',
      `A batch of recipients has waited on the send queue for an hour or more: the send function is failing, throttled, or far behind. Read its logs and \`pressroom campaign status <name> --backend aws\`.`,
      queueAge,
      sendQueueAgeAlarmSeconds,
      3,
    );

    // The review alarms' changes of state hold and release sending.
    new Rule(this, 'ReputationHold', {
      description: 'pressroom: holds all sending while the SES reputation is at the review levels',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: this.holdAlarms.map((a) => a.alarmArn),
      },
      targets: [
        new LambdaFunction(props.holdTarget, {
          event: RuleTargetInput.fromObject({
            hold: EventField.fromPath('$.detail.state.value'),
            alarm: EventField.fromPath('$.detail.alarmName'),
            reason: EventField.fromPath('$.detail.state.reason'),
          }),
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
    });
    const perMinute = (metric: string, label: string) =>
      sesMetric(metric, 'Sum', Duration.minutes(1)).with({ label });
    const own = (metric: string, label: string) =>
      new Metric({
        namespace: metricsNamespace,
        metricName: metric,
        dimensionsMap: { service: 'pressroom' },
        statistic: 'Sum',
        period: Duration.minutes(1),
        label,
      });
    const asPercent = (metric: IMetric, label: string) =>
      new MathExpression({
        expression: 'm * 100',
        usingMetrics: { m: metric },
        label,
        period: Duration.minutes(15),
      });
    const fns = Object.entries(props.functions) as [HandlerName, IFunction][];
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# pressroom\nSending, reputation, functions and queues. Alarms go to the alarm topic (`AlarmTopicArn`); at the review levels sending is held (docs/aws.md, "Watching the stack").',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Sent per minute',
        left: [
          own('Sent', 'sent (pressroom)'),
          own('Failed', 'failed (pressroom)'),
          own('Throttled', 'throttled (pressroom)'),
          perMinute('Send', 'accepted by SES'),
          perMinute('Delivery', 'delivered'),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Bounces, complaints, rejects per minute',
        left: [
          perMinute('Bounce', 'bounces'),
          perMinute('Complaint', 'complaints'),
          perMinute('Reject', 'rejects'),
        ],
        width: 12,
      }),
    );
    const rateGraph = (title: string, metric: IMetric, levels: { warn: number; review: number }) =>
      new GraphWidget({
        title,
        left: [asPercent(metric, title.toLowerCase())],
        leftAnnotations: [
          { value: levels.warn * 100, label: 'alarm', color: '#ff7f0e' },
          { value: levels.review * 100, label: 'SES review: sending held', color: '#d62728' },
        ],
        width: 12,
      });
    this.dashboard.addWidgets(
      rateGraph('Bounce rate (%)', bounceRate, bounce),
      rateGraph('Complaint rate (%)', complaintRate, complaint),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: fns.map(([name, fn]) =>
          fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum', label: name }),
        ),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function throttles',
        left: fns.map(([name, fn]) =>
          fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum', label: name }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Send queue: batches waiting and in flight',
        left: [
          props.sendQueue.metricApproximateNumberOfMessagesVisible({ label: 'waiting' }),
          props.sendQueue.metricApproximateNumberOfMessagesNotVisible({ label: 'in flight' }),
        ],
        right: [queueAge.with({ label: 'oldest (s)' })],
        width: 12,
      }),
      new GraphWidget({
        title: 'Dead-letter queues',
        left: Object.entries(props.deadLetterQueues).map(([label, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ label, statistic: 'Maximum' }),
        ),
        width: 12,
      }),
    );
  }
}

/** An SES metric of the account (no dimension: what SES reviews is the account). */
function sesMetric(name: string, statistic: string, period: Duration): Metric {
  return new Metric({ namespace: 'AWS/SES', metricName: name, statistic, period });
}

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
