import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localSourceFiles } from '../../lambdas/adapters/local-files.ts';
import { stopCampaign } from '../../lambdas/core/campaigns/control.ts';
import type { DispatchReport } from '../../lambdas/core/campaigns/dispatch.ts';
import type { CampaignDispatcher } from '../../lambdas/core/campaigns/remote.ts';
import { resumeCampaignRemotely, startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { type IssueManifest, newsletterKeys } from '../../lambdas/core/newsletter/catalog.ts';
import { resolveIssue } from '../../lambdas/core/newsletter/resolve.ts';
import {
  awaitOutcome,
  planIssueUpload,
  planUpload,
  snapshotOutcome,
  uploadPlan,
} from '../../lambdas/core/publication/upload.ts';
import { reportKeyOf } from '../../lambdas/handlers/publish.ts';
import { definition, importJournalists, journalist } from '../support/dispatch-fixtures.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * The command line's `--backend aws` paths of item 11, against the stack as synthesized:
 * `newsletter publish` uploads where the publish function takes issues and gets its result;
 * `campaign stop` closes a dispatched run so that the send function drops its queued batches,
 * leaving their recipients pending; `campaign resume` dispatches again, and everyone ends
 * with exactly one message. No call is denied by the calling function's role.
 */

const context = { sender: 'presse@villes-internet.net', sendRate: 14 };
const examples = path.resolve(import.meta.dirname, '../../examples');
const release = 'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes';

let world: HarnessWorld;
useHarness(context, (started) => {
  world = started;
});

const denials = (): string[] => takeDenials(world);

/** `pressroom send|campaign resume --backend aws`: the dispatch function invoked on demand. */
const dispatcher: CampaignDispatcher = {
  async dispatch(campaign, options = {}) {
    const invocation = await world.container('Dispatch').invoke<DispatchReport>({ campaign, ...options });
    if (!invocation.ok) throw new Error(invocation.error.errorMessage);
    return invocation.result;
  },
};

/** The send queue: the one dispatch filled. */
const sendQueue = () => {
  const queue = [...world.edge.queues.values()].find((q) => q.length > 0);
  if (!queue) throw new Error('no queue holds a message');
  return queue;
};

describe('newsletter publish --backend aws on the stack as synthesized', () => {
  it('uploads the releases and the issue as the command plans them; the publish function publishes the issue', async () => {
    for (const name of ['2021-06-08-numerique-gestion-de-crise.md', '2024-03-12-open-data-barometer.md']) {
      const plan = await planUpload(path.join(examples, 'publications', name), localSourceFiles);
      await uploadPlan(plan, localSourceFiles, world.store);
    }
    const releases = await world.deliverS3Notifications();
    expect(releases.map((d) => d.invocation)).toEqual(
      Array(2).fill(
        expect.objectContaining({ ok: true, result: [expect.objectContaining({ outcome: 'published' })] }),
      ),
    );

    const file = path.join(examples, 'newsletters', '2024-03-lettre.md');
    const plan = await planIssueUpload(file, localSourceFiles, async (loaded) => {
      await resolveIssue(loaded, {
        store: world.store,
        siteUrl: world.outputs.PressRoomUrl as string,
        now: new Date(),
      });
    });
    expect(plan.key).toBe('publications/newsletters/2024-03-lettre.md');
    expect(plan.items.map((i) => i.key)).toEqual([
      'publications/organizations/villes-internet.yaml',
      'publications/newsletters/2024-03-lettre.md',
    ]);
    const manifestKey = newsletterKeys.manifest(plan.id);
    const reportKey = reportKeyOf(plan.key);
    const before = await snapshotOutcome(world.store, manifestKey, reportKey);
    await uploadPlan(plan, localSourceFiles, world.store);
    const waiting = awaitOutcome<IssueManifest>(
      world.store,
      { manifestKey, reportKey, before },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    const [delivery] = await world.deliverS3Notifications();
    expect(delivery?.function).toMatch(/^PublishFunction/);
    const outcome = await waiting;
    expect(outcome).toMatchObject({
      outcome: 'published',
      manifest: { summary: { id: '2024-03-lettre', visibility: 'public' } },
    });
    expect(denials()).toEqual([]);
  });
});

describe('campaign stop and resume --backend aws on the stack as synthesized', () => {
  const name = 'arret-reprise';
  const recipients = 120;

  it('a stop after the first batch: the queued batches are dropped, their recipients left pending', async () => {
    await importJournalists(world.store, contactKeys(world.secret), recipients);
    const report = await startCampaign(
      definition(name, { publication: release, from: { name: 'Villes Internet', address: context.sender } }),
      { store: world.store, dispatcher },
      `campaigns/${name}.yaml`,
    );
    expect(report).toMatchObject({ enqueued: recipients, batches: 3 });
    // The first batch is sent; the others wait on the queue.
    const queue = sendQueue();
    const waiting = queue.splice(1);
    await world.drainQueues();
    expect(world.edge.mails).toHaveLength(50);

    const stopped = await stopCampaign(name, {
      store: world.store,
      by: 'alice@poste-presse',
      backendFlag: ' --backend aws',
    });
    expect(stopped.dispatchedRunClosed).toBe(report.run);
    queue.push(...waiting);
    const dropped = await world.drainQueues();
    expect(dropped.map((d) => d.invocation)).toEqual([
      expect.objectContaining({ ok: true, result: { batchItemFailures: [] } }),
    ]);
    expect(queue).toHaveLength(0);
    expect(world.edge.mails).toHaveLength(50);
    const status = await campaignStatus(world.store, name, new Date(), world.ledger);
    expect(status).toMatchObject({ state: 'paused', sent: 50, failed: 0, uncertain: 0, remaining: 70 });
    expect(status.pausedReason).toMatch(/^stopped by alice@poste-presse at /);
    expect(denials()).toEqual([]);
  });

  it('a resume dispatches only the pending recipients, and everyone ends with exactly one message', async () => {
    const report = await resumeCampaignRemotely(name, { store: world.store, dispatcher });
    expect(report).toMatchObject({ enqueued: 70, alreadyDone: 50, batches: 2, state: 'sending' });
    await world.drainQueues();
    for (let i = 0; i < recipients; i++) {
      expect(
        world.edge.mails.filter((m) => m.destinations.includes(journalist(i))),
        journalist(i),
      ).toHaveLength(1);
    }
    const status = await campaignStatus(world.store, name, new Date(), world.ledger);
    expect(status).toMatchObject({ state: 'sent', sent: recipients, remaining: 0 });
    expect(status.pausedReason).toBeUndefined();
    // Nothing left: resuming again is refused, and says how to look.
    await expect(resumeCampaignRemotely(name, { store: world.store, dispatcher })).rejects.toThrow(
      /is sent: .*`pressroom campaign status arret-reprise --backend aws`/,
    );
    expect(denials()).toEqual([]);
  });
});
