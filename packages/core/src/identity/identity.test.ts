/**
 * Random interleavings of what people and systems do — grants and withdrawals in Shopify, Mailchimp and on the
 * shop's own form, address changes in either system, orders, erasures, redactions by platform id, and
 * deliveries that arrive late — through the engine's inbox as webhooks would. After each interleaving the
 * guarantees hold: no withdrawal undone except by a fresh first-party opt-in; a data request finds the person by
 * any address they had and returns all their orders; nothing erased is readable or contactable again; the
 * systems are only ever told to subscribe someone whose consent is granted; every address change reaches every
 * system but the one that reported it, and the last one each is told is the person's address now.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTactful, type Tactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { InboundEvent } from '../ports.js';
import { type Store, rawStore } from '../store/open.js';
import { embeddedTestStore } from '../testing/harness.js';

const PEOPLE = 3;
const ADDRESSES = 5;
const address = (i: number) => `p${i}@identity.example`;
const customerId = (person: number) => `${9000 + person}`;
const mailchimpId = (person: number) => `mc${person}`;

type Action =
  | { kind: 'consent'; person: number; system: 'shopify' | 'mailchimp' | 'form'; grant: boolean; late: boolean }
  | { kind: 'move'; person: number; system: 'shopify' | 'mailchimp'; to: number }
  | { kind: 'order'; person: number }
  | { kind: 'erase'; person: number; by: 'address' | 'redact' }
  | { kind: 'release' };

const person = fc.integer({ min: 0, max: PEOPLE - 1 });
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('consent' as const),
      person,
      system: fc.constantFrom('shopify' as const, 'mailchimp' as const, 'form' as const),
      grant: fc.boolean(),
      late: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('move' as const),
      person,
      system: fc.constantFrom('shopify' as const, 'mailchimp' as const),
      to: fc.integer({ min: 0, max: ADDRESSES - 1 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('order' as const), person }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('erase' as const),
      person,
      by: fc.constantFrom('address' as const, 'redact' as const),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'release' as const }) },
);

let store: Store;
let runs = 0;

beforeAll(async () => {
  store = await embeddedTestStore();
});

interface World {
  tactful: Tactful;
  clock: Date;
  /** Where each system believes each person is now. */
  at: Array<{ shopify: string; mailchimp: string }>;
  erased: Set<number>;
  /** Every address each person was ever given by a system, and their orders. */
  addresses: Array<Set<string>>;
  orders: Array<string[]>;
  /** Addresses a person held when they were erased. */
  erasedAddresses: Set<string>;
  erasedSubjects: Set<string>;
  /** Each person's subject in Tactful, from the start. */
  subjects: string[];
  held: Array<{ event: InboundEvent; system: string }>;
  deliveries: number;
}

async function deliver(w: World, system: string, event: InboundEvent) {
  w.deliveries += 1;
  await w.tactful.inbox.receive(w.tactful.shopId, event, {
    system,
    deliveryId: `d${w.deliveries}`,
    receivedAt: w.clock,
    topic: event.kind,
  });
  await w.tactful.processInbox();
}

async function subjectOf(w: World, email: string): Promise<string | null> {
  return w.tactful.audit.subjectIdOf(email);
}

