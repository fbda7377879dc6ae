import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { releaseWorkspace } from '../support/dispatch-fixtures.ts';
import type { Denial } from './edge.ts';
import { type HarnessWorld, startHarness } from './world.ts';

/**
 * The whole life of a release on the stack as its template wires it: the real bundles, with
 * the template's environment, event sources and IAM policies, against s3rver,
 * aws-ses-v2-local and the harness's fakes. Each step asserts what it stored, and that no
 * call it made was denied by the calling function's role.
 */

/** The deploy's settings: a sender SES can verify, and a production SES rate. */
const context = { sender: 'presse@villes-internet.net', sendRate: 14 };

let world: HarnessWorld;
beforeAll(async () => {
  world = await startHarness(context);
}, 120_000);
afterAll(async () => {
  await world?.stop();
});

/** The denials so far, one line each: what a failing step prints. */
const denials = (): string[] =>
  world.edge.denials.splice(0).map((d: Denial) => `${d.caller} ${d.operation}: ${d.action} on ${d.resource}`);

describe('the life of a release on the stack as synthesized', () => {
  it('publish: a publication uploaded under publications/ is rendered, archived and put in the press room', async () => {
    const files = releaseWorkspace();
    await world.store.put(
      'publications/organizations/villes-internet.yaml',
      files['organizations/villes-internet.yaml'] as string,
    );
    await world.store.put('publications/etude.md', files['publications/etude.md'] as string);
    const deliveries = await world.deliverS3Notifications();
    expect(deliveries.map((d) => d.function)).toEqual([expect.stringMatching(/^PublishFunction/)]);
    const [delivery] = deliveries;
    expect(delivery?.invocation.ok ? delivery.invocation.result : delivery?.invocation).toEqual([
      expect.objectContaining({ key: 'publications/etude.md', outcome: 'published', slug: 'etude-villes' }),
    ]);
    expect(await getText(world.store, 'site/index.html')).toContain('les villes moyennes');
    // The function's own calls, checked against its role: signed with its key, not the operator's.
    const own = world.edge.calls.filter((c) => c.caller === delivery?.function).map((c) => c.operation);
    expect(own).toEqual(expect.arrayContaining(['HeadObject', 'GetObject', 'PutObject', 'ListObjectsV2']));
    expect(denials()).toEqual([]);
  });
});
