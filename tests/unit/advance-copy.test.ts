/**
 * Advance copies under embargo (campaigns/advance-copy.ts, public/advance.ts): the copy
 * token (`a1.`), the embargo notice and subject prefix in French and English, the notice in
 * the HTML and text parts, the refusal of a non-press list when the campaign file is read,
 * and the copy served by the public endpoint (the page, the PDF, noindex and no-store, 302
 * once public, 400/410 for bad, expired and withdrawn links).
 */
import { describe, expect, it } from 'vitest';
import type { ReleaseManifest } from '../../lambdas/core/archive/manifest.ts';
import {
  advanceCopyDays,
  advanceCopyExpiry,
  advanceCopyUrls,
  embargoNotice,
  signAdvanceCopyToken,
  verifyAdvanceCopyToken,
  withEmbargoNotice,
} from '../../lambdas/core/campaigns/advance-copy.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { scheduleCampaign } from '../../lambdas/core/campaigns/schedule.ts';
import { EmbargoError } from '../../lambdas/core/campaigns/send.ts';
import { parseSendTime, type SendTime } from '../../lambdas/core/campaigns/time.ts';
import {
  ExpiredTokenError,
  InvalidTokenError,
  signSubscriptionToken,
} from '../../lambdas/core/contacts/tokens.ts';
import { InvalidInputError } from '../../lambdas/core/errors.ts';
import { handlePublicRequest, isPublicPath } from '../../lambdas/core/public/endpoint.ts';
import { formatEmbargoTime } from '../../lambdas/core/render/locale.ts';
import { memoryFiles } from '../support/memory-files.ts';
import { fixtureForEachTest, keys, req } from '../support/subscription-fixtures.ts';

const slug = 'sous-embargo';
const contact = keys.idOf('camille.martin@example.org');
const lift = '2026-03-10T07:00:00.000Z';
const expiresAt = advanceCopyExpiry(lift);

describe('the copy token', () => {
  const token = signAdvanceCopyToken(keys, { slug, contact, expiresAt });

  it('names the release, the contact and the expiry, 30 days after the lift', () => {
    expect(advanceCopyDays).toBe(30);
    expect(expiresAt.toISOString()).toBe('2026-04-09T07:00:00.000Z');
    expect(token).toMatch(/^a1\.[\w-]+\.[\w-]+$/);
    expect(token).not.toContain('camille');
    expect(verifyAdvanceCopyToken(keys, token, new Date(lift))).toEqual({ slug, contact, expiresAt });
  });

  it('is refused when altered, signed with another secret, of another kind, or expired', () => {
    const [v, payload, mac] = token.split('.') as [string, string, string];
    const other = Buffer.from(JSON.stringify(['autre', contact, expiresAt.getTime() / 1000])).toString(
      'base64url',
    );
    const now = new Date(lift);
    expect(() => verifyAdvanceCopyToken(keys, `${v}.${other}.${mac}`, now)).toThrow(InvalidTokenError);
    expect(() => verifyAdvanceCopyToken(keys, `${v}.${payload}.${mac.slice(1)}x`, now)).toThrow(
      InvalidTokenError,
    );
    const subscription = signSubscriptionToken(keys, { contact, list: slug, expiresAt });
    expect(() => verifyAdvanceCopyToken(keys, subscription, now)).toThrow(/malformed/);
    expect(() => verifyAdvanceCopyToken(keys, `s1.${payload}.${mac}`, now)).toThrow(InvalidTokenError);
    expect(() => verifyAdvanceCopyToken(keys, token, expiresAt)).toThrow(ExpiredTokenError);
  });

  it('goes in /advance/<token>, /advance/<token>/pdf and /advance/<token>/images/ on the public URL', () => {
    expect(advanceCopyUrls('https://press.example.org/', token)).toEqual({
      page: `https://press.example.org/advance/${token}`,
      pdf: `https://press.example.org/advance/${token}/pdf`,
      images: `https://press.example.org/advance/${token}/images/`,
    });
    expect(isPublicPath(`/advance/${token}`)).toBe(true);
  });
});

