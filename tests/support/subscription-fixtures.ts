/**
 * What the subscription and public-endpoint tests share: a real folder store in a temporary
 * folder, the real templates, an in-memory mailer, a clock the test moves, and helpers to
 * build requests and to compare the whole store before and after.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterEach, beforeEach } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import type { Mailer, OutgoingMessage } from '../../lambdas/core/campaigns/mailer.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { parseSubscribableLists } from '../../lambdas/core/contacts/subscription-lists.ts';
import type { PublicEndpointDeps, PublicRequest } from '../../lambdas/core/public/endpoint.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { listAll } from '../../lambdas/core/store/object-store.ts';

export const publicUrl = 'https://press.example.org';
export const keys = contactKeys('subscription-tests-secret-0123456789abcdef');

export const listsYaml = `lists:
  lettre:
    title: { fr: "La lettre de Villes Internet", en: "The Villes Internet newsletter" }
    lang: fr
    from: "Villes Internet <lettre@villes-internet.example.org>"
    replyTo: contact@villes-internet.example.org
  open-data:
    title: Open data barometer updates
    lang: en
    from: "Open Cities Federation <news@open-cities.example.org>"
`;
export const lists = parseSubscribableLists(listsYaml, 'lists.yaml');

/** The lists above and an alert list offering three topics (topic alerts). */
export const alertListsYaml = `${listsYaml}  alertes:
    title: { fr: "Alertes de Villes Internet", en: "Villes Internet alerts" }
    lang: fr
    from: "Villes Internet <alertes@villes-internet.example.org>"
    topics:
      numerique: { fr: Numérique, en: Digital }
      villes-moyennes: { fr: Villes moyennes, en: Medium-sized cities }
      open-data: Open data
`;

/** Records what it was given; `fail` makes the next sends throw. */
export class MemoryMailer implements Mailer {
  readonly name = 'memory';
  readonly idempotent = false;
  readonly sent: OutgoingMessage[] = [];
  fail: Error | undefined;

  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    if (this.fail) throw this.fail;
    this.sent.push(message);
    return { providerMessageId: `memory-${this.sent.length}` };
  }
}

let templates: Promise<TemplateSet> | undefined;

export interface Fixture {
  root: string;
  store: FolderObjectStore;
  mailer: MemoryMailer;
  /** The endpoint's clock; tests move it. */
  now: Date;
  deps(overrides?: Partial<PublicEndpointDeps['settings']>): PublicEndpointDeps;
  /** Every object of the store with a hash of its bytes. */
  snapshot(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export async function fixture(start = new Date('2026-03-02T09:00:00Z')): Promise<Fixture> {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-subscription-'));
  const store = new FolderObjectStore({ root, signingSecret: 's', publicUrl });
  const mailer = new MemoryMailer();
  templates ??= loadTemplateFiles();
  const t = await templates;
  const f: Fixture = {
    root,
    store,
    mailer,
    now: start,
    deps: (settings = {}) => ({
      store,
      keys,
      templates: t,
      mailer,
      settings: { publicUrl, lang: 'fr', lists, ...settings },
      clock: () => f.now,
    }),
    async snapshot() {
      const out: Record<string, string> = {};
      for await (const item of listAll(store, '')) {
        const object = await store.get(item.key);
        out[item.key] = createHash('sha256')
          .update(object?.body ?? new Uint8Array())
          .digest('hex');
      }
      return out;
    },
    close: () => rm(root, { recursive: true, force: true }),
  };
  return f;
}

/**
 * A fresh fixture for each test of the calling file, closed after it: registers the
 * beforeEach/afterEach hooks and returns a handle that reads and writes the current one.
 */
export function fixtureForEachTest(start?: Date): Fixture {
  let current: Fixture | undefined;
  beforeEach(async () => {
    current = await fixture(start);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const live = (): Fixture => {
    if (!current) throw new Error('the fixture exists only while a test runs');
    return current;
  };
  return new Proxy({} as Fixture, {
    get: (_, name) => Reflect.get(live(), name),
    set: (_, name, value) => Reflect.set(live(), name, value),
  });
}

/** A request as a Function URL or the local server gives it. */
export function req(
  method: string,
  pathAndQuery: string,
  options: { body?: string; headers?: Record<string, string>; sourceIp?: string; base64?: boolean } = {},
): PublicRequest {
  const url = new URL(pathAndQuery, publicUrl);
  const body = options.body ?? '';
  return {
    method,
    path: pathAndQuery.split('?')[0] as string,
    query: Object.fromEntries(url.searchParams),
    headers: Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    ...(options.base64 && { isBase64Encoded: true }),
    ...(options.sourceIp && { sourceIp: options.sourceIp }),
  };
}

export const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };

/** POST /subscribe as a browser sends the form. */
export function subscribeForm(fields: Record<string, string>, extra: Parameters<typeof req>[2] = {}) {
  return req('POST', '/subscribe', {
    ...extra,
    body: new URLSearchParams(fields).toString(),
    headers: { ...formHeaders, accept: 'text/html,application/xhtml+xml,*/*;q=0.8', ...extra.headers },
  });
}

export async function parse(message: OutgoingMessage): Promise<ParsedMail> {
  return simpleParser(Buffer.from(message.raw));
}

/** The confirmation link of a message, as a path (`/subscribe/confirm/s1....`). */
export async function confirmPath(message: OutgoingMessage): Promise<string> {
  const parsed = await parse(message);
  const link = /https:\/\/press\.example\.org(\/subscribe\/confirm\/s1\.[\w-]+\.[\w-]+)/.exec(
    parsed.text ?? '',
  );
  if (!link?.[1]) throw new Error(`no confirmation link in:\n${parsed.text}`);
  return link[1];
}

export const confirmBody = { body: 'confirm=yes', headers: formHeaders };

/**
 * A pending subscription request as the store keeps it, expiring `expiresInMs` from now
 * (negative: already expired), made 48 hours before it expires.
 */
export function pendingRequest(expiresInMs: number): {
  lang: string;
  requestedAt: string;
  expiresAt: string;
} {
  return { lang: 'fr', requestedAt: fromNow(expiresInMs - 48 * 3600_000), expiresAt: fromNow(expiresInMs) };
}

/** The time `ms` from now, as the store writes times. */
export function fromNow(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}
