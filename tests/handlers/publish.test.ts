import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import type { ReleaseManifest } from '../../lambdas/core/archive/manifest.ts';
import { adminDraftMark } from '../../lambdas/core/publication/upload.ts';
import { getJson, getText } from '../../lambdas/core/store/object-store.ts';
import { handler, type PublicationReport, reportKeyOf } from '../../lambdas/handlers/publish.ts';
import { examples, objectCreated, publishWorldForFile, SITE_URL, snapshot, versionsOf } from './harness.ts';

const world = publishWorldForFile();

const seed = () =>
  readFile(path.join(examples, 'publications', '2021-06-08-numerique-gestion-de-crise.md'), 'utf8');
const seedSlug = 'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes';
// A key with spaces and accents: S3 sends it URL-encoded, spaces as "+".
const seedKey = 'publications/Numérique et gestion de crise.md';

describe('publish handler (S3 ObjectCreated → archive and press room, on s3rver)', () => {
  it('publishes an uploaded publication: archive, press room pages and feeds, its PDF', async () => {
    const event = await world.upload(seedKey, await seed());
    expect(event.Records[0]?.s3.object.key).toBe('publications/Num%C3%A9rique+et+gestion+de+crise.md');

    const outcomes = await handler(event);

    expect(outcomes).toEqual([
      { key: seedKey, outcome: 'published', slug: seedSlug, state: 'public', action: 'created' },
    ]);
    const manifest = await getJson<ReleaseManifest>(world.store, `archive/${seedSlug}/release.json`);
    expect(manifest?.value.source.path).toBe(`/${seedKey}`);
    expect(manifest?.value.summary.title).toBe(
      'Gestion de crise avec le numérique\u00a0: les villes moyennes résilientes',
    );
    // Both publishers' organisation files were read from the bucket.
    const data = await getText(
      world.store,
      `archive/${seedSlug}/${manifest?.value.version}/publication.json`,
    );
    expect(JSON.parse(data ?? '{}').publishers.map((p: { name: string }) => p.name)).toEqual([
      'Villes Internet',
      'Villes de France',
    ]);
    // Printed by Chromium (tests/harness/pdf.test.ts reads it back, from the layer's Chromium).
    expect(manifest?.value.files).toContain('release.pdf');
    expect(manifest?.value.summary.formats.pdf).toBe(true);
    expect(await world.store.head(`site/releases/${seedSlug}/release.pdf`)).toBeDefined();

    const page = await getText(world.store, `site/releases/${seedSlug}/index.html`);
    expect(page).toContain('les villes moyennes résilientes');
    const index = await getText(world.store, 'site/index.html');
    expect(index).toContain('Salle de presse des villes');
    expect(index).toContain(`releases/${seedSlug}/`);
    const feed = await getText(world.store, 'site/feed.xml');
    expect(feed).toContain(`${SITE_URL}releases/${seedSlug}/`);
    expect(await world.store.head(reportKeyOf(seedKey))).toBeUndefined();
  });

  it('reads attachments from beside the publication and publishes them with the release', async () => {
    const key = 'publications/2024-03-12-open-data-barometer.md';
    const text = await readFile(
      path.join(examples, 'publications', '2024-03-12-open-data-barometer.md'),
      'utf8',
    );
    const outcomes = await handler(await world.upload(key, text));
    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'published', slug: 'open-data-barometer-2024' }),
    ]);
    const site = Object.keys(await snapshot(world.store, 'site/releases/open-data-barometer-2024/'));
    expect(site).toContain(
      'site/releases/open-data-barometer-2024/files/attachments/open-data-barometer-summary.txt',
    );
    // Its press kit image: the original as given, the sizes made by sharp in the handler.
    expect(site).toEqual(
      expect.arrayContaining([
        'site/releases/open-data-barometer-2024/files/images/barometer-chart.jpg',
        'site/releases/open-data-barometer-2024/images/web/barometer-chart.jpg',
        'site/releases/open-data-barometer-2024/images/thumbs/barometer-chart.jpg',
      ]),
    );
    const attachment = await getText(
      world.store,
      'site/releases/open-data-barometer-2024/files/attachments/open-data-barometer-summary.txt',
    );
    expect(attachment).toBe(
      await readFile(
        path.join(examples, 'publications', 'attachments', 'open-data-barometer-summary.txt'),
        'utf8',
      ),
    );
  });

  it('a redelivered event publishes the same release again: one release, one version, same pages', async () => {
    const before = await getJson<ReleaseManifest>(world.store, `archive/${seedSlug}/release.json`);
    const event = await world.upload(seedKey, await seed());
    await handler(event);
    const outcomes = await handler(event);
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'published', action: 'updated' })]);
    const after = await getJson<ReleaseManifest>(world.store, `archive/${seedSlug}/release.json`);
    expect(after?.value.summary.publishedAt).toBe(before?.value.summary.publishedAt);
    expect(after?.value.source.sha256).toBe(before?.value.source.sha256);
    const versions = await versionsOf(world.store, `archive/${seedSlug}/`, 'release.json');
    expect(versions).toEqual(new Set([after?.value.version]));
    const year = await getJson<{ releases: { slug: string }[] }>(world.store, 'catalog/years/2021.json');
    expect(year?.value.releases.filter((r) => r.slug === seedSlug)).toHaveLength(1);
  });

  it('a bad publication gets <name>.errors.json with line, field and value; archive and press room untouched', async () => {
    const archiveBefore = await snapshot(world.store, 'archive/');
    const siteBefore = await snapshot(world.store, 'site/');
    const catalogBefore = await snapshot(world.store, 'catalog/');
    const key = 'publications/2021/communiqué cassé.md';
    const broken = (await seed())
      .replace('date: 2021-06-08', 'date: 2021-06-31')
      .replace('author: Michaël Bideault', 'auteur: Michaël Bideault');

    const outcomes = await handler(await world.upload(key, broken));

    const reportKey = 'publications/2021/communiqué cassé.errors.json';
    expect(outcomes).toEqual([{ key, outcome: 'rejected', report: reportKey, problems: 2 }]);
    const report = await getJson<PublicationReport>(world.store, reportKey);
    expect(report?.value.publication).toBe(key);
    expect(report?.value.problems).toEqual([
      {
        file: `/${key}`,
        line: 3,
        column: 7,
        field: 'date',
        value: '2021-06-31',
        message: expect.stringContaining('real calendar date'),
      },
      expect.objectContaining({
        line: 29,
        field: 'auteur',
        message: expect.stringContaining('unknown field'),
      }),
    ]);
    expect(report?.value.message).toContain(`/${key}:3:7 date:`);
    expect(await snapshot(world.store, 'archive/')).toEqual(archiveBefore);
    expect(await snapshot(world.store, 'site/')).toEqual(siteBefore);
    expect(await snapshot(world.store, 'catalog/')).toEqual(catalogBefore);
  });

  it('a fixed publication is published and its stale report removed', async () => {
    const key = 'publications/2021/communiqué cassé.md';
    const reportKey = 'publications/2021/communiqué cassé.errors.json';
    const fixed = (await seed()).replace(
      /^title: .*$/m,
      'title: "Villes moyennes : une seconde étude"\nslug: villes-moyennes-seconde-etude',
    );
    // Still wrong: an organisation id with a typo, looked up in publications/2021/organizations/
    // and then in publications/organizations/.
    const typo = fixed.replace('  - villes-internet\n', '  - villes-internett\n');
    expect(await handler(await world.upload(key, typo))).toEqual([
      expect.objectContaining({ outcome: 'rejected', problems: 1 }),
    ]);
    const report = await getJson<PublicationReport>(world.store, reportKey);
    expect(report?.value.problems).toEqual([
      expect.objectContaining({ field: 'publishers[0]', value: 'villes-internett', line: 11 }),
    ]);

    const outcomes = await handler(await world.upload(key, fixed));
    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'published', slug: 'villes-moyennes-seconde-etude' }),
    ]);
    expect(await world.store.head(reportKey)).toBeUndefined();
    expect(await world.store.head('archive/villes-moyennes-seconde-etude/release.json')).toBeDefined();
  });

  it('another file with a taken slug is refused in its report; the release stays the first file’s', async () => {
    const before = await snapshot(world.store, `archive/${seedSlug}/`);
    const key = 'publications/copie.md';
    const outcomes = await handler(await world.upload(key, await seed()));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'rejected', problems: 1 })]);
    const report = await getJson<PublicationReport>(world.store, 'publications/copie.errors.json');
    expect(report?.value.problems).toEqual([
      expect.objectContaining({
        field: 'slug',
        message: expect.stringContaining(`already used by /${seedKey}`),
      }),
    ]);
    expect(report?.value.problems[0]?.message).not.toContain('--replace');
    expect(await snapshot(world.store, `archive/${seedSlug}/`)).toEqual(before);
  });

  it('a press kit image that cannot be decoded gets the release refused, with its line, in the report', async () => {
    const original = await readFile(path.join(examples, 'publications', 'images', 'barometer-chart.jpg'));
    await world.upload('publications/2021/images/coupee.jpg', original.subarray(0, 3000));
    const key = 'publications/2021/image coupée.md';
    const text = (await seed()).replace(
      'author: Michaël Bideault',
      'slug: image-coupee\nimages:\n  - { file: images/coupee.jpg, alt: Une photo }\nauthor: Michaël Bideault',
    );
    const outcomes = await handler(await world.upload(key, text));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'rejected', problems: 1 })]);
    const report = await getJson<PublicationReport>(world.store, reportKeyOf(key));
    expect(report?.value.problems).toEqual([
      expect.objectContaining({
        field: 'images[0].file',
        value: 'images/coupee.jpg',
        line: expect.any(Number),
        message: expect.stringContaining('cannot be read as an image'),
      }),
    ]);
  });

  it("ignores its own reports, other files, other prefixes, replaced objects and the web admin's drafts", async () => {
    const before = {
      ...(await snapshot(world.store, 'archive/')),
      ...(await snapshot(world.store, 'site/')),
    };
    const report = await world.store.head('publications/copie.errors.json');
    const organisation = await world.store.head('publications/organizations/villes-internet.yaml');
    const replaced = await world.upload('publications/remplacé.md', await seed());
    const replacedRecord = replaced.Records[0];
    if (!replacedRecord) throw new Error('no record');
    replacedRecord.s3.object.eTag = '0123456789abcdef0123456789abcdef'; // an older upload's
    const draft = await world.store.put('publications/brouillon.md', await seed(), {
      metadata: { [adminDraftMark.name]: adminDraftMark.value },
    });
    const events = [
      objectCreated('publications/copie.errors.json', report?.version ?? ''),
      objectCreated('publications/organizations/villes-internet.yaml', organisation?.version ?? ''),
      await world.upload('publications/attachments/note.txt', 'une note'),
      await world.upload('drafts/brouillon.md', await seed()),
      objectCreated('publications/supprimé.md', 'abc'),
      replaced,
      objectCreated('publications/brouillon.md', draft.version),
    ];
    const outcomes = (await Promise.all(events.map((e) => handler(e)))).flat();
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(events.length).fill('ignored'));
    expect(outcomes.map((o) => (o.outcome === 'ignored' ? o.reason : ''))).toEqual([
      expect.stringContaining('not a publication'),
      expect.stringContaining('not a publication'),
      expect.stringContaining('not a publication'),
      expect.stringContaining('not under publications/'),
      expect.stringContaining('deleted'),
      expect.stringContaining('replaced since'),
      expect.stringMatching(/^a draft saved in the web admin/),
    ]);
    expect({
      ...(await snapshot(world.store, 'archive/')),
      ...(await snapshot(world.store, 'site/')),
    }).toEqual(before);
    expect(await world.store.head('publications/remplacé.errors.json')).toBeUndefined();
    expect(await world.store.head('publications/brouillon.errors.json')).toBeUndefined();
  });

  it('an S3 test event, a removal and a badly encoded key change nothing', async () => {
    expect(await handler({ Service: 'Amazon S3', Event: 's3:TestEvent' } as never)).toEqual([]);
    const removal = objectCreated(seedKey, 'x');
    const record = removal.Records[0];
    if (record) record.eventName = 'ObjectRemoved:Delete';
    expect(await handler(removal)).toEqual([
      expect.objectContaining({ outcome: 'ignored', reason: 'ObjectRemoved:Delete events are not handled' }),
    ]);
    const badKey = objectCreated('publications/x.md', 'x');
    const badRecord = badKey.Records[0];
    if (badRecord) badRecord.s3.object.key = 'publications/%E0%A4%A.md';
    expect(await handler(badKey)).toEqual([
      { key: 'publications/%E0%A4%A.md', outcome: 'ignored', reason: 'the key is not valid URL encoding' },
    ]);
    expect(await world.store.head(`archive/${seedSlug}/release.json`)).toBeDefined();
  });

  it('a store failure fails the invocation (Lambda retries it) and writes no report', async () => {
    const event = await world.upload('publications/panne.md', await seed());
    const s3 = mockClient(S3Client);
    s3.on(HeadObjectCommand).resolves({ ETag: `"${event.Records[0]?.s3.object.eTag}"`, ContentLength: 10 });
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' }),
    );
    try {
      await expect(handler(event)).rejects.toThrow(/InternalError/);
    } finally {
      s3.restore();
    }
    expect(await world.store.head('publications/panne.errors.json')).toBeUndefined();
  });
});
