import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { verifyAdvanceCopyToken } from '../../lambdas/core/campaigns/advance-copy.ts';
import { startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { definition, importJournalists, journalist } from '../support/dispatch-fixtures.ts';
import { uploadRelease } from '../support/harness-campaigns.ts';
import { dispatchFunction, type HarnessWorld, takeDenials, useHarness } from './world.ts';

/**
 * An advance send on the stack as synthesized: a release published under an embargo a day
 * ahead, a campaign with `advance` dispatched and sent by the real bundles through SES; each
 * message's personal copy link, requested on the press room's domain, goes through the
 * distribution's /advance/* behaviour to the public function, whose role may read the
 * release's manifest, archived page and PDF, and its press kit images' web sizes (a denied call
 * fails the test). The page, the PDF and the lead image are served, never cached; the press room
 * still does not list the release (nor serve its image).
 */

const context = { sender: 'presse@villes-internet.net' };
let world: HarnessWorld;
useHarness(context, (started) => {
  world = started;
});

const denials = (): string[] => takeDenials(world);
const slug = 'sous-embargo';
const recipients = 2;

describe('an advance copy on the stack as synthesized', () => {
  const links: { to: string; page: string; image: string }[] = [];

  it('publishes the release under embargo, then sends the advance campaign through dispatch, send and SES', async () => {
    const embargo = `${new Date(Date.now() + 86_400_000).toISOString().slice(0, 19)}+00:00`;
    // With a press kit image: the email's lead image, which the press room serves only from the lift.
    await world.store.put(
      'publications/images/barometer-chart.jpg',
      await readFile(
        path.resolve(import.meta.dirname, '../../examples/publications/images/barometer-chart.jpg'),
      ),
    );
    const [published] = await uploadRelease(
      world,
      'embargo',
      `embargo: ${embargo}\nimages:\n  - file: images/barometer-chart.jpg\n    alt: Un graphique en barres\n`,
    );
    expect(published?.invocation).toMatchObject({
      ok: true,
      result: [expect.objectContaining({ slug, state: 'embargoed' })],
    });
    await importJournalists(world.store, contactKeys(world.secret), recipients);

    const report = await startCampaign(
      definition('avance', {
        publication: slug,
        from: { name: 'Villes Internet', address: context.sender },
        advance: { zone: 'Europe/Paris' },
      }),
      {
        store: world.store,
        dispatcher: dispatchFunction(world),
      },
      'campaigns/avance.yaml',
    );
    expect(report.enqueued).toBe(recipients);
    await world.drainQueues();
    expect(denials()).toEqual([]);

    const keys = contactKeys(world.secret);
    const mails = world.edge.mails.filter((m) => m.tags.campaign === 'avance');
    expect(mails.map((m) => m.destinations[0]).sort()).toEqual([journalist(0), journalist(1)].sort());
    for (const mail of mails) {
      const parsed = await simpleParser(mail.raw);
      expect(parsed.subject).toMatch(
        /^\[Embargo \d{1,2} \p{L}+ \d{1,2}\u00a0h(?:\u00a0\d{2})?\] Communiqué avance$/u,
      );
      expect(parsed.text).toMatch(/^Sous embargo jusqu’au .* \(heure de Paris\)\n/);
      const html = typeof parsed.html === 'string' ? parsed.html : '';
      expect(html).toContain('<div role="note" lang="fr"');
      const page = /https:\/\/[^\s"<>]+\/advance\/(a1\.[\w-]+\.[\w-]+)(?=["\s<])/.exec(html);
      expect(page, 'a copy link in the HTML').not.toBeNull();
      // On the press room's domain, like the unsubscribe links.
      expect(page?.[0].startsWith(world.outputs.PressRoomUrl as string)).toBe(true);
      const copy = verifyAdvanceCopyToken(keys, page?.[1] as string, new Date());
      expect(copy).toMatchObject({ slug, contact: keys.idOf(mail.destinations[0] as string) });
      // The lead image is the recipient's copy's too: the press room has no image before the lift.
      const image = /<img [^>]*src="([^"]*\/barometer-chart\.jpg)"/.exec(html)?.[1] ?? '';
      expect(image).toBe(`${page?.[0]}/images/web/barometer-chart.jpg`);
      expect(html).not.toContain(`releases/${slug}/images/`);
      links.push({ to: mail.destinations[0] as string, page: page?.[0] as string, image });
    }
  }, 300_000);

  it("serves each recipient's copy through the site's /advance/* behaviour, the public function allowed to read it", async () => {
    for (const { page } of links) {
      const delivery = await world.siteRequest(page, { method: 'GET' });
      expect(delivery.function).toMatch(/^PublicFunction/);
      expect(delivery.invocation).toMatchObject({
        ok: true,
        result: {
          statusCode: 200,
          headers: { 'cache-control': 'private, no-store', 'x-robots-tag': 'noindex, nofollow' },
        },
      });
      const body = delivery.invocation.ok ? (delivery.invocation.result.body ?? '') : '';
      expect(body).toContain('Annonce sous embargo');
      expect(body).toContain('<meta name="robots" content="noindex, nofollow">');
    }
    expect(denials()).toEqual([]);
  });

  it('serves the PDF as bytes through the same behaviour (not the *.pdf one, which goes to the bucket)', async () => {
    const manifest = JSON.parse((await getText(world.store, `archive/${slug}/release.json`)) ?? '{}') as {
      files: string[];
    };
    const delivery = await world.siteRequest(`${links[0]?.page}/pdf`, { method: 'GET' });
    expect(delivery.function).toMatch(/^PublicFunction/);
    // The publish function prints with its layer's Chromium (pdf.test.ts): never without a PDF.
    expect(manifest.files).toContain('release.pdf');
    expect(delivery.invocation).toMatchObject({
      ok: true,
      result: { statusCode: 200, isBase64Encoded: true, headers: { 'content-type': 'application/pdf' } },
    });
    const body = delivery.invocation.ok ? (delivery.invocation.result.body ?? '') : '';
    expect(Buffer.from(body, 'base64').subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(denials()).toEqual([]);
  });

  it('serves the lead image through the same behaviour, as bytes, only the names the manifest lists', async () => {
    const delivery = await world.siteRequest(links[0]?.image as string, { method: 'GET' });
    expect(delivery.function).toMatch(/^PublicFunction/);
    expect(delivery.invocation).toMatchObject({
      ok: true,
      result: {
        statusCode: 200,
        isBase64Encoded: true,
        headers: { 'content-type': 'image/jpeg', 'cache-control': 'private, no-store' },
      },
    });
    const body = delivery.invocation.ok ? (delivery.invocation.result.body ?? '') : '';
    expect(Buffer.from(body, 'base64').subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    // The original (files/) is not an image of the copy: refused, and the role could not read it.
    const original = await world.siteRequest(
      `${links[0]?.page}/images/..%2Ffiles%2Fimages%2Fbarometer-chart.jpg`,
      {
        method: 'GET',
      },
    );
    expect(original.invocation).toMatchObject({ ok: true, result: { statusCode: 400 } });
    expect(await world.store.head(`site/releases/${slug}/images/web/barometer-chart.jpg`)).toBeUndefined();
    expect(denials()).toEqual([]);
  });

  it('refuses a forged link, and the press room still does not list the release', async () => {
    const page = links[0]?.page as string;
    const forged = await world.siteRequest(`${page.slice(0, -3)}AAA`, { method: 'GET' });
    expect(forged.invocation).toMatchObject({ ok: true, result: { statusCode: 400 } });
    expect(await getText(world.store, 'site/index.html')).not.toContain(`releases/${slug}/`);
    expect(await world.store.head(`site/releases/${slug}/index.html`)).toBeUndefined();
    expect(denials()).toEqual([]);
  });
});
