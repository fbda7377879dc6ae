import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { campaignKeys } from '../../lambdas/core/campaigns/campaign.ts';
import { listContacts, resolveAudience } from '../../lambdas/core/contacts/audience.ts';
import { applyHardBounce, applyUnsubscribe } from '../../lambdas/core/contacts/feedback.ts';
import { importContacts } from '../../lambdas/core/contacts/import.ts';
import { mergeContacts } from '../../lambdas/core/contacts/merge.ts';
import {
  type Contact,
  contactStoreKeys,
  type Suppression,
  shardOf,
} from '../../lambdas/core/contacts/model.ts';
import {
  contactsNeedMerge,
  findContact,
  MergeNeededError,
  readSuppressionShard,
} from '../../lambdas/core/contacts/repository.ts';
import { confirmSubscription, subscriptionKeys } from '../../lambdas/core/contacts/subscription.ts';
import { signSubscriptionToken, signUnsubscribeToken } from '../../lambdas/core/contacts/tokens.ts';
import { serializeJson } from '../../lambdas/core/store/object-store.ts';
import { chunked, contactsKeys, folderStores, olderId } from '../support/contacts.ts';

const keys = contactsKeys;
const now = new Date('2026-03-01T10:00:00Z');
const freshStore = folderStores('pressroom-identity-');

function importText(store: FolderObjectStore, text: string, list = 'presse') {
  return importContacts(chunked(text), 'test.csv', { store, keys }, { list, source: 'import:test.csv', now });
}

async function audience(store: FolderObjectStore, list = 'presse'): Promise<string[]> {
  const emails: string[] = [];
  for await (const c of resolveAudience(store, { list })) emails.push(c.email);
  return emails.sort();
}

/** Every file of the store's contacts and suppressions, with its bytes. */
async function snapshot(store: FolderObjectStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(file);
      else out[path.relative(store.root, file)] = await readFile(file, 'latin1');
    }
  };
  for (const top of ['contacts', 'suppressions', 'campaigns']) await walk(path.join(store.root, top));
  return out;
}

const nfc = 'jose@exämple.fr';
const nfd = 'jose@exa\u0308mple.fr';
const ascii = 'jose@xn--exmple-cua.fr';

describe('one mailbox, one contact', () => {
  it('imports the three forms of one address as one contact, shown as last written', async () => {
    const store = await freshStore();
    const report = await importText(
      store,
      `email;prénom;tags\n${nfc};José;a\n${ascii};;b\n${nfd.toUpperCase()};Pepe;c\n`,
    );
    expect(report).toMatchObject({ rows: 3, added: 1, rejected: [] });
    const contacts: Contact[] = [];
    for await (const { contact } of listContacts(store)) contacts.push(contact);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      id: keys.idOf(ascii),
      email: nfd.toUpperCase().replace('@EXA\u0308MPLE.FR', '@exa\u0308mple.fr'),
      firstName: 'Pepe',
      tags: ['a', 'b', 'c'],
    });
    expect(await importText(store, `email\n${ascii}\n`)).toMatchObject({ added: 0, updated: 1 });
    expect((await findContact(store, keys, nfc)).contact?.email).toBe(ascii);
  });

  it('a suppression of one form keeps every other form out: unsubscribe token, bounce, audience', async () => {
    const store = await freshStore();
    await importText(store, `email\n${nfc}\nother@example.org\n`);
    // The link mailed to the contact, used: its id is the canonical one.
    const token = signUnsubscribeToken(keys, { contact: keys.idOf(nfd), list: 'presse', campaign: 'c' });
    await applyUnsubscribe(store, keys, token, now);
    expect(await audience(store)).toEqual(['other@example.org']);
    // An import in another form does not bring the address back.
    expect(await importText(store, `email\n${ascii}\n`)).toMatchObject({ suppressed: 1, added: 0 });
    expect(await audience(store)).toEqual(['other@example.org']);
    // The provider reports the address its own way: every list is closed to it.
    await importText(store, `email\n${nfc}\n`, 'newsletter');
    expect(await audience(store, 'newsletter')).toEqual([nfc]);
    await applyHardBounce(store, keys, 'JOSE@XN--EXMPLE-CUA.FR', now, 'ses-1');
    expect(await audience(store, 'newsletter')).toEqual([]);
  });
});