async function step(w: World, a: Action) {
  w.clock = new Date(w.clock.getTime() + 60_000);
  if (a.kind === 'release') {
    const late = w.held.shift();
    if (late) await deliver(w, late.system, late.event);
    return;
  }
  const p = a.person;
  if (w.erased.has(p)) return;
  if (a.kind === 'consent') {
    if (a.system === 'form') {
      // The person on the shop's own form: first-party, at the address the shop knows.
      await w.tactful.consent
        .record({
          subject: { email: w.at[p]!.shopify, externalIds: { shopify: customerId(p) } },
          purpose: 'email_marketing',
          state: a.grant ? 'granted' : 'withdrawn',
          level: 'single',
          occurredAt: w.clock,
          source: { system: 'tactful', eventId: `form:${w.deliveries}:${w.clock.getTime()}`, method: 'form' },
        })
        .catch((error: unknown) => {
          if (!isTactfulError(error, 'CONSENT.SUPPRESSED')) throw error;
        });
      w.deliveries += 1;
      return;
    }
    const email = w.at[p]![a.system];
    const event: InboundEvent = {
      kind: 'consent',
      externalId: a.system === 'shopify' ? customerId(p) : mailchimpId(p),
      consent: {
        email,
        purpose: 'email_marketing',
        state: a.grant ? 'granted' : 'withdrawn',
        level: 'unknown',
        occurredAt: w.clock,
        sourceEventId: `${a.system}:${p}:${w.clock.getTime()}`,
        // A Mailchimp form sign-up carries an opt-in IP: the person's own act.
        method: a.system === 'mailchimp' && a.grant ? 'form' : 'sync',
      },
    };
    if (a.late) w.held.push({ event, system: a.system });
    else await deliver(w, a.system, event);
    return;
  }
  if (a.kind === 'move') {
    const to = address(a.to);
    const from = w.at[p]![a.system];
    if (to === from) return;
    w.at[p]![a.system] = to;
    w.addresses[p]!.add(to);
    await deliver(
      w,
      a.system,
      a.system === 'mailchimp'
        ? { kind: 'customer_email_changed', oldEmail: from, newEmail: to, occurredAt: w.clock }
        : { kind: 'customer', customer: { id: customerId(p), email: to, updatedAt: w.clock } },
    );
    return;
  }
  if (a.kind === 'order') {
    const id = `o${w.deliveries}`;
    w.orders[p]!.push(id);
    await deliver(w, 'shopify', {
      kind: 'order',
      order: {
        id,
        customerId: customerId(p),
        email: w.at[p]!.shopify,
        createdAt: w.clock,
        updatedAt: w.clock,
        lines: [{ productId: `prod-${w.deliveries % 4}`, title: 'Product', quantity: 1 }],
      },
    });
    return;
  }
  // Erasure: by an address of theirs, or Shopify's redaction naming the customer id and the address it holds.
  const subjectId = w.subjects[p]!;
  let held: string | undefined;
  for (const email of w.addresses[p]!) if ((await subjectOf(w, email)) === subjectId) held = email;
  if (!held) return;
  const bundle = await w.tactful.privacy.export(held);
  if (a.by === 'address') await w.tactful.privacy.erase(held, { reason: 'customer request', compact: false });
  else
    await deliver(w, 'shopify', {
      kind: 'erase_customer',
      email: w.at[p]!.shopify,
      externalId: customerId(p),
      orderIds: [],
      requestId: `redact-${w.deliveries}`,
    });
  w.erasedSubjects.add(subjectId);
  w.erased.add(p);
  for (const i of bundle.identifiers) if (i.kind === 'email') w.erasedAddresses.add(i.value);
}

async function checkGuarantees(w: World) {
  const t = w.tactful;
  let audit = '';
  for await (const chunk of t.audit.export('jsonl')) audit += chunk;
  const live = new Map<string, string>();
  for (const [p, known] of w.addresses.entries()) {
    if (w.erased.has(p)) continue;
    for (const email of known) {
      const id = await subjectOf(w, email);
      if (id) live.set(email, id);
    }
  }
  // Nothing erased is readable or contactable again.
  for (const email of w.erasedAddresses) {
    const holder = await subjectOf(w, email);
    if (holder) expect(w.erasedSubjects.has(holder), `${email} resolves to an erased person`).toBe(false);
    if (!live.has(email)) expect(audit, `${email} is readable in the audit log`).not.toContain(email);
    const bundle = await t.privacy.export(email).catch(() => null);
    if (bundle) expect(w.erasedSubjects.has(bundle.subject.subjectId)).toBe(false);
  }
  const ledger = await rawStore(store).query<{ source_event_id: string }>(
    'select source_event_id from consent_ledger where shop_id = $1',
    [t.shopId],
  );
  for (const email of w.erasedAddresses) expect(ledger.some((r) => r.source_event_id.includes(email))).toBe(false);

  for (const [p, known] of w.addresses.entries()) {
    if (w.erased.has(p)) continue;
    const subjects = new Set([...known].map((e) => live.get(e)).filter((x): x is string => Boolean(x)));
    for (const subjectId of subjects) {
      const bundle = await t.privacy.export([...known].find((e) => live.get(e) === subjectId)!);
      // A data request finds the person by every address of theirs and holds all their orders.
      for (const identifier of bundle.identifiers.filter((i) => i.kind === 'email')) {
        const again = await t.privacy.export(identifier.value);
        const current = await subjectOf(w, identifier.value);
        if (current && current !== subjectId) continue;
        // An old address someone else held after this person belongs to that someone, the last to hold it.
        if (again.subject.subjectId !== subjectId)
          expect(
            again.identifiers.some(
              (i) =>
                i.value === identifier.value &&
                new Date(i.validFrom).getTime() >= new Date(identifier.validFrom).getTime(),
            ),
            `${identifier.value} of ${subjectId} finds ${again.subject.subjectId}`,
          ).toBe(true);
      }
      if (bundle.subject.externalIds.shopify === customerId(p))
        expect(bundle.orders.map((o) => o.orderId).sort()).toEqual(expect.arrayContaining(w.orders[p]!));
      // No withdrawal undone except by a fresh first-party opt-in.
      const events = bundle.consent.history
        .filter((h) => h.purpose === 'email_marketing' && !h.echo)
        .sort((a, b) => new Date(a.occurredAt).getTime() - new Date(b.occurredAt).getTime());
      const current = bundle.consent.current.find((c) => c.purpose === 'email_marketing');
      const lastWithdrawal = events.filter((e) => e.state === 'withdrawn').at(-1);
      if (lastWithdrawal && current?.state === 'granted') {
        const fresh = events.some(
          (e) =>
            e.state === 'granted' &&
            ['form', 'double_opt_in_confirmation'].includes(e.source.method) &&
            new Date(e.occurredAt).getTime() >= new Date(lastWithdrawal.occurredAt).getTime(),
        );
        expect(fresh, `a withdrawal of ${bundle.subject.email} was undone`).toBe(true);
      }
      // Every address change reaches every connected system but the one that reported it, through the outbox,
      // naming an address of the person's own and never an erased one.
      const addresses = new Set(bundle.identifiers.filter((i) => i.kind === 'email').map((i) => i.value));
      const changes = bundle.audit.filter((a) => a.action === 'subject.email_changed' && a.subjectId === subjectId);
      // A change onto an erased person's address is refused and the system that made it told to move back.
      const movedBack = bundle.audit
        .filter((a) => a.action === 'subject.email_change_refused' && a.subjectId === subjectId)
        .flatMap((a) => {
          const back = (a.details as { toldBack?: string }).toldBack;
          return back ? [back] : [];
        });
      const told = [...changes.flatMap((a) => (a.details as { told?: string[] }).told ?? []), ...movedBack];
      for (const change of changes) {
        const { source, told: targets = [] } = change.details as { source: string; told?: string[] };
        expect([...targets].sort()).toEqual(['mailchimp', 'shopify'].filter((system) => system !== source));
      }
      const moves = bundle.outbox.filter((o) => o.kind === 'subject.email_change');
      expect(moves.map((m) => m.target).sort()).toEqual([...told].sort());
      for (const move of moves) {
        const { email: from, newEmail } = move.payload as { email: string; newEmail: string };
        expect(addresses.has(newEmail), `${subjectId} is moved onto ${newEmail}, not theirs`).toBe(true);
        expect(addresses.has(from) || w.erasedAddresses.has(from), `${subjectId} is moved from ${from}`).toBe(true);
        expect(w.erasedAddresses.has(newEmail), `${subjectId} is moved onto an erased address`).toBe(false);
      }
      // The last move queued names the address the person has now, unless a later change came from that
      // system itself (it needs no telling).
      const latest = changes.at(-1);
      if (latest && movedBack.length === 0)
        for (const target of ['shopify', 'mailchimp']) {
          const last = moves.filter((m) => m.target === target).at(-1);
          if ((latest.details as { source: string }).source !== target)
            expect((last?.payload as { newEmail?: string } | undefined)?.newEmail).toBe(bundle.subject.email);
        }
      // What each system is left holding once the outbox is delivered (the last push wins) is granted only
      // while the consent is.
      const last = new Map<string, string | undefined>();
      for (const item of bundle.outbox)
        if (item.kind === 'consent.push') last.set(item.target, (item.payload as { state?: string }).state);
      for (const state of last.values()) if (state === 'granted') expect(current?.state).toBe('granted');
    }
  }
}

