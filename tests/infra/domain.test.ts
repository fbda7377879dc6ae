import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { isPublicPath } from '../../lambdas/core/public/endpoint.ts';
import { siteRequestHeaders } from '../../lambdas/core/public/site-headers.ts';
import { endpointForward, endpointPaths } from '../../lib/site.ts';
import { pathMatches } from '../support/cloudfront.ts';
import { logicalId, realSender, removeOutdirs, synth } from './stack.ts';

/**
 * One public domain: CloudFront sends the public endpoint's paths to the public function's
 * URL, with a secret header beside the visitor's host and address; mails link to the press
 * room's address; a WAF web ACL may be put in front.
 */

afterAll(removeOutdirs);

let t: Template;
beforeAll(() => {
  t = synth(realSender).template;
});

type Behavior = Record<string, unknown> & { PathPattern: string; TargetOriginId: string };
const distributionConfig = (template: Template) =>
  Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]?.Properties.DistributionConfig;
const envOf = (template: Template, description: string) =>
  Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
    String(f.Properties.Description).includes(description),
  )?.Properties.Environment.Variables as Record<string, unknown>;

describe('the endpoint on the press room domain', () => {
  it('routes the endpoint paths to the function URL: every method, no cache, every viewer header but Host', () => {
    const config = distributionConfig(t);
    const url = logicalId(t, 'AWS::Lambda::Url', 'PublicFunctionFunctionUrl');
    const origin = (config.Origins as Record<string, unknown>[]).find((o) =>
      JSON.stringify(o.DomainName).includes(url),
    ) as Record<string, unknown> & { Id: string };
    expect(origin).toMatchObject({
      // The host of https://<id>.lambda-url.<region>.on.aws/
      DomainName: { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [url, 'FunctionUrl'] }] }] },
    });
    expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only' });
    // No origin access control: Lambda would refuse unsigned POST bodies (forms, RFC 8058).
    expect(origin.OriginAccessControlId).toBeUndefined();
    const behaviors = (config.CacheBehaviors as Behavior[]).filter((b) => b.TargetOriginId === origin.Id);
    expect(behaviors.map((b) => b.PathPattern)).toEqual([...endpointPaths]);
    for (const b of behaviors) {
      expect(b, b.PathPattern).toMatchObject({
        AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
        // Managed policies: CachingDisabled, AllViewerExceptHostHeader.
        CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
        OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
        ViewerProtocolPolicy: 'redirect-to-https',
        FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: expect.anything() }],
      });
    }
    t.hasResourceProperties('AWS::CloudFront::Function', {
      FunctionCode: endpointForward,
      FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }),
    });
  });

  it('adds the origin secret, generated in Secrets Manager, which only the public and admin functions may read', () => {
    const secret = logicalId(t, 'AWS::SecretsManager::Secret', 'SiteOriginSecret');
    const config = distributionConfig(t);
    const origin = (config.Origins as { OriginCustomHeaders?: unknown[] }[]).find(
      (o) => o.OriginCustomHeaders,
    );
    expect(origin?.OriginCustomHeaders).toEqual([
      {
        HeaderName: siteRequestHeaders.origin,
        // A dynamic reference: CloudFormation reads the value at deploy, the template never holds it.
        HeaderValue: {
          'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secret }, ':SecretString:::}}']],
        },
      },
    ]);
    expect(envOf(t, 'unsubscribe (page')?.PRESSROOM_ORIGIN_SECRET_ARN).toEqual({ Ref: secret });
    const readers = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes(`"Ref":"${secret}"`),
    );
    // The admin function answers only requests with it (tests/infra/admin.test.ts).
    expect(readers.map((p) => JSON.stringify(p.Properties.Roles)).sort()).toEqual([
      expect.stringContaining('"AdminFunctionRole'),
      expect.stringContaining('"PublicRole'),
    ]);
  });

  it('tells the function the host and the visitor address, over whatever the visitor sent', () => {
    const handler = new Function(`${endpointForward}; return handler;`)() as (event: unknown) => {
      headers: Record<string, { value: string }>;
    };
    const request = handler({
      viewer: { ip: '2001:db8::7' },
      request: {
        uri: '/subscribe',
        headers: {
          host: { value: 'presse.villes-internet.net' },
          [siteRequestHeaders.viewer]: { value: '192.0.2.1' },
          [siteRequestHeaders.host]: { value: 'evil.example' },
        },
      },
    });
    expect(request.headers[siteRequestHeaders.host]).toEqual({ value: 'presse.villes-internet.net' });
    expect(request.headers[siteRequestHeaders.viewer]).toEqual({ value: '2001:db8::7' });
  });

  it("sends exactly the endpoint's paths to the function, and no page of the press room", () => {
    const endpoint = [
      '/subscribe',
      '/subscribe/',
      '/subscribe/confirm/s1.abc.def',
      '/unsubscribe/u1.abc.def',
      '/unsubscribe/u1.abc.def_pdf',
      '/advance/a1.abc.def',
      '/advance/a1.abc.def/pdf',
      '/o/t1.abc.def.gif',
      '/c/t1.abc.def',
    ];
    const pages = [
      siteKeys.index,
      siteKeys.notFound,
      siteKeys.year('2026'),
      siteKeys.tag('subscribe'),
      siteKeys.release('subscribe'),
      siteKeys.release('advance'),
      `${siteKeys.releasePrefix('unsubscribe')}files/subscribe.pdf`,
      siteKeys.rss,
      siteKeys.sitemap,
      siteKeys.newsletters,
      `${siteKeys.newsletterPrefix('2026-03')}index.html`,
      '/subscribers',
      '/unsubscribe',
      '/communiques/index.html',
      '/o',
      '/c',
    ].map((key) => `/${key.replace(/^site\//, '')}`);
    const routed = (path: string) => endpointPaths.some((pattern) => pathMatches(pattern, path));
    for (const path of endpoint) {
      expect(routed(path), path).toBe(true);
      expect(isPublicPath(path), path).toBe(true);
    }
    for (const path of pages) {
      expect(routed(path), path).toBe(false);
      expect(isPublicPath(path), path).toBe(false);
    }
  });
});

