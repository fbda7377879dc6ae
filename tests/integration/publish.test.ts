import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { parseFeed } from '@rowanmanning/feed-parser';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { catalogKeys, readPending, readYear } from '../../lambdas/core/archive/catalog.ts';
import { exportArchive } from '../../lambdas/core/archive/export.ts';
import { archiveKeys, readManifest } from '../../lambdas/core/archive/manifest.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import {
  PdfUnavailableError,
  type PrintedDocument,
  printedRelease,
  publishRelease,
  releaseDueEmbargoes,
  SlugTakenError,
  signedReleaseLinks,
} from '../../lambdas/core/archive/publish.ts';
import type { Publication } from '../../lambdas/core/publication/schema.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { getText, listAll, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { releaseDeps, siteUrl } from '../support/dispatch-fixtures.ts';
import { memoryFiles, publicationText, villesInternet } from '../support/memory-files.ts';

let templates: TemplateSet;
const roots: string[] = [];

beforeAll(async () => {
  templates = await loadTemplateFiles();
});
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** A fresh store and workspace; `clock.now` can be moved. */
async function setup(workspace: Record<string, string | Uint8Array> = {}) {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-publish-'));
  roots.push(root);
  const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
  const clock = { now: new Date('2026-01-15T09:00:00Z') };
  const files: Record<string, string | Uint8Array> = {
    'organizations/villes-internet.yaml': villesInternet,
    ...workspace,
  };
  const deps = releaseDeps(store, templates, memoryFiles(files), () => clock.now);
  return { store, clock, files, deps };
}

const release = (title: string, extra = '') =>
  publicationText(extra).replace(/^title: .*$/m, `title: "${title}"`);
const site = (store: ObjectStore, key: string) => getText(store, key).then((t) => t ?? '');
async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of listAll(store, prefix)) keys.push(item.key);
  return keys;
}

