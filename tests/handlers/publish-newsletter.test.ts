import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IssueManifest } from '../../lambdas/core/newsletter/catalog.ts';
import { getJson, getText } from '../../lambdas/core/store/object-store.ts';
import { handler, type PublicationReport } from '../../lambdas/handlers/publish.ts';
import { examples, objectCreated, publishWorldForFile, SITE_URL, snapshot, versionsOf } from './harness.ts';

/**
 * The publish function on newsletter issues: an issue uploaded under
 * `publications/newsletters/` is published as `pressroom newsletter publish` does, with its
 * release items read from the bucket's archive; a bad one gets its error report. On s3rver.
 */

const issueKey = 'publications/newsletters/2024-03-lettre.md';
const issueId = '2024-03-lettre';
const releases = [
  'open-data-barometer-2024',
  'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes',
];

const world = publishWorldForFile();

const example = () => readFile(path.join(examples, 'newsletters', `${issueId}.md`), 'utf8');

/** Every key under the prefixes an issue's publishing writes to, with its version. */
async function everything(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const prefix of ['archive/', 'newsletters/', 'catalog/', 'site/']) {
    Object.assign(out, await snapshot(world.store, prefix));
  }
  return out;
}

beforeAll(async () => {
  // The releases the example issue names, published by the same function.
  for (const name of ['2024-03-12-open-data-barometer.md', '2021-06-08-numerique-gestion-de-crise.md']) {
    const text = await readFile(path.join(examples, 'publications', name), 'utf8');
    const outcomes = await handler(await world.upload(`publications/${name}`, text));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'published' })]);
  }
});

