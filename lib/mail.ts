import { Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  ConfigurationSet,
  EmailIdentity,
  EmailSendingEvent,
  EventDestination,
  Identity,
  SuppressionReasons,
} from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface MailProps {
  /** The sender's domain: the SES identity the stack creates. */
  senderDomain: string;
  /**
   * An SES identity that already exists (a domain or an address): no identity is created,
   * and sending is granted on that one's ARN. Creating one that exists fails the deploy.
   */
  existingIdentity?: string;
  /** Encrypts the feedback topic (the events carry recipients' addresses). */
  topicKey: IKey;
}

/**
 * The SES events pressroom acts on: suppressions and per-campaign outcomes, which `campaign
 * report` shows. Not Send (the ledger records each message SES took), nor Open and Click
 * (campaigns that track them do it through the press room's domain: campaigns/tracking.ts).
 */
export const feedbackEvents = [
  EmailSendingEvent.BOUNCE,
  EmailSendingEvent.COMPLAINT,
  EmailSendingEvent.DELIVERY,
  EmailSendingEvent.REJECT,
];

/**
 * SES: a domain identity for the sender, signed with Easy DKIM (three CNAME records to
 * publish), unless one that already exists is named; and a configuration set whose bounce,
 * complaint, delivery and reject events go to an encrypted, TLS-only SNS topic that the
 * feedback function reads.
 */
export class Mail extends Construct {
  /** The identity the stack created; undefined when it sends from an existing one. */
  readonly identity: EmailIdentity | undefined;
  /** The ARN of the identity mail is sent from (created or existing). */
  readonly identityArn: string;
  readonly configurationSet: ConfigurationSet;
  readonly feedbackTopic: Topic;

  constructor(scope: Construct, id: string, props: MailProps) {
    super(scope, id);
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    if (props.existingIdentity) {
      this.identity = undefined;
      // An identity's ARN: arn:aws:ses:<region>:<account>:identity/<domain or address>.
      this.identityArn = Stack.of(this).formatArn({
        service: 'ses',
        resource: 'identity',
        resourceName: props.existingIdentity,
      });
    } else {
      this.identity = new EmailIdentity(this, 'Identity', {
        identity: Identity.domain(props.senderDomain),
        // Messages sent without naming a configuration set still report their events.
        configurationSet: this.configurationSet,
      });
      this.identityArn = this.identity.emailIdentityArn;
    }
    this.feedbackTopic = new Topic(this, 'FeedbackTopic', {
      displayName: 'pressroom SES feedback',
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    this.configurationSet.addEventDestination('Feedback', {
      destination: EventDestination.snsTopic(this.feedbackTopic),
      events: feedbackEvents,
    });
  }

  /** The ARNs `ses:SendRawEmail` is checked against: the identity and the configuration set. */
  get sendingResources(): string[] {
    return [
      this.identityArn,
      Stack.of(this).formatArn({
        service: 'ses',
        resource: 'configuration-set',
        resourceName: this.configurationSet.configurationSetName,
      }),
    ];
  }

  /** Lets a function send raw email from the identity through the configuration set. */
  grantSendRaw(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ses:SendRawEmail'], resources: this.sendingResources }),
    );
  }
}