describe('identity under random interleavings', () => {
  it('keeps the guarantees after every interleaving of grants, withdrawals, moves, erasures and late deliveries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 4, maxLength: 14 }), async (actions) => {
        runs += 1;
        const clock = { now: new Date('2026-04-01T08:00:00Z') };
        const tactful = await createTactful({ store, shop: `identity-${runs}.myshopify.com`, now: () => clock.now });
        const w: World = {
          tactful,
          get clock() {
            return clock.now;
          },
          set clock(value: Date) {
            clock.now = value;
          },
          at: Array.from({ length: PEOPLE }, (_, p) => ({ shopify: address(p), mailchimp: address(p) })),
          erased: new Set(),
          addresses: Array.from({ length: PEOPLE }, (_, p) => new Set([address(p)])),
          orders: Array.from({ length: PEOPLE }, () => []),
          erasedAddresses: new Set(),
          erasedSubjects: new Set(),
          subjects: [],
          held: [],
          deliveries: 0,
        };
        await w.tactful.settings.update({ connectedSystems: ['shopify', 'mailchimp'] });
        // Everyone starts subscribed in both systems (an import).
        for (let p = 0; p < PEOPLE; p++)
          await w.tactful.consent.record({
            subject: { email: address(p), externalIds: { shopify: customerId(p), mailchimp: mailchimpId(p) } },
            purpose: 'email_marketing',
            state: 'granted',
            level: 'single',
            occurredAt: w.clock,
            source: { system: 'shopify', eventId: `import:${p}`, method: 'import' },
          });
        for (let p = 0; p < PEOPLE; p++) w.subjects.push((await subjectOf(w, address(p)))!);
        for (const a of actions) await step(w, a);
        while (w.held.length > 0) await step(w, { kind: 'release' });
        await checkGuarantees(w);
      }),
      { numRuns: Number(process.env.IDENTITY_RUNS ?? 12), seed: Number(process.env.IDENTITY_SEED ?? 17) },
    );
  }, 300_000);
});
