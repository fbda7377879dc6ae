/**
 * Digests of topic alerts: when they are due (08:00 in the workspace's zone, Mondays for the
 * weekly one, across daylight saving), how people are grouped (one email each, listing each
 * release once however many of their topics it has), who each group's campaign reaches, the
 * choice of frequency on the form (kept once confirmed), immediate alerts leaving digest
 * subscribers out, and the digest job over a real catalogue.
 */
import { describe, expect, it } from 'vitest';
import { digestGroups, lastDigestTime, runDueDigests } from '../../lambdas/core/alerts/digest.ts';
import { releaseAlerts } from '../../lambdas/core/alerts/release-alert.ts';
import { inAlertAudience } from '../../lambdas/core/alerts/topics.ts';
import { type ReleaseSummary, recordRelease } from '../../lambdas/core/archive/catalog.ts';
import type { CampaignDefinition } from '../../lambdas/core/campaigns/campaign.ts';
import { resolveAudience } from '../../lambdas/core/contacts/audience.ts';
import { findContact } from '../../lambdas/core/contacts/repository.ts';
import { parseSubscribableLists } from '../../lambdas/core/contacts/subscription-lists.ts';
import { handlePublicRequest } from '../../lambdas/core/public/endpoint.ts';
import {
  alertListsYaml,
  confirmBody,
  confirmPath,
  fixtureForEachTest,
  keys,
  req,
} from '../support/subscription-fixtures.ts';

const lists = parseSubscribableLists(
  `${alertListsYaml}    frequencies: [immediate, daily, weekly]\n`,
  'lists.yaml',
);

describe('when digests are due', () => {
  it('daily at 08:00 Paris time, summer and winter', () => {
    expect(lastDigestTime('daily', new Date('2026-07-01T06:00:00Z'), 'Europe/Paris').toISOString()).toBe(
      '2026-07-01T06:00:00.000Z',
    );
    expect(lastDigestTime('daily', new Date('2026-07-01T05:59:00Z'), 'Europe/Paris').toISOString()).toBe(
      '2026-06-30T06:00:00.000Z',
    );
    expect(lastDigestTime('daily', new Date('2026-12-07T07:30:00Z'), 'Europe/Paris').toISOString()).toBe(
      '2026-12-07T07:00:00.000Z',
    );
  });
  it('weekly on Mondays at 08:00', () => {
    // Sunday 6 December 2026: the Monday before.
    expect(lastDigestTime('weekly', new Date('2026-12-06T12:00:00Z'), 'Europe/Paris').toISOString()).toBe(
      '2026-11-30T07:00:00.000Z',
    );
    expect(lastDigestTime('weekly', new Date('2026-12-07T07:00:00Z'), 'Europe/Paris').toISOString()).toBe(
      '2026-12-07T07:00:00.000Z',
    );
  });
});

describe('digest groups', () => {
  const releases = [
    { slug: 'a', topics: ['numerique'] },
    { slug: 'b', topics: ['numerique', 'open-data'] },
    { slug: 'c', topics: ['open-data'] },
  ];
  it('one group per distinct set of releases; each release once per person; nobody with nothing', () => {
    expect(
      digestGroups(releases, [
        { topics: ['numerique'] },
        { topics: ['numerique', 'open-data'] },
        { topics: ['open-data'] },
        { topics: ['numerique'] },
        { topics: ['sport'] },
      ]),
    ).toEqual([
      { releases: ['a', 'b'], people: 2 },
      { releases: ['a', 'b', 'c'], people: 1 },
      { releases: ['b', 'c'], people: 1 },
    ]);
  });
  it("a group's audience: its frequency, and exactly its releases", () => {
    const digest = { releases, picks: ['a', 'b'] };
    expect(
      inAlertAudience(
        { topics: ['numerique'], frequency: 'daily', confirmedAt: '' },
        { alertFrequency: 'daily', digest },
      ),
    ).toBe(true);
    expect(
      inAlertAudience(
        { topics: ['numerique', 'open-data'], frequency: 'daily', confirmedAt: '' },
        { alertFrequency: 'daily', digest },
      ),
    ).toBe(false);
    expect(
      inAlertAudience(
        { topics: ['numerique'], frequency: 'weekly', confirmedAt: '' },
        { alertFrequency: 'daily', digest },
      ),
    ).toBe(false);
    // No frequency written: immediate.
    expect(inAlertAudience({ topics: ['numerique'], confirmedAt: '' }, { alertFrequency: 'immediate' })).toBe(
      true,
    );
    expect(
      inAlertAudience(
        { topics: ['numerique'], frequency: 'daily', confirmedAt: '' },
        { alertFrequency: 'immediate' },
      ),
    ).toBe(false);
  });
});

const f = fixtureForEachTest(new Date('2026-12-07T07:30:00Z'));
const call = (request: Parameters<typeof handlePublicRequest>[0]) =>
  handlePublicRequest(request, f.deps({ lists }));
const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };
async function subscribe(email: string, topics: string[], frequency?: string): Promise<number> {
  const body = [`email=${encodeURIComponent(email)}`, 'list=alertes', ...topics.map((t) => `topic=${t}`)];
  if (frequency) body.push(`frequency=${frequency}`);
  const reply = await call(req('POST', '/subscribe', { body: body.join('&'), headers: form }));
  if (reply.status !== 200) return reply.status;
  await call(req('POST', await confirmPath(f.mailer.sent.at(-1) as never), confirmBody));
  return 200;
}

function summary(slug: string, tags: string[], publishedAt: string): ReleaseSummary {
  return {
    slug,
    title: slug,
    date: publishedAt.slice(0, 10),
    lead: '',
    lang: 'fr',
    tags: tags.map((t) => ({ slug: t, name: t })),
    publishers: [],
    visibility: 'public',
    formats: { pdf: false, attachments: [] },
    publishedAt,
    updatedAt: publishedAt,
  };
}

