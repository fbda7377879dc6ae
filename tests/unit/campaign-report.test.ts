/**
 * The delivery report (lambdas/core/campaigns/report.ts): rows assembled from the ledger, the
 * provider's reports (written by the feedback path, applyProviderFeedback), the suppressions
 * and the tracking events, and what "delivered" means for each mailer.
 */
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import type { LedgerEntry } from '../../lambdas/core/campaigns/ledger.ts';
import { claim } from '../../lambdas/core/campaigns/ledger.ts';
import { campaignReport, reportRow, reportTable } from '../../lambdas/core/campaigns/report.ts';
import { recordTrackingEvent, trackingDays, trackingKeys } from '../../lambdas/core/campaigns/tracking.ts';
import { unsubscribeAddress } from '../../lambdas/core/contacts/feedback.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { applyProviderFeedback } from '../../lambdas/core/contacts/provider-feedback.ts';
import { describeAddress, eraseAddress } from '../../lambdas/core/privacy.ts';
import { listAll } from '../../lambdas/core/store/object-store.ts';
import { definition, registerDraft } from '../support/dispatch-fixtures.ts';

const keys = contactKeys('report-tests-secret-0123456789abcdef0123');
const name = 'etude-2021-presse';
const sentAt = '2026-03-02T09:00:00.000Z';
const later = (minutes: number) => new Date(Date.parse(sentAt) + minutes * 60_000);

function entry(email: string, more: Partial<LedgerEntry> = {}): LedgerEntry {
  const contact = keys.idOf(email);
  return {
    contact,
    email,
    status: 'sent',
    messageId: `<${name}.${contact}@example.org>`,
    attempts: 1,
    claimedAt: sentAt,
    sentAt,
    mailer: 'ses',
    providerMessageId: `0100-${contact}`,
    ...more,
  };
}

const none = { lists: ['presse'], tracking: { opens: false, clicks: false } };

describe('a row', () => {
  it('says delivered as each mailer can: SES by its event, SMTP by the relay’s 250, the outbox by the file written', () => {
    const ses = entry('a@example.org');
    expect(reportRow(ses, none).delivered).toBeUndefined();
    expect(
      reportRow(ses, { ...none, feedback: { delivery: { at: later(1).toISOString(), count: 1 } } }).delivered,
    ).toEqual({ at: later(1).toISOString(), by: 'provider' });
    expect(
      reportRow(entry('b@example.org', { mailer: 'smtp', reply: '250 2.0.0 Ok: queued as 4FbX' }), none)
        .delivered,
    ).toEqual({ at: sentAt, by: 'relay', reply: '250 2.0.0 Ok: queued as 4FbX' });
    // An entry written before the ledger kept the mailer: the outbox's keys say it.
    const old = entry('c@example.org', { providerMessageId: 'outbox/etude/x.eml' });
    delete old.mailer;
    expect(reportRow(old, none).delivered).toEqual({ at: sentAt, by: 'outbox' });
    // Not sent: nothing delivered, the reason shown.
    const failed = entry('d@example.org', {
      status: 'failed',
      mailer: 'smtp',
      error: { kind: 'permanent', reason: 'rejected', message: '550' },
    });
    delete failed.sentAt;
    expect(reportRow(failed, none)).toMatchObject({ status: 'failed', reason: 'rejected' });
    expect(reportRow(failed, none).delivered).toBeUndefined();
  });

  it('counts an unsubscribe made since the message, from a list of the campaign or from everything', () => {
    const e = entry('a@example.org');
    const before = { reason: 'unsubscribed' as const, at: later(-60).toISOString() };
    const after = { reason: 'unsubscribed' as const, at: later(5).toISOString() };
    const id = e.contact;
    expect(
      reportRow(e, { ...none, suppression: { id, lists: { presse: before } } }).unsubscribedAt,
    ).toBeUndefined();
    expect(
      reportRow(e, { ...none, suppression: { id, lists: { autre: after } } }).unsubscribedAt,
    ).toBeUndefined();
    expect(reportRow(e, { ...none, suppression: { id, lists: { presse: after } } }).unsubscribedAt).toBe(
      after.at,
    );
    expect(reportRow(e, { ...none, suppression: { id, all: after } }).unsubscribedAt).toBe(after.at);
    // A bounce suppresses everything too, but is no unsubscribe.
    expect(
      reportRow(e, { ...none, suppression: { id, all: { reason: 'hard-bounce', at: after.at } } })
        .unsubscribedAt,
    ).toBeUndefined();
  });

  it('shows opens and clicks only when the campaign tracks them', () => {
    const engagement = {
      opens: { first: later(2).toISOString(), count: 2 },
      clicks: { first: later(3).toISOString(), count: 1, links: ['https://x.example/'] },
    };
    const e = entry('a@example.org');
    const off = reportRow(e, { ...none, engagement });
    expect(off.opened).toBeUndefined();
    expect(off.clicked).toBeUndefined();
    const on = reportRow(e, { ...none, engagement, tracking: { opens: true, clicks: false } });
    expect(on.opened).toEqual(engagement.opens);
    expect(on.clicked).toBeUndefined();
  });
});

