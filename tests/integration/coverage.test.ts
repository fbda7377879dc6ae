/**
 * Press coverage in the press room (issue 21, item 6): a release's articles on its page and on
 * the coverage page, never before its embargo lifts nor after it is withdrawn, and kept when
 * the release is published again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import {
  addCoverage,
  coverageCsv,
  listCoverage,
  removeCoverage,
} from '../../lambdas/core/archive/coverage.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease, releaseDueEmbargoes } from '../../lambdas/core/archive/publish.ts';
import { refreshReleaseCoverage } from '../../lambdas/core/archive/rebuild.ts';
import { withdrawRelease } from '../../lambdas/core/archive/withdraw.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { releaseDeps } from '../support/dispatch-fixtures.ts';
import { memoryFiles, releaseText, villesInternet } from '../support/memory-files.ts';

let templates: TemplateSet;
let root: string;
beforeAll(async () => {
  templates = await loadTemplateFiles();
  root = await mkdtemp(path.join(tmpdir(), 'pressroom-coverage-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const article = {
  url: 'https://www.journal.example.com/2026/01/21/annonce',
  outlet: 'Le Journal',
  date: '2026-01-21',
  title: 'Une annonce très attendue',
};

describe('coverage in the press room', () => {
  it('appears with the release when its embargo lifts, stays when it is published again, goes when it is withdrawn', async () => {
    const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
    const clock = { now: new Date('2026-01-15T09:00:00Z') };
    const file = 'publications/e.md';
    const deps = releaseDeps(
      store,
      templates,
      memoryFiles({
        'organizations/villes-internet.yaml': villesInternet,
        // Where a rebuild looks: beside the file as it was published (an absolute path).
        [path.resolve('organizations/villes-internet.yaml')]: villesInternet,
        [file]: releaseText('annonce', 'Annonce', 'embargo: 2026-01-20T08:00:00+01:00\n'),
      }),
      () => clock.now,
    );
    await publishRelease(file, deps);
    await addCoverage(store, 'annonce', article, clock.now);
    expect((await refreshReleaseCoverage('annonce', deps)).release.outcome).toBe('changed');
    // Recorded, listed for the user, and nowhere public.
    expect((await listCoverage(store)).map((r) => r.url)).toEqual([article.url]);
    expect(await store.head(siteKeys.coverage)).toBeUndefined();
    expect(await store.head(siteKeys.release('annonce'))).toBeUndefined();
    expect(await getText(store, siteKeys.index)).not.toContain('coverage/');

    clock.now = new Date('2026-01-20T07:00:01Z');
    expect(await releaseDueEmbargoes(deps)).toEqual(['annonce']);
    expect(await getText(store, siteKeys.release('annonce'))).toContain('Une annonce très attendue</a>');
    expect(await getText(store, siteKeys.coverage)).toContain(`href="${article.url}" rel="noopener"`);
    expect(await getText(store, siteKeys.index)).toContain('href="coverage/index.html"');
    expect(await getText(store, siteKeys.pagesSitemap)).toContain('coverage/index.html');

    clock.now = new Date('2026-01-22T10:00:00Z');
    await publishRelease(file, deps);
    expect(await getText(store, siteKeys.release('annonce'))).toContain('Une annonce très attendue</a>');

    await withdrawRelease('annonce', { reason: 'erreur', by: 'test@host' }, deps);
    expect(await store.head(siteKeys.coverage)).toBeUndefined();
    expect(await getText(store, siteKeys.index)).not.toContain('coverage/');
    // Still the user's record.
    expect(await removeCoverage(store, 'annonce', article.url)).toMatchObject(article);
    expect(await listCoverage(store)).toEqual([]);
  });

  it('keeps one entry per address, newest first, and exports CSV with formulas neutralised', async () => {
    const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'http://localhost:3000' });
    const deps = releaseDeps(
      store,
      templates,
      memoryFiles({ 'organizations/villes-internet.yaml': villesInternet, 'p.md': releaseText('r', 'R') }),
    );
    await publishRelease('p.md', deps);
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 10, 9, minute));
    await addCoverage(store, 'r', { ...article, date: '2026-01-02' }, at(0));
    await addCoverage(
      store,
      'r',
      { url: 'https://b.example.com/x', outlet: '=HYPERLINK("x")', date: '2026-01-05' },
      at(1),
    );
    const again = await addCoverage(
      store,
      'r',
      { ...article, date: '2026-01-03', title: 'Titre corrigé' },
      at(2),
    );
    expect(again.action).toBe('updated');
    // The first record's time is kept; the date and title are the new ones.
    expect(again.article).toMatchObject({ date: '2026-01-03', title: 'Titre corrigé' });
    const rows = await listCoverage(store, 'r');
    expect(rows.map((r) => [r.date, r.url, r.addedAt])).toEqual([
      ['2026-01-05', 'https://b.example.com/x', at(1).toISOString()],
      ['2026-01-03', article.url, at(0).toISOString()],
    ]);
    const csv = coverageCsv(rows).replace(/^\uFEFF/, '');
    expect(csv.split('\n')[0]).toBe('date,outlet,title,url,language,release,release_title,added_at');
    expect(csv).toContain(`'=HYPERLINK(""x"")`);
    expect(JSON.parse((await getText(store, 'catalog/coverage.json')) ?? '')).toEqual({ releases: { r: 2 } });
  });

  it('refuses a wrong field naming it and its value, and writes nothing', async () => {
    const store = new FolderObjectStore({
      root: `${root}-x`,
      signingSecret: 's',
      publicUrl: 'http://localhost:3000',
    });
    await expect(
      addCoverage(store, 'annonce', { ...article, outlet: ' ', language: 'français' }, new Date()),
    ).rejects.toThrow(
      'outlet must not be empty (value: " "); language must be a language code such as fr, en or de-CH (value: "français"). Nothing was recorded.',
    );
    expect(await listCoverage(store)).toEqual([]);
    await rm(`${root}-x`, { recursive: true, force: true });
  });
});
