/**
 * Black-box tests of the archive commands: `pressroom publish`, `archive list | link |
 * export` and `pressroom serve`, run as child processes (`node dist/pressroom.js ...`) in a
 * temporary workspace copied from examples/, with a temporary data folder. What they write
 * is read back from the data folder, through the local server, with a real feed parser and
 * with a ZIP reader that is not the one that wrote the export.
 *
 * The tests of this file share one archive and run in order: the two examples, then the
 * slug conflict, an embargoed and a private release, the feeds, the export and the server.
 */
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseFeed } from '@rowanmanning/feed-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, parseCsv, readZip } from '../support/archive-files.ts';
import { requireChromium } from '../support/browser.ts';
import { exampleWorkspace, expectExit, type Run, runPressroom } from '../support/cli.ts';
import { barometer, crise } from '../support/example-releases.ts';
import { rawRequest, type Server, startServer, stopServer } from '../support/serve.ts';

const siteUrl = 'https://press.example.org/';

/** A copy of the barometer, under embargo until long after these tests, with a tag of its own. */
const embargoed = {
  file: 'examples/publications/fusion-embargo.md',
  slug: 'fusion-confidentielle-2024',
  title: 'Fusion confidentielle : la fédération s’élargit à l’été',
  tag: { name: 'fusion à venir', slug: 'fusion-a-venir' },
};
/** A copy of the 2021 example, private, alone in its year, with a title that needs quoting in CSV. */
const privateRelease = {
  file: 'examples/publications/note-interne.md',
  slug: 'note-interne-2019',
  date: '2019-11-05',
  title: 'Note interne, « brouillon » : "ne pas diffuser"',
};

let work: string;
let data: string;
let server: Server | undefined;
/** Requests sent to the server, to compare with the lines it logs. */
let requestsSent = 0;

/** Runs the real command in the workspace, on the test's data folder. */
function pressroom(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runPressroom(args, {
    cwd: work,
    env: {
      ...process.env,
      PRESSROOM_DATA_DIR: data,
      PRESSROOM_SITE_URL: siteUrl,
      ...(server && { PRESSROOM_PUBLIC_URL: server.url.href }),
      ...env,
    },
  });
}

const site = (key: string) => path.join(data, 'site', ...key.split('/'));
const readSite = (key: string) => readFile(site(key), 'utf8');
const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** The site files (path under site/) that contain any of the needles, with the needle found. */
async function siteMentions(needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const file of await filesUnder(path.join(data, 'site'))) {
    const text = await readFile(path.join(data, 'site', file), 'utf8');
    for (const needle of needles) if (text.includes(needle)) found.push(`${file}: ${needle}`);
  }
  return found;
}

/** Writes a workspace file derived from an example file (each replacement must apply). */
async function deriveExample(from: string, to: string, replacements: [RegExp, string][]): Promise<void> {
  let text = await readFile(path.join(work, from), 'utf8');
  for (const [pattern, replacement] of replacements) {
    expect(text, `${from} should match ${pattern}`).toMatch(pattern);
    text = text.replace(pattern, replacement);
  }
  await writeFile(path.join(work, to), text);
}

/** GET (or another method) on the local server, counted for the request-log check. */
async function fetchServer(urlOrPath: string, init?: RequestInit): Promise<Response> {
  if (!server) throw new Error('the server did not start: see the error of beforeAll');
  requestsSent++;
  return fetch(new URL(urlOrPath, server.url), { ...init, redirect: 'manual' });
}

/** A request whose path is sent exactly as written (fetch would normalise `..` away). */
function rawGet(rawPath: string): Promise<{ status: number; body: string }> {
  if (!server) throw new Error('the server did not start: see the error of beforeAll');
  requestsSent++;
  return rawRequest(server.url, rawPath);
}

// Each log line starts with an ISO timestamp.
const requestLogLines = (stdout: string) =>
  stdout
    .split('\n')
    .map((line) => line.replace(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z /, ''))
    .filter((line) => /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS) \S* \d{3} \d+ms$/.test(line));

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-archive-cli-');
  data = path.join(work, 'data');
  await mkdir(path.join(work, 'exports'));
  // Started first, so that it creates the data folder's signing secret before any command.
  server = await startServer([], {
    cwd: work,
    env: { ...process.env, PRESSROOM_DATA_DIR: data, PRESSROOM_SITE_URL: siteUrl },
  });
});