describe('the embargo notice', () => {
  it('writes the lift as French readers do: 8 h, heure de Paris, 1er, no-break spaces', () => {
    expect(formatEmbargoTime('2021-06-08T06:00:00Z', 'fr', 'Europe/Paris')).toBe(
      'mardi 8 juin 2021 à 8\u00a0h (heure de Paris)',
    );
    expect(formatEmbargoTime('2021-06-01T06:30:00Z', 'fr', 'Europe/Paris')).toBe(
      'mardi 1er juin 2021 à 8\u00a0h\u00a030 (heure de Paris)',
    );
    expect(formatEmbargoTime('2021-06-08T06:00:00Z', 'fr', 'Europe/Paris', 'short')).toBe('8 juin 8\u00a0h');
    // Winter time: the zone's own offset at that instant.
    expect(formatEmbargoTime('2021-01-12T07:00:00Z', 'fr', 'Europe/Paris')).toBe(
      'mardi 12 janvier 2021 à 8\u00a0h (heure de Paris)',
    );
    expect(formatEmbargoTime('2021-06-08T06:00:00Z', 'fr', 'America/Argentina/Buenos_Aires')).toBe(
      'mardi 8 juin 2021 à 3\u00a0h (heure de Buenos Aires)',
    );
  });

  it('and as English readers do', () => {
    expect(formatEmbargoTime('2021-06-08T06:00:00Z', 'en', 'Europe/Paris')).toBe(
      'Tuesday 8 June 2021, 8:00 (Paris time)',
    );
    expect(formatEmbargoTime('2021-06-08T06:00:00Z', 'en', 'Europe/Paris', 'short')).toBe('8 June 8:00');
    expect(formatEmbargoTime('2021-06-08T06:00:00Z', 'en', 'UTC+02:00')).toBe(
      'Tuesday 8 June 2021, 8:00 (UTC+02:00)',
    );
    expect(formatEmbargoTime('2021-06-08T06:00:00Z', 'en', 'UTC')).toBe('Tuesday 8 June 2021, 6:00 (UTC)');
  });

  it('gives the line, what it asks and the subject prefix in the release language', () => {
    const fr = embargoNotice('2021-06-08T06:00:00.000Z', 'fr', 'Europe/Paris');
    expect(fr.line).toBe('Sous embargo jusqu’au mardi 8 juin 2021 à 8\u00a0h (heure de Paris)');
    expect(fr.subjectPrefix).toBe('[Embargo 8 juin 8\u00a0h] ');
    expect(fr.detail).toContain('copie personnelle');
    const en = embargoNotice('2021-06-08T06:00:00.000Z', 'en', 'Europe/Paris');
    expect(en.line).toBe('Embargoed until Tuesday 8 June 2021, 8:00 (Paris time)');
    expect(en.subjectPrefix).toBe('[Embargo 8 June 8:00] ');
  });

  it('opens the HTML body and the text, escaped', () => {
    const notice = { ...embargoNotice(lift, 'en', 'Europe/Paris'), detail: 'Keep <b>this</b> & that' };
    const email = withEmbargoNotice(
      {
        html: '<html><head></head><body class="x"><div>preheader</div><p>Hello</p></body></html>',
        text: 'Hello',
      },
      notice,
    );
    expect(email.html).toMatch(
      /^<html><head><\/head><body class="x"><div role="note" lang="en"[^>]*><strong>Embargoed until Tuesday 10 March 2026, 8:00 \(Paris time\)<\/strong><br>Keep &lt;b&gt;this&lt;\/b&gt; &amp; that<\/div><div>preheader/,
    );
    expect(email.text).toBe(`${notice.line}\n${notice.detail}\n\nHello`);
  });
});

