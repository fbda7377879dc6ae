/**
 * Rebuilding and withdrawing in the core, on the memory store, where faults can be injected:
 * a rebuild is all or nothing per release (a store that fails half-way through writing the
 * new version leaves the release exactly as it was, and no version folder behind; a publish
 * that slips in between is not overwritten), and nothing is written when nothing changed.
 */

import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import type { LiftCanceller } from '../../lambdas/core/archive/lift.ts';
import type { ReleaseManifest } from '../../lambdas/core/archive/manifest.ts';
import {
  type PrintedDocument,
  type PublishDeps,
  publishRelease,
} from '../../lambdas/core/archive/publish.ts';
import { rebuildPressRoom } from '../../lambdas/core/archive/rebuild.ts';
import { withdrawRelease } from '../../lambdas/core/archive/withdraw.ts';
import type { SourceFiles } from '../../lambdas/core/publication/load.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import {
  type Body,
  getJson,
  listAll,
  type ObjectStore,
  type PutOptions,
} from '../../lambdas/core/store/object-store.ts';
import { publishedAt, releaseDeps, releaseWorkspace } from '../support/dispatch-fixtures.ts';
import { memoryFiles, releaseText } from '../support/memory-files.ts';

/** A store that fails its `n`th write from now on (once), like a full disk. */
class FailingStore extends MemoryObjectStore {
  private failAt = Number.POSITIVE_INFINITY;
  private failPrefix = '';

  failWrite(n: number): void {
    this.failWriteUnder('', n);
  }

  /** Fails the `n`th write (from now on, once) of a key under `prefix`. */
  failWriteUnder(prefix: string, n = 1): void {
    this.failPrefix = prefix;
    this.failAt = n;
  }

  private tick(key: string): void {
    if (!key.startsWith(this.failPrefix)) return;
    if (--this.failAt === 0) throw new Error(`disk full writing ${key}`);
  }

  override put(key: string, body: Body, options?: PutOptions) {
    this.tick(key);
    return super.put(key, body, options);
  }

  override putIfVersion(key: string, body: Body, expected: string, options?: PutOptions) {
    this.tick(key);
    return super.putIfVersion(key, body, expected, options);
  }
}

let templates: TemplateSet;
let store: FailingStore;
let deps: PublishDeps;

async function contents(s: ObjectStore, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const item of listAll(s, prefix)) {
    const object = await s.get(item.key);
    out[item.key] = Buffer.from(object?.body ?? []).toString('base64');
  }
  return out;
}

/**
 * The workspace's files, also under their absolute paths: the archive records where a
 * publication was (`path.resolve`), and a rebuild finds its organisations from there.
 */
function workspaceFiles(files: Record<string, string>): SourceFiles {
  const relative = memoryFiles(files);
  const strip = (file: string) => (path.isAbsolute(file) ? path.relative(process.cwd(), file) : file);
  const self: SourceFiles = {
    size: (file) => relative.size(strip(file)),
    readBytes: (file) => relative.readBytes(strip(file)),
    stream: (file) => relative.stream(strip(file)),
    within: () => self,
  };
  return self;
}

const renamed = () => {
  const files = releaseWorkspace();
  files['organizations/villes-internet.yaml'] = (files['organizations/villes-internet.yaml'] ?? '').replace(
    'name: Villes Internet',
    'name: Villes Internet et Territoires',
  );
  return workspaceFiles(files);
};

beforeEach(async () => {
  templates ??= await loadTemplateFiles();
  store = new FailingStore({
    signingSecret: 'a-secret-of-at-least-thirty-two-characters',
    publicUrl: 'https://press.example.org',
  });
  deps = releaseDeps(store, templates, workspaceFiles(releaseWorkspace()), () => publishedAt);
  await publishRelease('publications/etude.md', deps);
  await publishRelease('publications/embargo.md', deps);
});

