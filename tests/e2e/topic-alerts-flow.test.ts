/**
 * Topic alerts end to end, against the real `pressroom serve` (a child process on 127.0.0.1)
 * and the real `pressroom publish`, in a workspace whose list `alertes` offers two topics:
 * two people pick a topic each on the form and confirm; publishing a release tagged with one
 * of them schedules its alert; the due job (run here with a clock two minutes on, as `serve`
 * and `run-due` run it) mails the one subscriber of that topic, once, with a one-click
 * unsubscribe; publishing again alerts nobody twice; `contacts show` shows the topics; the
 * one-click unsubscribe takes them out of the next alert's audience; a release withdrawn
 * within the minute after publishing has its waiting alert cancelled, and nothing is mailed.
 */
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { OutboxMailer } from '../../lambdas/adapters/outbox-mailer.ts';
import { alertCampaignName } from '../../lambdas/core/alerts/release-alert.ts';
import { readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { runDueCampaigns } from '../../lambdas/core/campaigns/schedule.ts';
import { resolveAudience } from '../../lambdas/core/contacts/audience.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { confirmationMailbox } from '../../lambdas/core/contacts/subscription-email.ts';
import { exampleWorkspace, expectExit, runPressroom } from '../support/cli.ts';
import { outboxEnv, requestLink, type Server, startServer, stopServer } from '../support/serve.ts';

const secret = 'e2e-topic-alerts-secret-0123456789abcdef';
const keys = contactKeys(secret);
const publicUrl = 'https://press.example.org';
const seedFile = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
const seedSlug = 'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes';
const alert = alertCampaignName('alertes', seedSlug);
const workspaceYaml = `sender: "Villes Internet <presse@villes-internet.example.org>"
timeZone: Europe/Paris
organizations: [villes-internet]
lists:
  alertes:
    title: { fr: Alertes de Villes Internet, en: Villes Internet alerts }
    subscription: open
    topics:
      numerique: { fr: Numérique, en: Digital }
      culture: Culture
    frequencies: [immediate, daily]
`;

let work: string;
let data: string;
let store: FolderObjectStore;
let server: Server | undefined;
let unsubscribeUrl: string;

const env = () => outboxEnv({ data, secret, publicUrl });
const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };
const ask = (
  method: string,
  link: string,
  options: { body?: string; headers?: Record<string, string> } = {},
) => requestLink(server, link, publicUrl, { ...options, method });

/** The newest confirmation email's link. */
async function lastConfirmLink(): Promise<string> {
  const dir = path.join(data, 'outbox', confirmationMailbox);
  const mails: ParsedMail[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.eml')))
    mails.push(await simpleParser(await readFile(path.join(dir, file))));
  mails.sort((a, b) => (a.date?.getTime() ?? 0) - (b.date?.getTime() ?? 0));
  const link = /https:\/\/press\.example\.org\/subscribe\/confirm\/s1\.[\w-]+\.[\w-]+/.exec(
    mails.at(-1)?.text ?? '',
  );
  if (!link) throw new Error('no confirmation link');
  return link[0];
}

async function subscribe(email: string, topic: string, frequency = 'immediate'): Promise<void> {
  const reply = await ask('POST', '/subscribe', {
    body: `email=${encodeURIComponent(email)}&list=alertes&topic=${topic}&frequency=${frequency}&website=`,
    headers: form,
  });
  expect(reply.status).toBe(200);
  const link = await lastConfirmLink();
  expect((await ask('POST', link, { body: 'confirm=yes', headers: form })).status).toBe(200);
}

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-alerts-');
  await writeFile(path.join(work, 'pressroom.yaml'), workspaceYaml);
  await mkdir(path.join(work, 'organizations'));
  await copyFile(
    path.join(work, 'examples/organizations/villes-internet.yaml'),
    path.join(work, 'organizations/villes-internet.yaml'),
  );
  data = path.join(work, 'data');
  server = await startServer([], { cwd: work, env: env() });
  store = new FolderObjectStore({ root: data, signingSecret: secret, publicUrl });
});