function contact(email: string, extra: Partial<Contact>): Contact {
  return {
    id: olderId(email),
    email,
    tags: [],
    lists: {},
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...extra,
  };
}

/** A store as older versions wrote it: contacts/shards/<xx>.json, ids from the address as written. */
async function olderStore(contacts: Contact[], suppressions: Suppression[]): Promise<FolderObjectStore> {
  const store = await freshStore();
  const byShard = new Map<string, Record<string, Contact>>();
  for (const c of contacts) byShard.set(shardOf(c.id), { ...byShard.get(shardOf(c.id)), [c.id]: c });
  for (const [shard, cs] of byShard)
    await store.put(contactStoreKeys.legacyContacts(shard), serializeJson({ contacts: cs }));
  const bySup = new Map<string, Record<string, Suppression>>();
  for (const s of suppressions) bySup.set(shardOf(s.id), { ...bySup.get(shardOf(s.id)), [s.id]: s });
  for (const [shard, ss] of bySup)
    await store.put(contactStoreKeys.suppressions(shard), serializeJson({ suppressions: ss }));
  return store;
}

describe('pressroom contacts merge', () => {
  const paulNfc = 'paul@médias.fr';
  const paulNfd = 'paul@me\u0301dias.fr';
  const seed = () =>
    olderStore(
      [
        contact(nfc, {
          firstName: 'José',
          tags: ['a'],
          lists: { presse: { addedAt: '2025-01-01T00:00:00.000Z', source: 'import:a.csv' } },
          updatedAt: '2025-01-02T00:00:00.000Z',
        }),
        contact(ascii, {
          lastName: 'Martín',
          tags: ['b'],
          lists: { presse: { addedAt: '2024-06-01T00:00:00.000Z', source: 'import:b.csv' } },
          updatedAt: '2025-01-03T00:00:00.000Z',
        }),
        contact(nfd, {
          firstName: 'Pepe',
          tags: ['c'],
          lists: {
            lettre: {
              addedAt: '2025-01-04T00:00:00.000Z',
              source: 'form',
              consent: {
                method: 'double-opt-in',
                requestedAt: '2025-01-04T00:00:00.000Z',
                confirmedAt: '2025-01-04T00:01:00.000Z',
              },
            },
          },
          updatedAt: '2025-01-04T00:01:00.000Z',
        }),
        contact(paulNfc, { lists: { presse: { addedAt: '2025-01-01T00:00:00.000Z', source: 'x' } } }),
        contact('ana@example.org', {
          lists: { presse: { addedAt: '2025-01-01T00:00:00.000Z', source: 'x' } },
        }),
      ],
      [
        // José unsubscribed from the newsletter in the decomposed form...
        {
          id: olderId(nfd),
          email: nfd,
          lists: { newsletter: { reason: 'unsubscribed', at: '2025-02-01T00:00:00.000Z' } },
        },
        // ... and Paul was erased in a form no contact has any more: only the id is left.
        { id: olderId(paulNfd), all: { reason: 'erased', at: '2025-02-02T00:00:00.000Z' } },
      ],
    );

  it('is needed before sending: the audience is refused, and says what to run', async () => {
    const store = await seed();
    expect(await contactsNeedMerge(store)).toBe(true);
    await expect(audience(store)).rejects.toThrow(MergeNeededError);
    await expect(audience(store)).rejects.toThrow('run `pressroom contacts merge`');
    // A first change writes the index: the need is remembered there.
    await importText(store, 'email\nnew@example.org\n');
    expect(JSON.parse(await readFile(path.join(store.root, contactStoreKeys.index), 'utf8'))).toMatchObject({
      mergeNeeded: true,
    });
    await expect(audience(store)).rejects.toThrow(MergeNeededError);
  });

  it('reports on a dry run and writes nothing', async () => {
    const store = await seed();
    const before = await snapshot(store);
    const report = await mergeContacts(store, keys, { dryRun: true, now });
    expect(report.groups.map((g) => [g.email, g.from.length, g.erased]).sort()).toEqual([
      [nfd, 2, false],
      [paulNfc, 1, true],
    ]);
    expect(await snapshot(store)).toEqual(before);
  });

  it('merges each group into its canonical id, suppressions of any form winning; a second run does nothing', async () => {
    const store = await seed();
    const oldLink = signUnsubscribeToken(keys, { contact: olderId(nfc), list: 'presse', campaign: 'c' });
    const purged = vi.spyOn(store, 'purgeHistory');
    const report = await mergeContacts(store, keys, { now });
    // The shards just rewritten without the erased person lose their history (S3 versioning).
    expect(purged).toHaveBeenCalledWith(`contacts/shards/${shardOf(olderId(paulNfc))}`);
    expect(purged).toHaveBeenCalledWith(contactStoreKeys.suppressions(shardOf(olderId(paulNfc))));
    expect(purged).not.toHaveBeenCalledWith(`contacts/shards/${shardOf(olderId(nfd))}`);
    expect(report.groups).toHaveLength(2);
    const jose = await findContact(store, keys, nfc);
    expect(jose.contact).toEqual({
      id: keys.idOf(ascii),
      email: nfd,
      firstName: 'Pepe',
      lastName: 'Martín',
      tags: ['a', 'b', 'c'],
      lists: {
        presse: { addedAt: '2024-06-01T00:00:00.000Z', source: 'import:b.csv' },
        lettre: expect.objectContaining({ consent: expect.objectContaining({ method: 'double-opt-in' }) }),
      },
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-04T00:01:00.000Z',
    });
    expect(jose.suppression?.lists?.newsletter).toEqual({
      reason: 'unsubscribed',
      at: '2025-02-01T00:00:00.000Z',
    });
    // Erased under one form: erased under all.
    const paul = await findContact(store, keys, paulNfc);
    expect(paul.contact).toBeUndefined();
    expect(paul.suppression).toEqual({
      id: keys.idOf(paulNfc),
      all: { reason: 'erased', at: '2025-02-02T00:00:00.000Z' },
    });
    expect(JSON.stringify(await snapshot(store))).not.toContain('paul');
    // The older ids keep only a pointer, without the address.
    const pointer = (await readSuppressionShard(store, shardOf(olderId(nfd)))).suppressions[olderId(nfd)];
    expect(pointer).toEqual({ id: olderId(nfd), mergedInto: keys.idOf(ascii) });
    expect(await audience(store)).toEqual(['ana@example.org', nfd]);
    expect(await contactsNeedMerge(store)).toBe(false);
    // A link mailed before the merge still unsubscribes the person.
    await applyUnsubscribe(store, keys, oldLink, now);
    expect(await audience(store)).toEqual(['ana@example.org']);

    const after = await snapshot(store);
    expect((await mergeContacts(store, keys, { now })).groups).toEqual([]);
    expect(await snapshot(store)).toEqual(after);
  });

  it('copies the ledger entries of an unfinished campaign, so a resumed one does not mail twice', async () => {
    const store = await seed();
    await store.put(campaignKeys.index, serializeJson({ names: ['etude'] }));
    await store.put(
      campaignKeys.record('etude'),
      serializeJson({ definition: {}, state: 'paused', source: 'x', createdAt: '', updatedAt: '', runs: [] }),
    );
    const entry = {
      contact: olderId(nfc),
      email: nfc,
      status: 'sent',
      messageId: 'm',
      attempts: 1,
      claimedAt: '',
    };
    await store.put(campaignKeys.ledger('etude', olderId(nfc)), serializeJson(entry));
    await mergeContacts(store, keys, { now });
    const copied = await store.get(campaignKeys.ledger('etude', keys.idOf(ascii)));
    expect(JSON.parse(new TextDecoder().decode(copied?.body))).toMatchObject({
      contact: keys.idOf(ascii),
      status: 'sent',
    });
  });

  it('waits for a campaign being sent', async () => {
    const store = await seed();
    await store.put(campaignKeys.index, serializeJson({ names: ['etude'] }));
    await store.put(
      campaignKeys.record('etude'),
      serializeJson({
        definition: {},
        state: 'sending',
        source: 'x',
        createdAt: '',
        updatedAt: '',
        runs: [],
      }),
    );
    await expect(mergeContacts(store, keys, { now })).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringContaining('campaign "etude" is being sent'),
    });
  });
});

