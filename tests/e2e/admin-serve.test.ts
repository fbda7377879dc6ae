/**
 * The web admin through `pressroom serve` (a child process on 127.0.0.1, in a copy of the
 * examples workspace, one release published): the admin token it makes and prints once;
 * every admin page and API route refused without sign-in (with a wrong token, a forged
 * cookie, or nothing), with nothing of the workspace in the answer; a signed-in flow through
 * the sign-in form (list, search, one release, a preview of posted data, sign-out), with the
 * CSRF token the pages carry; the OpenAPI document; and a PRESSROOM_ADMIN_TOKEN too short.
 *
 * The tests of this file share one server and run in order.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUnderTest } from '../support/admin.ts';
import { expectExit, pressroomBin, runPressroom } from '../support/cli.ts';
import { barometer, crise } from '../support/example-releases.ts';
import type { Reply, rawRequest, Server } from '../support/serve.ts';

const admin = new AdminUnderTest({
  prefix: 'pressroom-admin-serve-',
  secret: 'e2e-admin-serve-secret-0123456789abcdef',
});

let work: string;
let workspace: string;
let server: Server | undefined;
let token = '';

const env = () => admin.env();
const request = (rawPath: string, options: Parameters<typeof rawRequest>[2] = {}): Promise<Reply> =>
  admin.request(rawPath, options);

/** What only the workspace holds: its releases' words, slugs and file names. */
const workspaceWords = [
  crise.slug,
  barometer.slug,
  'Gestion de crise',
  'Barometer',
  'publications/',
  'villes-internet',
];

/** Every page and route of the admin that needs a sign-in, with a real slug. */
const guarded = (): [string, string][] => [
  ['GET', '/admin'],
  ['GET', '/admin/'],
  ['GET', '/admin/releases'],
  ['GET', '/admin/releases?q=crise'],
  ['GET', `/admin/releases/${crise.slug}`],
  ['GET', `/admin/releases/${crise.slug}/email`],
  ['GET', `/admin/releases/${crise.slug}/page`],
  ['GET', `/admin/releases/${crise.slug}/edit`],
  ['POST', `/admin/releases/${crise.slug}/edit`],
  ['HEAD', `/admin/releases/${crise.slug}`],
  ['GET', '/admin/does-not-exist'],
  ['GET', '/admin/api/releases'],
  ['GET', '/admin/api/releases?q=crise'],
  ['GET', `/admin/api/releases/${crise.slug}`],
  ['GET', '/admin/api/openapi.json'],
  ['POST', '/admin/api/releases/preview'],
  ['POST', '/admin/api/releases'],
  ['GET', '/admin/new-release'],
  ['POST', '/admin/new-release'],
  ['GET', `/admin/releases/${barometer.slug}/publish`],
  ['POST', `/admin/releases/${barometer.slug}/publish`],
  ['GET', `/admin/releases/${crise.slug}/withdraw`],
  ['POST', `/admin/releases/${crise.slug}/withdraw`],
  ['POST', `/admin/api/releases/${barometer.slug}/publish`],
  ['POST', `/admin/api/releases/${crise.slug}/withdraw`],
  ['POST', '/admin/sign-out'],
  ['PUT', `/admin/api/releases/${crise.slug}`],
  ['DELETE', `/admin/api/releases/${crise.slug}`],
];

/** Signs in through the form, as a browser does; the session's cookie pair. */
const signIn = () => admin.session();

beforeAll(async () => {
  workspace = await admin.copy();
  work = admin.work;
  await admin.publish(crise.file);
  // No PRESSROOM_ADMIN_TOKEN: serve makes one and prints it.
  server = await admin.serve();
  token = admin.token;
}, 300_000);

afterAll(() => admin.stop());

describe('the admin token', { timeout: 60_000 }, () => {
  it('is made at start and printed once, with the admin’s address', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(server?.stdout()).toContain(`admin: ${server?.url.href}admin/ with the token ${token}`);
  });
});

