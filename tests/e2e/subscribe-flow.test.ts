/**
 * The whole double opt-in flow against the real `pressroom serve` (a child process on
 * 127.0.0.1), with the outbox mailer: subscribe → confirmation `.eml` in the outbox (parsed
 * with mailparser, its link followed) → contact on the list → a campaign reaches them →
 * one-click unsubscribe with the URL of the message they received → the next campaign does
 * not → a new subscription needs a new confirmation, and then campaigns reach them again.
 *
 * Campaigns are sent in this process with `sendCampaign` and the outbox mailer, on the same
 * data folder. Links name https://press.example.org (PRESSROOM_PUBLIC_URL); requests go to
 * the local server with that Host header. The tests share one data folder and run in order.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { OutboxMailer } from '../../lambdas/adapters/outbox-mailer.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { sendCampaign } from '../../lambdas/core/campaigns/send.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { subscriptionKeys } from '../../lambdas/core/contacts/subscription.ts';
import { confirmationMailbox } from '../../lambdas/core/contacts/subscription-email.ts';
import { exampleWorkspace, expectExit, runPressroom } from '../support/cli.ts';
import { memoryFiles } from '../support/memory-files.ts';
import { outboxEnv, requestLink, type Server, startServer, stopServer } from '../support/serve.ts';

const secret = 'e2e-subscribe-flow-secret-0123456789abcdef';
const keys = contactKeys(secret);
const publicUrl = 'https://press.example.org';
const seedFile = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
const seedSlug = 'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes';
const subscriber = { email: 'Louise.Bernard@exemple-média.fr', name: 'Louise Bernard' };

let work: string;
let data: string;
let store: FolderObjectStore;
let server: Server | undefined;
/** The unsubscribe URL of the first campaign's message to the subscriber. */
let unsubscribeUrl: string;

const env = () => outboxEnv({ data, secret, publicUrl });

/** A request to the local server for the path of `link`, with the Host header the link names. */
const ask = (
  method: string,
  link: string,
  options: { body?: string; headers?: Record<string, string> } = {},
) => requestLink(server, link, publicUrl, { ...options, method });

const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };
const subscribe = () =>
  ask('POST', '/subscribe', {
    body: new URLSearchParams({ ...subscriber, list: 'lettre', website: '' }).toString(),
    headers: form,
  });

/** The confirmation emails in the outbox, oldest first. */
async function confirmations(): Promise<ParsedMail[]> {
  const dir = path.join(data, 'outbox', confirmationMailbox);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml')).sort();
  const parsed = await Promise.all(files.map(async (f) => simpleParser(await readFile(path.join(dir, f)))));
  return parsed.sort((a, b) => (a.date?.getTime() ?? 0) - (b.date?.getTime() ?? 0));
}

function confirmLink(mail: ParsedMail): string {
  const link = /https:\/\/press\.example\.org\/subscribe\/confirm\/s1\.[\w-]+\.[\w-]+/.exec(
    mail.text ?? '',
  )?.[0];
  if (!link) throw new Error(`no confirmation link in:\n${mail.text}`);
  return link;
}

/** Sends a campaign of the seed release to the list `lettre`; returns who got a message. */
async function campaign(name: string): Promise<{ sent: number; to: string[]; raws: Buffer[] }> {
  const definition = await loadCampaignFile(
    `${name}.yaml`,
    memoryFiles({
      [`${name}.yaml`]: `name: ${name}
publication: ${seedSlug}
audience:
  list: lettre
from: "Villes Internet <lettre@villes-internet.example.org>"
`,
    }),
  );
  const report = await sendCampaign(
    definition,
    { store, mailer: new OutboxMailer(store), keys, publicUrl },
    { rate: 50 },
  );
  const dir = path.join(data, 'outbox', name);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml'));
  const raws = await Promise.all(files.map((f) => readFile(path.join(dir, f))));
  const to = [];
  for (const raw of raws) {
    const parsed = await simpleParser(raw);
    to.push(
      ...(Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((a) =>
        a.value.map((v) => v.address),
      ),
    );
  }
  return { sent: report.sent, to: to as string[], raws };
}

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-subscribe-');
  data = path.join(work, 'data');
  const [started, published] = await Promise.all([
    startServer(['--lists', 'examples/lists.yaml'], { cwd: work, env: env() }),
    runPressroom(['publish', seedFile, '--no-pdf'], { cwd: work, env: env() }),
  ]);
  server = started;
  expectExit(published, 0);
  store = new FolderObjectStore({ root: data, signingSecret: secret, publicUrl });
});

