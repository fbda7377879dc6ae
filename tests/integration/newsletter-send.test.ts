/**
 * A campaign with `newsletter: <issue id>`: sent to the outbox, read back with mailparser;
 * resume, one-click unsubscribe and scheduling work as for releases; an issue whose release
 * is no longer public is never sent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { OutboxMailer } from '../../lambdas/adapters/outbox-mailer.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { type PublishDeps, publishRelease } from '../../lambdas/core/archive/publish.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { readLedger } from '../../lambdas/core/campaigns/ledger.ts';
import { scheduleCampaign } from '../../lambdas/core/campaigns/schedule.ts';
import { EmbargoError, type SendDeps, sendCampaign } from '../../lambdas/core/campaigns/send.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { applyUnsubscribe } from '../../lambdas/core/contacts/feedback.ts';
import { IssueNotFoundError } from '../../lambdas/core/newsletter/catalog.ts';
import { publishIssue } from '../../lambdas/core/newsletter/publish.ts';
import { listAll, type ObjectStore } from '../../lambdas/core/store/object-store.ts';
import { importCsv, issueDeps, keys, publicUrl, releaseDeps } from '../support/dispatch-fixtures.ts';
import { memoryFiles, publicationText, villesInternet } from '../support/memory-files.ts';

const now = new Date('2026-03-15T08:00:00Z');
const roots: string[] = [];

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const members = [
  { firstName: 'Zoé', lastName: 'L’Hôte', email: 'zoe@mairie-a.example.org' },
  { firstName: 'Jérôme', lastName: 'Müller', email: 'jerome@mairie-b.example.org' },
  { firstName: 'Agnès', lastName: 'Çelik', email: 'agnes@mairie-c.example.com' },
];

const files = memoryFiles({
  'organizations/villes-internet.yaml': villesInternet,
  'publications/etude.md': publicationText('slug: etude-villes\n'),
  'lettres/mars.md': `---
title: "La lettre de mars : les villes résilientes"
date: 2026-03-15
publishers: [villes-internet]
intro: Les nouvelles du mois.
items:
  - release: etude-villes
  - title: Un rapport partenaire
    summary: Deux phrases.
    url: https://partner.example.org/rapport
---
`,
  'campaigns/lettre.yaml': `name: lettre-mars
newsletter: mars
audience:
  list: adherents
from: "Villes Internet <lettre@villes-internet.example.org>"
`,
});

let store: ObjectStore;
let publishing: PublishDeps;

beforeAll(async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-newsletter-send-'));
  roots.push(root);
  store = new FolderObjectStore({ root, signingSecret: 's', publicUrl });
  const templates = await loadTemplateFiles();
  publishing = releaseDeps(store, templates, files, () => new Date('2026-01-15T09:00:00Z'));
  await publishRelease('publications/etude.md', publishing);
  await publishIssue(
    'lettres/mars.md',
    issueDeps(publishing, templates, () => now),
  );
  const csv = ['Prénom;Nom;Courriel', ...members.map((m) => `${m.firstName};${m.lastName};${m.email}`)].join(
    '\n',
  );
  await importCsv({ store, keys }, csv, { file: 'adherents.csv', list: 'adherents', now });
});

const deps = (): SendDeps => ({ store, mailer: new OutboxMailer(store), keys, publicUrl, clock: () => now });

async function outbox(name: string): Promise<(ParsedMail & { raw: string })[]> {
  const mails = [];
  for await (const item of listAll(store, `outbox/${name}/`)) {
    const object = await store.get(item.key);
    if (object) {
      const raw = Buffer.from(object.body);
      mails.push(Object.assign(await simpleParser(raw), { raw: raw.toString('latin1') }));
    }
  }
  return mails;
}

/** A header of the raw message, unfolded. */
function header(raw: string, name: string): string | undefined {
  const match = new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, 'mi').exec(raw);
  return match?.[1]?.replace(/\r?\n[ \t]+/g, ' ');
}