describe('mail links on the press room domain', () => {
  const domain = {
    ...realSender,
    siteDomain: 'presse.villes-internet.net',
    certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666',
  };

  it("gives dispatch and send the press room's address; public too with a custom domain", () => {
    const custom = synth(domain, { nag: false }).template;
    for (const fn of ['starts a campaign', 'sends one batch', 'unsubscribe (page'])
      expect(envOf(custom, fn)?.PRESSROOM_PUBLIC_URL, fn).toBe('https://presse.villes-internet.net/');
    const cloudfront = {
      'Fn::Join': [
        '',
        [
          'https://',
          { 'Fn::GetAtt': [logicalId(t, 'AWS::CloudFront::Distribution', 'Site'), 'DomainName'] },
          '/',
        ],
      ],
    };
    for (const fn of ['starts a campaign', 'sends one batch'])
      expect(envOf(t, fn)?.PRESSROOM_PUBLIC_URL, fn).toEqual(cloudfront);
    // CloudFront's domain would be circular for public (the distribution needs its URL).
    expect(envOf(t, 'unsubscribe (page')?.PRESSROOM_PUBLIC_URL).toBeUndefined();
  });

  it('keeps the function URL open for links mailed before, and names it in the outputs', () => {
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    t.hasOutput('PublicEndpointUrl', {
      Value: { 'Fn::GetAtt': [logicalId(t, 'AWS::Lambda::Url', 'PublicFunctionFunctionUrl'), 'FunctionUrl'] },
      Description: Match.stringLikeRegexp('links mailed before'),
    });
  });
});

describe('abuse', () => {
  it('caps confirmation mails per hour: 500 unless confirmationsPerHour says otherwise', () => {
    expect(envOf(t, 'unsubscribe (page')?.PRESSROOM_CONFIRMATIONS_PER_HOUR).toBe('500');
    const low = synth({ ...realSender, confirmationsPerHour: '40' }, { nag: false }).template;
    expect(envOf(low, 'unsubscribe (page')?.PRESSROOM_CONFIRMATIONS_PER_HOUR).toBe('40');
  });

  it('puts a WAF web ACL in front when webAclArn is given (cdk-nag then needs no acknowledgement)', () => {
    expect(distributionConfig(t).WebACLId).toBeUndefined();
    const webAclArn =
      'arn:aws:wafv2:us-east-1:123456789012:global/webacl/pressroom-rate/0a1b2c3d-1111-2222-3333-444455556666';
    // With cdk-nag: AwsSolutions-CFR2 is satisfied by the web ACL itself.
    const guarded = synth({ ...realSender, webAclArn }).template;
    expect(distributionConfig(guarded).WebACLId).toBe(webAclArn);
  });
});
