import { describe, expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { contactPolicySchema, decideContact, endOfQuietHours, type SendRecord } from './policy.js';

const policy = contactPolicySchema.parse({
  caps: [
    { max: 1, days: 3 },
    { max: 4, days: 30 },
  ],
  quietHours: { start: '21:00', end: '08:00' },
  productResendDays: 30,
});
const noQuiet = { ...policy, quietHours: null };
const day = 86_400_000;
const t0 = new Date('2026-06-01T12:00:00Z');
const at = (days: number, hours = 0) => new Date(t0.getTime() + days * day + hours * 3_600_000);
const sent = (...days: number[]): SendRecord[] => days.map((d) => ({ sentAt: at(d), productIds: [] }));

describe('contact policy rules', () => {
  it('caps - at most N per rolling window, several windows at once, with the time it is allowed again', () => {
    expect(decideContact(noQuiet, [], at(0))).toEqual({ ok: true });
    // 1 per 3 days: a send 2 days ago blocks until 3 days after it.
    const one = decideContact(noQuiet, sent(-2), at(0));
    expect(one).toMatchObject({ ok: false, reason: 'frequency_cap' });
    expect(!one.ok && one.nextAllowedAt.getTime()).toBe(at(1).getTime() + 1);
    expect(decideContact(noQuiet, sent(-3), at(0))).toEqual({ ok: true });
    // 4 per 30 days: four sends spaced 4 days apart block until the oldest leaves the window.
    const four = decideContact(noQuiet, sent(-16, -12, -8, -4), at(0));
    expect(four).toMatchObject({ ok: false, reason: 'frequency_cap' });
    expect(!four.ok && four.nextAllowedAt.getTime()).toBe(at(14).getTime() + 1);
    // At that time, both caps allow it.
    expect(decideContact(noQuiet, sent(-16, -12, -8, -4), new Date(at(14).getTime() + 1))).toEqual({ ok: true });
  });

  it('quiet hours - in the subject time zone when known, else the shop default', () => {
    // 21:30 UTC is 23:30 in Paris (summer): quiet until 08:00 Paris = 06:00 UTC.
    const late = new Date('2026-06-01T21:30:00Z');
    const paris = decideContact(policy, [], late, { timeZone: 'Europe/Paris' });
    expect(paris).toEqual({
      ok: false,
      reason: 'quiet_hours',
      detail: 'quiet hours 21:00-08:00 in Europe/Paris',
      nextAllowedAt: new Date('2026-06-02T06:00:00Z'),
    });
    // 19:30 UTC is 15:30 in New York: fine.
    expect(decideContact(policy, [], new Date('2026-06-01T19:30:00Z'), { timeZone: 'America/New_York' })).toEqual({
      ok: true,
    });
    // Unknown zone: the shop default (UTC).
    expect(decideContact(policy, [], late)).toMatchObject({
      ok: false,
      nextAllowedAt: new Date('2026-06-02T08:00:00Z'),
    });
    expect(endOfQuietHours(new Date('2026-06-01T12:00:00Z'), { start: '21:00', end: '08:00' }, 'UTC')).toBeNull();
  });

  it('product re-send - the same product is not featured again within the window; other products may be', () => {
    const sends: SendRecord[] = [{ sentAt: at(-10), productIds: ['kettle', 'tea'] }];
    const again = decideContact(noQuiet, sends, at(0), { productIds: ['tea'] });
    expect(again).toMatchObject({ ok: false, reason: 'product_resend' });
    expect(!again.ok && again.nextAllowedAt.getTime()).toBe(at(20).getTime() + 1);
    expect(decideContact(noQuiet, sends, at(0), { productIds: ['honey'] })).toEqual({ ok: true });
  });

  it('combined - nextAllowedAt satisfies every rule at once', () => {
    // Cap frees at 03:00 UTC + 1 ms on day 1, which is inside quiet hours: next is 08:00 UTC.
    const sends = [{ sentAt: new Date('2026-05-30T03:00:00Z'), productIds: [] }];
    const d = decideContact(policy, sends, new Date('2026-06-01T12:00:00Z'));
    expect(d).toMatchObject({ ok: false, reason: 'frequency_cap', nextAllowedAt: new Date('2026-06-02T08:00:00Z') });
  });

  it('bad input - a malformed policy is refused', () => {
    expect(contactPolicySchema.safeParse({ caps: [{ max: 0, days: 3 }] }).success).toBe(false);
    expect(contactPolicySchema.safeParse({ quietHours: { start: '25:00', end: '08:00' } }).success).toBe(false);
    expect(contactPolicySchema.safeParse({ defaultTimeZone: 'Mars/Olympus' }).success).toBe(false);
  });
});

describeEachStore('contact policy', (getStore) => {
  it('canContact - reads the sends and the profile time zone from the store', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop('contact'), now: () => at(0) });
    await t.consent.record({
      subject: { email: 'jo@example.com' },
      purpose: 'personalization',
      state: 'granted',
      level: 'single',
      occurredAt: at(-1),
      source: { system: 'cli', eventId: 'j1', method: 'form' },
    });
    await t.profiles.setAttributes('jo@example.com', { timeZone: 'Asia/Tokyo' }, 'form');
    await t.contact.setPolicy({
      caps: [{ max: 2, days: 7 }],
      quietHours: { start: '22:00', end: '07:00' },
      productResendDays: 14,
    });
    // 12:00 UTC is 21:00 in Tokyo: allowed.
    expect(await t.contact.canContact('jo@example.com', at(0))).toEqual({ ok: true });
    await t.contact.recordSend('jo@example.com', { sentAt: at(-3), productIds: ['tea'] });
    await t.contact.recordSend('jo@example.com', { sentAt: at(-1) });
    const capped = await t.contact.canContact('jo@example.com', at(0));
    expect(capped).toMatchObject({ ok: false, reason: 'frequency_cap' });
    // 13:30 UTC is 22:30 in Tokyo: quiet until 07:00 Tokyo = 22:00 UTC.
    const later = await t.contact.canContact('jo@example.com', at(5, 1.5));
    expect(later).toEqual({
      ok: false,
      reason: 'quiet_hours',
      detail: 'quiet hours 22:00-07:00 in Asia/Tokyo',
      nextAllowedAt: at(5, 10),
    });
    expect(await t.contact.canContact('jo@example.com', at(5, 10), { productIds: ['tea'] })).toMatchObject({
      ok: false,
      reason: 'product_resend',
    });
    await expect(t.contact.setPolicy({ caps: [{ max: -1, days: 1 }] })).rejects.toMatchObject({
      code: 'CONTACT.INVALID',
    });
    await expect(t.contact.canContact('ghost@example.com')).rejects.toMatchObject({ code: 'SUBJECT.NOT_FOUND' });
  });
});