afterAll(async () => {
  await stopServer(server, 'SIGKILL');
  await rm(work, { recursive: true, force: true });
});

describe('pressroom publish and archive list', () => {
  it('publishes the barometer with a PDF printed by chromium, linked from its pages', async () => {
    await requireChromium('this test prints a PDF with it');
    const run = await pressroom(['publish', barometer.file]);
    expectExit(run, 0);
    expect(run.stdout).toContain(`Published ${barometer.slug} (public)`);
    expect(run.stdout).toContain(`${siteUrl}releases/${barometer.slug}/index.html`);
    expect(run.stdout).toMatch(/PDF\s+stored/);

    const pdf = await readFile(site(`releases/${barometer.slug}/release.pdf`));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(1000);
    const page = await readSite(`releases/${barometer.slug}/index.html`);
    expect(page).toContain(barometer.title);
    expect(page).toMatch(/<a href="release\.pdf"[^>]*>/);
    expect(await readSite('index.html')).toContain(`href="releases/${barometer.slug}/release.pdf"`);
  });

  it('publishes without a browser (CHROMIUM_PATH=/nonexistent): PDF skipped, and no PDF link', async () => {
    const run = await pressroom(['publish', crise.file], { CHROMIUM_PATH: '/nonexistent' });
    expectExit(run, 0);
    expect(run.stdout).toContain(`Published ${crise.slug} (public)`);
    expect(run.stdout).toMatch(/PDF\s+skipped: .*\/nonexistent/);

    expect(await exists(site(`releases/${crise.slug}/release.pdf`))).toBe(false);
    const page = await readSite(`releases/${crise.slug}/index.html`);
    expect(page).toContain(crise.title);
    expect(page).not.toContain('release.pdf');
    const index = await readSite('index.html');
    expect(index).toContain(`href="releases/${crise.slug}/index.html"`);
    expect(index).not.toContain(`releases/${crise.slug}/release.pdf`);
  });

  it('archive list --json lists both releases with slug, date, title, visibility and formats', async () => {
    const run = await pressroom(['archive', 'list', '--json']);
    expectExit(run, 0);
    const rows = JSON.parse(run.stdout);
    expect(rows).toEqual([
      {
        slug: barometer.slug,
        date: barometer.date,
        title: barometer.title,
        visibility: 'public',
        embargo: '2024-03-12T09:00:00.000Z',
        formats: ['page', 'email', 'text', 'pdf', barometer.attachment],
      },
      {
        slug: crise.slug,
        date: crise.date,
        title: crise.title,
        visibility: 'public',
        embargo: '2021-06-08T06:00:00.000Z',
        formats: ['page', 'email', 'text'],
      },
    ]);
  });

  it('publishing the same file again updates the release in place', async () => {
    const manifest = path.join(data, 'archive', crise.slug, 'release.json');
    const before = JSON.parse(await readFile(manifest, 'utf8'));
    const run = await pressroom(['publish', crise.file, '--no-pdf']);
    expectExit(run, 0);
    expect(run.stdout).toMatch(new RegExp(`^Updated ${crise.slug} \\(public\\)`));

    const after = JSON.parse(await readFile(manifest, 'utf8'));
    expect(after.version).not.toBe(before.version);
    expect(after.summary.publishedAt).toBe(before.summary.publishedAt);
    // One release, one version folder: the previous version is gone.
    expect((await readdir(path.join(data, 'archive'))).sort()).toEqual([crise.slug, barometer.slug].sort());
    expect((await readdir(path.join(data, 'archive', crise.slug))).sort()).toEqual([
      after.version,
      'release.json',
    ]);
    const index = await readSite('index.html');
    expect(index.split(`href="releases/${crise.slug}/index.html"`)).toHaveLength(2);
  });

  it('refuses another file with the same slug, naming both files and --replace; --replace replaces', async () => {
    const copy = 'examples/publications/crise-copie.md';
    await cp(path.join(work, crise.file), path.join(work, copy));
    const manifest = path.join(data, 'archive', crise.slug, 'release.json');
    const before = await readFile(manifest, 'utf8');

    const refused = await pressroom(['publish', copy, '--no-pdf']);
    expectExit(refused, 1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(copy);
    expect(refused.stderr).toContain(crise.file);
    expect(refused.stderr).toContain(crise.slug);
    expect(refused.stderr).toContain('--replace');
    expect(await readFile(manifest, 'utf8')).toBe(before);

    const replaced = await pressroom(['publish', copy, '--no-pdf', '--replace']);
    expectExit(replaced, 0);
    expect(replaced.stdout).toMatch(new RegExp(`^Replaced ${crise.slug} \\(public\\)`));
    const after = JSON.parse(await readFile(manifest, 'utf8'));
    expect(after.source.path).toBe(path.join(work, copy));
    expect((await readdir(path.join(data, 'archive'))).sort()).toEqual([crise.slug, barometer.slug].sort());
  });
});

describe('embargo and visibility', () => {
  let links: { format: string; file: string; url: string }[] = [];
  let shortLived: string | undefined;

  it('keeps an embargoed release out of every public page, feed, sitemap and release folder', async () => {
    await deriveExample(barometer.file, embargoed.file, [
      [/^title: .*$/m, `title: "${embargoed.title}"`],
      [/^embargo: .*$/m, 'embargo: 2099-01-01T09:00:00+01:00'],
      [/^slug: .*$/m, `slug: ${embargoed.slug}`],
      [/^tags:$/m, `tags:\n  - ${embargoed.tag.name}`],
    ]);
    const run = await pressroom(['publish', embargoed.file, '--no-pdf']);
    expectExit(run, 0);
    expect(run.stdout).toContain(`Published ${embargoed.slug} (embargoed)`);
    expect(run.stdout).toContain(`pressroom archive link ${embargoed.slug}`);
    expect(run.stdout).not.toContain(`releases/${embargoed.slug}/`);

    // It is archived...
    expect(await exists(path.join(data, 'archive', embargoed.slug, 'release.json'))).toBe(true);
    // ...and appears nowhere in the site: named pages first, then every file under site/.
    expect(await exists(site(`releases/${embargoed.slug}`))).toBe(false);
    for (const key of [
      'index.html',
      '2024/index.html',
      'tags/open-data/index.html',
      'feed.xml',
      'atom.xml',
    ]) {
      const text = await readSite(key);
      expect(text, key).not.toContain(embargoed.slug);
      expect(text, key).not.toContain('Fusion confidentielle');
    }
    const feed = JSON.parse(await readSite('feed.json'));
    expect(feed.items.map((i: { title: string }) => i.title)).not.toContain(embargoed.title);
    expect(await siteMentions([embargoed.slug, 'Fusion confidentielle'])).toEqual([]);
    // The year page still lists the public release of that year.
    expect(await readSite('2024/index.html')).toContain(barometer.title);
  });

  it('leaves no trace of a tag that only the embargoed release carries (no tag page, no sitemap entry)', async () => {
    const page = `tags/${embargoed.tag.slug}/index.html`;
    const leaks = [
      ...((await exists(site(page))) ? [`${page} exists`] : []),
      ...(await siteMentions([embargoed.tag.name, embargoed.tag.slug])),
    ];
    expect(leaks, "the embargoed release's own tag, in the public site").toEqual([]);
  });

  it('archive link --json gives signed URLs that the server honours, with Content-Disposition for downloads', async () => {
    const run = await pressroom(['archive', 'link', embargoed.slug, '--json']);
    expectExit(run, 0);
    const result = JSON.parse(run.stdout) as { slug: string; expiresAt: string; links: typeof links };
    links = result.links;
    expect(result.slug).toBe(embargoed.slug);
    expect(Date.parse(result.expiresAt) - Date.now()).toBeGreaterThan(6 * 86_400_000);
    // Two attachments: the summary, and the original of its press kit image.
    expect(links.map((l) => l.format).sort()).toEqual([
      'attachment',
      'attachment',
      'email',
      'page',
      'source',
      'text',
    ]);

    for (const link of links) {
      expect(link.url.startsWith(`${server?.url}_signed/`), link.url).toBe(true);
      const url = new URL(link.url);
      expect(url.searchParams.get('signature')).toBeTruthy();
      const response = await fetchServer(link.url);
      expect(response.status, link.url).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      const key = url.pathname.slice('/_signed/'.length).split('/').map(decodeURIComponent).join('/');
      expect(key.startsWith(`archive/${embargoed.slug}/`)).toBe(true);
      expect(body.equals(await readFile(path.join(data, ...key.split('/')))), `${link.format} body`).toBe(
        true,
      );
      const disposition = response.headers.get('content-disposition');
      if (link.format === 'page') {
        expect(disposition).toBeNull();
        expect(response.headers.get('content-type')).toMatch(/^text\/html/);
        expect(body.toString()).toContain('Fusion confidentielle');
      } else {
        const fileName = `${embargoed.slug}-${link.file.split('/').at(-1)}`;
        expect(disposition).toMatch(/^attachment;/);
        expect(disposition).toContain(`filename="${fileName}"`);
      }
    }
    const attachment = links.find((l) => l.format === 'attachment');
    expect(attachment?.file).toBe(`files/${barometer.attachment}`);
    const original = await readFile(path.join(work, 'examples/publications', barometer.attachment));
    const served = Buffer.from(await (await fetchServer(attachment?.url ?? '')).arrayBuffer());
    expect(served.equals(original)).toBe(true);
  });

  it('refuses a tampered signed URL with 403', async () => {
    const page = links.find((l) => l.format === 'page');
    const text = links.find((l) => l.format === 'text');
    if (!page || !text) throw new Error('no signed links: see the previous test');

    const badSignature = new URL(page.url);
    const signature = badSignature.searchParams.get('signature') ?? '';
    badSignature.searchParams.set(
      'signature',
      `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
    );
    const longer = new URL(page.url);
    longer.searchParams.set('expires', String(Number(longer.searchParams.get('expires')) + 3600));
    const otherFile = new URL(page.url);
    otherFile.pathname = otherFile.pathname.replace(/page\.html$/, 'source.md');
    const renamed = new URL(text.url);
    renamed.searchParams.set('name', 'other-name.txt');
    const unsigned = new URL(page.url);
    unsigned.search = '';

    for (const url of [badSignature, longer, otherFile, renamed, unsigned]) {
      const response = await fetchServer(url.href);
      expect(response.status, url.href).toBe(403);
      expect(await response.text()).not.toContain('Fusion confidentielle');
    }
  });

  it('archive link --expires 2s gives a link that works at first; an unknown slug is a clear error', async () => {
    const [short, unknown] = await Promise.all([
      pressroom(['archive', 'link', embargoed.slug, '--format', 'text', '--expires', '2s', '--json']),
      pressroom(['archive', 'link', 'no-such-release', '--json']),
    ]);
    expectExit(unknown, 1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('no release "no-such-release" in the archive');
    expect(unknown.stderr).toContain('archive list');

    expectExit(short, 0);
    const result = JSON.parse(short.stdout) as { links: { format: string; url: string }[] };
    expect(result.links).toHaveLength(1);
    shortLived = result.links[0]?.url;
    const expires = Number(new URL(shortLived ?? '').searchParams.get('expires'));
    expect(expires * 1000 - Date.now()).toBeLessThanOrEqual(2000);
    // Valid for 1 to 2 s after signing; check it works when enough of that is left.
    if (expires * 1000 - Date.now() > 300) {
      expect((await fetchServer(shortLived ?? '')).status).toBe(200);
    }
  });

  it('keeps a private release out of the site', async () => {
    await deriveExample(crise.file, privateRelease.file, [
      [/^title: .*$/m, `title: '${privateRelease.title}'\nslug: ${privateRelease.slug}\nvisibility: private`],
      [/^date: .*$/m, `date: ${privateRelease.date}`],
    ]);
    const run = await pressroom(['publish', privateRelease.file, '--no-pdf']);
    expectExit(run, 0);
    expect(run.stdout).toContain(`Published ${privateRelease.slug} (private)`);
    expect(await exists(path.join(data, 'archive', privateRelease.slug, 'release.json'))).toBe(true);
    expect(await exists(site(`releases/${privateRelease.slug}`))).toBe(false);
    expect(await siteMentions([privateRelease.slug, 'Note interne'])).toEqual([]);
    expect(await readSite('index.html')).toContain(`releases/${crise.slug}/index.html`);
  });

  it('leaves no trace of a year that only the private release has (no year page, link or sitemap)', async () => {
    const leaks = [
      ...((await exists(site('2019/index.html'))) ? ['2019/index.html exists'] : []),
      ...((await exists(site('sitemaps/2019.xml'))) ? ['sitemaps/2019.xml exists'] : []),
      ...(await siteMentions(['2019/index.html', 'sitemaps/2019.xml'])),
    ];
    expect(leaks, 'the year of the private release, in the public site').toEqual([]);
  });

  it('refuses the short-lived link once it has expired (403, "expired")', async () => {
    if (!shortLived) throw new Error('no short-lived link: see the previous tests');
    const expires = Number(new URL(shortLived).searchParams.get('expires'));
    // The only wait of this file: until the link's expiry has passed (it is valid through `expires`).
    const wait = expires * 1000 + 1100 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const response = await fetchServer(shortLived);
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/expired/);
  });

  it('publishes the embargoed release once its embargo is in the past', async () => {
    await deriveExample(embargoed.file, embargoed.file, [
      [/^embargo: .*$/m, 'embargo: 2020-01-01T09:00:00+01:00'],
    ]);
    const run = await pressroom(['publish', embargoed.file, '--no-pdf']);
    expectExit(run, 0);
    expect(run.stdout).toContain(`Updated ${embargoed.slug} (public)`);
    expect(run.stdout).toContain(`${siteUrl}releases/${embargoed.slug}/index.html`);

    expect(await readSite(`releases/${embargoed.slug}/index.html`)).toContain('Fusion confidentielle');
    for (const key of [
      'index.html',
      '2024/index.html',
      'tags/open-data/index.html',
      `tags/${embargoed.tag.slug}/index.html`,
    ]) {
      expect(await readSite(key), key).toContain(`releases/${embargoed.slug}/index.html`);
    }
    for (const key of ['feed.xml', 'atom.xml', 'feed.json']) {
      expect(await readSite(key), key).toContain(`${siteUrl}releases/${embargoed.slug}/index.html`);
    }
  });
});

describe('feeds and sitemaps', () => {
  const publicReleases = () => [barometer, embargoed, crise];

  it('feed.xml is RSS 2.0 with absolute links and accented titles intact', async () => {
    const feed = parseFeed(await readSite('feed.xml'));
    expect(feed.meta).toEqual({ type: 'rss', version: '2.0' });
    expect(feed.url).toBe(siteUrl);
    expect(feed.items.map((i) => i.title).sort()).toEqual(
      publicReleases()
        .map((r) => r.title)
        .sort(),
    );
    for (const item of feed.items) {
      const release = publicReleases().find((r) => r.title === item.title);
      expect(item.url).toBe(`${siteUrl}releases/${release?.slug}/index.html`);
      expect(await exists(site((item.url ?? '').slice(siteUrl.length))), item.url ?? '').toBe(true);
    }
    expect(feed.items.find((i) => i.url?.includes(crise.slug))?.description).toContain('d’élus');
  });

  it('atom.xml is Atom 1.0 with the same items', async () => {
    const feed = parseFeed(await readSite('atom.xml'));
    expect(feed.meta).toEqual({ type: 'atom', version: '1.0' });
    expect(feed.self).toBe(`${siteUrl}atom.xml`);
    expect(
      feed.items.map((i) => [i.title, i.url]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual(
      publicReleases()
        .map((r) => [r.title, `${siteUrl}releases/${r.slug}/index.html`])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  });

  it('feed.json is a JSON Feed with absolute links and accented titles intact', async () => {
    const feed = JSON.parse(await readSite('feed.json')) as {
      version: string;
      home_page_url: string;
      feed_url: string;
      items: { id: string; url: string; title: string }[];
    };
    expect(feed.version).toMatch(/^https:\/\/jsonfeed\.org\/version\/1(\.1)?$/);
    expect(feed.home_page_url).toBe(siteUrl);
    expect(feed.feed_url).toBe(`${siteUrl}feed.json`);
    expect(feed.items.map((i) => [i.title, i.url]).sort()).toEqual(
      publicReleases()
        .map((r) => [r.title, `${siteUrl}releases/${r.slug}/index.html`])
        .sort(),
    );
    // Newest first: the 2024 releases before the 2021 one.
    expect(feed.items.at(-1)?.title).toBe(crise.title);
  });

  it('sitemap.xml is a sitemap index whose sitemaps, and the pages they list, exist in the store', async () => {
    const locs = (xml: string) => [...xml.matchAll(/<loc>([^<]*)<\/loc>/g)].map((m) => m[1] ?? '');
    const index = await readSite('sitemap.xml');
    expect(index).toMatch(/<sitemapindex xmlns="http:\/\/www\.sitemaps\.org\/schemas\/sitemap\/0\.9">/);
    const children = locs(index);
    expect(children.length).toBeGreaterThanOrEqual(2);
    const pages: string[] = [];
    for (const child of children) {
      expect(child.startsWith(siteUrl), child).toBe(true);
      const key = child.slice(siteUrl.length);
      expect(await exists(site(key)), `${child} in the store`).toBe(true);
      const xml = await readSite(key);
      expect(xml, child).toMatch(
        /<urlset xmlns="http:\/\/www\.sitemaps\.org\/schemas\/sitemap\/0\.9" xmlns:image="http:\/\/www\.google\.com\/schemas\/sitemap-image\/1\.1">/,
      );
      pages.push(...locs(xml));
      // A release's image (its card): there too.
      for (const m of xml.matchAll(/<image:loc>([^<]*)<\/image:loc>/g)) pages.push(m[1] ?? '');
    }
    expect(pages.filter((p) => p.endsWith('/card.png')).length).toBeGreaterThan(0);
    for (const page of pages) {
      expect(page.startsWith(siteUrl), page).toBe(true);
      expect(await exists(site(page.slice(siteUrl.length))), `${page} in the store`).toBe(true);
    }
    for (const r of publicReleases()) expect(pages).toContain(`${siteUrl}releases/${r.slug}/index.html`);
    expect(pages.filter((p) => p.includes(privateRelease.slug))).toEqual([]);
  });
});

describe('pressroom archive export', () => {
  const releaseFiles = ['email.html', 'page.html', 'publication.json', 'release.txt', 'source.md'];

  it('writes a ZIP of every release, and one of a year; refuses an invalid --year', async () => {
    const [all, year, invalid] = await Promise.all([
      pressroom(['archive', 'export', '--out', 'exports/all.zip']),
      pressroom(['archive', 'export', '--year', '2021', '--out', 'exports/2021.zip']),
      pressroom(['archive', 'export', '--year', '21', '--out', 'exports/bad.zip']),
    ]);
    expectExit(invalid, 1);
    expect(invalid.stderr).toContain('--year must be a year such as 2021');
    expect(invalid.stderr).toContain('"21"');
    expect(await exists(path.join(work, 'exports/bad.zip'))).toBe(false);

    expectExit(all, 0);
    expect(all.stdout).toContain('Exported 4 release(s)');
    expectExit(year, 0);
    expect(year.stdout).toContain('Exported 1 release(s)');

    const zip = await readZip(path.join(work, 'exports/all.zip'));
    const attachment = await readFile(path.join(work, 'examples/publications', barometer.attachment));
    // The barometer's press kit image: its original, web size and thumbnail.
    const pressKit = [
      'files/images/barometer-chart.jpg',
      'images/web/barometer-chart.jpg',
      'images/thumbs/barometer-chart.jpg',
    ];
    const expected = new Map<string, string[]>([
      [barometer.slug, [...releaseFiles, 'release.pdf', `files/${barometer.attachment}`, ...pressKit]],
      [embargoed.slug, [...releaseFiles, `files/${barometer.attachment}`, ...pressKit]],
      [crise.slug, releaseFiles],
      [privateRelease.slug, releaseFiles],
    ]);
    expect([...zip.keys()].sort()).toEqual(
      [...[...expected].flatMap(([slug, files]) => files.map((f) => `${slug}/${f}`)), 'index.csv'].sort(),
    );
    for (const [slug] of expected) {
      for (const name of releaseFiles)
        expect(zip.get(`${slug}/${name}`)?.length, `${slug}/${name}`).toBeGreaterThan(0);
      expect(JSON.parse(zip.get(`${slug}/publication.json`)?.toString() ?? '{}').slug).toBe(slug);
    }
    expect(zip.get(`${barometer.slug}/release.pdf`)?.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(zip.get(`${barometer.slug}/files/${barometer.attachment}`)?.equals(attachment)).toBe(true);
    expect(zip.get(`${embargoed.slug}/files/${barometer.attachment}`)?.equals(attachment)).toBe(true);
    expect(
      zip
        .get(`${barometer.slug}/files/images/barometer-chart.jpg`)
        ?.equals(await readFile(path.join(work, 'examples/publications/images/barometer-chart.jpg'))),
    ).toBe(true);
    expect(zip.get(`${privateRelease.slug}/source.md`)?.toString()).toBe(
      await readFile(path.join(work, privateRelease.file), 'utf8'),
    );
    expect(zip.get(`${crise.slug}/page.html`)?.toString()).toContain(crise.title);

    const csvText = zip.get('index.csv')?.toString('utf8') ?? '';
    const [header, ...rows] = parseCsv(csvText.replace(/^\uFEFF/, ''));
    expect(header).toEqual([
      'slug',
      'date',
      'title',
      'visibility',
      'embargo',
      'lang',
      'publishers',
      'tags',
      'files',
    ]);
    const bySlug = new Map(
      rows.map((r) => [r[0], Object.fromEntries(header?.map((h, i) => [h, r[i]]) ?? [])]),
    );
    expect([...bySlug.keys()].sort()).toEqual([...expected.keys()].sort());
    expect(bySlug.get(privateRelease.slug)).toMatchObject({
      date: privateRelease.date,
      title: privateRelease.title,
      visibility: 'private',
      lang: 'fr',
      publishers: 'Villes Internet | Villes de France',
    });
    expect(bySlug.get(crise.slug)).toMatchObject({ title: crise.title, visibility: 'public' });
    expect(bySlug.get(barometer.slug)?.files?.split(' | ').sort()).toEqual(
      expected.get(barometer.slug)?.slice().sort(),
    );
    expect(bySlug.get(embargoed.slug)?.tags).toContain(embargoed.tag.name);

    const yearZip = await readZip(path.join(work, 'exports/2021.zip'));
    expect([...yearZip.keys()].sort()).toEqual(
      [...releaseFiles.map((f) => `${crise.slug}/${f}`), 'index.csv'].sort(),
    );
    const yearRows = parseCsv((yearZip.get('index.csv')?.toString('utf8') ?? '').replace(/^\uFEFF/, ''));
    expect(yearRows.slice(1).map((r) => [r[0], r[1], r[3]])).toEqual([[crise.slug, crise.date, 'public']]);
  });
});

describe('pressroom serve', () => {
  it('serves the press room index at /', async () => {
    const response = await fetchServer('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const body = await response.text();
    expect(body).toBe(await readSite('index.html'));
    expect(body).toContain(crise.title);

    const release = await fetchServer(`/releases/${barometer.slug}/`);
    expect(release.status).toBe(200);
    expect(await release.text()).toBe(await readSite(`releases/${barometer.slug}/index.html`));
  });

  it('answers 404 to paths that try to leave site/ with ..', async () => {
    const secret = (await readFile(path.join(data, '.pressroom-store', 'secret'), 'utf8')).trim();
    const attempts = [
      '/../catalog/tags.json',
      '/%2e%2e/catalog/tags.json',
      '/..%2fcatalog%2ftags.json',
      '/%2e%2e%2fcatalog%2ftags.json',
      '/releases/..%2f..%2fcatalog%2ftags.json',
      '/..%2f.pressroom-store%2fsecret',
      '/..%5ccatalog%5ctags.json',
      `/..%2farchive%2f${barometer.slug}%2frelease.json`,
      '/_preview/..%2f..%2fcatalog%2ftags',
    ];
    for (const attempt of attempts) {
      const { status, body } = await rawGet(attempt);
      expect(status, attempt).toBe(404);
      expect(body, attempt).not.toContain(secret);
      expect(body, attempt).not.toContain('"tags"');
    }
  });

  it('answers 405 to POST', async () => {
    const response = await fetchServer('/', { method: 'POST', body: 'x' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('logs one line per request, without signatures, and stops with exit 0 on SIGTERM', async () => {
    if (!server) throw new Error('the server did not start: see the error of beforeAll');
    const deadline = Date.now() + 10_000;
    while (requestLogLines(server.stdout()).length < requestsSent && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await stopServer(server, 'SIGTERM')).toEqual({ code: 0, signal: null });

    const stdout = server.stdout();
    expect(stdout).toContain('stopping');
    const lines = requestLogLines(stdout);
    expect(lines).toHaveLength(requestsSent);
    expect(lines.filter((l) => l.startsWith('POST / 405 '))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('GET /_signed/')).length).toBeGreaterThan(5);
    expect(stdout).not.toContain('signature=');
  });
});
