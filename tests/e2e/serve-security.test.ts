/**
 * `pressroom serve` as a child process on 127.0.0.1, attacked through what it serves: a release
 * whose attachments are hostile (HTML and SVG with scripts, JavaScript, a file without an
 * extension) next to harmless ones (PDF, PNG, text); previews without their token, with a
 * forged or expired one, or through a proxy; a withdrawn release; forged X-Forwarded-*
 * headers with and without --trust-proxy; and the refusal to be exposed with http addresses.
 * The request log is read back for tokens, signatures and addresses.
 *
 * The tests of this file share one data folder and run in order.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileContentSecurityPolicy,
  pageContentSecurityPolicy,
} from '../../lambdas/core/public/site-headers.ts';
import { exampleWorkspace, expectExit, pressroomBin, type Run, runPressroom } from '../support/cli.ts';
import { barometer, crise } from '../support/example-releases.ts';
import { outboxEnv, rawRequest, type Server, startServer, stopServer } from '../support/serve.ts';

const secret = 'e2e-serve-security-secret-0123456789abcdef';
const publicUrl = 'https://press.example.org';
const slug = 'pieges-2024';

/** A minimal PDF and a 1×1 PNG: harmless files a browser shows. */
const pdfBytes = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);
const pngBytes = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const script = '<script>document.title = "pwned"; fetch("/subscribe", { method: "POST" })</script>';
/** Attachments that must download, and ones that may open in the browser. */
const hostile = {
  'page.html': { content: `<!DOCTYPE html><title>x</title>${script}`, type: 'text/html; charset=utf-8' },
  'logo.svg': {
    content: `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>`,
    type: 'image/svg+xml',
  },
  // As bytes: under nosniff no page can run it as a script.
  'outil.js': { content: 'alert(document.cookie)', type: 'application/octet-stream' },
  LISEZMOI: { content: `<html>${script}</html>`, type: 'application/octet-stream' },
};
const harmless = {
  'rapport.pdf': { content: pdfBytes, type: 'application/pdf' },
  'carte.png': { content: pngBytes, type: 'image/png' },
  'notes.txt': { content: 'Notes de lecture.\n', type: 'text/plain; charset=utf-8' },
};

let work: string;
let data: string;
let server: Server | undefined;
let proxied: Server | undefined;

const env = (extra: Record<string, string> = {}) => ({ ...outboxEnv({ data, secret, publicUrl }), ...extra });
const pressroom = (args: string[], extra: Record<string, string> = {}): Promise<Run> =>
  runPressroom(args, { cwd: work, env: env(extra) });

/** `pressroom serve ...` expected to refuse to start: its exit, or a failure after 20 s. */
async function serveRefused(args: string[], extra: Record<string, string>): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [pressroomBin, 'serve', '--port', '0', ...args],
      { cwd: work, env: env(extra), timeout: 20_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; killed?: boolean };
    if (e.killed) throw new Error('serve started instead of refusing');
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const get = (target: Server | undefined, rawPath: string, headers: Record<string, string> = {}) => {
  if (!target) throw new Error('the server did not start: see the error of beforeAll');
  return rawRequest(target.url, rawPath, { headers });
};

const sourceThrottles = async () =>
  (await readdir(path.join(data, 'subscriptions', 'throttle', 'source')).catch(() => [])).length;

