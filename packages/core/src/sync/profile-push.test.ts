import { describe, expect, it } from 'vitest';
import type { CommercePlatform, CustomerUpdate, EmailProvider, MemberChange } from '../ports.js';
import type { OutboxItem } from './outbox.js';
import { platformTarget, providerTarget } from './targets.js';

const item = (payload: Record<string, unknown>, id = 1): OutboxItem => ({
  shopId: 's',
  id,
  target: 'x',
  kind: 'profile.push',
  subjectId: 'sub',
  payload,
  attempts: 1,
});

function platform(customerUpdate: boolean, calls: CustomerUpdate[]): CommercePlatform {
  return {
    system: 'shop',
    capabilities: { bulkOrders: false, consentWrite: false, erasure: false, webhooks: false, customerUpdate },
    listCustomers: async () => ({ items: [] }),
    listOrders: async () => ({ items: [] }),
    listProducts: async () => ({ items: [] }),
    ...(customerUpdate ? { updateCustomer: async (u: CustomerUpdate) => void calls.push(u) } : {}),
  };
}

function provider(batches: MemberChange[][]): EmailProvider {
  return {
    system: 'mail',
    capabilities: { campaigns: false, reports: false, webhooks: false, maxBatch: 2 },
    pushMembers: async (changes) => {
      batches.push(changes);
      return changes.map((c) => ({ email: c.email, ok: true as const }));
    },
    listMembers: async () => ({ items: [] }),
    getMember: async () => null,
  };
}

describe('profile.push delivery', () => {
  it('a platform gets the corrected names with its own customer id; null clears', async () => {
    const calls: CustomerUpdate[] = [];
    const out = await platformTarget(platform(true, calls))([
      item({ email: 'a@example.com', externalIds: { shop: '42' }, fields: { firstName: 'Ann', lastName: null } }),
    ]);
    expect(out).toEqual([{ ok: true }]);
    expect(calls).toEqual([{ email: 'a@example.com', externalId: '42', firstName: 'Ann', lastName: null }]);
  });

  it('a platform without the capability holds nothing to correct: delivered, no call', async () => {
    const calls: CustomerUpdate[] = [];
    expect(
      await platformTarget(platform(false, calls))([item({ email: 'a@example.com', fields: { firstName: 'Ann' } })]),
    ).toEqual([{ ok: true }]);
    expect(calls).toEqual([]);
  });

  it('a provider gets FNAME/LNAME as merge fields without any consent change, batched; people outside the audience are skipped', async () => {
    const batches: MemberChange[][] = [];
    const out = await providerTarget(provider(batches))([
      item({ email: 'a@example.com', fields: { firstName: 'Ann' }, inAudience: true }, 1),
      item({ email: 'b@example.com', fields: { lastName: null }, inAudience: true }, 2),
      item({ email: 'c@example.com', fields: { firstName: 'Cy' }, inAudience: false }, 3),
      item({ email: 'd@example.com', fields: { firstName: 'Di', lastName: 'Do' }, inAudience: true }, 4),
    ]);
    expect(out).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    expect(batches).toEqual([
      [
        { email: 'a@example.com', mergeFields: { FNAME: 'Ann' } },
        { email: 'b@example.com', mergeFields: { LNAME: '' } },
      ],
      [{ email: 'd@example.com', mergeFields: { FNAME: 'Di', LNAME: 'Do' } }],
    ]);
    expect(batches.flat().every((c) => c.consent === undefined)).toBe(true);
  });

  it('a platform refusing the correction is a failed delivery (retried or dead-lettered by the dispatcher)', async () => {
    const failing: CommercePlatform = {
      ...platform(true, []),
      updateCustomer: async () => Promise.reject(new Error('refused')),
    };
    const [result] = await platformTarget(failing)([item({ email: 'a@example.com', fields: { firstName: 'Ann' } })]);
    expect(result).toMatchObject({ ok: false });
  });
});
