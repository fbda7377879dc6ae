import { describe, expect, it } from 'vitest';
import { campaignKeys, readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { type SendingHold, sendingHoldKey } from '../../lambdas/core/campaigns/hold.ts';
import { getJson } from '../../lambdas/core/store/object-store.ts';
import { definition, registerDraft } from '../support/dispatch-fixtures.ts';
import { eventsMayInvoke, matches, patternRules, transformedInput } from './rules.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * The sending hold on the stack as synthesized: when a review-level SES reputation alarm
 * changes state, CloudWatch's event goes through the template's rule (its pattern and input
 * transformer) to the real dispatch bundle, which holds or releases sending with its own
 * role's grants.
 */

let world: HarnessWorld;
useHarness({ sender: 'presse@villes-internet.net' }, (started) => {
  world = started;
});

/** A "CloudWatch Alarm State Change" event as EventBridge delivers it. */
function alarmEvent(alarmArn: string, state: 'ALARM' | 'OK') {
  const alarmName = alarmArn.split(':alarm:')[1] ?? alarmArn;
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'eu-west-3',
    resources: [alarmArn],
    detail: {
      alarmName,
      state: {
        value: state,
        reason:
          state === 'ALARM'
            ? 'Threshold Crossed: 1 out of the last 1 datapoints [0.061 (07/12/26 06:00:00)] was greater than or equal to the threshold (0.05).'
            : 'Threshold Crossed: 1 out of the last 1 datapoints [0.012] was not greater than or equal to the threshold (0.05).',
        timestamp: new Date().toISOString(),
      },
      previousState: { value: state === 'ALARM' ? 'OK' : 'ALARM', timestamp: new Date().toISOString() },
      configuration: { metrics: [] },
    },
  };
}

describe('the sending hold on the stack as synthesized', () => {
  it('a review-level alarm holds sending through the rule and the dispatch bundle; OK releases it', async () => {
    const [rule, ...others] = patternRules(world).filter(
      (r) => r.pattern['detail-type']?.[0] === 'CloudWatch Alarm State Change',
    );
    expect(others).toEqual([]);
    if (!rule) throw new Error('no alarm rule in the template');
    const alarmArn = rule.pattern.resources?.[0] as string;
    expect(alarmArn).toMatch(/:alarm:/);
    const target = rule.targets[0];
    if (!target) throw new Error('the alarm rule has no target');
    const dispatch = world.container('DispatchFunction');
    expect(target.Arn).toBe(dispatch.spec.arn);
    expect(eventsMayInvoke(world, target.Arn, rule.arn)).toBe('allow');
    // Another alarm's change does not match.
    expect(matches(rule, alarmEvent(alarmArn.replace(/:alarm:.*/, ':alarm:something-else'), 'ALARM'))).toBe(
      false,
    );

    await registerDraft(world.store, definition('etude-tenue'));
    await world.store.put(
      campaignKeys.record('etude-tenue'),
      JSON.stringify({ ...(await readCampaign(world.store, 'etude-tenue')), state: 'sending' }),
    );

    const on = alarmEvent(alarmArn, 'ALARM');
    expect(matches(rule, on)).toBe(true);
    const holding = await dispatch.invoke(transformedInput(target, on));
    expect(holding).toMatchObject({ ok: true, result: { hold: 'on', paused: ['etude-tenue'] } });
    const hold = (await getJson<SendingHold>(world.store, sendingHoldKey))?.value;
    expect(hold).toMatchObject({
      by: on.detail.alarmName,
      reason: expect.stringContaining('Threshold Crossed'),
    });
    expect((await readCampaign(world.store, 'etude-tenue')).state).toBe('paused');

    const off = alarmEvent(alarmArn, 'OK');
    expect(await dispatch.invoke(transformedInput(target, off))).toMatchObject({
      ok: true,
      result: { hold: 'lifted' },
    });
    expect(await world.store.head(sendingHoldKey)).toBeUndefined();
    expect(takeDenials(world)).toEqual([]);
  });
});
