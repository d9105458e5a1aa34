import { describe, expect, it } from 'vitest';
import { canonical } from './chain.js';
import { auditContent, canonicalAuditContent } from './log.js';

describe('audit entry hash text', () => {
  const entry = {
    shopId: 'shop.myshopify.com',
    seq: 41,
    at: new Date('2026-05-01T10:00:00.123Z'),
    action: 'consent.recorded',
    actorType: 'system',
    actorId: 'import',
    subjectId: 'subj-1',
    details: {
      purpose: 'email_marketing',
      state: 'granted',
      occurredAt: '2026-04-01T00:00:00.000Z',
      echo: false,
      note: 'quote " backslash \\ newline \n é 😀',
      nested: { z: 1, a: [1, 'two', null, { y: true, b: false }] },
      missing: undefined,
    },
  };

  it('the fixed-shape text is exactly the general canonical text, for every shape an entry takes', () => {
    const shapes = [
      entry,
      { ...entry, subjectId: null },
      { ...entry, details: {} },
      { ...entry, seq: 1, action: 'subject.registered', actorType: 'admin', actorId: 'admin:dashboard' },
      // A field left undefined is left out by canonical: the general path keeps it so.
      { ...entry, actorId: undefined as unknown as string },
    ];
    for (const shape of shapes) expect(canonicalAuditContent(shape)).toBe(canonical(auditContent(shape)));
  });
});
