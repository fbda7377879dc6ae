import { evaluate } from './iam.ts';
import { ACCOUNT } from './template.ts';
import type { HarnessWorld } from './world.ts';

/** A target of an EventBridge rule, resolved. */
export interface RuleTarget {
  Arn: string;
  Input?: string;
  RetryPolicy?: { MaximumRetryAttempts?: number };
}

/** An enabled scheduled EventBridge rule of the template, resolved. */
export interface ScheduledRule {
  id: string;
  arn: string;
  schedule: string;
  targets: RuleTarget[];
}

/** The template's enabled scheduled rules. */
export function scheduledRules(world: HarnessWorld): ScheduledRule[] {
  const { values } = world;
  return values.ofType('AWS::Events::Rule').flatMap((id) => {
    const p = values.resolve(values.resource(id).Properties) as {
      ScheduleExpression?: string;
      State?: string;
      Targets?: RuleTarget[];
    };
    if (!p.ScheduleExpression || p.State === 'DISABLED') return [];
    return [{ id, arn: values.getAtt(id, 'Arn'), schedule: p.ScheduleExpression, targets: p.Targets ?? [] }];
  });
}

/** Whether EventBridge, for the rule `ruleArn`, may invoke the function `functionArn` (its resource policy). */
export function eventsMayInvoke(world: HarnessWorld, functionArn: string, ruleArn: string): string {
  return evaluate([world.values.lambdaPolicy(functionArn)], {
    action: 'lambda:InvokeFunction',
    resource: functionArn,
    principal: { service: 'events.amazonaws.com' },
    context: { 'aws:SourceArn': ruleArn, 'aws:SourceAccount': ACCOUNT },
  }).effect;
}
