import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { storeCampaignFiles } from '../../lambdas/adapters/store-campaign-files.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { checkSenderIdentity, identityCovers } from '../../lambdas/core/campaigns/sender-identity.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';

/**
 * The campaign files of the admin on the stack (lambdas/adapters/store-campaign-files.ts):
 * `campaign-files/<name>.yaml` in the data bucket, apart from the campaigns' records, created
 * never over another, read inside the prefix only; and the stack's sender check.
 */

const text =
  'name: etude\npublication: etude-villes\naudience:\n  list: presse\nfrom: "Villes Internet <presse@villes-internet.net>"\n';

describe('campaign files in the data bucket', () => {
  it('creates a file once, lists only the campaign files (not the records), and loads it', async () => {
    const store = new MemoryObjectStore({
      signingSecret: 's'.repeat(32),
      publicUrl: 'https://presse.example.org',
    });
    const files = storeCampaignFiles(store);
    await store.put('campaigns/etude/campaign.json', '{}');
    await store.put('campaign-files/.hidden.yaml', 'x');
    await store.put('campaign-files/sub/other.yaml', 'x');
    expect(await files.create('etude.yaml', text)).toEqual({
      path: '/campaign-files/etude.yaml',
      name: 'campaign-files/etude.yaml',
    });
    expect(await files.create('etude.yaml', 'name: autre\n')).toBe('exists');
    expect(await getText(store, 'campaign-files/etude.yaml')).toBe(text);
    expect(await files.list()).toEqual([
      { path: '/campaign-files/etude.yaml', name: 'campaign-files/etude.yaml' },
    ]);
    const definition = await loadCampaignFile('/campaign-files/etude.yaml', files.files);
    expect(definition).toMatchObject({ name: 'etude', publication: 'etude-villes' });
  });

  it('refuses a name that is not a file of the folder, and reads nothing outside it', async () => {
    const store = new MemoryObjectStore({
      signingSecret: 's'.repeat(32),
      publicUrl: 'https://presse.example.org',
    });
    const files = storeCampaignFiles(store);
    for (const name of ['../campaigns/x.yaml', '.env.yaml', 'etude.yml.txt'])
      await expect(files.create(name, text)).rejects.toThrow('is not a campaign file name');
    await store.put('contacts/secret.yaml', text);
    await expect(files.files.readBytes('/campaign-files/../contacts/secret.yaml')).rejects.toThrow();
  });
});

describe("the stack's sender identity", () => {
  it('covers its domain, its subdomains and its own address only, and refuses another sender with what to do', () => {
    expect(identityCovers('villes-internet.net', 'presse@villes-internet.net')).toBe(true);
    expect(identityCovers('villes-internet.net', 'a@lettre.villes-internet.net')).toBe(true);
    expect(identityCovers('villes-internet.net', 'a@open-cities.example.org')).toBe(false);
    expect(identityCovers('presse@villes-internet.net', 'autre@villes-internet.net')).toBe(false);
    expect(() =>
      checkSenderIdentity('villes-internet.net', 'etude', 'news@open-cities.example.org', 'here'),
    ).toThrow(
      'campaign "etude" is sent from news@open-cities.example.org, but the stack sends only from its SES identity villes-internet.net (here)',
    );
    expect(() =>
      checkSenderIdentity('villes-internet.net', 'etude', 'presse@villes-internet.net', 'here'),
    ).not.toThrow();
  });
});
