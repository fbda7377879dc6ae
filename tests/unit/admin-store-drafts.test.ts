import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { storeIssueSources } from '../../lambdas/adapters/store-issue-sources.ts';
import { storeReleaseSources } from '../../lambdas/adapters/store-release-sources.ts';
import { storeSignedOutSessions } from '../../lambdas/adapters/store-signed-out.ts';
import { storeWithdrawals } from '../../lambdas/adapters/store-withdrawals.ts';
import { SignedOutSessions } from '../../lambdas/core/admin/session.ts';
import {
  slugOfWithdrawalRequest,
  withdrawalRequestKey,
  withdrawalRequestSchema,
} from '../../lambdas/core/archive/withdrawal-request.ts';
import { listAll, VersionConflictError } from '../../lambdas/core/store/object-store.ts';

const issue = '---\nid: lettre\ntitle: La lettre\nitems: []\n---\n';

function setUp() {
  const store = new MemoryObjectStore({ signingSecret: 's'.repeat(64), publicUrl: 'https://example.org' });
  const releases = storeReleaseSources(store);
  return { store, releases, issues: storeIssueSources(releases.drafts) };
}

describe("the admin's newsletter issues in the data bucket (store-issue-sources.ts)", () => {
  it('lists the .md files under publications/newsletters/ only, and the releases list none of them', async () => {
    const { store, releases, issues } = setUp();
    await store.put('publications/newsletters/b.md', issue);
    await store.put('publications/newsletters/a.md', issue);
    await store.put('publications/newsletters/a.errors.json', '{}');
    await store.put('publications/2021/etude.md', '---\ntitle: x\n---\n');
    expect(await issues.list()).toEqual([
      { path: '/publications/newsletters/a.md', name: 'publications/newsletters/a.md' },
      { path: '/publications/newsletters/b.md', name: 'publications/newsletters/b.md' },
    ]);
    expect((await releases.list()).map((f) => f.name)).toEqual(['publications/2021/etude.md']);
    expect(issues.folder).toBe('/publications/newsletters');
  });

  it('creates a draft once (marked), saves over the object last read only, and hands it over without the mark', async () => {
    const { store, releases, issues } = setUp();
    const file = await issues.create('lettre.md', issue);
    expect(file).toEqual({
      path: '/publications/newsletters/lettre.md',
      name: 'publications/newsletters/lettre.md',
    });
    expect(await issues.create('lettre.md', 'autre')).toBe('exists');
    const key = 'publications/newsletters/lettre.md';
    expect((await store.head(key))?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });
    if (file === 'exists') throw new Error('created above');
    // Not read through the admin's files: no version to save over.
    await expect(issues.write(file, 'x')).rejects.toThrow(VersionConflictError);
    await releases.files.readBytes(file.path);
    // Changed by someone else since it was read: refused, nothing written.
    await store.put(key, `${issue}changed\n`);
    await expect(issues.write(file, 'mine')).rejects.toThrow(VersionConflictError);
    expect(new TextDecoder().decode((await store.get(key))?.body)).toBe(`${issue}changed\n`);
    await releases.files.readBytes(file.path);
    await issues.write(file, `${issue}edited\n`);
    expect((await store.head(key))?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });
    await issues.handOver(file);
    const handed = await store.get(key);
    expect(new TextDecoder().decode(handed?.body)).toBe(`${issue}edited\n`);
    expect(handed?.metadata ?? {}).toEqual({});
  });
});

describe("the admin's withdrawal requests (store-withdrawals.ts, withdrawal-request.ts)", () => {
  it('writes one request per slug, as the publish function reads it back', async () => {
    const { store } = setUp();
    const at = new Date('2026-12-07T10:00:00Z');
    await storeWithdrawals(store, () => at)('etude-villes', { reason: 'Une erreur', by: 'web admin' });
    const key = withdrawalRequestKey('etude-villes');
    expect(key).toBe('publications/withdrawals/etude-villes.json');
    expect(slugOfWithdrawalRequest(key)).toBe('etude-villes');
    const object = await store.get(key);
    expect(withdrawalRequestSchema.parse(JSON.parse(new TextDecoder().decode(object?.body)))).toEqual({
      slug: 'etude-villes',
      reason: 'Une erreur',
      by: 'web admin',
      at: '2026-12-07T10:00:00.000Z',
    });
  });

  it('takes no other key for a request: a publication, a report, a slug that is not one', () => {
    for (const key of [
      'publications/withdrawals/etude.md',
      'publications/withdrawals/etude.errors.json.md',
      'publications/withdrawals/Pas Un Slug.json',
      'publications/withdrawals/a/b.json',
      'publications/etude.json',
    ])
      expect(slugOfWithdrawalRequest(key), key).toBeUndefined();
  });
});

describe("the admin's sign-outs in the data bucket (store-signed-out.ts)", () => {
  const session = { id: 'c2Vzc2lvbi1pZA', expiresAt: new Date('2026-12-07T18:00:00Z') };
  const before = new Date('2026-12-07T17:59:59Z');

  it('knows a session ended through another instance, until the session would have ended', async () => {
    const { store } = setUp();
    const one = storeSignedOutSessions(store);
    const other = storeSignedOutSessions(store);
    expect(await other.has(session, before)).toBe(false);
    await one.end(session);
    expect(await other.has(session, before)).toBe(true);
    expect(await other.has({ ...session, id: 'another' }, before)).toBe(false);
    expect(await other.has(session, session.expiresAt)).toBe(false);
    // The id is not in the key: the bucket's access logs never show one.
    const keys = [];
    for await (const item of listAll(store, 'admin/')) keys.push(item.key);
    expect(keys).toEqual([expect.stringMatching(/^admin\/signed-out\/[0-9a-f]{64}$/)]);
  });

  it('behaves as the in-memory sign-outs of pressroom serve', async () => {
    for (const signedOut of [new SignedOutSessions(), storeSignedOutSessions(setUp().store)]) {
      await signedOut.end(session);
      expect(await signedOut.has(session, before)).toBe(true);
      expect(await signedOut.has(session, new Date('2026-12-07T18:00:01Z'))).toBe(false);
    }
  });
});
