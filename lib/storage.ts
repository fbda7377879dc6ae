import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Effect, type IGrantable, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeWildcardResource } from './nag.ts';

/**
 * The prefixes of the data bucket that hold people's addresses and names (docs/storage.md):
 * contacts, suppressions, subscription requests, and campaigns (ledger entries).
 */
export const personalDataPrefixes = ['contacts/', 'suppressions/', 'subscriptions/', 'campaigns/'];

export interface StorageProps {
  /** Days an old version of a data object is kept. */
  noncurrentVersionDays: number;
  /** Days access logs are kept. */
  logRetentionDays: number;
}

/**
 * What a function may do with the data bucket, as key patterns (`archive/*`,
 * `publications/*.errors.json`). Every function also gets s3:ListBucket on the bucket:
 * without it S3 answers 403 instead of 404 for a missing key, and the store could not
 * tell "absent" from "forbidden".
 */
export interface DataAccess {
  read?: string[];
  write?: string[];
  delete?: string[];
}

/**
 * The data bucket, where all of pressroom's state lives (README: "Storage layout"), and
 * the bucket that receives its access logs and CloudFront's. Both are kept on
 * `cdk destroy`.
 */
export class Storage extends Construct {
  readonly dataBucket: Bucket;
  readonly logsBucket: Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    this.logsBucket = new Bucket(this, 'LogsBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // CloudFront's standard logs are delivered with an ACL grant: ACLs must stay enabled.
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [
        { id: 'expire-logs', expiration: Duration.days(props.logRetentionDays) },
        { id: 'abort-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.dataBucket = new Bucket(this, 'DataBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        {
          id: 'expire-old-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        // The backstop of an erasure (which removes those versions itself): what an old
        // version still holds of a person goes within a day or two, whatever the rule above
        // keeps elsewhere. S3 honours the shorter of two overlapping expirations.
        ...personalDataPrefixes.map((prefix) => ({
          id: `expire-personal-data-versions-${prefix.slice(0, -1)}`,
          prefix,
          noncurrentVersionExpiration: Duration.days(1),
        })),
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Lets CloudFront read the press room (`site/`) and nothing else: origin access control
   * grants it the whole bucket, so everything outside `site/` is denied to it explicitly.
   */
  confineCloudFrontToSite(): void {
    this.dataBucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudFrontReadsOnlyThePressRoom',
        effect: Effect.DENY,
        principals: [new ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        notResources: [this.dataBucket.arnForObjects('site/*')],
      }),
    );
  }

  /** Grants a function exactly the object actions it needs on the given key patterns. */
  grantData(grantee: IGrantable & IConstruct, access: DataAccess): void {
    const bucket: IBucket = this.dataBucket;
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
    const statements: [string, string[] | undefined][] = [
      ['s3:GetObject', access.read],
      ['s3:PutObject', access.write],
      ['s3:DeleteObject', access.delete],
    ];
    for (const [action, patterns] of statements) {
      if (!patterns?.length) continue;
      const resources = patterns.map((p) => bucket.arnForObjects(p));
      principal.addToPrincipalPolicy(new PolicyStatement({ actions: [action], resources }));
      for (const [i, resource] of resources.entries()) {
        if (!patterns[i]?.includes('*')) continue;
        acknowledgeWildcardResource(
          grantee,
          resource,
          "Object keys under one prefix of the data bucket (the README's storage layout): the function reads or writes objects it cannot name in advance, and nothing outside that prefix.",
        );
      }
    }
  }
}
