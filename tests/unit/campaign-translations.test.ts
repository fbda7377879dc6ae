/**
 * A campaign about a translated release (issue 21, item 3) sends each contact the version in
 * their language when one is public: on the command line's path (sendCampaign, which prepares
 * the message with MailComposer) and on the stack's (dispatch queues the contact's language,
 * the send function composes from the skeletons dispatch stored: sendPreparedBatch with
 * storedComposer, as lambdas/handlers/send.ts does). A translation under embargo is not sent.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { sendPreparedBatch } from '../../lambdas/core/campaigns/batch.ts';
import { dispatchCampaign, type RecipientBatch } from '../../lambdas/core/campaigns/dispatch.ts';
import { storedComposer } from '../../lambdas/core/campaigns/message.ts';
import { prepareCampaignWith, type SendDeps, sendCampaign } from '../../lambdas/core/campaigns/send.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import {
  definition,
  importCsv,
  keys,
  MemoryMailer,
  publishedAt,
  registerDraft,
  releaseDeps,
} from '../support/dispatch-fixtures.ts';
import { memoryFiles, releaseText, villesInternet } from '../support/memory-files.ts';

let templates: TemplateSet;
beforeAll(async () => {
  templates = await loadTemplateFiles();
});

const contacts = [
  'Prénom;Nom;Courriel;Langue',
  'Zoé;Lefèvre;zoe@redaction.example.org;fr',
  'Sam;Smith;sam@newsroom.example.org;en',
  'Ann;Brown;ann@newsroom.example.co.uk;en-GB',
  'Jan;Müller;jan@redaktion.example.de;de',
  'Léa;Martin;lea@redaction.example.org;',
].join('\r\n');

async function room(englishExtra = '') {
  const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'https://press.example.org' });
  const files = memoryFiles({
    'organizations/villes-internet.yaml': villesInternet,
    'publications/fr.md': releaseText('etude-villes', 'Étude : les villes moyennes résilientes'),
    'publications/en.md': releaseText(
      'study-cities',
      'Study: resilient medium-sized cities',
      `lang: en\ntranslationOf: etude-villes\n${englishExtra}`,
    ),
  });
  const deps = releaseDeps(store, templates, files);
  await publishRelease('publications/fr.md', deps);
  await publishRelease('publications/en.md', deps);
  await importCsv({ store, keys }, contacts, { file: 'presse.csv', list: 'presse', now: publishedAt });
  return store;
}

const sendDeps = (store: MemoryObjectStore, mailer: MemoryMailer): SendDeps => ({
  store,
  mailer,
  keys,
  publicUrl: 'https://press.example.org',
  clock: () => publishedAt,
  sleep: async () => {},
});

/** Each recipient's subject and whether the body links to the English page. */
function received(mailer: MemoryMailer) {
  return Object.fromEntries(
    mailer.delivered.map((m) => {
      const raw = Buffer.from(m.raw).toString('utf8');
      const subject = /\r\nSubject: ([^\r]*)\r\n/.exec(raw)?.[1] ?? '';
      return [m.to, { subject, english: raw.includes('releases/study-cities/') }];
    }),
  );
}

const french = { subject: 'Etude des villes', english: false };

describe('a campaign about a translated release', () => {
  it('sends each contact the version in their language (sendCampaign)', async () => {
    const store = await room();
    const mailer = new MemoryMailer();
    const d = definition('presse-fr', { publication: 'etude-villes', subject: 'Etude des villes' });
    await registerDraft(store, d);
    const report = await sendCampaign(d, sendDeps(store, mailer), { rate: 1000 });
    expect(report.sent).toBe(5);
    const got = received(mailer);
    // The English version has its own title as subject (=?UTF-8?…?= when encoded: plain ASCII here).
    expect(got['sam@newsroom.example.org']).toEqual({
      subject: 'Study: resilient medium-sized cities',
      english: true,
    });
    expect(got['ann@newsroom.example.co.uk']?.english).toBe(true);
    for (const to of ['zoe@redaction.example.org', 'jan@redaktion.example.de', 'lea@redaction.example.org']) {
      expect(got[to], to).toEqual(french);
    }
  });

  it('does the same through dispatch and the send function’s stored skeletons', async () => {
    const store = await room();
    const d = definition('presse-fr', { publication: 'etude-villes', subject: 'Etude des villes' });
    await registerDraft(store, d);
    const batches: RecipientBatch[] = [];
    await dispatchCampaign(
      d.name,
      {
        store,
        queue: { enqueue: async (m) => void batches.push(...JSON.parse(JSON.stringify(m))) },
        clock: () => publishedAt,
      },
      { recipientsPerMessage: 10 },
    );
    const queued = Object.fromEntries(batches.flatMap((b) => b.recipients).map((r) => [r.email, r.language]));
    expect(queued['sam@newsroom.example.org']).toBe('en');
    expect(queued['lea@redaction.example.org']).toBeUndefined();
    const mailer = new MemoryMailer();
    const deps = sendDeps(store, mailer);
    for (const batch of batches) {
      await sendPreparedBatch(batch, deps, { rate: 1000 }, (definition) =>
        prepareCampaignWith(storedComposer(store, batch.campaign), definition, deps, {
          checkApproval: false,
        }),
      );
    }
    const got = received(mailer);
    expect(got['sam@newsroom.example.org']?.english).toBe(true);
    expect(got['ann@newsroom.example.co.uk']?.subject).toBe('Study: resilient medium-sized cities');
    expect(got['zoe@redaction.example.org']).toEqual(french);
    expect(got['jan@redaktion.example.de']).toEqual(french);
  });

  it('sends the original to everyone while the translation is under embargo', async () => {
    const store = await room('embargo: 2026-02-01T08:00:00Z\n');
    const mailer = new MemoryMailer();
    const d = definition('presse-fr', { publication: 'etude-villes', subject: 'Etude des villes' });
    await registerDraft(store, d);
    await sendCampaign(d, sendDeps(store, mailer), { rate: 1000 });
    expect(Object.values(received(mailer))).toEqual(Array(5).fill(french));
  });
});
