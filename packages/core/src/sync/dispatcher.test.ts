import { expect, it } from 'vitest';
import { engineInternals } from '../engine.js';
import { createTactful } from '../engine.js';
import { TactfulError } from '../errors/tactful-error.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import type { DeliverBatch } from './dispatcher.js';
import type { OutboxItem } from './outbox.js';
import { rawStore } from '../store/open.js';

/** An in-memory target system that fails on demand. */
function memoryTarget() {
  const received: OutboxItem[] = [];
  const plan: Array<'ok' | 'retryable' | 'fatal' | 'throw'> = [];
  const deliver: DeliverBatch = async (items) => {
    const mode = plan.shift() ?? 'ok';
    if (mode === 'throw')
      throw new TactfulError('TEST.UNAVAILABLE', 'target is down', { retryable: true, retryAfter: 0 });
    return items.map((item) => {
      if (mode === 'ok') {
        received.push(item);
        return { ok: true as const };
      }
      return {
        ok: false as const,
        error: new TactfulError('TEST.ERROR', `failed: ${mode}`, { retryable: mode === 'retryable' }),
      };
    });
  };
  return { received, plan, deliver };
}

describeEachStore('outbox dispatcher', (getStore) => {
  let clock = new Date('2026-04-01T00:00:00Z');
  const now = () => clock;

  async function shopWithChanges(count: number) {
    const t = await createTactful({ store: getStore(), shop: uniqueShop(), now });
    await t.settings.update({ connectedSystems: ['memory'] });
    for (let i = 0; i < count; i++) {
      await t.consent.record({
        subject: { email: `p${i}@example.com` },
        purpose: 'email_marketing',
        state: 'granted',
        level: 'single',
        occurredAt: clock,
        source: { system: 'cli', eventId: `e${i}`, method: 'form' },
      });
    }
    return t;
  }

  it('delivers every row once and reports counts', async () => {
    const t = await shopWithChanges(5);
    const target = memoryTarget();
    const d = t.outbox.dispatcher({ targets: { memory: target.deliver }, random: () => 0.5, now });
    const report = await d.drain();
    expect(report.delivered).toBeGreaterThanOrEqual(5);
    const mine = target.received.filter((i) => i.shopId === t.shopId);
    expect(mine.map((i) => i.payload.email).sort()).toEqual([
      'p0@example.com',
      'p1@example.com',
      'p2@example.com',
      'p3@example.com',
      'p4@example.com',
    ]);
    expect(await t.outbox.counts()).toEqual({ pending: 0, done: 5, dead: 0 });
  });

  it('retries retryable failures with backoff, then delivers', async () => {
    const t = await shopWithChanges(2);
    const target = memoryTarget();
    target.plan.push('throw', 'retryable');
    const d = t.outbox.dispatcher({ targets: { memory: target.deliver }, random: () => 0.5, now, baseDelayMs: 1000 });
    let report = await d.drain();
    expect(report.delivered).toBe(0);
    expect(report.retried).toBe(2);
    clock = new Date(clock.getTime() + 5_000);
    report = await d.drain();
    expect(report.retried).toBe(2);
    clock = new Date(clock.getTime() + 60_000);
    report = await d.drain();
    expect(report.delivered).toBe(2);
    expect(await t.outbox.counts()).toEqual({ pending: 0, done: 2, dead: 0 });
  });

  it('dead-letters a non-retryable failure at once, a retryable one after N attempts, keeping the error', async () => {
    const t = await shopWithChanges(1);
    const target = memoryTarget();
    target.plan.push('fatal');
    const d = t.outbox.dispatcher({ targets: { memory: target.deliver }, now, maxAttempts: 3 });
    expect((await d.drain()).deadLettered).toBe(1);
    const dead = await rawStore(getStore()).query<{ last_error: string }>(
      `select last_error from outbox where shop_id = $1 and status = 'dead'`,
      [t.shopId],
    );
    expect(dead[0]!.last_error).toContain('TEST.ERROR');

    const u = await shopWithChanges(1);
    const always = memoryTarget();
    always.plan.push('retryable', 'retryable', 'retryable', 'retryable');
    const d2 = u.outbox.dispatcher({ targets: { memory: always.deliver }, now, maxAttempts: 3, baseDelayMs: 1 });
    for (let i = 0; i < 3; i++) {
      clock = new Date(clock.getTime() + 3_600_000);
      await d2.drain();
    }
    expect(await u.outbox.counts()).toEqual({ pending: 0, done: 0, dead: 1 });
  });

  it('a crash after claiming loses nothing: the row is delivered once the lease runs out', async () => {
    const t = await shopWithChanges(1);
    const crashing = t.outbox.dispatcher({
      targets: {
        memory: async () => {
          throw Object.assign(new Error('process killed'), { code: 'ECONNRESET' });
        },
      },
      now,
      leaseMs: 30_000,
      baseDelayMs: 10 * 60_000,
    });
    // Simulate a crash: claim, then never settle (the claiming instance dies).
    const { claimDue } = await import('./outbox.js');
    const claimed = await claimDue(rawStore(getStore()).db, engineInternals(t).keys, {
      limit: 10,
      now: clock,
      leaseMs: 30_000,
      targets: ['memory'],
    });
    expect(claimed.some((c) => c.shopId === t.shopId)).toBe(true);
    void crashing;
    const target = memoryTarget();
    const survivor = t.outbox.dispatcher({ targets: { memory: target.deliver }, now });
    expect((await survivor.drain()).claimed).toBe(0);
    clock = new Date(clock.getTime() + 31_000);
    await survivor.drain();
    expect(target.received.filter((i) => i.shopId === t.shopId)).toHaveLength(1);
  });

  it("one person's changes reach a system in the order they were made, across a retry and a second instance", async () => {
    const t = await shopWithChanges(1);
    // The same person changes their mind: granted (above), then withdrawn a minute later.
    await t.consent.record({
      subject: { email: 'p0@example.com' },
      purpose: 'email_marketing',
      state: 'withdrawn',
      occurredAt: new Date(clock.getTime() + 60_000),
      source: { system: 'cli', eventId: 'e0-withdrawn', method: 'form' },
    });
    const { claimDue } = await import('./outbox.js');
    const keys = engineInternals(t).keys;
    const claim = () =>
      claimDue(rawStore(getStore()).db, keys, { limit: 10, now: clock, leaseMs: 30_000, shopId: t.shopId });
    // A second instance claiming while the first holds the grant does not take the withdrawal behind it.
    const first = await claim();
    expect(first.map((i) => i.payload.state)).toEqual(['granted']);
    expect(await claim()).toEqual([]);

    // The grant fails once (a rate limit); the withdrawal waits for it instead of overtaking it.
    clock = new Date(clock.getTime() + 31_000);
    const received: string[] = [];
    let failedOnce = false;
    const d = t.outbox.dispatcher({
      targets: {
        memory: async (items) =>
          items.map((item) => {
            if (item.payload.state === 'granted' && !failedOnce) {
              failedOnce = true;
              return {
                ok: false as const,
                error: new TactfulError('TEST.UNAVAILABLE', 'slow down', { retryable: true }),
              };
            }
            received.push(String(item.payload.state));
            return { ok: true as const };
          }),
      },
      now,
      baseDelayMs: 1000,
      shopId: t.shopId,
    });
    expect((await d.drain()).delivered).toBe(0);
    clock = new Date(clock.getTime() + 60_000);
    await d.drain();
    expect(received).toEqual(['granted', 'withdrawn']);
    expect(await t.outbox.counts()).toEqual({ pending: 0, done: 2, dead: 0 });
  });

  it("a claim takes each person's first pending row per system, and every row that names no person", async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop(), now });
    const { claimDue, enqueue } = await import('./outbox.js');
    const { ctx, keys } = engineInternals(t);
    const item = (subjectId: string | null, n: number, target = 'memory') => ({
      target,
      kind: 'test.change',
      subjectId,
      payload: { n },
    });
    await enqueue(
      ctx.db,
      keys,
      t.shopId,
      [item('a', 1), item(null, 2), item('b', 3), item('a', 4), item(null, 5), item('a', 6, 'other'), item('b', 7)],
      clock,
    );
    const claim = () =>
      claimDue(rawStore(getStore()).db, keys, { limit: 10, now: clock, leaseMs: 30_000, shopId: t.shopId });
    // a's and b's later rows wait behind their first; the rows of no person never wait; another system is apart.
    expect((await claim()).map((i) => i.payload.n)).toEqual([1, 2, 3, 5, 6]);
    expect(await claim()).toEqual([]);
  });

  it('two dispatchers never deliver the same row (FOR UPDATE SKIP LOCKED)', async () => {
    const t = await shopWithChanges(40);
    const a = memoryTarget();
    const b = memoryTarget();
    const da = t.outbox.dispatcher({ targets: { memory: a.deliver }, now, claimLimit: 5 });
    const db = t.outbox.dispatcher({ targets: { memory: b.deliver }, now, claimLimit: 5 });
    await Promise.all([da.drain(), db.drain()]);
    const ids = [...a.received, ...b.received].filter((i) => i.shopId === t.shopId).map((i) => i.id);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
  });
});
