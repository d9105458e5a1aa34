import { describe, expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore } from '../store/open.js';

const t0 = new Date('2026-01-10T10:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

function event(over: Record<string, unknown> = {}) {
  return {
    subject: { email: 'Ada@Example.com ' },
    purpose: 'email_marketing',
    state: 'granted',
    level: 'single',
    occurredAt: at(0),
    source: { system: 'cli', eventId: `e-${Math.random()}`, method: 'form' },
    evidence: { ip: '203.0.113.7', policyVersion: '1', clause: 'Marketing communications' },
    ...over,
  };
}

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isTactfulError(error), `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

describeEachStore('consent service', (getStore) => {
  const engine = (now = () => at(60)) => createTactful({ store: getStore(), shop: uniqueShop(), now });

  it('record - trims and lower-cases the email, and show reports the state with its source and clause', async () => {
    const t = await engine();
    const out = await t.consent.record(event({ source: { system: 'cli', eventId: 'a1', method: 'form' } }));
    expect(out).toMatchObject({ status: 'recorded', changed: true, echo: false });
    const view = await t.consent.show('ada@example.com');
    const email = view.purposes.find((p) => p.purpose === 'email_marketing')!;
    expect(email).toMatchObject({
      state: 'granted',
      level: 'single',
      since: at(0),
      source: { system: 'cli', method: 'form', eventId: 'a1' },
      clause: 'Marketing communications',
      version: '1',
    });
    expect(view.purposes.find((p) => p.purpose === 'personalization')!.state).toBe('none');
  });

  it('record - the same source event id with the same content is a replay and stores nothing new', async () => {
    const t = await engine();
    const e = event({ source: { system: 'shopify', eventId: 'x', method: 'checkout' } });
    await t.consent.record(e);
    const again = await t.consent.record(e);
    expect(again.status).toBe('duplicate');
    expect((await t.consent.history('ada@example.com')).events).toHaveLength(1);
  });

  it('record - the same source event id with other content is a conflict and stores nothing', async () => {
    const t = await engine();
    await t.consent.record(event({ source: { system: 'shopify', eventId: 'x', method: 'checkout' } }));
    await expectCode(
      t.consent.record(event({ state: 'withdrawn', source: { system: 'shopify', eventId: 'x', method: 'checkout' } })),
      'CONSENT.CONFLICT',
    );
    expect((await t.consent.history('ada@example.com')).events).toHaveLength(1);
  });

  it('bad input - invalid email, unknown purpose, unknown state, malformed and far-future times are refused and store nothing', async () => {
    const t = await engine();
    await expectCode(t.consent.record(event({ subject: { email: 'not-an-email' } })), 'CONSENT.INVALID');
    await expectCode(t.consent.record(event({ purpose: 'telepathy' })), 'CONSENT.UNKNOWN_PURPOSE');
    await expectCode(t.consent.record(event({ state: 'maybe' })), 'CONSENT.INVALID');
    await expectCode(t.consent.record(event({ occurredAt: 'yesterday' })), 'CONSENT.INVALID');
    await expectCode(t.consent.record(event({ occurredAt: at(60 + 6) })), 'CONSENT.INVALID');
    // 4 minutes ahead is within the allowed clock skew.
    await t.consent.record(event({ occurredAt: at(60 + 4) }));
    const history = await t.consent.history('ada@example.com');
    expect(history.events).toHaveLength(1);
    await expectCode(t.consent.show('nobody@example.com'), 'SUBJECT.NOT_FOUND');
  });

  it('withdrawal - a sync echo does not grant again', async () => {
    const t = await engine();
    await t.settings.update({ connectedSystems: ['mailchimp'] });
    await t.consent.record(event({ source: { system: 'cli', eventId: 'g', method: 'form' }, occurredAt: at(0) }));
    await t.consent.record(
      event({ state: 'withdrawn', source: { system: 'cli', eventId: 'w', method: 'admin' }, occurredAt: at(1) }),
    );
    // Mailchimp reports a subscribe later, from its own sync: not first-party evidence.
    const out = await t.consent.record(
      event({ source: { system: 'mailchimp', eventId: 'm', method: 'sync' }, occurredAt: at(2) }),
    );
    expect(out.changed).toBe(false);
    expect(out.state.state).toBe('withdrawn');
    expect((await t.consent.show('ada@example.com')).purposes[0]!.state).toBe('withdrawn');
  });

  it('withdrawal - a fresh form opt-in grants again', async () => {
    const t = await engine();
    await t.consent.record(event({ source: { system: 'cli', eventId: 'g', method: 'checkout' }, occurredAt: at(0) }));
    await t.consent.record(
      event({ state: 'withdrawn', source: { system: 'cli', eventId: 'w', method: 'admin' }, occurredAt: at(1) }),
    );
    const out = await t.consent.record(
      event({ source: { system: 'tactful', eventId: 'f', method: 'form' }, occurredAt: at(2) }),
    );
    expect(out.state.state).toBe('granted');
  });

  it('echo - a change Tactful pushed, reported back by that system, is recorded as an echo and changes nothing', async () => {
    const t = await engine();
    await t.settings.update({ connectedSystems: ['mailchimp', 'shopify'] });
    await t.consent.record(
      event({ state: 'withdrawn', source: { system: 'cli', eventId: 'w', method: 'admin' }, occurredAt: at(0) }),
    );
    const counts = await t.outbox.counts();
    expect(counts.pending).toBe(2);
    const back = await t.consent.record(
      event({
        state: 'withdrawn',
        source: { system: 'mailchimp', eventId: 'mc-1', method: 'sync' },
        occurredAt: at(1),
      }),
    );
    expect(back).toMatchObject({ echo: true, changed: false });
    // The echo is kept as a fact but creates no new outbox rows: the two systems never loop.
    expect((await t.outbox.counts()).pending).toBe(2);
    const history = await t.consent.history('ada@example.com');
    expect(history.events.map((e) => e.echo)).toEqual([false, true]);
  });

  it('outbox - a change writes one row per other connected system, none for its source', async () => {
    const t = await engine();
    await t.settings.update({ connectedSystems: ['mailchimp', 'shopify'] });
    await t.consent.record(event({ source: { system: 'shopify', eventId: 's1', method: 'checkout' } }));
    expect(await t.outbox.counts()).toMatchObject({ pending: 1 });
  });

  it('order of arrival - the same events recorded one by one or in a batch, in any order, give the same state', async () => {
    const events = [
      event({ state: 'granted', occurredAt: at(3), source: { system: 'shopify', eventId: 'o1', method: 'checkout' } }),
      event({ state: 'withdrawn', occurredAt: at(5), source: { system: 'mailchimp', eventId: 'o2', method: 'sync' } }),
      event({ state: 'granted', occurredAt: at(5), source: { system: 'tactful', eventId: 'o3', method: 'form' } }),
      event({ state: 'granted', occurredAt: at(7), source: { system: 'shopify', eventId: 'o4', method: 'import' } }),
      event({ state: 'pending', occurredAt: at(1), source: { system: 'tactful', eventId: 'o5', method: 'form' } }),
    ];
    const orders = [
      [0, 1, 2, 3, 4],
      [4, 3, 2, 1, 0],
      [2, 0, 4, 1, 3],
    ];
    const results = [];
    for (const order of orders) {
      const one = await engine();
      for (const i of order) await one.consent.record(events[i]!);
      results.push((await one.consent.show('ada@example.com')).purposes[0]);
      const batch = await engine();
      await batch.consent.recordBatch(order.map((i) => events[i]!));
      results.push((await batch.consent.show('ada@example.com')).purposes[0]);
    }
    // A withdrawal at 5 beats the form grant at 5; the import at 7 cannot undo it.
    for (const r of results) expect({ state: r!.state, since: r!.since }).toEqual({ state: 'withdrawn', since: at(5) });
  });

  it('batch - a replay inside the same batch is a duplicate, a conflicting one refuses the whole batch', async () => {
    const t = await engine();
    const e = event({ source: { system: 'shopify', eventId: 'b1', method: 'checkout' } });
    const out = await t.consent.recordBatch([e, e]);
    expect(out.map((o) => o.status)).toEqual(['recorded', 'duplicate']);
    await expectCode(
      t.consent.recordBatch([
        event({ source: { system: 'shopify', eventId: 'b2', method: 'checkout' } }),
        { ...e, state: 'withdrawn' },
      ]),
      'CONSENT.CONFLICT',
    );
    expect((await t.consent.history('ada@example.com')).events).toHaveLength(1);
    await expectCode(
      t.consent.recordBatch([
        event({ source: { system: 'shopify', eventId: 'b3', method: 'checkout' } }),
        event({ purpose: 'nope' }),
      ]),
      'CONSENT.UNKNOWN_PURPOSE',
    );
    expect((await t.consent.history('ada@example.com')).events).toHaveLength(1);
    expect((await t.audit.verify()).ledger.ok).toBe(true);
  });

  it('evidence - the IP is stored encrypted and comes back in the history', async () => {
    const t = await engine();
    await t.consent.record(event());
    const rows = await rawStore(getStore()).query<{ evidence: unknown; evidence_enc: unknown }>(
      'select evidence, evidence_enc from consent_ledger where shop_id = $1',
      [t.shopId],
    );
    expect(JSON.stringify(rows[0]!.evidence)).not.toContain('203.0.113.7');
    expect((await t.consent.history('ada@example.com')).events[0]!.evidence.ip).toBe('203.0.113.7');
  });
});

describe('shop scoping', () => {
  it('is covered by every test above using its own shop on a shared database', () => {
    expect(uniqueShop()).not.toBe(uniqueShop());
  });
});
