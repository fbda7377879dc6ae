/**
 * The admin's campaigns through `pressroom serve` (a child process on 127.0.0.1, in a copy of
 * the examples workspace, the seed release published and the example journalists imported
 * with `pressroom contacts import`): every campaign page and API route refused without
 * sign-in; a change without the CSRF token refused; composing writes the campaign file the
 * command line reads (never over one), refuses an unknown release and an empty audience, and
 * escapes a subject with markup; a schedule in the past refused; two starts at once send each
 * recipient once (the outbox's .eml files are counted); pause of a finished campaign refused;
 * the report; the API; and a send a killed server left resumes at the next start.
 *
 * The tests of this file share one server and run in order.
 */
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { adminSendRole } from '../../lambdas/core/admin/campaign-runs.ts';
import { registerCampaign, updateCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { AdminUnderTest, adminPublicUrl } from '../support/admin.ts';
import { expectExit, runPressroom } from '../support/cli.ts';
import { crise } from '../support/example-releases.ts';
import { type Reply, type rawRequest, type Server, stopServer } from '../support/serve.ts';

const secret = 'e2e-admin-campaigns-secret-0123456789abcdef';
const admin = new AdminUnderTest({
  prefix: 'pressroom-admin-campaigns-',
  secret,
  token: 'admin-campaigns-serve-token-0123456789abcdefgh',
});
const token = admin.token;

let workspace: string;
let server: Server | undefined;
let journalists = 0;

const env = () => admin.env();
const request = (rawPath: string, options: Parameters<typeof rawRequest>[2] = {}): Promise<Reply> =>
  admin.request(rawPath, options);

const bearer = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
const api = (to: string, body?: unknown) =>
  request(`/admin/api${to}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: bearer(),
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

/** The .eml files of a campaign in the outbox. */
async function outboxFiles(campaign: string): Promise<string[]> {
  const dir = path.join(workspace, '.pressroom', 'outbox', campaign);
  return (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.eml'));
}

async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

beforeAll(async () => {
  workspace = await admin.copy();
  await admin.publish(crise.file);
  await admin.importPressList();
  // The audience as the command line counts it: the example journalists who may be mailed.
  journalists = await admin.exampleCampaignAudience();
  expect(journalists).toBeGreaterThan(10);
  server = await admin.serve();
}, 300_000);

afterAll(() => admin.stop());

describe('without signing in', { timeout: 60_000 }, () => {
  it('every campaign page and API route is refused', async () => {
    const routes: [string, string][] = [
      ['GET', '/admin/campaigns'],
      ['GET', '/admin/campaigns/new'],
      ['POST', '/admin/campaigns/new'],
      ['GET', '/admin/campaigns/etude-2021-presse'],
      ['POST', '/admin/campaigns/etude-2021-presse/proof'],
      ['POST', '/admin/campaigns/etude-2021-presse/send'],
      ['GET', '/admin/campaigns/etude-2021-presse/progress'],
      ['GET', '/admin/campaigns/etude-2021-presse/report'],
      ['POST', '/admin/campaigns/etude-2021-presse/stop'],
      ['GET', '/admin/api/campaigns'],
      ['POST', '/admin/api/campaigns'],
      ['GET', '/admin/api/campaigns/etude-2021-presse'],
      ['GET', '/admin/api/campaigns/etude-2021-presse/progress'],
      ['POST', '/admin/api/campaigns/etude-2021-presse/send'],
      ['POST', '/admin/api/campaigns/etude-2021-presse/pause'],
    ];
    for (const [method, to] of routes) {
      const reply = await request(to, { method, ...(method === 'POST' && { body: '{}' }) });
      const what = `${method} ${to}`;
      if (to.startsWith('/admin/api') || method === 'POST') expect(reply.status, what).toBe(401);
      else {
        expect(reply.status, what).toBe(303);
        expect(reply.headers.location, what).toBe('/admin/sign-in');
      }
      expect(reply.body, what).not.toContain('etude-2021-presse');
    }
  });
});

describe('signed in', { timeout: 120_000 }, () => {
  const composed = 'admin-etude';
  let cookie = '';
  let csrf = '';

  it('a change without the CSRF token is refused, and changes nothing', async () => {
    cookie = await admin.session();
    const page = await request('/admin/campaigns/new', { headers: { cookie, 'accept-language': 'en' } });
    expect(page.status).toBe(200);
    csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    expect(csrf).not.toBe('');
    const stop = await request('/admin/campaigns/etude-2021-presse/stop', {
      method: 'POST',
      headers: {
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
        origin: server?.url.origin ?? '',
      },
      body: 'confirm=1',
    });
    expect(stop.status).toBe(403);
    expect(stop.body).toContain('CSRF');
    const compose = await request('/admin/campaigns/new', {
      method: 'POST',
      headers: {
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
      },
      body: new URLSearchParams({
        csrf,
        content: `release:${crise.slug}`,
        lists: 'presse',
        name: 'evil',
      }).toString(),
    });
    expect(compose.status).toBe(403);
    expect(await readdir(path.join(workspace, 'campaigns'))).toEqual(['etude-2021-presse.yaml']);
  });

  const post = (to: string, fields: Record<string, string | string[]>) => {
    const body = new URLSearchParams({ csrf });
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
    return request(to, {
      method: 'POST',
      headers: {
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
        origin: server?.url.origin ?? '',
        'accept-language': 'en',
      },
      body: body.toString(),
    });
  };

  it('the list shows the example campaign file as a draft', async () => {
    const list = await request('/admin/campaigns', { headers: { cookie, 'accept-language': 'en' } });
    expect(list.status).toBe(200);
    expect(list.body).toContain('/admin/campaigns/etude-2021-presse');
    expect(list.body).toMatch(/state-draft">draft</);
  });

  it('an unknown name, or one with markup, is a 404 that escapes it', async () => {
    for (const name of ['nulle-part', '%3Cscript%3Ealert(1)%3C%2Fscript%3E', '%E0%A4%A']) {
      const reply = await request(`/admin/campaigns/${name}`, {
        headers: { cookie, 'accept-language': 'en' },
      });
      expect(reply.status, name).toBe(404);
      expect(reply.body, name).not.toContain('<script>alert');
      const action = await post(`/admin/campaigns/${name}/send`, {});
      expect(action.status, name).toBe(404);
    }
  });

  it('compose refuses an unknown release and an empty audience, and writes nothing', async () => {
    const unknown = await post('/admin/campaigns/new', {
      content: 'release:no-such-release',
      lists: 'presse',
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toContain('no release &quot;no-such-release&quot; in the archive');
    const empty = await post('/admin/campaigns/new', {
      content: `release:${crise.slug}`,
      lists: 'presse',
      tags: 'no-such-tag',
    });
    expect(empty.status).toBe(422);
    expect(empty.body).toContain('nobody is in this audience');
    const noList = await post('/admin/campaigns/new', { content: `release:${crise.slug}` });
    expect(noList.status).toBe(422);
    expect(await readdir(path.join(workspace, 'campaigns'))).toEqual(['etude-2021-presse.yaml']);
  });

  it('the Count button shows the audience before anything is written', async () => {
    const counted = await post('/admin/campaigns/new', {
      content: `release:${crise.slug}`,
      lists: 'presse',
      count: '1',
    });
    expect(counted.status).toBe(200);
    expect(counted.body).toContain(`<p role="status" id="counted">${journalists} recipients</p>`);
  });

  it('compose writes the campaign file the command line reads; a subject with markup is escaped', async () => {
    const subject = 'Étude <script>alert(1)</script> & “guillemets”';
    const created = await post('/admin/campaigns/new', {
      name: composed,
      content: `release:${crise.slug}`,
      lists: 'presse',
      subject,
      from: 'Villes Internet <presse@villes-internet.example.org>',
    });
    expect(created.status).toBe(303);
    expect(created.headers.location).toBe(`/admin/campaigns/${composed}?composed=1`);
    const file = await readFile(path.join(workspace, 'campaigns', `${composed}.yaml`), 'utf8');
    expect(file).toContain(`name: ${composed}`);
    expect(file).toContain(`publication: ${crise.slug}`);
    // The command line reads it as it is.
    const dry = await runPressroom(['send', `campaigns/${composed}.yaml`, '--dry-run', '--json'], {
      cwd: workspace,
      env: env(),
    });
    expectExit(dry, 0);
    expect(JSON.parse(dry.stdout).audience).toBe(journalists);
    const page = await request(`/admin/campaigns/${composed}`, {
      headers: { cookie, 'accept-language': 'en' },
    });
    expect(page.body).not.toContain('<script>alert(1)');
    expect(page.body).toContain('Étude &lt;script&gt;alert(1)&lt;/script&gt; &amp;');
    expect(page.body).toContain(`<dd id="recipient-count">${journalists}</dd>`);
    // A second one of the same name is refused; the file stays as it was.
    const again = await post('/admin/campaigns/new', {
      name: composed,
      content: `release:${crise.slug}`,
      lists: 'presse',
    });
    expect(again.status).toBe(409);
    expect(await readFile(path.join(workspace, 'campaigns', `${composed}.yaml`), 'utf8')).toBe(file);
  });

  it('a schedule in the past is refused with the reason; the campaign stays a draft', async () => {
    const past = await post(`/admin/campaigns/${composed}/schedule`, {
      date: '2020-01-01',
      time: '08:00',
      zone: 'Europe/Paris',
    });
    expect(past.status).toBe(409);
    expect(past.body).toContain('is in the past');
    const badZone = await post(`/admin/campaigns/${composed}/schedule`, {
      date: '2030-01-01',
      time: '08:00',
      zone: 'Mars/Olympus',
    });
    expect(badZone.status).toBe(422);
    expect(badZone.body).toContain('choose a time zone');
    const detail = await api(`/campaigns/${composed}`);
    expect(JSON.parse(detail.body).state).toBe('draft');
  });

  it('a proof gives its link; a test goes to one address only', async () => {
    const proof = await post(`/admin/campaigns/${composed}/proof`, {});
    expect(proof.status).toBe(200);
    const link = /id="proof-link" rel="noreferrer">([^<]+)</.exec(proof.body)?.[1] ?? '';
    expect(link).toMatch(/^http:\/\/localhost:3000\/proof\//);
    const opened = await request(new URL(link).pathname);
    expect(opened.status).toBe(200);
    const test = await post(`/admin/campaigns/${composed}/test`, { to: 'me@example.org' });
    expect(test.status).toBe(200);
    expect(test.body).toContain('A [TEST] message was sent to me@example.org');
    const badTest = await post(`/admin/campaigns/${composed}/test`, { to: 'not an address' });
    expect(badTest.status).toBe(422);
  });

  it('two starts at once send each recipient once', async () => {
    const confirm = await request(`/admin/campaigns/${composed}/send`, {
      headers: { cookie, 'accept-language': 'en' },
    });
    expect(confirm.body).toContain(`<strong>${journalists}</strong> recipients`);
    const before = (await outboxFiles(composed)).length;
    const [a, b] = await Promise.all([
      post(`/admin/campaigns/${composed}/send`, {}),
      api(`/campaigns/${composed}/send`, {}),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 303]);
    const progress = await waitFor(
      'the campaign to finish',
      async () => JSON.parse((await api(`/campaigns/${composed}/progress`)).body),
      (p) => p.finished === true,
    );
    expect(progress.sent).toBe(journalists);
    expect(progress.pending).toBe(0);
    // A third start, once finished, sends nobody.
    const third = await post(`/admin/campaigns/${composed}/send`, {});
    expect(third.status).toBe(409);
    expect((await outboxFiles(composed)).length - before).toBe(journalists);
  });

  it('the progress page works without scripts; the report has the figures of campaign report', async () => {
    const page = await request(`/admin/campaigns/${composed}/progress`, {
      headers: { cookie, 'accept-language': 'en' },
    });
    expect(page.body).toContain('>finished</span>');
    expect(page.body).toContain(`id="progress-sent">${journalists}<`);
    expect(page.body).toContain('id="refresh"');
    const report = await request(`/admin/campaigns/${composed}/report`, {
      headers: { cookie, 'accept-language': 'en' },
    });
    const cli = await runPressroom(['campaign', 'report', composed, '--json'], {
      cwd: workspace,
      env: env(),
    });
    expectExit(cli, 0);
    const counts = JSON.parse(cli.stdout).counts;
    expect(report.body).toContain(`<dd id="report-sent">${counts.sent}</dd>`);
    expect(JSON.parse((await api(`/campaigns/${composed}/report`)).body).counts).toEqual(counts);
  });

  it('pausing a finished campaign is refused, saying why', async () => {
    const pause = await post(`/admin/campaigns/${composed}/pause`, {});
    expect(pause.status).toBe(409);
    expect(pause.body).toMatch(/id="refused">[^<]*sent/);
    const viaApi = await api(`/campaigns/${composed}/pause`, {});
    expect(viaApi.status).toBe(409);
    expect(JSON.parse(viaApi.body).error).toContain('sent');
  });

  it('the API composes as the form does, and refuses what the form refuses', async () => {
    const unknown = await api('/campaigns', { content: 'release:nulle-part', lists: ['presse'] });
    expect(unknown.status).toBe(422);
    expect(JSON.parse(unknown.body).problems[0].field).toBe('content');
    const created = await api('/campaigns', {
      name: 'etude-presse-api',
      content: `release:${crise.slug}`,
      lists: ['presse'],
    });
    expect(created.status).toBe(201);
    expect(JSON.parse(created.body).campaign).toMatchObject({
      name: 'etude-presse-api',
      file: 'campaigns/etude-presse-api.yaml',
      state: 'draft',
      audience: { count: journalists },
    });
    const again = await api('/campaigns', {
      name: 'etude-presse-api',
      content: `release:${crise.slug}`,
      lists: ['presse'],
    });
    expect(again.status).toBe(409);
    const notStarted = await api('/campaigns/etude-presse-api/progress');
    expect(notStarted.status).toBe(409);
    expect((await api('/campaigns/nulle-part')).status).toBe(404);
  });

  it('schedules a campaign in its zone, and Stop, once confirmed, cancels the schedule', async () => {
    const name = 'etude-programmee';
    expect(
      (await api('/campaigns', { name, content: `release:${crise.slug}`, lists: ['presse'] })).status,
    ).toBe(201);
    const scheduled = await post(`/admin/campaigns/${name}/schedule`, {
      date: '2099-06-08',
      time: '08:00',
      zone: 'America/Montreal',
    });
    expect(scheduled.status).toBe(200);
    expect(scheduled.body).toContain('Scheduled for 2099-06-08 08:00 -04:00 America/Montreal');
    const listed = await runPressroom(['campaign', 'list', '--json'], { cwd: workspace, env: env() });
    expect(JSON.parse(listed.stdout)).toContainEqual(
      expect.objectContaining({
        name,
        state: 'scheduled',
        sendAt: expect.objectContaining({ utc: '2099-06-08T12:00:00.000Z' }),
      }),
    );
    const confirm = await request(`/admin/campaigns/${name}/stop`, {
      headers: { cookie, 'accept-language': 'en' },
    });
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('Stopping cancels the schedule');
    const stopped = await post(`/admin/campaigns/${name}/stop`, {});
    expect(stopped.status).toBe(200);
    expect(JSON.parse((await api(`/campaigns/${name}`)).body).state).toBe('cancelled');
  });

  it('a send a killed server left half done goes on when the server starts again', async () => {
    const detail = JSON.parse((await api('/campaigns/etude-presse-api')).body);
    await stopServer(server, 'SIGTERM');
    server = undefined;
    // What a server killed while sending leaves: the record `sending`, its lease held by the
    // admin of a process that is gone.
    const store = new FolderObjectStore({
      root: path.join(workspace, '.pressroom'),
      signingSecret: secret,
      publicUrl: adminPublicUrl,
    });
    const at = new Date().toISOString();
    const gone = spawnSync('true').pid;
    await updateCampaign(
      store,
      'etude-presse-api',
      () => ({
        definition: detail.definition,
        state: 'sending',
        source: 'campaigns/etude-presse-api.yaml',
        createdAt: at,
        updatedAt: at,
        runs: [{ startedAt: at }],
        lease: {
          id: 'killed',
          holder: `${adminSendRole} ${hostname()} pid ${gone}`,
          host: hostname(),
          pid: gone,
          since: at,
          expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        },
      }),
      (current) => current,
    );
    await registerCampaign(store, 'etude-presse-api');
    server = await admin.serve();
    const progress = await waitFor(
      'the resumed campaign to finish',
      async () => JSON.parse((await api('/campaigns/etude-presse-api/progress')).body),
      (p) => p.finished === true,
    );
    expect(progress.sent).toBe(journalists);
    expect(await outboxFiles('etude-presse-api')).toHaveLength(journalists);
    expect(server.stdout()).toContain("resumed the admin's interrupted sends: etude-presse-api");
  });

  it('the OpenAPI document lists the campaigns’ routes with their schemas', async () => {
    const doc = JSON.parse((await api('/openapi.json')).body);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/admin/api/campaigns',
        '/admin/api/campaigns/{name}/send',
        '/admin/api/campaigns/{name}/progress',
      ]),
    );
    expect(
      doc.paths['/admin/api/campaigns'].post.requestBody.content['application/json'].schema.properties,
    ).toHaveProperty('lists');
  });
});