describe('campaignReport', () => {
  it('assembles one row per recipient from the ledger, the feedback path, the suppressions and the events', async () => {
    const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'https://press.example.org' });
    await registerDraft(store, definition(name, { tracking: { opens: true, clicks: true } }));
    const people = [
      'ana@example.org',
      'bob@example.org',
      'chloe@example.org',
      'dan@example.org',
      'eve@example.org',
    ];
    for (const email of people) await claim(store, name, entry(email));
    await claim(store, name, {
      ...entry('fay@example.org', { status: 'skipped', skippedReason: 'suppressed' }),
      sentAt: undefined,
    } as LedgerEntry);
    // SES's events, as the feedback function applies them.
    const report = (kind: 'delivery' | 'hard-bounce' | 'complaint', email: string, at: Date) =>
      applyProviderFeedback(store, keys, {
        kind,
        id: `${kind}-${email}`,
        email,
        at,
        campaign: name,
        ...(kind === 'hard-bounce' && { detail: { type: 'Permanent', subType: 'General', status: '5.1.1' } }),
      });
    await report('delivery', 'ana@example.org', later(1));
    await report('delivery', 'chloe@example.org', later(1));
    await report('hard-bounce', 'bob@example.org', later(2));
    await report('complaint', 'chloe@example.org', later(30));
    await report('delivery', 'dan@example.org', later(1));
    await applyProviderFeedback(store, keys, {
      kind: 'reject',
      id: 'reject-eve',
      email: 'eve@example.org',
      at: later(1),
      campaign: name,
      detail: { reason: 'Bad content' },
    });
    await unsubscribeAddress(store, keys, 'dan@example.org', later(40), 'presse');
    const until = later(trackingDays * 24 * 60);
    const who = { campaign: name, until };
    await recordTrackingEvent(
      store,
      { ...who, kind: 'open', contact: keys.idOf('ana@example.org') },
      later(10),
    );
    await recordTrackingEvent(
      store,
      { ...who, kind: 'open', contact: keys.idOf('ana@example.org') },
      later(70),
    );
    await recordTrackingEvent(
      store,
      { ...who, kind: 'click', contact: keys.idOf('ana@example.org'), url: 'https://x.example/a' },
      later(11),
    );

    const r = await campaignReport(store, name);
    expect(r.tracking).toEqual({ opens: true, clicks: true });
    expect(r.deliveredBy).toEqual(['provider']);
    expect(r.counts).toEqual({
      recipients: 6,
      sent: 5,
      delivered: 3,
      bounced: 1,
      hardBounced: 1,
      complained: 1,
      unsubscribed: 1,
      rejected: 1,
      failed: 0,
      skipped: 1,
      pending: 0,
      opened: 1,
      clicked: 1,
    });
    const by = Object.fromEntries(r.rows.map((row) => [row.email, row]));
    expect(r.rows.map((row) => row.email)).toEqual([...people, 'fay@example.org']);
    expect(by['ana@example.org']).toMatchObject({
      delivered: { by: 'provider', at: later(1).toISOString() },
      opened: { first: later(10).toISOString(), count: 2 },
      clicked: { first: later(11).toISOString(), count: 1, links: ['https://x.example/a'] },
    });
    expect(by['bob@example.org']?.bounce).toEqual({
      at: later(2).toISOString(),
      type: 'permanent',
      subType: 'General',
      status: '5.1.1',
      count: 1,
    });
    expect(by['chloe@example.org']?.complainedAt).toBe(later(30).toISOString());
    expect(by['dan@example.org']?.unsubscribedAt).toBe(later(40).toISOString());
    expect(by['eve@example.org']).toMatchObject({
      status: 'sent',
      rejected: { at: later(1).toISOString(), reason: 'Bad content' },
    });
    expect(by['eve@example.org']?.delivered).toBeUndefined();
    expect(by['fay@example.org']).toMatchObject({ status: 'skipped', reason: 'suppressed' });

    const table = reportTable(r);
    expect(table.columns.slice(-5)).toEqual(['opened_at', 'opens', 'clicked_at', 'clicks', 'links_clicked']);
    expect(table.rows[0]).toEqual(
      expect.arrayContaining([
        'ana@example.org',
        'sent',
        later(10).toISOString(),
        '2',
        'https://x.example/a',
      ]),
    );
  });

  it('has no open or click column for a campaign that does not track them, whatever events exist', async () => {
    const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'https://press.example.org' });
    await registerDraft(store, definition(name));
    await claim(store, name, entry('ana@example.org', { mailer: 'outbox' }));
    await recordTrackingEvent(
      store,
      { kind: 'open', campaign: name, contact: keys.idOf('ana@example.org'), until: later(10_000) },
      later(1),
    );
    await claim(store, name, entry('bob@example.org', { mailer: 'smtp' }));
    const r = await campaignReport(store, name);
    expect(r.counts.opened).toBeUndefined();
    expect(r.rows[0]?.opened).toBeUndefined();
    expect(r.deliveredBy).toEqual(['outbox', 'relay']);
    expect(reportTable(r).columns).not.toContain('opened_at');
  });

  it('shows a person’s opens and clicks to an access request, and forgets them with the rest on erasure (GDPR)', async () => {
    const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'https://press.example.org' });
    await registerDraft(store, definition(name, { tracking: { opens: true, clicks: false } }));
    for (const email of ['ana@example.org', 'bob@example.org']) {
      await claim(store, name, entry(email));
      await recordTrackingEvent(
        store,
        { kind: 'open', campaign: name, contact: keys.idOf(email), until: later(10_000) },
        later(1),
      );
    }
    // An access request shows them first.
    const described = await describeAddress(store, keys, 'ana@example.org');
    expect(described.opensAndClicks).toEqual([{ campaign: name, kind: 'open', at: later(1).toISOString() }]);
    await eraseAddress(store, keys, 'ana@example.org', later(60));
    const left: string[] = [];
    for await (const item of listAll(store, trackingKeys.prefix(name))) left.push(item.key);
    expect(left).toEqual([expect.stringContaining(`/events/${keys.idOf('bob@example.org')}/open-`)]);
    expect((await campaignReport(store, name)).rows.map((r) => r.email)).toEqual(['bob@example.org']);
  });

  it('says what delivered means for SES before any event came', async () => {
    const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'https://press.example.org' });
    await registerDraft(store, definition(name));
    await claim(store, name, entry('ana@example.org'));
    const r = await campaignReport(store, name);
    expect(r.deliveredBy).toEqual(['provider']);
    expect(r.counts).toMatchObject({ sent: 1, delivered: 0 });
  });
});
