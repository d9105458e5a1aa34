import { expect, it } from 'vitest';
import { decrypt } from '../crypto/cipher.js';
import { createTactful, engineInternals, type Tactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import { rawStore, type Store } from '../store/open.js';
import { describeEachStore } from '../testing/harness.js';
import { seededRandom } from '../testing/runtime.js';
import { uniqueShop } from '../testing/stores.js';

const t0 = new Date('2026-01-10T10:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

const people = ['ada@example.com', 'bob@example.com', 'cy@example.com'];
const states = ['granted', 'withdrawn', 'pending', 'none'] as const;
const methods = ['form', 'checkout', 'sync', 'import', 'double_opt_in_confirmation', 'admin'] as const;
const systems = ['shopify', 'mailchimp', 'tactful'] as const;

/**
 * A seeded stream with everything a batch must get right: few people and purposes (long histories), few distinct
 * times (ties, late events), reports from the connected systems while our pushes are in flight (echoes),
 * withdrawals and fresh opt-ins, and replays of earlier events.
 */
function stream(seed: number, n: number) {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    if (i > 5 && random() < 0.1) {
      out.push(out[Math.floor(random() * out.length)]!);
      continue;
    }
    out.push({
      subject: { email: pick(people) },
      purpose: random() < 0.6 ? 'email_marketing' : 'personalization',
      state: pick(states),
      level: 'single',
      occurredAt: at(Math.floor(random() * 8)),
      source: { system: pick(systems), eventId: `s${seed}-${i}`, method: pick(methods) },
      evidence: { ip: '203.0.113.7', policyVersion: '1' },
    });
  }
  return out;
}

const sortKey = (row: Record<string, unknown>, ...names: string[]) => names.map((n) => String(row[n])).join('/');

/** Everything recording leaves behind, with the random ids (subjects, events) replaced by what they stand for. */
async function footprint(t: Tactful, store: Store) {
  const { ctx } = engineInternals(t);
  const db = rawStore(store);
  const subjectOf = new Map<string, string>();
  for (const email of people) {
    const view = await t.consent.show(email).catch(() => null);
    if (view) subjectOf.set(view.subjectId, email);
  }
  const who = (id: string | null) => (id === null ? null : (subjectOf.get(id) ?? 'someone else'));
  const ledger = await db.query<Record<string, unknown>>(
    'select seq, event_id, subject_id, purpose, state, level, occurred_at, source_system, source_event_id, method, echo, content_hash from consent_ledger where shop_id = $1 order by seq',
    [ctx.shopId],
  );
  const sourceOf = new Map(ledger.map((r) => [r.event_id as string, r.source_event_id as string]));
  const states = await db.query<Record<string, unknown>>(
    'select subject_id, purpose, state, level, since, decided_by from consent_state where shop_id = $1 order by purpose, subject_id',
    [ctx.shopId],
  );
  const audit = await db.query<Record<string, unknown>>(
    `select action, subject_id, details from audit_log where shop_id = $1 and action in ('consent.recorded', 'subject.registered') order by seq`,
    [ctx.shopId],
  );
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const outbox = await db.query<{ target: string; kind: string; subject_id: string; payload_enc: Uint8Array }>(
    'select target, kind, subject_id, payload_enc from outbox where shop_id = $1 order by id',
    [ctx.shopId],
  );
  const pushed = await db.query<Record<string, unknown>>(
    'select system, subject_id, purpose, state, occurred_at, in_flight, reported_state, reported_at from pushed_consent where shop_id = $1 order by system, purpose, subject_id',
    [ctx.shopId],
  );
  const verified = await t.audit.verify();
  return {
    ledger: ledger.map(({ event_id: _e, subject_id, ...r }) => ({ ...r, who: who(subject_id as string) })),
    states: states
      .map(({ subject_id, decided_by, ...r }) => ({
        ...r,
        who: who(subject_id as string),
        decidedBy: sourceOf.get(decided_by as string),
      }))
      .sort((a, b) => sortKey(a, 'who', 'purpose').localeCompare(sortKey(b, 'who', 'purpose'))),
    audit: audit.map((r) => ({ action: r.action, who: who(r.subject_id as string), details: r.details })),
    outbox: outbox.map((r) => ({
      target: r.target,
      kind: r.kind,
      who: who(r.subject_id),
      payload: JSON.parse(
        decrypt(shopKeys.shopKey, Buffer.from(r.payload_enc), `outbox:${ctx.shopId}:${r.target}:${r.kind}`).toString(
          'utf8',
        ),
      ),
    })),
    pushed: pushed
      .map(({ subject_id, ...r }) => ({ ...r, who: who(subject_id as string) }))
      .sort((a, b) => sortKey(a, 'system', 'who', 'purpose').localeCompare(sortKey(b, 'system', 'who', 'purpose'))),
    verified: verified.ledger.ok && verified.audit.ok,
  };
}

describeEachStore('consent batches', (getStore) => {
  const engine = async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop(), now: () => at(60) });
    await t.settings.update({ connectedSystems: ['shopify', 'mailchimp'] });
    return t;
  };
  const outcome = (o: Awaited<ReturnType<Tactful['consent']['record']>>) => ({
    status: o.status,
    echo: o.echo,
    changed: o.changed,
    state: o.state.state,
    level: o.state.level,
    since: o.state.since,
  });

  it('a batch records exactly what the same events recorded one by one record: ledger, chain, states, audit, outbox, pushes', async () => {
    for (const seed of [1, 2]) {
      const events = stream(seed, 80);
      const one = await engine();
      const oneByOne = [];
      for (const e of events) oneByOne.push(outcome((await one.consent.recordBatch([e]))[0]!));
      const whole = await engine();
      const inOne = (await whole.consent.recordBatch(events)).map(outcome);
      const chunked = await engine();
      const inChunks = [];
      for (const size of [7, 1, 30, 42])
        for (const o of await chunked.consent.recordBatch(events.splice(0, size))) inChunks.push(outcome(o));
      expect(inOne).toEqual(oneByOne);
      expect(inChunks).toEqual(oneByOne);
      // The stream holds what it is meant to: replays, echoes, changes, late events that change nothing.
      expect(oneByOne.some((o) => o.status === 'duplicate')).toBe(true);
      expect(oneByOne.some((o) => o.echo)).toBe(true);
      expect(oneByOne.some((o) => o.changed)).toBe(true);
      const expected = await footprint(one, getStore());
      expect(expected.verified).toBe(true);
      expect(expected.outbox.length).toBeGreaterThan(0);
      expect(await footprint(whole, getStore())).toEqual(expected);
      expect(await footprint(chunked, getStore())).toEqual(expected);
    }
  });

  it('a conflicting duplicate, anywhere in a batch, refuses the whole batch and leaves no trace', async () => {
    const t = await engine();
    const base = stream(3, 20);
    await t.consent.recordBatch(base);
    const before = await footprint(t, getStore());
    const fresh = stream(4, 10);
    const first = { ...base[0]!, source: { system: 'shopify', eventId: 'fresh-1', method: 'sync' }, state: 'none' };
    const batches = [
      // Another event under an id recorded in an earlier batch.
      [...fresh.slice(0, 5), { ...base[4]!, state: base[4]!.state === 'withdrawn' ? 'granted' : 'withdrawn' }],
      // Another event under an id first seen earlier in the same batch.
      [...fresh, first, { ...first, state: 'granted' }],
    ];
    for (const batch of batches) {
      const error = await t.consent.recordBatch(batch).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isTactfulError(error) && error.code).toBe('CONSENT.CONFLICT');
      expect(await footprint(t, getStore())).toEqual(before);
    }
  });
});
