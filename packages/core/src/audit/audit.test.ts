import { expect, it } from 'vitest';
import { createTactful, type Tactful } from '../engine.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { csvField } from '../privacy/audit-export.js';
import { rawStore } from '../store/open.js';

async function collect(iter: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of iter) out += chunk;
  return out;
}

async function seed(t: Tactful) {
  const base = {
    purpose: 'email_marketing',
    level: 'single',
    evidence: { clause: 'Marketing communications', policyVersion: '1' },
  };
  await t.consent.record({
    ...base,
    subject: { email: 'ann@example.com' },
    state: 'granted',
    occurredAt: new Date('2026-02-01T10:00:00Z'),
    source: { system: 'cli', eventId: 'a1', method: 'form' },
  });
  await t.consent.record({
    ...base,
    subject: { email: 'bob@example.com' },
    state: 'granted',
    occurredAt: new Date('2026-02-01T11:00:00Z'),
    source: { system: 'cli', eventId: 'b1', method: 'checkout' },
  });
  await t.consent.record({
    ...base,
    subject: { email: 'ann@example.com' },
    state: 'withdrawn',
    occurredAt: new Date('2026-02-02T10:00:00Z'),
    source: { system: 'cli', eventId: 'a2', method: 'admin' },
  });
}

describeEachStore('audit log and ledger chains', (getStore) => {
  let clock = new Date('2026-02-03T00:00:00Z');
  const engine = () => createTactful({ store: getStore(), shop: uniqueShop(), now: () => clock });

  it('verify - an untouched shop verifies, ledger and audit log both', async () => {
    const t = await engine();
    await seed(t);
    const result = await t.audit.verify();
    expect(result.ledger).toMatchObject({ ok: true, rows: 3 });
    expect(result.audit.ok).toBe(true);
  });

  it('tamper - a ledger row edited with SQL breaks the chain at that row', async () => {
    const t = await engine();
    await seed(t);
    await rawStore(getStore()).query(`update consent_ledger set state = 'granted' where shop_id = $1 and seq = 3`, [
      t.shopId,
    ]);
    const result = await t.audit.verify();
    expect(result.ledger.ok).toBe(false);
    expect(result.ledger.firstBreak).toMatchObject({ seq: 3, reason: 'edited' });
  });

  it('tamper - a deleted ledger row (middle or tail) is found', async () => {
    const t = await engine();
    await seed(t);
    await rawStore(getStore()).query(`delete from consent_ledger where shop_id = $1 and seq = 2`, [t.shopId]);
    expect((await t.audit.verify()).ledger.firstBreak).toMatchObject({ seq: 2, reason: 'missing' });
    const u = await engine();
    await seed(u);
    await rawStore(getStore()).query(`delete from consent_ledger where shop_id = $1 and seq = 3`, [u.shopId]);
    expect((await u.audit.verify()).ledger.firstBreak).toMatchObject({ reason: 'truncated' });
  });

  it('tamper - an inserted ledger row is found', async () => {
    const t = await engine();
    await seed(t);
    // Shift the tail by one and insert a forged copy of row 2 as row 3.
    await rawStore(getStore()).query(`update consent_ledger set seq = seq + 10 where shop_id = $1 and seq = 3`, [
      t.shopId,
    ]);
    await rawStore(getStore()).query(
      `insert into consent_ledger select shop_id, 3, event_id || 'x', subject_id, purpose, 'granted', level, occurred_at, recorded_at, source_system, source_event_id || 'x', method, evidence, evidence_enc, echo, content_hash, prev_hash, row_hash from consent_ledger where shop_id = $1 and seq = 2`,
      [t.shopId],
    );
    const result = await t.audit.verify();
    expect(result.ledger.ok).toBe(false);
    expect(result.ledger.firstBreak!.seq).toBe(3);
  });

  it('tamper - an audit entry edited with SQL is found', async () => {
    const t = await engine();
    await seed(t);
    await rawStore(getStore()).query(`update audit_log set actor_id = 'someone-else' where shop_id = $1 and seq = 4`, [
      t.shopId,
    ]);
    expect((await t.audit.verify()).audit.firstBreak).toMatchObject({ seq: 4, reason: 'edited' });
  });

  it('export - JSONL holds every registration and consent action with actor and time', async () => {
    const t = await engine();
    await seed(t);
    const lines = (await collect(t.audit.export('jsonl')))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const actions = lines.map((l) => l.action);
    expect(actions).toContain('purpose.defined');
    expect(actions.filter((a) => a === 'subject.registered')).toHaveLength(2);
    expect(actions.filter((a) => a === 'consent.recorded')).toHaveLength(3);
    const withdrawal = lines.find((l) => l.details.sourceEventId === 'a2');
    expect(withdrawal).toMatchObject({
      email: 'ann@example.com',
      actor: { type: 'system' },
      details: { state: 'withdrawn', changed: true },
    });
  });

  it('export - CSV filtered by subject and time range, with RFC 4180 quoting', async () => {
    const t = await engine();
    clock = new Date('2026-02-03T00:00:00Z');
    await seed(t);
    clock = new Date('2026-02-05T00:00:00Z');
    await t.consent.record({
      subject: { email: 'ann@example.com' },
      purpose: 'personalization',
      state: 'granted',
      level: 'single',
      occurredAt: clock,
      source: { system: 'cli', eventId: 'a3', method: 'form' },
    });
    const subjectId = await t.audit.subjectIdOf('ann@example.com');
    const csv = await collect(
      t.audit.export('csv', { subjectId: subjectId!, since: new Date('2026-02-04T00:00:00Z') }),
    );
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe('seq,at,action,actor_type,actor_id,subject_id,email,details,row_hash');
    // Only Ann's entries from the 5th: the personalization grant (and whatever it caused), not the seed.
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.slice(1).every((r) => r.includes('ann@example.com') && r.includes('2026-02-05T'))).toBe(true);
    const recorded = rows.filter((r) => r.includes(',consent.recorded,'));
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toContain('""purpose"":""personalization""');
    expect(recorded[0]).toMatch(/,"{.*}",/);
  });
});

it('export - a CSV cell a spreadsheet would run as a formula is defused; JSONL keeps it exactly', () => {
  expect(csvField('=1+1@example.com')).toBe("'=1+1@example.com");
  expect(csvField('+cmd|calc')).toBe("'+cmd|calc");
  expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
  expect(csvField('-2,3')).toBe(`"'-2,3"`);
  expect(csvField('ada@example.com')).toBe('ada@example.com');
  expect(csvField('say "hi", bye')).toBe('"say ""hi"", bye"');
});
