import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { sharpImages } from '../../lambdas/adapters/sharp-images.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { createPressRoom } from '../../lambdas/core/archive/press-room.ts';
import { type PublishDeps, publishRelease } from '../../lambdas/core/archive/publish.ts';
import {
  type CampaignDefinition,
  type CampaignRecord,
  registerCampaign,
  updateCampaign,
} from '../../lambdas/core/campaigns/campaign.ts';
import type { RecipientBatch, RecipientQueue } from '../../lambdas/core/campaigns/dispatch.ts';
import type { Mailer, OutgoingMessage } from '../../lambdas/core/campaigns/mailer.ts';
import { type ImportReport, importContacts } from '../../lambdas/core/contacts/import.ts';
import { type ContactKeys, contactKeys } from '../../lambdas/core/contacts/model.ts';
import type { PublishIssueDeps } from '../../lambdas/core/newsletter/publish.ts';
import { createNewsletterRenderer } from '../../lambdas/core/newsletter/render.ts';
import type { SourceFiles } from '../../lambdas/core/publication/load.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import { listAll, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { memoryFiles, releaseText, villesInternet } from './memory-files.ts';

/**
 * A store ready for dispatching: two published releases (one under embargo until
 * 2026-01-20), `count` journalists on the list "presse", and campaign records. Shared by the
 * core tests of dispatch/sendBatch and the handler tests.
 */
export const publishedAt = new Date('2026-01-15T09:00:00Z');
export const siteUrl = 'https://press.example.org/';
/** The address of the public endpoint (unsubscribe links), and the contact keys, of the campaign tests. */
export const publicUrl = 'https://press.example.org';
export const keys = contactKeys('a-secret-of-at-least-thirty-two-characters');

/**
 * The organisation, the release "etude-villes" and the release "sous-embargo" under
 * `embargoLine`, as workspace files.
 */
export function releaseWorkspace(
  embargoLine = 'embargo: 2026-01-20T08:00:00+01:00\n',
): Record<string, string> {
  return {
    'organizations/villes-internet.yaml': villesInternet,
    'publications/etude.md': releaseText('etude-villes', 'Étude : les villes moyennes résilientes'),
    'publications/embargo.md': releaseText('sous-embargo', 'Annonce sous embargo', embargoLine),
  };
}

/** What publishRelease needs to publish `files` into `store`: the real renderer, a French press room at `siteUrl`. */
export function releaseDeps(
  store: ObjectStore,
  templates: TemplateSet,
  files: SourceFiles,
  clock: () => Date = () => publishedAt,
): PublishDeps {
  return {
    store,
    files,
    renderer: createReleaseRenderer(templates),
    images: sharpImages(),
    pressRoom: createPressRoom(templates, { siteUrl, lang: 'fr' }),
    sampleRecipient: templates.sampleRecipient,
    siteUrl,
    clock,
  };
}

/** What publishIssue needs beside `release`: the same store, files and press room; its clock unless `clock`. */
export function issueDeps(
  release: PublishDeps,
  templates: TemplateSet,
  clock = release.clock,
): PublishIssueDeps {
  const { store, files, pressRoom, sampleRecipient, siteUrl } = release;
  const renderer = createNewsletterRenderer(templates);
  return { store, files, renderer, pressRoom, sampleRecipient, siteUrl, clock };
}

export async function publishReleases(store: ObjectStore): Promise<void> {
  const deps = releaseDeps(store, await loadTemplateFiles(), memoryFiles(releaseWorkspace()));
  await publishRelease('publications/etude.md', deps);
  await publishRelease('publications/embargo.md', deps);
}

/** Journalist `i`'s address. */
export const journalist = (i: number) => `journaliste.${i}@redaction-${i % 3}.example.org`;

export async function importJournalists(store: ObjectStore, keys: ContactKeys, count: number) {
  const csv = [
    'Prénom;Nom;Courriel',
    ...Array.from({ length: count }, (_, i) => `Zoé;Lefèvre-${i};${journalist(i)}`),
  ].join('\r\n');
  await importCsv({ store, keys }, csv, { file: 'presse.csv', list: 'presse', now: publishedAt });
}

/** Imports `csv`, read as the file `file` in one chunk, into the list `list`, as `pressroom contacts import` does. */
export function importCsv(
  deps: { store: ObjectStore; keys: ContactKeys },
  csv: string,
  options: { file: string; list: string; now: Date },
): Promise<ImportReport> {
  const bytes = new TextEncoder().encode(csv);
  return importContacts(
    (async function* () {
      yield bytes;
    })(),
    options.file,
    deps,
    { list: options.list, source: `import:${options.file}`, now: options.now },
  );
}

export function definition(name: string, extra: Partial<CampaignDefinition> = {}): CampaignDefinition {
  return {
    name,
    publication: 'etude-villes',
    audience: { list: 'presse', tagsMode: 'any' },
    from: { name: 'Villes Internet', address: 'presse@villes-internet.example.org' },
    subject: `Communiqué ${name}`,
    attachPdf: false,
    ...extra,
  } as CampaignDefinition;
}

/** Stores a campaign record in state `draft`, as the command line leaves it before a send. */
export async function registerDraft(store: ObjectStore, d: CampaignDefinition): Promise<void> {
  const at = publishedAt.toISOString();
  const record: CampaignRecord = {
    definition: d,
    state: 'draft',
    source: `campaigns/${d.name}.yaml`,
    createdAt: at,
    updatedAt: at,
    runs: [],
  };
  await updateCampaign(
    store,
    d.name,
    () => record,
    (current) => current,
  );
  await registerCampaign(store, d.name);
}

/** A mailer in memory; `behave` may throw (throttling, refusals) before a message counts. */
export class MemoryMailer implements Mailer {
  readonly name = 'memory';
  readonly idempotent = false;
  readonly delivered: OutgoingMessage[] = [];
  calls = 0;
  constructor(private readonly behave?: (message: OutgoingMessage, call: number) => void) {}
  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    const call = ++this.calls;
    this.behave?.(message, call);
    this.delivered.push(message);
    return { providerMessageId: `mem-${call}` };
  }
}

/** An empty store of the campaign tests, in memory, its download links on {@link publicUrl}. */
export function memoryStore(): MemoryObjectStore {
  return new MemoryObjectStore({ signingSecret: 's', publicUrl });
}

/** A store with the two releases published and `count` journalists imported with `keys`: a test file's base. */
export async function seededStore(keys: ContactKeys, count: number): Promise<MemoryObjectStore> {
  const store = memoryStore();
  await publishReleases(store);
  await importJournalists(store, keys, count);
  return store;
}

/** A copy of `base` (what beforeAll published and imported once), for one test to change. */
export async function copyOf(base: ObjectStore): Promise<MemoryObjectStore> {
  const store = memoryStore();
  for await (const item of listAll(base, '')) {
    const object = await base.get(item.key);
    if (object) await store.put(item.key, object.body);
  }
  return store;
}

/** The queue dispatch puts batches on, keeping what SQS would carry: the JSON, not the objects. */
export class CapturingQueue implements RecipientQueue {
  readonly batches: RecipientBatch[] = [];
  async enqueue(messages: RecipientBatch[]) {
    this.batches.push(...messages.map((m) => JSON.parse(JSON.stringify(m)) as RecipientBatch));
  }
}