const recipientOf = (mail: ParsedMail) => (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.value[0]?.address;

describe('a campaign with newsletter: <issue id>', () => {
  it('mails each member one personal copy of the issue, then resumes without sending twice', async () => {
    const definition = await loadCampaignFile('campaigns/lettre.yaml', files);
    const report = await sendCampaign(definition, deps(), { rate: 500 });
    expect(report).toMatchObject({ state: 'sent', audience: 3, sent: 3, failed: 0 });

    const mails = await outbox('lettre-mars');
    expect(mails.map(recipientOf).sort()).toEqual(members.map((m) => m.email).sort());
    for (const mail of mails) {
      const member = members.find((m) => m.email === recipientOf(mail));
      if (!member) throw new Error(`a message to someone else: ${recipientOf(mail)}`);
      expect(mail.subject).toBe('La lettre de mars : les villes résilientes');
      expect(mail.html).toContain(`Bonjour ${member.firstName},`);
      expect(mail.html).toContain('href="https://press.example.org/releases/etude-villes/index.html"');
      expect(mail.html).toContain('Un rapport partenaire');
      expect(mail.html).toContain('Voir la version en ligne');
      expect(mail.text).toContain(
        `Vous recevez cette lettre d’information en tant que ${member.firstName} ${member.lastName}.`,
      );
      expect(mail.html).not.toContain('{{');
      expect(mail.text).not.toContain('{{');
      expect(header(mail.raw, 'List-Unsubscribe')).toMatch(
        /^<https:\/\/press\.example\.org\/unsubscribe\/[^>]+>, <mailto:/,
      );
      expect(header(mail.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
      expect(mail.messageId).toBe(`<lettre-mars.${keys.idOf(member.email)}@villes-internet.example.org>`);
    }

    const again = await sendCampaign(definition, deps(), { rate: 500 });
    expect(again).toMatchObject({ sent: 0, alreadyDone: 3, state: 'sent' });
    expect(await outbox('lettre-mars')).toHaveLength(3);
    expect(await campaignStatus(store, 'lettre-mars')).toMatchObject({
      newsletter: 'mars',
      sent: 3,
      remaining: 0,
    });
  });

  it('honours one-click unsubscribes from an issue in the next campaign', async () => {
    const [first] = await outbox('lettre-mars');
    if (!first) throw new Error('the first campaign sent nothing');
    const url = /<(https:[^>]+)>/.exec(header(first.raw, 'List-Unsubscribe') ?? '')?.[1] ?? '';
    const token = url.split('/unsubscribe/')[1] ?? '';
    expect(await applyUnsubscribe(store, keys, token, now)).toMatchObject({ list: 'adherents' });

    const next = await loadCampaignFile(
      'c.yaml',
      memoryFiles({
        'c.yaml':
          'name: lettre-mars-bis\nnewsletter: mars\naudience: { list: adherents }\nfrom: "V <l@villes-internet.example.org>"\n',
      }),
    );
    const report = await sendCampaign(next, deps(), { rate: 500 });
    expect(report.sent).toBe(2);
    expect((await outbox('lettre-mars-bis')).map(recipientOf)).not.toContain(recipientOf(first));
    expect([...(await readLedger(store, 'lettre-mars-bis')).values()]).toHaveLength(2);
  });

  it('can be scheduled; an unknown issue is refused with what to do', async () => {
    const campaignFor = (name: string, issue: string, extra = '') =>
      loadCampaignFile(
        'c.yaml',
        memoryFiles({
          'c.yaml': `name: ${name}\nnewsletter: ${issue}\naudience: { list: adherents }\nfrom: "V <l@villes-internet.example.org>"\n${extra}`,
        }),
      );
    const sendAt = 'sendAt: 2026-04-01T08:00 Europe/Paris\n';
    const later = await campaignFor('lettre-avril', 'mars', sendAt);
    expect(await scheduleCampaign(later, { store, clock: () => now }, 'c.yaml')).toMatchObject({
      state: 'scheduled',
    });
    const unknown = await campaignFor('lettre-inconnue', 'avril', sendAt);
    await expect(scheduleCampaign(unknown, { store, clock: () => now }, 'c.yaml')).rejects.toThrow(
      IssueNotFoundError,
    );
    await expect(sendCampaign(await campaignFor('lettre-inconnue', 'avril'), deps())).rejects.toThrow(
      'pressroom newsletter publish',
    );
  });

  it('is never sent while a release it links to is no longer public', async () => {
    // The release is published again under an embargo after the issue went out to the press room.
    const embargoed = memoryFiles({
      'organizations/villes-internet.yaml': villesInternet,
      'publications/etude.md': publicationText('slug: etude-villes\nembargo: 2026-04-01T08:00:00+02:00\n'),
    });
    await publishRelease('publications/etude.md', { ...publishing, files: embargoed, clock: () => now });
    const definition = await loadCampaignFile(
      'c.yaml',
      memoryFiles({
        'c.yaml':
          'name: lettre-bloquee\nnewsletter: mars\naudience: { list: adherents }\nfrom: "V <l@villes-internet.example.org>"\n',
      }),
    );
    const error = await sendCampaign(definition, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbargoError);
    expect((error as Error).message).toContain('etude-villes (embargoed)');
    expect(await outbox('lettre-bloquee')).toEqual([]);
    // A test message to oneself still goes: checking the issue is what a test is for.
    const test = await sendCampaign(definition, deps(), { testTo: 'me@villes-internet.example.org' });
    expect(test.sent).toBe(1);
  });
});
