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
import { memoryFiles } from '../support/memory-files.ts';

/** A store that fails its `n`th write from now on (once), like a full disk. */
class FailingStore extends MemoryObjectStore {
  private failAt = Number.POSITIVE_INFINITY;

  failWrite(n: number): void {
    this.failAt = n;
  }

  private tick(key: string): void {
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
