/**
 * Managing the archive with the real command: `archive withdraw` (out of the press room,
 * feeds, sitemaps; refused by campaigns, newsletters and a plain publish; `--purge`) and
 * `archive rebuild` (after an organisation changes: what changed is reported, a release that
 * cannot be rebuilt is left as it was), on the folder store and, with `--backend aws`, on
 * s3rver as the stack's bucket, where the published files also carry the Content-Disposition
 * that CloudFront serves.
 *
 * The tests of each part share one store and run in order.
 */

import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/s3-store.ts';
import { sharpImages } from '../../lambdas/adapters/sharp-images.ts';
import { storeSourceFiles } from '../../lambdas/adapters/store-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import type { ReleaseManifest } from '../../lambdas/core/archive/manifest.ts';
import { publishRelease, siteDeps } from '../../lambdas/core/archive/publish.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { getJson, getText, listAll } from '../../lambdas/core/store/object-store.ts';
import { exampleWorkspace, expectExit, type Run, repo, runPressroom } from '../support/cli.ts';
import { barometer, crise } from '../support/example-releases.ts';
import { publishToPressList } from '../support/press-list.ts';
import { type RunningS3rver, s3rverClientConfig, s3rverEnvironment, startS3rver } from '../support/s3rver.ts';
import { outboxEnv } from '../support/serve.ts';
import { writeStackOutputs } from '../support/stack-outputs.ts';

const publicUrl = 'https://press.example.org';
const localSecret = 'e2e-archive-manage-local-secret-0123456789';

