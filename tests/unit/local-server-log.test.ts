/**
 * The local server's log (lambdas/adapters/local-server.ts) holds no email address: not in a
 * path (a segment with `@` is redacted whole, as the admin function logs its routes), not in
 * the message of an error that made a 500, whatever that message quotes.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { createLocalServer, type LocalServerDeps } from '../../lambdas/adapters/local-server.ts';
import { redactPathSegments } from '../../lambdas/core/redact.ts';

const address = 'jeanne.martin@example.org';
let close: (() => Promise<void>) | undefined;

afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A server whose store fails every call with a message that quotes an address; its log lines. */
async function failingServer(): Promise<{ origin: string; lines: string[] }> {
  const failing = new Proxy(
    {},
    {
      get: () => () => {
        throw new Error(`cannot read contacts/${address}.json: permission denied`);
      },
    },
  ) as FolderObjectStore;
  const lines: string[] = [];
  const server = createLocalServer({
    store: failing,
    log: (line: string) => lines.push(line),
  } as unknown as LocalServerDeps);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines };
}

describe('the local server log', () => {
  it('redacts the address in the message of an error answered 500, and in the path', async () => {
    const { origin, lines } = await failingServer();
    const reply = await fetch(`${origin}/2021/${encodeURIComponent(address)}/index.html`);
    expect(reply.status).toBe(500);
    expect(await reply.text()).toBe('Internal error\n');
    expect(lines.some((line) => line === 'error cannot read contacts/[address]: permission denied')).toBe(
      true,
    );
    expect(lines.some((line) => line.startsWith('GET /2021/[redacted]/index.html 500'))).toBe(true);
    for (const line of lines) expect(line).not.toMatch(/jeanne|example\.org|@|%40/);
  });

  it('redacts a path segment holding an address, bare or encoded, whole', () => {
    expect(redactPathSegments(`/admin/contacts/${address}/x`)).toBe('/admin/contacts/[redacted]/x');
    expect(redactPathSegments('/admin/api/contacts/jeanne%40example.org')).toBe(
      '/admin/api/contacts/[redacted]',
    );
    expect(redactPathSegments('/admin/releases/etude')).toBe('/admin/releases/etude');
  });
});
