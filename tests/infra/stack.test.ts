import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileContentSecurityPolicy,
  pageContentSecurityPolicy,
} from '../../lambdas/core/public/site-headers.ts';
import { parseConfig } from '../../lib/config.ts';
import { handlerNames } from '../../lib/functions.ts';
import { PressroomStack } from '../../lib/pressroom-stack.ts';
import { adminPaths, endpointPaths, headerPaths, indexRewrite } from '../../lib/site.ts';
import { logicalId, realSender, removeOutdirs, type Synthesised, synth } from './stack.ts';

let s: Synthesised;
let t: Template;
const id = {} as Record<'data' | 'logs' | 'distribution' | 'queue' | 'dlq' | 'secret' | 'configSet', string>;
const fn = {} as Record<(typeof handlerNames)[number], string>;

beforeAll(() => {
  s = synth(realSender);
  t = s.template;
  id.data = logicalId(t, 'AWS::S3::Bucket', 'StorageDataBucket');
  id.logs = logicalId(t, 'AWS::S3::Bucket', 'StorageLogsBucket');
  id.distribution = logicalId(t, 'AWS::CloudFront::Distribution', 'SiteDistribution');
  id.queue = logicalId(t, 'AWS::SQS::Queue', 'SendingQueue');
  id.dlq = logicalId(t, 'AWS::SQS::Queue', 'SendingDeadLetterQueue');
  id.secret = logicalId(t, 'AWS::SecretsManager::Secret', 'SigningSecret');
  id.configSet = logicalId(t, 'AWS::SES::ConfigurationSet', 'MailConfigurationSet');
  for (const name of handlerNames) {
    fn[name] = logicalId(t, 'AWS::Lambda::Function', `${name[0]?.toUpperCase()}${name.slice(1)}Function`);
  }
});
afterAll(removeOutdirs);

const arnOf = (logical: string) => ({ 'Fn::GetAtt': [logical, 'Arn'] });
const denyWithoutTls = Match.objectLike({
  Effect: 'Deny',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe('the data bucket', () => {
  it('is private, versioned, encrypted and logged, and kept on destroy', () => {
    t.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: { DestinationBucketName: { Ref: id.logs }, LogFilePrefix: 'data-bucket/' },
      }),
    });
    const bucket = t.findResources('AWS::S3::Bucket')[id.data];
    expect(bucket?.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('expires old versions after noncurrentVersionDays', () => {
    const rules = (template: Template) =>
      template.findResources('AWS::S3::Bucket')[id.data]?.Properties.LifecycleConfiguration.Rules;
    expect(rules(t)?.[0]).toEqual(
      expect.objectContaining({
        Id: 'expire-old-versions',
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 90 },
        ExpiredObjectDeleteMarker: true,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      }),
    );
    expect(rules(t)?.[0].Prefix).toBeUndefined();
    const shorter = synth({ ...realSender, noncurrentVersionDays: 30 }, { nag: false }).template;
    expect(rules(shorter)?.[0].NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 30 });
  });

  it('expires old versions of personal data after one day: the backstop of an erasure', () => {
    const rules = t.findResources('AWS::S3::Bucket')[id.data]?.Properties.LifecycleConfiguration
      .Rules as Record<string, unknown>[];
    expect(rules.slice(1).filter((r) => String(r.Id).startsWith('expire-personal-data'))).toEqual(
      ['contacts', 'suppressions', 'subscriptions', 'campaigns'].map((name) => ({
        Id: `expire-personal-data-versions-${name}`,
        Prefix: `${name}/`,
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      })),
    );
    // The admin's staged contact uploads: gone a day after they were written, imported or not.
    expect(rules.filter((r) => r.Id === 'expire-contact-uploads')).toEqual([
      {
        Id: 'expire-contact-uploads',
        Prefix: 'contacts/uploads/',
        Status: 'Enabled',
        ExpirationInDays: 1,
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      },
    ]);
    // Every prefix that holds addresses in the storage layout, and none that does not.
    expect(rules.map((r) => r.Prefix).filter(Boolean)).not.toContain('archive/');
    expect(rules.map((r) => r.Prefix).filter(Boolean)).not.toContain('publications/');
    // The admin's sign-outs (sessions last 8 hours): gone after a day, old versions too.
    expect(rules).toContainEqual({
      Id: 'expire-admin-sign-outs',
      Prefix: 'admin/signed-out/',
      Status: 'Enabled',
      ExpirationInDays: 1,
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    });
    // S3 refuses two rules with one id.
    expect(new Set(rules.map((r) => r.Id)).size).toBe(rules.length);
  });

  it('refuses requests without TLS, and lets CloudFront read site/ only', () => {
    const policy = Object.values(t.findResources('AWS::S3::BucketPolicy')).find(
      (p) => p.Properties.Bucket.Ref === id.data,
    );
    const statements = policy?.Properties.PolicyDocument.Statement as Record<string, unknown>[];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        NotResource: { 'Fn::Join': ['', [arnOf(id.data), '/site/*']] },
      }),
    );
    const cloudFrontAllow = statements.find(
      (st) => st.Effect === 'Allow' && JSON.stringify(st.Principal).includes('cloudfront'),
    );
    // Listing lets S3 answer 404 for a missing key (403 otherwise): the 404 page maps it.
    expect(cloudFrontAllow).toMatchObject({
      Action: ['s3:GetObject', 's3:ListBucket'],
      Resource: [arnOf(id.data), { 'Fn::Join': ['', [arnOf(id.data), '/*']] }],
      Condition: {
        StringEquals: {
          'AWS:SourceArn': {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':cloudfront::',
                { Ref: 'AWS::AccountId' },
                ':distribution/',
                { Ref: id.distribution },
              ],
            ],
          },
        },
      },
    });
    // Nobody else is let in: the only principal the policy allows is this distribution.
    expect(
      statements.filter((st) => st.Effect === 'Allow').map((st) => JSON.stringify(st.Principal)),
    ).toEqual(['{"Service":"cloudfront.amazonaws.com"}']);
  });
});

