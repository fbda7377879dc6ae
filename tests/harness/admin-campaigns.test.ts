import { beforeAll, describe, expect, it } from 'vitest';
import { readApproval } from '../../lambdas/core/campaigns/approval.ts';
import { readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { scheduleNameFor } from '../../lambdas/core/campaigns/remote.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { drainAcknowledged, useCampaignHarness } from '../support/harness-campaigns.ts';
import { adminClient } from './admin-client.ts';
import { type HarnessWorld, takeDenials } from './world.ts';

/**
 * The campaigns section of the web admin on the stack as synthesized: signed in through the
 * harness's Cognito, requests go through the distribution's /admin/* behaviour to the admin
 * function's real bundle, with the template's environment and IAM (a denied call fails the
 * test). It does what the `--backend aws` commands do: the campaign file in the bucket, the
 * proof signed with the stack's secret and shown by the public function, the approval, a send
 * handed to the dispatch function (an asynchronous invocation, delivered here as Lambda would),
 * sent by the send function through SES, progress and the report from the ledger table; a
 * schedule on the campaigns' group; stop.
 */

let world: HarnessWorld;
const audience = 3;
useCampaignHarness({ sender: 'presse@villes-internet.net' }, audience, (started) => {
  world = started;
});

const { site, admin, signedInForChanges } = adminClient(() => world);

/** config/lists.yaml: one list on the stack's identity, one on a domain it has none for. */
const listsYaml = [
  'lists:',
  '  presse:',
  '    title: Presse',
  '    from: "Villes Internet <presse@villes-internet.net>"',
  '  ailleurs:',
  '    title: Ailleurs',
  '    from: "Open Cities <news@open-cities.example.org>"',
  '',
].join('\n');

// Before the admin function's first request: it keeps config/lists.yaml a minute.
beforeAll(async () => {
  await world.store.put('config/lists.yaml', listsYaml);
});

type Headers = Record<string, string>;

async function api(path: string, headers: Headers, method = 'GET', body?: unknown) {
  const answer = await admin(`/admin/api${path}`, {
    method,
    headers,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: answer.statusCode, json: JSON.parse(answer.body ?? 'null') as Record<string, unknown> };
}

describe('the campaigns section of the web admin on the stack', () => {
  it('refuses the section without sign-in, with nothing of the campaigns', async () => {
    const page = await admin('/admin/campaigns');
    expect(page.statusCode).toBe(303);
    expect(page.headers?.location).toBe('/admin/sign-in');
    const listed = await admin('/admin/api/campaigns');
    expect(listed.statusCode).toBe(401);
    const send = await admin('/admin/api/campaigns/x/send', { method: 'POST' });
    expect(send.statusCode).toBe(401);
    expect(world.edge.invocations).toEqual([]);
  });

  it('composes, proofs, approves and sends a campaign through dispatch and send, with progress and report', async () => {
    const { headers } = await signedInForChanges();

    // The compose form offers the lists of config/lists.yaml with their counts, and the senders the identity covers.
    const form = await admin('/admin/campaigns/new', { headers: { cookie: headers.cookie as string } });
    expect(form.statusCode, form.body).toBe(200);
    expect(form.body).toContain('Villes Internet &lt;presse@villes-internet.net&gt;');
    expect(form.body).not.toContain('news@open-cities.example.org');

    const composed = await api('/campaigns', headers, 'POST', {
      name: 'etude-admin',
      content: 'release:etude-villes',
      lists: ['presse'],
      from: 'Villes Internet <presse@villes-internet.net>',
      approval: true,
    });
    expect(composed.status, JSON.stringify(composed.json)).toBe(201);
    expect(composed.json).toMatchObject({ campaign: { name: 'etude-admin', audience: { count: audience } } });
    const file = await getText(world.store, 'campaign-files/etude-admin.yaml');
    expect(file).toContain('publication: etude-villes');
    expect(file).toContain('approval: required');
    // Never over a file: the same name again is a conflict, the file unchanged.
    const again = await api('/campaigns', headers, 'POST', {
      name: 'etude-admin',
      content: 'release:etude-villes',
      lists: ['presse'],
    });
    expect(again.status).toBe(409);
    expect(await getText(world.store, 'campaign-files/etude-admin.yaml')).toBe(file);
    const listed = await api('/campaigns', headers);
    expect(listed.json.campaigns).toContainEqual(
      expect.objectContaining({
        name: 'etude-admin',
        file: 'campaign-files/etude-admin.yaml',
        state: 'draft',
      }),
    );

    // Unapproved: refused before anything is handed to dispatch.
    const early = await api('/campaigns/etude-admin/send', headers, 'POST');
    expect(early.status).toBe(409);
    expect(String(early.json.error)).toMatch(/approv/);
    expect(world.edge.invocations).toEqual([]);

    // The test message: refused on the stack, saying how to test.
    const test = await api('/campaigns/etude-admin/test', headers, 'POST', { to: 'moi@villes-internet.net' });
    expect(test.status).toBe(409);
    expect(String(test.json.error)).toContain('Make a proof instead');

    // The proof: its link on the press room's domain, shown by the public function.
    const proof = await api('/campaigns/etude-admin/proof', headers, 'POST');
    expect(proof.status, JSON.stringify(proof.json)).toBe(200);
    const url = new URL(String(proof.json.url));
    expect(`${url.origin}/`).toBe(site().replace(/\/?$/, '/'));
    expect(url.pathname).toMatch(/^\/proof\/.+/);
    const shown = await world.siteRequest(url.toString(), { method: 'GET' });
    expect(shown.function).toMatch(/^Public/);
    const page = shown.invocation.ok ? shown.invocation.result : undefined;
    expect(page?.statusCode).toBe(200);
    expect(page?.body).toContain('Villes Internet &lt;presse@villes-internet.net&gt;');

    const approved = await api('/campaigns/etude-admin/approve', headers, 'POST', {
      by: 'Florence Poznanski',
    });
    expect(approved.status, JSON.stringify(approved.json)).toBe(200);
    expect((await readApproval(world.store, 'etude-admin'))?.by).toBe('Florence Poznanski');

    // Send now: the record written, dispatch invoked asynchronously (nothing sent by the admin).
    const sent = await api('/campaigns/etude-admin/send', headers, 'POST');
    expect(sent.status, JSON.stringify(sent.json)).toBe(202);
    expect(sent.json).toEqual({ outcome: 'started' });
    expect(world.edge.mails).toEqual([]);
    expect(world.edge.invocations).toEqual([
      expect.objectContaining({
        caller: expect.stringMatching(/^Admin/),
        payload: '{"campaign":"etude-admin"}',
      }),
    ]);
    const [dispatched] = await world.deliverInvocations();
    expect(dispatched?.function).toMatch(/^Dispatch/);
    expect(dispatched?.invocation).toMatchObject({ ok: true, result: { audience, enqueued: audience } });
    await drainAcknowledged(world);
    expect(world.edge.mails.flatMap((m) => m.destinations).sort()).toHaveLength(audience);
    expect(world.edge.mails.every((m) => m.caller.startsWith('Send'))).toBe(true);

    const progress = await api('/campaigns/etude-admin/progress', headers);
    expect(progress.json).toMatchObject({
      state: 'sent',
      finished: true,
      audience,
      sent: audience,
      pending: 0,
      running: false,
    });
    // The pages too: the list, the campaign, its progress, through the same function.
    for (const path of [
      '/admin/campaigns',
      '/admin/campaigns/etude-admin',
      '/admin/campaigns/etude-admin/progress',
    ]) {
      const page = await admin(path, { headers: { cookie: headers.cookie as string } });
      expect(page.statusCode, `${path}: ${page.body}`).toBe(200);
      expect(page.body).toContain('etude-admin');
    }
    const report = await api('/campaigns/etude-admin/report', headers);
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({ counts: expect.objectContaining({ sent: audience }) });
    // Sending again: refused, nothing handed over.
    const twice = await api('/campaigns/etude-admin/send', headers, 'POST');
    expect(twice.status).toBe(409);
    expect(String(twice.json.error)).toContain('cannot be sent again');
    expect(world.edge.invocations).toEqual([]);
    expect(takeDenials(world)).toEqual([]);
  }, 180_000);

  it('pauses a campaign being sent (its queued batches dropped), and resumes it through dispatch', async () => {
    const { headers } = await signedInForChanges();
    const composed = await api('/campaigns', headers, 'POST', {
      name: 'etude-pause',
      content: 'release:etude-villes',
      lists: ['presse'],
      subject: 'Reprise',
    });
    expect(composed.status, JSON.stringify(composed.json)).toBe(201);
    const mailsBefore = world.edge.mails.length;
    expect((await api('/campaigns/etude-pause/send', headers, 'POST')).status).toBe(202);
    const [dispatched] = await world.deliverInvocations();
    expect(dispatched?.invocation).toMatchObject({ ok: true, result: { enqueued: audience } });

    const paused = await api('/campaigns/etude-pause/pause', headers, 'POST');
    expect(paused.status, JSON.stringify(paused.json)).toBe(200);
    expect(paused.json).toMatchObject({ state: 'paused' });
    await drainAcknowledged(world);
    expect(world.edge.mails.length).toBe(mailsBefore);
    const held = await api('/campaigns/etude-pause/progress', headers);
    expect(held.json).toMatchObject({ state: 'paused', sent: 0, pending: audience, running: false });

    const resumed = await api('/campaigns/etude-pause/resume', headers, 'POST');
    expect(resumed.status, JSON.stringify(resumed.json)).toBe(202);
    expect(world.edge.invocations).toEqual([
      expect.objectContaining({ payload: '{"campaign":"etude-pause"}' }),
    ]);
    await world.deliverInvocations();
    await drainAcknowledged(world);
    expect(world.edge.mails.length).toBe(mailsBefore + audience);
    const done = await api('/campaigns/etude-pause/progress', headers);
    expect(done.json).toMatchObject({ state: 'sent', sent: audience, pending: 0 });
    expect(takeDenials(world)).toEqual([]);
  }, 180_000);

  it('refuses a sender the stack has no identity for, before anything is written', async () => {
    const { headers } = await signedInForChanges();
    const composed = await api('/campaigns', headers, 'POST', {
      name: 'ailleurs-admin',
      content: 'release:etude-villes',
      lists: ['presse'],
    });
    expect(composed.status, JSON.stringify(composed.json)).toBe(201);
    // The default sender is the first list's covered by the identity: refused only when another is written.
    await world.store.put(
      'campaign-files/autre-admin.yaml',
      'name: autre-admin\npublication: etude-villes\naudience:\n  list: presse\nfrom: "Open Cities <news@open-cities.example.org>"\n',
    );
    const refused = await api('/campaigns/autre-admin/send', headers, 'POST');
    expect(refused.status).toBe(409);
    expect(String(refused.json.error)).toContain('sends only from its SES identity villes-internet.net');
    await expect(readCampaign(world.store, 'autre-admin')).rejects.toThrow();
    expect(world.edge.invocations).toEqual([]);
    expect(takeDenials(world)).toEqual([]);
  });

  it('schedules a campaign on the campaigns group as `schedule --backend aws` does, then stops it (the schedule deleted)', async () => {
    const { headers } = await signedInForChanges();
    const next = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const scheduled = await api('/campaigns/ailleurs-admin/schedule', headers, 'POST', {
      date: next,
      time: '08:00',
      zone: 'Europe/Paris',
    });
    expect(scheduled.status, JSON.stringify(scheduled.json)).toBe(200);
    expect(scheduled.json).toMatchObject({ sendAt: { zone: 'Europe/Paris' } });
    const key = `${world.outputs.ScheduleGroupName}/${scheduleNameFor('ailleurs-admin')}`;
    const schedule = world.edge.schedules.get(key);
    expect(schedule?.definition).toMatchObject({
      ScheduleExpression: `at(${next}T08:00:00)`,
      ScheduleExpressionTimezone: 'Europe/Paris',
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: world.outputs.DispatchFunctionArn,
        RoleArn: world.outputs.SchedulerRoleArn,
        Input: expect.stringContaining('"campaign":"ailleurs-admin"'),
      },
    });
    expect((await readCampaign(world.store, 'ailleurs-admin')).state).toBe('scheduled');

    const stopped = await api('/campaigns/ailleurs-admin/stop', headers, 'POST');
    expect(stopped.status, JSON.stringify(stopped.json)).toBe(200);
    expect(stopped.json).toMatchObject({ state: 'cancelled' });
    expect(world.edge.schedules.has(key)).toBe(false);
    expect(takeDenials(world)).toEqual([]);
  }, 60_000);
});