describe('rebuildPressRoom', () => {
  it('writes nothing to the archive when nothing changed', async () => {
    const archive = await contents(store, 'archive/');
    const report = await rebuildPressRoom(deps);
    expect(report.releases).toEqual([
      { slug: 'etude-villes', outcome: 'unchanged', pdf: 'none' },
      { slug: 'sous-embargo', outcome: 'unchanged', pdf: 'none' },
    ]);
    expect(await contents(store, 'archive/')).toEqual(archive);
  });

  it.each([1, 2, 5])(
    'leaves a release as it was when the store fails at write %i of its new version',
    async (n) => {
      const before = await contents(store, 'archive/');
      const site = await contents(store, 'site/');
      store.failWrite(n);
      await expect(rebuildPressRoom({ ...deps, files: renamed() })).rejects.toThrow('disk full');
      expect(await contents(store, 'archive/')).toEqual(before);
      expect(await contents(store, 'site/')).toEqual(site);
      // Once the disk has room, the same rebuild goes through.
      const report = await rebuildPressRoom({ ...deps, files: renamed() });
      expect(report.releases.map((r) => r.outcome)).toEqual(['changed', 'changed']);
      const manifest = await getJson<ReleaseManifest>(store, 'archive/etude-villes/release.json');
      expect(manifest?.value.summary.publishers).toEqual(['Villes Internet et Territoires']);
    },
  );

  it('prints a PDF again with the release’s dates: its last publication, not the rebuild’s time', async () => {
    const printed: (PrintedDocument | undefined)[] = [];
    const printer = {
      print: async (_html: string, document?: PrintedDocument) => {
        printed.push(document);
        return new TextEncoder().encode('%PDF-1.7 test');
      },
    };
    const report = await rebuildPressRoom({
      ...deps,
      printer,
      clock: () => new Date('2026-03-01T12:00:00Z'),
    });
    expect(report.releases.map((r) => r.pdf)).toEqual(['printed', 'printed']);
    expect(printed.map((d) => [d?.title, d?.modified])).toEqual([
      [expect.any(String), publishedAt.toISOString()],
      [expect.any(String), publishedAt.toISOString()],
    ]);
  });

  it('does not overwrite a publish that slipped in during the rebuild: that release fails, the others go on', async () => {
    const racing = new (class extends FailingStore {})({
      signingSecret: 'a-secret-of-at-least-thirty-two-characters',
      publicUrl: 'https://press.example.org',
    });
    const raceDeps = { ...deps, store: racing };
    await publishRelease('publications/etude.md', raceDeps);
    await publishRelease('publications/embargo.md', raceDeps);
    // Another publish of etude lands between the rebuild's read of its manifest and its switch.
    let raced = false;
    const originalPut = racing.put.bind(racing);
    racing.put = async (key, body, options) => {
      if (!raced && key.startsWith('archive/etude-villes/') && key.endsWith('/email.html')) {
        raced = true;
        await publishRelease('publications/etude.md', raceDeps);
      }
      return originalPut(key, body, options);
    };
    const report = await rebuildPressRoom({ ...raceDeps, files: renamed() });
    expect(report.releases).toEqual([
      {
        slug: 'etude-villes',
        outcome: 'failed',
        reason: expect.stringContaining('published by someone else during the rebuild'),
      },
      expect.objectContaining({ slug: 'sous-embargo', outcome: 'changed' }),
    ]);
    const etude = await getJson<ReleaseManifest>(racing, 'archive/etude-villes/release.json');
    expect(etude?.value.summary.publishers).toEqual(['Villes Internet']);
    const folders = new Set<string>();
    for await (const item of listAll(racing, 'archive/etude-villes/'))
      folders.add(item.key.split('/')[2] ?? '');
    expect([...folders].sort()).toEqual(['release.json', etude?.value.version].sort());
  });
});

describe('withdrawRelease', () => {
  it('refuses a reason on several lines, and keeps the first record when asked again', async () => {
    await expect(withdrawRelease('etude-villes', { reason: 'a\nb', by: 'test@host' }, deps)).rejects.toThrow(
      '--reason must be one line',
    );
    const first = await withdrawRelease('etude-villes', { reason: 'erreur', by: 'a@host' }, deps);
    expect(first).toMatchObject({
      outcome: 'withdrawn',
      withdrawal: { reason: 'erreur', by: 'a@host', wasPublic: true },
    });
    const again = await withdrawRelease('etude-villes', { reason: 'autre', by: 'b@host' }, deps);
    expect(again).toMatchObject({ outcome: 'already', withdrawal: first.withdrawal, siteObjectsWritten: 0 });
    // An embargoed release was never public: no notice at its address.
    const embargoed = await withdrawRelease('sous-embargo', { reason: 'annulé', by: 'a@host' }, deps);
    expect(embargoed.withdrawal.wasPublic).toBe(false);
    expect(await store.head('site/releases/sous-embargo/index.html')).toBeUndefined();
    expect(await store.head('site/releases/etude-villes/index.html')).toBeDefined();
  });
});