describe('the ledger table', () => {
  it('is on demand, keyed by campaign and recipient, with a sparse index of the unfinished, TTL, point-in-time recovery and encryption, kept on destroy', () => {
    const tables = t.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(1);
    const table = Object.values(tables)[0];
    expect(table?.DeletionPolicy).toBe('Retain');
    expect(table?.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'campaign', KeyType: 'HASH' },
        { AttributeName: 'recipient', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'unfinished',
          KeySchema: [
            { AttributeName: 'campaign', KeyType: 'HASH' },
            { AttributeName: 'unfinished', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    // Its name reaches the functions that use it, and the command line.
    const name = { Ref: Object.keys(tables)[0] };
    const withIt = Object.values(t.findResources('AWS::Lambda::Function')).filter(
      (f) =>
        JSON.stringify(f.Properties.Environment?.Variables?.PRESSROOM_LEDGER_TABLE) === JSON.stringify(name),
    );
    // The admin: a contact's history, and its entries erased with it.
    expect(withIt.map((f) => f.Properties.Description).sort()).toEqual([
      expect.stringContaining('sends one batch'),
      expect.stringContaining('queues its recipients'),
      expect.stringContaining('the web admin'),
    ]);
    t.hasOutput('LedgerTableName', { Value: name });
  });
});

describe('the logs bucket', () => {
  it('is private, encrypted, TLS-only, expires logs, and is kept on destroy', () => {
    const logs = t.findResources('AWS::S3::Bucket')[id.logs];
    expect(logs?.DeletionPolicy).toBe('Retain');
    expect(logs?.Properties.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    expect(logs?.Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' }),
    );
    const policy = Object.values(t.findResources('AWS::S3::BucketPolicy')).find(
      (p) => p.Properties.Bucket.Ref === id.logs,
    );
    expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    // Only S3 access logging of the data bucket may write into it.
    expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Condition: expect.objectContaining({ ArnLike: { 'aws:SourceArn': arnOf(id.data) } }),
      }),
    );
  });
});

describe('the press room (CloudFront)', () => {
  it('serves site/ of the data bucket through origin access control, HTTPS only, with logs', () => {
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        Origins: Match.arrayWith([
          Match.objectLike({
            OriginPath: '/site',
            OriginAccessControlId: Match.anyValue(),
            S3OriginConfig: { OriginAccessIdentity: '' },
          }),
        ]),
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          FunctionAssociations: [Match.objectLike({ EventType: 'viewer-request' })],
          ResponseHeadersPolicyId: Match.anyValue(),
        }),
        Logging: { Bucket: { 'Fn::GetAtt': [id.logs, 'RegionalDomainName'] }, Prefix: 'cloudfront/' },
      }),
    });
    t.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
      }),
    });
    const config = t.findResources('AWS::CloudFront::Distribution')[id.distribution]?.Properties
      .DistributionConfig;
    expect(config.Aliases).toBeUndefined();
    t.hasOutput('PressRoomUrl', {
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [id.distribution, 'DomainName'] }, '/']] },
    });
  });

  it("answers an address it does not have with the press room's 404 page, status 404, and leaves 403 alone", () => {
    const config = t.findResources('AWS::CloudFront::Distribution')[id.distribution]?.Properties
      .DistributionConfig;
    expect(config.CustomErrorResponses).toEqual([
      { ErrorCode: 404, ResponseCode: 404, ResponsePagePath: '/404.html', ErrorCachingMinTTL: 60 },
    ]);
  });

  it('serves index.html for folder URLs and adds the slash the relative links need', () => {
    // The CloudFront Function's own code, run as CloudFront would run it.
    const handler = new Function(`${indexRewrite}; return handler;`)() as (
      event: unknown,
    ) => Record<string, unknown>;
    const request = (uri: string) => ({ request: { uri, querystring: {}, headers: {} } });
    expect(handler(request('/'))).toMatchObject({ uri: '/index.html' });
    expect(handler(request('/releases/etude-2021/'))).toMatchObject({
      uri: '/releases/etude-2021/index.html',
    });
    expect(handler(request('/feed.xml'))).toMatchObject({ uri: '/feed.xml' });
    expect(handler(request('/releases/etude-2021/files/etude.pdf'))).toMatchObject({
      uri: '/releases/etude-2021/files/etude.pdf',
    });
    expect(handler(request('/releases/etude-2021'))).toEqual({
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: { location: { value: '/releases/etude-2021/' } },
    });
    t.hasResourceProperties('AWS::CloudFront::Function', {
      FunctionCode: indexRewrite,
      FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }),
    });
  });

  it('sends a Content-Security-Policy with pages, none with PDFs, and a sandbox with published files', () => {
    const policies = t.findResources('AWS::CloudFront::ResponseHeadersPolicy');
    const byId = (logical: unknown) =>
      policies[String((logical as { Ref?: string }).Ref)]?.Properties.ResponseHeadersPolicyConfig;
    const distribution = t.findResources('AWS::CloudFront::Distribution')[id.distribution]?.Properties
      .DistributionConfig;
    const pages = byId(distribution.DefaultCacheBehavior.ResponseHeadersPolicyId);
    expect(pages.SecurityHeadersConfig).toMatchObject({
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'SAMEORIGIN', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 31_536_000, Override: true },
      ContentSecurityPolicy: { ContentSecurityPolicy: pageContentSecurityPolicy, Override: true },
    });
    // The order matters: CloudFront takes the first pattern that matches.
    const behaviors = distribution.CacheBehaviors as {
      PathPattern: string;
      ResponseHeadersPolicyId: unknown;
    }[];
    expect(behaviors.map((b) => b.PathPattern)).toEqual([
      headerPaths.pdf,
      headerPaths.releaseFiles,
      headerPaths.newsletterFiles,
      // The public endpoint (tests/infra/domain.test.ts).
      ...endpointPaths,
      // The web admin (tests/infra/admin.test.ts).
      ...adminPaths,
    ]);
    const [pdf, releaseFiles, newsletterFiles] = behaviors.map((b) => byId(b.ResponseHeadersPolicyId));
    expect(pdf.SecurityHeadersConfig.ContentSecurityPolicy).toBeUndefined();
    expect(pdf.SecurityHeadersConfig.ContentTypeOptions).toEqual({ Override: true });
    for (const files of [releaseFiles, newsletterFiles]) {
      expect(files.SecurityHeadersConfig).toMatchObject({
        ContentTypeOptions: { Override: true },
        ContentSecurityPolicy: { ContentSecurityPolicy: fileContentSecurityPolicy, Override: true },
      });
    }
    // Files are not folders: no index rewrite (an attachment without an extension would be redirected).
    for (const b of distribution.CacheBehaviors.slice(0, 3)) {
      expect(b.FunctionAssociations, b.PathPattern).toBeUndefined();
      expect(b.ViewerProtocolPolicy, b.PathPattern).toBe('redirect-to-https');
    }
  });

  it('takes the configured domain and certificate, with TLS 1.2 at least', () => {
    const certificateArn =
      'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';
    const custom = synth({
      ...realSender,
      siteDomain: 'presse.villes-internet.net',
      certificateArn,
    }).template;
    custom.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['presse.villes-internet.net'],
        ViewerCertificate: {
          AcmCertificateArn: certificateArn,
          MinimumProtocolVersion: 'TLSv1.2_2021',
          SslSupportMethod: 'sni-only',
        },
      }),
    });
    custom.hasOutput('PressRoomUrl', { Value: 'https://presse.villes-internet.net/' });
    const publish = Object.values(custom.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).includes('renders and archives'),
    );
    expect(publish?.Properties.Environment.Variables.PRESSROOM_SITE_URL).toBe(
      'https://presse.villes-internet.net/',
    );
  });
});

