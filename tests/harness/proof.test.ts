import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CampaignDefinition,
  newCampaignRecord,
  readCampaign,
  updateCampaign,
} from '../../lambdas/core/campaigns/campaign.ts';
import type { DispatchReport } from '../../lambdas/core/campaigns/dispatch.ts';
import { approveCampaign, makeProof } from '../../lambdas/core/campaigns/proof.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { serializeJson } from '../../lambdas/core/store/object-store.ts';
import { importCsv } from '../support/dispatch-fixtures.ts';
import { type HarnessWorld, startHarness, takeDenials } from './world.ts';

/**
 * A campaign's proof on the stack as synthesized: the command line (as the operator) stores
 * the proof in the bucket and signs its link with the stack's secret; a reviewer opens it on
 * the press room's domain, through CloudFront's `/proof/*` behaviour, and the public
 * function's real bundle shows it under its role's policy: it reads `proofs/*`, nothing of
 * the campaign's own records. The dispatch function, as a schedule or `send --backend aws`
 * invokes it, refuses the campaign until it is approved.
 */

let world: HarnessWorld;
let site: string;
beforeAll(async () => {
  world = await startHarness({ sender: 'presse@villes-internet.net' });
  site = world.outputs.PressRoomUrl as string;
}, 120_000);
afterAll(async () => {
  await world?.stop();
});

const slug = 'etude-villes';
const version = '20260115T090000Z-abc';
const pdf = new Uint8Array([37, 80, 68, 70, 45, 49, 46, 55, 10, 0, 255]);

/** A release as the publish function archives it: its manifest and the files a campaign sends. */
async function archiveRelease() {
  const prefix = `archive/${slug}/${version}/`;
  const manifest = {
    summary: { slug, title: 'Étude : les villes moyennes résilientes', date: '2026-01-15', lang: 'fr' },
    version,
    source: { path: 'publications/2026/etude.md', sha256: '0'.repeat(64) },
    files: ['email.html', 'email.txt', 'page.html', 'release.pdf'],
  };
  await world.store.put(`archive/${slug}/release.json`, serializeJson(manifest));
  await world.store.put(
    `${prefix}email.html`,
    '<!DOCTYPE html><html><body><p>Bonjour {{recipient.firstName}},</p><p>97 contributions.</p><a href="{{unsubscribeUrl}}">Se désabonner</a></body></html>',
  );
  await world.store.put(`${prefix}email.txt`, 'Bonjour {{recipient.firstName}},\n\n97 contributions.\n');
  await world.store.put(`${prefix}page.html`, '<!DOCTYPE html><html><body><h1>Étude</h1></body></html>');
  await world.store.put(`${prefix}release.pdf`, pdf);
}

const definition: CampaignDefinition = {
  name: 'etude-presse',
  publication: slug,
  audience: { lists: ['presse'], tagsMode: 'any' },
  from: { name: 'Villes Internet', address: 'presse@villes-internet.net' },
  subject: 'Communiqué : les villes moyennes résilientes',
  attachPdf: false,
  approval: 'required',
};

describe('a proof on the stack as synthesized', () => {
  it("is shown on the press room's domain by the public function, with nothing but proofs/ read", async () => {
    await archiveRelease();
    const { token } = await makeProof(definition, { store: world.store, keys: contactKeys(world.secret) });
    const open = async (path: string) => {
      const delivery = await world.siteRequest(`${site}proof/${token}${path}`, { method: 'GET' });
      if (!delivery.invocation.ok)
        throw new Error(`the public function failed: ${JSON.stringify(delivery.invocation)}`);
      expect(delivery.function).toMatch(/^Public/);
      return delivery.invocation.result as {
        statusCode: number;
        headers?: Record<string, string>;
        body?: string;
        isBase64Encoded?: boolean;
      };
    };

    const page = await open('');
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['cache-control']).toBe('private, no-store');
    expect(page.body).toContain('Communiqué : les villes moyennes résilientes');
    expect(page.body).toContain('Villes Internet &lt;presse@villes-internet.net&gt;');
    expect(page.body).toContain('id="email-desktop"');
    expect(page.body).toContain('id="email-phone"');
    expect(page.body).toContain('97 contributions.');

    const email = await open('/email');
    expect(email.statusCode).toBe(200);
    expect(email.body).toContain('Bonjour Prénom');

    const file = await open('/pdf');
    expect(file).toMatchObject({ statusCode: 200, isBase64Encoded: true });
    expect(new Uint8Array(Buffer.from(file.body ?? '', 'base64'))).toEqual(pdf);

    const forged = await world.siteRequest(`${site}proof/${token.slice(0, -4)}abcd`, { method: 'GET' });
    expect(forged.invocation.ok && forged.invocation.result.statusCode).toBe(400);
    expect(takeDenials(world)).toEqual([]);
  });

  it('the dispatch function refuses the campaign until approved (its last error says why), then enqueues it', async () => {
    await importCsv(
      { store: world.store, keys: contactKeys(world.secret) },
      'Prénom;Nom;Courriel\nZoé;Lefèvre;zoe@redaction.example.org\nJules;Martin;jules@radio.example.org',
      {
        file: 'presse.csv',
        list: 'presse',
        now: new Date(),
      },
    );
    const at = new Date().toISOString();
    await updateCampaign(
      world.store,
      definition.name,
      () => newCampaignRecord(definition, 'etude.yaml', at),
      (current) => current,
    );
    const dispatch = (campaign: string) => world.container('Dispatch').invoke<DispatchReport>({ campaign });
    const refused = await dispatch(definition.name);
    expect(refused.ok ? refused.result : refused.error.errorMessage).toMatch(
      /needs an approval \(approval: required\)/,
    );
    expect((await readCampaign(world.store, definition.name)).lastError?.message).toMatch(
      /needs an approval/,
    );

    await approveCampaign(definition.name, 'Florence Poznanski', { store: world.store });
    const dispatched = await dispatch(definition.name);
    expect(dispatched.ok ? dispatched.result : dispatched.error).toMatchObject({ audience: 2, enqueued: 2 });
    expect(takeDenials(world)).toEqual([]);
  });
});
