import { Annotations, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { S3EventSourceV2, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { EventType } from 'aws-cdk-lib/aws-s3';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { translationKeys } from '../lambdas/core/archive/translation-groups.ts';
import { sendingHoldKey } from '../lambdas/core/campaigns/hold.ts';
import { Admin } from './admin.ts';
import { ChromiumLayer } from './chromium.ts';
import { isPlaceholderDomain, type PressroomConfig } from './config.ts';
import { Digests } from './digests.ts';
import { EmbargoLifts } from './embargoes.ts';
import { PressroomFunction, projectRoot } from './functions.ts';
import { LedgerTable } from './ledger-table.ts';
import { Mail } from './mail.ts';
import { Monitoring } from './monitoring.ts';
import { acknowledge } from './nag.ts';
import { Notifications } from './notifications.ts';
import { allowAlerts, allowContinuations, Scheduling } from './scheduling.ts';
import { deadLetterAlarm, Sending } from './sending.ts';
import { sendingPlan } from './sending-plan.ts';
import { Site } from './site.ts';
import { Storage } from './storage.ts';

export interface PressroomStackProps extends StackProps {
  config: PressroomConfig;
}

/**
 * The whole serverless pipeline in one stack: the data bucket and the press room
 * (CloudFront), the five functions, the sending queue, SES, EventBridge Scheduler and the
 * signing secret. lib/README.md describes the contract with the handlers.
 */
export class PressroomStack extends Stack {
  readonly storage: Storage;
  readonly ledger: LedgerTable;
  readonly site: Site;
  readonly mail: Mail;
  readonly sending: Sending;
  readonly scheduling: Scheduling;
  readonly embargoLifts: EmbargoLifts;
  readonly digests: Digests;
  readonly monitoring: Monitoring;
  readonly signingSecret: ISecret;
  readonly admin: Admin;
  readonly functions: Record<
    'publish' | 'dispatch' | 'send' | 'feedback' | 'public' | 'admin',
    PressroomFunction
  >;

  constructor(scope: Construct, id: string, props: PressroomStackProps) {
    super(scope, id, props);
    const config = props.config;
    if (isPlaceholderDomain(config.senderDomain)) {
      Annotations.of(this).addWarningV2(
        'pressroom:placeholder-sender',
        `sender "${config.sender}" is a placeholder: SES will never verify ${config.senderDomain}. ` +
          'Deploy with your own address: -c sender=press@your-domain.org',
      );
    }

    const notifications = new Notifications(this, 'Notifications', {
      ...(config.alarmEmail && { alarmEmail: config.alarmEmail }),
    });
    this.storage = new Storage(this, 'Storage', {
      noncurrentVersionDays: config.noncurrentVersionDays,
      logRetentionDays: config.logRetentionDays,
    });
    const bucket = this.storage.dataBucket;
    this.site = new Site(this, 'Site', {
      dataBucket: bucket,
      logsBucket: this.storage.logsBucket,
      ...(config.site && {
        domain: { name: config.site.domain, certificateArn: config.site.certificateArn },
      }),
      ...(config.webAclArn && { webAclArn: config.webAclArn }),
    });
    this.storage.confineCloudFrontToSite();
    this.mail = new Mail(this, 'Mail', {
      senderDomain: config.senderDomain,
      topicKey: notifications.key,
      ...(config.existingSesIdentity && { existingIdentity: config.existingSesIdentity }),
    });
    const plan = sendingPlan(config.sendRate);
    this.sending = new Sending(this, 'Sending', { plan, alarmTopic: notifications.alarmTopic });

    if (config.signingSecretArn) {
      this.signingSecret = Secret.fromSecretCompleteArn(this, 'SigningSecret', config.signingSecretArn);
    } else {
      const secret = new Secret(this, 'SigningSecret', {
        description:
          'pressroom: signs unsubscribe and confirmation links and derives contact ids. Never change it once contacts exist.',
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'Rotating this key would change every contact id and invalidate every unsubscribe link already mailed.',
      );
      this.signingSecret = secret;
    }

    // Each function gets the variables its handler reads, and no other (lib/README.md lists
    // them; tests/infra/environment.test.ts holds each function to its handler's reads).
    // The SES identity campaigns are sent from: the functions may send from it only.
    const senderIdentity = config.existingSesIdentity ?? config.senderDomain;
    const bucketName = { PRESSROOM_BUCKET: bucket.bucketName };
    // The delivery ledger and the campaigns' counters (LedgerTable): dispatch and send only.
    this.ledger = new LedgerTable(this, 'Ledger');
    const ledgerTableName = { PRESSROOM_LEDGER_TABLE: this.ledger.table.tableName };
    const siteUrl = { PRESSROOM_SITE_URL: this.site.url };
    const siteLang = { PRESSROOM_SITE_LANG: config.siteLang };
    const siteTitle: Record<string, string> =
      config.siteTitle !== undefined ? { PRESSROOM_SITE_TITLE: config.siteTitle } : {};
    // The sender of campaigns is their own `from`, of confirmations their list's: no function
    // reads the configured sender, which SES's identity is made from.
    const mailing = {
      PRESSROOM_SES_CONFIGURATION_SET: this.mail.configurationSet.configurationSetName,
      ...(config.unsubscribeMailto !== undefined && {
        PRESSROOM_UNSUBSCRIBE_MAILTO: config.unsubscribeMailto,
      }),
    };
    const secretArn = { PRESSROOM_SECRET_ARN: this.signingSecret.secretArn };

    // Links in mails are on the press room's domain: CloudFront sends the endpoint's paths to
    // the public function (Site.routeEndpoint). The public function knows that address only
    // with a custom domain (CloudFront's own is made after the function); otherwise it takes
    // the host the request came to.
    const linksUrl = { PRESSROOM_PUBLIC_URL: this.site.url };
    const publicFn = new PressroomFunction(this, 'Public', {
      handler: 'public',
      description: 'pressroom: unsubscribe (page and RFC 8058 one-click), subscribe and confirm',
      memorySize: 512,
      timeout: Duration.seconds(15),
      config,
      withTemplates: true,
      environment: {
        ...bucketName,
        ...siteLang,
        ...mailing,
        ...secretArn,
        ...(config.site && linksUrl),
        PRESSROOM_CONFIRMATIONS_PER_HOUR: String(config.confirmationsPerHour),
      },
    });
    // Open (auth NONE): links mailed with this URL before keep working (Site.routeEndpoint).
    const publicUrl = publicFn.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    const originSecret = this.site.routeEndpoint(publicUrl);
    publicFn.function.addEnvironment('PRESSROOM_ORIGIN_SECRET_ARN', originSecret.secretArn);
    publicFn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [originSecret.secretArn],
      }),
    );

    const publish = new PressroomFunction(this, 'Publish', {
      handler: 'publish',
      description: 'pressroom: renders and archives a publication dropped under publications/',
      // Publishing the reference release with its PDF peaked at 510 MB (Node 350, Chromium 165)
      // and took 5-27 s cold, 1-6 s warm on a busy 2-core machine (docs/aws.md, "PDFs on
      // Lambda"): 2048 MB is 4× that peak, and over the 1,769 MB at which Lambda gives a whole
      // vCPU. The PDF has 60 s (pdfBudgetMs) of the 5 minutes.
      memorySize: 2048,
      timeout: Duration.minutes(5),
      config,
      withTemplates: true,
      chromium: new ChromiumLayer(this, 'Chromium', { projectRoot }),
      // S3 notifications, lifts and the safety refresh invoke it asynchronously: an event it
      // failed on three times (Lambda's two retries) is kept here, not dropped.
      deadLetterQueue: this.alarmedDeadLetters(
        'PublishDeadLetter',
        notifications.alarmTopic,
        "The publish function failed three times on an event (an upload under publications/, a withdrawal request, or an embargo lift): read the message and the function's logs, fix the cause, then upload the .md again, withdraw the release again, or send the lift event again.",
      ),
      environment: { ...bucketName, ...siteUrl, ...siteLang, ...siteTitle },
    });

    const dispatch = new PressroomFunction(this, 'Dispatch', {
      handler: 'dispatch',
      description: 'pressroom: starts a campaign and queues its recipients in batches',
      memorySize: 1024,
      // A million recipients: what is alive stays under 300 MB, but without a limit V8 let the
      // heap grow to a 548 MB peak before collecting; with 384 MB the bench's peak is well under
      // 512 MB for about a fifth more CPU (docs/performance.md, "AWS dispatch").
      maxOldSpaceMb: 384,
      timeout: Duration.minutes(15),
      config,
      // Scheduler and the command line invoke it asynchronously: a campaign whose start failed
      // three times (Lambda's two retries) is kept here with its payload, not dropped.
      deadLetterQueue: this.alarmedDeadLetters(
        'DispatchDeadLetter',
        notifications.alarmTopic,
        "The dispatch function failed three times to start a campaign: read the message (its payload names the campaign) and the function's logs, fix the cause, then `pressroom campaign status <name> --backend aws` says whether to resume it or send it again.",
      ),
      environment: {
        ...bucketName,
        ...siteUrl,
        ...linksUrl,
        PRESSROOM_QUEUE_URL: this.sending.queue.queueUrl,
        PRESSROOM_RECIPIENTS_PER_MESSAGE: String(plan.recipientsPerMessage),
        PRESSROOM_LATE_FIRE_WINDOW_MINUTES: String(config.lateFireWindowMinutes),
        ...ledgerTableName,
      },
    });

    const send = new PressroomFunction(this, 'Send', {
      handler: 'send',
      description: 'pressroom: sends one batch of recipients through SES at the worker rate',
      memorySize: 512,
      timeout: Duration.seconds(plan.timeoutSeconds),
      config,
      // No reserved concurrency unless asked for: a new account has 10 in all, and Lambda
      // refuses a reservation that leaves fewer than 10 unreserved (the deploy fails). The
      // event source's maxConcurrency bounds the send functions, and each one's token
      // bucket (PRESSROOM_WORKER_RATE) its rate.
      ...(config.reservedSendConcurrency !== undefined && {
        reservedConcurrentExecutions: config.reservedSendConcurrency,
      }),
      environment: {
        ...bucketName,
        ...linksUrl,
        ...mailing,
        ...secretArn,
        PRESSROOM_WORKER_RATE: String(plan.workerRate),
        PRESSROOM_SENDER_IDENTITY: senderIdentity,
        ...ledgerTableName,
      },
    });
    send.function.addEventSource(
      new SqsEventSource(this.sending.queue, {
        batchSize: plan.batchSize,
        maxConcurrency: plan.workers,
        reportBatchItemFailures: true,
      }),
    );

    const feedbackDeadLetters = this.alarmedDeadLetters(
      'FeedbackDeadLetter',
      notifications.alarmTopic,
      'SES feedback events (bounces, complaints) could not be applied: read the feedback function logs, then replay them.',
    );
    const feedback = new PressroomFunction(this, 'Feedback', {
      handler: 'feedback',
      description: 'pressroom: applies SES bounces, complaints, deliveries and rejects',
      memorySize: 256,
      timeout: Duration.seconds(30),
      config,
      deadLetterQueue: feedbackDeadLetters,
      environment: { ...bucketName, ...secretArn },
    });
    this.mail.feedbackTopic.addSubscription(
      new LambdaSubscription(feedback.function, { deadLetterQueue: feedbackDeadLetters }),
    );

    publish.function.addEventSource(
      new S3EventSourceV2(bucket, {
        events: [EventType.OBJECT_CREATED],
        // Attachments are uploaded first, the .md last: it alone starts a publish.
        filters: [{ prefix: 'publications/', suffix: '.md' }],
      }),
    );
    // The web admin's withdrawal requests (lambdas/core/archive/withdrawal-request.ts).
    publish.function.addEventSource(
      new S3EventSourceV2(bucket, {
        events: [EventType.OBJECT_CREATED],
        filters: [{ prefix: 'publications/withdrawals/', suffix: '.json' }],
      }),
    );

    // Campaign schedules: made before the admin, which puts them too.
    this.scheduling = new Scheduling(this, 'Scheduling', {
      dispatch: dispatch.function,
      alarmTopic: notifications.alarmTopic,
    });

    // The web admin: Cognito sign-in, the admin function behind /admin/* (lib/admin.ts).
    this.admin = new Admin(this, 'Admin', {
      site: this.site,
      storage: this.storage,
      config,
      ...(config.site && { siteUrl: this.site.url }),
      signingSecret: this.signingSecret,
      ledger: this.ledger,
      campaigns: {
        dispatch: dispatch.function,
        scheduling: this.scheduling,
        ledger: this.ledger,
        signingSecret: this.signingSecret,
        senderIdentity,
        timeZone: config.timeZone,
      },
    });

    this.functions = { publish, dispatch, send, feedback, public: publicFn, admin: this.admin.function };

    // Least privilege: each function gets the keys and the actions it uses (lib/README.md).
    // Releases go to archive/, newsletter issues (publications/newsletters/) to newsletters/;
    // both update catalog/ and the press room (site/, site/newsletters/ included).
    // Topic alerts: the alert lists of config/lists.yaml; the alert's campaign under campaigns/.
    this.storage.grantData(publish, {
      read: [
        'publications/*',
        'organizations/*',
        'archive/*',
        'newsletters/*',
        'catalog/*',
        'site/*',
        'config/lists.yaml',
        'campaigns/*',
        // Digests: who chose one (and their suppressions), and when the last one went.
        'contacts/*',
        'suppressions/*',
        'alerts/digests/*',
      ],
      write: [
        'archive/*',
        'newsletters/*',
        'catalog/*',
        'site/*',
        'publications/*.errors.json',
        'campaigns/*',
        'alerts/digests/*',
      ],
      delete: ['archive/*', 'newsletters/*', 'site/*', 'publications/*.errors.json'],
    });
    // What a campaign reads: its release (and, in catalog/translations.json, the release's
    // versions in other languages) or issue, its audience, itself.
    const campaignReads = [
      'archive/*',
      translationKeys.index,
      'newsletters/*',
      'contacts/*',
      'suppressions/*',
      'campaigns/*',
    ];
    this.storage.grantData(dispatch, {
      read: campaignReads,
      write: ['campaigns/*'],
      // The sending hold is one object: dispatch puts it on and takes it off (Monitoring).
      // Batches are staged, then removed once on the queue (core/campaigns/dispatch.ts).
      delete: [sendingHoldKey, 'campaigns/*/staging/*'],
    });
    this.storage.grantData(send, {
      read: campaignReads,
      write: ['campaigns/*'],
    });
    // Contact shards are written once and switched by their index: a function that writes
    // one removes the object it replaced (contacts/shards/*), or it would stay until an import.
    this.storage.grantData(feedback, {
      read: ['contacts/*', 'suppressions/*', 'campaigns/*'],
      write: ['contacts/*', 'suppressions/*', 'campaigns/*'],
      delete: ['contacts/shards/*'],
    });
    // proofs/*: the proofs `pressroom proof` stores, shown to whoever holds a signed link.
    // Advance copies (/advance/<token>): a release's manifest, its archived page and PDF only.
    // Opens and clicks: one new object per event, never read back by the function.
    this.storage.grantData(publicFn, {
      read: [
        'config/*',
        'contacts/*',
        'suppressions/*',
        'subscriptions/*',
        'proofs/*',
        'archive/*/release.json',
        'archive/*/page.html',
        'archive/*/release.pdf',
        // The press kit images' web sizes and thumbnails: the copy's lead image and gallery.
        'archive/*/images/web/*',
        'archive/*/images/thumbs/*',
      ],
      write: ['contacts/*', 'suppressions/*', 'subscriptions/*', 'campaigns/*/events/*'],
      delete: ['contacts/shards/*', 'subscriptions/*'],
    });
    this.ledger.grant(dispatch, 'read');
    this.ledger.grant(send, 'send');
    dispatch.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.sending.queue.queueArn] }),
    );
    this.mail.grantSendRaw(send);
    this.mail.grantSendRaw(publicFn);
    send.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ses:GetSendQuota'], resources: ['*'] }),
    );
    acknowledge(
      send,
      'AwsSolutions-IAM5[Resource::*]',
      'ses:GetSendQuota is an account-level action: IAM accepts no resource but "*" for it.',
    );
    for (const fn of [send, feedback, publicFn]) {
      fn.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.signingSecret.secretArn],
        }),
      );
    }

    // Unconfirmed subscriptions expire: every hour public removes the requests past their
    // 48 hours (the addresses they hold) and spent rate-limit windows, with the grants it
    // already has on subscriptions/ (docs/subscriptions.md).
    new Rule(this, 'SubscriptionSweep', {
      description: 'pressroom: removes expired subscription requests and spent rate-limit windows, hourly',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [
        new LambdaFunction(publicFn.function, {
          event: RuleTargetInput.fromObject({ sweep: 'subscriptions' }),
          // The next hour sweeps again: a missed one is not worth retrying for long.
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });

    // A campaign larger than the SES quota allows today continues the next day by itself,
    // and so does one whose quota SES says is used up (the send function schedules it).
    allowContinuations(this.scheduling, dispatch, send);
    // A public release with an alert list's topics among its tags schedules its alert.
    allowAlerts(this.scheduling, publish, dispatch.function);
    // Embargoed releases go public at their time: a schedule per release, and a safety refresh.
    this.embargoLifts = new EmbargoLifts(this, 'EmbargoLifts', {
      publish,
      alarmTopic: notifications.alarmTopic,
    });
    // Daily and weekly digests of topic alerts: a schedule at 08:00 in the workspace's zone.
    this.digests = new Digests(this, 'Digests', {
      publish,
      timeZone: config.timeZone,
      alarmTopic: notifications.alarmTopic,
    });
    this.acknowledgeNotificationsHandler();

    // Alarms on reputation, errors and the queue, the hold at SES's review levels, a dashboard.
    const deadLetters = (fn: PressroomFunction) => fn.function.deadLetterQueue as Queue;
    this.monitoring = new Monitoring(this, 'Monitoring', {
      alarmTopic: notifications.alarmTopic,
      functions: {
        publish: publish.function,
        dispatch: dispatch.function,
        send: send.function,
        feedback: feedback.function,
        public: publicFn.function,
        admin: this.admin.function.function,
      },
      sendQueue: this.sending.queue,
      deadLetterQueues: {
        send: this.sending.deadLetterQueue,
        publish: deadLetters(publish),
        dispatch: deadLetters(dispatch),
        feedback: deadLetters(feedback),
        schedules: this.scheduling.deadLetterQueue,
        lifts: this.embargoLifts.deadLetterQueue,
      },
      holdTarget: dispatch.function,
    });

    const outputs: Record<string, [string, string]> = {
      Region: [this.region, 'the region of the stack'],
      DataBucketName: [bucket.bucketName, 'the data bucket (all state; publications go under publications/)'],
      LedgerTableName: [
        this.ledger.table.tableName,
        'the delivery ledger and campaign counters (campaign status and report read it)',
      ],
      PressRoomUrl: [this.site.url, 'the public press room'],
      SiteLang: [config.siteLang, "the press room's language (archive rebuild and withdraw render with it)"],
      ...(config.siteTitle !== undefined && {
        SiteTitle: [config.siteTitle, "the press room's title"] as [string, string],
      }),
      PublicEndpointUrl: [
        publicUrl.url,
        "the public function's own URL: links mailed before they moved to the press room's domain",
      ],
      SendQueueUrl: [this.sending.queue.queueUrl, 'the queue of recipient batches'],
      SendDeadLetterQueueUrl: [this.sending.deadLetterQueue.queueUrl, 'batches that failed 5 times'],
      DispatchFunctionName: [dispatch.function.functionName, 'invoke it to start a campaign now'],
      DispatchFunctionArn: [dispatch.function.functionArn, 'the target of campaign schedules'],
      SchedulerRoleArn: [this.scheduling.role.roleArn, 'the role campaign schedules run with'],
      ScheduleGroupName: [this.scheduling.group.scheduleGroupName, 'where campaign schedules go'],
      ScheduleDeadLetterQueueArn: [
        this.scheduling.deadLetterQueue.queueArn,
        'where a campaign schedule that could not start dispatch leaves its event',
      ],
      EmbargoScheduleGroupName: [
        this.embargoLifts.group.scheduleGroupName,
        'where the lifts of embargoed releases wait (one schedule per release, named after its slug)',
      ],
      EmbargoDeadLetterQueueUrl: [
        this.embargoLifts.deadLetterQueue.queueUrl,
        'where a lift that could not invoke the publish function leaves its event',
      ],
      SigningSecretArn: [this.signingSecret.secretArn, 'the key of contact ids and links (the CLI needs it)'],
      AdminUrl: [`${this.site.url}admin/`, 'the web admin (sign in with a user of AdminUserPoolId)'],
      AdminUserPoolId: [
        this.admin.userPool.userPoolId,
        "the admin's users: aws cognito-idp admin-create-user --user-pool-id <this> (docs/aws.md)",
      ],
      SesConfigurationSetName: [this.mail.configurationSet.configurationSetName, 'the SES configuration set'],
      SenderIdentity: [
        senderIdentity,
        'the SES identity campaigns may be sent from (the functions may send from it only)',
      ],
      AlarmTopicArn: [notifications.alarmTopic.topicArn, 'subscribe to it to hear about failures'],
      DashboardName: [
        this.monitoring.dashboard.dashboardName,
        'the CloudWatch dashboard of sending and the functions',
      ],
    };
    for (const [name, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, name, { value, description });
    }
    // An existing identity keeps the DKIM records it already has.
    this.mail.identity?.dkimRecords.forEach((record, i) => {
      new CfnOutput(this, `DkimRecord${i + 1}`, {
        value: Fn.join(' ', [record.name, 'CNAME', record.value]),
        description: `DNS record ${i + 1} of 3 for Easy DKIM of ${config.senderDomain}`,
      });
    });
  }

  /** The S3 notifications custom resource CDK adds: its function and role are CDK's own. */
  private acknowledgeNotificationsHandler(): void {
    for (const child of this.node.children) {
      if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
      acknowledge(
        child,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        "CDK's own handler that sets the bucket notification at deploy time; it writes only its logs.",
      );
    }
  }

  /** A dead-letter queue for a function's failed events, kept 14 days, alarmed at its first message. */
  private alarmedDeadLetters(id: string, topic: ITopic, description: string): Queue {
    const queue = new Queue(this, `${id}Queue`, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    deadLetterAlarm(this, `${id}Alarm`, queue, topic, description);
    return queue;
  }
}