const subscribe = (target: Server | undefined, forwardedFor: string, email: string) => {
  if (!target) throw new Error('the server did not start: see the error of beforeAll');
  return rawRequest(target.url, '/subscribe', {
    method: 'POST',
    body: new URLSearchParams({ email, list: 'lettre' }).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': forwardedFor,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'attacker.example',
    },
  });
};

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-serve-security-');
  data = path.join(work, 'data');
  const attachments = path.join(work, 'examples/publications/attachments/pieges');
  await mkdir(attachments, { recursive: true });
  for (const [name, { content }] of Object.entries({ ...hostile, ...harmless }))
    await writeFile(path.join(attachments, name), content);
  const source = await readFile(path.join(work, barometer.file), 'utf8');
  const list = Object.keys({ ...hostile, ...harmless })
    .map((name) => `  - file: attachments/pieges/${name}\n    label: ${name}`)
    .join('\n');
  const copy = source
    .replace(/^slug: .*$/m, `slug: ${slug}`)
    .replace(/^title: .*$/m, 'title: "Pièces jointes piégées"')
    .replace(/^attachments:\n(?: {2}.*\n)+/m, `attachments:\n${list}\n`);
  expect(copy).toContain('attachments/pieges/LISEZMOI');
  await writeFile(path.join(work, 'examples/publications/pieges.md'), copy);
  for (const file of ['examples/publications/pieges.md', crise.file])
    expectExit(await pressroom(['publish', file, '--no-pdf']), 0);
  server = await startServer(['--lists', 'examples/lists.yaml'], { cwd: work, env: env() });
}, 300_000);