describe('without signing in', { timeout: 120_000 }, () => {
  it('every admin page and API route is refused, with nothing of the workspace', async () => {
    const ways: Record<string, Record<string, string>> = {
      nothing: {},
      'a wrong token': { authorization: `Bearer ${token.slice(0, -1)}x` },
      'a forged cookie': { cookie: 'pressroom_admin=a1.WyJ4Iiw5OTk5OTk5OTk5XQ.forged' },
    };
    for (const [way, headers] of Object.entries(ways)) {
      for (const [method, rawPath] of guarded()) {
        const reply = await request(rawPath, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          ...((method === 'POST' || method === 'PUT') && { body: '{}' }),
        });
        const what = `${method} ${rawPath} with ${way}`;
        if (rawPath.startsWith('/admin/api') || (method !== 'GET' && method !== 'HEAD')) {
          expect(reply.status, what).toBe(401);
          expect(reply.headers['www-authenticate'], what).toBe('Bearer realm="pressroom admin"');
        } else {
          expect(reply.status, what).toBe(303);
          expect(reply.headers.location, what).toBe('/admin/sign-in');
        }
        for (const word of workspaceWords) expect(reply.body, what).not.toContain(word);
      }
    }
  });

  it('the sign-in form and the static files hold nothing of the workspace', async () => {
    for (const rawPath of ['/admin/sign-in', '/admin/assets/admin.js', '/admin/assets/admin.css']) {
      const reply = await request(rawPath);
      expect(reply.status, rawPath).toBe(200);
      for (const word of workspaceWords) expect(reply.body, rawPath).not.toContain(word);
    }
  });
});

