import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { contactKeys, shardOf } from '../../lambdas/core/contacts/model.ts';
import { readSuppressionShard } from '../../lambdas/core/contacts/repository.ts';
import { eraseAddress, HistoryNotPurgedError } from '../../lambdas/core/privacy.ts';
import { listAll, serializeJson } from '../../lambdas/core/store/object-store.ts';
import { folderStores } from '../support/contacts.ts';
import { definition, registerDraft } from '../support/dispatch-fixtures.ts';

/** The erasure's last step: the history of every object that held the person. */

const keys = contactKeys('erasure-history-secret-0123456789abcdef');
const email = 'zoe@redaction.example.org';
const at = new Date('2026-03-02T09:00:00Z');

function recordingStore(fail?: Error) {
  const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'http://localhost:3000' });
  const purged: string[] = [];
  store.purgeHistory = async (prefix: string) => {
    if (fail) throw fail;
    purged.push(prefix);
    return 2;
  };
  return { store, purged };
}

describe('eraseAddress and the history of the objects that held the person', () => {
  it('purges every object that held the id, and only those, and counts what went', async () => {
    const { store, purged } = recordingStore();
    await registerDraft(store, definition('etude-a'));
    await registerDraft(store, definition('etude-b'));
    const id = keys.idOf(email);
    const erased = await eraseAddress(store, keys, email, at);
    expect(purged).toEqual([
      `contacts/shards/${shardOf(id)}`,
      `suppressions/shards/${shardOf(id)}.json`,
      `subscriptions/pending/${id}.json`,
      `subscriptions/throttle/address/${id}.json`,
      `campaigns/etude-a/ledger/${id}.json`,
      `campaigns/etude-a/feedback/${id}.json`,
      `campaigns/etude-a/events/${id}/`,
      `campaigns/etude-b/ledger/${id}.json`,
      `campaigns/etude-b/feedback/${id}.json`,
      `campaigns/etude-b/events/${id}/`,
    ]);
    expect(erased).toEqual({ id, hadContact: false, ledgerEntries: 0, messages: 0, oldVersions: 20 });
  });

  it('says the erasure is done when the history cannot be removed, without the address', async () => {
    const denied = new Error('S3 ListObjectVersions failed for s3://data/contacts/shards/0a: AccessDenied');
    const { store } = recordingStore(denied);
    const error = await eraseAddress(store, keys, email, at).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryNotPurgedError);
    expect((error as Error).message).toContain('the address is erased, but the old versions');
    expect((error as Error).message).toContain('s3:ListBucketVersions and s3:DeleteObjectVersion');
    expect((error as Error).message).toContain('run the same erase again');
    expect((error as Error).message).not.toContain(email);
    expect((error as Error).cause).toBe(denied);
    // The erasure itself went through: the suppression says so.
    const id = keys.idOf(email);
    const suppression = (await readSuppressionShard(store, shardOf(id))).suppressions[id];
    expect(suppression).toEqual({ id, all: { reason: 'erased', at: at.toISOString() } });
  });

  it('removes shard objects a stopped writer left with the person in them, an hour old and named by no index', async () => {
    const store = await folderStores('pressroom-erasure-')();
    const id = keys.idOf(email);
    const orphan = `contacts/shards/${shardOf(id)}-old-abandoned.json`;
    await store.put(orphan, serializeJson({ contacts: { [id]: { id, email } } }));
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(path.join(store.root, orphan), twoHoursAgo, twoHoursAgo);
    await eraseAddress(store, keys, email, at);
    const shards: string[] = [];
    for await (const item of listAll(store, 'contacts/shards/')) shards.push(item.key);
    expect(shards).not.toContain(orphan);
    for (const key of shards)
      expect(new TextDecoder().decode((await store.get(key))?.body)).not.toContain(email);
  });
});
