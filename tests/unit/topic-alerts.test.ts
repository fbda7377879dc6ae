/**
 * Topic alerts: the topics an alert list offers (pressroom.yaml and lists.yaml, checked with
 * their lines), picking them on the public form (refused when unknown or none, kept only once
 * confirmed), the audience of a release's alert (one person once however many of their topics
 * match; unconfirmed, other topics and unsubscribed people left out), and what publishing
 * schedules (never before the embargo, never twice).
 */
import { describe, expect, it } from 'vitest';
import {
  alertCampaignName,
  cancelReleaseAlerts,
  queueReleaseAlerts,
  releaseAlerts,
} from '../../lambdas/core/alerts/release-alert.ts';
import { checkTopics, matchingTopics } from '../../lambdas/core/alerts/topics.ts';
import { archiveKeys } from '../../lambdas/core/archive/manifest.ts';
import { readCampaign, updateCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { cancelCampaignRemotely } from '../../lambdas/core/campaigns/remote.ts';
import { dueCampaigns } from '../../lambdas/core/campaigns/schedule.ts';
import { audienceSize, resolveAudience } from '../../lambdas/core/contacts/audience.ts';
import { applyUnsubscribe } from '../../lambdas/core/contacts/feedback.ts';
import { combineContacts } from '../../lambdas/core/contacts/merge.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { parseSubscribableLists } from '../../lambdas/core/contacts/subscription-lists.ts';
import { signUnsubscribeToken } from '../../lambdas/core/contacts/tokens.ts';
import { InvalidInputError } from '../../lambdas/core/errors.ts';
import { handlePublicRequest } from '../../lambdas/core/public/endpoint.ts';
import { openLists, parseWorkspaceFile } from '../../lambdas/core/workspace/settings.ts';
import { memoryFiles } from '../support/memory-files.ts';
import {
  alertListsYaml,
  confirmBody,
  confirmPath,
  fixtureForEachTest,
  keys,
  req,
} from '../support/subscription-fixtures.ts';

const lists = parseSubscribableLists(alertListsYaml, 'lists.yaml');

function problemsOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.message;
    throw error;
  }
  throw new Error('expected InvalidInputError');
}

describe('the topics a list offers', () => {
  it('reads them from lists.yaml in order, labels in fr and en', () => {
    expect(lists.alertes?.topics).toEqual([
      { tag: 'numerique', label: { fr: 'Numérique', en: 'Digital' } },
      { tag: 'villes-moyennes', label: { fr: 'Villes moyennes', en: 'Medium-sized cities' } },
      { tag: 'open-data', label: { fr: 'Open data', en: 'Open data' } },
    ]);
    expect(lists.lettre?.topics).toBeUndefined();
  });

  it('refuses a topic that is not a tag slug, and an empty topics, with the file, line and value', () => {
    const message = problemsOf(() =>
      parseSubscribableLists(
        `lists:
  alertes:
    title: Alertes
    from: "A <a@example.org>"
    topics:
      Numérique: Numérique
`,
        'lists.yaml',
      ),
    );
    expect(message).toContain('lists.yaml:6');
    expect(message).toContain('lists.alertes.topics.Numérique');
    expect(message).toContain('"numerique" for the tag "Numérique"');
    expect(
      problemsOf(() =>
        parseSubscribableLists(
          'lists:\n  a:\n    title: A\n    from: "A <a@example.org>"\n    topics: {}\n',
          'l.yaml',
        ),
      ),
    ).toContain('name at least one topic, or leave topics out');
  });

  it('pressroom.yaml: topics on an open list become its offer; on a closed list they are refused with the line', () => {
    const file = `sender: "Villes Internet <presse@villes-internet.example.org>"
lists:
  alertes:
    subscription: open
    topics:
      numerique: { fr: Numérique, en: Digital }
`;
    const settings = parseWorkspaceFile(file, 'pressroom.yaml');
    const open = openLists(settings.lists, {
      lang: 'fr',
      file: 'pressroom.yaml',
      ...(settings.sender && { sender: settings.sender }),
    });
    expect(open.alertes?.topics).toEqual([{ tag: 'numerique', label: { fr: 'Numérique', en: 'Digital' } }]);
    const message = problemsOf(() =>
      parseWorkspaceFile(file.replace('subscription: open', 'press: true'), 'pressroom.yaml'),
    );
    expect(message).toContain('pressroom.yaml:5');
    expect(message).toContain('lists.alertes.topics');
    expect(message).toContain('add "subscription: open"');
    // Frequencies need topics; digests need an organisation to publish them.
    const noTopics = `organizations: []\nlists:\n  lettre:\n    subscription: open\n    from: "A <a@example.org>"\n    frequencies: [daily]\n`;
    expect(problemsOf(() => parseWorkspaceFile(noTopics, 'pressroom.yaml'))).toContain(
      'frequencies are those of topic alerts',
    );
    const digests = problemsOf(() =>
      parseWorkspaceFile(`${file}    frequencies: [immediate, daily]\n`, 'pressroom.yaml'),
    );
    expect(digests).toContain('pressroom.yaml:7');
    expect(digests).toContain('name its organisation under "organizations"');
  });
});

