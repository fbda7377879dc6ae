/**
 * Pacing by the sending quota (core/campaigns/quota.ts): how a campaign's remaining
 * recipients are cut into day slices from the account's quota, the reserve, the daily start
 * and the zone (daylight-saving days included), and how the plan reads in English and French.
 */

import { describe, expect, it } from 'vitest';
import { planLines } from '../../bin/pacing.ts';
import {
  campaignAllowance,
  checkPacing,
  describePlan,
  laterSlices,
  PacingError,
  planSending,
  quotaReserve,
  type SendQuota,
} from '../../lambdas/core/campaigns/quota.ts';

const paris = { timeZone: 'Europe/Paris', dailyStart: '09:00' };
const production = (sentLast24Hours = 0): SendQuota => ({
  max24Hour: 50_000,
  maxSendRate: 14,
  sentLast24Hours,
});

describe('the reserve and what a campaign may send now', () => {
  it('keeps 5 % of the daily quota, rounded up, for other mail', () => {
    expect(quotaReserve(production())).toBe(2_500);
    expect(quotaReserve({ max24Hour: 200, maxSendRate: 1, sentLast24Hours: 0 })).toBe(10);
    expect(quotaReserve({ max24Hour: 1_001, maxSendRate: 1, sentLast24Hours: 0 })).toBe(51);
  });

  it('takes away what was sent in the last 24 hours, never below nothing', () => {
    expect(campaignAllowance(production())).toBe(47_500);
    expect(campaignAllowance(production(20_000))).toBe(27_500);
    expect(campaignAllowance(production(48_000))).toBe(0);
    expect(campaignAllowance(production(50_000))).toBe(0);
  });
});

describe('planSending', () => {
  it('without a quota (outbox, SMTP), sends everything now', () => {
    const now = new Date('2026-12-07T14:00:00Z');
    const plan = planSending(2_500, undefined, now, paris);
    expect(plan.slices).toEqual([{ date: '2026-12-07', count: 2_500, from: now.toISOString() }]);
    expect(plan.reserve).toBe(0);
    expect(describePlan(plan)).toBe('2,500 today');
  });

  it('sends a campaign that fits in one slice now', () => {
    const now = new Date('2026-12-07T14:00:00Z');
    const plan = planSending(10_000, production(), now, paris);
    expect(plan.slices).toEqual([{ date: '2026-12-07', count: 10_000, from: now.toISOString() }]);
    expect(laterSlices(plan)).toEqual([]);
  });

  it('sends exactly what is left, with nothing for tomorrow', () => {
    const now = new Date('2026-12-07T14:00:00Z');
    const plan = planSending(27_500, production(20_000), now, paris);
    expect(plan.slices.map((s) => s.count)).toEqual([27_500]);
  });

  it('with the quota partly used, continues tomorrow once today’s sends have left the 24-hour window', () => {
    // 15:00 in Paris; 27,500 at 14 a second take 1,964.3 s: they are out of the window at
    // 15:32:45 tomorrow, after the daily start (09:00), so tomorrow's slice starts at 15:33.
    const now = new Date('2026-12-07T14:00:00Z');
    const plan = planSending(40_000, production(20_000), now, paris);
    expect(plan.slices).toEqual([
      { date: '2026-12-07', count: 27_500, from: '2026-12-07T14:00:00.000Z' },
      { date: '2026-12-08', count: 12_500, from: '2026-12-08T14:33:00.000Z' },
    ]);
    expect(describePlan(plan)).toBe('27,500 today, 12,500 tomorrow from 15:33 Europe/Paris');
  });

  it('never starts a later slice before the daily start', () => {
    // 06:00 in Paris with a quick account: 24 hours later is 06:00, the daily start 09:00.
    const now = new Date('2026-12-07T05:00:00Z');
    const quick = { max24Hour: 50_000, maxSendRate: 10_000, sentLast24Hours: 0 };
    const plan = planSending(60_000, quick, now, paris);
    expect(plan.slices[1]).toEqual({ date: '2026-12-08', count: 12_500, from: '2026-12-08T08:00:00.000Z' });
    expect(describePlan(plan)).toBe('47,500 today, 12,500 tomorrow from 09:00 Europe/Paris');
    const late = planSending(60_000, quick, now, { timeZone: 'Europe/Paris', dailyStart: '10:30' });
    expect(late.slices[1]?.from).toBe('2026-12-08T09:30:00.000Z');
  });

  it('spreads a large campaign over several days, each slice the quota less the reserve', () => {
    const now = new Date('2026-12-07T06:00:00Z'); // 07:00 in Paris
    const plan = planSending(150_000, production(), now, paris);
    expect(plan.slices.map((s) => s.count)).toEqual([47_500, 47_500, 47_500, 7_500]);
    expect(plan.slices.map((s) => s.date)).toEqual(['2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10']);
    // 47,500 at 14 a second take 56 min 33 s: tomorrow's slice may start at 07:56:33 (Paris),
    // the daily start is later (09:00); each next one 24 h and 56 min 33 s after the previous.
    expect(plan.slices[1]?.from).toBe('2026-12-08T08:00:00.000Z');
    expect(plan.slices[2]?.from).toBe('2026-12-09T08:57:00.000Z');
    expect(plan.slices[3]?.from).toBe('2026-12-10T09:54:00.000Z');
    expect(plan.slices.reduce((n, s) => n + s.count, 0)).toBe(150_000);
    expect(describePlan(plan)).toBe(
      '47,500 today, 47,500 tomorrow from 09:00, 47,500 on Wed 9 Dec from 09:57, 7,500 on Thu 10 Dec from 10:54 Europe/Paris',
    );
  });

  it('with the quota used up, sends nothing now and everything from tomorrow', () => {
    const now = new Date('2026-12-07T14:00:00Z');
    const plan = planSending(2_500, production(49_000), now, paris);
    expect(plan.slices.map((s) => s.count)).toEqual([0, 2_500]);
    expect(plan.slices[1]?.from).toBe('2026-12-08T14:00:00.000Z');
    expect(describePlan(plan)).toBe('0 today, 2,500 tomorrow from 15:00 Europe/Paris');
  });

  it('counts real hours across the spring change: 09:00 + 24 h is 10:00 the next day', () => {
    // 27 March 2027, 09:00 in Paris (UTC+1); on the 28th Paris is UTC+2.
    const now = new Date('2027-03-27T08:00:00Z');
    const instant = { max24Hour: 50_000, maxSendRate: 0, sentLast24Hours: 0 };
    const plan = planSending(60_000, instant, now, paris);
    expect(plan.slices[1]).toEqual({ date: '2027-03-28', count: 12_500, from: '2027-03-28T08:00:00.000Z' });
    expect(describePlan(plan)).toBe('47,500 today, 12,500 tomorrow from 10:00 Europe/Paris');
  });

  it('and across the autumn change, the daily start in the new offset', () => {
    // 24 October 2026, 09:00 in Paris (UTC+2); on the 25th Paris is UTC+1: 24 h later is 08:00.
    const now = new Date('2026-10-24T07:00:00Z');
    const instant = { max24Hour: 50_000, maxSendRate: 0, sentLast24Hours: 0 };
    const plan = planSending(60_000, instant, now, paris);
    expect(plan.slices[1]).toEqual({ date: '2026-10-25', count: 12_500, from: '2026-10-25T08:00:00.000Z' });
    expect(describePlan(plan)).toBe('47,500 today, 12,500 tomorrow from 09:00 Europe/Paris');
  });

  it('bounds a slice by what the rate sends in a day, and skips a day a slice fills', () => {
    const now = new Date('2026-12-07T08:00:00Z');
    const slow = { max24Hour: 1_000_000, maxSendRate: 1, sentLast24Hours: 0 };
    const plan = planSending(200_000, slow, now, paris);
    expect(plan.slices.map((s) => s.count)).toEqual([86_400, 86_400, 27_200]);
    // Each slice takes the whole day at 1 a second: the next one starts two days later.
    expect(plan.slices.map((s) => s.date)).toEqual(['2026-12-07', '2026-12-09', '2026-12-11']);
  });

  it('in another zone, the days and the start are that zone’s', () => {
    const now = new Date('2026-12-07T23:30:00Z'); // 18:30 in New York, 00:30 in Paris
    const plan = planSending(60_000, production(), now, {
      timeZone: 'America/New_York',
      dailyStart: '08:00',
    });
    expect(plan.slices.map((s) => s.date)).toEqual(['2026-12-07', '2026-12-08']);
    expect(describePlan(plan)).toBe('47,500 today, 12,500 tomorrow from 19:27 America/New_York');
  });

  it('refuses a quota that allows nothing', () => {
    const now = new Date('2026-12-07T14:00:00Z');
    expect(() => planSending(10, { max24Hour: 0, maxSendRate: 0, sentLast24Hours: 0 }, now, paris)).toThrow(
      PacingError,
    );
    expect(planSending(0, { max24Hour: 0, maxSendRate: 0, sentLast24Hours: 0 }, now, paris).slices).toEqual([
      { date: '2026-12-07', count: 0, from: now.toISOString() },
    ]);
  });
});