describe('publish handler on newsletter issues (publications/newsletters/ → newsletters/ and site/newsletters/)', () => {
  it('publishes an uploaded issue: archive, press room section, catalogue; the releases untouched', async () => {
    const releasesBefore = await snapshot(world.store, 'archive/');

    const outcomes = await handler(await world.upload(issueKey, await example()));

    expect(outcomes).toEqual([
      { key: issueKey, outcome: 'published', newsletter: issueId, state: 'public', action: 'created' },
    ]);
    const manifest = await getJson<IssueManifest>(world.store, `newsletters/${issueId}/issue.json`);
    expect(manifest?.value.source.path).toBe(`/${issueKey}`);
    expect(manifest?.value.summary.releases).toEqual(releases);
    expect(manifest?.value.files).toEqual(
      expect.arrayContaining(['source.md', 'email.html', 'email.txt', 'issue.json', 'public/index.html']),
    );
    const version = `newsletters/${issueId}/${manifest?.value.version}/`;
    expect(await getText(world.store, `${version}source.md`)).toBe(await example());
    // Release items were filled in from the bucket's archive, organisations from publications/organizations/.
    const issue = JSON.parse((await getText(world.store, `${version}issue.json`)) ?? '{}');
    expect(issue.publishers.map((p: { name: string }) => p.name)).toEqual(['Villes Internet']);
    expect(issue.items[1]).toMatchObject({
      title: 'Gestion de crise avec le numérique\u00a0: les villes moyennes résilientes',
      url: `${SITE_URL}releases/${releases[1]}/index.html`,
    });
    const email = await getText(world.store, `${version}email.html`);
    expect(email).toContain(`${SITE_URL}releases/${releases[0]}/index.html`);

    const page = await getText(world.store, `site/newsletters/${issueId}/index.html`);
    expect(page).toContain('La lettre de Villes Internet – mars 2024');
    expect(await world.store.head(`site/newsletters/${issueId}/email.html`)).toBeDefined();
    expect(await world.store.head(`site/newsletters/${issueId}/newsletter.txt`)).toBeDefined();
    expect(await getText(world.store, 'site/newsletters/index.html')).toContain(`${issueId}/index.html`);
    expect(await getText(world.store, 'site/newsletters/feed.xml')).toContain(
      `${SITE_URL}newsletters/${issueId}/index.html`,
    );
    // The section appeared: the press room's pages link to it.
    expect(await getText(world.store, 'site/index.html')).toContain('newsletters/index.html');
    const catalog = await getJson<{ issues: { id: string }[] }>(world.store, 'catalog/newsletters.json');
    expect(catalog?.value.issues.map((i) => i.id)).toEqual([issueId]);

    expect(await snapshot(world.store, 'archive/')).toEqual(releasesBefore);
    expect(await world.store.head('publications/newsletters/2024-03-lettre.errors.json')).toBeUndefined();
  });

  it('a redelivered event publishes the same issue again: updated in place, one version', async () => {
    const before = await getJson<IssueManifest>(world.store, `newsletters/${issueId}/issue.json`);
    const event = await world.upload(issueKey, await example());
    await handler(event);
    expect(await handler(event)).toEqual([
      expect.objectContaining({ outcome: 'published', newsletter: issueId, action: 'updated' }),
    ]);
    const after = await getJson<IssueManifest>(world.store, `newsletters/${issueId}/issue.json`);
    expect(after?.value.summary.publishedAt).toBe(before?.value.summary.publishedAt);
    const versions = await versionsOf(world.store, `newsletters/${issueId}/`, 'issue.json');
    expect(versions).toEqual(new Set([after?.value.version]));
  });

  it('a bad issue gets <name>.errors.json with line, field and value; nothing else is written', async () => {
    const before = await everything();
    const key = 'publications/newsletters/2024-04 lettre.md';
    const reportKey = 'publications/newsletters/2024-04 lettre.errors.json';
    const broken = (await example())
      .replace('date: 2024-03-15', 'date: 2024-04-31')
      .replace('title: "La lettre', 'titre: "La lettre');

    expect(await handler(await world.upload(key, broken))).toEqual([
      { key, outcome: 'rejected', report: reportKey, problems: 3 },
    ]);
    const report = await getJson<PublicationReport>(world.store, reportKey);
    expect(report?.value.publication).toBe(key);
    expect(report?.value.problems).toEqual([
      expect.objectContaining({ line: 5, field: 'title', message: expect.stringContaining('missing') }),
      {
        file: `/${key}`,
        line: 6,
        column: 7,
        field: 'date',
        value: '2024-04-31',
        message: expect.stringContaining('real calendar date'),
      },
      expect.objectContaining({ line: 5, field: 'titre', message: expect.stringContaining('unknown field') }),
    ]);
    expect(report?.value.message).toContain(`/${key}:6:7 date:`);
    expect(await everything()).toEqual(before);
  });

  it('an issue naming a release that is not in the archive is refused at that line; fixed, it is published', async () => {
    const key = 'publications/newsletters/2024-04 lettre.md';
    const reportKey = 'publications/newsletters/2024-04 lettre.errors.json';
    const before = await everything();
    const unknown = (await example()).replace(
      '  - release: open-data-barometer-2024\n',
      '  - release: open-data-barometer-2025\n',
    );
    expect(await handler(await world.upload(key, unknown))).toEqual([
      { key, outcome: 'rejected', report: reportKey, problems: 1 },
    ]);
    const report = await getJson<PublicationReport>(world.store, reportKey);
    expect(report?.value.problems).toEqual([
      {
        file: `/${key}`,
        line: 15,
        column: 14,
        field: 'items[0].release',
        value: 'open-data-barometer-2025',
        message: expect.stringContaining('no published release has this slug'),
      },
    ]);
    expect(await everything()).toEqual(before);

    const outcomes = await handler(await world.upload(key, await example()));
    expect(outcomes).toEqual([
      { key, outcome: 'published', newsletter: '2024-04-lettre', state: 'public', action: 'created' },
    ]);
    expect(await world.store.head(reportKey)).toBeUndefined();
    const catalog = await getJson<{ issues: { id: string }[] }>(world.store, 'catalog/newsletters.json');
    expect(catalog?.value.issues.map((i) => i.id).sort()).toEqual(['2024-03-lettre', '2024-04-lettre']);
  });

  it('another file with a taken id is refused on "id", without --replace advice; the issue stays the first file’s', async () => {
    const before = await snapshot(world.store, `newsletters/${issueId}/`);
    const siteBefore = await snapshot(world.store, 'site/');
    const key = 'publications/newsletters/copie.md';
    const copy = (await example()).replace('---\n', `---\nid: ${issueId}\n`);
    expect(await handler(await world.upload(key, copy))).toEqual([
      expect.objectContaining({ outcome: 'rejected', problems: 1 }),
    ]);
    const report = await getJson<PublicationReport>(
      world.store,
      'publications/newsletters/copie.errors.json',
    );
    expect(report?.value.problems).toEqual([
      {
        file: `/${key}`,
        field: 'id',
        message: expect.stringContaining(`"${issueId}" is already used by /${issueKey}`),
      },
    ]);
    expect(report?.value.problems[0]?.message).not.toContain('--replace');
    expect(await snapshot(world.store, `newsletters/${issueId}/`)).toEqual(before);
    expect(await snapshot(world.store, 'site/')).toEqual(siteBefore);
  });

  it('other files under publications/newsletters/ are not issues', async () => {
    const before = await everything();
    const report = await world.store.head('publications/newsletters/copie.errors.json');
    const outcomes = [
      ...(await handler(
        await world.upload('publications/newsletters/bandeau.png', new Uint8Array([1, 2, 3])),
      )),
      ...(await handler(objectCreated('publications/newsletters/copie.errors.json', report?.version ?? ''))),
    ];
    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'ignored', reason: expect.stringContaining('not a publication') }),
      expect.objectContaining({ outcome: 'ignored', reason: expect.stringContaining('not a publication') }),
    ]);
    expect(await everything()).toEqual(before);
  });
});