describe('withdrawRelease cut short after its record, then run again', () => {
  const slug = 'villes-taguees';
  /** The workspace with a tagged release (`title`: another one is a correction of it). */
  const files = (title = 'Les villes et leurs tags') => {
    const all = releaseWorkspace();
    all['publications/taguee.md'] = releaseText(slug, title, 'tags:\n  - Numérique\n  - Villes moyennes\n');
    return workspaceFiles(all);
  };
  const correctedFiles = () => files('Les villes et leurs tags, corrigé');

  /** A store with the three releases published, the same clock as the others. */
  async function world(): Promise<{ store: FailingStore; deps: PublishDeps }> {
    const s = new FailingStore({
      signingSecret: 'a-secret-of-at-least-thirty-two-characters',
      publicUrl: 'https://press.example.org',
    });
    const d = releaseDeps(s, templates, files(), () => publishedAt);
    for (const file of ['publications/etude.md', 'publications/embargo.md', 'publications/taguee.md'])
      await publishRelease(file, d);
    return { store: s, deps: d };
  }

  const manifestOf = async (s: ObjectStore, name = slug) =>
    (await getJson<ReleaseManifest>(s, `archive/${name}/release.json`))?.value;
  /** Its manifest but for the version's name, which is drawn at random. */
  const recordOf = async (s: ObjectStore) => {
    const { version: _, ...rest } = (await manifestOf(s)) ?? ({} as ReleaseManifest);
    return rest;
  };

  /** The press room objects of `s` missing, extra or different from those of `whole`: none. */
  async function siteDifferences(s: ObjectStore, whole: ObjectStore): Promise<string[]> {
    const [mine, theirs] = [await contents(s, 'site/'), await contents(whole, 'site/')];
    return [...new Set([...Object.keys(mine), ...Object.keys(theirs)])]
      .filter((key) => mine[key] !== theirs[key])
      .sort();
  }

  /** The press room objects, but for the release's own folder, that name it. */
  async function listing(s: ObjectStore, name: string): Promise<string[]> {
    const found: string[] = [];
    for (const [key, body] of Object.entries(await contents(s, 'site/'))) {
      if (key.startsWith(`site/releases/${name}/`)) continue;
      if (Buffer.from(body, 'base64').toString('utf8').includes(`releases/${name}/`)) found.push(key);
    }
    return found;
  }

  it.each([
    ['its first press room write', 'site/', 1],
    ['a later press room write', 'site/', 4],
    ['the catalogue', 'catalog/', 1],
    ['the record that it is done', 'archive/', 2],
  ])('a withdrawal cut short at %s is finished by the next one', async (_at, prefix, n) => {
    const whole = await world();
    expect(await listing(whole.store, slug)).not.toEqual([]);
    const done = await withdrawRelease(slug, { reason: 'erreur', by: 'a@host' }, whole.deps);
    expect(done).toMatchObject({ outcome: 'withdrawn', withdrawal: { doneAt: publishedAt.toISOString() } });
    expect(await listing(whole.store, slug)).toEqual([]);

    const cut = await world();
    cut.store.failWriteUnder(prefix, n);
    await expect(withdrawRelease(slug, { reason: 'erreur', by: 'a@host' }, cut.deps)).rejects.toThrow(
      'disk full',
    );
    const recorded = await manifestOf(cut.store);
    expect(recorded?.withdrawn).toMatchObject({ reason: 'erreur', by: 'a@host' });
    expect(recorded?.withdrawn?.doneAt).toBeUndefined();

    // Another reason this time: the first record stands, the press room part is done.
    const retry = await withdrawRelease(slug, { reason: 'autre', by: 'b@host' }, cut.deps);
    expect(retry).toMatchObject({ outcome: 'withdrawn', resumed: true, withdrawal: done.withdrawal });
    expect(retry.siteObjectsWritten).toBeGreaterThan(0);
    expect(await siteDifferences(cut.store, whole.store)).toEqual([]);
    expect(await listing(cut.store, slug)).toEqual([]);
    expect(await recordOf(cut.store)).toEqual(await recordOf(whole.store));

    // Done now: a repeat writes nothing.
    const site = await contents(cut.store, 'site/');
    const again = await withdrawRelease(slug, { reason: 'autre', by: 'b@host' }, cut.deps);
    expect(again).toMatchObject({ outcome: 'already', siteObjectsWritten: 0 });
    expect(again.resumed).toBeUndefined();
    expect(await contents(cut.store, 'site/')).toEqual(site);
  });

  it.each([
    ['its first press room write', true, 'site/'],
    ['its tags in the catalogue', false, 'catalog/tags/'],
  ])(
    'a purge cut short at %s is finished by the next withdrawal (purge asked again: %s)',
    async (_at, purge, prefix) => {
      const whole = await world();
      await withdrawRelease(slug, { reason: 'erreur', by: 'a@host', purge: true }, whole.deps);
      expect(await listing(whole.store, slug)).toEqual([]);

      const cut = await world();
      const version = (await manifestOf(cut.store))?.version ?? '';
      cut.store.failWriteUnder(prefix);
      await expect(
        withdrawRelease(slug, { reason: 'erreur', by: 'a@host', purge: true }, cut.deps),
      ).rejects.toThrow('disk full');
      expect((await manifestOf(cut.store))?.summary.tags).toEqual([]);

      const retry = await withdrawRelease(
        slug,
        { reason: 'erreur', by: 'a@host', ...(purge && { purge }) },
        cut.deps,
      );
      expect(retry).toMatchObject({ outcome: 'purged', resumed: true });
      expect(await siteDifferences(cut.store, whole.store)).toEqual([]);
      expect(await listing(cut.store, slug)).toEqual([]);
      expect(await contents(cut.store, `archive/${slug}/${version}/`)).toEqual({});
      expect(await recordOf(cut.store)).toEqual(await recordOf(whole.store));
      expect(
        await withdrawRelease(slug, { reason: 'erreur', by: 'a@host', purge: true }, cut.deps),
      ).toMatchObject({
        outcome: 'already',
        siteObjectsWritten: 0,
      });
    },
  );

  it('a purge cut short at the tag index is finished by the next one: its tags counted again', async () => {
    const whole = await world();
    await withdrawRelease(slug, { reason: 'erreur', by: 'a@host', purge: true }, whole.deps);
    const tagsOf = async (s: ObjectStore) => (await getJson(s, 'catalog/tags.json'))?.value;
    // Its tags are its own: the purge takes them out of the index.
    expect(Object.keys((await tagsOf(whole.store)) as object)).not.toContain('villes-moyennes');

    const cut = await world();
    // Every tag shard written, the index not.
    cut.store.failWriteUnder('catalog/tags.json');
    await expect(
      withdrawRelease(slug, { reason: 'erreur', by: 'a@host', purge: true }, cut.deps),
    ).rejects.toThrow('disk full writing catalog/tags.json');
    expect((await manifestOf(cut.store))?.withdrawn?.tags).toEqual([
      { slug: 'numerique', name: 'Numérique' },
      { slug: 'villes-moyennes', name: 'Villes moyennes' },
    ]);

    const retry = await withdrawRelease(slug, { reason: 'erreur', by: 'a@host' }, cut.deps);
    expect(retry).toMatchObject({ outcome: 'purged', resumed: true });
    expect(await tagsOf(cut.store)).toEqual(await tagsOf(whole.store));
    expect(await siteDifferences(cut.store, whole.store)).toEqual([]);
    expect(await listing(cut.store, slug)).toEqual([]);
    // Done: the record no longer needs its tags, as a whole purge leaves it.
    expect((await manifestOf(cut.store))?.withdrawn?.tags).toBeUndefined();
    expect(await recordOf(cut.store)).toEqual(await recordOf(whole.store));
  });

  it('cancels the lift of a release withdrawn under its embargo when the first run stopped before it', async () => {
    const scheduled = new Set(['sous-embargo']);
    const cancelled: string[] = [];
    const lifts: LiftCanceller = {
      cancel: async (name) => {
        cancelled.push(name);
        return scheduled.delete(name);
      },
    };
    const cut = await world();
    cut.store.failWriteUnder('site/');
    await expect(
      withdrawRelease('sous-embargo', { reason: 'annulé', by: 'a@host' }, { ...cut.deps, lifts }),
    ).rejects.toThrow('disk full');
    expect(cancelled).toEqual([]);

    const retry = await withdrawRelease(
      'sous-embargo',
      { reason: 'annulé', by: 'a@host' },
      { ...cut.deps, lifts },
    );
    expect(retry).toMatchObject({
      outcome: 'withdrawn',
      resumed: true,
      withdrawal: { wasPublic: false },
      lift: { outcome: 'deleted', name: 'sous-embargo' },
    });
    expect(scheduled.size).toBe(0);
    // Done: a repeat leaves the lifts alone.
    const again = await withdrawRelease(
      'sous-embargo',
      { reason: 'annulé', by: 'a@host' },
      { ...cut.deps, lifts },
    );
    expect(again).toMatchObject({ outcome: 'already', siteObjectsWritten: 0 });
    expect(again.lift).toBeUndefined();
    expect(cancelled).toEqual(['sous-embargo']);
  });

  it('does not record done a withdrawal whose lift could not be deleted: the next one tries it again', async () => {
    const cancelled: string[] = [];
    let refusals = 1;
    const lifts: LiftCanceller = {
      cancel: async (name) => {
        cancelled.push(name);
        if (refusals-- > 0) throw new Error('not authorized to perform: scheduler:DeleteSchedule');
        return true;
      },
    };
    const { store: s, deps: d } = await world();
    const first = await withdrawRelease('sous-embargo', { reason: 'annulé', by: 'a@host' }, { ...d, lifts });
    expect(first).toMatchObject({
      outcome: 'withdrawn',
      lift: { outcome: 'failed', name: 'sous-embargo', reason: expect.stringContaining('DeleteSchedule') },
    });
    expect(first.withdrawal.doneAt).toBeUndefined();
    expect((await manifestOf(s, 'sous-embargo'))?.withdrawn?.doneAt).toBeUndefined();
    expect(await listing(s, 'sous-embargo')).toEqual([]);

    const retry = await withdrawRelease('sous-embargo', { reason: 'annulé', by: 'a@host' }, { ...d, lifts });
    expect(retry).toMatchObject({
      outcome: 'withdrawn',
      resumed: true,
      withdrawal: { reason: 'annulé', doneAt: publishedAt.toISOString() },
      lift: { outcome: 'deleted', name: 'sous-embargo' },
    });
    expect((await manifestOf(s, 'sous-embargo'))?.withdrawn?.doneAt).toBe(publishedAt.toISOString());
    expect(cancelled).toEqual(['sous-embargo', 'sous-embargo']);
    // Done now: a repeat leaves the lifts alone.
    expect(
      await withdrawRelease('sous-embargo', { reason: 'annulé', by: 'a@host' }, { ...d, lifts }),
    ).toMatchObject({ outcome: 'already', siteObjectsWritten: 0 });
    expect(cancelled).toHaveLength(2);
  });

  it('takes a lift already gone as it is, and a retry after the embargo still tries its lift', async () => {
    const cancelled: string[] = [];
    const lifts: LiftCanceller = {
      cancel: async (name) => {
        cancelled.push(name);
        return false;
      },
    };
    const cut = await world();
    cut.store.failWriteUnder('site/', 3);
    await expect(
      withdrawRelease('sous-embargo', { reason: 'annulé', by: 'a@host' }, { ...cut.deps, lifts }),
    ).rejects.toThrow('disk full');
    // Run again once the embargo has passed: it was withdrawn under it, its lift may still wait.
    const later = { ...cut.deps, lifts, clock: () => new Date('2026-02-01T00:00:00Z') };
    const retry = await withdrawRelease('sous-embargo', { reason: 'annulé', by: 'a@host' }, later);
    expect(retry).toMatchObject({ resumed: true, lift: { outcome: 'none', name: 'sous-embargo' } });
    expect(retry.withdrawal.at).toBe(publishedAt.toISOString());
    expect(cancelled).toEqual(['sous-embargo']);
    expect(await listing(cut.store, 'sous-embargo')).toEqual([]);
  });

  it('rewrites the press room once for a withdrawal recorded before it was known to be done', async () => {
    const { store: s, deps: d } = await world();
    await withdrawRelease(slug, { reason: 'erreur', by: 'a@host' }, d);
    const site = await contents(s, 'site/');
    // As an older version left it: no `doneAt`.
    const current = await getJson<ReleaseManifest>(s, `archive/${slug}/release.json`);
    const { doneAt: _, ...older } = current?.value.withdrawn ?? {
      at: '',
      reason: '',
      by: '',
      wasPublic: true,
    };
    await s.put(`archive/${slug}/release.json`, JSON.stringify({ ...current?.value, withdrawn: older }));

    const once = await withdrawRelease(slug, { reason: 'autre', by: 'b@host' }, d);
    expect(once).toMatchObject({ outcome: 'withdrawn', resumed: true, withdrawal: { reason: 'erreur' } });
    expect(once.siteObjectsWritten).toBeGreaterThan(0);
    expect(await contents(s, 'site/')).toEqual(site);
    expect((await manifestOf(s))?.withdrawn?.doneAt).toBe(publishedAt.toISOString());
    expect(await withdrawRelease(slug, { reason: 'autre', by: 'b@host' }, d)).toMatchObject({
      outcome: 'already',
      siteObjectsWritten: 0,
    });
  });
  it('keeps no tags of a purged release in its record once its pages are done, even when its lift failed', async () => {
    const lifts: LiftCanceller = {
      cancel: async () => {
        throw new Error('not authorized to perform: scheduler:DeleteSchedule');
      },
    };
    const { store: s, deps: d } = await world();
    const purged = await withdrawRelease(
      'sous-embargo',
      { reason: 'annulé', by: 'a@host', purge: true },
      { ...d, lifts },
    );
    expect(purged).toMatchObject({ outcome: 'purged', lift: { outcome: 'failed' } });
    const record = (await manifestOf(s, 'sous-embargo'))?.withdrawn;
    expect(record?.purgedAt).toBeDefined();
    expect(record?.doneAt).toBeUndefined();
    expect(record && 'tags' in record).toBe(false);
  });

  it('carries out a withdrawal asked before a correction was published, not one asked before the release was brought back', async () => {
    const { store: s, deps: d } = await world();
    const askedAt = publishedAt.toISOString();
    // A correction published after the request was made: the withdrawal asked still holds.
    const later = (days: number) => () => new Date(publishedAt.getTime() + days * 86_400_000);
    const corrected = releaseDeps(s, templates, correctedFiles(), later(1));
    expect(await publishRelease('publications/taguee.md', corrected)).toMatchObject({ action: 'updated' });
    const withdrawn = await withdrawRelease(slug, { reason: 'erreur', by: 'a@host', askedAt }, d);
    expect(withdrawn.outcome).toBe('withdrawn');
    // Brought back with --replace: the same request, delivered again, is not carried out.
    const restored = releaseDeps(s, templates, correctedFiles(), later(2));
    await publishRelease('publications/taguee.md', restored, { replace: true });
    expect((await manifestOf(s))?.restoredAt).toBe(later(2)().toISOString());
    await expect(withdrawRelease(slug, { reason: 'erreur', by: 'a@host', askedAt }, d)).rejects.toThrow(
      /brought back from a withdrawal/,
    );
    expect((await manifestOf(s))?.withdrawn).toBeUndefined();
    // A correction after that keeps the mark; a withdrawal asked after it is carried out.
    await publishRelease('publications/taguee.md', releaseDeps(s, templates, files(), later(3)));
    expect((await manifestOf(s))?.restoredAt).toBe(later(2)().toISOString());
    const asked = later(3)().toISOString();
    expect((await withdrawRelease(slug, { reason: 'erreur', by: 'a@host', askedAt: asked }, d)).outcome).toBe(
      'withdrawn',
    );
  });
});
