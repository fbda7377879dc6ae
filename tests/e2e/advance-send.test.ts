/**
 * An advance send under embargo, end to end through the command: the seed release, its
 * embargo moved to 8 June 2094 at 8:00 in Paris (a Tuesday, as in 2021), published with its
 * PDF; the example press list imported; `pressroom send` of a campaign with `embargo: advance`
 * to the outbox. Each .eml opens with the notice and the lift date in its HTML and text parts,
 * its subject carries the embargo prefix, and its links lead to the recipient's own copy,
 * which `pressroom serve` serves (page and PDF) while the public press room (index, feeds,
 * sitemaps) does not mention the release. The campaign without `embargo: advance` and an
 * advance campaign to a list that is not a press list are refused with the reason.
 *
 * The commands run in the copy of examples/ (its pressroom.yaml: zone Europe/Paris, the press
 * list `presse`). The tests of this file share one data folder and run in order.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAdvanceCopyToken } from '../../lambdas/core/campaigns/advance-copy.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { filesUnder } from '../support/archive-files.ts';
import { requireChromium } from '../support/browser.ts';
import { exampleWorkspace, expectExit, type Run, runPressroom } from '../support/cli.ts';
import { crise } from '../support/example-releases.ts';
import { outboxEnv, requestLink, type Server, startServer, stopServer } from '../support/serve.ts';

const secret = 'e2e-advance-send-secret-0123456789abcdef';
const publicUrl = 'https://press.example.org';
const lift = '2094-06-08T08:00:00+02:00';
const noticeLine = 'Sous embargo jusqu’au mardi 8 juin 2094 à 8\u00a0h (heure de Paris)';
const subjectPrefix = '[Embargo 8 juin 8\u00a0h] ';
const advanceCampaign = 'etude-2021-avance';
/** Words of the release that no public file may hold before the lift. */
const releaseWords = [crise.slug, 'Gestion de crise avec le numérique', 'villes moyennes résilientes'];

let work: string;
let examples: string;
let data: string;
let server: Server | undefined;

function pressroom(args: string[]): Promise<Run> {
  return runPressroom(args, { cwd: examples, env: outboxEnv({ data, secret, publicUrl }) });
}

interface Message {
  to: string;
  subject: string;
  html: string;
  text: string;
}

