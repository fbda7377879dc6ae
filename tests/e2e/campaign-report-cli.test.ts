import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { applyProviderFeedback } from '../../lambdas/core/contacts/provider-feedback.ts';
import { exampleWorkspace, expectExit, runPressroom } from '../support/cli.ts';
import { outboxEnv, rawRequest, type Server, startServer, stopServer } from '../support/serve.ts';

/**
 * `pressroom campaign report` end to end on the outbox: the seed release sent to the example
 * press list by a campaign without tracking and by one with `tracking: { opens, clicks }`; a
 * bounce and a complaint through the feedback path (what the feedback function applies on
 * AWS), an unsubscribe, a click and an open through `pressroom serve`; then the report on the
 * terminal, as JSON and as CSV.
 */

const secret = 'report-cli-secret-0123456789abcdef0123';
const publicUrl = 'https://press.example.org';
const keys = contactKeys(secret);
let work: string;
let data: string;
let server: Server | undefined;
const env = () => ({ ...outboxEnv({ data, secret, publicUrl }), CHROMIUM_PATH: '/nonexistent' });
const pressroom = (...args: string[]) => runPressroom(args, { cwd: work, env: env() });

const tracked = 'etude-2021-suivi';
const plain = 'etude-2021-presse';
const [bounced, complained, clicker, unsubscriber] = [
  'camille.martin@quotidien-ouest.example.com',
  'j.lefevre@radio-cite.example.org',
  'sophie.durand@lhebdo-local.example.com',
  'nbernard@agence-info.example.org',
];

/** The HTML of the message a campaign sent to `email`, from the outbox. */
async function sentHtml(campaign: string, email: string): Promise<string> {
  const folder = path.join(data, 'outbox', campaign);
  const file = (await readdir(folder)).find((n) => n.includes(`.${keys.idOf(email)}@`));
  if (!file) throw new Error(`no message to ${email} in ${folder}`);
  return String((await simpleParser(await readFile(path.join(folder, file)))).html);
}

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-report-cli-');
  data = path.join(work, 'data');
  expectExit(
    await pressroom('publish', 'examples/publications/2021-06-08-numerique-gestion-de-crise.md', '--no-pdf'),
    0,
  );
  expectExit(
    await pressroom('contacts', 'import', 'examples/contacts/journalistes.csv', '--list', 'presse'),
    0,
  );
  const source = await readFile(path.join(work, 'examples/campaigns/etude-2021-presse.yaml'), 'utf8');
  await writeFile(
    path.join(work, 'suivi.yaml'),
    `${source.replace(`name: ${plain}`, `name: ${tracked}`)}tracking:\n  opens: true\n  clicks: true\n`,
  );
  expectExit(await pressroom('send', 'examples/campaigns/etude-2021-presse.yaml'), 0);
  expectExit(await pressroom('send', 'suivi.yaml'), 0);
}, 180_000);

