/**
 * `pressroom site build`: the press room as static files, served here by a plain static file
 * server (node:http, files as they are, `dir/` → `dir/index.html`), then crawled from the home
 * page, the sitemaps and the feeds: every link of the site resolves. Embargoed, private and
 * withdrawn releases are nowhere in it (a withdrawn one leaves its notice); the site address
 * must be https unless asked; the output folder is replaced whole, and only when a previous
 * build made it.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headersFile } from '../../lambdas/core/archive/static-site.ts';
import { exampleWorkspace, expectExit, type Run, runPressroom } from '../support/cli.ts';
import { barometer, crise } from '../support/example-releases.ts';

const siteUrl = 'https://press.example.org/';
const embargoed = { file: 'examples/publications/embargo.md', slug: 'sous-embargo-2099' };
const hidden = { file: 'examples/publications/prive.md', slug: 'note-privee-2024' };
const withdrawn = { file: 'examples/publications/retire.md', slug: 'communique-retire-2024' };
const issue = '2024-03-lettre';

let work: string;
let data: string;
let out: string;

function pressroom(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runPressroom(args, {
    cwd: work,
    env: { ...process.env, PRESSROOM_DATA_DIR: data, PRESSROOM_SITE_URL: siteUrl, ...env },
  });
}

/** Every file under `dir`, as paths relative to it with "/". */
async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) await walk(full);
      else found.push(path.relative(dir, full).split(path.sep).join('/'));
    }
  };
  await walk(dir);
  return found.sort();
}