describe('the frequency on the form', () => {
  it('offers the list frequencies as radio buttons, the first ticked', async () => {
    const page = await call(req('GET', '/subscribe?list=alertes&lang=en'));
    expect(page.body).toMatch(/<fieldset>\s*<legend>How often<\/legend>/);
    expect(page.body).toContain(
      'id="frequency-immediate" name="frequency" type="radio" value="immediate" checked>',
    );
    expect(page.body).toContain(
      'value="weekly"><label for="frequency-weekly">A weekly digest (Mondays, 8 a.m.)</label>',
    );
  });
  it('keeps it once confirmed; refuses one the list does not offer', async () => {
    expect(await subscribe('d@example.org', ['open-data'], 'daily')).toBe(200);
    expect((await findContact(f.store, keys, 'd@example.org'))?.contact?.lists.alertes?.alerts).toMatchObject(
      {
        topics: ['open-data'],
        frequency: 'daily',
      },
    );
    expect(await subscribe('i@example.org', ['open-data'])).toBe(200);
    expect(
      (await findContact(f.store, keys, 'i@example.org'))?.contact?.lists.alertes?.alerts?.frequency,
    ).toBeUndefined();
    expect(await subscribe('x@example.org', ['open-data'], 'hourly')).toBe(400);
    const other = await call(
      req('POST', '/subscribe', { body: 'email=y%40example.org&list=lettre&frequency=daily', headers: form }),
    );
    expect(other.status).toBe(400);
    expect(other.body).toContain('ne propose pas la fréquence');
  });
});

describe('the digest job', () => {
  it('marks the time at its first run; then one campaign per group, and immediate alerts leave digest subscribers out', async () => {
    await subscribe('num-daily@example.org', ['numerique'], 'daily');
    await subscribe('both-daily@example.org', ['numerique', 'open-data'], 'daily');
    await subscribe('opendata-daily@example.org', ['open-data'], 'daily');
    await subscribe('num-now@example.org', ['numerique']);
    await subscribe('num-weekly@example.org', ['numerique'], 'weekly');
    const issues: Record<string, string> = {};
    const scheduled: CampaignDefinition[] = [];
    const deps = {
      store: f.store,
      lists,
      timeZone: 'Europe/Paris',
      publishers: ['villes-internet'],
      publishIssue: async (id: string, markdown: string) => {
        issues[id] = markdown;
      },
      schedule: async (definition: CampaignDefinition) => {
        scheduled.push(definition);
      },
      clock: () => f.now,
    };
    // First run (Monday 7 December, 08:30 Paris): the times are marked, nothing is sent.
    expect((await runDueDigests(deps)).flatMap((o) => o.campaigns)).toEqual([]);
    // During the day: one release on numerique, one on numerique and culture, one private.
    await recordRelease(f.store, summary('r1', ['numerique'], '2026-12-07T09:00:00Z'), undefined, f.now);
    await recordRelease(
      f.store,
      summary('r2', ['numerique', 'open-data'], '2026-12-07T10:00:00Z'),
      undefined,
      f.now,
    );
    await recordRelease(
      f.store,
      { ...summary('r3', ['numerique'], '2026-12-07T11:00:00Z'), visibility: 'private' },
      undefined,
      f.now,
    );
    // Immediate alerts reach only those who chose them.
    const [alert] = releaseAlerts(summary('r1', ['numerique'], '2026-12-07T09:00:00Z'), lists, f.now);
    const immediate: string[] = [];
    for await (const m of resolveAudience(f.store, alert?.audience ?? {})) immediate.push(m.email);
    expect(immediate).toEqual(['num-now@example.org']);

    // Tuesday 08:30: the daily digest is due, not the weekly one.
    f.now = new Date('2026-12-08T07:30:00Z');
    const outcomes = await runDueDigests(deps);
    expect(outcomes.map((o) => [o.frequency, o.until])).toEqual([['daily', '2026-12-08T07:00:00.000Z']]);
    // r2 has both of both-daily's topics: it is listed once, in the same email as num-daily's.
    const groups = (outcomes[0]?.campaigns ?? []).map((c) => [c.releases, c.people]).sort();
    expect(groups).toEqual([
      [['r1', 'r2'], 2],
      [['r2'], 1],
    ]);
    const names = outcomes[0]?.campaigns.map((c) => c.name).sort();
    expect(names).toEqual(['digest-alertes-daily-2026-12-08-1', 'digest-alertes-daily-2026-12-08-2']);
    const both = outcomes[0]?.campaigns.find((c) => c.releases.length === 2)?.name as string;
    expect(issues[both]).toContain('visibility: private');
    expect(issues[both]).toContain('  - release: r1\n  - release: r2\n');
    expect(issues[both]).toContain('publishers: [villes-internet]');
    // Each campaign reaches exactly its group, one message per person.
    const reached: Record<string, string[]> = {};
    for (const definition of scheduled) {
      const people: string[] = [];
      for await (const m of resolveAudience(f.store, definition.audience)) people.push(m.email);
      reached[definition.name] = people.sort();
    }
    expect(reached[both]).toEqual(['both-daily@example.org', 'num-daily@example.org']);
    expect(Object.values(reached).flat().sort()).toEqual([
      'both-daily@example.org',
      'num-daily@example.org',
      'opendata-daily@example.org',
    ]);
    expect(scheduled.map((d) => d.newsletter)).toEqual(scheduled.map((d) => d.name));
    // Run again the same morning: nothing more.
    expect(await runDueDigests(deps)).toEqual([]);
  });
});
