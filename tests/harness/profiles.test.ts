import { describe, expect, it } from 'vitest';
import { startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { definition, importCsv } from '../support/dispatch-fixtures.ts';
import { uploadRelease } from '../support/harness-campaigns.ts';
import { dispatchFunction, type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * Press contact profiles on the stack as its template wires it: journalists imported with their
 * beats and a do-not-contact flag into the bucket (as `contacts import --backend aws` does), a
 * campaign to one beat started through the real dispatch bundle and sent by the real send
 * bundle through SES: only that beat's journalists are mailed, and never the one marked
 * do-not-contact.
 */

const context = { sender: 'presse@villes-internet.net', sendRate: 14 };

let world: HarnessWorld;
useHarness(context, (started) => {
  world = started;
});

const slow = 180_000;

describe('press contact profiles on the stack as synthesized', () => {
  it(
    'a campaign to a beat reaches its journalists only, never one marked do-not-contact',
    async () => {
      const [published] = await uploadRelease(world, 'etude');
      expect(published?.invocation).toMatchObject({ ok: true });

      const csv = [
        'Prénom;Nom;Courriel;Média;Rubrique;Langue;Ne pas contacter',
        'Camille;Martin;camille.martin@quotidien.example.com;Quotidien de l’Ouest;"Numérique; Société";fr;',
        'Hugo;Lambert;hugo.lambert@webzine.example.org;Webzine Tech;numerique;fr;',
        'Inès;Henry;ines.henry@podcast.example.org;Podcast Cités;Numérique;fr;oui',
        'Julien;Lefèvre;julien.lefevre@radio.example.org;Radio Cité;Territoires;fr;',
      ].join('\r\n');
      await importCsv({ store: world.store, keys: contactKeys(world.secret) }, csv, {
        file: 'journalistes.csv',
        list: 'presse',
        now: new Date(),
      });

      const report = await startCampaign(
        definition('etude-numerique', {
          from: { name: 'Villes Internet', address: context.sender },
          audience: { list: 'presse', beats: ['Numérique'], tagsMode: 'any' },
        }),
        { store: world.store, dispatcher: dispatchFunction(world) },
        'campaigns/etude-numerique.yaml',
      );
      expect(report).toMatchObject({ audience: 2, doNotContact: 1 });
      await world.drainQueues();
      expect(world.edge.mails.map((m) => m.destinations[0]).sort()).toEqual([
        'camille.martin@quotidien.example.com',
        'hugo.lambert@webzine.example.org',
      ]);
      expect(takeDenials(world)).toEqual([]);
    },
    slow,
  );
});
