/**
 * Translations on the stack as its template wires it (issue 21, item 3): the publish function
 * publishes a release, then its English translation, and both pages of the press room link to
 * each other; a campaign about the French release, dispatched by the dispatch function and
 * sent by the send function through SES, gives each contact the version in their language.
 * No call is denied by the calling function's role.
 */
import { describe, expect, it } from 'vitest';
import { startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { definition, importCsv, publishedAt, releaseWorkspace } from '../support/dispatch-fixtures.ts';
import { releaseText } from '../support/memory-files.ts';
import { dispatchFunction, type HarnessWorld, takeDenials, useHarness } from './world.ts';

const context = { sender: 'presse@villes-internet.net', sendRate: 14 };

let world: HarnessWorld;
useHarness(context, (started) => {
  world = started;
});

const english = releaseText(
  'study-cities',
  'Study: resilient medium-sized cities',
  'lang: en\ntranslationOf: etude-villes\n',
);

/** Uploads a publication and lets the publish function take it: its outcome. */
async function publish(key: string, text: string) {
  await world.store.put(key, text);
  const [delivery] = await world.deliverS3Notifications();
  return delivery?.invocation.ok ? delivery.invocation.result : delivery?.invocation;
}

describe('translations on the stack as synthesized', () => {
  it('publish: the translation of a release, published after it, and both pages link to each other', async () => {
    const files = releaseWorkspace();
    await world.store.put(
      'publications/organizations/villes-internet.yaml',
      files['organizations/villes-internet.yaml'] as string,
    );
    // The translation first: its original is not in the archive, so it is refused with a report.
    expect(await publish('publications/study.md', english)).toEqual([
      expect.objectContaining({ outcome: 'rejected', report: 'publications/study.errors.json' }),
    ]);
    expect(await getText(world.store, 'publications/study.errors.json')).toContain(
      'publish the release it translates first',
    );
    expect(await publish('publications/etude.md', files['publications/etude.md'] as string)).toEqual([
      expect.objectContaining({ outcome: 'published', slug: 'etude-villes' }),
    ]);
    expect(await publish('publications/study.md', english)).toEqual([
      expect.objectContaining({ outcome: 'published', slug: 'study-cities' }),
    ]);
    const french = await getText(world.store, 'site/releases/etude-villes/index.html');
    expect(french).toContain('<a href="../study-cities/index.html" hreflang="en" lang="en">English</a>');
    expect(french).toMatch(
      /<link rel="alternate" hreflang="en" href="https:\/\/[^"]+\/releases\/study-cities\/index\.html">/,
    );
    expect(await getText(world.store, 'site/releases/study-cities/index.html')).toContain(
      '<a href="../etude-villes/index.html" hreflang="fr" lang="fr">Français</a>',
    );
    expect(await getText(world.store, 'site/en/index.html')).toContain('Study: resilient');
    expect(takeDenials(world)).toEqual([]);
  });

  it('send: dispatch and send give each contact the version in their language, through SES', async () => {
    const csv = [
      'Prénom;Nom;Courriel;Langue',
      'Zoé;Lefèvre;zoe@redaction.example.org;fr',
      'Sam;Smith;sam@newsroom.example.org;en',
      'Ann;Brown;ann@newsroom.example.co.uk;en-GB',
      'Léa;Martin;lea@redaction.example.org;',
    ].join('\r\n');
    await importCsv({ store: world.store, keys: contactKeys(world.secret) }, csv, {
      file: 'presse.csv',
      list: 'presse',
      now: publishedAt,
    });
    const name = 'etude-bilingue';
    const report = await startCampaign(
      definition(name, {
        publication: 'etude-villes',
        subject: 'Etude des villes',
        from: { name: 'Villes Internet', address: context.sender },
      }),
      { store: world.store, dispatcher: dispatchFunction(world) },
      `campaigns/${name}.yaml`,
    );
    expect(report.enqueued).toBe(4);
    const sent = await world.drainQueues();
    expect(sent.map((d) => d.invocation)).toEqual([
      expect.objectContaining({ ok: true, result: { batchItemFailures: [] } }),
    ]);
    const subjects = Object.fromEntries(
      world.edge.mails
        .filter((m) => m.tags.campaign === name)
        .map((m) => [
          m.destinations[0],
          {
            subject: /\r\nSubject: ([^\r]*)\r\n/.exec(m.raw)?.[1],
            english: m.raw.includes('releases/study-cities/'),
          },
        ]),
    );
    const englishVersion = { subject: 'Study: resilient medium-sized cities', english: true };
    const frenchVersion = { subject: 'Etude des villes', english: false };
    expect(subjects).toEqual({
      'zoe@redaction.example.org': frenchVersion,
      'sam@newsroom.example.org': englishVersion,
      'ann@newsroom.example.co.uk': englishVersion,
      'lea@redaction.example.org': frenchVersion,
    });
    expect(takeDenials(world)).toEqual([]);
  });
});
