import { CopyObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { releaseWorkspace } from '../support/dispatch-fixtures.ts';
import { S3RVER_CREDENTIALS } from '../support/s3rver.ts';
import { adminClient } from './admin-client.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * The web admin on the stack as synthesized: requests to the press room's domain go through the
 * distribution's /admin/* behaviour (its CloudFront Function, origin request policy and secret
 * header) to the admin function's real bundle, with the template's environment and IAM (a
 * denied call fails the test). Signing in goes to the template's Cognito domain; the harness's
 * Cognito (tests/harness/cognito.ts, keys made for this file) gives the code, exchanges it at
 * its token endpoint and publishes its keys. The releases are the publications uploaded under
 * publications/ in the data bucket.
 */

let world: HarnessWorld;
useHarness({ sender: 'presse@villes-internet.net' }, (started) => {
  world = started;
});

const files = releaseWorkspace();
const title = 'Étude : les villes moyennes résilientes';
const slug = 'etude-villes';

const { site, admin, cookieOf, signIn, csrfOf, signedInForChanges, publishOutcomes } = adminClient(
  () => world,
);

beforeAll(async () => {
  await world.store.put(
    'publications/organizations/villes-internet.yaml',
    files['organizations/villes-internet.yaml'] as string,
  );
  await world.store.put('publications/2026/etude.md', files['publications/etude.md'] as string);
});

