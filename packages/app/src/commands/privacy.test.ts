import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTactful, openStore } from '@tactful/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../cli/capture.js';
import { commandTestStore } from '../cli/test-store.js';

const { db, shop, env, secret, dir, remove } = commandTestStore('cli-privacy');
afterAll(remove);

const base = ['--db', db, '--shop', shop];
const run = (...args: string[]) => runCaptured([...base, ...args], env, dir);
const day = (d: number) => new Date(Date.now() - d * 86_400_000);

beforeAll(async () => {
  const store = await openStore({ url: db, secret });
  try {
    const t = await createTactful({ store, shop });
    const events = [];
    for (let i = 0; i < 10; i++) {
      const email = `c${i}@example.com`;
      events.push({
        subject: { email },
        purpose: 'personalization',
        state: 'granted',
        level: 'single',
        occurredAt: day(100),
        source: { system: 'cli', eventId: `p${i}`, method: 'form' },
      });
      events.push({
        subject: { email },
        purpose: 'email_marketing',
        state: 'granted',
        level: 'single',
        occurredAt: day(100),
        source: { system: 'cli', eventId: `m${i}`, method: 'form' },
        evidence: { ip: '192.0.2.44' },
      });
    }
    await t.consent.recordBatch(events);
    await t.products.upsert([{ id: 'tea', title: 'Green tea', category: 'drinks', available: true }]);
    // c9 spends most, c0 least: c8 and c9 together hold more than 80 % of revenue.
    await t.orders.ingest(
      Array.from({ length: 10 }, (_, i) => ({
        id: `o${i}`,
        email: `c${i}@example.com`,
        createdAt: day(50 - i),
        updatedAt: day(50 - i),
        totalPrice: i >= 8 ? '1000.00' : '10.00',
        lines: [{ productId: 'tea', title: 'Green tea', quantity: 1 }],
      })),
      'shopify',
    );
    await t.profiles.setAttributes('c1@example.com', { firstName: 'Cassandra', country: 'FR' }, 'shopify');
  } finally {
    await store.close();
  }
}, 120_000);

