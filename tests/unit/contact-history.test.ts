import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../lambdas/core/campaigns/ledger.ts';
import { contactHistory } from '../../lambdas/core/contacts/history.ts';
import type { Contact } from '../../lambdas/core/contacts/model.ts';
import { applyProfileChanges, readProfileChanges } from '../../lambdas/core/contacts/set-profile.ts';

const entry = (extra: Partial<LedgerEntry>): LedgerEntry => ({
  contact: 'c1',
  email: 'zoe@example.org',
  status: 'sent',
  messageId: '<m@example.org>',
  attempts: 1,
  claimedAt: '2026-01-01T08:00:00.000Z',
  ...extra,
});

describe('a contact’s history', () => {
  it('is derived from the ledgers, the provider’s reports and the suppression', () => {
    const history = contactHistory({
      deliveries: [
        {
          campaign: 'b',
          entry: entry({ sentAt: '2026-02-01T08:00:01.000Z', claimedAt: '2026-02-01T08:00:00.000Z' }),
        },
        { campaign: 'a', entry: entry({ sentAt: '2026-01-01T08:00:01.000Z' }) },
        {
          campaign: 'c',
          entry: entry({
            status: 'failed',
            claimedAt: '2026-03-01T08:00:00.000Z',
            error: { kind: 'permanent', reason: 'mailbox-unknown', message: '550 5.1.1' },
          }),
        },
        {
          campaign: 'd',
          entry: entry({
            status: 'skipped',
            claimedAt: '2026-04-01T08:00:00.000Z',
            skippedReason: 'suppressed',
          }),
        },
      ],
      providerReports: [
        {
          campaign: 'b',
          reports: {
            'soft-bounce': {
              at: '2026-02-01T08:05:00.000Z',
              count: 2,
              detail: { type: 'Transient', subType: 'MailboxFull' },
            },
            complaint: { at: '2026-02-02T10:00:00.000Z', count: 1 },
          },
        },
      ],
      suppression: {
        id: 'c1',
        lists: { lettre: { reason: 'unsubscribed', at: '2026-02-03T10:00:00.000Z' } },
        all: { reason: 'complaint', at: '2026-02-02T10:00:00.000Z' },
      },
    });
    expect(history).toEqual({
      lastContacted: '2026-02-01T08:00:01.000Z',
      received: [
        { campaign: 'a', at: '2026-01-01T08:00:01.000Z' },
        { campaign: 'b', at: '2026-02-01T08:00:01.000Z' },
      ],
      notSent: [
        { campaign: 'c', status: 'failed', at: '2026-03-01T08:00:00.000Z', reason: 'mailbox-unknown' },
        { campaign: 'd', status: 'skipped', at: '2026-04-01T08:00:00.000Z', reason: 'suppressed' },
      ],
      bounces: [
        {
          campaign: 'b',
          kind: 'soft',
          at: '2026-02-01T08:05:00.000Z',
          count: 2,
          detail: 'Transient MailboxFull',
        },
        {
          campaign: 'c',
          kind: 'refused',
          at: '2026-03-01T08:00:00.000Z',
          count: 1,
          detail: 'mailbox-unknown',
        },
      ],
      complaints: [{ campaign: 'b', at: '2026-02-02T10:00:00.000Z', count: 1 }],
      unsubscribes: [{ list: 'lettre', at: '2026-02-03T10:00:00.000Z' }],
      suppressed: { reason: 'complaint', at: '2026-02-02T10:00:00.000Z' },
    });
  });

  it('is empty for someone never mailed; an unsubscribe from everything is `*`', () => {
    expect(
      contactHistory({
        deliveries: [],
        providerReports: [],
        suppression: { id: 'c1', all: { reason: 'unsubscribed', at: '2026-01-01T00:00:00.000Z' } },
      }),
    ).toEqual({
      received: [],
      notSent: [],
      bounces: [],
      complaints: [],
      unsubscribes: [{ list: '*', at: '2026-01-01T00:00:00.000Z' }],
    });
  });
});

describe('contacts set, checked and applied', () => {
  const contact: Contact = {
    id: 'c1',
    email: 'zoe@example.org',
    outlet: 'Radio Cité',
    phone: '01',
    beats: ['Culture'],
    tags: [],
    lists: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };

  it('reads values as an import does, an empty one clearing the field', () => {
    const { changes, problems } = readProfileChanges({
      outlet: '',
      beats: 'Économie; santé, Economie',
      language: 'fr_be',
      notes: 'Ligne 1\nLigne 2',
      doNotContact: true,
    });
    expect(problems).toEqual([]);
    expect(changes).toEqual({
      outlet: '',
      beats: ['Économie', 'santé'],
      language: 'fr-BE',
      notes: 'Ligne 1\nLigne 2',
      doNotContact: true,
    });
    const now = { now: '2026-02-01T00:00:00.000Z', source: 'cli' };
    const after = applyProfileChanges(contact, changes, now);
    expect(after).toMatchObject({ beats: ['Économie', 'santé'], language: 'fr-BE', phone: '01' });
    expect(after.outlet).toBeUndefined();
    expect(after.doNotContact).toEqual({ at: now.now, source: 'cli' });
    expect(contact.outlet).toBe('Radio Cité');
    const lifted = applyProfileChanges(after, { doNotContact: false, beats: [] }, now);
    expect(lifted.doNotContact).toBeUndefined();
    expect(lifted.beats).toBeUndefined();
  });

  it('names each bad value with its field and why', () => {
    const { problems } = readProfileChanges({
      language: 'klingon',
      phone: '01\n02',
      role: 'R\u0007',
      notes: 'n'.repeat(2001),
    });
    expect(problems).toEqual([
      { field: 'role', value: 'R\u0007', message: expect.stringContaining('control character U+0007') },
      {
        field: 'language',
        value: 'klingon',
        message: expect.stringContaining('not a language pressroom knows'),
      },
      { field: 'phone', value: '01\n02', message: expect.stringContaining('a phone number is one line') },
      { field: 'notes', value: 'n'.repeat(2001), message: '2001 characters, more than the limit of 2000' },
    ]);
  });
});
