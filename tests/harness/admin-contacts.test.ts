import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSuppressions } from '../../lambdas/core/contacts/audience.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { getText, listAll } from '../../lambdas/core/store/object-store.ts';
import { stackImportMaxBytes, stackImportMaxRows } from '../../lambdas/handlers/admin-contacts.ts';
import { importCsv } from '../support/dispatch-fixtures.ts';
import { S3RVER_CREDENTIALS } from '../support/s3rver.ts';
import { adminClient } from './admin-client.ts';
import { type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * The contacts section of the web admin on the stack as synthesized: signed in through the
 * template's Cognito, through the distribution's /admin/* to the admin function's real bundle,
 * with the template's environment and IAM (a denied call fails the test). The contacts are the
 * data bucket's, with the ids of the stack's signing secret; a contact's history is the ledger
 * table's; the lists offered are those of config/lists.yaml.
 */

let world: HarnessWorld;
useHarness({ sender: 'presse@villes-internet.net' }, (started) => {
  world = started;
});

const { site, admin, signIn, signedInForChanges } = adminClient(() => world);

const seeded = [
  'Prénom;Nom;Courriel;Média',
  'Zoé;Lefèvre;zoe.lefevre@exemple.fr;Ouest-France',
  'Éric;Martin;eric.martin@exemple.fr;Le Monde',
  'Inès;Dupont;ines.dupont@exemple.fr;Sud Ouest',
].join('\r\n');

const zoe = 'zoe.lefevre@exemple.fr';
const eric = 'eric.martin@exemple.fr';

beforeAll(async () => {
  const keys = contactKeys(world.secret);
  await importCsv({ store: world.store, keys }, seeded, {
    file: 'presse.csv',
    list: 'presse',
    now: new Date('2026-12-01T09:00:00Z'),
  });
  await world.store.put(
    'config/lists.yaml',
    'lists:\n  presse:\n    title: Journalistes\n    from: Presse <presse@villes-internet.net>\n  lettre:\n    title: { fr: La lettre, en: The newsletter }\n    from: Presse <presse@villes-internet.net>\n',
  );
  // A campaign that sent Zoé a message: its entry in the ledger table, as the send function writes it.
  await world.store.put('campaigns/index.json', JSON.stringify({ names: ['etude-villes'] }));
  const entry = {
    contact: keys.idOf(zoe),
    email: zoe,
    status: 'claimed' as const,
    messageId: '<m1@villes-internet.net>',
    attempts: 1,
    claimedAt: '2026-12-02T08:00:00.000Z',
  };
  const version = await world.ledger.claim('etude-villes', entry);
  await world.ledger.record(
    'etude-villes',
    { ...entry, status: 'sent', sentAt: '2026-12-02T08:00:01.000Z', mailer: 'ses' },
    version as string,
  );
});

afterEach(() => {
  expect(takeDenials(world)).toEqual([]);
});

const idOf = (email: string) => contactKeys(world.secret).idOf(email);

/** A multipart form of fields and one CSV file, as a browser posts the import's first step. */
function multipart(fields: Record<string, string>, file: { name: string; csv: string }) {
  const boundary = '----pressroomharness7MA4YWxkTrZu0gW';
  const parts = [
    ...Object.entries(fields).map(
      ([name, value]) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    ),
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n${file.csv}\r\n`,
    `--${boundary}--\r\n`,
  ];
  return { body: parts.join(''), type: `multipart/form-data; boundary=${boundary}` };
}

describe('the contacts of the web admin on the stack as synthesized', () => {
  it('answers without sign-in with 303 to the sign-in (a page) and 401 (the API), and nothing of the contacts', async () => {
    const page = await admin('/admin/contacts');
    expect(page.statusCode).toBe(303);
    expect(page.headers?.location).toBe('/admin/sign-in');
    const api = await admin('/admin/api/contacts');
    expect(api.statusCode).toBe(401);
    const erase = await admin(`/admin/contacts/${idOf(zoe)}/erase`, { method: 'POST', body: '' });
    expect(erase.statusCode).toBe(401);
    for (const answer of [page, api, erase]) expect(answer.body).not.toContain('exemple.fr');
    expect(await findContact(world.store, contactKeys(world.secret), zoe)).toMatchObject({
      contact: { email: zoe },
    });
  });

  it('lists and searches the contacts of the bucket, with the lists of config/lists.yaml and their titles', async () => {
    const session = await signIn();
    const page = await admin('/admin/contacts', { headers: { cookie: session } });
    expect(page.statusCode, page.body).toBe(200);
    for (const email of [zoe, eric, 'ines.dupont@exemple.fr']) expect(page.body).toContain(email);
    const all = await admin('/admin/api/contacts', { headers: { cookie: session } });
    expect(all.statusCode, all.body).toBe(200);
    const listed = JSON.parse(all.body ?? '');
    expect(listed).toMatchObject({ total: 3, all: 3, page: 1, pages: 1 });
    expect(listed.lists).toEqual([
      { name: 'lettre', count: 0, title: 'La lettre' },
      { name: 'presse', count: 3, title: 'Journalistes' },
    ]);
    // Accents and case ignored, as locally.
    const found = await admin('/admin/api/contacts?q=LEFEVRE', { headers: { cookie: session } });
    const result = JSON.parse(found.body ?? '');
    expect(result.total).toBe(1);
    expect(result.contacts).toEqual([
      expect.objectContaining({ id: idOf(zoe), email: zoe, name: 'Zoé Lefèvre', status: 'subscribed' }),
    ]);
    const none = await admin('/admin/contacts?q=personne', { headers: { cookie: session } });
    expect(none.statusCode).toBe(200);
    expect(none.body).not.toContain(zoe);
  });

  it("shows a contact's profile with its history from the ledger table", async () => {
    const session = await signIn();
    const api = await admin(`/admin/api/contacts/${idOf(zoe)}`, { headers: { cookie: session } });
    expect(api.statusCode, api.body).toBe(200);
    const profile = JSON.parse(api.body ?? '');
    expect(profile.contact).toMatchObject({ email: zoe, firstName: 'Zoé' });
    expect(profile.deliveries).toEqual([
      { campaign: 'etude-villes', entry: expect.objectContaining({ status: 'sent', mailer: 'ses' }) },
    ]);
    expect(profile.history.received).toEqual([expect.objectContaining({ campaign: 'etude-villes' })]);
    const page = await admin(`/admin/contacts/${idOf(zoe)}`, { headers: { cookie: session } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/id="history"[\s\S]*etude-villes/);
    const unknown = await admin(`/admin/contacts/${'0'.repeat(32)}`, { headers: { cookie: session } });
    expect(unknown.statusCode).toBe(404);
  });

  it('unsubscribes a contact from a list: a suppression for that list in the bucket', async () => {
    const { headers } = await signedInForChanges();
    const done = await admin(`/admin/api/contacts/${idOf(eric)}/unsubscribe`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ list: 'presse' }),
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(JSON.parse(done.body ?? '')).toEqual({ list: 'presse', already: false });
    const suppression = (await loadSuppressions(world.store)).get(idOf(eric));
    expect(suppression?.lists?.presse).toMatchObject({ reason: expect.any(String) });
    const listed = await admin(`/admin/api/contacts?q=martin&list=presse`, { headers });
    expect(JSON.parse(listed.body ?? '').contacts[0].status).not.toBe('subscribed');
  });

  it('erases a contact through the confirmation page: the person gone from the bucket and the ledger, a hashed suppression left', async () => {
    const { session, csrf } = await signedInForChanges();
    const ask = await admin(`/admin/contacts/${idOf(zoe)}/erase`, { headers: { cookie: session } });
    expect(ask.statusCode).toBe(200);
    expect(ask.body).toContain('id="confirm-erase"');
    const erased = await admin(`/admin/contacts/${idOf(zoe)}/erase`, {
      method: 'POST',
      headers: { cookie: session, origin: site(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(erased.statusCode, /id="refused">([^<]*)/.exec(erased.body ?? '')?.[1]).toBe(200);
    expect(erased.body).toContain('id="result"');
    expect(erased.body).toContain(idOf(zoe));
    const keys = contactKeys(world.secret);
    const found = await findContact(world.store, keys, zoe);
    expect(found.contact).toBeUndefined();
    expect(found.suppression).toMatchObject({ id: idOf(zoe), all: { reason: expect.any(String) } });
    expect(found.suppression?.email).toBeUndefined();
    // Nowhere in the bucket's contacts and suppressions, nor in the ledger table.
    for (const prefix of ['contacts/', 'suppressions/'])
      for await (const item of listAll(world.store, prefix))
        expect(await getText(world.store, item.key), item.key).not.toContain(zoe);
    expect((await world.ledger.entries('etude-villes', [{ id: idOf(zoe) }])).size).toBe(0);
    // Nor in an old version of its shards (the bucket is versioned): the erasure removed them.
    const operator = new S3Client({
      region: 'eu-west-3',
      endpoint: world.edge.endpoint,
      credentials: S3RVER_CREDENTIALS,
      forcePathStyle: true,
    });
    const Bucket = world.outputs.DataBucketName as string;
    const shard = idOf(zoe).slice(0, 2);
    const versions = [];
    for (const Prefix of [`contacts/shards/${shard}`, `suppressions/shards/${shard}`]) {
      const listed = await operator.send(new ListObjectVersionsCommand({ Bucket, Prefix }));
      versions.push(...(listed.Versions ?? []).filter((v) => !v.IsLatest));
    }
    expect(versions).toEqual([]);
    // The page counts them.
    expect(erased.body).toMatch(/anciennes versions : [1-9]\d*<\/p>/);
    const gone = await admin(`/admin/contacts/${idOf(zoe)}`, { headers: { cookie: session } });
    expect(gone.statusCode).toBe(404);
  });

  it('imports a CSV in three steps (upload, preview, confirm) into contacts in the bucket, the upload then gone', async () => {
    const { session, csrf } = await signedInForChanges();
    const form = await admin('/admin/contacts/import', { headers: { cookie: session } });
    expect(form.statusCode).toBe(200);
    // The stack's limits, said before anything is sent.
    expect(form.body).toContain(`${stackImportMaxBytes} octets, ${stackImportMaxRows} lignes de contacts`);
    const csv =
      'Courriel,Prénom,Nom\nlea.moreau@exemple.fr,Léa,Moreau\nhugo.bernard@exemple.fr,Hugo,Bernard\n';
    const upload = multipart({ csrf, list: 'lettre', tags: 'élus' }, { name: 'elus.csv', csv });
    const posted = { cookie: session, origin: site(), 'content-type': upload.type };
    const staged = await admin('/admin/contacts/import', {
      method: 'POST',
      headers: posted,
      body: upload.body,
    });
    expect(staged.statusCode, staged.body).toBe(303);
    const to = new URL(staged.headers?.location as string, site());
    const id = /^\/admin\/contacts\/import\/([0-9a-f]{24})$/.exec(to.pathname)?.[1] as string;
    expect(id).toBeDefined();
    const preview = await admin(`${to.pathname}${to.search}`, { headers: { cookie: session } });
    expect(preview.statusCode, preview.body).toBe(200);
    expect(preview.body).toContain('lea.moreau@exemple.fr');
    expect(
      (await findContact(world.store, contactKeys(world.secret), 'lea.moreau@exemple.fr')).contact,
    ).toBeUndefined();
    const confirm = await admin(to.pathname, {
      method: 'POST',
      headers: { ...posted, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, step: 'confirm', list: 'lettre', tags: 'élus' }).toString(),
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    const { contact } = await findContact(world.store, contactKeys(world.secret), 'lea.moreau@exemple.fr');
    expect(contact).toMatchObject({
      firstName: 'Léa',
      lists: { lettre: expect.any(Object) },
      tags: ['élus'],
    });
    // The file (personal data) is removed once imported; its report (counts) stays.
    expect(await world.store.head(`contacts/uploads/${id}/file.csv`)).toBeUndefined();
    const listed = await admin('/admin/api/contacts?list=lettre', { headers: { cookie: session } });
    expect(JSON.parse(listed.body ?? '').total).toBe(2);
  });

  it('refuses an upload over the stack limit with 413 naming it and the command line, and a file of too many rows', async () => {
    const { session, csrf } = await signedInForChanges();
    const big = 'a'.repeat(stackImportMaxBytes + 1);
    const upload = multipart({ csrf, list: 'presse' }, { name: 'big.csv', csv: big });
    const headers = { cookie: session, origin: site(), 'content-type': upload.type };
    const refused = await admin('/admin/contacts/import', { method: 'POST', headers, body: upload.body });
    expect(refused.statusCode).toBe(413);
    const { error } = JSON.parse(refused.body ?? '');
    expect(error).toContain(`${stackImportMaxBytes} bytes`);
    expect(error).toContain('pressroom contacts import <file> --list <name> --backend aws');
    // Under the bytes, over the rows one request can import: refused before it is staged.
    const rows = Array.from({ length: stackImportMaxRows + 1 }, (_, i) => `p${i}@exemple.fr`);
    const many = multipart(
      { csrf, list: 'presse' },
      { name: 'many.csv', csv: ['Courriel', ...rows].join('\n') },
    );
    const tooMany = await admin('/admin/contacts/import', {
      method: 'POST',
      headers: { ...headers, 'content-type': many.type },
      body: many.body,
    });
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.body).toContain(`${stackImportMaxRows} contact rows`);
    expect(tooMany.body).toContain('--backend aws');
    const staged = [];
    for await (const item of listAll(world.store, 'contacts/uploads/')) staged.push(item.key);
    expect(staged.filter((k) => k.endsWith('file.csv'))).toEqual([]);
  });
});
