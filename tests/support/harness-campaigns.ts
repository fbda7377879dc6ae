/**
 * Set-ups the harness tests (tests/harness) share: a release uploaded as an operator does, and
 * a stack with the seed releases and a press list of journalists, drained of its queues.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { type HarnessWorld, startHarness } from '../harness/world.ts';
import { importJournalists, publishReleases, releaseWorkspace } from './dispatch-fixtures.ts';

/**
 * Uploads the seed organisation, then one publication of {@link releaseWorkspace} (`etude`,
 * or `embargo` with its `embargoLine`), under publications/ as an operator does, and delivers
 * the S3 notifications that makes: the publish function's deliveries.
 */
export async function uploadRelease(
  world: Pick<HarnessWorld, 'store' | 'deliverS3Notifications'>,
  which: 'etude' | 'embargo',
  embargoLine?: string,
): ReturnType<HarnessWorld['deliverS3Notifications']> {
  const files = releaseWorkspace(embargoLine);
  await world.store.put(
    'publications/organizations/villes-internet.yaml',
    files['organizations/villes-internet.yaml'] as string,
  );
  await world.store.put(`publications/${which}.md`, files[`publications/${which}.md`] as string);
  return world.deliverS3Notifications();
}

/**
 * A stack (startHarness with `context`) with the seed releases published and `audience`
 * journalists imported with the keys of its signing secret, started before the file's tests
 * and stopped after them; `started` receives it.
 */
export function useCampaignHarness(
  context: Record<string, unknown>,
  audience: number,
  started: (world: HarnessWorld) => void,
): void {
  let world: HarnessWorld | undefined;
  beforeAll(async () => {
    world = await startHarness(context);
    await publishReleases(world.store);
    await importJournalists(world.store, contactKeys(world.secret), audience);
    started(world);
  }, 180_000);
  afterAll(async () => {
    await world?.stop();
  });
}

/**
 * Runs the send functions until the queues are empty: every queue message acknowledged (no
 * batch item failure), nothing left on a queue, no call IAM denied. The deliveries.
 */
export async function drainAcknowledged(world: HarnessWorld) {
  const deliveries = await world.drainQueues();
  for (const d of deliveries)
    expect(d.invocation).toMatchObject({ ok: true, result: { batchItemFailures: [] } });
  expect([...world.edge.queues.values()].flat()).toEqual([]);
  expect(world.edge.denials.splice(0)).toEqual([]);
  return deliveries;
}
