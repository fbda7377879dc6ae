import { afterAll, describe, expect, it } from 'vitest';
import { removeOutdirs, synth } from '../infra/stack.ts';
import type { CfnTemplate } from './assembly.ts';
import { evaluate } from './iam.ts';
import { ACCOUNT, REGION, TemplateValues } from './template.ts';

/**
 * Who may assume which role, and who may invoke which function, read from the template and
 * decided by the harness's IAM evaluator with the context keys AWS documents for each
 * service. No bundling: the template alone decides.
 */

afterAll(removeOutdirs);

const { stack, template } = synth({ sender: 'presse@villes-internet.net' }, { nag: false });
const values = new TemplateValues(template.toJSON() as CfnTemplate, stack.stackName);

const roleIds = values.ofType('AWS::IAM::Role');
const functionIds = values
  .ofType('AWS::Lambda::Function')
  .filter((id) => !id.startsWith('BucketNotificationsHandler'));
const roleOf = (functionId: string) =>
  (values.resource(functionId).Properties as { Role: { 'Fn::GetAtt': [string, string] } }).Role[
    'Fn::GetAtt'
  ][0];
/** The services a role's trust policy names. */
const trustedServices = (roleId: string) =>
  [values.trustPolicy(roleId).Statement]
    .flat()
    .flatMap((s) => (s.Principal && s.Principal !== '*' ? [s.Principal.Service ?? []].flat() : []));
const assume = (roleId: string, service: string, context: Record<string, string> = {}) =>
  evaluate([values.trustPolicy(roleId)], { action: 'sts:AssumeRole', principal: { service }, context })
    .effect;

describe('trust: function roles', () => {
  it.each(functionIds)(
    '%s: only lambda.amazonaws.com may assume its role, and nothing else names it',
    (id) => {
      const role = roleOf(id);
      expect(assume(role, 'lambda.amazonaws.com')).toBe('allow');
      for (const other of ['scheduler.amazonaws.com', 'states.amazonaws.com', 'ec2.amazonaws.com']) {
        expect(assume(role, other)).toBe('implicit-deny');
      }
      const anyAccount = evaluate([values.trustPolicy(role)], {
        action: 'sts:AssumeRole',
        principal: { arn: `arn:aws:iam::${ACCOUNT}:role/someone` },
      });
      expect(anyAccount.effect).toBe('implicit-deny');
    },
  );
});

describe('trust: the role campaign schedules run with', () => {
  const groupIds = values.ofType('AWS::Scheduler::ScheduleGroup');
  const schedulerRoles = roleIds.filter((id) => trustedServices(id).includes('scheduler.amazonaws.com'));

  it('exists, with one schedule group, and may invoke only the dispatch function', () => {
    expect(schedulerRoles).toHaveLength(1);
    expect(groupIds).toHaveLength(1);
    const role = schedulerRoles[0] as string;
    const dispatch = functionIds.find((id) => id.startsWith('Dispatch')) as string;
    const invoke = (arn: string) =>
      evaluate(values.rolePolicies(role), { action: 'lambda:InvokeFunction', resource: arn }).effect;
    expect(invoke(values.getAtt(dispatch, 'Arn'))).toBe('allow');
    for (const other of functionIds.filter((id) => id !== dispatch)) {
      expect(invoke(values.getAtt(other, 'Arn'))).toBe('implicit-deny');
    }
  });

  it('is trusted as AWS documents: scheduler.amazonaws.com, this account, the schedule group ARN as source', () => {
    const role = schedulerRoles[0] as string;
    const groupArn = values.getAtt(groupIds[0] as string, 'Arn');
    // https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
    // "aws:SourceArn": "arn:aws:scheduler:<region>:<account>:schedule-group/<group>"
    expect(
      assume(role, 'scheduler.amazonaws.com', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': groupArn }),
      `the trust policy of ${role} refuses Scheduler's own context (aws:SourceArn ${groupArn}): ${JSON.stringify(values.trustPolicy(role))}`,
    ).toBe('allow');
  });

  it('refuses another account, another schedule group, and other services', () => {
    const role = schedulerRoles[0] as string;
    const groupArn = values.getAtt(groupIds[0] as string, 'Arn');
    const otherGroup = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/someone-else`;
    expect(
      assume(role, 'scheduler.amazonaws.com', {
        'aws:SourceAccount': '999999999999',
        'aws:SourceArn': groupArn.replace(ACCOUNT, '999999999999'),
      }),
    ).toBe('implicit-deny');
    expect(
      assume(role, 'scheduler.amazonaws.com', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': otherGroup }),
    ).toBe('implicit-deny');
    expect(assume(role, 'scheduler.amazonaws.com', { 'aws:SourceAccount': ACCOUNT })).toBe('implicit-deny');
    expect(
      assume(role, 'lambda.amazonaws.com', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': groupArn }),
    ).toBe('implicit-deny');
  });
});