describe('publishRelease', () => {
  it('archives every format and lists the release in the press room and feeds', async () => {
    const { store, deps } = await setup({
      'publications/a.md': release('Étude sur les villes', 'tags: [Numérique]\n'),
    });
    const result = await publishRelease('publications/a.md', deps);
    expect(result).toMatchObject({ slug: 'etude-sur-les-villes', action: 'created', state: 'public' });
    expect(result.url).toBe(`${siteUrl}releases/etude-sur-les-villes/index.html`);
    expect(result.pdf).toEqual({ stored: false, reason: 'no PDF printer configured' });

    const manifest = await readManifest(store, 'etude-sur-les-villes');
    const prefix = archiveKeys.version('etude-sur-les-villes', manifest.version);
    expect((await keysUnder(store, prefix)).map((k) => k.slice(prefix.length)).sort()).toEqual([
      'email.html',
      'email.txt',
      'page.html',
      'public/email.html',
      'public/index.html',
      'public/release.txt',
      'publication.json',
      'source.md',
    ]);
    expect(await site(store, `${prefix}source.md`)).toBe(
      release('Étude sur les villes', 'tags: [Numérique]\n'),
    );
    expect(await site(store, `${prefix}email.html`)).toContain('{{unsubscribeUrl}}');
    const publicEmail = await site(store, `${prefix}public/email.html`);
    expect(publicEmail).not.toContain('{{');
    expect(publicEmail).not.toContain('Se désabonner');
    expect(publicEmail).toContain('Bonjour,');

    expect(await site(store, siteKeys.index)).toContain('Étude sur les villes');
    expect(await site(store, siteKeys.year('2021'))).toContain('releases/etude-sur-les-villes/index.html');
    expect(await site(store, siteKeys.tag('numerique'))).toContain('Étude sur les villes');
    expect(await site(store, siteKeys.rss)).toContain(
      `<link>${siteUrl}releases/etude-sur-les-villes/index.html</link>`,
    );
    expect(await site(store, siteKeys.release('etude-sur-les-villes'))).toContain('../../index.html');
    expect(await site(store, siteKeys.sitemap)).toContain(`${siteUrl}sitemaps/2021.xml`);
  });

  it('updates a release in place when the same file is published again', async () => {
    const { store, deps, files } = await setup({ 'publications/a.md': release('Premier titre') });
    const first = await publishRelease('publications/a.md', deps);
    files['publications/a.md'] = release('Premier titre', 'slug: premier-titre\nsubtitle: Corrigé\n');
    const second = await publishRelease('publications/a.md', deps);
    expect(second).toMatchObject({ slug: 'premier-titre', action: 'updated' });
    expect(await keysUnder(store, archiveKeys.version('premier-titre', first.version))).toEqual([]);
    expect(await readYear(store, '2021')).toHaveLength(1);
    expect(await site(store, siteKeys.release('premier-titre'))).toContain('Corrigé');
  });

  it('refuses another file with the same slug unless told to replace', async () => {
    const { store, deps } = await setup({
      'publications/a.md': release('Même titre'),
      'publications/b.md': release('Même titre', 'subtitle: Autre\n'),
    });
    await publishRelease('publications/a.md', deps);
    const before = await readManifest(store, 'meme-titre');
    const refused = publishRelease('publications/b.md', deps);
    await expect(refused).rejects.toBeInstanceOf(SlugTakenError);
    await expect(refused).rejects.toThrow(/already used by \S*publications\/a\.md.*--replace/);
    expect(await readManifest(store, 'meme-titre')).toEqual(before);
    const replaced = await publishRelease('publications/b.md', deps, { replace: true });
    expect(replaced.action).toBe('replaced');
    expect(await site(store, siteKeys.release('meme-titre'))).toContain('Autre');
  });

  it('keeps an embargoed release out of the press room until the embargo passes', async () => {
    const { store, deps, clock } = await setup({
      'publications/a.md': release(
        'Annonce sous embargo',
        'embargo: 2026-01-20T08:00:00+01:00\ntags: [secret]\n',
      ),
    });
    const result = await publishRelease('publications/a.md', deps);
    expect(result.state).toBe('embargoed');
    expect(result.url).toBeUndefined();
    for (const key of [siteKeys.index, siteKeys.year('2021'), siteKeys.rss, siteKeys.atom, siteKeys.json]) {
      expect(await site(store, key)).not.toContain('Annonce sous embargo');
    }
    expect(await site(store, siteKeys.index)).not.toContain('secret');
    expect(await keysUnder(store, siteKeys.releasePrefix('annonce-sous-embargo'))).toEqual([]);
    expect(await readPending(store)).toEqual({ 'annonce-sous-embargo': '2026-01-20T07:00:00.000Z' });

    clock.now = new Date('2026-01-20T06:59:00Z');
    expect(await releaseDueEmbargoes(deps)).toEqual([]);
    clock.now = new Date('2026-01-20T07:00:00Z');
    expect(await releaseDueEmbargoes(deps)).toEqual(['annonce-sous-embargo']);
    expect(await site(store, siteKeys.index)).toContain('Annonce sous embargo');
    expect(await site(store, siteKeys.rss)).toContain('Annonce sous embargo');
    expect(await site(store, siteKeys.tag('secret'))).toContain('Annonce sous embargo');
    expect(await keysUnder(store, siteKeys.releasePrefix('annonce-sous-embargo'))).toContain(
      siteKeys.release('annonce-sous-embargo'),
    );
    expect(await readPending(store)).toEqual({});
    expect(await releaseDueEmbargoes(deps)).toEqual([]);
  });

  it('keeps private releases out of the press room, and takes a release out when it turns private', async () => {
    const { store, deps, files } = await setup({ 'publications/a.md': release('Note interne') });
    await publishRelease('publications/a.md', deps);
    expect(await site(store, siteKeys.index)).toContain('Note interne');
    files['publications/a.md'] = release('Note interne', 'visibility: private\n');
    const result = await publishRelease('publications/a.md', deps);
    expect(result.state).toBe('private');
    expect(await site(store, siteKeys.index)).not.toContain('Note interne');
    expect(await site(store, siteKeys.year('2021'))).not.toContain('Note interne');
    expect(await keysUnder(store, siteKeys.releasePrefix('note-interne'))).toEqual([]);
    const manifest = await readManifest(store, 'note-interne');
    const url = new URL(
      await store.signedUrl(`${archiveKeys.version('note-interne', manifest.version)}page.html`, {
        expiresInSeconds: 60,
      }),
    );
    expect(store.verifySignedUrl(url.pathname + url.search)).toMatchObject({ ok: true });
  });

  it('moves a release between years and tags when its date and tags change', async () => {
    const { store, deps, files } = await setup({ 'publications/a.md': release('Bilan', 'tags: [ancien]\n') });
    await publishRelease('publications/a.md', deps);
    files['publications/a.md'] = release('Bilan', 'tags: [nouveau]\n').replace(
      'date: 2021-06-08',
      'date: 2022-01-10',
    );
    await publishRelease('publications/a.md', deps);
    expect(await readYear(store, '2021')).toEqual([]);
    expect(await site(store, siteKeys.year('2021'))).not.toContain('Bilan');
    expect(await site(store, siteKeys.year('2022'))).toContain('Bilan');
    expect(await site(store, siteKeys.tag('ancien'))).not.toContain('Bilan');
    expect(await site(store, siteKeys.tag('nouveau'))).toContain('Bilan');
    expect(await site(store, siteKeys.index)).not.toContain('ancien');
  });

  it('leaves the previous release and press room intact when a write fails half-way', async () => {
    const { store, deps, files } = await setup({ 'publications/a.md': release('Version stable') });
    await publishRelease('publications/a.md', deps);
    const manifest = await readManifest(store, 'version-stable');
    const index = await site(store, siteKeys.index);
    const page = await site(store, siteKeys.release('version-stable'));
    files['publications/a.md'] = release('Version stable', 'subtitle: Version cassée\n');
    let puts = 0;
    const flaky: ObjectStore = Object.create(store, {
      put: {
        value: (
          key: string,
          ...rest: Parameters<ObjectStore['put']> extends [string, ...infer R] ? R : never
        ) => {
          if (++puts === 4) return Promise.reject(new Error('disk full'));
          return store.put(key, ...rest);
        },
      },
    });
    await expect(publishRelease('publications/a.md', { ...deps, store: flaky })).rejects.toThrow('disk full');
    expect(await readManifest(store, 'version-stable')).toEqual(manifest);
    expect(await site(store, siteKeys.index)).toBe(index);
    expect(await site(store, siteKeys.release('version-stable'))).toBe(page);
    expect(
      await site(store, `${archiveKeys.version('version-stable', manifest.version)}page.html`),
    ).toContain('Version stable');
  });

  it('stores a PDF when a printer is there, and goes on without one when it is not', async () => {
    const { store, deps } = await setup({
      'publications/a.md': release(
        'Avec PDF',
        'tags: [numérique, gestion de crise]\nembargo: 2021-06-08 08:00 Europe/Paris\n',
      ).replace(/^lead: .*$/m, 'lead: Une *étude* inédite.'),
      'publications/b.md': release('Sans PDF'),
    });
    const documents: (PrintedDocument | undefined)[] = [];
    const dispositions = new Map<string, string | undefined>();
    const put = store.put.bind(store);
    store.put = (key, body, options) => {
      dispositions.set(key, options?.contentDisposition);
      return put(key, body, options);
    };
    // The press room's copies are streamed from the archive.
    const putStream = store.putStream.bind(store);
    store.putStream = (key, body, options) => {
      dispositions.set(key, options?.contentDisposition);
      return putStream(key, body, options);
    };
    const printed = await publishRelease('publications/a.md', {
      ...deps,
      printer: {
        print: async (_html, document) => {
          documents.push(document);
          return new TextEncoder().encode('%PDF-1.7 test');
        },
      },
    });
    expect(printed.pdf).toEqual({ stored: true });
    // The footer's title and the PDF's document information: the lead as text, the embargo's
    // time on the release's day, and this publication as its last modification.
    // The press room's copy saves as <slug>.pdf (S3 serves the metadata).
    expect(documents).toEqual([
      {
        title: 'Avec PDF',
        authors: ['Villes Internet'],
        subject: 'Une étude inédite.',
        keywords: ['numérique', 'gestion de crise'],
        lang: 'fr',
        date: '2021-06-08T08:00:00+02:00',
        modified: '2026-01-15T09:00:00.000Z',
      },
    ]);
    expect(await site(store, 'site/releases/avec-pdf/release.pdf')).toBe('%PDF-1.7 test');
    // The email and its text part link to the PDF once it exists.
    expect(await site(store, 'site/releases/avec-pdf/email.html')).toMatch(
      /href="[^"]*releases\/avec-pdf\/release\.pdf"/,
    );
    expect(await site(store, 'site/releases/avec-pdf/release.txt')).toMatch(
      /^- PDF[\u00a0 ]: \S*releases\/avec-pdf\/release\.pdf$/m,
    );
    expect(dispositions.get('site/releases/avec-pdf/release.pdf')).toMatch(
      /^inline; filename="avec-pdf\.pdf"/,
    );
    // A signed link to it downloads under the same name.
    const [link] = await signedReleaseLinks(store, 'avec-pdf', { format: 'pdf', expiresInSeconds: 60 });
    const signed = new URL(link?.url ?? '');
    expect(store.verifySignedUrl(signed.pathname + signed.search)).toMatchObject({
      ok: true,
      downloadName: 'avec-pdf.pdf',
    });
    expect(await site(store, siteKeys.release('avec-pdf'))).toContain(
      '<a href="release.pdf" download="avec-pdf.pdf">',
    );

    const skipped = await publishRelease('publications/b.md', {
      ...deps,
      printer: {
        print: async () => {
          throw new PdfUnavailableError('no Chromium at /nope');
        },
      },
    });
    expect(skipped.pdf).toEqual({ stored: false, reason: 'no Chromium at /nope' });
    expect(await site(store, siteKeys.release('sans-pdf'))).not.toContain('release.pdf');
    expect(await site(store, siteKeys.index)).not.toContain('releases/sans-pdf/release.pdf');
    expect(await site(store, 'site/releases/sans-pdf/email.html')).not.toContain('release.pdf');
    expect(await site(store, 'site/releases/sans-pdf/release.txt')).not.toContain('release.pdf');
  });

  it('escapes data in the press room pages and feeds', async () => {
    const { store, deps } = await setup({
      'publications/a.md': release(
        '<script>alert(1)</script> & co',
        'slug: hostile\ntags: ["<b>x</b>"]\n',
      ).replace(/^lead: .*$/m, 'lead: "Texte \\\\<img src=x onerror=alert(2)> fin"'),
    });
    await publishRelease('publications/a.md', deps);
    for (const key of [
      siteKeys.index,
      siteKeys.year('2021'),
      siteKeys.tag('b-x-b'),
      siteKeys.release('hostile'),
    ]) {
      const text = await site(store, key);
      expect(text, key).not.toContain('<script>alert');
      expect(text, key).not.toContain('<b>x</b>');
      expect(text, key).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
    }
    // Feed titles are text: a feed parser gives them back exactly, never as markup.
    for (const key of [siteKeys.rss, siteKeys.atom]) {
      const raw = await site(store, key);
      const feed = parseFeed(raw);
      expect(feed.items[0]?.title, key).toBe('<script>alert(1)</script> & co');
      // The summary is HTML for readers: the lead's "<img ...>" is text in it, escaped.
      expect(feed.items[0]?.description, key).toBe('Texte <img src=x onerror=alert(2)> fin');
      expect(raw, key).not.toContain('<img src=x');
    }
    expect(JSON.parse(await site(store, siteKeys.json)).items[0].title).toBe(
      '<script>alert(1)</script> & co',
    );
  });

  it('writes a bounded number of press room objects, whatever the archive holds', async () => {
    const workspace: Record<string, string> = {};
    for (let i = 0; i < 12; i++) {
      workspace[`publications/p${i}.md`] = release(`Communiqué ${i}`, `tags: [t${i % 3}]\n`).replace(
        'date: 2021-06-08',
        `date: ${2015 + (i % 6)}-03-0${1 + (i % 8)}`,
      );
    }
    const { deps } = await setup(workspace);
    const written = [];
    for (let i = 0; i < 12; i++)
      written.push((await publishRelease(`publications/p${i}.md`, deps)).siteObjectsWritten);
    // Release files + its year page and sitemap + its tag page + home, 3 feeds, sitemap index and
    // pages sitemap, robots.txt + its year's search index, search/index.json and the search page.
    expect(new Set(written.slice(6)).size).toBe(1);
    expect(written.at(-1)).toBeLessThanOrEqual(4 + 2 + 1 + 1 + 3 + 2 + 1 + 3);
    expect(await getText(deps.store, catalogKeys.tags)).toContain('t2');
  });
});