describe('on the folder store', { timeout: 180_000 }, () => {
  let work: string;
  let data: string;
  const pressroom = (...args: string[]): Promise<Run> =>
    runPressroom(args, { cwd: work, env: outboxEnv({ data, secret: localSecret, publicUrl }) });
  const site = (key: string) => readFile(path.join(data, 'site', key), 'utf8');
  const manifest = async (slug: string) =>
    JSON.parse(await readFile(path.join(data, 'archive', slug, 'release.json'), 'utf8')) as ReleaseManifest;
  const publicFiles = ['index.html', 'feed.xml', 'atom.xml', 'feed.json', 'sitemaps/2024.xml'];

  beforeAll(async () => {
    work = await exampleWorkspace('pressroom-archive-manage-');
    data = path.join(work, 'data');
    await publishToPressList(pressroom, [crise.file, barometer.file]);
  }, 300_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses a withdrawal without a reason, with an empty one, or of an unknown release', async () => {
    const none = await pressroom('archive', 'withdraw', barometer.slug);
    expectExit(none, 2);
    expect(none.stderr).toContain("required option '--reason <text>'");
    const empty = await pressroom('archive', 'withdraw', barometer.slug, '--reason', '  ');
    expectExit(empty, 1);
    expect(empty.stderr).toContain('give the reason for withdrawing it with --reason');
    const long = await pressroom('archive', 'withdraw', barometer.slug, '--reason', 'x'.repeat(501));
    expectExit(long, 1);
    expect(long.stderr).toContain('at most 500');
    const unknown = await pressroom('archive', 'withdraw', 'nulle-part', '--reason', 'test');
    expectExit(unknown, 1);
    expect(unknown.stderr).toContain('no release "nulle-part"');
    expect((await manifest(barometer.slug)).withdrawn).toBeUndefined();
  });

  it('takes a release out of every page, feed and sitemap, and records when, why and by whom', async () => {
    for (const file of publicFiles) expect(await site(file), file).toContain(barometer.slug);
    expect(await site('sitemap.xml')).toContain('sitemaps/2024.xml');
    expect(await site('sitemaps/pages.xml')).toContain('tags/open-data/');
    const run = await pressroom(
      'archive',
      'withdraw',
      barometer.slug,
      '--reason',
      'chiffres erronés',
      '--json',
    );
    expectExit(run, 0);
    const result = JSON.parse(run.stdout) as { outcome: string; withdrawal: ReleaseManifest['withdrawn'] };
    expect(result.outcome).toBe('withdrawn');
    const record = (await manifest(barometer.slug)).withdrawn;
    expect(record).toEqual(result.withdrawal);
    expect(record).toMatchObject({
      reason: 'chiffres erronés',
      wasPublic: true,
      by: expect.stringContaining('@'),
    });
    expect(Date.now() - Date.parse(record?.at ?? '')).toBeLessThan(60_000);
    for (const file of publicFiles.filter((f) => f !== 'sitemaps/2024.xml'))
      expect(await site(file), file).not.toContain(barometer.slug);
    // Its year and its tags had nothing else: their pages are gone.
    await expect(site('2024/index.html')).rejects.toThrow();
    await expect(site('sitemaps/2024.xml')).rejects.toThrow();
    expect(await site('sitemap.xml')).not.toContain('sitemaps/2024.xml');
    expect(await site('sitemaps/pages.xml')).not.toMatch(/2024\/index\.html|tags\/open-data\//);
    await expect(site('tags/open-data/index.html')).rejects.toThrow();
    expect(await readdir(path.join(data, 'site/releases', barometer.slug))).toEqual(['index.html']);
    expect(await site(`releases/${barometer.slug}/index.html`)).toContain('retiré de la salle de presse');
    // The private archive keeps it.
    const list = await pressroom('archive', 'list', '--json');
    expect(JSON.parse(list.stdout)).toContainEqual(
      expect.objectContaining({ slug: barometer.slug, visibility: 'withdrawn' }),
    );
    expectExit(await pressroom('archive', 'link', barometer.slug, '--format', 'email'), 0);
    const again = await pressroom('archive', 'withdraw', barometer.slug, '--reason', 'encore');
    expectExit(again, 0);
    expect(again.stdout).toContain('was already withdrawn');
    expect((await manifest(barometer.slug)).withdrawn?.reason).toBe('chiffres erronés');
  });

  it('is refused by campaigns, newsletters and a publish without --replace', async () => {
    await writeFile(
      path.join(work, 'campagne.yaml'),
      `name: barometre-presse\npublication: ${barometer.slug}\naudience:\n  list: presse\nfrom: "Open Cities <press@open-cities.example.org>"\n`,
    );
    const send = await pressroom('send', 'campagne.yaml');
    expectExit(send, 1);
    expect(send.stderr).toContain(`"${barometer.slug}" was withdrawn on`);
    expect(send.stderr).toContain('chiffres erronés');
    await expect(readdir(path.join(data, 'outbox', 'barometre-presse'))).rejects.toThrow();

    const issue = await pressroom('newsletter', 'publish', 'examples/newsletters/2024-03-lettre.md');
    expectExit(issue, 1);
    expect(issue.stderr).toContain('this release was withdrawn from the press room');

    const publish = await pressroom('publish', barometer.file, '--no-pdf');
    expectExit(publish, 1);
    expect(publish.stderr).toContain(`the release "${barometer.slug}" was withdrawn on`);
    expect(publish.stderr).toContain('--replace');
    const back = await pressroom('publish', barometer.file, '--no-pdf', '--replace', '--json');
    expectExit(back, 0);
    expect(JSON.parse(back.stdout)).toMatchObject({ state: 'public' });
    expect((await manifest(barometer.slug)).withdrawn).toBeUndefined();
    expect(await site('index.html')).toContain(barometer.slug);
    expect(await readdir(path.join(data, 'site/releases', barometer.slug))).toContain('email.html');
  });

  it('--purge deletes the archived files and keeps the record', async () => {
    const run = await pressroom(
      'archive',
      'withdraw',
      crise.slug,
      '--reason',
      'demande de retrait',
      '--purge',
    );
    expectExit(run, 0);
    expect(run.stdout).toContain('its files are deleted');
    expect(await readdir(path.join(data, 'archive', crise.slug))).toEqual(['release.json']);
    const record = await manifest(crise.slug);
    expect(record.files).toEqual([]);
    expect(record.summary.lead).toBe('');
    expect(record.withdrawn).toMatchObject({ reason: 'demande de retrait', purgedAt: expect.any(String) });
    const link = await pressroom('archive', 'link', crise.slug);
    expectExit(link, 1);
    expect(link.stderr).toContain('its archive purged');
    expectExit(await pressroom('archive', 'export', '--out', path.join(work, 'export.zip')), 0);
  });

  it('rebuild renders releases again after an organisation changes, and says what changed', async () => {
    const org = path.join(work, 'examples/organizations/open-cities-federation.yaml');
    await writeFile(
      org,
      (await readFile(org, 'utf8')).replace('name: Open Cities Federation', 'name: Open Cities Network'),
    );
    const before = await manifest(barometer.slug);
    const run = await pressroom('archive', 'rebuild', '--no-pdf', '--json');
    expectExit(run, 0);
    const report = JSON.parse(run.stdout) as {
      releases: { slug: string; outcome: string; changed?: string[] }[];
    };
    expect(report.releases).toEqual([
      { slug: crise.slug, outcome: 'skipped', reason: 'withdrawn' },
      expect.objectContaining({
        slug: barometer.slug,
        outcome: 'changed',
        changed: expect.arrayContaining(['email.html', 'page.html', 'public/index.html', 'publication.json']),
      }),
    ]);
    const after = await manifest(barometer.slug);
    expect(after.version).not.toBe(before.version);
    expect(after.summary.publishedAt).toBe(before.summary.publishedAt);
    expect(after.summary.updatedAt).toBe(before.summary.updatedAt);
    expect(after.summary.publishers).toContain('Open Cities Network');
    expect(await site(`releases/${barometer.slug}/index.html`)).toContain('Open Cities Network');
    expect(await site('index.html')).toContain('Open Cities Network');
    // The old version is gone; the archived source is the one published.
    expect(await readdir(path.join(data, 'archive', barometer.slug))).toEqual(
      ['release.json', after.version].sort(),
    );

    const again = await pressroom('archive', 'rebuild', '--no-pdf');
    expectExit(again, 0);
    expect(again.stdout).toMatch(new RegExp(`unchanged\\s+${barometer.slug}`));
    expect((await manifest(barometer.slug)).version).toBe(after.version);
  });

  it('leaves a release that cannot be rebuilt as it was, rebuilds the rest, and exits 1', async () => {
    const org = path.join(work, 'examples/organizations/open-cities-federation.yaml');
    await rename(org, `${org}.away`);
    try {
      const before = await manifest(barometer.slug);
      const page = await site(`releases/${barometer.slug}/index.html`);
      const run = await pressroom('archive', 'rebuild', '--no-pdf');
      expectExit(run, 1);
      expect(run.stdout).toMatch(new RegExp(`failed\\s+${barometer.slug}`));
      expect(run.stdout).toContain('open-cities-federation');
      expect(run.stderr).toContain(
        `1 release(s) could not be rebuilt and were left as they were: ${barometer.slug}`,
      );
      expect(await manifest(barometer.slug)).toEqual(before);
      expect(await site(`releases/${barometer.slug}/index.html`)).toBe(page);
    } finally {
      await rename(`${org}.away`, org);
    }
    const unknown = await pressroom('archive', 'rebuild', 'nulle-part', '--json');
    expectExit(unknown, 1);
    expect(JSON.parse(unknown.stdout).releases).toEqual([
      { slug: 'nulle-part', outcome: 'failed', reason: expect.stringContaining('no release "nulle-part"') },
    ]);
  });
});