describe('a campaign file may name topics (an alert written by hand, e.g. on the stack)', () => {
  const file = (topics: string) => `name: alerte
publication: etude-2021
audience:
  list: alertes
  topics: ${topics}
from: "Villes Internet <alertes@villes-internet.example.org>"
`;
  it('keeps them in the audience; refuses a topic that is not a tag slug with its line', async () => {
    const definition = await loadCampaignFile('c.yaml', memoryFiles({ 'c.yaml': file('[numerique]') }));
    expect(definition.audience.topics).toEqual(['numerique']);
    await expect(loadCampaignFile('c.yaml', memoryFiles({ 'c.yaml': file('[Numérique]') }))).rejects.toThrow(
      /c\.yaml:5.*audience\.topics\[0\]/s,
    );
  });
});

describe('merging two forms of an address', () => {
  it('keeps the topics confirmed last on the alert list', () => {
    const at = (day: string) => `2026-03-0${day}T09:00:00.000Z`;
    const contact = (topics: string[], day: string) => ({
      id: `id-${day}`,
      email: `camille${day}@example.org`,
      tags: [],
      lists: { alertes: { addedAt: at(day), source: 'form', alerts: { topics, confirmedAt: at(day) } } },
      createdAt: at(day),
      updatedAt: at(day),
    });
    const merged = combineContacts('id', [contact(['open-data'], '3'), contact(['numerique'], '1')]);
    expect(merged.lists.alertes).toMatchObject({ addedAt: at('1'), alerts: { topics: ['open-data'] } });
  });
});

describe('matching', () => {
  const offered = lists.alertes?.topics ?? [];
  it("a release's tags match the topics offered, in the offered order", () => {
    expect(matchingTopics(offered, ['gestion-de-crise', 'villes-moyennes', 'numerique'])).toEqual([
      'numerique',
      'villes-moyennes',
    ]);
    expect(matchingTopics(offered, ['culture'])).toEqual([]);
  });
  it('a request: unknown topic named, none refused, duplicates dropped', () => {
    expect(checkTopics(offered, ['open-data', 'numerique', 'open-data'])).toEqual({
      ok: true,
      topics: ['numerique', 'open-data'],
    });
    expect(checkTopics(offered, ['numerique', 'sport'])).toEqual({
      ok: false,
      problem: 'unknown',
      value: 'sport',
    });
    expect(checkTopics(offered, [])).toEqual({ ok: false, problem: 'none' });
  });
});

const f = fixtureForEachTest();
const call = (request: Parameters<typeof handlePublicRequest>[0]) =>
  handlePublicRequest(request, f.deps({ lists }));
const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };
const ask = (email: string, topics: string[], list = 'alertes') =>
  call(
    req('POST', '/subscribe', {
      body: [`email=${encodeURIComponent(email)}`, `list=${list}`, ...topics.map((t) => `topic=${t}`)].join(
        '&',
      ),
      headers: form,
    }),
  );
async function subscribe(email: string, topics: string[]): Promise<void> {
  expect((await ask(email, topics)).status).toBe(200);
  const link = await confirmPath(f.mailer.sent.at(-1) as never);
  const page = await call(req('GET', link));
  // The confirmation page says which topics are being confirmed.
  expect(page.body).toContain('Thèmes');
  expect((await call(req('POST', link, confirmBody))).status).toBe(200);
}

