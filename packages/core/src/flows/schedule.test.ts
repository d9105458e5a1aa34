import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localMinutes } from '../contact/policy.js';
import { addLocalDays, dueTime, holdoutDraw, isHeldOut, nextInWindow } from './schedule.js';

const window = { start: '09:00', end: '20:00' };
const local = (at: Date, timeZone: string) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(at);

describe('flow scheduling', () => {
  it('a delay across a DST change keeps the local time of day (Paris, spring forward on 29 March)', () => {
    const ordered = new Date('2026-03-25T09:30:00Z'); // 10:30 CET
    const due = addLocalDays(ordered, 7, 'Europe/Paris');
    expect(local(due, 'Europe/Paris')).toBe('2026-04-01 10:30'); // 10:30 CEST
    expect(due.toISOString()).toBe('2026-04-01T08:30:00.000Z');
  });

  it('a delay across the autumn change and a month end keeps the local time (New York, 1 November)', () => {
    const ordered = new Date('2026-10-30T14:00:00Z'); // 10:00 EDT
    const due = addLocalDays(ordered, 3, 'America/New_York');
    expect(local(due, 'America/New_York')).toBe('2026-11-02 10:00'); // 10:00 EST
    expect(due.toISOString()).toBe('2026-11-02T15:00:00.000Z');
  });

  it('delays run across month and year ends by calendar days', () => {
    expect(addLocalDays(new Date('2026-01-31T12:00:00Z'), 1, 'UTC').toISOString()).toBe('2026-02-01T12:00:00.000Z');
    expect(addLocalDays(new Date('2028-02-28T12:00:00Z'), 1, 'UTC').toISOString()).toBe('2028-02-29T12:00:00.000Z');
    expect(addLocalDays(new Date('2026-12-28T23:00:00Z'), 7, 'Asia/Tokyo').toISOString()).toBe(
      '2027-01-04T23:00:00.000Z',
    );
  });

  it('a step due in the night waits for the window to open in the customer’s own time zone', () => {
    const ordered = new Date('2026-06-01T22:30:00Z');
    // Paid at 00:30 on 2 June in Paris, due 00:30 on 9 June: the window opens at 09:00 Paris time (07:00 UTC).
    expect(dueTime(ordered, { delayDays: 7, window }, 'Europe/Paris').toISOString()).toBe('2026-06-09T07:00:00.000Z');
    // 18:30 in New York: inside the window, due as it stands.
    expect(dueTime(ordered, { delayDays: 7, window }, 'America/New_York').toISOString()).toBe(
      '2026-06-08T22:30:00.000Z',
    );
    // 10:30 the next morning in Auckland: inside the window.
    expect(dueTime(ordered, { delayDays: 7, window }, 'Pacific/Auckland').toISOString()).toBe(
      '2026-06-08T22:30:00.000Z',
    );
  });

  it('a window that wraps midnight (18:00-02:00) is honoured', () => {
    const w = { start: '18:00', end: '02:00' };
    expect(nextInWindow(new Date('2026-06-01T01:00:00Z'), w, 'UTC').toISOString()).toBe('2026-06-01T01:00:00.000Z');
    expect(nextInWindow(new Date('2026-06-01T03:00:00Z'), w, 'UTC').toISOString()).toBe('2026-06-01T18:00:00.000Z');
  });

  it('property: every due time is inside the window, never before the delay, at most a day after it', () => {
    const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Pacific/Auckland', 'America/St_Johns'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 11, 31) }),
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 1, max: 14 }),
        (ms, delayDays, zone, startHour, hours) => {
          const start = `${String(startHour).padStart(2, '0')}:00`;
          const end = `${String((startHour + hours) % 24).padStart(2, '0')}:00`;
          const ordered = new Date(ms);
          const due = dueTime(ordered, { delayDays, window: { start, end } }, zone);
          const m = localMinutes(due, zone);
          const s = startHour * 60;
          const e = ((startHour + hours) % 24) * 60;
          const inside = s < e ? m >= s && m < e : m >= s || m < e;
          expect(inside).toBe(true);
          // The delay is calendar days: at least delay days minus an hour (a DST day is 23 h), at most 2 days more.
          expect(due.getTime()).toBeGreaterThanOrEqual(ordered.getTime() + delayDays * 86_400_000 - 3_600_000);
          expect(due.getTime()).toBeLessThanOrEqual(ordered.getTime() + (delayDays + 2) * 86_400_000);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the holdout draw is the same for the same (flow, order) and keeps back its share', () => {
    expect(holdoutDraw('post-purchase', 'o-1')).toBe(holdoutDraw('post-purchase', 'o-1'));
    expect(holdoutDraw('post-purchase', 'o-1')).not.toBe(holdoutDraw('post-purchase', 'o-2'));
    const n = 20_000;
    const held = Array.from({ length: n }, (_, i) => isHeldOut('post-purchase', `order-${i}`, 0.1)).filter(Boolean);
    // Binomial(20 000, 0.1): sd ≈ 42; 4 sd either side.
    expect(held.length).toBeGreaterThan(2000 - 170);
    expect(held.length).toBeLessThan(2000 + 170);
    expect(Array.from({ length: 1000 }, (_, i) => isHeldOut('post-purchase', `o${i}`, 0)).some(Boolean)).toBe(false);
  });
});