afterAll(async () => {
  await stopServer(server, 'SIGTERM');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('double opt-in, end to end', () => {
  it('serve says which lists are open', () => {
    expect(server?.output()).toContain('lists open to subscription (examples/lists.yaml): lettre, open-data');
  });

  it('POST /subscribe answers "check your mailbox" and puts a confirmation .eml in the outbox', async () => {
    const reply = await subscribe();
    expect(reply.status).toBe(200);
    expect(reply.type).toMatch(/^text\/html/);
    expect(reply.body).toContain('Consultez votre messagerie');
    const [mail, ...more] = await confirmations();
    expect(more).toEqual([]);
    expect(mail?.to && !Array.isArray(mail.to) && mail.to.value[0]?.address).toBe(
      'Louise.Bernard@exemple-média.fr',
    );
    expect(mail?.subject).toBe('Confirmez votre inscription à «\u202fLa lettre de Villes Internet\u202f»');
    expect(confirmLink(mail as ParsedMail)).toMatch(/^https:\/\/press\.example\.org\/subscribe\/confirm\//);
    // Not on the list yet.
    expect((await findContact(store, keys, subscriber.email)).contact).toBeUndefined();
  });

  it('following the link shows a confirm button; pressing it puts the contact on the list', async () => {
    const [mail] = await confirmations();
    const link = confirmLink(mail as ParsedMail);
    const page = await ask('GET', link);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<button type="submit">Confirmer mon inscription</button>');
    expect((await findContact(store, keys, subscriber.email)).contact).toBeUndefined();

    const confirmed = await ask('POST', link, { body: 'confirm=yes', headers: form });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toContain('Inscription confirmée');
    const { contact } = await findContact(store, keys, subscriber.email);
    expect(contact?.lists.lettre).toMatchObject({ source: 'form', consent: { method: 'double-opt-in' } });
    expect(contact?.firstName).toBe('Louise Bernard');
  });

  it('a campaign to the list reaches them, with a one-click unsubscribe', async () => {
    const first = await campaign('lettre-1');
    expect(first.sent).toBe(1);
    expect(first.to).toEqual(['Louise.Bernard@exemple-média.fr']);
    const raw = (first.raws[0] as Buffer).toString('latin1');
    const header = /\r\nList-Unsubscribe: ([^\r\n]+(?:\r\n[ \t][^\r\n]+)*)/
      .exec(raw)?.[1]
      ?.replace(/\r\n[ \t]+/g, ' ');
    unsubscribeUrl = /<(https:\/\/press\.example\.org\/unsubscribe\/[^>]+)>/.exec(
      header ?? '',
    )?.[1] as string;
    expect(unsubscribeUrl).toMatch(/\/unsubscribe\/u1\./);
    expect(raw).toContain('\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n');
  });

  it('one-click unsubscribe with that URL; the next campaign does not reach them', async () => {
    const reply = await ask('POST', unsubscribeUrl, {
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(reply.status).toBe(200);
    const second = await campaign('lettre-2');
    expect(second.sent).toBe(0);
    expect(second.to).toEqual([]);
  });

  it('the first confirmation link does not bring them back', async () => {
    const [mail] = await confirmations();
    const reply = await ask('POST', confirmLink(mail as ParsedMail), { body: 'confirm=yes', headers: form });
    expect(reply.status).toBe(410);
    expect((await findContact(store, keys, subscriber.email)).suppression?.lists?.lettre).toBeDefined();
  });

  it('subscribing again needs a new confirmation (at most one email per 10 minutes)', async () => {
    // Within 10 minutes of the first request: the same answer, and no second email.
    const early = await subscribe();
    expect(early.status).toBe(200);
    expect(early.body).toContain('Consultez votre messagerie');
    expect(await confirmations()).toHaveLength(1);

    // Ten minutes later (the window is moved back in the store: this server's clock is real).
    const key = subscriptionKeys.addressThrottle(keys.idOf(subscriber.email));
    const file = path.join(data, ...key.split('/'));
    const window = JSON.parse(await readFile(file, 'utf8')) as { since: string };
    window.since = new Date(Date.parse(window.since) - 10 * 60_000).toISOString();
    await writeFile(file, JSON.stringify(window));

    expect((await subscribe()).status).toBe(200);
    const mails = await confirmations();
    expect(mails).toHaveLength(2);
    // Until the new link is followed, the unsubscribe stands.
    expect((await campaign('lettre-3')).sent).toBe(0);
    const confirmed = await ask('POST', confirmLink(mails[1] as ParsedMail), {
      body: 'confirm=yes',
      headers: form,
    });
    expect(confirmed.status).toBe(200);
    const fourth = await campaign('lettre-4');
    expect(fourth.to).toEqual(['Louise.Bernard@exemple-média.fr']);
  });

  it('answers 413 to a body too large, with nothing sent or stored for it', async () => {
    const before = (await confirmations()).length;
    const reply = await ask('POST', '/subscribe', {
      body: `email=grand%40example.org&list=lettre&name=${'x'.repeat(200_000)}`,
      headers: form,
    });
    expect(reply.status).toBe(413);
    expect(await confirmations()).toHaveLength(before);
    expect((await findContact(store, keys, 'grand@example.org')).contact).toBeUndefined();
  });

  it('logs neither addresses nor tokens', () => {
    const output = server?.output() ?? '';
    expect(output).toMatch(/ POST \/subscribe 200 /);
    expect(output).toMatch(/ POST \/subscribe\/confirm\/\[token\] 200 /);
    expect(output).not.toMatch(/@|%40|louise|\/subscribe\/confirm\/s1\.|\/unsubscribe\/u1\./i);
  });
});