describe('the functions', () => {
  it('run Node.js 22 on arm64 (publish on x86_64: tests/infra/chromium.test.ts), log JSON into their own log group with a retention', () => {
    for (const name of handlerNames) {
      const f = t.findResources('AWS::Lambda::Function')[fn[name]]?.Properties;
      expect(f, name).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: [name === 'publish' ? 'x86_64' : 'arm64'],
        Handler: 'index.handler',
        // Text: Lambda filters nothing, the Powertools logger decides (and samples DEBUG).
        LoggingConfig: {
          LogFormat: 'Text',
          LogGroup: { Ref: expect.any(String) },
        },
      });
      const logGroup = t.findResources('AWS::Logs::LogGroup')[f?.LoggingConfig.LogGroup.Ref];
      expect(logGroup?.Properties.RetentionInDays, name).toBe(90);
      expect(f?.Environment.Variables, name).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'pressroom',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_LOGGER_SAMPLE_RATE: '0.01',
        // Dispatch's heap is limited, so that a million recipients peak well under 512 MB.
        NODE_OPTIONS:
          name === 'dispatch' ? '--enable-source-maps --max-old-space-size=384' : '--enable-source-maps',
        PRESSROOM_BUCKET: { Ref: id.data },
      });
    }
    // The press room's address, where the handler reads it (tests/infra/environment.test.ts).
    for (const name of ['publish', 'dispatch'] as const) {
      expect(
        t.findResources('AWS::Lambda::Function')[fn[name]]?.Properties.Environment.Variables,
      ).toMatchObject({
        PRESSROOM_SITE_URL: {
          'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [id.distribution, 'DomainName'] }, '/']],
        },
      });
    }
    const retained = synth(
      { ...realSender, logRetentionDays: 365, logLevel: 'debug', logDebugSampleRate: '0.1' },
      { nag: false },
    ).template;
    for (const group of Object.values(retained.findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(365);
    }
    for (const f of Object.values(retained.findResources('AWS::Lambda::Function'))) {
      if (!f.Properties.Environment?.Variables?.POWERTOOLS_LOG_LEVEL) continue;
      expect(f.Properties.Environment.Variables.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
      expect(f.Properties.Environment.Variables.POWERTOOLS_LOGGER_SAMPLE_RATE).toBe('0.1');
      expect(f.Properties.LoggingConfig.ApplicationLogLevel).toBeUndefined();
    }
  });

  it('get the environment of the handler contract (lib/README.md)', () => {
    const env = (name: (typeof handlerNames)[number]) =>
      t.findResources('AWS::Lambda::Function')[fn[name]]?.Properties.Environment.Variables as Record<
        string,
        unknown
      >;
    // The press room's address: links in mails are on its domain.
    const publicUrl = {
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [id.distribution, 'DomainName'] }, '/']],
    };
    const secret = { Ref: id.secret };
    const configSet = { Ref: id.configSet };

    expect(env('publish')).toMatchObject({
      PRESSROOM_TEMPLATES_DIR: '/var/task/templates',
      PRESSROOM_SITE_LANG: 'fr',
    });
    expect(env('publish')).not.toHaveProperty('PRESSROOM_PUBLIC_URL');
    expect(env('publish')).not.toHaveProperty('PRESSROOM_SECRET_ARN');
    expect(env('dispatch')).toMatchObject({
      PRESSROOM_PUBLIC_URL: publicUrl,
      PRESSROOM_QUEUE_URL: { Ref: id.queue },
      PRESSROOM_RECIPIENTS_PER_MESSAGE: '50',
    });
    for (const unused of [
      'PRESSROOM_SECRET_ARN',
      'PRESSROOM_SENDER',
      'PRESSROOM_SES_CONFIGURATION_SET',
      'PRESSROOM_SEND_RATE',
    ]) {
      expect(env('dispatch')).not.toHaveProperty(unused);
    }
    expect(env('send')).toMatchObject({
      PRESSROOM_PUBLIC_URL: publicUrl,
      PRESSROOM_SECRET_ARN: secret,
      PRESSROOM_WORKER_RATE: '0.5',
      PRESSROOM_SES_CONFIGURATION_SET: configSet,
    });
    for (const unused of ['PRESSROOM_SENDER', 'PRESSROOM_SEND_RATE', 'PRESSROOM_RECIPIENTS_PER_MESSAGE']) {
      expect(env('send')).not.toHaveProperty(unused);
    }
    expect(env('send')).not.toHaveProperty('PRESSROOM_TEMPLATES_DIR');
    expect(env('send')).not.toHaveProperty('PRESSROOM_QUEUE_URL');
    expect(env('feedback')).toMatchObject({ PRESSROOM_SECRET_ARN: secret });
    expect(env('feedback')).not.toHaveProperty('PRESSROOM_PUBLIC_URL');
    expect(env('public')).toMatchObject({
      PRESSROOM_TEMPLATES_DIR: '/var/task/templates',
      PRESSROOM_SECRET_ARN: secret,
      PRESSROOM_SITE_LANG: 'fr',
      PRESSROOM_SES_CONFIGURATION_SET: configSet,
    });
    expect(env('public')).not.toHaveProperty('PRESSROOM_SENDER');
    // CloudFront's domain would be a circular reference (the distribution is made after the
    // function): the handler takes the host the request came to.
    expect(env('public')).not.toHaveProperty('PRESSROOM_PUBLIC_URL');
    for (const name of handlerNames) {
      expect(env(name)).not.toHaveProperty('PRESSROOM_SITE_TITLE');
      expect(env(name)).not.toHaveProperty('PRESSROOM_UNSUBSCRIBE_MAILTO');
    }

    const titled = synth(
      {
        ...realSender,
        siteTitle: 'Salle de presse de Villes Internet',
        unsubscribeMailto: 'desinscription@villes-internet.net',
        siteLang: 'en',
      },
      { nag: false },
    ).template;
    const checked = Object.values(titled.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Properties.Environment?.Variables?.PRESSROOM_BUCKET,
    );
    expect(checked).toHaveLength(6);
    for (const f of checked) {
      const vars = f.Properties.Environment.Variables;
      if (vars.PRESSROOM_TEMPLATES_DIR) expect(vars.PRESSROOM_SITE_LANG).toBe('en');
      if (vars.PRESSROOM_SES_CONFIGURATION_SET)
        expect(vars.PRESSROOM_UNSUBSCRIBE_MAILTO).toBe('desinscription@villes-internet.net');
    }
    // The title is the press room's: publish renders it.
    expect(checked.filter((f) => f.Properties.Environment.Variables.PRESSROOM_SITE_TITLE)).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          Environment: {
            Variables: expect.objectContaining({
              PRESSROOM_SITE_TITLE: 'Salle de presse de Villes Internet',
            }),
          },
        }),
      }),
    ]);
  });

  it('publish runs when a .md lands under publications/, and on a withdrawal request of the admin', () => {
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: id.data },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'suffix', Value: '.md' },
                  { Name: 'prefix', Value: 'publications/' },
                ],
              },
            },
            LambdaFunctionArn: arnOf(fn.publish),
          },
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'suffix', Value: '.json' },
                  { Name: 'prefix', Value: 'publications/withdrawals/' },
                ],
              },
            },
            LambdaFunctionArn: arnOf(fn.publish),
          },
        ],
      },
    });
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: arnOf(fn.publish),
      Principal: 's3.amazonaws.com',
      SourceArn: arnOf(id.data),
    });
  });

  it('public answers on a Function URL open to all (auth NONE)', () => {
    // And the admin's (tests/infra/admin.test.ts).
    t.resourceCountIs('AWS::Lambda::Url', 2);
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', TargetFunctionArn: arnOf(fn.public) });
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      FunctionName: arnOf(fn.public),
      FunctionUrlAuthType: 'NONE',
      Principal: '*',
    });
  });
});