describe('suppressions stored under an older id', () => {
  it('hold sending back until merged, then keep the contact out', async () => {
    // The contact was imported in ASCII; the provider reported a bounce in Unicode.
    const store = await olderStore(
      [contact(ascii, { lists: { presse: { addedAt: '2025-01-01T00:00:00.000Z', source: 'x' } } })],
      [{ id: olderId(nfc), email: nfc, all: { reason: 'hard-bounce', at: '2025-02-01T00:00:00.000Z' } }],
    );
    expect(await contactsNeedMerge(store)).toBe(true);
    await expect(audience(store)).rejects.toThrow(MergeNeededError);
    const report = await mergeContacts(store, keys, { now });
    expect(report.groups).toEqual([
      { id: keys.idOf(ascii), email: nfc, from: [], suppressions: 1, erased: false },
    ]);
    expect((await findContact(store, keys, ascii)).suppression?.all?.reason).toBe('hard-bounce');
    expect(await audience(store)).toEqual([]);
    expect(await contactsNeedMerge(store)).toBe(false);
  });

  it('a store with nothing to merge is told so once: the merge writes the index that says it', async () => {
    // Written by this version before any contact change: a suppression under the canonical id,
    // the address as the provider wrote it. Without an index, that looks like an older one.
    const store = await olderStore(
      [
        contact('ana@example.org', {
          lists: { presse: { addedAt: '2025-01-01T00:00:00.000Z', source: 'x' } },
        }),
      ],
      [{ id: keys.idOf(nfc), email: nfc, all: { reason: 'complaint', at: '2025-02-01T00:00:00.000Z' } }],
    );
    await expect(audience(store)).rejects.toThrow(MergeNeededError);
    expect((await mergeContacts(store, keys, { now })).groups).toEqual([]);
    expect(await audience(store)).toEqual(['ana@example.org']);
    expect(await contactsNeedMerge(store)).toBe(false);
  });
});