afterAll(async () => {
  await stopServer(server, 'SIGTERM');
  await stopServer(proxied, 'SIGTERM');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('published files', { timeout: 180_000 }, () => {
  it.each(Object.entries(hostile))(
    'serves %s as a download, nosniff, under a sandbox',
    async (name, expected) => {
      const reply = await get(
        server,
        `/releases/${slug}/files/attachments/pieges/${encodeURIComponent(name)}`,
      );
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe(expected.type);
      expect(reply.headers['content-disposition']).toBe('attachment');
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['content-security-policy']).toBe(fileContentSecurityPolicy);
      expect(reply.body).toBe(expected.content);
    },
  );

  it.each(Object.entries(harmless))(
    'shows %s in the browser, nosniff, with nothing that would stop a viewer',
    async (name, expected) => {
      const reply = await get(server, `/releases/${slug}/files/attachments/pieges/${name}`);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe(expected.type);
      expect(reply.headers['content-disposition']).toBeUndefined();
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['content-security-policy']).toBeUndefined();
    },
  );

  it('serves signed links to attachments as downloads under their name, with the sandbox', async () => {
    const run = await pressroom(['archive', 'link', slug, '--json', '--expires', '1h']);
    expectExit(run, 0);
    const links = (JSON.parse(run.stdout) as { links: { file: string; format: string; url: string }[] })
      .links;
    const html = links.find((l) => l.file === 'files/attachments/pieges/page.html');
    if (!html) throw new Error(`no link to page.html in ${run.stdout}`);
    const url = new URL(html.url);
    const reply = await get(server, url.pathname + url.search);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-disposition']).toMatch(/^attachment; filename="pieges-2024-page\.html"/);
    expect(reply.headers['content-security-policy']).toBe(fileContentSecurityPolicy);
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('pages', { timeout: 180_000 }, () => {
  it('every page of the press room comes with the page policy; feeds and text with nosniff only', async () => {
    const pages = [
      '/',
      '/index.html',
      '/2024/index.html',
      '/tags/open-data/',
      `/releases/${slug}/`,
      `/releases/${slug}/email.html`,
    ];
    for (const page of pages) {
      const reply = await get(server, page);
      expect(reply.status, page).toBe(200);
      expect(reply.headers['content-type'], page).toBe('text/html; charset=utf-8');
      expect(reply.headers['content-security-policy'], page).toBe(pageContentSecurityPolicy);
      expect(reply.headers['x-content-type-options'], page).toBe('nosniff');
      expect(reply.headers['x-frame-options'], page).toBe('SAMEORIGIN');
    }
    for (const other of ['/feed.xml', '/sitemap.xml', `/releases/${slug}/release.txt`]) {
      const reply = await get(server, other);
      expect(reply.status, other).toBe(200);
      expect(reply.headers['content-security-policy'], other).toBeUndefined();
      expect(reply.headers['x-content-type-options'], other).toBe('nosniff');
    }
    expect((await get(server, '/feed.xml')).headers['content-type']).toBe(
      'application/rss+xml; charset=utf-8',
    );
  });

  it('redirects a folder named without its slash, relative: forwarded headers are ignored', async () => {
    const reply = await get(server, `/releases/${slug}?x=1`, {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'attacker.example',
    });
    expect(reply.status).toBe(301);
    expect(reply.headers.location).toBe(`/releases/${slug}/?x=1`);
    expect((await get(server, '/releases/nothing-here')).status).toBe(404);
  });
});

describe('previews', { timeout: 180_000 }, () => {
  let link: URL;

  it('opens with the link `archive preview` prints, filled for the sample recipient', async () => {
    const run = await pressroom(['archive', 'preview', slug, '--port', server?.url.port ?? '', '--json']);
    expectExit(run, 0);
    const printed = JSON.parse(run.stdout) as { url: string; expiresAt: string };
    link = new URL(printed.url);
    expect(link.origin).toBe(server?.url.origin);
    expect(Date.parse(printed.expiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const reply = await get(server, link.pathname + link.search);
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('Camille');
    expect(reply.body).not.toContain('{{');
    expect(reply.headers['content-security-policy']).toBe(pageContentSecurityPolicy);
    expect(reply.headers['cache-control']).toBe('no-store');
  });

  it('answers 404 without the token, with a forged one, for another slug, and through a proxy', async () => {
    const token = link.searchParams.get('token') ?? '';
    const forged = new URL(link);
    forged.searchParams.set('token', `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`);
    const later = new URL(link);
    later.searchParams.set('expires', String(Number(link.searchParams.get('expires')) + 60));
    const other = new URL(link);
    other.pathname = `/_preview/${crise.slug}`;
    const refused = [
      link.pathname,
      forged.pathname + forged.search,
      later.pathname + later.search,
      other.pathname + other.search,
    ];
    for (const attempt of refused) {
      const reply = await get(server, attempt);
      expect(reply.status, attempt).toBe(404);
      expect(reply.body).toBe('Not found\n');
    }
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const reply = await get(server, link.pathname + link.search, { [header]: '127.0.0.1' });
      expect(reply.status, header).toBe(404);
    }
  });

  it('stops working when the link expires', async () => {
    const run = await pressroom([
      'archive',
      'preview',
      slug,
      '--port',
      server?.url.port ?? '',
      '--expires',
      '1s',
      '--json',
    ]);
    expectExit(run, 0);
    const short = new URL((JSON.parse(run.stdout) as { url: string }).url);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await get(server, short.pathname + short.search)).status).toBe(404);
    const unknown = await pressroom(['archive', 'preview', 'nulle-part']);
    expectExit(unknown, 1);
    expect(unknown.stderr).toContain('no release "nulle-part"');
  });
});

describe('a withdrawn release', { timeout: 180_000 }, () => {
  it('answers 410 Gone at its page and its files, with a notice that says nothing of it', async () => {
    const before = await get(server, `/releases/${crise.slug}/email.html`);
    expect(before.status).toBe(200);
    const run = await pressroom(['archive', 'withdraw', crise.slug, '--reason', 'erreur de chiffres']);
    expectExit(run, 0);
    for (const page of [
      `/releases/${crise.slug}/`,
      `/releases/${crise.slug}/email.html`,
      `/releases/${crise.slug}/release.txt`,
    ]) {
      const reply = await get(server, page);
      expect(reply.status, page).toBe(410);
      expect(reply.body, page).toContain('Ce communiqué a été retiré de la salle de presse le');
      expect(reply.body, page).not.toContain('Gestion de crise');
      expect(reply.body, page).not.toContain('erreur de chiffres');
      expect(reply.headers['content-security-policy'], page).toBe(pageContentSecurityPolicy);
    }
    expect((await get(server, '/')).body).not.toContain(crise.slug);
  });
});

describe('forwarded headers', { timeout: 180_000 }, () => {
  it('without --trust-proxy, every request counts against the socket address', async () => {
    expect(await sourceThrottles()).toBe(0);
    expect((await subscribe(server, '203.0.113.7', 'a@example.org')).status).toBe(200);
    expect((await subscribe(server, '198.51.100.9', 'b@example.org')).status).toBe(200);
    expect(await sourceThrottles()).toBe(1);
  });

  it('with --trust-proxy, the last X-Forwarded-For entry is the client, and redirects use the proxy address', async () => {
    proxied = await startServer(['--lists', 'examples/lists.yaml', '--trust-proxy'], {
      cwd: work,
      env: env(),
    });
    const started = proxied;
    await expect.poll(() => started.stdout()).toContain('behind a reverse proxy');
    const before = await sourceThrottles();
    expect((await subscribe(proxied, '203.0.113.7', 'c@example.org')).status).toBe(200);
    expect((await subscribe(proxied, '198.51.100.9', 'd@example.org')).status).toBe(200);
    expect(await sourceThrottles()).toBe(before + 2);
    // A client cannot pick its address: the proxy appends the one it saw, and that one counts.
    expect((await subscribe(proxied, '192.0.2.1, 203.0.113.7', 'e@example.org')).status).toBe(200);
    expect(await sourceThrottles()).toBe(before + 2);

    const reply = await get(proxied, `/releases/${slug}`, {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'press.example.org',
    });
    expect(reply.status).toBe(301);
    expect(reply.headers.location).toBe(`https://press.example.org/releases/${slug}/`);
    // Previews never believe a proxy, trusted or not.
    const run = await pressroom(['archive', 'preview', slug, '--port', proxied.url.port, '--json']);
    const link = new URL((JSON.parse(run.stdout) as { url: string }).url);
    expect((await get(proxied, link.pathname + link.search)).status).toBe(200);
    expect((await get(proxied, link.pathname + link.search, { 'x-forwarded-for': '127.0.0.1' })).status).toBe(
      404,
    );
  });
});

describe('exposure', { timeout: 180_000 }, () => {
  it.each([
    [['--host', '0.0.0.0'], {}, 'listening on 0.0.0.0', 'PRESSROOM_PUBLIC_URL'],
    [['--host', '127.0.0.1', '--trust-proxy'], {}, 'behind a reverse proxy', 'PRESSROOM_PUBLIC_URL'],
    [
      ['--host', '127.0.0.1'],
      { PRESSROOM_TRUST_PROXY: '1' },
      'behind a reverse proxy',
      'PRESSROOM_PUBLIC_URL',
    ],
    [['--host', '::'], { PRESSROOM_PUBLIC_URL: publicUrl }, 'listening on ::', 'PRESSROOM_SITE_URL'],
  ] as const)('serve %j refuses http addresses, naming the variable', async (args, extra, why, variable) => {
    const run = await serveRefused([...args], {
      PRESSROOM_PUBLIC_URL: 'http://press.example.org',
      PRESSROOM_SITE_URL: 'http://press.example.org/',
      ...extra,
    });
    expectExit(run, 1);
    expect(run.stderr).toContain(why);
    expect(run.stderr).toContain(`${variable} must be the https address`);
    expect(run.stderr).toContain('docs/self-hosting.md');
  });

  it('refuses a PRESSROOM_TRUST_PROXY that is not 1 or 0', async () => {
    const run = await serveRefused(['--host', '127.0.0.1'], { PRESSROOM_TRUST_PROXY: 'maybe' });
    expectExit(run, 1);
    expect(run.stderr).toContain('PRESSROOM_TRUST_PROXY must be 1 or 0');
  });
});

describe('the request log', { timeout: 180_000 }, () => {
  it('holds no token, signature, preview token or address', async () => {
    const output = `${server?.output() ?? ''}${proxied?.output() ?? ''}`;
    const lines = output.split('\n').filter((l) => / (GET|POST|HEAD) /.test(l));
    expect(lines.some((l) => l.includes(`GET /_preview/${slug} 200`))).toBe(true);
    expect(lines.some((l) => l.includes('GET /_signed/archive/'))).toBe(true);
    expect(output).not.toMatch(/token=|signature=|expires=/);
    expect(output).not.toContain('@');
    expect(output).not.toMatch(/203\.0\.113\.7|198\.51\.100\.9|127\.0\.0\.1 /);
  });
});