describe('sending', () => {
  it('queues batches encrypted, TLS-only, with a dead-letter queue that raises an alarm', () => {
    const queues = t.findResources('AWS::SQS::Queue');
    expect(queues[id.queue]?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: arnOf(id.dlq), maxReceiveCount: 5 },
    });
    expect(queues[id.dlq]?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    for (const queue of [id.queue, id.dlq]) {
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queue }],
        PolicyDocument: { Statement: Match.arrayWith([denyWithoutTls]) },
      });
    }
    const alarmTopic = logicalId(t, 'AWS::SNS::Topic', 'NotificationsAlarmTopic');
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id.dlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: alarmTopic }],
    });
  });

  it('send consumes the queue with partial batch failures', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(id.queue),
      FunctionName: { Ref: fn.send },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('SES', () => {
  it('verifies the sender domain with Easy DKIM and prints the three DNS records', () => {
    const identity = logicalId(t, 'AWS::SES::EmailIdentity', 'MailIdentity');
    t.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'villes-internet.net',
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: id.configSet } },
    });
    const props = t.findResources('AWS::SES::EmailIdentity')[identity]?.Properties;
    // Easy DKIM is SES's default: no BYODKIM key, signing not turned off.
    expect(props.DkimSigningAttributes).toBeUndefined();
    expect(props.DkimAttributes?.SigningEnabled).not.toBe(false);
    for (const n of [1, 2, 3]) {
      t.hasOutput(`DkimRecord${n}`, {
        Value: {
          'Fn::Join': [
            ' ',
            [
              { 'Fn::GetAtt': [identity, `DkimDNSTokenName${n}`] },
              'CNAME',
              { 'Fn::GetAtt': [identity, `DkimDNSTokenValue${n}`] },
            ],
          ],
        },
      });
    }
  });

  it('sends bounces, complaints, deliveries and rejects to an encrypted TLS-only topic read by feedback', () => {
    const topic = logicalId(t, 'AWS::SNS::Topic', 'MailFeedbackTopic');
    const key = logicalId(t, 'AWS::KMS::Key', 'NotificationsTopicKey');
    t.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      ConfigurationSetName: { Ref: id.configSet },
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: ['bounce', 'complaint', 'delivery', 'reject'],
        SnsDestination: { TopicARN: { Ref: topic } },
      },
    });
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arnOf(key) });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          denyWithoutTls,
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'ses.amazonaws.com' },
            Action: 'sns:Publish',
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: ['cloudwatch.amazonaws.com', 'ses.amazonaws.com'] },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: topic },
      Endpoint: arnOf(fn.feedback),
      RedrivePolicy: {
        deadLetterTargetArn: arnOf(logicalId(t, 'AWS::SQS::Queue', 'FeedbackDeadLetterQueue')),
      },
    });
  });

  it("gives the delivery report what it reads (deliveries, bounces, complaints), and leaves opens and clicks to pressroom's own links", () => {
    // `campaign report`: sent comes from the ledger; delivered, bounced and complained from
    // these events. SES's own open and click tracking would rewrite links through its domain:
    // campaigns that track do so through the press room's (lambdas/core/campaigns/tracking.ts).
    const destinations = Object.values(t.findResources('AWS::SES::ConfigurationSetEventDestination'));
    expect(destinations).toHaveLength(1);
    const types = (destinations[0] as { Properties: { EventDestination: { MatchingEventTypes: string[] } } })
      .Properties.EventDestination.MatchingEventTypes;
    expect(types).toEqual(expect.arrayContaining(['delivery', 'bounce', 'complaint']));
    expect(types).not.toContain('open');
    expect(types).not.toContain('click');
    for (const set of Object.values(t.findResources('AWS::SES::ConfigurationSet')))
      expect((set as { Properties: Record<string, unknown> }).Properties.TrackingOptions).toBeUndefined();
  });
});