afterAll(async () => {
  await stopServer(server, 'SIGTERM');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('topic alerts, end to end', () => {
  it('the form of the alert list offers its topics', async () => {
    const page = await ask('GET', '/subscribe?list=alertes');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<legend>Thèmes</legend>');
    expect(page.body).toContain('value="numerique"><label for="topic-numerique">Numérique</label>');
  });

  it('an unknown topic is refused with a clear answer', async () => {
    const reply = await ask('POST', '/subscribe', {
      body: 'email=x%40example.org&list=alertes&topic=sport',
      headers: form,
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toContain('ne propose pas de thème');
  });

  it('publishing a release with a topic tag schedules its alert, once', async () => {
    await subscribe('numerique@example.org', 'numerique');
    await subscribe('culture@example.org', 'culture');
    await subscribe('daily@example.org', 'numerique', 'daily');
    const published = await runPressroom(['publish', seedFile, '--no-pdf'], { cwd: work, env: env() });
    expectExit(published, 0);
    expect(published.stdout).toMatch(
      new RegExp(`alert +${alert} scheduled for \\S+ UTC \\(topics: numerique\\)`),
    );
    expect((await readCampaign(store, alert)).definition.audience).toMatchObject({ topics: ['numerique'] });
  });

  it('the due job mails the subscriber of that topic alone, with a one-click unsubscribe', async () => {
    const later = new Date(Date.now() + 2 * 60_000);
    const runs = await runDueCampaigns({
      store,
      mailer: new OutboxMailer(store),
      keys,
      publicUrl,
      clock: () => later,
      lists: ['alertes'],
    });
    expect(runs.map((r) => [r.name, r.report?.sent])).toEqual([[alert, 1]]);
    const dir = path.join(data, 'outbox', alert);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const raw = await readFile(path.join(dir, files[0] as string));
    const mail = await simpleParser(raw);
    expect(mail.to && !Array.isArray(mail.to) && mail.to.value[0]?.address).toBe('numerique@example.org');
    const text = raw.toString('latin1');
    expect(text).toContain('\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n');
    const header = /\r\nList-Unsubscribe: ([^\r\n]+(?:\r\n[ \t][^\r\n]+)*)/
      .exec(text)?.[1]
      ?.replace(/\r\n[ \t]+/g, ' ');
    unsubscribeUrl = /<(https:\/\/press\.example\.org\/unsubscribe\/[^>]+)>/.exec(
      header ?? '',
    )?.[1] as string;
    expect(unsubscribeUrl).toMatch(/\/unsubscribe\/u1\./);
  });

  it('publishing the release again alerts nobody twice', async () => {
    const again = await runPressroom(['publish', seedFile, '--no-pdf'], { cwd: work, env: env() });
    expectExit(again, 0);
    expect(again.stdout).toContain(`${alert} sent: left as it is (publishing again never alerts twice)`);
    expect((await readCampaign(store, alert)).state).toBe('sent');
  });

  it('run-due sends the daily digest: a private issue of the releases on their topics, to the digest subscriber alone', async () => {
    // The first run marks the digest time; the release is then moved to the day before, and
    // the mark to two days before, as if the release had come out since yesterday's digest.
    expectExit(await runPressroom(['run-due'], { cwd: work, env: env() }), 0);
    const tagFile = path.join(data, 'catalog', 'tags', 'numerique.json');
    const yesterday = new Date(Date.now() - 26 * 3600_000);
    await writeFile(
      tagFile,
      (await readFile(tagFile, 'utf8')).replace(
        /"publishedAt":\s*"[^"]+"/g,
        `"publishedAt": "${yesterday.toISOString()}"`,
      ),
    );
    const marks = path.join(data, 'alerts', 'digests', 'alertes.json');
    await writeFile(marks, JSON.stringify({ daily: new Date(Date.now() - 50 * 3600_000).toISOString() }));
    const run = await runPressroom(['run-due'], { cwd: work, env: env() });
    expectExit(run, 0);
    expect(run.stdout).toMatch(
      /daily digest of alertes: digest-alertes-daily-\S+-1, 1 release\(s\) for 1 people/,
    );
    const name = /digest-alertes-daily-\S+-1/.exec(run.stdout)?.[0] as string;
    expect(run.stdout).toContain(`Campaign ${name}: sent, sent 1`);
    const dir = path.join(data, 'outbox', name);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const mail = await simpleParser(await readFile(path.join(dir, files[0] as string)));
    expect(mail.to && !Array.isArray(mail.to) && mail.to.value[0]?.address).toBe('daily@example.org');
    expect(mail.subject).toMatch(/^Alertes de Villes Internet – \d{4}-\d{2}-\d{2}$/);
    expect(mail.html).toContain(seedSlug);
    // Private: not in the press room.
    await expect(readFile(path.join(data, 'site', 'newsletters', name, 'index.html'))).rejects.toThrow();
  });

  it('contacts show shows the topics a person confirmed', async () => {
    const shown = await runPressroom(['contacts', 'show', 'numerique@example.org', '--json'], {
      cwd: work,
      env: env(),
    });
    expectExit(shown, 0);
    const found = JSON.parse(shown.stdout) as {
      contact: { lists: Record<string, { alerts?: { topics: string[] } }> };
    };
    expect(found.contact.lists.alertes?.alerts?.topics).toEqual(['numerique']);
  });

  it("the alert's one-click unsubscribe takes them out of the next alert's audience", async () => {
    const reply = await ask('POST', unsubscribeUrl, {
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(reply.status).toBe(200);
    const audience: string[] = [];
    for await (const m of resolveAudience(store, {
      lists: ['alertes'],
      topics: ['numerique', 'culture'],
      alertFrequency: 'immediate',
    }))
      audience.push(m.email);
    expect(audience).toEqual(['culture@example.org']);
  });

  it('withdrawing a release within the minute cancels its waiting alert: nothing is mailed', async () => {
    const file = path.join(work, 'examples/publications/culture.md');
    await writeFile(
      file,
      (await readFile(path.join(work, seedFile), 'utf8'))
        .replace(/^title: .*$/m, 'title: "Culture en ville : un essai"')
        .replace(/^tags:\n(?: {2}- .*\n)+/m, 'tags:\n  - culture\n'),
    );
    const published = await runPressroom(['publish', file, '--no-pdf', '--json'], { cwd: work, env: env() });
    expectExit(published, 0);
    const { slug, alerts } = JSON.parse(published.stdout) as { slug: string; alerts: { action: string }[] };
    const name = alertCampaignName('alertes', slug);
    expect(alerts).toEqual([expect.objectContaining({ campaign: name, action: 'scheduled' })]);
    const withdrawn = await runPressroom(['archive', 'withdraw', slug, '--reason', 'publiée par erreur'], {
      cwd: work,
      env: env(),
    });
    expectExit(withdrawn, 0);
    expect(withdrawn.stdout).toContain(
      `alert        ${name} cancelled (it was waiting to go; topics: culture)`,
    );
    expect((await readCampaign(store, name)).state).toBe('cancelled');
    const runs = await runDueCampaigns({
      store,
      mailer: new OutboxMailer(store),
      keys,
      publicUrl,
      clock: () => new Date(Date.now() + 2 * 60_000),
      lists: ['alertes'],
    });
    expect(runs.map((r) => r.name)).not.toContain(name);
    await expect(readdir(path.join(data, 'outbox', name))).rejects.toThrow();
  });
});
