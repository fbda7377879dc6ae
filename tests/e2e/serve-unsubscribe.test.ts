/**
 * Black-box tests of `pressroom serve` as a child process on 127.0.0.1: the one-click
 * unsubscribe endpoint (RFC 8058) driven from a real message's List-Unsubscribe header, the
 * confirmation page, bad tokens, a second campaign that skips the unsubscribed recipient, the
 * due-job runner sending a scheduled campaign, the request log, and a clean SIGTERM.
 *
 * The links name https://press.example.org (PRESSROOM_PUBLIC_URL); the requests go to the
 * local server with that Host header: it answers the same paths whatever host the link names.
 * The tests of this file share one data folder and run in order.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { signUnsubscribeToken } from '../../lambdas/core/contacts/tokens.ts';
import { exampleWorkspace, expectExit, type Run, runPressroom } from '../support/cli.ts';
import { outboxEnv, requestLink, type Server, startServer, stopServer } from '../support/serve.ts';

const secret = 'e2e-serve-unsubscribe-secret-0123456789abcdef';
const publicUrl = 'https://press.example.org';
const seedFile = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
const seedCampaign = 'examples/campaigns/etude-2021-presse.yaml';
const campaignName = 'etude-2021-presse';

const people = [
  { first: 'Camille', last: 'Martin', email: 'camille.martin@quotidien-ouest.example.com', lang: 'fr' },
  { first: 'Alex', last: 'Taylor', email: 'alex.taylor@city-news.example.org', lang: 'en' },
  { first: 'Julien', last: 'Lefèvre', email: 'j.lefevre@radio-cite.example.org', lang: 'fr' },
  { first: 'Sophie', last: 'Durand', email: 'sophie.durand@lhebdo-local.example.com', lang: 'fr' },
];
/** The recipient who unsubscribes (English), and one who stays (French). */
const leaving = people[1] as (typeof people)[number];
const staying = people[0] as (typeof people)[number];

let work: string;
let data: string;
let server: Server | undefined;
/** Requests sent to the server, to compare with the lines it logs. */
let requestsSent = 0;
/** The URLs of the unsubscribe links of the first campaign, by recipient address. */
const links = new Map<string, string>();

const env = () => outboxEnv({ data, secret, publicUrl });

function pressroom(args: string[]): Promise<Run> {
  return runPressroom(args, { cwd: work, env: env() });
}

async function json<T>(args: string[]): Promise<T> {
  const run = await pressroom([...args, '--json']);
  expectExit(run, 0);
  return JSON.parse(run.stdout) as T;
}

interface Shown {
  id: string;
  contact?: { email: string };
  suppression?: { lists?: Record<string, { reason: string; at: string }>; all?: unknown };
}
const show = (email: string) => json<Shown>(['contacts', 'show', email]);

/**
 * A request to the local server for the path of `link`, with the Host header the link names,
 * counted for the request-log checks. The raw path: a link's token must reach the server
 * exactly as written.
 */
function ask(
  method: string,
  link: string,
  options: { body?: string; headers?: Record<string, string> } = {},
) {
  requestsSent++;
  return requestLink(server, link, publicUrl, { ...options, method, raw: true });
}

const oneClick = { 'content-type': 'application/x-www-form-urlencoded' };
const post = (link: string, body = 'List-Unsubscribe=One-Click', headers: Record<string, string> = {}) =>
  ask('POST', link, { body, headers: { ...oneClick, ...headers } });

/** Every file of the data folder (but the store's private part) with a hash of its content. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.pressroom-store') await walk(full);
      } else {
        out[path.relative(data, full)] = createHash('sha256')
          .update(await readFile(full))
          .digest('hex');
      }
    }
  };
  await walk(data);
  return out;
}

const outboxDir = (campaign: string) => path.join(data, 'outbox', campaign);

async function outbox(campaign: string): Promise<{ to: string; raw: Buffer }[]> {
  const files = (await readdir(outboxDir(campaign))).filter((f) => f.endsWith('.eml'));
  const out = [];
  for (const file of files) {
    const raw = await readFile(path.join(outboxDir(campaign), file));
    const parsed = await simpleParser(raw);
    const to = (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((a) => a.value);
    out.push({ to: to.map((a) => a.address ?? '').join(','), raw });
  }
  return out;
}

/** A header of a raw message, unfolded. */
function rawHeader(raw: Buffer, name: string): string[] {
  const text = raw.toString('latin1');
  return text
    .slice(0, text.search(/\r?\n\r?\n/))
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(name.length + 1).trim());
}

