import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { createPressRoom } from '../../lambdas/core/archive/press-room.ts';
import { type PublishDeps, publishRelease } from '../../lambdas/core/archive/publish.ts';
import {
  type CampaignDefinition,
  type CampaignRecord,
  registerCampaign,
  updateCampaign,
} from '../../lambdas/core/campaigns/campaign.ts';
import type { Mailer, OutgoingMessage } from '../../lambdas/core/campaigns/mailer.ts';
import { importContacts } from '../../lambdas/core/contacts/import.ts';
import type { ContactKeys } from '../../lambdas/core/contacts/model.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import type { ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { memoryFiles, publicationText, villesInternet } from './memory-files.ts';

/**
 * A store ready for dispatching: two published releases (one under embargo until
 * 2026-01-20), `count` journalists on the list "presse", and campaign records. Shared by the
 * core tests of dispatch/sendBatch and the handler tests.
 */
export const publishedAt = new Date('2026-01-15T09:00:00Z');
export const siteUrl = 'https://press.example.org/';

export async function publishReleases(store: ObjectStore): Promise<void> {
  const templates = await loadTemplateFiles();
  const release = (slug: string, title: string, extra = '') =>
    publicationText(`slug: ${slug}\n${extra}`).replace(/^title: .*$/m, `title: "${title}"`);
  const deps: PublishDeps = {
    store,
    files: memoryFiles({
      'organizations/villes-internet.yaml': villesInternet,
      'publications/etude.md': release('etude-villes', 'Étude : les villes moyennes résilientes'),
      'publications/embargo.md': release(
        'sous-embargo',
        'Annonce sous embargo',
        'embargo: 2026-01-20T08:00:00+01:00\n',
      ),
    }),
    renderer: createReleaseRenderer(templates),
    pressRoom: createPressRoom(templates, { siteUrl, lang: 'fr' }),
    sampleRecipient: templates.sampleRecipient,
    siteUrl,
    clock: () => publishedAt,
  };
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
  const bytes = new TextEncoder().encode(csv);
  await importContacts(
    (async function* () {
      yield bytes;
    })(),
    'presse.csv',
    { store, keys },
    { list: 'presse', source: 'import:presse.csv', now: publishedAt },
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
