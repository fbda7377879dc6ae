/**
 * The admin's contacts through `pressroom serve` (a child process on 127.0.0.1, in a copy of
 * the examples workspace with its press list imported by `pressroom contacts import`): every
 * new page and API route refused without sign-in, holding nothing of the contacts; a Latin-1
 * CSV uploaded as a browser sends it (multipart, bytes intact through the server), previewed
 * and confirmed twice at once (imported once); changes refused without the CSRF token; an
 * upload over the import's limit refused with its size; erase; no address in the server's log.
 *
 * The tests of this file share one server and run in order.
 */

import { access, mkdir, utimes, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMaxBytes } from '../../lambdas/core/admin/contacts.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { AdminUnderTest } from '../support/admin.ts';
import { expectExit, runPressroom } from '../support/cli.ts';
import type { Reply, rawRequest, Server } from '../support/serve.ts';

const secret = 'e2e-admin-contacts-secret-0123456789abcdef';
const token = 'admin-contacts-token-0123456789abcdefghijklmnop';
const keys = contactKeys(secret);
const camille = 'camille.martin@quotidien-ouest.example.com';

const admin = new AdminUnderTest({ prefix: 'pressroom-admin-contacts-serve-', secret, token });
let workspace: string;
let server: Server | undefined;

const env = () => admin.env();

/** A request to the server; a body may be bytes (a Latin-1 file). */
const send = (rawPath: string, options: Parameters<typeof rawRequest>[2] = {}): Promise<Reply> =>
  admin.request(rawPath, options);

/** A multipart/form-data body as a browser sends it: fields, then the file's bytes. */
function multipart(fields: Record<string, string>, file: { name: string; bytes: Buffer }) {
  const boundary = '----pressroom-e2e';
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return {
    type: `multipart/form-data; boundary=${boundary}`,
    body: Buffer.concat([
      Buffer.from(parts.join('')),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  };
}

beforeAll(async () => {
  workspace = await admin.copy();
  await admin.importPressList();
  // An upload staged two hours ago and never confirmed (a CSV of addresses): serve removes it at start.
  await mkdir(path.dirname(staleUpload()), { recursive: true });
  await writeFile(staleUpload(), `email\n${camille}\n`);
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  await utimes(staleUpload(), twoHoursAgo, twoHoursAgo);
  server = await admin.serve();
}, 300_000);

const staleUpload = () =>
  path.join(workspace, '.pressroom', 'contacts', 'uploads', 'ab'.repeat(12), 'file.csv');

it('removed at start an upload staged over an hour ago and never imported', async () => {
  await expect(access(staleUpload())).rejects.toThrow(/ENOENT/);
  await expect(access(path.dirname(staleUpload()))).rejects.toThrow(/ENOENT/);
});

afterAll(() => admin.stop());

describe('without signing in', { timeout: 60_000 }, () => {
  it('a large upload is answered 401 while it is still being sent: its body is never read', async () => {
    if (!server) throw new Error('the server did not start: see the error of beforeAll');
    const url = new URL('/admin/contacts/import', server.url);
    for (const headers of [
      {},
      { authorization: 'Bearer not-the-token' },
      { cookie: 'pressroom_admin=forged' },
    ]) {
      // 20 MB announced, 64 kB sent, the rest held back until an answer comes: a server that
      // read the body before checking the caller would never answer (the test would time out).
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(url, {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'multipart/form-data; boundary=x',
            'content-length': String(importMaxBytes),
          },
        });
        request.on('error', reject);
        request.on('response', (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
            });
            request.destroy();
          });
        });
        request.write(Buffer.alloc(64 * 1024, 'a'));
      });
      expect(answer.status).toBe(401);
      expect(answer.body).toContain('sign in first');
    }
  });

  it('every contacts page and API route is refused, with nothing of the contacts', async () => {
    const id = keys.idOf(camille);
    const pages = [
      '/admin/contacts',
      '/admin/contacts?q=camille',
      `/admin/contacts/${id}`,
      `/admin/contacts/${id}/erase`,
      '/admin/contacts/import',
      `/admin/contacts/import/${'a'.repeat(24)}`,
    ];
    const refused = [
      ['POST', `/admin/contacts/${id}/erase`],
      ['POST', `/admin/contacts/${id}/unsubscribe`],
      ['POST', '/admin/contacts/import'],
      ['POST', `/admin/contacts/import/${'a'.repeat(24)}`],
      ['GET', '/admin/api/contacts'],
      ['GET', `/admin/api/contacts/${id}`],
      ['POST', `/admin/api/contacts/${id}/unsubscribe`],
      ['POST', `/admin/api/contacts/${id}/erase`],
      ['POST', '/admin/api/contacts/imports'],
      ['POST', `/admin/api/contacts/imports/${'a'.repeat(24)}/preview`],
      ['POST', `/admin/api/contacts/imports/${'a'.repeat(24)}/confirm`],
    ];
    const ways: Record<string, string>[] = [
      {},
      { authorization: 'Bearer not-the-token' },
      { cookie: 'pressroom_admin=forged' },
    ];
    for (const headers of ways) {
      for (const page of pages) {
        const reply = await send(page, { headers });
        expect(reply.status, page).toBe(303);
        expect(reply.headers.location).toBe('/admin/sign-in');
        expect(reply.body).not.toMatch(/camille|quotidien/i);
      }
      for (const [method, route] of refused) {
        const reply = await send(route ?? '', {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(reply.status, `${method} ${route}`).toBe(401);
        expect(reply.body).not.toMatch(/camille|quotidien/i);
      }
    }
  });
});