describe('embargo: advance in a campaign file', () => {
  const campaign = (audience: string) =>
    memoryFiles({
      'campaigns/c.yaml': `name: avance\npublication: ${slug}\nembargo: advance\n${audience}\nfrom: "Presse <presse@example.org>"\n`,
    });

  it('goes to press lists, its notice shown in the workspace zone', async () => {
    const definition = await loadCampaignFile('campaigns/c.yaml', campaign('audience:\n  list: presse'), {
      pressLists: ['presse'],
      timeZone: 'Europe/Paris',
    });
    expect(definition.advance).toEqual({ zone: 'Europe/Paris' });
  });

  it('is refused for any other list, naming the file, line, list and the reason', async () => {
    const files = campaign('audience:\n  lists: [presse, lettre]');
    const error = await loadCampaignFile('campaigns/c.yaml', files, { pressLists: ['presse'] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    const message = (error as Error).message;
    expect(message).toContain('campaigns/c.yaml:5');
    expect(message).toContain('audience.lists[1]');
    expect(message).toContain('"lettre"');
    expect(message).toMatch(/is not a press list: .*press: true.*\(press lists: presse\)/);
    expect(message).not.toContain('audience.lists[0]');
    // No press list at all in the workspace: refused the same way.
    const none = await loadCampaignFile('campaigns/c.yaml', campaign('audience:\n  list: presse'), {}).catch(
      (e: unknown) => e,
    );
    expect((none as Error).message).toContain('none is');
  });

  it('is for releases: a newsletter campaign with it is refused', async () => {
    const files = memoryFiles({
      'n.yaml':
        'name: lettre\nnewsletter: 2024-03\nembargo: advance\naudience:\n  list: presse\nfrom: "P <p@example.org>"\n',
    });
    await expect(loadCampaignFile('n.yaml', files, { pressLists: ['presse'] })).rejects.toThrow(
      /n\.yaml:3.*embargo: a newsletter issue .*advance copies are for releases/,
    );
  });

  it('accepts only "advance"', async () => {
    const files = memoryFiles({
      'c.yaml': `name: avance\npublication: ${slug}\nembargo: early\naudience:\n  list: presse\nfrom: "P <p@example.org>"\n`,
    });
    await expect(loadCampaignFile('c.yaml', files, { pressLists: ['presse'] })).rejects.toThrow(
      /c\.yaml:3.*embargo.*must be "advance"/,
    );
  });
});

describe('the copy on the public endpoint', () => {
  const f = fixtureForEachTest(new Date('2026-03-09T12:00:00Z'));
  const version = 'v1';
  const publicPdf = `https://press.example.org/releases/${slug}/release.pdf`;
  const page = `<!doctype html><html lang="fr"><head><title>T</title></head><body>Sous embargo <a href="${publicPdf}">PDF</a></body></html>`;
  const pdfBytes = new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d, 0x00, 0xff]);

  async function archive(changes: Partial<ReleaseManifest> = {}): Promise<void> {
    const manifest: ReleaseManifest = {
      summary: {
        slug,
        title: 'T',
        date: '2026-03-10',
        lead: '',
        lang: 'fr',
        tags: [],
        publishers: [],
        visibility: 'public',
        embargo: lift,
        formats: { pdf: true, attachments: [] },
        publishedAt: '2026-03-01T00:00:00Z',
        updatedAt: '2026-03-01T00:00:00Z',
      },
      version,
      source: { path: 'publications/x.md', sha256: '0' },
      files: ['page.html', 'release.pdf'],
      siteUrl: 'https://press.example.org/',
      ...changes,
    };
    await f.store.put(`archive/${slug}/release.json`, JSON.stringify(manifest));
    await f.store.put(`archive/${slug}/${version}/page.html`, page);
    await f.store.put(`archive/${slug}/${version}/release.pdf`, pdfBytes);
  }
  const token = (at = expiresAt) => signAdvanceCopyToken(keys, { slug, contact, expiresAt: at });
  const get = (path: string) => handlePublicRequest(req('GET', path), f.deps());

  it('serves the archived page under embargo, kept out of caches and search engines', async () => {
    await archive();
    const reply = await get(`/advance/${token()}`);
    expect(reply.status).toBe(200);
    expect(reply.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'private, no-store',
      'x-robots-tag': 'noindex, nofollow',
      'referrer-policy': 'no-referrer',
    });
    expect(reply.body).toContain('<meta name="robots" content="noindex, nofollow">');
    expect(reply.body).toContain('Sous embargo');
    // Its link to the PDF, not yet in the press room, leads to the copy's.
    expect(reply.body).toContain(`<a href="/advance/${token()}/pdf">PDF</a>`);
    expect(reply.body).not.toContain(publicPdf);
  });

  it('serves the PDF as bytes (base64 for Function URLs), under the release name', async () => {
    await archive();
    const reply = await get(`/advance/${token()}/pdf`);
    expect(reply).toMatchObject({
      status: 200,
      isBase64Encoded: true,
      headers: {
        'content-type': 'application/pdf',
        'content-disposition': `inline; filename="${slug}.pdf"`,
        'cache-control': 'private, no-store',
      },
    });
    expect(new Uint8Array(Buffer.from(reply.body, 'base64'))).toEqual(pdfBytes);
  });

  it("serves the press kit images' web sizes the manifest lists (the lead image), and nothing else of the version", async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00]);
    await archive({
      files: [
        'page.html',
        'release.pdf',
        'images/web/photo.jpg',
        'images/thumbs/photo.jpg',
        'files/photo.jpg',
      ],
      images: [
        {
          original: 'files/photo.jpg',
          sha256: '0',
          bytes: 5,
          format: 'jpeg',
          width: 10,
          height: 10,
          web: 'images/web/photo.jpg',
          thumbnail: 'images/thumbs/photo.jpg',
        },
      ],
    });
    await f.store.put(`archive/${slug}/${version}/images/web/photo.jpg`, jpeg);
    await f.store.put(`archive/${slug}/${version}/files/photo.jpg`, jpeg);
    const reply = await get(`/advance/${token()}/images/web/photo.jpg`);
    expect(reply).toMatchObject({
      status: 200,
      isBase64Encoded: true,
      headers: { 'content-type': 'image/jpeg', 'cache-control': 'private, no-store' },
    });
    expect(new Uint8Array(Buffer.from(reply.body, 'base64'))).toEqual(jpeg);
    // An original, another key, a name the manifest does not list: refused.
    expect((await get(`/advance/${token()}/images/..%2Ffiles%2Fphoto.jpg`)).status).toBe(400);
    expect((await get(`/advance/${token()}/images/web/other.jpg`)).status).toBe(400);
    expect((await get(`/advance/${token()}/files/photo.jpg`)).status).toBe(404);
    // A forged token gets nothing.
    expect((await get(`/advance/${token().slice(0, -3)}AAA/images/web/photo.jpg`)).status).toBe(400);
    // Once public: the press room's image.
    f.now = new Date('2026-03-10T07:00:01Z');
    expect(await get(`/advance/${token()}/images/web/photo.jpg`)).toMatchObject({
      status: 302,
      headers: { location: `https://press.example.org/releases/${slug}/images/web/photo.jpg` },
    });
  });

  it('redirects to the press room once the release is public', async () => {
    await archive();
    f.now = new Date('2026-03-10T07:00:01Z');
    expect(await get(`/advance/${token()}`)).toMatchObject({
      status: 302,
      headers: { location: `https://press.example.org/releases/${slug}/` },
    });
    expect(await get(`/advance/${token()}/pdf`)).toMatchObject({
      status: 302,
      headers: { location: `https://press.example.org/releases/${slug}/release.pdf` },
    });
  });

  it('may be scheduled before the embargo, which a campaign without embargo: advance may not', async () => {
    await archive();
    const sendAt = parseSendTime('2026-03-09T18:00 Europe/Paris') as SendTime;
    const campaign = {
      name: 'avance',
      publication: slug,
      audience: { lists: ['presse'], tagsMode: 'any' as const },
      from: { name: 'Presse', address: 'presse@example.org' },
      attachPdf: false,
      sendAt,
    };
    const deps = { store: f.store, clock: () => f.now };
    await expect(scheduleCampaign(campaign, deps, 'c.yaml')).rejects.toThrow(EmbargoError);
    const saved = await scheduleCampaign({ ...campaign, advance: { zone: 'Europe/Paris' } }, deps, 'c.yaml');
    expect(saved.state).toBe('scheduled');
  });

  it('refuses a bad, expired or foreign link, and a withdrawn release, changing nothing', async () => {
    await archive();
    const before = await f.snapshot();
    const bad = await get(`/advance/${token().slice(0, -2)}xx`);
    expect(bad.status).toBe(400);
    expect(bad.body).not.toContain('Sous embargo');
    expect(
      (await get(`/advance/${signSubscriptionToken(keys, { contact, list: slug, expiresAt })}`)).status,
    ).toBe(400);
    expect((await get(`/advance/${token(new Date('2026-03-09T11:00:00Z'))}`)).status).toBe(410);
    expect((await handlePublicRequest(req('POST', `/advance/${token()}`), f.deps())).status).toBe(405);
    expect(await f.snapshot()).toEqual(before);
    await archive({ withdrawn: { at: '2026-03-09T10:00:00Z', reason: 'erreur', by: 'x', wasPublic: false } });
    const gone = await get(`/advance/${token()}`);
    expect(gone.status).toBe(410);
    expect(gone.body).not.toContain('Sous embargo');
  });
});
