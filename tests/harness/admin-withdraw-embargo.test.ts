import { beforeAll, describe, expect, it } from 'vitest';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { releaseText, villesInternet } from '../support/memory-files.ts';
import { adminClient } from './admin-client.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * A release withdrawn in the web admin while under its embargo, on the stack as synthesized
 * (docs/aws.md, "Withdrawing"): the publish function's real bundle, acting on the admin's
 * withdrawal request with its role's permissions, deletes the release's lift in the lifts'
 * group, as `pressroom archive withdraw --backend aws` does; a lift already gone is no failure.
 */

let world: HarnessWorld;
useHarness({ sender: 'presse@villes-internet.net' }, (started) => {
  world = started;
});

const { admin, signedInForChanges, postForm, publishOutcomes } = adminClient(() => world);

/** An embargo an hour from now, to the second: the lifts wait for it. */
const embargo = `${new Date(Date.now() + 3_600_000).toISOString().slice(0, 19)}+00:00`;
const releases = [
  { slug: 'sous-embargo', key: 'publications/2021/sous-embargo.md' },
  { slug: 'embargo-sans-lift', key: 'publications/2021/embargo-sans-lift.md' },
];
let group = '';

beforeAll(async () => {
  group = world.outputs.EmbargoScheduleGroupName as string;
  expect(group).toBeTruthy();
  await world.store.put('publications/organizations/villes-internet.yaml', villesInternet);
  for (const r of releases)
    await world.store.put(r.key, releaseText(r.slug, `Annonce ${r.slug}`, `embargo: ${embargo}\n`));
  expect(await publishOutcomes()).toEqual(
    releases.map((r) =>
      expect.objectContaining({
        key: r.key,
        outcome: 'published',
        slug: r.slug,
        state: 'embargoed',
        lift: expect.objectContaining({ lift: 'scheduled', name: r.slug }),
      }),
    ),
  );
  expect([...world.edge.schedules.keys()].filter((k) => k.startsWith(`${group}/`)).sort()).toEqual(
    releases.map((r) => `${group}/${r.slug}`).sort(),
  );
}, 180_000);

describe('a release withdrawn in the web admin under its embargo, on the stack as synthesized', () => {
  const schedulerCalls = (from: number) =>
    world.edge.calls
      .slice(from)
      .filter((c) => c.service === 'scheduler')
      .map((c) => [c.operation, c.status]);

  it('has its lift deleted by the publish function, which may do so in the lifts’ group', async () => {
    const { slug } = releases[0] as (typeof releases)[number];
    const { headers } = await signedInForChanges();
    const answer = await admin(`/admin/api/releases/${slug}/withdraw`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ reason: 'Annonce reportée' }),
    });
    expect(answer.statusCode, answer.body).toBe(202);
    // Only the request is written: the lift waits until the publish function acts on it.
    expect(world.edge.schedules.has(`${group}/${slug}`)).toBe(true);
    const from = world.edge.calls.length;
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({
        key: `publications/withdrawals/${slug}.json`,
        outcome: 'withdrawn',
        slug,
        withdrawal: 'withdrawn',
        lift: { outcome: 'deleted', name: slug },
      }),
    ]);
    expect(takeDenials(world)).toEqual([]);
    expect(schedulerCalls(from)).toEqual([['DeleteSchedule', 200]]);
    expect(world.edge.schedules.has(`${group}/${slug}`)).toBe(false);
    // The other release's lift is left as it was.
    expect(world.edge.schedules.has(`${group}/${releases[1]?.slug}`)).toBe(true);
    const manifest = JSON.parse((await getText(world.store, `archive/${slug}/release.json`)) ?? '{}');
    expect(manifest.withdrawn).toMatchObject({ reason: 'Annonce reportée', by: 'web admin' });
    // Never public, so nothing of it in the press room.
    expect(await getText(world.store, 'site/index.html')).not.toContain(`releases/${slug}/`);
  }, 180_000);

  it('is withdrawn all the same when its lift is gone already; asked again, nothing is deleted', async () => {
    const { slug } = releases[1] as (typeof releases)[number];
    // As if the lift had been deleted by hand in the console.
    world.edge.schedules.delete(`${group}/${slug}`);
    const { session, csrf } = await signedInForChanges();
    const form = await postForm(`/admin/releases/${slug}/withdraw`, session, { csrf, reason: 'Annulée' });
    expect(form.statusCode, form.body).toBe(202);
    let from = world.edge.calls.length;
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({
        outcome: 'withdrawn',
        slug,
        withdrawal: 'withdrawn',
        lift: { outcome: 'none', name: slug },
      }),
    ]);
    expect(schedulerCalls(from)).toEqual([['DeleteSchedule', 404]]);
    expect(takeDenials(world)).toEqual([]);

    // Withdrawn already: the publish function leaves Scheduler alone.
    const again = await postForm(`/admin/releases/${slug}/withdraw`, session, { csrf, reason: 'Encore' });
    expect(again.statusCode).toBe(202);
    from = world.edge.calls.length;
    const [outcome] = await publishOutcomes();
    expect(outcome).toMatchObject({ outcome: 'withdrawn', slug, withdrawal: 'already' });
    expect(outcome).not.toHaveProperty('lift');
    expect(schedulerCalls(from)).toEqual([]);
    expect(takeDenials(world)).toEqual([]);
  }, 180_000);
});