describe('signed in', { timeout: 120_000 }, () => {
  let cookie = '';
  let csrf = '';
  let upload = '';
  const origin = () => server?.url.origin ?? '';
  const postForm = (to: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    send(to, {
      method: 'POST',
      headers: {
        cookie,
        origin: origin(),
        'content-type': 'application/x-www-form-urlencoded',
        'accept-language': 'en',
        ...headers,
      },
      body: new URLSearchParams(fields).toString(),
    });

  it('signs in through the form and lists the imported press list, a page at a time', async () => {
    cookie = await admin.session();
    const list = await send('/admin/contacts?q=camille', { headers: { cookie, 'accept-language': 'en' } });
    expect(list.status).toBe(200);
    expect(list.body).toContain(camille);
    expect(list.body).toMatch(/1 \/ 30 contact\(s\)/);
    expect(list.body).toMatch(/presse<\/a> · Journalistes: 30/);
    csrf = /name="csrf" value="([^"]+)"/.exec(list.body)?.[1] ?? '';
    expect(csrf).not.toBe('');
  });

  it('takes a Latin-1 CSV as a browser uploads it, and previews its mapping, first rows and refused row', async () => {
    const file = Buffer.from(
      'Prénom;Nom;Courriel\nJosé;Müller;jose@example.org\nAnaïs;<script>x</script>;pas-une-adresse\n',
      'latin1',
    );
    const withoutCsrf = multipart({ list: 'lettre' }, { name: 'abonnés.csv', bytes: file });
    const refused = await send('/admin/contacts/import', {
      method: 'POST',
      headers: { cookie, origin: origin(), 'content-type': withoutCsrf.type },
      body: withoutCsrf.body,
    });
    expect(refused.status).toBe(403);
    const form = multipart({ csrf, list: 'lettre', tags: 'salon' }, { name: 'abonnés.csv', bytes: file });
    const staged = await send('/admin/contacts/import', {
      method: 'POST',
      headers: { cookie, origin: origin(), 'content-type': form.type },
      body: form.body,
    });
    expect(staged.status, staged.body).toBe(303);
    upload = /\/admin\/contacts\/import\/([0-9a-f]{24})/.exec(staged.headers.location ?? '')?.[1] ?? '';
    const preview = await send(staged.headers.location ?? '', {
      headers: { cookie, 'accept-language': 'en' },
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toContain('Windows-1252 (Latin-1)');
    expect(preview.body).toContain('<td>José</td>');
    expect(preview.body).toMatch(/<option value="email" selected>email<\/option>/);
    expect(preview.body).toMatch(/line 3, column “Courriel”: invalid email address/);
    expect(preview.body).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(preview.body).not.toContain('<script>x');
  });

  it('imports once when the confirmation is sent twice at once', async () => {
    const fields = { csrf, list: 'lettre', tags: 'salon', step: 'confirm' };
    const replies = await Promise.all([
      postForm(`/admin/contacts/import/${upload}`, fields),
      postForm(`/admin/contacts/import/${upload}`, fields),
    ]);
    const statuses = replies.map((r) => r.status).sort();
    // Both answered: the import (200), and its report (200) or "under way" (409).
    expect(statuses[0]).toBe(200);
    expect([200, 409]).toContain(statuses[1]);
    expect(replies.filter((r) => r.body.includes('imported already') || r.status === 409)).toHaveLength(1);
    const api = await send('/admin/api/contacts?list=lettre', {
      headers: { authorization: `Bearer ${token}` },
    });
    const page = JSON.parse(api.body) as { total: number; contacts: { email: string; tags: string[] }[] };
    expect(page.total).toBe(1);
    expect(page.contacts[0]).toMatchObject({ email: 'jose@example.org', tags: ['salon'] });
  });

  it('refuses an upload over the limit with its size and the limit, importing nothing', async () => {
    const big = multipart(
      { csrf, list: 'lettre' },
      { name: 'big.csv', bytes: Buffer.alloc(importMaxBytes + 1024, 'a') },
    );
    const reply = await send('/admin/contacts/import', {
      method: 'POST',
      headers: { cookie, origin: origin(), 'content-type': big.type },
      body: big.body,
    });
    expect(reply.status).toBe(413);
    expect(reply.body).toContain(
      `the upload is ${big.body.length} bytes, more than the limit of ${importMaxBytes} bytes`,
    );
  });

  it('unsubscribes and erases only with the CSRF token; the erased contact is gone', async () => {
    const id = keys.idOf(camille);
    expect((await postForm(`/admin/contacts/${id}/unsubscribe`, { list: 'presse' })).status).toBe(403);
    const unsubscribed = await postForm(`/admin/contacts/${id}/unsubscribe`, { csrf, list: 'presse' });
    expect(unsubscribed.status).toBe(303);
    const profile = await send(unsubscribed.headers.location ?? '', {
      headers: { cookie, 'accept-language': 'en' },
    });
    expect(profile.body).toContain('Unsubscribed from the list');
    expect(profile.body).toMatch(/<td>unsubscribed<\/td>/);
    expect((await postForm(`/admin/contacts/${id}/erase`, {})).status).toBe(403);
    expect(
      (await postForm(`/admin/contacts/${id}/erase`, { csrf }, { origin: 'https://evil.example' })).status,
    ).toBe(403);
    expect((await send(`/admin/contacts/${id}`, { headers: { cookie } })).status).toBe(200);
    const erased = await postForm(`/admin/contacts/${id}/erase`, { csrf });
    expect(erased.status).toBe(200);
    expect(erased.body).not.toContain(camille);
    expect((await send(`/admin/contacts/${id}`, { headers: { cookie } })).status).toBe(404);
    // The command line agrees: only the hashed suppression is left.
    const shown = await runPressroom(['contacts', 'show', camille, '--json'], { cwd: workspace, env: env() });
    expectExit(shown, 0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ suppression: { all: { reason: 'erased' } } });
    expect(JSON.parse(shown.stdout).contact).toBeUndefined();
  });

  it('wrote no email address in its log', () => {
    const log = server?.output() ?? '';
    expect(log).toMatch(/POST \/admin\/contacts\/import 303/);
    expect(log).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.-]+/);
  });
});
