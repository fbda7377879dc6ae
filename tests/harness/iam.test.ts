import { describe, expect, it } from 'vitest';
import { evaluate, type PolicyDocument, UnsupportedConditionError, wildcard } from './iam.ts';

const bucket = 'arn:aws:s3:::pressroom-data';
const policy = (...Statement: PolicyDocument['Statement'][]): PolicyDocument[] => [
  { Version: '2012-10-17', Statement: Statement.flat() },
];

describe('IAM evaluation: actions and resources', () => {
  const role = policy(
    { Effect: 'Allow', Action: 's3:GetObject', Resource: [`${bucket}/archive/*`, `${bucket}/site/*`] },
    { Effect: 'Allow', Action: ['s3:PutObject'], Resource: `${bucket}/publications/*.errors.json` },
    { Effect: 'Allow', Action: 'ses:GetSendQuota', Resource: '*' },
  );

  it('allows an action on a resource a pattern covers', () => {
    expect(evaluate(role, { action: 's3:GetObject', resource: `${bucket}/archive/a/b.html` }).effect).toBe(
      'allow',
    );
  });

  it('denies implicitly what no statement allows: another prefix, another action', () => {
    expect(evaluate(role, { action: 's3:GetObject', resource: `${bucket}/contacts/x.json` }).effect).toBe(
      'implicit-deny',
    );
    expect(evaluate(role, { action: 's3:DeleteObject', resource: `${bucket}/archive/x` }).effect).toBe(
      'implicit-deny',
    );
  });

  it('reads * inside a pattern as any characters, slashes included, and nothing beyond its suffix', () => {
    const allowed = `${bucket}/publications/2026/etude.errors.json`;
    expect(evaluate(role, { action: 's3:PutObject', resource: allowed }).effect).toBe('allow');
    expect(
      evaluate(role, { action: 's3:PutObject', resource: `${bucket}/publications/etude.md` }).effect,
    ).toBe('implicit-deny');
  });

  it('matches actions without regard to case, resources with it', () => {
    expect(evaluate(role, { action: 'S3:getobject', resource: `${bucket}/archive/x` }).effect).toBe('allow');
    expect(evaluate(role, { action: 's3:GetObject', resource: `${bucket}/Archive/x` }).effect).toBe(
      'implicit-deny',
    );
  });

  it('takes action wildcards and the "*" resource', () => {
    const admin = policy({ Effect: 'Allow', Action: 'sqs:*', Resource: '*' });
    expect(evaluate(admin, { action: 'sqs:SendMessage', resource: 'arn:aws:sqs:eu-west-3:1:q' }).effect).toBe(
      'allow',
    );
    expect(evaluate(admin, { action: 'sns:Publish', resource: 'arn:aws:sns:eu-west-3:1:t' }).effect).toBe(
      'implicit-deny',
    );
    expect(wildcard('s3:Get?bject', true).test('s3:GetObject')).toBe(true);
  });

  it('lets an explicit Deny win over an Allow, NotResource included', () => {
    const confined = policy(
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/*` },
      { Effect: 'Deny', Action: 's3:GetObject', NotResource: `${bucket}/site/*` },
    );
    expect(evaluate(confined, { action: 's3:GetObject', resource: `${bucket}/site/index.html` }).effect).toBe(
      'allow',
    );
    const decision = evaluate(confined, { action: 's3:GetObject', resource: `${bucket}/contacts/a` });
    expect(decision.effect).toBe('explicit-deny');
    expect(decision.statement?.Effect).toBe('Deny');
  });

  it('reads NotAction as every action but those', () => {
    const all = policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
    expect(evaluate(all, { action: 's3:GetObject', resource: `${bucket}/a` }).effect).toBe('allow');
    expect(evaluate(all, { action: 'iam:PassRole', resource: 'arn:aws:iam::1:role/r' }).effect).toBe(
      'implicit-deny',
    );
  });
});

describe('IAM evaluation: trust policies and conditions', () => {
  const groupArn = 'arn:aws:scheduler:eu-west-3:123456789012:schedule-group/campaigns';
  const trust = policy({
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Principal: { Service: 'scheduler.amazonaws.com' },
    Condition: {
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: { 'aws:SourceArn': groupArn },
    },
  });
  const assume = (service: string, context: Record<string, string>) =>
    evaluate(trust, { action: 'sts:AssumeRole', principal: { service }, context }).effect;

  it('lets the named service assume the role when every condition holds', () => {
    expect(
      assume('scheduler.amazonaws.com', { 'aws:SourceAccount': '123456789012', 'aws:SourceArn': groupArn }),
    ).toBe('allow');
  });

  it('refuses another service, another account, another source ARN or a missing key', () => {
    const context = { 'aws:SourceAccount': '123456789012', 'aws:SourceArn': groupArn };
    expect(assume('lambda.amazonaws.com', context)).toBe('implicit-deny');
    expect(assume('scheduler.amazonaws.com', { ...context, 'aws:SourceAccount': '999999999999' })).toBe(
      'implicit-deny',
    );
    expect(assume('scheduler.amazonaws.com', { ...context, 'aws:SourceArn': `${groupArn}-other` })).toBe(
      'implicit-deny',
    );
    expect(assume('scheduler.amazonaws.com', { 'aws:SourceAccount': '123456789012' })).toBe('implicit-deny');
  });

  it('reads condition key names without regard to case', () => {
    const upper = policy({
      Effect: 'Allow',
      Action: 'sns:Publish',
      Principal: { Service: 'ses.amazonaws.com' },
      Resource: '*',
      Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' } },
    });
    const publish = (account: string) =>
      evaluate(upper, {
        action: 'sns:Publish',
        resource: 'arn:aws:sns:eu-west-3:123456789012:t',
        principal: { service: 'ses.amazonaws.com' },
        context: { 'aws:SourceAccount': account },
      }).effect;
    expect(publish('123456789012')).toBe('allow');
    expect(publish('999999999999')).toBe('implicit-deny');
  });

  it('matches ArnLike wildcards: a schedule pattern does not cover the group ARN', () => {
    const schedules = policy({
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Service: 'scheduler.amazonaws.com' },
      Condition: {
        ArnLike: { 'aws:SourceArn': 'arn:aws:scheduler:eu-west-3:123456789012:schedule/campaigns/*' },
      },
    });
    const ask = (arn: string) =>
      evaluate(schedules, {
        action: 'sts:AssumeRole',
        principal: { service: 'scheduler.amazonaws.com' },
        context: { 'aws:SourceArn': arn },
      }).effect;
    expect(ask('arn:aws:scheduler:eu-west-3:123456789012:schedule/campaigns/lancement')).toBe('allow');
    expect(ask(groupArn)).toBe('implicit-deny');
  });

  it('reads negated operators as true for a missing key, IfExists as true too, Null as presence', () => {
    const conditioned = (Condition: Record<string, Record<string, string>>) =>
      policy({ Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket, Condition });
    const list = (c: Record<string, Record<string, string>>, context: Record<string, string> = {}) =>
      evaluate(conditioned(c), { action: 's3:ListBucket', resource: bucket, context }).effect;
    expect(list({ StringNotLike: { 's3:prefix': 'contacts/*' } })).toBe('allow');
    expect(list({ StringNotLike: { 's3:prefix': 'contacts/*' } }, { 's3:prefix': 'contacts/a' })).toBe(
      'implicit-deny',
    );
    expect(list({ StringLike: { 's3:prefix': 'archive/*' } })).toBe('implicit-deny');
    expect(list({ StringLikeIfExists: { 's3:prefix': 'archive/*' } })).toBe('allow');
    expect(list({ StringLike: { 's3:prefix': 'archive/*' } }, { 's3:prefix': 'archive/x/' })).toBe('allow');
    expect(list({ Null: { 's3:prefix': 'true' } })).toBe('allow');
    expect(list({ Null: { 's3:prefix': 'false' } })).toBe('implicit-deny');
    expect(list({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'true' })).toBe(
      'implicit-deny',
    );
  });

  it('lets "*" and account principals through, and says so for an operator it does not know', () => {
    const open = policy({
      Effect: 'Allow',
      Action: 'lambda:InvokeFunctionUrl',
      Principal: '*',
      Resource: '*',
    });
    expect(
      evaluate(open, { action: 'lambda:InvokeFunctionUrl', resource: 'arn:x', principal: {} }).effect,
    ).toBe('allow');
    const account = policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: '123456789012' } });
    expect(
      evaluate(account, {
        action: 'sts:AssumeRole',
        principal: { arn: 'arn:aws:iam::123456789012:role/operator' },
      }).effect,
    ).toBe('allow');
    const odd = policy({
      Effect: 'Allow',
      Action: '*',
      Resource: '*',
      Condition: { DateGreaterThan: { k: 'v' } },
    });
    expect(() => evaluate(odd, { action: 's3:GetObject', resource: bucket, context: { k: 'v' } })).toThrow(
      UnsupportedConditionError,
    );
  });
});