describe('the web admin on the stack as synthesized', () => {
  it("sends a page without sign-in to the sign-in, and the sign-in to the template's Cognito domain, with nothing of the workspace", async () => {
    const page = await admin('/admin/releases');
    expect(page.statusCode).toBe(303);
    expect(page.headers?.location).toBe('/admin/sign-in');
    const start = await admin('/admin/sign-in');
    expect(start.statusCode).toBe(303);
    const location = new URL(start.headers?.location as string);
    // The domain the template gives the user pool, and its app client.
    const [domainId] = world.values.ofType('AWS::Cognito::UserPoolDomain');
    const [clientId] = world.values.ofType('AWS::Cognito::UserPoolClient');
    expect(location.origin).toBe(
      `https://${world.values.ref(domainId as string)}.auth.eu-west-3.amazoncognito.com`,
    );
    expect(location.pathname).toBe('/oauth2/authorize');
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: world.values.ref(clientId as string),
      redirect_uri: `${site()}/admin/auth/callback`,
      code_challenge_method: 'S256',
    });
    expect(start.cookies?.[0]).toMatch(
      /^pressroom_admin_sign_in=.+; Path=\/admin\/auth\/callback; Max-Age=900; HttpOnly; SameSite=Lax; Secure$/,
    );
    for (const answer of [page, start]) {
      expect(answer.body).not.toContain(slug);
      expect(answer.body).not.toContain('villes');
    }
  });

  it('answers the API without sign-in with 401 and nothing of the workspace', async () => {
    const answer = await admin('/admin/api/releases');
    expect(answer.statusCode).toBe(401);
    expect(answer.headers?.['www-authenticate']).toBe('Bearer realm="pressroom admin"');
    expect(JSON.parse(answer.body ?? '')).toEqual({
      error: expect.stringContaining('/admin/sign-in'),
    });
    expect(answer.body).not.toContain(slug);
  });

  it('refuses a forged, expired or wrong-audience token, and lets a good one through', async () => {
    const bearer = (token: string) =>
      admin('/admin/api/releases', { headers: { authorization: `Bearer ${token}` } });
    const refused = [
      world.cognito.token({ forged: true }),
      world.cognito.token({ expiresIn: -120 }),
      world.cognito.token({ clientId: 'another-client-of-the-pool' }),
      world.cognito.token({ use: 'access', clientId: 'another-client-of-the-pool' }),
      'not-a-token',
    ];
    for (const token of refused) {
      const answer = await bearer(token);
      expect(answer.statusCode, token).toBe(401);
      expect(answer.body).not.toContain(slug);
    }
    for (const use of ['id', 'access'] as const) {
      const answer = await bearer(world.cognito.token({ use }));
      expect(answer.statusCode, use).toBe(200);
      expect(JSON.parse(answer.body ?? '').releases.map((r: { slug: string }) => r.slug)).toEqual([slug]);
    }
    expect(takeDenials(world)).toEqual([]);
  });

  it('signs in through Cognito into a session that lists, reads and previews the releases of the bucket', async () => {
    const session = await signIn();
    const list = await admin('/admin/api/releases', { headers: { cookie: session } });
    expect(list.statusCode).toBe(200);
    expect(JSON.parse(list.body ?? '').releases).toEqual([
      expect.objectContaining({ slug, title, file: 'publications/2026/etude.md', problems: 0 }),
    ]);
    const page = await admin('/admin/releases', { headers: { cookie: session } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Étude : les villes moyennes résilientes');
    const read = await admin(`/admin/api/releases/${slug}`, { headers: { cookie: session } });
    expect(JSON.parse(read.body ?? '')).toMatchObject({ slug, body: expect.any(String) });
    const email = await admin(`/admin/releases/${slug}/email`, { headers: { cookie: session } });
    expect(email.statusCode).toBe(200);
    expect(email.body).toContain('villes moyennes');
    const preview = await admin(`/admin/releases/${slug}/page`, { headers: { cookie: session } });
    expect(preview.statusCode).toBe(200);
    expect(preview.body).toContain('https://x.com/Villes_Internet');
    // No browser in the admin function: the PDF preview says so, and where the PDF comes from.
    const pdf = await admin(`/admin/releases/${slug}/pdf`, { headers: { cookie: session } });
    expect(pdf.statusCode).toBe(503);
    expect(pdf.body).toContain('the publish function prints its PDF');
    expect(takeDenials(world)).toEqual([]);
  });

  it('refuses a callback that was not started here, whose state differs, or whose code was used', async () => {
    const start = await admin('/admin/sign-in');
    const back = new URL(world.cognito.signIn(start.headers?.location as string));
    const cookie = cookieOf(start, 'pressroom_admin_sign_in');
    const noCookie = await admin(`${back.pathname}${back.search}`);
    expect(noCookie.statusCode).toBe(401);
    expect(noCookie.body).toMatch(
      /^Sign-in failed: this sign-in was not started here.*Sign in again at \/admin\/sign-in/,
    );
    const otherState = new URL(back);
    otherState.searchParams.set('state', 'another');
    expect(
      (await admin(`${otherState.pathname}${otherState.search}`, { headers: { cookie } })).statusCode,
    ).toBe(401);
    const once = await admin(`${back.pathname}${back.search}`, { headers: { cookie } });
    expect(once.statusCode).toBe(200);
    const twice = await admin(`${back.pathname}${back.search}`, { headers: { cookie } });
    expect(twice.statusCode).toBe(401);
    expect(twice.body).toContain('the token endpoint answered 400');
    for (const answer of [noCookie, twice])
      expect(answer.cookies ?? []).not.toContainEqual(expect.stringMatching(/^pressroom_admin=/));
  });

  it('refuses a change without its CSRF token or from another site (403); saves an edit as a draft that nothing publishes, and an unchanged one not at all', async () => {
    const session = await signIn();
    const read = JSON.parse(
      (await admin(`/admin/api/releases/${slug}`, { headers: { cookie: session } })).body ?? '',
    );
    const edit = JSON.stringify({
      frontMatter: { ...read.frontMatter, title: 'Un autre titre' },
      body: read.body,
      version: read.version,
    });
    const headers = { cookie: session, origin: site(), 'content-type': 'application/json' };
    const key = 'publications/2026/etude.md';
    const before = await getText(world.store, key);
    const noCsrf = await admin(`/admin/api/releases/${slug}`, { method: 'PUT', headers, body: edit });
    expect(noCsrf.statusCode).toBe(403);
    const csrf = await csrfOf(session);
    const crossSite = await admin(`/admin/api/releases/${slug}`, {
      method: 'PUT',
      headers: { ...headers, origin: 'https://elsewhere.example', 'x-csrf-token': csrf },
      body: edit,
    });
    expect(crossSite.statusCode).toBe(403);
    expect(await getText(world.store, key)).toBe(before);

    const saved = await admin(`/admin/api/releases/${slug}`, {
      method: 'PUT',
      headers: { ...headers, 'x-csrf-token': csrf },
      body: edit,
    });
    expect(saved.statusCode, saved.body).toBe(200);
    const answer = JSON.parse(saved.body ?? '');
    expect(answer).toMatchObject({ written: true, release: { slug, title: 'Un autre titre' } });
    const text = await getText(world.store, key);
    // Only the title changed, written as it was (quoted).
    expect(text).toBe(before?.replace(`title: "${title}"`, 'title: "Un autre titre"'));
    expect(text).not.toBe(before);
    const draft = await world.store.head(key);
    expect(draft?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });

    // The bucket's notifications reach the publish function, which publishes nothing: the
    // upload of beforeAll was replaced since, and the draft is the admin's.
    const outcomes = await publishOutcomes();
    expect(outcomes).toContainEqual({
      key,
      outcome: 'ignored',
      reason: expect.stringMatching(/^a draft saved in the web admin/),
    });
    expect(outcomes.every((o) => (o as { outcome?: string }).outcome === 'ignored')).toBe(true);
    expect(await world.store.head(`archive/${slug}/release.json`)).toBeUndefined();

    // Saved again as it is now: nothing written (the same object, same ETag and date).
    const again = await admin(`/admin/api/releases/${slug}`, {
      method: 'PUT',
      headers: { ...headers, 'x-csrf-token': csrf },
      body: JSON.stringify({
        frontMatter: answer.release.frontMatter,
        body: answer.release.body,
        version: answer.release.version,
      }),
    });
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body ?? '').written).toBe(false);
    expect(await world.store.head(key)).toEqual(draft);
    // An edit of the version read before the save: refused, nothing written.
    const stale = await admin(`/admin/api/releases/${slug}`, {
      method: 'PUT',
      headers: { ...headers, 'x-csrf-token': csrf },
      body: edit,
    });
    expect(stale.statusCode).toBe(409);
    expect(JSON.parse(stale.body ?? '').error).toMatch(/changed since it was opened/);
    expect(await world.store.head(key)).toEqual(draft);
    expect(await world.deliverS3Notifications()).toEqual([]);
    expect(takeDenials(world)).toEqual([]);
  });

  it('creates a release as a draft under publications/, never twice, and publishes nothing', async () => {
    const { session, headers } = await signedInForChanges();
    const read = JSON.parse(
      (await admin(`/admin/api/releases/${slug}`, { headers: { cookie: session } })).body ?? '',
    );
    const release = JSON.stringify({
      frontMatter: { ...read.frontMatter, title: 'Une nouvelle étude', slug: 'nouvelle-etude' },
      body: 'Le texte de la nouvelle étude.\n',
    });
    const noCsrf = await admin('/admin/api/releases', {
      method: 'POST',
      headers: { ...headers, 'x-csrf-token': '' },
      body: release,
    });
    expect(noCsrf.statusCode).toBe(403);
    const created = await admin('/admin/api/releases', { method: 'POST', headers, body: release });
    expect(created.statusCode, created.body).toBe(201);
    const file = `publications/${read.frontMatter.date}-nouvelle-etude.md`;
    expect(JSON.parse(created.body ?? '').release).toMatchObject({
      slug: 'nouvelle-etude',
      file,
      problems: 0,
    });
    expect(await getText(world.store, file)).toContain('Le texte de la nouvelle étude.');
    const object = await world.store.head(file);
    expect(object?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });
    // The same slug again: refused, the file as it was.
    const twice = await admin('/admin/api/releases', { method: 'POST', headers, body: release });
    expect(twice.statusCode).toBe(409);
    expect(JSON.parse(twice.body ?? '').error).toMatch(/"nouvelle-etude" is already the release of/);
    expect(await world.store.head(file)).toEqual(object);
    const list = JSON.parse(
      (await admin('/admin/api/releases', { headers: { cookie: session } })).body ?? '',
    );
    expect(list.releases.map((r: { slug: string }) => r.slug).sort()).toEqual([
      'etude-villes',
      'nouvelle-etude',
    ]);
    expect(await publishOutcomes()).toEqual([
      { key: file, outcome: 'ignored', reason: expect.stringMatching(/^a draft saved in the web admin/) },
    ]);
    expect(await world.store.head('archive/nouvelle-etude/release.json')).toBeUndefined();
    expect(takeDenials(world)).toEqual([]);

    // Published meanwhile as docs/aws.md says: `aws s3 cp` of the object onto itself with
    // --metadata-directive REPLACE (the operator's credentials), which drops the mark.
    const operator = new S3Client({
      region: 'eu-west-3',
      endpoint: world.edge.endpoint,
      credentials: S3RVER_CREDENTIALS,
      forcePathStyle: true,
    });
    const bucket = world.outputs.DataBucketName as string;
    await operator.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: file,
        CopySource: `${bucket}/${file}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/markdown; charset=utf-8',
      }),
    );
    expect((await world.store.head(file))?.metadata).toBeUndefined();
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({ key: file, outcome: 'published', slug: 'nouvelle-etude' }),
    ]);
    expect(await getText(world.store, 'site/releases/nouvelle-etude/index.html')).toContain(
      'Le texte de la nouvelle étude.',
    );
    const listed = JSON.parse(
      (await admin('/admin/api/releases', { headers: { cookie: session } })).body ?? '',
    );
    expect(listed.releases).toContainEqual(
      expect.objectContaining({
        slug: 'nouvelle-etude',
        archive: expect.objectContaining({ state: 'public' }),
      }),
    );
    expect(takeDenials(world)).toEqual([]);
  }, 180_000);

  it('publishes a draft by handing its file to the publish function (202, then its page in the press room); withdrawing is handed over too', async () => {
    const { session, csrf, headers } = await signedInForChanges();
    const key = 'publications/2026/etude.md';
    const draft = await world.store.get(key);
    expect(draft?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });
    const noCsrf = await admin(`/admin/api/releases/${slug}/publish`, {
      method: 'POST',
      headers: { ...headers, 'x-csrf-token': '' },
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(await world.store.head(key)).toEqual(expect.objectContaining({ metadata: draft?.metadata }));

    const published = await admin(`/admin/api/releases/${slug}/publish`, { method: 'POST', headers });
    expect(published.statusCode, published.body).toBe(202);
    expect(JSON.parse(published.body ?? '')).toEqual({
      slug,
      file: key,
      url: `${site()}/releases/${slug}/index.html`,
      message: expect.stringMatching(/^publishing: .*a few seconds/),
    });
    // The same bytes, without the mark: the upload the publish function publishes.
    const handed = await world.store.get(key);
    expect(handed?.body).toEqual(draft?.body);
    expect(handed?.metadata).toBeUndefined();
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({ key, outcome: 'published', slug, action: 'created' }),
    ]);
    expect(await getText(world.store, `site/releases/${slug}/index.html`)).toContain('Un autre titre');
    const read = JSON.parse(
      (await admin(`/admin/api/releases/${slug}`, { headers: { cookie: session } })).body ?? '',
    );
    expect(read.archive).toMatchObject({ state: 'public' });

    // The page's form: its answer says the page comes in a few seconds, with its address.
    const form = await admin(`/admin/releases/${slug}/publish`, {
      method: 'POST',
      headers: { cookie: session, origin: site(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(form.statusCode).toBe(202);
    expect(form.body).toContain('id="handed-over"');
    expect(form.body).toContain(`href="${site()}/releases/${slug}/index.html"`);
    expect(await publishOutcomes()).toEqual([
      // Published again (the same file: the core says "updated", a new version of the same release).
      expect.objectContaining({ key, outcome: 'published', slug, state: 'public' }),
    ]);

    const withdrawn = await admin(`/admin/api/releases/${slug}/withdraw`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ reason: 'Une erreur' }),
    });
    // Handed over too (tests/harness/admin-newsletters.test.ts): the publish function withdraws it.
    expect(withdrawn.statusCode).toBe(202);
    expect(await publishOutcomes()).toEqual([
      expect.objectContaining({ outcome: 'withdrawn', slug, withdrawal: 'withdrawn' }),
    ]);
    expect(takeDenials(world)).toEqual([]);
  }, 180_000);

  it("signs out of the admin's session and of Cognito's, back to the sign-in", async () => {
    const session = await signIn();
    const page = await admin('/admin/releases', { headers: { cookie: session } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body ?? '')?.[1] as string;
    const out = await admin('/admin/sign-out', {
      method: 'POST',
      headers: { cookie: session, origin: site(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf }).toString(),
    });
    // A page that goes on to Cognito's logout: a browser would not follow a form's redirect to
    // another site under the admin's form-action 'self' (tests/harness/admin-browser.test.ts).
    expect(out.statusCode).toBe(200);
    expect(out.headers?.location).toBeUndefined();
    expect(out.cookies).toEqual([expect.stringMatching(/^pressroom_admin=; Path=\/admin; Max-Age=0;/)]);
    const to = /<meta http-equiv="refresh" content="0; url=([^"]+)">/.exec(out.body ?? '')?.[1] ?? '';
    const logout = new URL(to.replace(/&amp;/g, '&'));
    expect(`${logout.origin}${logout.pathname}`).toBe(`${world.cognito.domainUrl}/logout`);
    expect(logout.searchParams.get('client_id')).toBe(world.cognito.clientId);
    // Cognito goes back only to a logout URL of the app client.
    const [clientId] = world.values.ofType('AWS::Cognito::UserPoolClient');
    const client = world.values.resolve(world.values.resource(clientId as string).Properties) as {
      LogoutURLs: string[];
    };
    expect(client.LogoutURLs).toContain(logout.searchParams.get('logout_uri'));
    // Refused (on another instance too: tests/harness/admin-newsletters.test.ts).
    expect((await admin('/admin/api/releases', { headers: { cookie: session } })).statusCode).toBe(401);
  });

  it("refuses the function's URL called directly, without CloudFront's secret header", async () => {
    const [urlId] = world.values
      .ofType('AWS::Lambda::Url')
      .filter((id) =>
        String(world.values.resolve(world.values.resource(id).Properties?.TargetFunctionArn)).includes(
          'AdminFunction',
        ),
      );
    const url = world.values.getAtt(urlId as string, 'FunctionUrl');
    const delivery = await world.functionUrlRequest(`${url}admin/api/releases`, {
      method: 'GET',
      headers: { authorization: `Bearer ${world.cognito.token()}` },
    });
    expect(delivery.invocation).toMatchObject({ ok: true, result: { statusCode: 403 } });
    expect(JSON.stringify(delivery.invocation)).not.toContain(slug);
  });
});
