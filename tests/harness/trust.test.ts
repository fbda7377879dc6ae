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

/** The schedule groups, each with the role its schedules run with and the one function they invoke. */
const scheduling = [
  {
    what: 'campaign schedules',
    group: 'SchedulingCampaigns',
    role: 'SchedulingSchedulerRole',
    target: 'Dispatch',
  },
  { what: 'embargo lifts', group: 'EmbargoLiftsGroup', role: 'EmbargoLiftsSchedulerRole', target: 'Publish' },
  { what: 'digests', group: 'DigestsGroup', role: 'DigestsSchedulerRole', target: 'Publish' },
];
const idOf = (ids: string[], prefix: string) => {
  const found = ids.filter((id) => id.startsWith(prefix));
  expect(found, prefix).toHaveLength(1);
  return found[0] as string;
};

describe('trust: the roles schedules run with', () => {
  const groupIds = values.ofType('AWS::Scheduler::ScheduleGroup');
  const schedulerRoles = roleIds.filter((id) => trustedServices(id).includes('scheduler.amazonaws.com'));

  it('are three, one per schedule group', () => {
    expect(schedulerRoles.sort()).toEqual(scheduling.map((s) => idOf(roleIds, s.role)).sort());
    expect(groupIds.sort()).toEqual(scheduling.map((s) => idOf(groupIds, s.group)).sort());
  });

  describe.each(scheduling)('$what', ({ group, role: rolePrefix, target }) => {
    const role = idOf(roleIds, rolePrefix);
    const groupArn = values.getAtt(idOf(groupIds, group), 'Arn');

    it(`may invoke only the ${target.toLowerCase()} function`, () => {
      const fn = idOf(functionIds, target);
      const invoke = (arn: string) =>
        evaluate(values.rolePolicies(role), { action: 'lambda:InvokeFunction', resource: arn }).effect;
      expect(invoke(values.getAtt(fn, 'Arn'))).toBe('allow');
      for (const other of functionIds.filter((id) => id !== fn)) {
        expect(invoke(values.getAtt(other, 'Arn'))).toBe('implicit-deny');
      }
    });

    it('is trusted as AWS documents: scheduler.amazonaws.com, this account, its schedule group ARN as source', () => {
      // https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
      // "aws:SourceArn": "arn:aws:scheduler:<region>:<account>:schedule-group/<group>"
      expect(
        assume(role, 'scheduler.amazonaws.com', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': groupArn }),
        `the trust policy of ${role} refuses Scheduler's own context (aws:SourceArn ${groupArn}): ${JSON.stringify(values.trustPolicy(role))}`,
      ).toBe('allow');
    });

    it('refuses another account, another schedule group (the other ones of the stack too), and other services', () => {
      const otherGroups = [
        `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/someone-else`,
        ...groupIds.map((id) => values.getAtt(id, 'Arn')).filter((arn) => arn !== groupArn),
      ];
      expect(otherGroups).toHaveLength(3);
      expect(
        assume(role, 'scheduler.amazonaws.com', {
          'aws:SourceAccount': '999999999999',
          'aws:SourceArn': groupArn.replace(ACCOUNT, '999999999999'),
        }),
      ).toBe('implicit-deny');
      for (const other of otherGroups) {
        expect(
          assume(role, 'scheduler.amazonaws.com', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': other }),
        ).toBe('implicit-deny');
      }
      expect(assume(role, 'scheduler.amazonaws.com', { 'aws:SourceAccount': ACCOUNT })).toBe('implicit-deny');
      expect(
        assume(role, 'lambda.amazonaws.com', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': groupArn }),
      ).toBe('implicit-deny');
    });
  });
});