describe('a subscription asked before canonical addresses', () => {
  it('is confirmed under the canonical id, though its link carries the older one', async () => {
    const store = await freshStore();
    await importText(store, `email;prénom\n${ascii};José\n`, 'lettre');
    const older = olderId(nfc);
    await store.put(
      subscriptionKeys.pending(older),
      serializeJson({
        id: older,
        email: nfc,
        requests: {
          infos: { lang: 'fr', requestedAt: now.toISOString(), expiresAt: '2026-03-03T10:00:00.000Z' },
        },
      }),
    );
    const token = signSubscriptionToken(keys, {
      contact: older,
      list: 'infos',
      expiresAt: new Date('2026-03-03T10:00:00Z'),
    });
    const lists = {
      infos: {
        name: 'infos',
        title: { fr: 'Infos', en: 'News' },
        lang: 'fr' as const,
        from: { name: 'Presse', address: 'presse@example.org' },
      },
    };
    const outcome = await confirmSubscription(
      token,
      { store, keys, lists, clock: () => now },
      { apply: true },
    );
    expect(outcome.outcome).toBe('confirmed');
    const contacts: Contact[] = [];
    for await (const { contact } of listContacts(store)) contacts.push(contact);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({ id: keys.idOf(ascii), firstName: 'José' });
    expect(Object.keys(contacts[0]?.lists ?? {}).sort()).toEqual(['infos', 'lettre']);
  });
});