describe('on the stack (--backend aws, s3rver)', { timeout: 180_000 }, () => {
  const bucket = 'pressroom-archive-manage';
  const secret = 'e2e-archive-manage-secret-0123456789abcdef';
  const pressRoomUrl = 'https://d111111abcdef8.cloudfront.net/';
  const hostile = { slug: 'pieges-2024', file: 'examples/publications/pieges.md' };
  let s3: RunningS3rver;
  let work: string;
  let store: S3ObjectStore;
  let client: S3Client;
  let env: NodeJS.ProcessEnv;
  const pressroom = (...args: string[]) => runPressroom([...args, '--backend', 'aws'], { cwd: work, env });

  /** What the publish function does with an uploaded publication, in-process. */
  async function publishOnStack(file: string): Promise<void> {
    expectExit(await pressroom('publish', file, '--no-wait'), 0);
    let key: string | undefined;
    for await (const item of listAll(store, 'publications/'))
      if (item.key.endsWith(`/${path.basename(file)}`)) key = item.key;
    if (!key) throw new Error(`${file} was not uploaded`);
    const templates = await loadTemplateFiles();
    await publishRelease(`/${key}`, {
      store,
      files: storeSourceFiles(store, { root: 'publications/' }),
      renderer: createReleaseRenderer(templates),
      images: sharpImages(),
      ...siteDeps(templates, { siteUrl: pressRoomUrl, siteLang: 'en' }),
    });
  }

  beforeAll(async () => {
    s3 = await startS3rver([bucket]);
    work = await mkdtemp(path.join(tmpdir(), 'pressroom-archive-aws-'));
    await cp(path.join(repo, 'examples'), path.join(work, 'examples'), { recursive: true });
    await writeStackOutputs(work, bucket, { PressRoomUrl: pressRoomUrl, SiteLang: 'en' });
    const { PRESSROOM_BACKEND: _b, PRESSROOM_STACK_OUTPUTS: _o, PRESSROOM_STACK: _s, ...rest } = process.env;
    env = { ...rest, ...s3rverEnvironment(s3.endpoint), PRESSROOM_SECRET: secret, PRESSROOM_SITE_LANG: 'fr' };
    client = new S3Client(s3rverClientConfig(s3.endpoint));
    store = new S3ObjectStore({ bucket, client });
    // A release with a hostile attachment beside a harmless one.
    const source = await readFile(path.join(work, barometer.file), 'utf8');
    await writeFile(
      path.join(work, 'examples/publications/attachments/piege.html'),
      '<script>alert(1)</script>',
    );
    await writeFile(
      path.join(work, hostile.file),
      source
        .replace(/^slug: .*$/m, `slug: ${hostile.slug}`)
        .replace(/^attachments:\n/m, 'attachments:\n  - file: attachments/piege.html\n    label: Piège\n'),
    );
    for (const file of [barometer.file, crise.file, hostile.file]) await publishOnStack(file);
  }, 300_000);
  afterAll(async () => {
    await s3?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes published files to the press room with their type, and a download disposition where needed', async () => {
    const files = `site/releases/${hostile.slug}/files/attachments/`;
    const html = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${files}piege.html` }));
    expect(html.ContentType).toBe('text/html; charset=utf-8');
    expect(html.ContentDisposition).toBe('attachment');
    const text = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: `${files}open-data-barometer-summary.txt` }),
    );
    expect(text.ContentType).toBe('text/plain; charset=utf-8');
    expect(text.ContentDisposition).toBeUndefined();
  });

  it('withdraws in the bucket, rendering with the stack press room language', async () => {
    const run = await pressroom(
      'archive',
      'withdraw',
      hostile.slug,
      '--reason',
      'pièce jointe douteuse',
      '--json',
    );
    expectExit(run, 0);
    expect(JSON.parse(run.stdout)).toMatchObject({ outcome: 'withdrawn', store: `s3://${bucket}` });
    const manifest = await getJson<ReleaseManifest>(store, `archive/${hostile.slug}/release.json`);
    expect(manifest?.value.withdrawn).toMatchObject({ reason: 'pièce jointe douteuse', wasPublic: true });
    const left: string[] = [];
    for await (const item of listAll(store, `site/releases/${hostile.slug}/`)) left.push(item.key);
    expect(left).toEqual([`site/releases/${hostile.slug}/index.html`]);
    // SiteLang from the outputs (en), not PRESSROOM_SITE_LANG (fr).
    expect(await getText(store, `site/releases/${hostile.slug}/index.html`)).toContain(
      'This press release was withdrawn from the press room on',
    );
    const index = (await getText(store, 'site/index.html')) ?? '';
    expect(index).not.toContain(hostile.slug);
    expect(index).toContain(barometer.slug);
    expect(index).toContain('<html lang="en">');
  });

  it('rebuilds from the sources in the bucket after an organisation changes there', async () => {
    let orgKey: string | undefined;
    for await (const item of listAll(store, 'publications/'))
      if (item.key.endsWith('/open-cities-federation.yaml')) orgKey = item.key;
    if (!orgKey) throw new Error('the organisation was not uploaded');
    const org = (await getText(store, orgKey)) ?? '';
    await store.put(orgKey, org.replace('name: Open Cities Federation', 'name: Open Cities Network'));
    const run = await pressroom('archive', 'rebuild', '--json');
    expectExit(run, 0);
    const report = JSON.parse(run.stdout) as { releases: { slug: string; outcome: string; pdf?: string }[] };
    expect(report.releases).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ slug: barometer.slug, outcome: 'changed', pdf: 'none' }),
        expect.objectContaining({ slug: crise.slug, outcome: 'unchanged' }),
        { slug: hostile.slug, outcome: 'skipped', reason: 'withdrawn' },
      ]),
    );
    expect(await getText(store, `site/releases/${barometer.slug}/index.html`)).toContain(
      'Open Cities Network',
    );
    const again = await pressroom('archive', 'rebuild', barometer.slug, '--json');
    expectExit(again, 0);
    expect(JSON.parse(again.stdout).releases).toEqual([
      { slug: barometer.slug, outcome: 'unchanged', pdf: 'none' },
    ]);
  });
});