describe('failed asynchronous invocations', () => {
  it.each([
    ['publish', 'PublishDeadLetter'],
    ['dispatch', 'DispatchDeadLetter'],
    ['feedback', 'FeedbackDeadLetter'],
  ] as const)(
    '%s keeps the events it failed on in its own dead-letter queue, alarmed at the first',
    (name, id) => {
      const queue = logicalId(t, 'AWS::SQS::Queue', `${id}Queue`);
      expect(t.findResources('AWS::Lambda::Function')[fn[name]]?.Properties.DeadLetterConfig).toEqual({
        TargetArn: arnOf(queue),
      });
      const alarm =
        t.findResources('AWS::CloudWatch::Alarm')[logicalId(t, 'AWS::CloudWatch::Alarm', `${id}Alarm`)];
      expect(alarm?.Properties).toMatchObject({
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Threshold: 1,
        AlarmActions: [expect.anything()],
      });
      expect(t.findResources('AWS::SQS::Queue')[queue]?.Properties).toMatchObject({
        MessageRetentionPeriod: 1_209_600,
        SqsManagedSseEnabled: true,
      });
    },
  );
});

describe('EventBridge Scheduler', () => {
  it('has a schedule group and a role only its schedules can assume (the group ARN, as AWS documents), allowed to invoke dispatch and write to the schedules DLQ', () => {
    // The campaigns' group, the embargoes' lifts' (tests/infra/embargoes.test.ts), the digests'.
    t.resourceCountIs('AWS::Scheduler::ScheduleGroup', 3);
    const groupId = logicalId(t, 'AWS::Scheduler::ScheduleGroup', 'SchedulingCampaigns');
    const group = t.findResources('AWS::Scheduler::ScheduleGroup')[groupId]?.Properties.Name;
    const roleId = logicalId(t, 'AWS::IAM::Role', 'SchedulingSchedulerRole');
    const dlq = logicalId(t, 'AWS::SQS::Queue', 'SchedulingDeadLetterQueue');
    const role = t.findResources('AWS::IAM::Role')[roleId]?.Properties;
    // Scheduler's aws:SourceArn is the schedule group's ARN; a schedule ARN would never match.
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            'aws:SourceArn': arnOf(groupId),
          },
        },
      },
    ]);
    expect(JSON.stringify(role.AssumeRolePolicyDocument)).not.toContain(':schedule/');
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId),
    );
    expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: arnOf(fn.dispatch) },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: arnOf(dlq) },
    ]);
    t.hasOutput('ScheduleGroupName', { Value: group });
  });

  it("has the digests' one recurring schedule: 08:00 every day in timeZone (UTC by default), invoking publish with its own role and dead-letter queue", () => {
    t.resourceCountIs('AWS::Scheduler::Schedule', 1);
    const groupId = logicalId(t, 'AWS::Scheduler::ScheduleGroup', 'DigestsGroup');
    const roleId = logicalId(t, 'AWS::IAM::Role', 'DigestsSchedulerRole');
    const dlq = logicalId(t, 'AWS::SQS::Queue', 'DigestsDeadLetterQueue');
    const group = t.findResources('AWS::Scheduler::ScheduleGroup')[groupId]?.Properties.Name;
    expect(group).toMatch(/^Pressroom-Digests-Group-/);
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      GroupName: group,
      ScheduleExpression: 'cron(0 8 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: arnOf(fn.publish),
        RoleArn: arnOf(roleId),
        Input: JSON.stringify({ digests: 'due' }),
        DeadLetterConfig: { Arn: arnOf(dlq) },
      },
    });
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId),
    );
    expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: arnOf(fn.publish) },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: arnOf(dlq) },
    ]);
  });

  it('has a dead-letter queue for schedules that could not start dispatch, alarmed like the others, its ARN an output', () => {
    const dlq = logicalId(t, 'AWS::SQS::Queue', 'SchedulingDeadLetterQueue');
    t.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const queue = t.findResources('AWS::SQS::Queue')[dlq]?.Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: logicalId(t, 'AWS::SNS::Topic', 'NotificationsAlarmTopic') }],
    });
    t.hasOutput('ScheduleDeadLetterQueueArn', { Value: arnOf(dlq) });
  });
});