describe('tactful profile / segment / report', () => {
  it('profile show - attributes with provenance, order summary and RFM; --json', async () => {
    const r = await run('profile', 'show', '--email', 'C1@example.com');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/firstName\s+Cassandra\s+shopify/);
    expect(r.stdout).toContain('orders: 1, revenue $10.00');
    expect(r.stdout).toMatch(/rfm: R\d F\d M\d \(\w+\)/);
    const json = JSON.parse((await run('profile', 'show', '--email', 'c1@example.com', '--json')).stdout);
    expect(json.profile.attributes.country).toMatchObject({ value: 'FR', source: 'shopify' });
  });

  it('profile show - bad input: unknown and malformed emails exit 2', async () => {
    const unknown = await run('profile', 'show', '--email', 'ghost@example.com');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No customer with email ghost@example.com/);
    const bad = await run('profile', 'show', '--email', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a valid email/);
  });

  it('segment preview - count and sample; --json', async () => {
    writeFileSync(join(dir, 'big.json'), JSON.stringify({ revenue: { min: 500 } }));
    const r = await run('segment', 'preview', '--file', 'big.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 of 10 profiles match');
    expect(r.stdout).toContain('c9@example.com');
    const json = JSON.parse((await run('segment', 'preview', '--file', 'big.json', '--json')).stdout);
    expect(json.count).toBe(2);
    expect(json.sample.map((s: { email: string }) => s.email).sort()).toEqual(['c8@example.com', 'c9@example.com']);
  });

  it('segment preview - bad input: malformed JSON, an error with its path, a missing file', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"all": [');
    writeFileSync(
      join(dir, 'wrong.json'),
      JSON.stringify({ all: [{ revenue: { min: 1 } }, { orderCount: { min: 'two' } }] }),
    );
    const cases: Array<[string[], RegExp]> = [
      [['--file', 'broken.json'], /not valid JSON/],
      [['--file', 'wrong.json'], /Invalid segment at all\[1\]\.orderCount\.min/],
      [['--file', 'missing.json'], /--file missing.json cannot be read: ENOENT/],
      [['--file', 'big.json', '--sample', '0'], /--sample "0" must be a positive whole number/],
    ];
    for (const [args, message] of cases) {
      const r = await run('segment', 'preview', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('report pareto - the customers holding 80 % of revenue; --json', async () => {
    const r = await run('report', 'pareto');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 of 10 customers (20.0 %) hold $2,000.00 of $2,080.00 revenue (at least 80.0 %)');
    const json = JSON.parse((await run('report', 'pareto', '--json')).stdout);
    expect(json.members.map((m: { email: string }) => m.email).sort()).toEqual(['c8@example.com', 'c9@example.com']);
  });

  it('report rfm - customers per label; --json', async () => {
    const r = await run('report', 'rfm');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('10 customers with orders and a profile');
    const json = JSON.parse((await run('report', 'rfm', '--json')).stdout);
    expect(json.labels.reduce((s: number, l: { customers: number }) => s + l.customers, 0)).toBe(10);
    expect(json.labels.map((l: { label: string }) => l.label)).toContain('lost');
    expect(r.stdout).toMatch(/lost\s+\d+\s+\d+\.\d %/);
  });
});

describe('tactful privacy', () => {
  it('register - markdown and --json', async () => {
    const r = await run('privacy', 'register');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`# Register of processing activities — ${shop}`);
    expect(r.stdout).toContain('Legal basis: Consent — Art. 6(1)(a)');
    const json = JSON.parse((await run('privacy', 'register', '--json', '--months', '12')).stdout);
    expect(json.activities.length).toBeGreaterThan(4);
    expect((await run('privacy', 'register', '--months', 'soon')).code).toBe(2);
  });

  it('export - to stdout and to a file; unknown email exits 2', async () => {
    const r = await run('privacy', 'export', '--email', 'c2@example.com');
    expect(r.code).toBe(0);
    const bundle = JSON.parse(r.stdout);
    expect(bundle.subject.email).toBe('c2@example.com');
    expect(bundle.consent.history.find((h: { purpose: string }) => h.purpose === 'email_marketing').evidence.ip).toBe(
      '192.0.2.44',
    );
    const out = await run('privacy', 'export', '--email', 'c2@example.com', '--out', 'c2.json');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('exported c2@example.com: 2 consent events, 1 orders');
    expect(JSON.parse(readFileSync(join(dir, 'c2.json'), 'utf8')).orders).toHaveLength(1);
    const unknown = await run('privacy', 'export', '--email', 'ghost@example.com');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No customer with email ghost@example.com/);
    const badOut = await run(
      'privacy',
      'export',
      '--email',
      'c2@example.com',
      '--out',
      join(dir, 'no-such-dir', 'x.json'),
    );
    expect(badOut.code).toBe(2);
    expect(badOut.stderr).toMatch(/cannot be written/);
  });

  it('erase - erases, then the person is unknown; bad input exits 2', async () => {
    const noReason = await run('privacy', 'erase', '--email', 'c3@example.com', '--reason', ' ');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/Give a reason/);
    const r = await run(
      'privacy',
      'erase',
      '--email',
      'c3@example.com',
      '--reason',
      'customer request',
      '--request-id',
      'T-1',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('erased (request T-1): 1 orders');
    expect(r.stdout).toContain('storage compacted');
    const again = await run('privacy', 'erase', '--email', 'c3@example.com', '--reason', 'customer request');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/No customer with email c3@example.com/);
    expect((await run('profile', 'show', '--email', 'c3@example.com')).code).toBe(2);
    const missing = await run('privacy', 'erase', '--email', 'c3@example.com');
    expect(missing.code).toBe(2);
  });

  it('retention - a dry run lists, --apply erases, bad --months exits 2', async () => {
    // Consent 100 days ago, last orders 41 to 50 days ago: inactive for one month, not for two.
    const dry = JSON.parse((await run('privacy', 'retention', '--months', '1', '--json')).stdout);
    expect(dry).toMatchObject({ months: 1, applied: false });
    expect(dry.subjects.map((s: { email: string }) => s.email)).toEqual(
      expect.arrayContaining(['c0@example.com', 'c9@example.com']),
    );
    expect(dry.subjects).toHaveLength(9);
    const two = await run('privacy', 'retention', '--months', '2');
    expect(two.code).toBe(0);
    expect(two.stdout).toContain('0 people without activity for 2 months (dry run; --apply erases them)');
    expect((await run('profile', 'show', '--email', 'c1@example.com')).code).toBe(0);
    const applied = await run('privacy', 'retention', '--apply', '--months', '1');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('9 people without activity for 1 months: erased');
    expect((await run('profile', 'show', '--email', 'c1@example.com')).code).toBe(2);
    const bad = await run('privacy', 'retention', '--months', '-3');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--months "-3" must be a positive whole number/);
  });
});
