import { describe, expect, it } from 'vitest';
import { canonical } from '../audit/chain.js';
import { canonicalLedgerContent, ledgerContent } from './ledger.js';
import { seededRandom } from '../testing/runtime.js';

const row = (overrides: Record<string, unknown> = {}) =>
  ({
    shopId: 'shop-1.myshopify.com',
    seq: 42,
    eventId: '7d4c2f51-2d8e-4a0e-9d36-5d1f0e2b9a10',
    subjectId: 'c2a3f0b4-7a1e-4e0b-8f7e-2f4b3d9c1e55',
    purpose: 'email_marketing',
    state: 'granted',
    level: 'single',
    occurredAt: new Date('2026-01-10T10:00:00.123Z'),
    recordedAt: new Date('2026-01-10T10:05:00Z'),
    sourceSystem: 'shopify',
    sourceEventId: 'ev-1',
    method: 'form',
    evidence: { policyVersion: '1', formId: 'newsletter' },
    evidenceEnc: Buffer.from('0102a0ff', 'hex'),
    echo: false,
    contentHash: 'ab'.repeat(32),
    ...overrides,
  }) as Parameters<typeof canonicalLedgerContent>[0];

describe('ledger row hashing', () => {
  it('the written-out canonical text of a ledger row is exactly the generic one, whatever its values', () => {
    const random = seededRandom(11);
    const odd = ['', 'quote " and \\ backslash', 'line\nbreak', 'émoji 🙂', '\u0000\u001f', 'ev-1@example.com'];
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const cases = [
      row(),
      row({ evidenceEnc: null }),
      row({ evidence: {} }),
      row({ echo: true, seq: 1 }),
      // Another shape (a column more, one missing): the generic walk, the same text.
      row({ extra: 'x' }),
      row({ evidenceEnc: undefined }),
    ];
    for (let i = 0; i < 200; i++)
      cases.push(
        row({
          sourceEventId: pick(odd),
          purpose: pick(odd),
          evidence: { [pick(odd)]: pick(odd), b: pick(odd) },
          occurredAt: new Date(Math.floor(random() * 4e12)),
          seq: Math.floor(random() * 1e9),
        }),
      );
    for (const c of cases) expect(canonicalLedgerContent(c)).toBe(canonical(ledgerContent(c)));
  });
});