describe('printedRelease: what the PDF says about its release', () => {
  const publication: Publication = {
    slug: 'etude',
    title: 'Étude',
    date: '2021-06-08',
    lang: 'en',
    lead: 'A **new** study.',
    body: '',
    publishers: [
      { id: 'a', name: 'A & Co', about: 'A.' },
      { id: 'b', name: 'B', about: 'B.' },
    ],
    quotes: [],
    figures: [],
    links: [],
    attachments: [],
    images: [],
    tags: [],
    visibility: 'public',
    source: 'a.md',
  };

  it('dates the PDF the release’s day, with the embargo’s time only when the embargo ends that day', () => {
    expect(printedRelease(publication, '2021-06-08T00:00:00.000Z')).toEqual({
      title: 'Étude',
      authors: ['A & Co', 'B'],
      subject: 'A new study.',
      keywords: [],
      lang: 'en',
      date: '2021-06-08',
    });
    const embargoed = { ...publication, embargo: '2021-06-08T08:00:00+02:00' };
    expect(printedRelease(embargoed, '2021-06-01T10:00:00.000Z')).toMatchObject({
      date: '2021-06-08T08:00:00+02:00',
    });
    const dayBefore = { ...publication, embargo: '2021-06-07T18:00:00+02:00' };
    expect(printedRelease(dayBefore, '2021-06-01T10:00:00.000Z').date).toBe('2021-06-08');
  });

  it('gives the publication as its modification only when it comes after that date', () => {
    const embargoed = { ...publication, embargo: '2021-06-08T08:00:00+02:00' };
    // Published before the embargo ends: the PDF is as new as the release.
    expect(printedRelease(embargoed, '2021-06-08T05:59:59.000Z')).not.toHaveProperty('modified');
    expect(printedRelease(embargoed, '2021-06-08T06:00:01.000Z').modified).toBe('2021-06-08T06:00:01.000Z');
  });
});