const requestLine = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z (GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS) \S* \d{3} \d+ms$/;
const requestLines = () => (server?.output() ?? '').split('\n').filter((line) => requestLine.test(line));

/** Waits until `check` holds, or fails with `what` after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-serve-unsub-');
  data = path.join(work, 'data');
  await writeFile(
    path.join(work, 'presse.csv'),
    ['Prénom;Nom;Courriel;Langue', ...people.map((p) => `${p.first};${p.last};${p.email};${p.lang}`)].join(
      '\r\n',
    ),
  );
  // The server starts while the release is published and the list imported.
  const [started, published, imported] = await Promise.all([
    startServer(['--interval', '1'], { cwd: work, env: env() }),
    pressroom(['publish', seedFile, '--no-pdf']),
    pressroom(['contacts', 'import', 'presse.csv', '--list', 'presse', '--json']),
  ]);
  server = started;
  expectExit(published, 0);
  expectExit(imported, 0);
  expect(JSON.parse(imported.stdout)).toMatchObject({ added: people.length, rejected: [] });
});

afterAll(async () => {
  await stopServer(server, 'SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('unsubscribing from a real message', () => {
  it('sends the seed campaign to the outbox; every message has one-click List-Unsubscribe headers', async () => {
    const report = await json<{ state: string; sent: number }>(['send', seedCampaign]);
    expect(report).toMatchObject({ state: 'sent', sent: people.length });
    const messages = await outbox(campaignName);
    expect(messages.map((m) => m.to).sort()).toEqual(people.map((p) => p.email).sort());
    for (const m of messages) {
      const [header] = rawHeader(m.raw, 'List-Unsubscribe');
      expect(rawHeader(m.raw, 'List-Unsubscribe-Post')).toEqual(['List-Unsubscribe=One-Click']);
      const https = /<(https:\/\/[^>]+)>/.exec(header ?? '')?.[1];
      expect(https, `List-Unsubscribe of ${m.to}: ${header}`).toMatch(
        /^https:\/\/press\.example\.org\/unsubscribe\/u1\.[\w-]+\.[\w-]+$/,
      );
      expect(header).toMatch(/<mailto:[^>]+>/);
      expect(https).not.toContain(m.to);
      links.set(m.to, https as string);
    }
    expect(new Set(links.values()).size).toBe(people.length);
  });

  it("GET shows a page in the recipient's language with a button that POSTs, and changes nothing", async () => {
    const link = links.get(leaving.email) as string;
    const before = await snapshot();
    const page = await ask('GET', link);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('<html lang="en">');
    expect(page.body).toContain('Stop receiving messages from the list “presse” at this address?');
    expect(page.body).toMatch(/<form method="post"[^>]*>/);
    expect(page.body).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(page.body).toMatch(/<button type="submit">Unsubscribe me<\/button>/);
    expect(page.body).not.toContain(leaving.email);

    const french = await ask('GET', links.get(staying.email) as string);
    expect(french.status).toBe(200);
    expect(french.body).toContain('<html lang="fr">');
    expect(french.body).toContain('Me désabonner');

    // A link scanner opening the URL again unsubscribes nobody.
    expect((await ask('GET', link)).status).toBe(200);
    expect((await ask('HEAD', link)).status).toBe(200);
    expect(await snapshot()).toEqual(before);
    const shown = await show(leaving.email);
    expect(shown.contact?.email).toBe(leaving.email);
    expect(shown.suppression).toBeUndefined();
  });

  it('POST List-Unsubscribe=One-Click unsubscribes at once from that list; repeating it is harmless', async () => {
    const link = links.get(leaving.email) as string;
    const reply = await post(link);
    expect(reply.status).toBe(200);
    const shown = await show(leaving.email);
    expect(shown.suppression?.lists?.presse).toMatchObject({ reason: 'unsubscribed' });
    expect(shown.suppression?.all).toBeUndefined();

    const after = await snapshot();
    const again = await post(link);
    expect(again.status).toBe(200);
    // The page's button (a browser: Accept text/html) gets the "done" page in English.
    const button = await post(link, 'List-Unsubscribe=One-Click', { accept: 'text/html,*/*;q=0.8' });
    expect(button.status).toBe(200);
    expect(button.type).toMatch(/^text\/html/);
    expect(button.body).toContain('You will no longer receive messages from the list “presse”.');
    // Nothing more is written: the first unsubscribe stays as it was.
    expect(await snapshot()).toEqual(after);
  });

  it('forged, altered and unknown tokens get 400 and a plain page, and change nothing', async () => {
    const link = links.get(staying.email) as string;
    const token = link.slice(`${publicUrl}/unsubscribe/`.length);
    const [version, payload, signature] = token.split('.') as [string, string, string];
    const flip = (text: string, at: number) =>
      text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const [contactId, list, campaign] = JSON.parse(Buffer.from(payload, 'base64url').toString()) as string[];
    const otherPayload = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    const forger = contactKeys('not-the-secret-of-this-server-0123456789');
    const bad: Record<string, string> = {
      'signed with another secret': `/unsubscribe/${signUnsubscribeToken(forger, { contact: contactId as string, list: list as string, campaign: campaign as string })}`,
      'signature flipped in the middle': `/unsubscribe/${version}.${payload}.${flip(signature, 10)}`,
      'signature flipped at the start': `/unsubscribe/${version}.${payload}.${flip(signature, 0)}`,
      'payload naming another list': `/unsubscribe/${version}.${otherPayload([contactId, 'autre', campaign])}.${signature}`,
      'payload naming another contact': `/unsubscribe/${version}.${otherPayload(['0'.repeat(contactId?.length ?? 32), list, campaign])}.${signature}`,
      'payload flipped': `/unsubscribe/${version}.${flip(payload, 5)}.${signature}`,
      'signature missing': `/unsubscribe/${version}.${payload}`,
      'signature truncated': `/unsubscribe/${version}.${payload}.${signature.slice(0, -4)}`,
      'another version': `/unsubscribe/u2.${payload}.${signature}`,
      'an extra part': `/unsubscribe/${token}.x`,
      'not a token': '/unsubscribe/hello-world',
      empty: '/unsubscribe/',
      'empty parts': '/unsubscribe/u1..',
    };
    const before = await snapshot();
    for (const [what, badPath] of Object.entries(bad)) {
      for (const method of ['GET', 'POST'] as const) {
        const reply = method === 'GET' ? await ask('GET', badPath) : await post(badPath);
        expect(reply.status, `${method} ${what}`).toBe(400);
        expect(reply.type, `${method} ${what}`).toMatch(/^text\/html/);
        expect(reply.body, `${method} ${what}`).toContain('Lien non valide');
        expect(reply.body, `${method} ${what}`).not.toContain('<form');
        expect(reply.body, `${method} ${what}`).not.toContain('<script');
      }
    }
    expect(await snapshot()).toEqual(before);
    expect((await show(staying.email)).suppression).toBeUndefined();
  });

  // Regression (fixed): the unsubscribe route (then in local-server.ts, now in the core's
  // public endpoint) decoded the token with decodeURIComponent outside the try/catch, so a
  // malformed percent-escape threw URIError and the server answered 500 ("Internal error")
  // instead of the 400 invalid-link page.
  it('a path with a malformed percent-escape is an unknown token too: 400, not 500', async () => {
    const before = await snapshot();
    for (const method of ['GET', 'POST'] as const) {
      const reply =
        method === 'GET' ? await ask('GET', '/unsubscribe/%E0%A4%A') : await post('/unsubscribe/%');
      expect(reply.status, method).toBe(400);
    }
    expect(await snapshot()).toEqual(before);
  });

  // Regression (fixed): verifyUnsubscribeToken compares the decoded signature bytes, and
  // Buffer.from(…, 'base64url') ignores the unused low bits of the last character (43
  // characters carry 258 bits for a 256-bit MAC), so a token whose last character is changed
  // to a neighbour (e.g. 'Q' → 'R') is still accepted: an altered token that passes.
  it('a signature altered in its last character is refused', async () => {
    const link = links.get(staying.email) as string;
    const token = link.slice(`${publicUrl}/unsubscribe/`.length);
    const last = token.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const index = alphabet.indexOf(last);
    // The neighbour that differs only in the two bits a 32-byte MAC does not use.
    const neighbour = alphabet[index ^ 1] as string;
    const altered = `/unsubscribe/${token.slice(0, -1)}${neighbour}`;
    // GET only: a POST would unsubscribe the recipient while the bug is there, and the next
    // tests count on this recipient staying subscribed.
    expect((await ask('GET', altered)).status).toBe(400);
  });

  it('a POST without the One-Click body gets 400 and changes nothing', async () => {
    const link = links.get(staying.email) as string;
    const before = await snapshot();
    for (const body of ['', 'List-Unsubscribe=No', 'unsubscribe=yes']) {
      const reply = await post(link, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body).toContain('List-Unsubscribe=One-Click');
    }
    expect((await ask('PUT', link, { body: 'List-Unsubscribe=One-Click' })).status).toBe(405);
    expect(await snapshot()).toEqual(before);
  });

  it('a second campaign to the same list does not mail the unsubscribed recipient', async () => {
    const source = await readFile(path.join(work, seedCampaign), 'utf8');
    await writeFile(
      path.join(work, 'relance.yaml'),
      source.replace(/^name: .*$/m, 'name: etude-2021-relance'),
    );
    const report = await json<{ state: string; sent: number; audience: number }>(['send', 'relance.yaml']);
    expect(report).toMatchObject({ state: 'sent', sent: people.length - 1 });
    const messages = await outbox('etude-2021-relance');
    expect(messages).toHaveLength(people.length - 1);
    expect(messages.map((m) => m.to)).not.toContain(leaving.email);
  });
});

