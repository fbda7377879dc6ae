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

/** An enabled EventBridge rule of the template that matches events (an event pattern). */
export interface PatternRule {
  id: string;
  arn: string;
  pattern: { source?: string[]; 'detail-type'?: string[]; resources?: string[] };
  targets: (RuleTarget & {
    InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
  })[];
}

/** The template's enabled event-pattern rules. */
export function patternRules(world: HarnessWorld): PatternRule[] {
  const { values } = world;
  return values.ofType('AWS::Events::Rule').flatMap((id) => {
    const p = values.resolve(values.resource(id).Properties) as {
      EventPattern?: PatternRule['pattern'];
      State?: string;
      Targets?: PatternRule['targets'];
    };
    if (!p.EventPattern || p.State === 'DISABLED') return [];
    return [{ id, arn: values.getAtt(id, 'Arn'), pattern: p.EventPattern, targets: p.Targets ?? [] }];
  });
}

/** Whether an event matches the rule's pattern (the fields pressroom's rules use). */
export function matches(
  rule: PatternRule,
  event: { source: string; 'detail-type': string; resources: string[] },
): boolean {
  const { source, 'detail-type': detailType, resources } = rule.pattern;
  return (
    (!source || source.includes(event.source)) &&
    (!detailType || detailType.includes(event['detail-type'])) &&
    (!resources || event.resources.some((r) => resources.includes(r)))
  );
}

/**
 * What EventBridge hands the target: the input transformer applied to the event, as AWS
 * documents it: a placeholder standing for a JSON value (`{"state": <state>}`) takes the value
 * at its path as JSON (a string with its quotes); one inside a string (`"is <state>"`) takes the
 * text.
 */
export function transformedInput(target: PatternRule['targets'][number], event: unknown): unknown {
  const transformer = target.InputTransformer;
  if (!transformer) return target.Input !== undefined ? JSON.parse(target.Input) : event;
  let text = transformer.InputTemplate;
  for (const [name, jsonPath] of Object.entries(transformer.InputPathsMap ?? {})) {
    let value: unknown = event;
    for (const part of jsonPath.replace(/^\$\./, '').split('.'))
      value = (value as Record<string, unknown> | undefined)?.[part];
    const json = value === undefined ? 'null' : JSON.stringify(value);
    text = text.replace(
      new RegExp(`([:\\[,]\\s*)<${name}>`, 'g'),
      (_m, before: string) => `${before}${json}`,
    );
    text = text.replaceAll(
      `<${name}>`,
      typeof value === 'string' ? JSON.stringify(value).slice(1, -1) : json,
    );
  }
  return JSON.parse(text);
}
