/**
 * Who may come in as a port (lambdas/core/admin/admin.ts, `AdminIdentity`): on AWS the admin
 * token gives way to an identity provider's check (Cognito, lambdas/handlers/admin.ts), and
 * the releases are the publications of the data bucket (lambdas/adapters/store-release-sources.ts),
 * saved and created as drafts. The local behaviour is tests/unit/admin-auth.test.ts's, unchanged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAdminTemplates } from '../../lambdas/adapters/admin-files.ts';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import {
  NotOnAwsYetError,
  publishingNotOnAws,
  storeReleaseSources,
} from '../../lambdas/adapters/store-release-sources.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import {
  type AdminDeps,
  type AdminRequest,
  adminState,
  handleAdminRequest,
} from '../../lambdas/core/admin/admin.ts';
import { adminKeys, cookieNames, openSession } from '../../lambdas/core/admin/session.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { VersionConflictError } from '../../lambdas/core/store/object-store.ts';

const now = new Date('2026-12-07T10:00:00Z');
const keys = adminKeys('cognito:client-id', 's'.repeat(64));
const organization = 'name: Villes Internet\nabout: L’association des villes numériques.\n';
const publication = `---
title: Étude des villes « moyennes »
date: 2021-06-08
lang: fr
lead: Une enquête inédite.
publishers: [villes-internet]
---
Le corps du communiqué.
`;

const store = new MemoryObjectStore({
  signingSecret: 's'.repeat(64),
  publicUrl: 'https://d111111abcdef8.cloudfront.net',
});
const seen: string[] = [];
let deps: AdminDeps;

beforeAll(async () => {
  await store.put('publications/organizations/villes-internet.yaml', organization);
  await store.put('publications/2021/etude.md', publication);
  await store.put('publications/2021/etude.errors.json', '{}');
  await store.put('publications/newsletters/2021-06.md', '---\nid: 2021-06\n---\n');
  const templates = await loadTemplateFiles();
  const sources = storeReleaseSources(store);
  deps = {
    // Asked nothing when there is an identity: the right token is refused below.
    adminToken: 'the-admin-token-of-a-local-serve-not-this-one',
    identity: {
      // Stands for Cognito: one token is good.
      async bearer(token) {
        seen.push(token);
        return token === 'good-cognito-token';
      },
      hint: 'sign in first at /admin/sign-in, or send a Cognito token',
    },
    keys,
    templates: await loadAdminTemplates(),
    releases: {
      sources,
      handOver: (file) => sources.handOver(file),
      renderer: createReleaseRenderer(templates),
      sampleRecipient: templates.sampleRecipient,
      store,
      siteUrl: 'https://d111111abcdef8.cloudfront.net/',
      publishing: publishingNotOnAws(),
    },
    lang: 'fr',
    secureCookies: true,
    ...adminState(),
    now: () => now,
  };
});

const request = (
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): AdminRequest => ({
  method,
  path,
  query: {},
  headers,
  ...(body !== undefined && { body }),
  isBase64Encoded: false,
  sourceIp: '203.0.113.7',
  host: 'd111111abcdef8.cloudfront.net',
});

describe('an identity port instead of the admin token', () => {
  it('asks the identity about Bearer tokens, and tells a request without sign-in its hint', async () => {
    const refused = await handleAdminRequest(
      request('GET', '/admin/api/releases', { authorization: 'Bearer forged' }),
      deps,
    );
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({
      error: 'sign in first at /admin/sign-in, or send a Cognito token',
    });
    expect(seen).toContain('forged');
    const token = await handleAdminRequest(
      request('GET', '/admin/api/releases', {
        authorization: 'Bearer the-admin-token-of-a-local-serve-not-this-one',
      }),
      deps,
    );
    expect(token.status).toBe(401);
    const let_in = await handleAdminRequest(
      request('GET', '/admin/api/releases', { authorization: 'Bearer good-cognito-token' }),
      deps,
    );
    expect(let_in.status).toBe(200);
  });

  it('serves no token form: signing in is the provider’s', async () => {
    for (const method of ['GET', 'POST']) {
      const answer = await handleAdminRequest(request(method, '/admin/sign-in'), deps);
      expect(answer.status, method).toBe(404);
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
  });

  it('keeps the sessions of session.ts: a cookie opened by the provider’s sign-in is a session', async () => {
    const { cookie } = openSession(keys, now);
    const answer = await handleAdminRequest(
      request('GET', '/admin/releases', { cookie: `${cookieNames.session}=${cookie}` }),
      deps,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Étude des villes « moyennes »');
  });
});

describe('the releases of the data bucket', () => {
  const bearer = { authorization: 'Bearer good-cognito-token' };

  it('lists the publications under publications/, not the newsletter issues nor the reports', async () => {
    expect(await storeReleaseSources(store).list()).toEqual([
      { path: '/publications/2021/etude.md', name: 'publications/2021/etude.md' },
    ]);
    expect(await storeReleaseSources(store).organizations()).toEqual([
      { id: 'villes-internet', name: 'villes-internet' },
    ]);
    const answer = await handleAdminRequest(request('GET', '/admin/api/releases', bearer), deps);
    expect(JSON.parse(answer.body).releases).toEqual([
      expect.objectContaining({
        slug: 'etude-des-villes-moyennes',
        file: 'publications/2021/etude.md',
        problems: 0,
      }),
    ]);
  });

  it('previews a release with its organisation from beside it', async () => {
    const answer = await handleAdminRequest(
      request('GET', '/admin/releases/etude-des-villes-moyennes/email', bearer),
      deps,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('L’association des villes numériques.');
  });

  it('throws NotOnAwsYetError before writing anything, for withdrawing', async () => {
    const before = await store.get('publications/2021/etude.md');
    const answer = handleAdminRequest(
      request(
        'POST',
        '/admin/api/releases/etude-des-villes-moyennes/withdraw',
        { ...bearer, 'content-type': 'application/json' },
        JSON.stringify({ reason: 'Une erreur' }),
      ),
      deps,
    );
    await expect(answer).rejects.toThrow(NotOnAwsYetError);
    await expect(answer).rejects.toThrow(
      /^Withdrawing a release is not on AWS yet: .*pressroom archive withdraw <slug> .*--backend aws/,
    );
    expect(await store.get('publications/2021/etude.md')).toEqual(before);
    expect((await store.list('publications/')).items.map((i) => i.key).sort()).toEqual([
      'publications/2021/etude.errors.json',
      'publications/2021/etude.md',
      'publications/newsletters/2021-06.md',
      'publications/organizations/villes-internet.yaml',
    ]);
  });

  it('publishes by writing the same bytes again over the object read, without the draft mark (202); a file with problems is refused, nothing written', async () => {
    const key = 'publications/2021/etude.md';
    await store.put(key, publication, { metadata: { 'pressroom-draft': 'web-admin' } });
    const answer = await handleAdminRequest(
      request('POST', '/admin/api/releases/etude-des-villes-moyennes/publish', bearer),
      deps,
    );
    expect(answer.status).toBe(202);
    expect(JSON.parse(answer.body)).toMatchObject({
      slug: 'etude-des-villes-moyennes',
      file: key,
      url: 'https://d111111abcdef8.cloudfront.net/releases/etude-des-villes-moyennes/index.html',
    });
    const handed = await store.get(key);
    expect(new TextDecoder().decode(handed?.body)).toBe(publication);
    expect(handed?.metadata).toBeUndefined();
    // A publisher that is not there: refused with its problem, the file untouched.
    const broken = publication.replace('publishers: [villes-internet]', 'publishers: [inconnue]');
    await store.put(key, broken, { metadata: { 'pressroom-draft': 'web-admin' } });
    const before = await store.get(key);
    const refused = await handleAdminRequest(
      request('POST', '/admin/api/releases/etude-des-villes-moyennes/publish', bearer),
      deps,
    );
    expect(refused.status).toBe(422);
    expect(JSON.parse(refused.body).problems).toEqual([
      expect.objectContaining({ field: expect.stringContaining('publishers') }),
    ]);
    expect(await store.get(key)).toEqual(before);
    await store.put(key, publication);
  });

  it('saves over the object it read only (its version), as a draft; a write in between is a conflict', async () => {
    const key = 'publications/2021/etude.md';
    const sources = storeReleaseSources(store);
    const file = { path: `/${key}`, name: key };
    // Not read through these sources: nothing to compare with, nothing written.
    await expect(sources.write(file, 'autre')).rejects.toThrow(VersionConflictError);
    await sources.files.readBytes(file.path);
    const edited = publication.replace('Le corps', 'Le nouveau corps');
    await sources.write(file, edited);
    const saved = await store.get(key);
    expect(new TextDecoder().decode(saved?.body)).toBe(edited);
    expect(saved?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });
    expect(saved?.contentType).toBe('text/markdown; charset=utf-8');
    // Read, then written by someone else (an upload), then saved: refused, theirs kept.
    await sources.files.readBytes(file.path);
    await store.put(key, publication);
    await expect(sources.write(file, edited)).rejects.toThrow(VersionConflictError);
    expect(new TextDecoder().decode((await store.get(key))?.body)).toBe(publication);
  });

  it('creates a new publication file as a draft in publications/, never over one', async () => {
    const sources = storeReleaseSources(store);
    const name = '2021-06-09-nouvelle.md';
    expect(await sources.create(name, publication)).toEqual({
      path: `/publications/${name}`,
      name: `publications/${name}`,
    });
    const created = await store.get(`publications/${name}`);
    expect(created?.metadata).toEqual({ 'pressroom-draft': 'web-admin' });
    expect(await sources.create(name, 'autre')).toBe('exists');
    expect(await store.get(`publications/${name}`)).toEqual(created);
    await store.delete(`publications/${name}`);
  });
});