describe('the due-job runner and the process', () => {
  it('sends a campaign scheduled a few seconds ahead within the interval', async () => {
    const source = await readFile(path.join(work, seedCampaign), 'utf8');
    // Far enough ahead for the command to start and record it (2 s here, more on a busy machine).
    const sendAt = new Date(Date.now() + 8_000).toISOString();
    await writeFile(
      path.join(work, 'programmee.yaml'),
      `${source.replace(/^name: .*$/m, 'name: etude-2021-programmee').trimEnd()}\nsendAt: ${sendAt}\n`,
    );
    const scheduled = await json<{ state: string; sendAt: { utc: string } }>(['schedule', 'programmee.yaml']);
    expect(scheduled).toMatchObject({ state: 'scheduled', sendAt: { utc: sendAt } });

    interface Status {
      state: string;
      sent: number;
      runs: { startedAt: string }[];
    }
    let status: Status | undefined;
    await until(
      'the scheduled campaign to be sent',
      async () => {
        status = await json<Status>(['campaign', 'status', 'etude-2021-programmee']);
        return status.state === 'sent';
      },
      15_000,
    );
    expect(status?.sent).toBe(people.length - 1);
    const started = Date.parse(status?.runs[0]?.startedAt ?? '');
    // Not before its time, and soon after it: the interval is 1 s (slack for a busy machine).
    expect(started).toBeGreaterThanOrEqual(Date.parse(sendAt));
    expect(started - Date.parse(sendAt)).toBeLessThan(15_000);
    expect(await outbox('etude-2021-programmee')).toHaveLength(people.length - 1);
    expect(server?.output()).toContain('campaign etude-2021-programmee: sent, sent 3, failed 0, skipped 0');
  });

  it('logs one line per request, and no email address anywhere', async () => {
    await until('a log line for every request', () => requestLines().length >= requestsSent, 3_000);
    expect(requestLines()).toHaveLength(requestsSent);
    const output = server?.output() ?? '';
    expect(output).not.toContain('@');
    // Unsubscribe requests are logged without their token: each token unsubscribes someone.
    expect(requestLines().some((l) => / POST \/unsubscribe\/\[token\] 200 /.test(l))).toBe(true);
    expect(server?.output()).not.toMatch(/\/unsubscribe\/u1\./);
  });

  // A hand-typed URL carrying an address must not put it in the log.
  it('does not log an email address that a request puts in its path', async () => {
    const reply = await ask('GET', '/unsubscribe/jean.dupont@example.org');
    expect(reply.status).toBe(400);
    const percent = await ask('GET', '/unsubscribe/jean.dupont%40example.org');
    expect(percent.status).toBe(400);
    await until('a log line for every request', () => requestLines().length >= requestsSent, 3_000);
    expect(server?.output()).not.toMatch(/jean\.dupont(@|%40)example\.org/);
  });

  it('stops with exit code 0 on SIGTERM', async () => {
    if (!server) throw new Error('no server');
    expect(await stopServer(server, 'SIGTERM', 10_000)).toEqual({ code: 0, signal: null });
    expect(server?.output()).toContain('stopping');
  });
});