describe('signed in', { timeout: 120_000 }, () => {
  let cookie = '';
  let csrf = '';
  /** Posts a page's form under the session, as the browser does. */
  const postForm = (to: string, fields: ConstructorParameters<typeof URLSearchParams>[0]) =>
    request(to, {
      method: 'POST',
      headers: {
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
        origin: server?.url.origin ?? '',
        'accept-language': 'en',
      },
      body: new URLSearchParams(fields).toString(),
    });

  it('the form opens a session; the list shows the workspace’s releases with their state', async () => {
    cookie = await signIn();
    const list = await request('/admin/releases', { headers: { cookie, 'accept-language': 'en' } });
    expect(list.status).toBe(200);
    expect(list.headers['content-security-policy']).toContain("script-src 'self'");
    expect(list.body).toContain(`/admin/releases/${crise.slug}`);
    expect(list.body).toContain(`/admin/releases/${barometer.slug}`);
    // The seed is published (its embargo is long past); the barometer never was.
    expect(list.body).toMatch(/state-public">Published</);
    expect(list.body).toMatch(/state-draft">Never published</);
    csrf = /name="csrf" value="([^"]+)"/.exec(list.body)?.[1] ?? '';
    expect(csrf).not.toBe('');
  });

  it('search finds by words, accents and case ignored', async () => {
    const found = await request('/admin/api/releases?q=NUMERIQUE%20crise', { headers: { cookie } });
    expect(found.status).toBe(200);
    const { releases } = JSON.parse(found.body) as {
      releases: { slug: string; archive?: { state: string } }[];
    };
    expect(releases.map((r) => r.slug)).toEqual([crise.slug]);
    expect(releases[0]?.archive?.state).toBe('public');
    const page = await request('/admin/releases?q=barometer', { headers: { cookie } });
    expect(page.body).toContain(barometer.slug);
    expect(page.body).not.toContain(crise.slug);
  });

  it('one release reads back its front matter and body as written', async () => {
    const reply = await request(`/admin/api/releases/${crise.slug}`, { headers: { cookie } });
    expect(reply.status).toBe(200);
    const detail = JSON.parse(reply.body) as { file: string; body: string; frontMatter: { title: string } };
    const source = await readFile(path.join(workspace, detail.file), 'utf8');
    expect(source).toContain(detail.body.trim());
    expect(source).toContain(detail.frontMatter.title);
    expect((await request('/admin/api/releases/no-such-release', { headers: { cookie } })).status).toBe(404);
  });

  it('the release page previews its email in frames that load under the session', async () => {
    const page = await request(`/admin/releases/${crise.slug}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.body).toContain(`src="/admin/releases/${crise.slug}/email"`);
    const email = await request(`/admin/releases/${crise.slug}/email`, { headers: { cookie } });
    expect(email.status).toBe(200);
    expect(email.headers['content-security-policy']).toMatch(/sandbox/);
    expect(email.body).toContain('97 contributions');
  });

  it('a preview of posted data needs the CSRF token, and names each problem’s field', async () => {
    const origin = server?.url.origin ?? '';
    const data = {
      frontMatter: {
        title: 'Essai d’aperçu',
        date: '2026-12-07',
        lang: 'fr',
        lead: 'Un chapeau **gras**.',
        publishers: ['villes-internet'],
      },
      body: 'Le corps, avec <script>alert(1)</script> dedans.',
    };
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      request('/admin/api/releases/preview', {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', origin, ...headers },
        body: JSON.stringify(body),
      });
    expect((await post(data)).status).toBe(403);
    const ok = await post(data, { 'x-csrf-token': csrf });
    expect(ok.status).toBe(200);
    const preview = JSON.parse(ok.body) as {
      subject: string;
      email: { html: string; text: string };
      page: string;
    };
    expect(preview.subject).toBe('Essai d’aperçu');
    expect(preview.email.html).toContain('<strong>gras</strong>');
    expect(preview.email.html).not.toContain('<script>');
    expect(preview.page).not.toContain('<script>alert');
    // The organisation id was found in the workspace, as for a file beside the others.
    expect(preview.page).toContain('Villes Internet');
    const bad = await post(
      {
        ...data,
        frontMatter: {
          ...data.frontMatter,
          date: '2021-02-30',
          links: [{ label: 'x', url: 'javascript:alert(1)' }],
        },
      },
      { 'x-csrf-token': csrf },
    );
    expect(bad.status).toBe(422);
    const fields = (JSON.parse(bad.body) as { problems: { field: string }[] }).problems.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['date', 'links[0].url']));
    const malformed = await post({ frontMatter: 'x' }, { 'x-csrf-token': csrf });
    expect(malformed.status).toBe(400);
  });

  it('a release saved unchanged is not written; an edit rewrites its field in the file', async () => {
    const file = path.join(workspace, crise.file.replace(/^examples\//, ''));
    const before = await readFile(file);
    const { mtimeMs } = await stat(file);
    const read = await request(`/admin/api/releases/${crise.slug}`, { headers: { cookie } });
    const detail = JSON.parse(read.body) as {
      frontMatter: Record<string, unknown>;
      body: string;
      version: string;
    };
    const put = (body: unknown, headers: Record<string, string> = { 'x-csrf-token': csrf }) =>
      request(`/admin/api/releases/${crise.slug}`, {
        method: 'PUT',
        headers: { cookie, 'content-type': 'application/json', origin: server?.url.origin ?? '', ...headers },
        body: JSON.stringify(body),
      });
    const same = { frontMatter: detail.frontMatter, body: detail.body, version: detail.version };
    expect((await put(same, {})).status).toBe(403);
    const unchanged = await put(same);
    expect(unchanged.status).toBe(200);
    expect(JSON.parse(unchanged.body).written).toBe(false);
    expect((await readFile(file)).equals(before)).toBe(true);
    expect((await stat(file)).mtimeMs).toBe(mtimeMs);

    // A wrong date: refused per field, nothing written.
    const bad = await put({ ...same, frontMatter: { ...detail.frontMatter, date: '2021-02-30' } });
    expect(bad.status).toBe(422);
    expect(JSON.parse(bad.body).problems).toContainEqual(expect.objectContaining({ field: 'date' }));
    expect((await readFile(file)).equals(before)).toBe(true);

    const saved = await put({ ...same, frontMatter: { ...detail.frontMatter, place: 'Nantes' } });
    expect(saved.status).toBe(200);
    expect(JSON.parse(saved.body).written).toBe(true);
    const after = await readFile(file, 'utf8');
    const changed = after.split('\n').filter((line, i) => line !== before.toString('utf8').split('\n')[i]);
    expect(changed).toEqual(['place: Nantes']);
    // The version read before the save is stale now: a second save from it is refused.
    const stale = await put({ ...same, frontMatter: { ...detail.frontMatter, place: 'Brest' } });
    expect(stale.status).toBe(409);
    expect(await readFile(file, 'utf8')).toBe(after);
  });

  it('a release created from scratch is a new file named as the CLI names them, which the CLI renders; never overwritten', async () => {
    const folder = path.join(workspace, 'publications');
    const before = (await readdir(folder)).sort();
    const post = (body: unknown, headers: Record<string, string> = { 'x-csrf-token': csrf }) =>
      request('/admin/api/releases', {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', origin: server?.url.origin ?? '', ...headers },
        body: JSON.stringify(body),
      });
    const data = {
      frontMatter: {
        title: 'Nouvelle étude : « les villes » et le numérique',
        subtitle: 'Une deuxième édition',
        date: '2026-12-07',
        lang: 'fr',
        lead: 'Un chapeau **gras**.\nSur deux lignes.',
        publishers: ['villes-internet', 'villes-de-france'],
        tags: ['numérique', 'villes: moyennes'],
        embargo: '2099-06-08 08:00 Europe/Paris',
      },
      body: 'Le corps.\n\n## Un intertitre\n\nLa suite.',
    };
    expect((await post(data, {})).status).toBe(403);
    const bad = await post({
      ...data,
      frontMatter: { ...data.frontMatter, date: '2021-02-30', publishers: [] },
    });
    expect(bad.status).toBe(422);
    const fields = (JSON.parse(bad.body) as { problems: { field: string }[] }).problems.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['date']));
    expect((await readdir(folder)).sort()).toEqual(before);

    const created = await post(data);
    expect(created.status, created.body).toBe(201);
    const release = (JSON.parse(created.body) as { release: { slug: string; file: string } }).release;
    const name = `2026-12-07-${release.slug}.md`;
    expect(release.file).toBe(`publications/${name}`);
    expect((await readdir(folder)).sort()).toEqual([...before, name].sort());
    const text = await readFile(path.join(folder, name), 'utf8');
    expect(text.startsWith('---\n')).toBe(true);
    expect(text).toContain('\n---\n\nLe corps.\n');

    // The command line reads it as it is.
    const rendered = await runPressroom(
      ['render', `publications/${name}`, '--out', path.join(work, 'rendered')],
      {
        cwd: workspace,
        env: env(),
      },
    );
    expectExit(rendered, 0);
    const page = await readFile(path.join(work, 'rendered', 'page.html'), 'utf8');
    expect(page).toContain('les villes');
    expect(page).toContain('Villes de France');

    // The same title again: the same slug, refused; the file is left as it was.
    const again = await post({ ...data, body: 'Autre chose.' });
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body).error).toContain(release.slug);
    expect(await readFile(path.join(folder, name), 'utf8')).toBe(text);

    // Two at once, the same title on two dates: one is created, the other refused.
    const twins = await Promise.all(
      ['2026-12-10', '2026-12-11'].map((date) =>
        post({ ...data, frontMatter: { ...data.frontMatter, title: 'Jumeaux', date } }),
      ),
    );
    expect(twins.map((r) => r.status).sort()).toEqual([201, 409]);
    expect((await readdir(folder)).filter((f) => f.endsWith('-jumeaux.md'))).toHaveLength(1);
  });

  it('the new-release form lists the organisations, shows problems beside their fields, and creates the file', async () => {
    const page = await request('/admin/new-release', { headers: { cookie, 'accept-language': 'en' } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('value="villes-internet"');
    expect(page.body).toContain('Villes Internet');
    const post = (fields: [string, string][]) => postForm('/admin/new-release', [['csrf', csrf], ...fields]);
    const fields: [string, string][] = [
      ['title', 'Un communiqué <b>du formulaire</b>'],
      ['date', '2026-12-09'],
      ['lang', 'fr'],
      ['lead', 'Le chapeau.'],
      ['tags', 'un, deux'],
      ['publishers', 'villes-internet'],
      ['body', 'Le texte.'],
    ];
    const refused = await post(fields.map(([k, v]) => [k, k === 'date' ? '2026-13-01' : v]));
    expect(refused.status).toBe(422);
    expect(refused.body).toMatch(/id="f-date"[^>]*aria-invalid="true"/);
    expect(refused.body).toContain('&lt;b&gt;du formulaire&lt;/b&gt;');
    const created = await post(fields);
    expect(created.status, created.body).toBe(303);
    expect(created.headers.location).toMatch(
      /^\/admin\/releases\/un-communique-b-du-formulaire-b\?saved=created$/,
    );
    const text = await readFile(
      path.join(workspace, 'publications', '2026-12-09-un-communique-b-du-formulaire-b.md'),
      'utf8',
    );
    expect(text).toContain('publishers:\n  - villes-internet\n');
    expect(text).toContain('tags:\n  - un\n  - deux\n');
    // In the form's order, as people write them: the title first.
    expect(text.startsWith('---\ntitle: Un communiqué <b>du formulaire</b>\ndate: 2026-12-09\n')).toBe(true);
  });

  it('publishes from the release’s confirmation form, and withdraws through the API with a reason', async () => {
    const origin = server?.url.origin ?? '';
    const slug = 'un-communique-b-du-formulaire-b';
    const confirm = await request(`/admin/releases/${slug}/publish`, {
      headers: { cookie, 'accept-language': 'en' },
    });
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain(`action="/admin/releases/${slug}/publish"`);
    const form = (action: string, fields: Record<string, string>, token = csrf) =>
      postForm(`/admin/releases/${slug}/${action}`, { csrf: token, ...fields });
    expect((await form('publish', {}, 'forged')).status).toBe(403);
    const published = await form('publish', {});
    expect(published.status, published.body).toBe(200);
    const url = /id="published-url">([^<]+)</.exec(published.body)?.[1] ?? '';
    expect(url).toBe(`http://localhost:3000/releases/${slug}/index.html`);
    // The press room serves it.
    const page = await request(`/releases/${slug}/index.html`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('du formulaire');

    const api = (
      action: string,
      body?: unknown,
      headers: Record<string, string> = { 'x-csrf-token': csrf },
    ) =>
      request(`/admin/api/releases/${slug}/${action}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', origin, ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    expect((await api('withdraw', { reason: 'Erreur' }, {})).status).toBe(403);
    expect((await api('withdraw', { reason: ' ' })).status).toBe(409);
    const withdrawn = await api('withdraw', { reason: 'Publié par erreur' });
    expect(withdrawn.status, withdrawn.body).toBe(200);
    const result = JSON.parse(withdrawn.body) as {
      outcome: string;
      withdrawal: { by: string; reason: string };
    };
    expect(result.outcome).toBe('withdrawn');
    expect(result.withdrawal).toMatchObject({ by: 'web admin', reason: 'Publié par erreur' });
    // Published again: refused, as the command line refuses it; the form's page says why.
    const again = await api('publish');
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body).error).toContain('withdrawn');
    const refused = await form('publish', {});
    expect(refused.status).toBe(409);
    expect(refused.body).toMatch(/id="refused">[^<]*withdrawn/);
    const list = JSON.parse(
      (await request('/admin/api/releases?q=formulaire', { headers: { cookie } })).body,
    ) as {
      releases: { archive?: { state: string } }[];
    };
    expect(list.releases[0]?.archive?.state).toBe('withdrawn');
  });

  it('publishes an embargoed release through the API: its embargo time, no public page', async () => {
    const slug = 'nouvelle-etude-les-villes-et-le-numerique';
    const reply = await request(`/admin/api/releases/${slug}/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(reply.status, reply.body).toBe(200);
    const result = JSON.parse(reply.body) as { state: string; embargo?: string; url?: string };
    expect(result.state).toBe('embargoed');
    expect(result.embargo).toBe('2099-06-08T06:00:00.000Z');
    expect(result.url).toBeUndefined();
    expect((await request(`/releases/${slug}/index.html`)).status).toBe(404);
    // The seed, published by the command line from the same file: the admin updates it.
    const seed = await request(`/admin/api/releases/${crise.slug}/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(seed.status, seed.body).toBe(200);
    expect(JSON.parse(seed.body)).toMatchObject({ action: 'updated', state: 'public' });
    const missing = await request('/admin/api/releases/no-such-release/publish', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(missing.status).toBe(404);
  });

  it('the OpenAPI document describes the routes from their schemas', async () => {
    const reply = await request('/admin/api/openapi.json', { headers: { authorization: `Bearer ${token}` } });
    expect(reply.status).toBe(200);
    const doc = JSON.parse(reply.body) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    // The releases' routes (each section's own test checks its routes).
    expect(
      Object.keys(doc.paths)
        .filter((p) => p.startsWith('/admin/api/releases'))
        .sort(),
    ).toEqual([
      '/admin/api/releases',
      '/admin/api/releases/preview',
      '/admin/api/releases/{slug}',
      '/admin/api/releases/{slug}/publish',
      '/admin/api/releases/{slug}/withdraw',
    ]);
    expect(Object.keys(doc.paths['/admin/api/releases'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(JSON.stringify(doc.paths['/admin/api/releases/preview'])).toContain('frontMatter');
  });

  it('sign-out ends the session; the token never appears in the log', async () => {
    const out = await request('/admin/sign-out', {
      method: 'POST',
      headers: {
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
        origin: server?.url.origin ?? '',
      },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(out.status).toBe(303);
    expect((await request('/admin/releases', { headers: { cookie } })).status).toBe(303);
    const output = server?.output() ?? '';
    expect(output.split(token).length - 1).toBe(1);
    expect(output).not.toContain(cookie.slice('pressroom_admin='.length));
    expect(output).toMatch(/POST \/admin\/sign-in 303/);
  });
});

describe('PRESSROOM_ADMIN_TOKEN', { timeout: 60_000 }, () => {
  it('too short, stops serve saying so, without showing it', async () => {
    const short = 'short-admin-token';
    const run = await promisify(execFile)(process.execPath, [pressroomBin, 'serve', '--port', '0'], {
      cwd: workspace,
      env: { ...env(), PRESSROOM_ADMIN_TOKEN: short },
      timeout: 20_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string; killed?: boolean }) => {
        if (error.killed) throw new Error('serve started with a short admin token');
        return { code: error.code ?? -1, stderr: error.stderr ?? '' };
      },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('PRESSROOM_ADMIN_TOKEN must be at least 32 characters');
    expect(run.stderr).not.toContain(short);
  });
});