afterAll(async () => {
  await stopServer(server, 'SIGTERM');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('pressroom campaign report (the outbox)', () => {
  it('a campaign that does not track: no tracking link in its messages, no open or click in its report', async () => {
    const html = await sentHtml(plain, clicker);
    expect(html).not.toContain(`${publicUrl}/c/`);
    expect(html).not.toContain(`${publicUrl}/o/`);
    const run = await pressroom('campaign', 'report', plain);
    expectExit(run, 0);
    expect(run.stdout).toMatch(/recipients +30\n/);
    expect(run.stdout).toMatch(/delivered +30 \(100%\): outbox: written to the outbox folder/);
    expect(run.stdout).toContain('opens, clicks not tracked');
    const header = run.stdout.split('\n').find((l) => l.startsWith('address'));
    expect(header).toMatch(/^address +status +sent +delivered +bounced +complained +unsubscribed$/);
    expect(run.stdout).toMatch(/Sophie Durand <sophie\.durand@lhebdo-local\.example\.com> +sent /);
  });

  it('a campaign that tracks: its links go through the press room, signed; a click and an open are recorded through serve', async () => {
    const html = await sentHtml(tracked, clicker);
    const clicks = [...html.matchAll(/href="(https:\/\/press\.example\.org\/c\/[^"]+)"/g)].map(
      (m) => m[1] as string,
    );
    expect(clicks.length).toBeGreaterThan(1);
    const pixel = /src="(https:\/\/press\.example\.org\/o\/[^"]+\.gif)"/.exec(html)?.[1];
    expect(pixel).toBeDefined();
    // The unsubscribe link stays the endpoint's own.
    expect(html).toMatch(/href="https:\/\/press\.example\.org\/unsubscribe\/u1\./);
    server = await startServer([], { cwd: work, env: env() });
    const click = await rawRequest(server.url, new URL(clicks[0] as string).pathname);
    expect(click.status).toBe(302);
    expect(click.headers.location).toMatch(/^https:\/\//);
    expect(click.headers.location).not.toContain('/c/');
    const open = await rawRequest(server.url, new URL(pixel as string).pathname);
    expect(open.status).toBe(200);
    expect(open.type).toBe('image/gif');
    // A changed token redirects nowhere.
    const forged = await rawRequest(server.url, `${new URL(clicks[0] as string).pathname}x`);
    expect(forged.status).toBe(404);
    expect(server.stdout()).toContain('GET /c/[token] 302');
    expect(server.output()).not.toContain('@');
    await stopServer(server, 'SIGTERM');
    server = undefined;
  });

  it('bounces and complaints from the feedback path, an unsubscribe, then the report with its rows and its CSV', async () => {
    const store = new FolderObjectStore({ root: data, signingSecret: secret, publicUrl });
    const at = new Date(Date.now() + 60_000);
    await applyProviderFeedback(store, keys, {
      kind: 'hard-bounce',
      id: 'bounce-1',
      email: bounced,
      at,
      campaign: tracked,
      detail: { type: 'Permanent', subType: 'General', status: '5.1.1' },
    });
    await applyProviderFeedback(store, keys, {
      kind: 'complaint',
      id: 'complaint-1',
      email: complained,
      at,
      campaign: tracked,
      detail: { type: 'abuse' },
    });
    expectExit(await pressroom('contacts', 'unsubscribe', unsubscriber, '--list', 'presse'), 0);

    const run = await pressroom('campaign', 'report', tracked, '--csv', 'rapport.csv');
    expectExit(run, 0);
    expect(run.stdout).toMatch(/bounced +1 \(3%\), 1 permanent\n/);
    expect(run.stdout).toMatch(/complained +1\n/);
    expect(run.stdout).toMatch(/unsubscribed +1\n/);
    expect(run.stdout).toMatch(/opened +1 \(3%\)\n/);
    expect(run.stdout).toMatch(/clicked +1 \(3%\)\n/);
    expect(run.stdout).toMatch(
      /address +status +sent +delivered +bounced +complained +unsubscribed +opened +clicked\n/,
    );
    expect(run.stdout).toContain('Wrote 30 row(s) into rapport.csv');
    expect(run.stderr).not.toContain('@');

    const rows = parseCsv(await readFile(path.join(work, 'rapport.csv')), {
      columns: true,
      bom: true,
    }) as Record<string, string>[];
    expect(rows).toHaveLength(30);
    const row = (email: string) => rows.find((r) => r.email === email) as Record<string, string>;
    expect(row(bounced)).toMatchObject({
      status: 'sent',
      delivered_by: 'outbox',
      bounce_type: 'permanent',
      bounce_subtype: 'General',
      bounce_status: '5.1.1',
      bounced_at: at.toISOString(),
    });
    expect(row(complained).complained_at).toBe(at.toISOString());
    expect(row(unsubscriber).unsubscribed_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(row(clicker)).toMatchObject({ clicks: '1', opens: '1' });
    expect(row(clicker).links_clicked).toMatch(/^https:\/\//);
    expect(row(bounced)).toMatchObject({ opens: '', clicks: '', complained_at: '' });
    expect((await import('node:fs')).statSync(path.join(work, 'rapport.csv')).mode & 0o777).toBe(0o600);

    const json = await pressroom('campaign', 'report', tracked, '--json');
    expectExit(json, 0);
    const report = JSON.parse(json.stdout) as { counts: Record<string, number>; tracking: unknown };
    expect(report.tracking).toEqual({ opens: true, clicks: true });
    expect(report.counts).toMatchObject({ recipients: 30, sent: 30, bounced: 1, complained: 1, clicked: 1 });
  });

  it('an unknown campaign is refused, saying how to find the names', async () => {
    const run = await pressroom('campaign', 'report', 'nulle-part');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('no campaign "nulle-part"');
  });
});
