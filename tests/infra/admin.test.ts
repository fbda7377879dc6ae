import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAdminPath } from '../../lambdas/core/admin/admin.ts';
import { siteRequestHeaders } from '../../lambdas/core/public/site-headers.ts';
import { parseConfig } from '../../lib/config.ts';
import { adminPaths, endpointPaths } from '../../lib/site.ts';
import { pathMatches } from '../support/cloudfront.ts';
import { logicalId, realSender, removeOutdirs, synth } from './stack.ts';

/**
 * The web admin on AWS (lib/admin.ts): its Cognito user pool, sign-in domain and app client,
 * and its function behind the distribution's /admin/* (cdk-nag: tests/infra/nag.test.ts; its
 * policy, action by action and key by key: tests/infra/iam.test.ts).
 */

afterAll(removeOutdirs);

let t: Template;
beforeAll(() => {
  t = synth(realSender).template;
});

const only = (template: Template, type: string) => {
  const found = Object.entries(template.findResources(type));
  expect(found, type).toHaveLength(1);
  return found[0] as [string, { Properties: Record<string, unknown> }];
};
type Behavior = Record<string, unknown> & { PathPattern: string; TargetOriginId: string };

describe('the web admin on AWS', () => {
  it('has a user pool whose users the deployer makes: no self sign-up, a strong password, TOTP required, email recovery', () => {
    const [, pool] = only(t, 'AWS::Cognito::UserPool');
    expect(pool.Properties).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
      UsernameAttributes: ['email'],
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
    });
  });

  it("has an app client with the code flow only, no secret, back to the press room's /admin/auth/callback", () => {
    const [distribution] = Object.keys(t.findResources('AWS::CloudFront::Distribution'));
    const [, client] = only(t, 'AWS::Cognito::UserPoolClient');
    const onSite = (path: string) => ({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distribution, 'DomainName'] }, path]],
    });
    expect(client.Properties).toMatchObject({
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email'],
      GenerateSecret: false,
      SupportedIdentityProviders: ['COGNITO'],
      PreventUserExistenceErrors: 'ENABLED',
      CallbackURLs: [onSite('/admin/auth/callback')],
      LogoutURLs: [onSite('/admin/sign-in')],
    });
    // No password sign-in through the API: the sign-in page only.
    expect(client.Properties.ExplicitAuthFlows).toBeUndefined();
    const [, domain] = only(t, 'AWS::Cognito::UserPoolDomain');
    expect(domain.Properties.Domain).toEqual({ 'Fn::Join': ['-', ['pressroom', { Ref: 'AWS::AccountId' }]] });
  });

  it('sends /admin and /admin/* to the admin function: every method, no cache, every header but Host, the secret header, the host passed on', () => {
    const config = Object.values(t.findResources('AWS::CloudFront::Distribution'))[0]?.Properties
      .DistributionConfig as { Origins: Record<string, unknown>[]; CacheBehaviors: Behavior[] };
    const url = logicalId(t, 'AWS::Lambda::Url', 'AdminFunctionFunctionUrl');
    const origin = config.Origins.find((o) => JSON.stringify(o.DomainName).includes(url)) as Record<
      string,
      unknown
    > & { Id: string };
    // Not origin access control: Lambda would refuse the forms' unsigned POST bodies.
    expect(origin.OriginAccessControlId).toBeUndefined();
    expect(origin.OriginCustomHeaders).toEqual([
      {
        HeaderName: siteRequestHeaders.origin,
        HeaderValue: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      },
    ]);
    const behaviors = config.CacheBehaviors.filter((b) => b.TargetOriginId === origin.Id);
    expect(behaviors.map((b) => b.PathPattern)).toEqual([...adminPaths]);
    const publicForward = config.CacheBehaviors.find(
      (b) => b.PathPattern === endpointPaths[0],
    )?.FunctionAssociations;
    for (const b of behaviors)
      expect(b, b.PathPattern).toMatchObject({
        AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
        CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
        OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
        ViewerProtocolPolicy: 'redirect-to-https',
        // The same CloudFront Function as the public endpoint's: the host, the visitor.
        FunctionAssociations: publicForward,
      });
    // Every admin path goes there, and no press room key or public path does.
    for (const path of [
      '/admin',
      '/admin/',
      '/admin/releases',
      '/admin/api/openapi.json',
      '/admin/auth/callback',
    ])
      expect(
        behaviors.some((b) => pathMatches(b.PathPattern, path)),
        path,
      ).toBe(true);
    for (const path of ['/administration/', '/index.html', '/subscribe', '/releases/admin/'])
      expect(isAdminPath(path), path).toBe(false);
  });

  it('leaves the admin its own page policies: HSTS and nosniff only, no referrer or frame override', () => {
    const [, policy] = Object.entries(t.findResources('AWS::CloudFront::ResponseHeadersPolicy')).find(
      ([id]) => id.startsWith('SiteAdminHeaders'),
    ) as [
      string,
      { Properties: { ResponseHeadersPolicyConfig: { SecurityHeadersConfig: Record<string, unknown> } } },
    ];
    expect(Object.keys(policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig).sort()).toEqual([
      'ContentTypeOptions',
      'StrictTransportSecurity',
    ]);
  });

  it('gives the function the pool, its domain and the name of its secret, never a reference to the client (a loop)', () => {
    const fn =
      t.findResources('AWS::Lambda::Function')[logicalId(t, 'AWS::Lambda::Function', 'AdminFunction')];
    const vars = fn?.Properties.Environment.Variables as Record<string, unknown>;
    const pool = logicalId(t, 'AWS::Cognito::UserPool', 'AdminUsers');
    const domain = logicalId(t, 'AWS::Cognito::UserPoolDomain', 'AdminUsersDomain');
    expect(vars).toMatchObject({
      PRESSROOM_ADMIN_USER_POOL_ID: { Ref: pool },
      PRESSROOM_ADMIN_AUTH_URL: {
        'Fn::Join': [
          '',
          ['https://', { Ref: domain }, '.auth.', { Ref: 'AWS::Region' }, '.amazoncognito.com'],
        ],
      },
      PRESSROOM_ORIGIN_SECRET_ARN: { Ref: logicalId(t, 'AWS::SecretsManager::Secret', 'SiteOriginSecret') },
      PRESSROOM_TEMPLATES_DIR: '/var/task/templates',
    });
    // CloudFront's own address is made after the function: the handler takes the request's host.
    expect(vars.PRESSROOM_SITE_URL).toBeUndefined();
    const secretId = logicalId(t, 'AWS::SecretsManager::Secret', 'AdminSecret');
    const secret = t.findResources('AWS::SecretsManager::Secret')[secretId];
    expect(vars.PRESSROOM_ADMIN_SECRET_NAME).toEqual(secret?.Properties.Name);
    expect(JSON.stringify(vars)).not.toContain(secretId);
    expect(JSON.stringify(vars)).not.toContain('AdminUsersClient');
    expect(secret?.Properties.GenerateSecretString).toMatchObject({
      GenerateStringKey: 'sessionKey',
      PasswordLength: 64,
      SecretStringTemplate: expect.objectContaining({ 'Fn::Join': expect.anything() }),
    });
    // The Function URL is open: the function refuses what lacks CloudFront's secret header.
    t.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [logicalId(t, 'AWS::Lambda::Function', 'AdminFunction'), 'Arn'] },
    });
  });

  it('with a custom domain: the callback and the function are on it', () => {
    const custom = synth(
      {
        ...realSender,
        siteDomain: 'presse.villes-internet.net',
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666',
      },
      { nag: false },
    ).template;
    const [, client] = only(custom, 'AWS::Cognito::UserPoolClient');
    expect(client.Properties.CallbackURLs).toEqual([
      'https://presse.villes-internet.net/admin/auth/callback',
    ]);
    const fn =
      custom.findResources('AWS::Lambda::Function')[
        logicalId(custom, 'AWS::Lambda::Function', 'AdminFunction')
      ];
    expect(fn?.Properties.Environment.Variables.PRESSROOM_SITE_URL).toBe(
      'https://presse.villes-internet.net/',
    );
  });

  it('refuses a stack name Cognito would refuse in the sign-in domain, saying why', () => {
    for (const stackName of ['aws-presse', 'PresseAmazon', 'Cognito-Salle', `P${'r'.repeat(50)}`])
      expect(() => parseConfig({ ...realSender, stackName }), stackName).toThrow(
        /stackName.*must be 50 characters at most, without "aws", "amazon" or "cognito": the web admin's sign-in domain/,
      );
    expect(parseConfig({ ...realSender, stackName: 'Presse-Villes-Internet' }).stackName).toBe(
      'Presse-Villes-Internet',
    );
  });
});