async function outbox(campaign: string): Promise<Message[]> {
  const dir = path.join(data, 'outbox', campaign);
  const out: Message[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.eml'))) {
    const parsed = await simpleParser(await readFile(path.join(dir, file)));
    const to = (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((a) => a.value);
    out.push({
      to: to.map((a) => a.address ?? '').join(','),
      subject: parsed.subject ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : '',
      text: parsed.text ?? '',
    });
  }
  return out;
}

const copyLink = /https:\/\/press\.example\.org\/advance\/(a1\.[\w-]+\.[\w-]+)(\/pdf)?/g;

beforeAll(async () => {
  await requireChromium('this test publishes the seed release with its PDF');
  work = await exampleWorkspace('pressroom-advance-');
  examples = path.join(work, 'examples');
  data = path.join(work, 'data');
  const seed = path.join(work, crise.file);
  const source = await readFile(seed, 'utf8');
  expect(source).toMatch(/^embargo: .*$/m);
  await writeFile(seed, source.replace(/^embargo: .*$/m, `embargo: ${lift}`));
  const campaign = await readFile(path.join(examples, 'campaigns/etude-2021-presse.yaml'), 'utf8');
  const advance = campaign.replace(/^name: .*$/m, `name: ${advanceCampaign}\nembargo: advance`);
  await writeFile(path.join(examples, 'campaigns/avance.yaml'), advance);
  await writeFile(
    path.join(examples, 'campaigns/avance-lettre.yaml'),
    advance.replace(/^name: .*$/m, 'name: etude-2021-avance-lettre').replace(/list: presse/, 'list: lettre'),
  );
  const published = await pressroom(['publish', path.relative(examples, seed)]);
  expectExit(published, 0);
  expect(published.stdout).toContain('embargoed');
  expectExit(await pressroom(['publish', 'publications/2024-03-12-open-data-barometer.md', '--no-pdf']), 0);
  expectExit(await pressroom(['contacts', 'import', 'contacts/journalistes.csv', '--list', 'presse']), 0);
  server = await startServer([], { cwd: examples, env: outboxEnv({ data, secret, publicUrl }) });
}, 180_000);

afterAll(async () => {
  await stopServer(server, 'SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('an advance send under embargo', () => {
  it('refuses the campaign without embargo: advance, saying how to send an advance copy', async () => {
    const run = await pressroom(['send', 'campaigns/etude-2021-presse.yaml']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('under embargo until 2094-06-08T06:00:00.000Z');
    expect(run.stderr).toContain('embargo: advance');
  });

  it('refuses an advance copy to a list that is not a press list, with the reason, sending nothing', async () => {
    const run = await pressroom(['send', 'campaigns/avance-lettre.yaml']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/campaigns\/avance-lettre\.yaml:\d+:\d+ audience\.list: is not a press list/);
    expect(run.stderr).toContain('(press lists: presse)');
    expect(run.stderr).toContain('(value: "lettre")');
    await expect(readdir(path.join(data, 'outbox', 'etude-2021-avance-lettre'))).rejects.toThrow();
  });

  let messages: Message[] = [];

  it('mails the press list, each message opening with the notice and the lift date, in HTML and text', async () => {
    const run = await pressroom(['send', 'campaigns/avance.yaml', '--json']);
    expectExit(run, 0);
    const report = JSON.parse(run.stdout) as { state: string; sent: number; audience: number };
    expect(report.state).toBe('sent');
    expect(report.sent).toBe(report.audience);
    messages = await outbox(advanceCampaign);
    expect(messages).toHaveLength(report.sent);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expect(m.subject.startsWith(subjectPrefix), m.subject).toBe(true);
      expect(m.subject).toContain('gestion de crise avec le numérique');
      expect(m.text.startsWith(`${noticeLine}\n`), m.text.slice(0, 200)).toBe(true);
      const body = m.html.slice(m.html.search(/<body\b/));
      expect(body).toMatch(/^<body[^>]*><div role="note" lang="fr"[^>]*><strong>([^<]*)<\/strong>/);
      expect(/<strong>([^<]*)<\/strong>/.exec(body)?.[1]).toBe(noticeLine);
    }
  });

  it("links to the recipient's own copy of the page and the PDF, never to the press room's", async () => {
    const keys = contactKeys(secret);
    const tokens = new Set<string>();
    for (const m of messages) {
      for (const part of [m.html, m.text]) {
        const links = [...part.matchAll(copyLink)];
        expect(links.map((l) => l[2] ?? 'page').sort(), m.to).toEqual(
          part === m.html ? expect.arrayContaining(['/pdf', 'page']) : expect.arrayContaining(['page']),
        );
        expect(part).not.toContain(`releases/${crise.slug}/`);
        for (const [, token] of links) {
          const copy = verifyAdvanceCopyToken(keys, token as string, new Date());
          expect(copy.slug).toBe(crise.slug);
          expect(copy.contact).toBe(keys.idOf(m.to));
          expect(copy.expiresAt.toISOString()).toBe('2094-07-08T06:00:00.000Z');
          tokens.add(token as string);
        }
      }
    }
    expect(tokens.size).toBe(messages.length);
  });

  it('serves the copy through pressroom serve: the page with its embargo line, and the PDF', async () => {
    const link = [...(messages[0]?.html ?? '').matchAll(copyLink)].find(
      (l) => l[2] === undefined,
    )?.[0] as string;
    const page = await requestLink(server, link, publicUrl);
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('private, no-store');
    expect(page.headers['x-robots-tag']).toBe('noindex, nofollow');
    expect(page.body).toContain('<meta name="robots" content="noindex, nofollow">');
    expect(page.body).toContain(crise.title);
    expect(page.body).toContain('Sous embargo jusqu’au');
    // No link to the press room's PDF, which has nothing before the lift.
    expect(page.body).not.toContain(`releases/${crise.slug}/release.pdf`);
    const pdf = await requestLink(server, `${link}/pdf`, publicUrl);
    expect(pdf.status).toBe(200);
    expect(pdf.type).toBe('application/pdf');
    expect(pdf.body.startsWith('%PDF-')).toBe(true);
    const forged = await requestLink(server, `${link.slice(0, -3)}AAA`, publicUrl);
    expect(forged.status).toBe(400);
    expect(forged.body).not.toContain(crise.title);
    // The request log names the route, never the token.
    const token = /\/advance\/([^/]+)/.exec(link)?.[1] as string;
    expect(server?.output()).toMatch(/GET \/advance\/\[token\] 200 /);
    expect(server?.output()).toMatch(/GET \/advance\/\[token\]\/pdf 200 /);
    expect(server?.output()).not.toContain(token);
  });

  it('keeps the release out of the public press room: index, feeds, sitemaps, its page', async () => {
    for (const key of ['/', '/feed.xml', '/atom.xml', '/feed.json', '/sitemap.xml']) {
      const reply = await requestLink(server, key, publicUrl);
      expect(reply.status, key).toBe(200);
      for (const word of releaseWords) expect(reply.body, key).not.toContain(word);
    }
    expect((await requestLink(server, '/feed.json', publicUrl)).body).toContain('Open Data Barometer 2024');
    expect((await requestLink(server, `/releases/${crise.slug}/`, publicUrl)).status).toBe(404);
    const leaks: string[] = [];
    for (const file of await filesUnder(path.join(data, 'site'))) {
      const text = await readFile(path.join(data, 'site', file), 'utf8');
      for (const word of releaseWords) if (text.includes(word)) leaks.push(`${file}: ${word}`);
    }
    expect(leaks).toEqual([]);
  });
});