describe('exportArchive', () => {
  it('writes every format and attachment of the chosen releases, with an index.csv', async () => {
    const { deps } = await setup({
      'publications/a.md': release(
        '=Rapport 2021',
        'slug: rapport\nattachments: [{ file: annexe.txt, label: Annexe }]\n',
      ),
      'publications/annexe.txt': 'annexe',
      'publications/b.md': release('Note 2022', 'slug: note\nvisibility: private\n').replace(
        'date: 2021-06-08',
        'date: 2022-02-02',
      ),
    });
    await publishRelease('publications/a.md', deps);
    await publishRelease('publications/b.md', deps);
    const all = await zipEntries(deps.store, {});
    expect(Object.keys(all).sort()).toEqual([
      'index.csv',
      'note/email.html',
      'note/page.html',
      'note/publication.json',
      'note/release.txt',
      'note/source.md',
      'rapport/email.html',
      'rapport/files/annexe.txt',
      'rapport/page.html',
      'rapport/publication.json',
      'rapport/release.txt',
      'rapport/source.md',
    ]);
    expect(all['rapport/files/annexe.txt']).toBe('annexe');
    const csv = all['index.csv'] ?? '';
    expect(csv.startsWith('\uFEFFslug,date,title,visibility,embargo,lang,publishers,tags,files\n')).toBe(
      true,
    );
    expect(csv).toContain("rapport,2021-06-08,'=Rapport 2021,public,");
    expect(csv).toContain('note,2022-02-02,Note 2022,private,');
    const only2021 = await zipEntries(deps.store, { year: '2021' });
    expect(Object.keys(only2021).filter((k) => k.startsWith('note/'))).toEqual([]);
    expect(only2021['index.csv']?.split('\n').filter(Boolean)).toHaveLength(2);
  });
});