describe('deploys on a new account, and again after destroy', () => {
  it('reserves no concurrency (a new account has 10 in all)', () => {
    for (const f of Object.values(t.findResources('AWS::Lambda::Function'))) {
      expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
    expect(JSON.stringify(t.toJSON())).not.toContain('ReservedConcurrentExecutions');
  });

  it('keeps no resource with a fixed name: what is kept on destroy is named by CloudFormation', () => {
    const resources = t.toJSON().Resources as Record<
      string,
      {
        Type: string;
        DeletionPolicy?: string;
        UpdateReplacePolicy?: string;
        Properties?: Record<string, unknown>;
      }
    >;
    const retained = Object.entries(resources).filter(
      ([, r]) => r.DeletionPolicy === 'Retain' || r.UpdateReplacePolicy === 'Retain',
    );
    expect(retained.map(([, r]) => r.Type).sort()).toEqual([
      'AWS::DynamoDB::Table',
      'AWS::S3::Bucket',
      'AWS::S3::Bucket',
      'AWS::SecretsManager::Secret',
    ]);
    // The physical-name properties of every resource type CloudFormation lets you name.
    const nameKeys =
      /^(Name|BucketName|SecretName|LogGroupName|QueueName|TopicName|ConfigurationSetName|ScheduleGroupName|RoleName|FunctionName|TableName|AliasName|EmailIdentity)$/;
    for (const [logical, r] of retained) {
      const named = Object.keys(r.Properties ?? {}).filter((k) => nameKeys.test(k));
      expect(named, `${logical} (${r.Type})`).toEqual([]);
    }
    // The schedule group has a name CDK makes (the same at each deploy): it goes with the stack.
    const group = Object.values(t.findResources('AWS::Scheduler::ScheduleGroup'))[0];
    expect(group?.DeletionPolicy).toBe('Delete');
  });

  it('needs nothing but the sender: every other context key has a default', () => {
    // No cdk.json at all: only -c sender=... and the bundling switch of the tests.
    const context = { sender: 'presse@villes-internet.net', 'aws:cdk:bundling-stacks': [] };
    const app = new App({ context, outdir: mkdtempSync(path.join(tmpdir(), 'pressroom-sender-only-')) });
    const config = parseConfig(context);
    const bare = Template.fromStack(new PressroomStack(app, config.stackName, { config }));
    bare.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'villes-internet.net' });
    expect(
      Object.values(bare.findResources('AWS::Lambda::Function')).filter((f) =>
        String(f.Properties.Description ?? '').startsWith('pressroom:'),
      ),
    ).toHaveLength(6);
    rmSync(app.outdir, { recursive: true, force: true });
    // A synth of its own (the Chromium layer is copied): slow on a busy machine.
  }, 120_000);

  it('sends from an SES identity that exists: no EmailIdentity, no DKIM outputs, sending still scoped to that identity', () => {
    const existing = synth({ ...realSender, existingSesIdentity: 'villes-internet.net' }).template;
    existing.resourceCountIs('AWS::SES::EmailIdentity', 0);
    const outputs = Object.keys(existing.toJSON().Outputs);
    expect(outputs.filter((o) => o.startsWith('DkimRecord'))).toEqual([]);
    const identityArn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':ses:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':identity/villes-internet.net',
        ],
      ],
    };
    const sendRaw = Object.values(existing.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: { Action: string | string[] }) => [st.Action].flat().includes('ses:SendRawEmail'));
    // send and public, each on the identity and the configuration set, never on "*".
    expect(sendRaw).toHaveLength(2);
    for (const st of sendRaw) {
      expect(st.Resource).toHaveLength(2);
      expect(st.Resource).toContainEqual(identityArn);
      expect(JSON.stringify(st.Resource)).toContain(':configuration-set/');
      expect(st.Resource).not.toContain('*');
    }
  });
});

