/**
 * The publish function on hostile and careless uploads: each refusal the command line gives
 * is recorded in `<name>.errors.json` with its line (the function never crashes on them), the
 * archive stays as it was; what must work (a file in Windows-1252, a local image) works.
 */
import { describe, expect, it } from 'vitest';
import type { ReleaseManifest } from '../../lambdas/core/archive/manifest.ts';
import { getJson, getText } from '../../lambdas/core/store/object-store.ts';
import { handler, type PublicationReport, reportKeyOf } from '../../lambdas/handlers/publish.ts';
import { publishWorldForFile, SITE_URL, snapshot } from './harness.ts';

const world = publishWorldForFile();

function publication(extra: string, body = 'Texte.\n', title = 'Un communiqué'): string {
  return `---\ntitle: "${title}"\ndate: 2021-06-08\nlead: Une étude.\npublishers:\n  - villes-internet\n${extra}---\n${body}`;
}

describe('publish handler on hostile uploads', () => {
  it.each([
    [
      'an alias bomb',
      publication(
        'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\ntags: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
      ),
      { line: 2, message: expect.stringContaining('aliases') },
    ],
    [
      'a NUL in a field',
      publication('author: "A\\0B"\n'),
      { line: 7, field: 'author', message: expect.stringContaining('control character') },
    ],
    [
      'an unquoted colon',
      publication('').replace('title: "Un communiqué"', 'title: Crise : les villes'),
      { line: 2, message: expect.stringContaining('title: "Crise : les villes"') },
    ],
    [
      '2,000 nested tags',
      publication('', `${'<ul><li>'.repeat(1000)}x\n`),
      { line: 8, field: 'body', message: expect.stringContaining('levels deep') },
    ],
    [
      'a missing image',
      publication('', 'Un.\n\n![x](images/absente.png)\n'),
      { line: 10, field: 'body', value: 'images/absente.png' },
    ],
    [
      'an embargo with no time zone',
      publication('embargo: 2021-06-08 08:00\n'),
      { line: 7, field: 'embargo', message: expect.stringContaining('Europe/Paris') },
    ],
  ])('records %s in the error report, and publishes nothing', async (_name, text, problem) => {
    const key = `publications/2021/hostile-${_name.replace(/\W+/g, '-')}.md`;
    const before = await snapshot(world.store, 'archive/');
    const outcomes = await handler(await world.upload(key, text));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'rejected', problems: 1 })]);
    const report = await getJson<PublicationReport>(world.store, reportKeyOf(key));
    expect(report?.value.problems).toEqual([expect.objectContaining({ file: `/${key}`, ...problem })]);
    expect(await snapshot(world.store, 'archive/')).toEqual(before);
  });

  it('refuses an upload over 2 MB from its size, with the size and the limit', async () => {
    const key = 'publications/2021/huge.md';
    const before = await snapshot(world.store, 'archive/');
    const outcomes = await handler(await world.upload(key, publication('', 'Du texte. '.repeat(300_000))));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'rejected', problems: 1 })]);
    const report = await getJson<PublicationReport>(world.store, reportKeyOf(key));
    expect(report?.value.problems).toEqual([
      expect.objectContaining({
        file: `/${key}`,
        message: expect.stringContaining('this file is 3 MB, more than the 2 MB a publication or issue file'),
      }),
    ]);
    expect(await snapshot(world.store, 'archive/')).toEqual(before);
  });

  it('reads organisations only under publications/', async () => {
    await world.store.put('organizations/ailleurs.yaml', 'name: Ailleurs\nabout: Hors de publications/.\n');
    const key = 'publications/hors-champ.md';
    const outcomes = await handler(
      await world.upload(key, publication('').replace('  - villes-internet\n', '  - ailleurs\n')),
    );
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'rejected', problems: 1 })]);
    const report = await getJson<PublicationReport>(world.store, reportKeyOf(key));
    expect(report?.value.problems[0]?.message).toBe(
      'unknown organisation "ailleurs": no file /publications/organizations/ailleurs.yaml. Create it, fix the id, or write the organisation inline',
    );
  });

  it('converts a Windows-1252 upload and says so in its outcome', async () => {
    const key = 'publications/2021/latin.md';
    const text = publication('slug: latin\n', 'L’été.\n');
    const bytes = new Uint8Array([...text].map((c) => ({ '’': 0x92 })[c] ?? c.charCodeAt(0)));
    const outcomes = await handler(await world.upload(key, bytes));
    expect(outcomes).toEqual([
      expect.objectContaining({
        outcome: 'published',
        slug: 'latin',
        notices: [expect.stringContaining('/publications/2021/latin.md is not UTF-8: read as Windows-1252')],
      }),
    ]);
    const manifest = await getJson<ReleaseManifest>(world.store, 'archive/latin/release.json');
    const source = await getText(world.store, `archive/latin/${manifest?.value.version}/source.md`);
    expect(source).toContain('L’été.');
  });

  it('publishes a local image uploaded beside the publication, with absolute URLs', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await world.store.put('publications/2021/images/carte.png', png);
    const key = 'publications/2021/avec-image.md';
    const outcomes = await handler(
      await world.upload(key, publication('slug: avec-image\n', 'Texte.\n\n![Carte](images/carte.png)\n')),
    );
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'published', slug: 'avec-image' })]);
    const manifest = await getJson<ReleaseManifest>(world.store, 'archive/avec-image/release.json');
    expect(manifest?.value.files).toContain('files/images/carte.png');
    const site = await world.store.get('site/releases/avec-image/files/images/carte.png');
    expect(site?.body).toEqual(png);
    expect(site?.contentType).toBe('image/png');
    const url = `${SITE_URL}releases/avec-image/files/images/carte.png`;
    for (const page of ['index.html', 'email.html']) {
      const html = await getText(world.store, `site/releases/avec-image/${page}`);
      expect(html).toContain(`src="${url}"`);
      // Images by absolute https address only (the search box's script is the site's own file).
      expect(
        [...(html ?? '').matchAll(/<img\s[^>]*?\bsrc="([^"]*)"/g)].filter(
          (m) => !/^https:\/\//.test(m[1] ?? ''),
        ),
      ).toEqual([]);
    }
  });
});
