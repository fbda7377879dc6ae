import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { EventBridgeCampaignScheduler } from '../../lambdas/adapters/scheduler.ts';
import { scheduleCampaignRemotely, startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { parseSendTime, type SendTime } from '../../lambdas/core/campaigns/time.ts';
import { loadSuppressions } from '../../lambdas/core/contacts/audience.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { type ConfigName, configVariables, loadConfig } from '../../lambdas/handlers/config.ts';
import { definition, importJournalists, journalist } from '../support/dispatch-fixtures.ts';
import { uploadRelease } from '../support/harness-campaigns.ts';
import type { SentMail } from './edge.ts';
import { dispatchFunction, type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * The whole life of a release on the stack as its template wires it: the real bundles, with
 * the template's environment, event sources and IAM policies, against s3rver,
 * aws-ses-v2-local and the harness's fakes. Each step asserts what it stored, and that no
 * call it made was denied by the calling function's role.
 */

/** The deploy's settings: a sender SES can verify, and a production SES rate. */
const context = { sender: 'presse@villes-internet.net', sendRate: 14 };

let world: HarnessWorld;
useHarness(context, (started) => {
  world = started;
});

/** The denials so far, one line each: what a failing step prints. */
const denials = (): string[] => takeDenials(world);

describe('the life of a release on the stack as synthesized', () => {
  it('publish: a publication uploaded under publications/ is rendered, archived and put in the press room', async () => {
    const deliveries = await uploadRelease(world, 'etude');
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

describe('publishing the examples on the stack as synthesized', () => {
  const examples = path.resolve(import.meta.dirname, '../../examples');
  const upload = async (from: string, to: string) =>
    world.store.put(to, await readFile(path.join(examples, from)));

  it('the example releases with their organisations and attachments, then the example newsletter issue', async () => {
    for (const name of await readdir(path.join(examples, 'organizations')))
      await upload(`organizations/${name}`, `publications/organizations/${name}`);
    await upload(
      'publications/attachments/open-data-barometer-summary.txt',
      'publications/attachments/open-data-barometer-summary.txt',
    );
    await upload('publications/images/barometer-chart.jpg', 'publications/images/barometer-chart.jpg');
    const releases = (await readdir(path.join(examples, 'publications'))).filter((n) => n.endsWith('.md'));
    // A translation (translationOf) names a release of the archive: uploaded once that one is published.
    const translates = async (name: string) =>
      /^translationOf:/m.test(await readFile(path.join(examples, 'publications', name), 'utf8'));
    const published = [];
    for (const second of [false, true]) {
      for (const name of releases)
        if ((await translates(name)) === second) await upload(`publications/${name}`, `publications/${name}`);
      published.push(...(await world.deliverS3Notifications()));
    }
    expect(published.map((d) => d.invocation)).toEqual(
      releases.map(() =>
        expect.objectContaining({ ok: true, result: [expect.objectContaining({ outcome: 'published' })] }),
      ),
    );
    const issues = (await readdir(path.join(examples, 'newsletters'))).filter((n) => n.endsWith('.md'));
    for (const name of issues) await upload(`newsletters/${name}`, `publications/newsletters/${name}`);
    const issued = await world.deliverS3Notifications();
    expect(issued.map((d) => d.invocation)).toEqual(
      issues.map(() =>
        expect.objectContaining({
          ok: true,
          result: [expect.objectContaining({ outcome: 'published', newsletter: expect.any(String) })],
        }),
      ),
    );
    expect(await getText(world.store, 'site/newsletters/index.html')).toBeDefined();
    // The barometer's press kit image: its web size made by sharp from the function's layer.
    const slug = 'open-data-barometer-2024';
    const web = await world.store.get(`site/releases/${slug}/images/web/barometer-chart.jpg`);
    expect(web?.contentType).toBe('image/jpeg');
    expect(Buffer.from(web?.body ?? []).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(await getText(world.store, `site/releases/${slug}/index.html`)).toContain('class="gallery"');
    expect(denials()).toEqual([]);
  });

  it('a publication with a mistake gets its error report beside it, and the archive is left as it was', async () => {
    await world.store.put('publications/broken.md', '---\ntitle: ""\n---\nNo date, no publisher.\n');
    const [delivery] = await world.deliverS3Notifications();
    expect(delivery?.invocation).toEqual(
      expect.objectContaining({
        ok: true,
        result: [expect.objectContaining({ outcome: 'rejected', report: 'publications/broken.errors.json' })],
      }),
    );
    expect(await getText(world.store, 'publications/broken.errors.json')).toContain('"problems"');
    expect(denials()).toEqual([]);
  });
});

describe('the life of a campaign on the stack as synthesized', () => {
  const name = 'lancement-etude';
  const recipients = 4;
  let scheduleKey: string;

  it('contacts: the operator imports the press list with the keys of the signing secret, and opens two lists', async () => {
    await importJournalists(world.store, contactKeys(world.secret), recipients);
    // One list mails from the stack's sender domain, the other from a domain the stack has no identity for.
    await world.store.put(
      'config/lists.yaml',
      [
        'lists:',
        '  lettre:',
        '    title: La lettre de Villes Internet',
        '    from: "Villes Internet <lettre@villes-internet.net>"',
        '  open-data:',
        '    title: Open data',
        '    lang: en',
        '    from: "Open Cities <news@open-cities.example.org>"',
        '',
      ].join('\n'),
    );
    expect(Object.keys(await snapshotKeys('contacts/')).length).toBeGreaterThan(0);
  });

  it('schedule: the command line leaves a one-time schedule on the group the stack outputs', async () => {
    const { ScheduleGroupName, DispatchFunctionArn, SchedulerRoleArn, ScheduleDeadLetterQueueArn } =
      world.outputs;
    // As bin/aws-backend.ts builds it from the stack's outputs (the dead-letter queue when the stack has one).
    const options = {
      groupName: ScheduleGroupName as string,
      targetArn: DispatchFunctionArn as string,
      roleArn: SchedulerRoleArn as string,
      client: world.scheduler,
      ...(ScheduleDeadLetterQueueArn !== undefined && { deadLetterArn: ScheduleDeadLetterQueueArn }),
    };
    const scheduler = new EventBridgeCampaignScheduler(
      options as ConstructorParameters<typeof EventBridgeCampaignScheduler>[0],
    );
    // Scheduled an hour ago for a minute ago: it is due when the schedule fires.
    const sendAt = parseSendTime(new Date(Date.now() - 60_000).toISOString()) as SendTime;
    const campaign = definition(name, {
      from: { name: 'Villes Internet', address: context.sender },
      sendAt,
    });
    const scheduled = await scheduleCampaignRemotely(
      campaign,
      { store: world.store, scheduler, clock: () => new Date(Date.now() - 3_600_000) },
      `campaigns/${name}.yaml`,
    );
    expect(scheduled.action).toBe('created');
    scheduleKey = `${ScheduleGroupName}/${scheduled.schedule.name}`;
    const stored = world.edge.schedules.get(scheduleKey);
    expect(stored?.definition).toMatchObject({
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: DispatchFunctionArn, RoleArn: SchedulerRoleArn },
    });
    const input = (stored?.definition.Target as { Input?: string } | undefined)?.Input ?? '{}';
    expect(JSON.parse(input)).toMatchObject({ campaign: name });
  });

  it('fire: Scheduler assumes the role (trusted for its schedule group, as AWS documents) and invokes dispatch', async () => {
    const firing = await world.fireSchedule(scheduleKey);
    expect(firing.delivery?.function).toMatch(/^DispatchFunction/);
    expect(firing.delivery?.invocation).toMatchObject({ ok: true });
    expect(firing.invokeAllowed).toBe(true);
    // A schedule that names a dead-letter queue: its role may send there (and the queue exists).
    expect(firing.deadLetterAllowed).not.toBe(false);
    expect(world.edge.schedules.has(scheduleKey)).toBe(false);
    expect(denials()).toEqual([]);
    // AWS documents the schedule group's ARN as the aws:SourceArn Scheduler assumes a role with.
    expect(
      firing.assumed,
      `scheduler.amazonaws.com may not assume ${world.outputs.SchedulerRoleArn} with ${JSON.stringify(firing.context)}: on AWS the schedule would never fire`,
    ).toBe(true);
  });

  it('dispatch: the audience is cut into queue messages for the send function', async () => {
    const queued = [...world.edge.queues.values()].flat();
    expect(queued).toHaveLength(1);
    const batch = JSON.parse(queued[0]?.body ?? '{}') as { campaign: string; recipients: unknown[] };
    expect(batch.campaign).toBe(name);
    expect(batch.recipients).toHaveLength(recipients);
    expect((await campaignStatus(world.store, name, new Date(), world.ledger)).state).toBe('sending');
  });

  it('send: the SQS event source hands the batch to send, which mails each recipient through SES', async () => {
    const deliveries = await world.drainQueues();
    expect(deliveries.map((d) => d.function)).toEqual([expect.stringMatching(/^SendFunction/)]);
    expect(deliveries[0]?.invocation).toEqual(
      expect.objectContaining({ ok: true, result: { batchItemFailures: [] } }),
    );
    expect(world.edge.mails.map((m) => m.destinations)).toEqual(
      expect.arrayContaining(Array.from({ length: recipients }, (_, i) => [journalist(i)])),
    );
    for (const mail of world.edge.mails) {
      expect(mail.source).toContain(context.sender);
      expect(mail.tags.campaign).toBe(name);
      expect(mail.configurationSet).toBe(
        world.functions.find((f) => f.logicalId.startsWith('Send'))?.environment
          .PRESSROOM_SES_CONFIGURATION_SET,
      );
      // On the press room's domain (tests/harness/domain.test.ts).
      expect(unsubscribeUrl(mail).startsWith(world.outputs.PressRoomUrl as string)).toBe(true);
    }
    const status = await campaignStatus(world.store, name, new Date(), world.ledger);
    expect({ state: status.state, sent: status.sent, failed: status.failed }).toEqual({
      state: 'sent',
      sent: recipients,
      failed: 0,
    });
    // The ledger is in the table, claimed and recorded in transactions by send: none in the bucket.
    const sendCalls = world.edge.calls.filter((c) => c.caller.startsWith('Send') && c.service === 'dynamodb');
    expect(sendCalls.filter((c) => c.operation === 'TransactWriteItems' && c.status === 200).length).toBe(
      2 * recipients,
    );
    expect((await world.store.list(`campaigns/${name}/ledger/`)).items).toEqual([]);
    expect(denials()).toEqual([]);
  });

  it('SES events: a delivery, a bounce and a complaint reach feedback through SNS and suppress', async () => {
    const [delivered, bounced, complained] = mailsTo([journalist(0), journalist(1), journalist(2)]) as [
      SentMail,
      SentMail,
      SentMail,
    ];
    const deliveries = [
      ...(await world.publishSesEvent(delivered, 'Delivery')),
      ...(await world.publishSesEvent(bounced, 'Bounce')),
      ...(await world.publishSesEvent(complained, 'Complaint')),
    ];
    expect(deliveries.map((d) => d.function)).toEqual(
      Array(3).fill(expect.stringMatching(/^FeedbackFunction/)),
    );
    expect(deliveries.map((d) => d.invocation)).toEqual(
      Array(3).fill(expect.objectContaining({ ok: true, result: expect.objectContaining({ applied: 1 }) })),
    );
    const suppressed = await suppressedAddresses();
    expect(suppressed).toEqual(expect.arrayContaining([journalist(1), journalist(2)]));
    expect(suppressed).not.toContain(journalist(0));
    expect(denials()).toEqual([]);
  });

  it("unsubscribe: the one-click POST of List-Unsubscribe reaches public through the press room's domain", async () => {
    const [mail] = mailsTo([journalist(3)]) as [SentMail];
    const delivery = await world.siteRequest(unsubscribeUrl(mail), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'Google-Mail-Unsubscribe',
      },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(delivery.invocation).toEqual(
      expect.objectContaining({ ok: true, result: expect.objectContaining({ statusCode: 200 }) }),
    );
    // An unsubscribe keeps the contact's id and the list only, not the address.
    const keys = contactKeys(world.secret);
    const suppression = (await loadSuppressions(world.store)).get(keys.idOf(journalist(3)));
    expect(suppression?.lists?.presse?.reason).toBe('unsubscribed');
    expect(denials()).toEqual([]);
  });

  it("subscribe: the form posts to public, which mails the confirmation from the list's sender through SES", async () => {
    const delivery = await subscribe('abonnee@exemple.org', 'lettre');
    expect(delivery.invocation).toEqual(
      expect.objectContaining({ ok: true, result: expect.objectContaining({ statusCode: 200 }) }),
    );
    const [mail] = mailsTo(['abonnee@exemple.org']) as [SentMail];
    expect(mail.caller).toMatch(/^PublicFunction/);
    expect(mail.source).toContain('lettre@villes-internet.net');
    expect(denials()).toEqual([]);
  });

  it('confirm: the link in the confirmation mail, posted, puts the address on the list', async () => {
    const [mail] = mailsTo(['abonnee@exemple.org']) as [SentMail];
    const text = (await simpleParser(mail.raw)).text ?? '';
    const link = /https:\/\/\S+\/subscribe\/confirm\/\S+/.exec(text)?.[0];
    expect(link?.startsWith(world.outputs.PublicEndpointUrl as string)).toBe(true);
    const delivery = await world.functionUrlRequest(link as string, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'confirm=yes',
    });
    expect(delivery.invocation).toEqual(
      expect.objectContaining({ ok: true, result: expect.objectContaining({ statusCode: 200 }) }),
    );
    const { contact } = await findContact(world.store, contactKeys(world.secret), 'abonnee@exemple.org');
    expect(Object.keys(contact?.lists ?? {})).toEqual(['lettre']);
    expect(denials()).toEqual([]);
  });

  it('finding: a list whose sender is on a domain the stack has no identity for cannot send its confirmation', async () => {
    // lists.yaml and campaigns name their own sender; the roles may send only from the stack's identity.
    const delivery = await subscribe('someone@exemple.org', 'open-data');
    expect(world.edge.denials.splice(0)).toEqual([
      expect.objectContaining({
        caller: expect.stringMatching(/^PublicFunction/),
        action: 'ses:SendRawEmail',
        resource: expect.stringMatching(/:identity\/open-cities\.example\.org$/),
      }),
    ]);
    expect(delivery.invocation).toEqual(
      expect.objectContaining({ ok: true, result: expect.objectContaining({ statusCode: 503 }) }),
    );
  });

  it('status: the campaign reads as sent, with the outcomes SES reported', async () => {
    const status = await campaignStatus(world.store, name, new Date(), world.ledger);
    expect(status).toMatchObject({ state: 'sent', audience: recipients, sent: recipients, remaining: 0 });
  });

  it('finding: a campaign from a domain the stack has no identity for pauses, its send denied by IAM', async () => {
    // `pressroom send --backend aws`: the record written, then dispatch invoked directly.
    const other = 'annonce-autre-domaine';
    const report = await startCampaign(
      definition(other, { from: { name: 'Open Cities', address: 'news@open-cities.example.org' } }),
      { store: world.store, dispatcher: dispatchFunction(world) },
      `campaigns/${other}.yaml`,
    );
    // Journalists 1 and 2 are suppressed, 3 unsubscribed from the list: one recipient is left.
    expect(report.enqueued).toBe(1);
    await world.drainQueues();
    expect(world.edge.denials.splice(0)).toEqual([
      expect.objectContaining({
        caller: expect.stringMatching(/^SendFunction/),
        action: 'ses:SendRawEmail',
        resource: expect.stringMatching(/:identity\/open-cities\.example\.org$/),
      }),
    ]);
    const status = await campaignStatus(world.store, other, new Date(), world.ledger);
    expect({ state: status.state, failed: status.failed }).toEqual({ state: 'paused', failed: 0 });
    expect(status.pausedReason).toMatch(/AccessDenied/);
  });

  it('admin: the web admin lists the uploaded publications, with what the archive knows of them', async () => {
    const delivery = await world.siteRequest(`${world.outputs.PressRoomUrl}admin/api/releases`, {
      method: 'GET',
      headers: { authorization: `Bearer ${world.cognito.token()}` },
    });
    expect(delivery.invocation.ok).toBe(true);
    const answer = delivery.invocation.ok ? delivery.invocation.result : undefined;
    expect(answer?.statusCode).toBe(200);
    expect(JSON.parse(answer?.body ?? '').releases).toContainEqual(
      expect.objectContaining({
        slug: 'etude-villes',
        archive: expect.objectContaining({ state: expect.any(String) }),
      }),
    );
    expect(takeDenials(world)).toEqual([]);
  });

  it('environment: every required variable a function reads is one the template sets', () => {
    // Required: loadConfig refuses its absence (optional ones have a default or may be unset).
    const required = new Set(
      Object.entries(configVariables)
        .filter(([name]) => {
          try {
            loadConfig([name as ConfigName], {});
            return false;
          } catch {
            return true;
          }
        })
        .map(([, variable]) => variable),
    );
    // lib/README.md: public cannot be given its own Function URL; it takes the request's host.
    const byDesign = new Set(['PublicFunction PRESSROOM_PUBLIC_URL', 'AdminFunction PRESSROOM_SITE_URL']);
    const missing = world.functions.flatMap((spec) =>
      [...world.container(spec.logicalId).variablesRead]
        .filter((name) => required.has(name) && !(name in spec.environment))
        .map((name) => `${spec.logicalId.replace(/[0-9A-F]{8}$/, '')} ${name}`)
        .filter((entry) => !byDesign.has(entry)),
    );
    expect(
      world.functions.every((spec) => world.container(spec.logicalId).variablesRead.has('PRESSROOM_BUCKET')),
    ).toBe(true);
    expect(missing).toEqual([]);
  });

  it('logs: every function logged JSON lines, and no recipient address in any of them', () => {
    for (const spec of world.functions) {
      const lines = world.container(spec.logicalId).logs.filter((l) => l.startsWith('{'));
      expect(lines.length, spec.logicalId).toBeGreaterThan(0);
      for (const line of lines) expect(line).not.toMatch(/journaliste\.\d+@|@exemple\.org/);
    }
  });
});

/** Keys under a prefix, as the operator lists them. */
async function snapshotKeys(prefix: string): Promise<Record<string, string>> {
  const page = await world.store.list(prefix);
  return Object.fromEntries(page.items.map((i) => [i.key, i.version]));
}

/** The mails sent to these addresses, in the same order. */
function mailsTo(addresses: string[]): SentMail[] {
  return addresses.map((a) => {
    const mail = world.edge.mails.find((m) => m.destinations.includes(a));
    if (!mail) throw new Error(`no mail was sent to ${a}`);
    return mail;
  });
}

/** A subscription request from the public form, to public's Function URL. */
function subscribe(email: string, list: string) {
  return world.functionUrlRequest(`${world.outputs.PublicEndpointUrl}subscribe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'text/html',
      'accept-language': 'fr',
    },
    body: new URLSearchParams({ email, list }).toString(),
  });
}

/** The https link of a message's List-Unsubscribe header (RFC 8058). */
function unsubscribeUrl(mail: SentMail): string {
  const header =
    /^List-Unsubscribe:(.*(?:\r?\n[ \t].*)*)/im.exec(mail.raw)?.[1]?.replace(/\r?\n[ \t]/g, '') ?? '';
  const url = /<(https:[^>]+)>/.exec(header)?.[1];
  if (!url) throw new Error(`no https List-Unsubscribe in the message to ${mail.destinations[0]}`);
  return url;
}

/** The addresses suppressed (from everything or a list) in the data bucket. */
async function suppressedAddresses(): Promise<string[]> {
  return [...(await loadSuppressions(world.store)).values()].flatMap((s) => (s.email ? [s.email] : []));
}
