import { beforeAll, describe, expect, it } from 'vitest';
import { getText, listAll } from '../../lambdas/core/store/object-store.ts';
import { releaseText, villesInternet } from '../support/memory-files.ts';
import { adminClient } from './admin-client.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * The web admin's newsletters, withdrawing and signing out on the stack as synthesized
 * (docs/aws.md, "The web admin"): requests through the distribution's /admin/* behaviour to
 * the admin function's real bundle, with the template's environment and IAM (a denied call
 * fails the test); the publish function's real bundle does what the admin hands over to it,
 * when the bucket's notifications are delivered.
 */

let world: HarnessWorld;
useHarness({ sender: 'presse@villes-internet.net' }, (started) => {
  world = started;
});

const { site, admin, signIn, csrfOf, signedInForChanges, postForm, publishOutcomes } = adminClient(
  () => world,
);

const releases = [
  { slug: 'etude-villes', title: 'Étude : les villes moyennes', key: 'publications/2021/etude.md' },
  { slug: 'forum-villes', title: 'Forum des villes', key: 'publications/2021/forum.md' },
];

beforeAll(async () => {
  // Published as `pressroom publish --backend aws` does: uploaded, then made by the publish function.
  await world.store.put('publications/organizations/villes-internet.yaml', villesInternet);
  for (const r of releases) await world.store.put(r.key, releaseText(r.slug, r.title));
  expect(await publishOutcomes()).toEqual(
    releases.map((r) => expect.objectContaining({ key: r.key, outcome: 'published', slug: r.slug })),
  );
}, 180_000);