/** A static file server such as any host runs: the folder's files, `x/` → `x/index.html`, 404 otherwise. */
async function serveFolder(dir: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://static');
    let file: string;
    try {
      file = path.join(dir, decodeURIComponent(url.pathname));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (url.pathname.endsWith('/')) file = path.join(file, 'index.html');
    const info = file.startsWith(dir) ? await stat(file).catch(() => undefined) : undefined;
    if (!info?.isFile()) {
      res.writeHead(404).end('Not found');
      return;
    }
    res.writeHead(200, { 'content-length': info.size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The links of a page or feed: href and src of HTML, <loc> and <link> of XML, "url" of JSON Feed. */
function linksOf(body: string, pathname: string): string[] {
  if (pathname.endsWith('.json')) {
    const feed = JSON.parse(body) as { home_page_url?: string; feed_url?: string; items: { url?: string }[] };
    return [feed.home_page_url, feed.feed_url, ...feed.items.map((i) => i.url)].filter(
      (u): u is string => typeof u === 'string',
    );
  }
  const links = [...body.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => m[1] ?? '');
  if (pathname.endsWith('.xml')) {
    links.push(...[...body.matchAll(/<(?:loc|link)>([^<]*)<\/(?:loc|link)>/g)].map((m) => m[1] ?? ''));
  }
  return links.map((l) => l.replace(/&amp;/g, '&'));
}

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-site-build-');
  data = path.join(work, 'data');
  out = path.join(work, 'public');
  const source = await readFile(path.join(work, barometer.file), 'utf8');
  const copy = (slug: string, extra: (text: string) => string) =>
    extra(source.replace(/^slug: .*$/m, `slug: ${slug}`).replace(/^title: .*$/m, `title: "Copie ${slug}"`));
  await writeFile(
    path.join(work, embargoed.file),
    copy(embargoed.slug, (t) => t.replace(/^embargo: .*$/m, 'embargo: 2099-01-01T09:00:00+01:00')),
  );
  await writeFile(
    path.join(work, hidden.file),
    copy(hidden.slug, (t) => t.replace(/^lang: en$/m, 'lang: en\nvisibility: private')),
  );
  await writeFile(
    path.join(work, withdrawn.file),
    copy(withdrawn.slug, (t) => t),
  );
  for (const file of [crise.file, barometer.file, embargoed.file, hidden.file, withdrawn.file])
    expectExit(await pressroom(['publish', file, '--no-pdf']), 0);
  expectExit(await pressroom(['newsletter', 'publish', `examples/newsletters/${issue}.md`]), 0);
  expectExit(await pressroom(['archive', 'withdraw', withdrawn.slug, '--reason', 'doublon']), 0);
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('pressroom site build', { timeout: 180_000 }, () => {
  it('refuses an http site address unless asked, or for localhost, and writes nothing', async () => {
    const refused = await pressroom(['site', 'build', '--out', out], {
      PRESSROOM_SITE_URL: 'http://press.example.org/',
    });
    expectExit(refused, 1);
    expect(refused.stderr).toContain('PRESSROOM_SITE_URL is http://press.example.org/');
    expect(refused.stderr).toContain('--allow-http');
    await expect(stat(out)).rejects.toThrow();

    const local = path.join(work, 'preview');
    const preview = await pressroom(['site', 'build', '--out', local, '--json'], {
      PRESSROOM_SITE_URL: 'http://localhost:8080/',
    });
    expectExit(preview, 0);
    expect(await readFile(path.join(local, 'feed.xml'), 'utf8')).toContain('http://localhost:8080/releases/');
    const allowed = await pressroom(['site', 'build', '--out', local, '--allow-http'], {
      PRESSROOM_SITE_URL: 'http://press.example.org/',
    });
    expectExit(allowed, 0);
    await rm(local, { recursive: true });
  });

  it('writes the public press room, and nothing of what is not public', async () => {
    const run = await pressroom(['site', 'build', '--out', out, '--json']);
    expectExit(run, 0);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ releases: 2, issues: 1, withdrawn: 1, dir: out, downloads: [] });
    const files = await filesUnder(out);
    expect(report.files).toBe(files.length - 1); // all but the marker
    expect(files).toEqual(
      expect.arrayContaining([
        '.pressroom-site',
        '_headers',
        'index.html',
        'feed.xml',
        'atom.xml',
        'feed.json',
        'sitemap.xml',
        'sitemaps/pages.xml',
        '2021/index.html',
        '2024/index.html',
        `releases/${barometer.slug}/index.html`,
        `releases/${barometer.slug}/email.html`,
        `releases/${barometer.slug}/release.txt`,
        `releases/${barometer.slug}/files/${barometer.attachment}`,
        // Its press kit image: the original, the web size and the thumbnail.
        `releases/${barometer.slug}/files/images/barometer-chart.jpg`,
        `releases/${barometer.slug}/images/web/barometer-chart.jpg`,
        `releases/${barometer.slug}/images/thumbs/barometer-chart.jpg`,
        `releases/${crise.slug}/index.html`,
        'newsletters/index.html',
        `newsletters/${issue}/index.html`,
        `releases/${withdrawn.slug}/index.html`,
      ]),
    );
    expect(files.filter((f) => f.startsWith(`releases/${withdrawn.slug}/`))).toEqual([
      `releases/${withdrawn.slug}/index.html`,
    ]);
    expect(await readFile(path.join(out, `releases/${withdrawn.slug}/index.html`), 'utf8')).toContain(
      'Ce communiqué a été retiré de la salle de presse le',
    );
    expect(await readFile(path.join(out, '_headers'), 'utf8')).toBe(headersFile());
    // Not a trace of the embargoed or private release, nor of the withdrawn one outside its notice.
    for (const file of files) {
      const text = await readFile(path.join(out, file), 'utf8');
      for (const slug of [embargoed.slug, hidden.slug])
        expect(text, `${file} names ${slug}`).not.toContain(slug);
      if (file !== `releases/${withdrawn.slug}/index.html`)
        expect(text, `${file} names ${withdrawn.slug}`).not.toContain(withdrawn.slug);
    }
    expect(await readFile(path.join(out, 'feed.xml'), 'utf8')).toContain(
      `${siteUrl}releases/${barometer.slug}/`,
    );
  });

  it('gives a site whose every link resolves on a plain static server', async () => {
    const host = await serveFolder(out);
    try {
      const queue = ['/', '/sitemap.xml', '/feed.xml', '/atom.xml', '/feed.json', '/newsletters/feed.xml'];
      const seen = new Set<string>();
      const broken: string[] = [];
      while (queue.length > 0) {
        const next = queue.shift() ?? '/';
        if (seen.has(next)) continue;
        seen.add(next);
        const response = await fetch(host.origin + next);
        const body = await response.text();
        if (response.status !== 200) {
          broken.push(`${next} → ${response.status}`);
          continue;
        }
        if (!/\.(html|xml|json)$|\/$/.test(next)) continue;
        for (const link of linksOf(body, next)) {
          if (/^(mailto|tel):/.test(link) || link.startsWith('#')) continue;
          const absolute = link.startsWith(siteUrl) ? link.replace(siteUrl, '/') : link;
          const url = new URL(absolute, host.origin + next);
          if (url.origin !== host.origin) continue; // another site: the organisations' own pages
          queue.push(url.pathname);
        }
      }
      expect(broken).toEqual([]);
      expect([...seen]).toEqual(
        expect.arrayContaining([
          `/releases/${barometer.slug}/index.html`,
          `/releases/${barometer.slug}/email.html`,
          `/releases/${barometer.slug}/release.txt`,
          `/releases/${barometer.slug}/files/${barometer.attachment}`,
          `/releases/${barometer.slug}/files/images/barometer-chart.jpg`,
          `/releases/${barometer.slug}/images/web/barometer-chart.jpg`,
          `/releases/${crise.slug}/index.html`,
          '/2021/index.html',
          '/tags/open-data/index.html',
          `/newsletters/${issue}/index.html`,
          '/sitemaps/pages.xml',
        ]),
      );
      expect(seen.size).toBeGreaterThan(25);
    } finally {
      await host.close();
    }
  });

  it('replaces its own folder whole, and never a folder it did not make', async () => {
    await writeFile(path.join(out, 'stale.html'), 'left by an old build');
    expectExit(await pressroom(['site', 'build', '--out', out]), 0);
    await expect(stat(path.join(out, 'stale.html'))).rejects.toThrow();
    expect(await readdir(work)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^\.public\./)]));

    const mine = path.join(work, 'mon-site');
    await mkdir(mine);
    await writeFile(path.join(mine, 'index.html'), 'my own page');
    const refused = await pressroom(['site', 'build', '--out', mine]);
    expectExit(refused, 1);
    expect(refused.stderr).toContain(
      'already holds files that pressroom did not write there (no .pressroom-site file)',
    );
    expect(await readdir(mine)).toEqual(['index.html']);
    expect(await readFile(path.join(mine, 'index.html'), 'utf8')).toBe('my own page');

    const inside = await pressroom(['site', 'build', '--out', path.join(data, 'site')]);
    expectExit(inside, 1);
    expect(inside.stderr).toContain('overlaps the store');
  });

  it('says when releases were rendered for another address, and builds for the new one after a rebuild', async () => {
    const moved = { PRESSROOM_SITE_URL: 'https://presse.example.net/' };
    const warned = await pressroom(['site', 'build', '--out', out], moved);
    expectExit(warned, 0);
    expect(warned.stderr).toContain(
      '2 release(s) were rendered for another address (https://press.example.org/)',
    );
    expect(warned.stderr).toContain('pressroom archive rebuild');
    expect(await readFile(path.join(out, 'feed.xml'), 'utf8')).toContain(
      'https://presse.example.net/releases/',
    );
    expectExit(await pressroom(['archive', 'rebuild', '--no-pdf'], moved), 0);
    const clean = await pressroom(['site', 'build', '--out', out], moved);
    expectExit(clean, 0);
    // Only the line naming the store it used: no warning any more.
    expect(clean.stderr.trim()).toMatch(/^store: \S+ \(PRESSROOM_DATA_DIR\)$/);
    const email = await readFile(path.join(out, `releases/${barometer.slug}/email.html`), 'utf8');
    expect(email).toContain('https://presse.example.net/releases/');
    expect(email).not.toContain('https://press.example.org/');
  });
});
