import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from './assembly.ts';
import { ACCOUNT, REGION, TemplateValues } from './template.ts';

const template: CfnTemplate = {
  Resources: {
    Data: { Type: 'AWS::S3::Bucket' },
    Named: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'press-archive' } },
    Queue: { Type: 'AWS::SQS::Queue' },
    Group: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: 'campaigns' } },
    Identity: { Type: 'AWS::SES::EmailIdentity', Properties: { EmailIdentity: 'villes-internet.net' } },
    Role: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } },
          ],
        },
        Policies: [
          {
            PolicyName: 'inline',
            PolicyDocument: {
              Statement: [
                { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': ['Data', 'Arn'] } },
              ],
            },
          },
        ],
      },
    },
    Policy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 's3:GetObject',
              Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Data', 'Arn'] }, '/archive/*']] },
            },
          ],
        },
      },
    },
  },
  Outputs: { GroupArn: { Value: { 'Fn::GetAtt': ['Group', 'Arn'] } } },
};
const values = new TemplateValues(template, 'Pressroom', 'http://127.0.0.1:4566');

describe('template values: intrinsic functions resolved to consistent fake names', () => {
  it('gives a resource the same generated name wherever it is referred to, and keeps given names', () => {
    const bucket = values.resolve({ Ref: 'Data' });
    expect(bucket).toMatch(/^pressroom-data-[0-9a-f]{12}$/);
    expect(values.resolve({ 'Fn::GetAtt': ['Data', 'Arn'] })).toBe(`arn:aws:s3:::${bucket}`);
    expect(values.resolve({ Ref: 'Named' })).toBe('press-archive');
  });

  it('puts queue URLs on the given endpoint, with the ARN of the same name', () => {
    const url = values.resolve({ Ref: 'Queue' }) as string;
    const name = url.split('/').pop();
    expect(url).toBe(`http://127.0.0.1:4566/${ACCOUNT}/${name}`);
    expect(values.getAtt('Queue', 'Arn')).toBe(`arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`);
  });

  it('resolves Join, Sub, Select, Split and the pseudo parameters', () => {
    expect(
      values.resolve({
        'Fn::Join': [
          ':',
          [
            'arn',
            { Ref: 'AWS::Partition' },
            'ses',
            { Ref: 'AWS::Region' },
            { Ref: 'AWS::AccountId' },
            'identity/',
            { Ref: 'Identity' },
          ],
        ],
      }),
    ).toBe(`arn:aws:ses:${REGION}:${ACCOUNT}:identity/:villes-internet.net`);
    expect(
      values.resolve({
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
        'Fn::Sub': 'arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${Group}/*',
      }),
    ).toBe(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/campaigns/*`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
    expect(values.resolve({ 'Fn::Sub': ['${Arn}/x', { Arn: { 'Fn::GetAtt': ['Named', 'Arn'] } }] })).toBe(
      'arn:aws:s3:::press-archive/x',
    );
    expect(values.resolve({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] })).toBe('b');
    expect(values.outputs()).toEqual({
      GroupArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/campaigns`,
    });
  });

  it("gathers a role's inline and attached policies, resolved, and its trust policy", () => {
    const bucketArn = values.getAtt('Data', 'Arn');
    expect(values.rolePolicies('Role').map((p) => p.Statement)).toEqual([
      [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn }],
      [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn}/archive/*` }],
    ]);
    expect(values.trustPolicy('Role').Statement).toEqual([
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  it('says which attribute or function it cannot resolve, instead of guessing', () => {
    expect(() => values.resolve({ 'Fn::GetAtt': ['Queue', 'Nonsense'] })).toThrow(
      /Fn::GetAtt Queue.Nonsense/,
    );
    expect(() => values.resolve({ 'Fn::If': ['c', 1, 2] })).toThrow(/Fn::If/);
  });
});
