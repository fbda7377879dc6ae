import { createHash } from 'node:crypto';
import type { CfnResource, CfnTemplate } from './assembly.ts';
import type { PolicyDocument, PolicyStatement } from './iam.ts';

/** The account and region the harness deploys to, in its imagination. */
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-3';

/**
 * The template's values as CloudFormation would resolve them on a deploy: `Ref`,
 * `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split` and the pseudo parameters,
 * with fake but consistent physical names (the same resource always gets the same name,
 * bucket, queue URL or ARN, wherever the template refers to it). Queue URLs point at
 * `queueEndpoint`, the fake SQS, the way an emulator's queue URLs do: the SDK sends queue
 * requests to the QueueUrl's host.
 */
export class TemplateValues {
  constructor(
    readonly template: CfnTemplate,
    readonly stackName: string,
    readonly queueEndpoint = `https://sqs.${REGION}.amazonaws.com`,
  ) {}

  resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`the template has no resource ${logicalId}`);
    return resource;
  }

  /** Logical ids of every resource of a type. */
  ofType(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === type)
      .map(([id]) => id);
  }

  /** A physical name CloudFormation would generate: stack-logicalid-SUFFIX. */
  generatedName(logicalId: string, options: { lower?: boolean; max?: number } = {}): string {
    const suffix = createHash('sha256').update(logicalId).digest('hex').slice(0, 12).toUpperCase();
    const base = `${this.stackName}-${logicalId.slice(0, 40)}`;
    const name = `${base}-${suffix}`.slice(-(options.max ?? 64));
    return options.lower ? name.toLowerCase() : name;
  }

  private prop(logicalId: string, name: string): string | undefined {
    const value = this.resource(logicalId).Properties?.[name];
    return value === undefined ? undefined : String(this.resolve(value));
  }

  private arn(service: string, resource: string, region = REGION, account = ACCOUNT): string {
    return `arn:aws:${service}:${region}:${account}:${resource}`;
  }

  /** `Ref` of a resource. */
  ref(logicalId: string): string {
    const { Type } = this.resource(logicalId);
    switch (Type) {
      case 'AWS::S3::Bucket':
        return this.prop(logicalId, 'BucketName') ?? this.generatedName(logicalId, { lower: true, max: 63 });
      case 'AWS::SQS::Queue':
        return `${this.queueEndpoint}/${ACCOUNT}/${this.queueName(logicalId)}`;
      case 'AWS::SNS::Topic':
        return this.arn('sns', this.prop(logicalId, 'TopicName') ?? this.generatedName(logicalId));
      case 'AWS::SecretsManager::Secret':
        return this.arn(
          'secretsmanager',
          `secret:${this.prop(logicalId, 'Name') ?? this.generatedName(logicalId)}-AbCdEf`,
        );
      case 'AWS::SES::ConfigurationSet':
        return this.prop(logicalId, 'Name') ?? this.generatedName(logicalId);
      case 'AWS::SES::EmailIdentity':
        return this.prop(logicalId, 'EmailIdentity') as string;
      case 'AWS::Scheduler::ScheduleGroup':
        return this.prop(logicalId, 'Name') ?? this.generatedName(logicalId);
      case 'AWS::Lambda::Function':
        return this.prop(logicalId, 'FunctionName') ?? this.generatedName(logicalId);
      case 'AWS::IAM::Role':
        return this.prop(logicalId, 'RoleName') ?? this.generatedName(logicalId);
      case 'AWS::KMS::Key':
        return createHash('sha256').update(logicalId).digest('hex').slice(0, 32);
      // Cognito's shapes: "eu-west-3_AbC123xYz", a 26-character client id, the domain's prefix.
      case 'AWS::Cognito::UserPool':
        return `${REGION}_${createHash('sha256').update(logicalId).digest('base64url').replace(/[-_]/g, 'x').slice(0, 9)}`;
      case 'AWS::Cognito::UserPoolClient':
        return createHash('sha256').update(logicalId).digest('hex').slice(0, 26);
      case 'AWS::Cognito::UserPoolDomain':
        return this.prop(logicalId, 'Domain') as string;
      default:
        return this.generatedName(logicalId);
    }
  }

  queueName(logicalId: string): string {
    return this.prop(logicalId, 'QueueName') ?? this.generatedName(logicalId, { max: 80 });
  }

  /** `Fn::GetAtt` of a resource. */
  getAtt(logicalId: string, attribute: string): string {
    const { Type } = this.resource(logicalId);
    const ref = () => this.ref(logicalId);
    const key = `${Type}.${attribute}`;
    switch (key) {
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${ref()}`;
      case 'AWS::S3::Bucket.RegionalDomainName':
        return `${ref()}.s3.${REGION}.amazonaws.com`;
      case 'AWS::S3::Bucket.DomainName':
        return `${ref()}.s3.amazonaws.com`;
      case 'AWS::DynamoDB::Table.Arn':
        return this.arn('dynamodb', `table/${ref()}`);
      case 'AWS::SQS::Queue.Arn':
        return this.arn('sqs', this.queueName(logicalId));
      case 'AWS::SQS::Queue.QueueName':
        return this.queueName(logicalId);
      case 'AWS::SQS::Queue.QueueUrl':
        return ref();
      case 'AWS::SNS::Topic.TopicArn':
        return ref();
      case 'AWS::SNS::Topic.TopicName':
        return ref().split(':').pop() as string;
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${ref()}`);
      case 'AWS::Lambda::Url.FunctionUrl':
        return `https://${createHash('sha256').update(logicalId).digest('hex').slice(0, 32)}.lambda-url.${REGION}.on.aws/`;
      case 'AWS::Lambda::Url.FunctionArn':
        return String(this.resolve(this.resource(logicalId).Properties?.TargetFunctionArn));
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${ACCOUNT}:role/${ref()}`;
      case 'AWS::SES::ConfigurationSet.Arn':
        return this.arn('ses', `configuration-set/${ref()}`);
      case 'AWS::Scheduler::ScheduleGroup.Arn':
        return this.arn('scheduler', `schedule-group/${ref()}`);
      case 'AWS::CloudFront::Distribution.DomainName':
        return `d${createHash('sha256').update(logicalId).digest('hex').slice(0, 13)}.cloudfront.net`;
      case 'AWS::Events::Rule.Arn':
        return this.arn('events', `rule/${ref()}`);
      case 'AWS::CloudWatch::Alarm.Arn':
        return this.arn('cloudwatch', `alarm:${ref()}`);
      case 'AWS::Logs::LogGroup.Arn':
        return this.arn('logs', `log-group:${ref()}:*`);
      case 'AWS::KMS::Key.Arn':
        return this.arn('kms', `key/${ref()}`);
      case 'AWS::SecretsManager::Secret.Id':
        return ref();
      case 'AWS::Cognito::UserPool.Arn':
        return this.arn('cognito-idp', `userpool/${ref()}`);
      case 'AWS::Cognito::UserPool.ProviderURL':
        return `https://cognito-idp.${REGION}.amazonaws.com/${ref()}`;
      default:
        if (Type === 'AWS::SES::EmailIdentity' && attribute.startsWith('DkimDNSToken')) {
          return attribute.includes('Name')
            ? `token${attribute.slice(-1)}._domainkey.${ref()}`
            : `token${attribute.slice(-1)}.dkim.amazonses.com`;
        }
        throw new Error(`the harness cannot resolve Fn::GetAtt ${logicalId}.${attribute} (${Type})`);
    }
  }

  private pseudo(name: string): string {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': ACCOUNT,
      'AWS::Region': REGION,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
      'AWS::StackId': this.arn(
        'cloudformation',
        `stack/${this.stackName}/00000000-0000-0000-0000-000000000000`,
      ),
    };
    const value = pseudo[name];
    if (value === undefined) throw new Error(`unknown pseudo parameter ${name}`);
    return value;
  }

  /** A template value with every intrinsic function resolved. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      const [fn, arg] = first;
      return this.intrinsic(fn, arg);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  private intrinsic(fn: string, arg: unknown): unknown {
    switch (fn) {
      case 'Ref': {
        const name = String(arg);
        return name.startsWith('AWS::') ? this.pseudo(name) : this.ref(name);
      }
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
        return this.getAtt(String(id), String(attribute));
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return (this.resolve(parts) as unknown[]).map(String).join(separator);
      }
      case 'Fn::Select': {
        const [index, items] = arg as [number, unknown];
        return (this.resolve(items) as unknown[])[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [separator, text] = arg as [string, unknown];
        return String(this.resolve(text)).split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] =
          typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
        return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (Object.hasOwn(variables, name)) return String(this.resolve(variables[name]));
          if (name.startsWith('AWS::')) return this.pseudo(name);
          const [id, attribute] = name.split('.');
          return attribute ? this.getAtt(id as string, attribute) : this.ref(id as string);
        });
      }
      default:
        throw new Error(`the harness cannot resolve ${fn}`);
    }
  }

  /** The stack's outputs, resolved. */
  outputs(): Record<string, string> {
    return Object.fromEntries(
      Object.entries(this.template.Outputs ?? {}).map(([name, o]) => [name, String(this.resolve(o.Value))]),
    );
  }

  /** Every policy attached to a role: inline `Policies` and the `AWS::IAM::Policy` resources naming it. */
  rolePolicies(roleId: string): PolicyDocument[] {
    const role = this.resource(roleId);
    const inline = ((role.Properties?.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map(
      (p) => this.resolve(p.PolicyDocument) as PolicyDocument,
    );
    const attached = this.ofType('AWS::IAM::Policy')
      .map((id) => this.resource(id).Properties ?? {})
      .filter((p) =>
        ((p.Roles as unknown[] | undefined) ?? []).some((r) => (r as { Ref?: string }).Ref === roleId),
      )
      .map((p) => this.resolve(p.PolicyDocument) as PolicyDocument);
    const managed = (role.Properties?.ManagedPolicyArns as unknown[] | undefined) ?? [];
    if (managed.length > 0) {
      throw new Error(
        `role ${roleId} has managed policies, which the harness cannot read: ${JSON.stringify(managed)}`,
      );
    }
    return [...inline, ...attached];
  }

  /** A role's trust policy, resolved. */
  trustPolicy(roleId: string): PolicyDocument {
    return this.resolve(this.resource(roleId).Properties?.AssumeRolePolicyDocument) as PolicyDocument;
  }

  /**
   * A function's resource-based policy, from its AWS::Lambda::Permission resources: who may
   * invoke it, with the source conditions Lambda checks.
   */
  lambdaPolicy(functionArn: string): PolicyDocument {
    const Statement = this.ofType('AWS::Lambda::Permission').flatMap((id): PolicyStatement[] => {
      const p = this.resolve(this.resource(id).Properties) as Record<string, string>;
      if (p.FunctionName !== functionArn && p.FunctionName !== functionArn.split(':').pop()) return [];
      const principal: PolicyStatement['Principal'] =
        p.Principal === '*'
          ? '*'
          : p.Principal?.endsWith('.amazonaws.com')
            ? { Service: p.Principal }
            : { AWS: p.Principal ?? '' };
      const condition: Record<string, Record<string, string>> = {};
      if (p.SourceArn) condition.ArnLike = { 'aws:SourceArn': p.SourceArn };
      if (p.SourceAccount) condition.StringEquals = { 'aws:SourceAccount': p.SourceAccount };
      if (p.FunctionUrlAuthType)
        condition.StringEquals = {
          ...condition.StringEquals,
          'lambda:FunctionUrlAuthType': p.FunctionUrlAuthType,
        };
      // Since October 2025 a Function URL call needs lambda:InvokeFunction too, granted this way.
      if (String(p.InvokedViaFunctionUrl) === 'true')
        condition.Bool = { 'lambda:InvokedViaFunctionUrl': 'true' };
      return [
        {
          Effect: 'Allow',
          Action: p.Action ?? '',
          Resource: functionArn,
          Principal: principal,
          Condition: condition,
        },
      ];
    });
    return { Statement };
  }

  /**
   * The resource policies attached to a resource by policy resources of `type` (queue and
   * topic policies name their targets in `property`, by Ref).
   */
  attachedPolicies(
    type: 'AWS::SQS::QueuePolicy' | 'AWS::SNS::TopicPolicy',
    target: string,
  ): PolicyDocument[] {
    const property = type === 'AWS::SQS::QueuePolicy' ? 'Queues' : 'Topics';
    return this.ofType(type)
      .map((id) => this.resolve(this.resource(id).Properties) as Record<string, unknown>)
      .filter((p) => (p[property] as string[]).includes(target))
      .map((p) => p.PolicyDocument as PolicyDocument);
  }

  /**
   * The resource policies that apply to a resource ARN: its bucket's policy (for a bucket or
   * an object), its queue's or its topic's.
   */
  resourcePolicies(arn: string): PolicyDocument[] {
    if (arn.startsWith('arn:aws:s3:::')) {
      const bucket = arn.slice('arn:aws:s3:::'.length).split('/')[0];
      return this.ofType('AWS::S3::BucketPolicy')
        .map(
          (id) =>
            this.resolve(this.resource(id).Properties) as { Bucket: string; PolicyDocument: PolicyDocument },
        )
        .filter((p) => p.Bucket === bucket)
        .map((p) => p.PolicyDocument);
    }
    if (arn.startsWith('arn:aws:sqs:')) {
      const id = this.logicalIdOf('AWS::SQS::Queue', arn, 'Arn');
      return id ? this.attachedPolicies('AWS::SQS::QueuePolicy', this.ref(id)) : [];
    }
    if (arn.startsWith('arn:aws:sns:')) return this.attachedPolicies('AWS::SNS::TopicPolicy', arn);
    return [];
  }

  /** The key policy of the KMS key with this ARN. */
  keyPolicy(keyArn: string): PolicyDocument {
    const id = this.logicalIdOf('AWS::KMS::Key', keyArn, 'Arn');
    if (!id) throw new Error(`no KMS key ${keyArn} in the template`);
    return this.resolve(this.resource(id).Properties?.KeyPolicy) as PolicyDocument;
  }

  /** The logical id of the resource an ARN or name from the template belongs to. */
  logicalIdOf(type: string, value: string, attribute?: string): string | undefined {
    return this.ofType(type).find((id) => (attribute ? this.getAtt(id, attribute) : this.ref(id)) === value);
  }
}