describe('picking topics on the form', () => {
  it("an alert list's form offers its topics as checkboxes in a fieldset with a legend", async () => {
    const page = await call(req('GET', '/subscribe?list=alertes&lang=en'));
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<fieldset[^>]*>\s*<legend>Topics<\/legend>/);
    expect(page.body).toContain(
      '<input id="topic-villes-moyennes" name="topic" type="checkbox" value="villes-moyennes"><label for="topic-villes-moyennes">Medium-sized cities</label>',
    );
    const other = await call(req('GET', '/subscribe?list=lettre'));
    expect(other.body).not.toContain('<fieldset');
  });

  it('refuses an unknown topic, no topic, and topics for a list that offers none: 400, nothing stored, nothing mailed', async () => {
    const before = await f.snapshot();
    const unknown = await ask('camille@example.org', ['numerique', 'sport']);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain('ne propose pas de thème «\u202fsport\u202f»');
    const none = await ask('camille@example.org', []);
    expect(none.status).toBe(400);
    expect(none.body).toContain('Cochez au moins un thème');
    const json = await call(
      req('POST', '/subscribe', {
        body: JSON.stringify({ email: 'camille@example.org', list: 'lettre', topics: ['numerique'] }),
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(json.status).toBe(400);
    expect(JSON.parse(json.body)).toMatchObject({ error: 'unknown-topic' });
    const badJson = await call(
      req('POST', '/subscribe', {
        body: JSON.stringify({ email: 'camille@example.org', list: 'alertes', topics: 'numerique' }),
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(badJson.status).toBe(400);
    expect(f.mailer.sent).toEqual([]);
    expect(await f.snapshot()).toEqual(before);
  });

  it('keeps the topics only once confirmed; a new confirmed choice replaces the old one', async () => {
    expect((await ask('camille@example.org', ['numerique'])).status).toBe(200);
    expect((await findContact(f.store, keys, 'camille@example.org'))?.contact).toBeUndefined();
    const link = await confirmPath(f.mailer.sent.at(-1) as never);
    expect((await call(req('POST', link, confirmBody))).status).toBe(200);
    const contact = (await findContact(f.store, keys, 'camille@example.org'))?.contact;
    expect(contact?.lists.alertes?.alerts).toEqual({
      topics: ['numerique'],
      confirmedAt: f.now.toISOString(),
    });
    f.now = new Date(f.now.getTime() + 11 * 60_000);
    expect((await ask('camille@example.org', ['open-data', 'villes-moyennes'])).status).toBe(200);
    // Asked, not confirmed: the old choice holds.
    expect(
      (await findContact(f.store, keys, 'camille@example.org'))?.contact?.lists.alertes?.alerts?.topics,
    ).toEqual(['numerique']);
    await call(req('POST', await confirmPath(f.mailer.sent.at(-1) as never), confirmBody));
    expect(
      (await findContact(f.store, keys, 'camille@example.org'))?.contact?.lists.alertes?.alerts?.topics,
    ).toEqual(['villes-moyennes', 'open-data']);
  });
});

const release = {
  slug: 'etude-2021',
  tags: [
    { slug: 'numerique', name: 'numérique' },
    { slug: 'villes-moyennes', name: 'villes moyennes' },
  ],
  visibility: 'public' as const,
};

describe("a release's alert", () => {
  it('goes to each person once however many of their topics match; not to unconfirmed, other-topic or unsubscribed people', async () => {
    await subscribe('both@example.org', ['numerique', 'villes-moyennes']);
    await subscribe('one@example.org', ['villes-moyennes']);
    await subscribe('other@example.org', ['open-data']);
    await subscribe('gone@example.org', ['numerique']);
    expect((await ask('pending@example.org', ['numerique'])).status).toBe(200);
    // The one-click unsubscribe of an alert's message: from the alert list.
    const gone = (await findContact(f.store, keys, 'gone@example.org'))?.contact;
    const token = signUnsubscribeToken(keys, {
      contact: gone?.id as string,
      list: 'alertes',
      campaign: 'alert-x',
    });
    await applyUnsubscribe(f.store, keys, token, f.now);
    const [alert, ...more] = releaseAlerts(release, lists, f.now);
    expect(more).toEqual([]);
    expect(alert?.audience).toEqual({
      lists: ['alertes'],
      topics: ['numerique', 'villes-moyennes'],
      alertFrequency: 'immediate',
      tagsMode: 'any',
    });
    const audience: string[] = [];
    for await (const member of resolveAudience(f.store, alert?.audience ?? {})) audience.push(member.email);
    expect(audience.sort()).toEqual(['both@example.org', 'one@example.org']);
    // What the admin's campaign pages and `send --backend aws`'s estimate count.
    expect(await audienceSize(f.store, alert?.audience ?? {})).toBe(2);
  });

  it('none for a private or withdrawn release, or one with no offered tag', () => {
    expect(releaseAlerts({ ...release, visibility: 'private' }, lists, f.now)).toEqual([]);
    expect(releaseAlerts({ ...release, withdrawn: '2026-03-01T00:00:00Z' }, lists, f.now)).toEqual([]);
    expect(releaseAlerts({ ...release, tags: [{ slug: 'culture', name: 'culture' }] }, lists, f.now)).toEqual(
      [],
    );
  });

  it('goes a minute after publishing, or at the lift of an embargo; publishing again never alerts twice', async () => {
    const name = alertCampaignName('alertes', 'etude-2021');
    const alerts = releaseAlerts(release, lists, f.now);
    expect(alerts[0]?.sendAt?.utc).toBe(new Date(f.now.getTime() + 60_000).toISOString());
    const embargo = '2026-03-05T06:00:00.000Z';
    // The archive must hold the release for scheduling to check its embargo.
    await f.store.put(
      archiveKeys.manifest('etude-2021'),
      JSON.stringify({ version: 'v1', summary: { ...release, embargo } }),
    );
    const [queued] = await queueReleaseAlerts({ ...release, embargo }, lists, {
      store: f.store,
      clock: () => f.now,
    });
    expect(queued).toEqual({
      campaign: name,
      action: 'scheduled',
      topics: ['numerique', 'villes-moyennes'],
      sendAt: embargo,
    });
    expect(await dueCampaigns(f.store, new Date('2026-03-05T05:59:59Z'))).toEqual([]);
    expect(await dueCampaigns(f.store, new Date(embargo))).toEqual([name]);
    // Sent since: publishing again keeps it.
    await updateCampaign(
      f.store,
      name,
      () => {
        throw new Error('absent');
      },
      (c) => ({ ...c, state: 'sent' }),
    );
    const [again] = await queueReleaseAlerts({ ...release, embargo }, lists, {
      store: f.store,
      clock: () => f.now,
    });
    expect(again?.action).toBe('kept');
    expect((await readCampaign(f.store, name)).state).toBe('sent');
  });

  it('a waiting alert is cancelled when the release is published again as private', async () => {
    await f.store.put(
      archiveKeys.manifest('etude-2021'),
      JSON.stringify({ version: 'v1', summary: release }),
    );
    await queueReleaseAlerts(release, lists, { store: f.store, clock: () => f.now });
    const [outcome] = await queueReleaseAlerts({ ...release, visibility: 'private' }, lists, {
      store: f.store,
      clock: () => f.now,
    });
    expect(outcome?.action).toBe('cancelled');
    expect((await readCampaign(f.store, alertCampaignName('alertes', 'etude-2021'))).state).toBe('cancelled');
    expect(await dueCampaigns(f.store, new Date(f.now.getTime() + 3600_000))).toEqual([]);
  });

  it('withdrawing the release cancels its waiting alert (on the stack with its schedule); one no longer waiting is left', async () => {
    // Another release, "2021": the name of the alert of "etude-2021" ends with "-2021" too.
    const other = { ...release, slug: '2021' };
    for (const r of [release, other])
      await f.store.put(archiveKeys.manifest(r.slug), JSON.stringify({ version: 'v1', summary: r }));
    await queueReleaseAlerts(release, lists, { store: f.store, clock: () => f.now });
    await queueReleaseAlerts(other, lists, { store: f.store, clock: () => f.now });
    const name = alertCampaignName('alertes', 'etude-2021');
    const otherName = alertCampaignName('alertes', '2021');
    const removed: string[] = [];
    const scheduler = {
      put: async () => 'created' as const,
      remove: async (schedule: string) => {
        removed.push(schedule);
        return true;
      },
    };
    const outcomes = await cancelReleaseAlerts(
      '2021',
      { store: f.store, cancel: (n, now) => cancelCampaignRemotely(n, { store: f.store, scheduler }, now) },
      f.now,
    );
    expect(outcomes).toEqual([
      { campaign: otherName, action: 'cancelled', topics: ['numerique', 'villes-moyennes'] },
    ]);
    expect(removed).toHaveLength(1);
    expect((await readCampaign(f.store, name)).state).toBe('scheduled');
    // Locally: the record is cancelled and the due job no longer sees it.
    expect(await cancelReleaseAlerts('etude-2021', { store: f.store }, f.now)).toHaveLength(1);
    expect((await readCampaign(f.store, name)).state).toBe('cancelled');
    expect(await dueCampaigns(f.store, new Date(f.now.getTime() + 3600_000))).toEqual([]);
    // Cancelled (or sent) already: nothing more to do.
    expect(await cancelReleaseAlerts('etude-2021', { store: f.store }, f.now)).toEqual([]);
  });
});