describe('press kit images', () => {
  it('archive the original with its hash, publish the made sizes beside it, and go into the ZIP export', async () => {
    const photo = await sharp({ create: { width: 2400, height: 1200, channels: 3, background: '#0b5fa5' } })
      .jpeg()
      .toBuffer();
    const { deps } = await setup({
      'publications/a.md': release(
        'Rapport 2021',
        'slug: rapport\nimages:\n  - { file: photos/une.jpg, alt: La une }\n',
      ),
      'publications/photos/une.jpg': photo,
    });
    const { version } = await publishRelease('publications/a.md', deps);
    const manifest = await readManifest(deps.store, 'rapport');
    expect(manifest.images).toEqual([
      {
        original: 'files/photos/une.jpg',
        sha256: createHash('sha256').update(photo).digest('hex'),
        bytes: photo.byteLength,
        format: 'jpeg',
        width: 2400,
        height: 1200,
        web: 'images/web/une.jpg',
        thumbnail: 'images/thumbs/une.jpg',
      },
    ]);
    expect(manifest.files).toEqual(
      expect.arrayContaining(['files/photos/une.jpg', 'images/web/une.jpg', 'images/thumbs/une.jpg']),
    );
    const archived = await deps.store.get(`${archiveKeys.version('rapport', version)}files/photos/une.jpg`);
    expect(Buffer.from(archived?.body ?? []).equals(photo)).toBe(true);
    const sitePrefix = siteKeys.releasePrefix('rapport');
    expect(await keysUnder(deps.store, sitePrefix)).toEqual(
      expect.arrayContaining([
        `${sitePrefix}files/photos/une.jpg`,
        `${sitePrefix}images/web/une.jpg`,
        `${sitePrefix}images/thumbs/une.jpg`,
      ]),
    );
    expect((await deps.store.head(`${sitePrefix}images/web/une.jpg`))?.contentType).toBe('image/jpeg');
    const page = await site(deps.store, siteKeys.release('rapport'));
    expect(page).toContain(`src="${siteUrl}releases/rapport/images/thumbs/une.jpg"`);
    expect(page).toContain('href="files/photos/une.jpg" download="une.jpg"');
    const entries = await zipEntries(deps.store, {});
    expect(Object.keys(entries)).toEqual(
      expect.arrayContaining([
        'rapport/files/photos/une.jpg',
        'rapport/images/web/une.jpg',
        'rapport/images/thumbs/une.jpg',
      ]),
    );
  });
});

/** Exports into memory and reads the ZIP back with yauzl: entry name → text. */
async function zipEntries(store: ObjectStore, options: { year?: string }): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await exportArchive(store, sink, options);
  const zip = await promisify<Buffer, yauzl.Options, yauzl.ZipFile>(yauzl.fromBuffer)(Buffer.concat(chunks), {
    lazyEntries: true,
  });
  const out: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, async (error, stream) => {
        if (error || !stream) return reject(error);
        out[entry.fileName] = (await buffer(stream)).toString('utf8');
        zip.readEntry();
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return out;
}
