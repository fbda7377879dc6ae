/**
 * Publish stays flat (issue 19, item 4): the press room a sequence of publishes leaves is the
 * same, byte for byte, as before the publish path was made cheaper (the digests in
 * tests/fixtures/publish-flat/site.json were taken with the code before that change), and the
 * same as what `archive rebuild` makes of the same archive.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { publicTagCount, readTags, type TagEntry } from '../../lambdas/core/archive/catalog.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { rebuildPressRoom } from '../../lambdas/core/archive/rebuild.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { listAll, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { releaseDeps } from '../support/dispatch-fixtures.ts';
import { memoryFiles, releaseText, villesInternet } from '../support/memory-files.ts';

const fixture = path.resolve('tests/fixtures/publish-flat/site.json');
const tagNames = ['Open data', 'Budget', 'Mobilité', 'Climat', 'Écoles'];

/** Release i: its date walks back over six years, 1 to 3 tags, one in seven private. */
function release(i: number, variant = ''): string {
  const year = 2024 - (i % 6);
  const date = `${year}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + ((i * 7) % 28)).padStart(2, '0')}`;
  const tags = tagNames.filter((_, t) => (i + t) % 3 === 0 || t === i % 5).slice(0, 3);
  const extra = [
    `tags:\n${tags.map((t) => `  - ${t}\n`).join('')}`,
    ...(i % 7 === 6 ? ['visibility: private\n'] : []),
  ].join('');
  return releaseText(`flat-${i}`, `Communiqué ${i}${variant} : « les villes » & co`, extra).replace(
    /^date: .*$/m,
    `date: ${date}`,
  );
}

/** Every object of the press room, as the digest of its bytes; `keep` edits each page's text first. */
async function siteOf(store: ObjectStore, keep = (text: string) => text): Promise<Map<string, string>> {
  const site = new Map<string, string>();
  for await (const item of listAll(store, siteKeys.prefix)) {
    const object = await store.get(item.key);
    const text = keep(Buffer.from(object?.body ?? []).toString('utf8'));
    if (object) site.set(item.key, createHash('sha256').update(text).digest('hex'));
  }
  return site;
}

/**
 * The list of tags in each list page's navigation, with each tag's count of releases: a
 * publish rewrites the pages that list the release (its year, its tags, the home page), not
 * every tag and year page for a count that changed elsewhere. A rebuild rewrites them all.
 */
const withoutTagCounts = (text: string) => text.replace(/<p class="tag-list">.*?<\/p>/gs, '');

let templates: TemplateSet;
beforeAll(async () => {
  templates = await loadTemplateFiles();
});

describe('publishing a sequence of releases', () => {
  it('leaves the same press room as before, and as a rebuild of the same archive', async () => {
    const files: Record<string, string> = {
      'organizations/villes-internet.yaml': villesInternet,
      [path.resolve('organizations/villes-internet.yaml')]: villesInternet,
    };
    const count = 24;
    for (let i = 0; i < count; i++) files[`publications/r${i}.md`] = release(i);
    const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'http://localhost:3000' });
    let minute = 0;
    const deps = releaseDeps(
      store,
      templates,
      memoryFiles(files),
      () => new Date(Date.UTC(2026, 0, 15, 9, minute++)),
    );
    for (let i = 0; i < count; i++) await publishRelease(`publications/r${i}.md`, deps);
    files['publications/r3.md'] = release(3, ' (mis à jour)');
    // Updates: a new title, and one moved to another year with other tags.
    await publishRelease('publications/r3.md', deps);
    files['publications/r4.md'] = release(4)
      .replace(/^date: .*$/m, 'date: 2019-12-31')
      .replace(/^tags:\n( {2}- .*\n)+/m, 'tags:\n  - Santé\n');
    await publishRelease('publications/r4.md', deps);

    const incremental = await siteOf(store);
    expect(incremental.get(siteKeys.tag('sante'))).toBeDefined();
    expect([...incremental.keys()].filter((k) => k.endsWith('/index.html')).length).toBeGreaterThan(20);

    if (process.env.PRESSROOM_WRITE_FIXTURE) {
      await writeFile(fixture, `${JSON.stringify(Object.fromEntries(incremental), null, 2)}\n`);
    }
    const before = JSON.parse(await readFile(fixture, 'utf8')) as Record<string, string>;
    expect(Object.fromEntries(incremental)).toEqual(before);

    const pages = await siteOf(store, withoutTagCounts);
    const report = await rebuildPressRoom(deps);
    expect(report.releases.filter((r) => r.outcome !== 'unchanged')).toEqual([]);
    expect(Object.fromEntries(await siteOf(store, withoutTagCounts))).toEqual(Object.fromEntries(pages));
    // The pages the last publishes touched were the same before the rebuild: home, feeds, tags.
    const rebuilt = await siteOf(store);
    for (const key of [siteKeys.index, siteKeys.rss, siteKeys.atom, siteKeys.json, siteKeys.tag('sante')]) {
      expect(rebuilt.get(key), key).toBe(incremental.get(key));
    }
  });
});

describe('the tag index', () => {
  it('counts each tag’s public releases, embargoed ones once their embargo has passed, and forgets an emptied tag', async () => {
    const files: Record<string, string> = {
      'organizations/villes-internet.yaml': villesInternet,
      'publications/a.md': releaseText('a', 'A', 'tags:\n  - Budget\n  - Vélo\n'),
      'publications/b.md': releaseText('b', 'B', 'tags:\n  - Budget\nembargo: 2026-02-01T09:00:00Z\n'),
      'publications/c.md': releaseText('c', 'C', 'tags:\n  - Budget\nvisibility: private\n'),
    };
    const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'http://localhost:3000' });
    const deps = releaseDeps(store, templates, memoryFiles(files));
    for (const name of ['a', 'b', 'c']) await publishRelease(`publications/${name}.md`, deps);
    const tags = await readTags(store);
    expect(Object.keys(tags).sort()).toEqual(['budget', 'velo']);
    expect(tags.budget).toMatchObject({
      name: 'Budget',
      public: 1,
      embargoed: { b: '2026-02-01T09:00:00.000Z' },
    });
    expect(publicTagCount(tags.budget as TagEntry, new Date('2026-01-31T00:00:00Z'))).toBe(1);
    expect(publicTagCount(tags.budget as TagEntry, new Date('2026-02-01T09:00:00Z'))).toBe(2);

    files['publications/a.md'] = releaseText('a', 'A', 'tags:\n  - Budget\n');
    await publishRelease('publications/a.md', deps);
    expect(Object.keys(await readTags(store)).sort()).toEqual(['budget']);
  });

  it('still reads an entry written before issue 19 (every release with its publicity)', () => {
    const entry: TagEntry = {
      name: 'Budget',
      releases: {
        a: { visibility: 'public' },
        b: { visibility: 'public', embargo: '2026-02-01T09:00:00Z' },
        c: { visibility: 'private' },
        d: { visibility: 'public', withdrawn: '2026-01-02T00:00:00Z' },
      },
    };
    expect(publicTagCount(entry, new Date('2026-01-31T00:00:00Z'))).toBe(1);
    expect(publicTagCount(entry, new Date('2026-02-02T00:00:00Z'))).toBe(2);
  });
});
