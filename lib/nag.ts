import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on a construct and everything under it. The reason is
 * kept in the construct's metadata (and in cdk.out's policy validation report).
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  const done = acknowledged.get(scope) ?? new Set<string>();
  if (done.has(id)) return;
  done.add(id);
  acknowledged.set(scope, done);
  Validations.of(scope).acknowledge({ id, reason });
}

const acknowledged = new WeakMap<IConstruct, Set<string>>();

/**
 * Acknowledges AwsSolutions-IAM5 for exactly one wildcard resource (such as the objects
 * under a prefix), named the way cdk-nag names it: `Resource::<DataBucket1234.Arn>/archive/*`.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flat = flattenCfnReference(Stack.of(scope).resolve(resource));
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${flat}]`, reason);
}