describe("the web admin's newsletters on the stack as synthesized", () => {
  it('drafts an issue from the releases in the bucket, edits, reorders and previews it, and hands it to the publish function to publish (202)', async () => {
    const { session, csrf, headers } = await signedInForChanges();
    const none = await admin('/admin/api/newsletters', { headers: { cookie: session } });
    expect(JSON.parse(none.body ?? '')).toEqual({ issues: [] });
    const drafted = await admin('/admin/api/newsletters', {
      method: 'POST',
      headers,
      body: JSON.stringify({ since: '2021-01-01' }),
    });
    expect(drafted.statusCode, drafted.body).toBe(201);
    const { issue } = JSON.parse(drafted.body ?? '');
    expect(issue.file).toMatch(/^publications\/newsletters\/newsletter-\d{4}-\d{2}-\d{2}\.md$/);
    expect(issue.itemList.map((i: { release: string }) => i.release).sort()).toEqual([
      'etude-villes',
      'forum-villes',
    ]);
    // A draft: the publish function leaves it alone.
    expect((await world.store.head(issue.file))?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({
        key: issue.file,
        outcome: 'ignored',
        reason: expect.stringMatching(/draft/),
      }),
    ]);
    expect(await world.store.head(`newsletters/${issue.id}/issue.json`)).toBeUndefined();
    // A second draft today is refused, nothing replaced.
    const again = await admin('/admin/api/newsletters', {
      method: 'POST',
      headers,
      body: JSON.stringify({ since: '2021-01-01' }),
    });
    expect(again.statusCode).toBe(409);

    // Edited and reordered: the items swapped, a title and an intro.
    const items = [...issue.itemList].reverse().map(({ release }: { release: string }) => ({ release }));
    const saved = await admin(`/admin/api/newsletters/${issue.id}`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({
        version: issue.version,
        title: 'La lettre des villes',
        intro: 'Bonjour.',
        items,
      }),
    });
    expect(saved.statusCode, saved.body).toBe(200);
    const after = JSON.parse(saved.body ?? '');
    expect(after).toMatchObject({
      written: true,
      issue: { title: 'La lettre des villes', intro: 'Bonjour.' },
    });
    expect(after.issue.itemList.map((i: { release: string }) => i.release)).toEqual(
      items.map((i: { release: string }) => i.release),
    );
    const text = await getText(world.store, issue.file);
    expect(text).toContain('title: La lettre des villes');
    expect((await world.store.head(issue.file))?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });
    // A save from the version read before is refused: the file changed since.
    const stale = await admin(`/admin/api/newsletters/${issue.id}`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ version: issue.version, title: 'Autre', items }),
    });
    expect(stale.statusCode).toBe(409);
    expect(await getText(world.store, issue.file)).toBe(text);

    const preview = await admin(`/admin/api/newsletters/${issue.id}/preview`, {
      headers: { cookie: session },
    });
    expect(preview.statusCode, preview.body).toBe(200);
    const email = JSON.parse(preview.body ?? '');
    expect(email.subject).toContain('La lettre des villes');
    // The items in their new order, in the email and its text.
    const marker: Record<string, string> = {
      'etude-villes': 'villes moyennes',
      'forum-villes': 'Forum des villes',
    };
    const [first, second] = items.map((i: { release: string }) => marker[i.release]) as [string, string];
    for (const part of [email.email.html, email.email.text] as string[]) {
      expect(part.indexOf(first)).toBeGreaterThan(-1);
      expect(part.indexOf(first)).toBeLessThan(part.indexOf(second));
    }
    // The page, with the preview in it.
    const page = await admin(`/admin/newsletters/${issue.id}`, { headers: { cookie: session } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('La lettre des villes');
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({ key: issue.file, outcome: 'ignored' }),
    ]);

    const published = await admin(`/admin/api/newsletters/${issue.id}/publish`, { method: 'POST', headers });
    expect(published.statusCode, published.body).toBe(202);
    expect(JSON.parse(published.body ?? '')).toEqual({
      id: issue.id,
      file: issue.file,
      message: expect.stringMatching(/^publishing: .*a few seconds/),
    });
    // The same bytes without the mark: the publish function publishes it.
    expect(await getText(world.store, issue.file)).toBe(text);
    expect((await world.store.head(issue.file))?.metadata).toBeUndefined();
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({
        key: issue.file,
        outcome: 'published',
        newsletter: issue.id,
        action: 'created',
      }),
    ]);
    const read = JSON.parse(
      (await admin(`/admin/api/newsletters/${issue.id}`, { headers: { cookie: session } })).body ?? '',
    );
    expect(read.archive).toMatchObject({ state: 'public' });

    // The page's form says the same (202), and the publish function publishes it again.
    const form = await postForm(`/admin/newsletters/${issue.id}/publish`, session, { csrf });
    expect(form.statusCode).toBe(202);
    expect(form.body).toContain('id="published"');
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({ key: issue.file, outcome: 'published', newsletter: issue.id }),
    ]);
    expect(takeDenials(world)).toEqual([]);
  }, 180_000);

  it('withdraws a release by handing a request to the publish function (202): its page in site/ becomes the withdrawn notice', async () => {
    const { session, csrf, headers } = await signedInForChanges();
    const { slug, title } = releases[1] as (typeof releases)[number];
    const page = `site/releases/${slug}/index.html`;
    expect(await getText(world.store, page)).toContain(title);
    const request = `publications/withdrawals/${slug}.json`;
    const withdraw = (to: string, reason: string) =>
      admin(`/admin/api/releases/${to}/withdraw`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ reason }),
      });

    // Refused before anything is written: no reason, two lines, a release never published.
    expect((await withdraw(slug, ' ')).statusCode).toBe(409);
    expect((await withdraw(slug, 'une\nautre')).statusCode).toBe(409);
    expect((await withdraw('jamais-publie', 'Une erreur')).statusCode).toBe(404);
    expect(await world.store.head(request)).toBeUndefined();
    expect(await world.deliverS3Notifications()).toEqual([]);

    const answer = await withdraw(slug, 'Une erreur de date');
    expect(answer.statusCode, answer.body).toBe(202);
    expect(JSON.parse(answer.body ?? '')).toEqual({
      slug,
      url: `${site()}/releases/${slug}/index.html`,
      message: expect.stringMatching(/^withdrawing: .*a few seconds/),
    });
    // The admin wrote the request only: the page is the release's until the publish function acts.
    expect(JSON.parse((await getText(world.store, request)) ?? '')).toEqual({
      slug,
      reason: 'Une erreur de date',
      by: 'web admin',
      at: expect.any(String),
    });
    expect(await getText(world.store, page)).toContain(title);
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({ key: request, outcome: 'withdrawn', slug, withdrawal: 'withdrawn' }),
    ]);
    const notice = await getText(world.store, page);
    expect(notice).toContain('Communiqué retiré');
    expect(notice).not.toContain(title);
    const read = JSON.parse(
      (await admin(`/admin/api/releases/${slug}`, { headers: { cookie: session } })).body ?? '',
    );
    expect(read.archive).toMatchObject({ state: 'withdrawn' });

    // The page's form says what happens next; the publish function finds it withdrawn already.
    const form = await postForm(`/admin/releases/${slug}/withdraw`, session, { csrf, reason: 'Encore' });
    expect(form.statusCode).toBe(202);
    expect(form.body).toContain('id="handed-over"');
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({ key: request, outcome: 'withdrawn', slug, withdrawal: 'already' }),
    ]);
    expect(await getText(world.store, page)).toBe(notice);
    expect(takeDenials(world)).toEqual([]);
  }, 180_000);

  it('refuses a session signed out on one instance of the admin function on another, a fresh one', async () => {
    const session = await signIn();
    const kept = await signIn();
    const csrf = await csrfOf(session);
    const out = await postForm('/admin/sign-out', session, { csrf });
    expect(out.statusCode).toBe(200); // a page that goes on to Cognito's logout
    // The sign-out is in the bucket, by a hash of the session's id only.
    const ended = [];
    for await (const item of listAll(world.store, 'admin/signed-out/')) ended.push(item.key);
    expect(ended).toEqual([expect.stringMatching(/^admin\/signed-out\/[0-9a-f]{64}$/)]);
    await world.container('Admin').coldStart();
    // A new instance, which never saw the sign-out: the session is refused, the other one is not.
    expect((await admin('/admin/api/releases', { headers: { cookie: session } })).statusCode).toBe(401);
    const page = await admin('/admin/releases', { headers: { cookie: session } });
    expect(page.statusCode).toBe(303);
    expect(page.headers?.location).toBe('/admin/sign-in');
    expect((await admin('/admin/api/releases', { headers: { cookie: kept } })).statusCode).toBe(200);
    expect(takeDenials(world)).toEqual([]);
  }, 180_000);
});
