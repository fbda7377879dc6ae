import { beforeEach, describe, expect, it } from 'vitest';
import type { CampaignDefinition } from '../../lambdas/core/campaigns/campaign.ts';
import type { DispatchReport } from '../../lambdas/core/campaigns/dispatch.ts';
import { startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { definition, journalist } from '../support/dispatch-fixtures.ts';
import { drainAcknowledged, useCampaignHarness } from '../support/harness-campaigns.ts';
import type { SesFault, SesRequest } from './edge.ts';
import { dispatchFunction, type HarnessWorld } from './world.ts';

/**
 * Provider-wide failures and the error budget on the stack as synthesized: the real dispatch
 * and send bundles, with the template's environment, queue settings and IAM, against SES
 * answering with the errors AWS gives (fault injection at the edge). A campaign the provider
 * refuses pauses with the reason and the fix, nobody counted as failed, its queue messages
 * acknowledged and its recipients left pending for a resume (dispatching again); the error
 * budget counts the run over every batch. (SES's "Daily message quota exceeded" does not pause:
 * the campaign waits for its next quota window, pacing.test.ts.)
 */

const context = { sender: 'presse@villes-internet.net', sendRate: 14 };
/** 120 recipients: three queue messages of 50, 50 and 20 (the stack's recipientsPerMessage). */
const audience = 120;
const resumeHint = (name: string) => `resume it with \`pressroom campaign resume ${name} --backend aws\``;

let world: HarnessWorld;
useCampaignHarness(context, audience, (started) => {
  world = started;
});
beforeEach(() => {
  world.edge.sesFault = undefined;
  world.edge.mails.splice(0);
  world.edge.sesFaults.splice(0);
});

/** `pressroom send --backend aws` (and a resume): the record written, dispatch invoked. */
async function dispatch(name: string, extra: Partial<CampaignDefinition> = {}): Promise<DispatchReport> {
  return startCampaign(
    definition(name, { from: { name: 'Villes Internet', address: context.sender }, ...extra }),
    { store: world.store, dispatcher: dispatchFunction(world) },
    `campaigns/${name}.yaml`,
  );
}

/** Runs the send functions until the queue is empty; every queue message must be acknowledged. */
const drain = () => drainAcknowledged(world);

/** Answers the sends `when` picks (given each send and its number from 0) with `f`. */
function fault(f: SesFault, when: (r: SesRequest, n: number) => boolean = () => true) {
  let n = 0;
  return (r: SesRequest) => (when(r, n++) ? f : undefined);
}

describe('provider-wide failures pause a campaign on the stack', () => {
  it.each([
    [
      'compte-suspendu',
      { code: 'AccountSendingPausedException', message: 'Sending paused for this account.' },
      /sending is paused for the whole AWS account .*update-account-sending-enabled/,
    ],
    [
      'expediteur-non-verifie',
      {
        code: 'MessageRejected',
        message: `Email address is not verified. The following identities failed the check in region EU-WEST-3: ${context.sender}`,
      },
      /the sender presse@villes-internet\.net is not a verified identity in SES region EU-WEST-3: verify the address or its domain/,
    ],
    [
      'bac-a-sable',
      {
        code: 'MessageRejected',
        message: `Email address is not verified. The following identities failed the check in region EU-WEST-3: ${journalist(0)}`,
      },
      /the account is in the SES sandbox in region EU-WEST-3: .*Request production access/,
    ],
  ])(
    '%s: paused with the reason and the fix, nobody failed, nothing sent, never "sent"',
    async (name, f, reason) => {
      await dispatch(name);
      world.edge.sesFault = fault(f);
      await drain();
      expect(world.edge.mails).toEqual([]);
      // The first send paused it: the batches after it were dropped without a call to SES.
      expect(world.edge.sesFaults.length).toBeLessThanOrEqual(16);
      const status = await campaignStatus(world.store, name, new Date(), world.ledger);
      expect(status).toMatchObject({ state: 'paused', sent: 0, failed: 0, remaining: audience });
      expect(status.pausedReason).toMatch(reason);
      expect(status.pausedReason).toContain(resumeHint(name));
      expect(status.pausedReason).not.toContain(journalist(0));
    },
  );

  it("a sender outside the stack's SES identity: IAM's AccessDenied is told as the sender to use", async () => {
    const name = 'autre-domaine';
    await dispatch(name, { from: { name: 'Open Cities', address: 'news@open-cities.example.org' } });
    await world.drainQueues();
    expect(world.edge.denials.splice(0).map((d) => d.action)).toContain('ses:SendRawEmail');
    const status = await campaignStatus(world.store, name, new Date(), world.ledger);
    expect(status).toMatchObject({ state: 'paused', sent: 0, failed: 0 });
    expect(status.pausedReason).toContain(
      'the stack may not send from news@open-cities.example.org (IAM denies ses:SendRawEmail on open-cities.example.org: AccessDenied). The SES identity this stack sends from is villes-internet.net: use a sender on villes-internet.net',
    );
  });
});

describe('the error budget counts the campaign, not the batch, on the stack', () => {
  it('one refusal in ten pauses the run once 100 sends were tried over its queue messages of 50', async () => {
    const name = 'trop-de-refus';
    await dispatch(name);
    world.edge.sesFault = fault(
      { code: 'MessageRejected', message: 'Address blacklisted.' },
      (_, n) => n % 10 === 3,
    );
    await drain();

    const status = await campaignStatus(world.store, name, new Date(), world.ledger);
    // No queue message holds 100 recipients: only the run's count can reach the budget.
    expect(status.state).toBe('paused');
    expect(world.edge.sesFaults).toHaveLength(10);
    expect({ sent: status.sent, failed: status.failed }).toEqual({ sent: 90, failed: 10 });
    expect(status.remaining).toBe(audience - 100);
    expect(status.pausedReason).toBe(
      `${status.failed} of 100 sends failed (more than 5%): paused. Check \`pressroom campaign status ${name}\`, fix the cause (the failed addresses and reasons), then ${resumeHint(name)}.`,
    );
  });
});
