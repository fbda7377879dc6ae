/**
 * `pressroom serve` and the admin's PDF and Newsletters section, over HTTP: the browser is
 * started on the first PDF and stopped with the server; without one (CHROMIUM_PATH naming no
 * browser) or under `--no-pdf`, the PDF preview says why and publishing from the admin goes on
 * without it, and the server keeps serving; the newsletters API answers with the workspace's
 * issues, and refuses without the token.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUnderTest } from '../support/admin.ts';
import { requireChromium } from '../support/browser.ts';
import { barometer, crise } from '../support/example-releases.ts';
import { rawRequest, type Server, startServer, stopServer } from '../support/serve.ts';

const secret = 'e2e-admin-newsletters-serve-secret-0123456789';
const token = 'admin-newsletters-serve-token-0123456789abcdefghij';
const bearer = { authorization: `Bearer ${token}` };

const admin = new AdminUnderTest({ prefix: 'pressroom-admin-newsletters-serve-', secret, token });
const servers: Server[] = [];

async function serve(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Server> {
  const server = await startServer(args, { cwd: admin.workspace, env: admin.env(extra) });
  servers.push(server);
  return server;
}

/** The pids of the processes under `pid`, read from /proc (Linux). */
async function descendants(pid: number): Promise<number[]> {
  const children: Record<number, number[]> = {};
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent) children[parent] = [...(children[parent] ?? []), Number(entry)];
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const c of children[p] ?? []) {
      found.push(c);
      walk(c);
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) =>
  readFile(`/proc/${pid}/stat`, 'utf8').then(
    (stat) => !/^\d+ \(.*\) Z/.test(stat),
    () => false,
  );

beforeAll(async () => {
  await admin.copy();
  await admin.publish(crise.file, barometer.file);
}, 180_000);

afterAll(async () => {
  for (const server of servers) await stopServer(server, 'SIGKILL').catch(() => undefined);
  await admin.stop();
});

describe('pressroom serve and the PDF', { timeout: 120_000 }, () => {
  it('prints a PDF with the browser it starts on the first one, and stops it with the server', async () => {
    await requireChromium('the PDF preview needs one');
    const server = await serve([]);
    const pid = server.process.pid ?? 0;
    // No browser before the first PDF.
    const before = await descendants(pid);
    const reply = await rawRequest(server.url, `/admin/releases/${crise.slug}/pdf`, { headers: bearer });
    expect(reply.status).toBe(200);
    expect(reply.type).toBe('application/pdf');
    expect(reply.body.startsWith('%PDF-')).toBe(true);
    const browser = (await descendants(pid)).filter((p) => !before.includes(p));
    expect(browser.length).toBeGreaterThan(0);
    const exit = await stopServer(server, 'SIGTERM', 20_000);
    expect(exit).toEqual({ code: 0, signal: null });
    await expect
      .poll(async () => (await Promise.all(browser.map(alive))).some(Boolean), { timeout: 10_000 })
      .toBe(false);
  });

  it('without a browser, says why in the page and publishes without the PDF, and keeps serving', async () => {
    const notABrowser = path.join(admin.work, 'not-a-browser.txt');
    await writeFile(notABrowser, 'not a program\n');
    const server = await serve([], { CHROMIUM_PATH: notABrowser });
    const pdf = await rawRequest(server.url, `/admin/releases/${barometer.slug}/pdf`, { headers: bearer });
    expect(pdf.status).toBe(503);
    expect(pdf.type).toContain('text/html');
    expect(pdf.body).toMatch(/id="pdf-unavailable">[^<]*CHROMIUM_PATH/);
    const published = await rawRequest(server.url, `/admin/api/releases/${barometer.slug}/publish`, {
      method: 'POST',
      headers: bearer,
    });
    expect(published.status).toBe(200);
    const result = JSON.parse(published.body) as { pdf: { stored: boolean; reason?: string } };
    expect(result.pdf.stored).toBe(false);
    expect(result.pdf.reason).toContain('CHROMIUM_PATH');
    // Still serving.
    expect((await rawRequest(server.url, '/admin/api/newsletters', { headers: bearer })).status).toBe(200);
    expect(await stopServer(server, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('with --no-pdf, looks for no browser and says so', async () => {
    const server = await serve(['--no-pdf']);
    const pdf = await rawRequest(server.url, `/admin/releases/${barometer.slug}/pdf`, { headers: bearer });
    expect(pdf.status).toBe(503);
    expect(pdf.body).toContain('started with pressroom serve --no-pdf');
    expect(await descendants(server.process.pid ?? 0)).toEqual([]);

    // The newsletters API, with the token and without.
    const list = await rawRequest(server.url, '/admin/api/newsletters', { headers: bearer });
    expect(JSON.parse(list.body)).toMatchObject({
      issues: [expect.objectContaining({ id: '2024-03-lettre', items: 3 })],
    });
    const refused = await rawRequest(server.url, '/admin/api/newsletters');
    expect(refused.status).toBe(401);
    expect(refused.body).not.toContain('2024-03-lettre');
    const page = await rawRequest(server.url, '/admin/newsletters');
    expect(page.status).toBe(303);
    expect(await stopServer(server, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