describe('the signing secret', () => {
  it('is generated at deploy, never written in the template, and kept on destroy', () => {
    t.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
      }),
    });
    const secret = t.findResources('AWS::SecretsManager::Secret')[id.secret]?.Properties;
    expect(secret.SecretString).toBeUndefined();
  });

  it('can be an existing secret instead (after a destroy, contact ids stay the same)', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:pressroom-signing-AbC123';
    const reused = synth({ ...realSender, signingSecretArn: arn }).template;
    // The only secrets made are CloudFront's origin header (tests/infra/domain.test.ts) and the admin's.
    expect(Object.keys(reused.findResources('AWS::SecretsManager::Secret')).sort()).toEqual(
      [
        logicalId(reused, 'AWS::SecretsManager::Secret', 'SiteOriginSecret'),
        logicalId(reused, 'AWS::SecretsManager::Secret', 'AdminSecret'),
      ].sort(),
    );
    const vars = Object.values(reused.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.Environment?.Variables?.PRESSROOM_SECRET_ARN)
      .filter(Boolean);
    // send, feedback, public and the admin (its contacts).
    expect(vars).toEqual([arn, arn, arn, arn]);
    reused.hasOutput('SigningSecretArn', { Value: arn });
  });
});

describe('outputs', () => {
  it('give the CLI every name it needs (cdk-outputs.json)', () => {
    expect(Object.keys(t.toJSON().Outputs).sort()).toEqual(
      [
        'AdminUrl',
        'AdminUserPoolId',
        'AlarmTopicArn',
        'DashboardName',
        'DataBucketName',
        'DispatchFunctionArn',
        'DispatchFunctionName',
        'DkimRecord1',
        'DkimRecord2',
        'DkimRecord3',
        'EmbargoDeadLetterQueueUrl',
        'EmbargoScheduleGroupName',
        'LedgerTableName',
        'PressRoomUrl',
        'PublicEndpointUrl',
        'Region',
        'ScheduleDeadLetterQueueArn',
        'ScheduleGroupName',
        'SchedulerRoleArn',
        'SendDeadLetterQueueUrl',
        'SendQueueUrl',
        'SenderIdentity',
        'SesConfigurationSetName',
        'SigningSecretArn',
        'SiteLang',
      ].sort(),
    );
    t.hasOutput('DataBucketName', { Value: { Ref: id.data } });
    t.hasOutput('SiteLang', { Value: 'fr' });
    t.hasOutput('SenderIdentity', { Value: realSender.sender.slice(realSender.sender.indexOf('@') + 1) });
    const titled = synth({ ...realSender, siteTitle: 'Presse – Villes Internet', siteLang: 'en' }).template;
    titled.hasOutput('SiteLang', { Value: 'en' });
    titled.hasOutput('SiteTitle', { Value: 'Presse – Villes Internet' });
    t.hasOutput('SendQueueUrl', { Value: { Ref: id.queue } });
    t.hasOutput('DispatchFunctionName', { Value: { Ref: fn.dispatch } });
    t.hasOutput('PublicEndpointUrl', {
      Value: { 'Fn::GetAtt': [logicalId(t, 'AWS::Lambda::Url', 'PublicFunctionFunctionUrl'), 'FunctionUrl'] },
    });
    t.hasOutput('SchedulerRoleArn', {
      Value: arnOf(logicalId(t, 'AWS::IAM::Role', 'SchedulingSchedulerRole')),
    });
  });
});