describe('describePlan', () => {
  it('reads in French with French numbers', () => {
    const now = new Date('2026-12-07T06:00:00Z');
    const plan = planSending(
      100_000,
      { max24Hour: 80_000, maxSendRate: 10_000, sentLast24Hours: 0 },
      now,
      paris,
    );
    expect(describePlan(plan, 'fr')).toBe(
      `76${'\u202f'}000 aujourd’hui, 24${'\u202f'}000 demain à partir de 09:00 Europe/Paris`,
    );
    expect(describePlan(planSending(0, undefined, now, paris), 'fr')).toBe('rien à envoyer');
  });
});

describe('checkPacing', () => {
  it('takes HH:MM and an IANA zone', () => {
    expect(checkPacing(paris)).toEqual(paris);
  });

  it.each([
    ['9:00', 'Europe/Paris', /daily start "9:00" is not a time of day/],
    ['24:00', 'Europe/Paris', /daily start "24:00"/],
    ['09:00', 'Europe/Pariss', /time zone "Europe\/Pariss" is unknown/],
  ])('refuses %s in %s', (dailyStart, timeZone, message) => {
    expect(() => checkPacing({ dailyStart, timeZone })).toThrow(message);
  });
});

describe('planLines (send, schedule and campaign status)', () => {
  it('says the plan and the quota it was made with; nothing without a quota', () => {
    const made = new Date('2026-12-07T14:00:00Z');
    const plan = planSending(40_000, production(20_000), made, paris);
    expect(planLines(plan, '  pacing      ')).toEqual([
      '  pacing      27,500 today, 12,500 tomorrow from 15:33 Europe/Paris',
      '              (SES quota: 20,000 of 50,000 sent in the last 24 hours, at most 14 a second; 2,500 kept free for other mail)',
    ]);
    // Read the next morning: yesterday's slice is dated, today's is "today".
    expect(planLines(plan, '', new Date('2026-12-08T07:00:00Z'))[0]).toBe(
      '27,500 on Mon 7 Dec from 15:00, 12,500 today from 15:33 Europe/Paris',
    );
    expect(planLines(planSending(10, undefined, made, paris), '  pacing  ')).toEqual([]);
  });
});
