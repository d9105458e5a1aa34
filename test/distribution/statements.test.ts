/**
 * Every statement the engine sends to PostgreSQL against a shop-scoped table is filtered by `shop_id`, so on
 * Citus (distributed by `shop_id`) it routes to one shard. A representative workload of two shops — import,
 * consent, inbound sync and outbound delivery, recommendations, segments and reports, a campaign dry run and
 * send, privacy export, erasure and retention — runs through the engine while the pg driver's `query` is
 * wrapped; each statement is then parsed by the real PostgreSQL parser (libpg-query) and checked.
 */
import pg from 'pg';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, type OrderRecord, type Tactful } from '@tactful/core';
import { createMemoryEmailProvider, storeTargets, uniqueShop } from '@tactful/core/testing';
import { openStore, type Store } from '../../packages/core/src/store/open.js';
import { REFERENCE_TABLES } from '../../packages/core/src/store/distribution.js';
import { schema } from '../../packages/core/src/store/schema.js';
import { loadParser, scope } from './shop-scope.js';

const shopTables = new Set(
  Object.values(schema)
    .map((table) => getTableConfig(table))
    .filter((config) => config.columns.some((c) => c.name === 'shop_id') && !REFERENCE_TABLES.includes(config.name))
    .map((config) => config.name),
);

beforeAll(async () => {
  await loadParser();
});

describe('shop scope of a statement (the checker itself)', () => {
  const unscoped = (sql: string) => scope(sql, shopTables).unscoped;
  it('accepts a filter on a parameter or constant, through joins, correlated subqueries and CTEs', () => {
    expect(unscoped('select * from "subjects" where "subjects"."shop_id" = $1 and "email_index" = $2')).toEqual([]);
    expect(unscoped(`select * from consent_state where shop_id = 'a.myshopify.com'`)).toEqual([]);
    expect(
      unscoped('select * from subjects s join consent_state c on c.shop_id = s.shop_id where s.shop_id = $1'),
    ).toEqual([]);
    expect(
      unscoped(
        'select * from subjects s where s.shop_id = $1 and exists (select 1 from consent_state c where c.shop_id = s.shop_id)',
      ),
    ).toEqual([]);
    expect(
      unscoped(
        'with due as (select id from outbox where shop_id = $1 for update skip locked) update outbox o set status = $2 from due d where o.shop_id = $1 and o.id = d.id',
      ),
    ).toEqual([]);
    expect(unscoped('insert into kv (shop_id, key, value) values ($1, $2, $3) on conflict do nothing')).toEqual([]);
    expect(unscoped('select pg_advisory_lock(1)')).toEqual([]);
  });

  it('finds a shop-scoped table read, changed or joined without a shop_id filter', () => {
    expect(unscoped('select * from subjects where email_index = $1')).toEqual(['subjects']);
    expect(unscoped('select * from subjects where shop_id = $1 or email_index = $2')).toEqual(['subjects']);
    expect(
      unscoped('select * from subjects s join consent_state c on c.subject_id = s.subject_id where s.shop_id = $1'),
    ).toEqual(['consent_state (as c)']);
    expect(unscoped('update outbox set status = $1 where id = $2')).toEqual(['outbox']);
    expect(unscoped('delete from inbox where processed_at < $1')).toEqual(['inbox']);
    expect(unscoped('insert into kv (key, value) values ($1, $2)')).toEqual(['kv (insert without shop_id)']);
    expect(
      unscoped(
        'select * from subjects s where s.shop_id = $1 and exists (select 1 from consent_state c where c.subject_id = s.subject_id)',
      ),
    ).toEqual(['consent_state (as c)']);
    expect(scope('select * from outbox where shop_id = any($1)', shopTables).multiShop).toBe(true);
  });
});

const postgres = storeTargets().find((t) => t.name === 'postgres');
if (postgres)
  describe('every statement of the engine on PostgreSQL names its shop', () => {
    if (postgres.unavailable) {
      it('has a database to run on', () => {
        throw new Error(postgres.unavailable);
      });
      return;
    }
    let store: Store;
    const original = pg.Client.prototype.query;
    beforeAll(async () => {
      store = await openStore({ url: postgres.url, secret: postgres.secret });
    });
    afterAll(async () => {
      pg.Client.prototype.query = original;
      await store?.close();
    });

    /** The statements `work` sends through any pg client (the driver boundary), whichever module built them. */
    async function capture(work: () => Promise<void>): Promise<string[]> {
      const statements: string[] = [];
      pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
        const first = args[0] as string | { text?: string };
        const text = typeof first === 'string' ? first : first?.text;
        if (text) statements.push(text);
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof original;
      try {
        await work();
      } finally {
        pg.Client.prototype.query = original;
      }
      return [...new Set(statements)];
    }

    it('the workload: import, consent, sync both ways, recommendations, reports, campaign, privacy', async () => {
      const statements = await capture(async () => {
        for (const name of ['dist-a', 'dist-b']) await workload(store, uniqueShop(name));
      });
      expect(statements.length).toBeGreaterThan(100);
      const touched = new Set<string>();
      const problems: string[] = [];
      let multiShop = 0;
      for (const text of statements) {
        const found = scope(text, shopTables);
        for (const table of found.tables) touched.add(table);
        if (found.multiShop) multiShop += 1;
        if (found.unscoped.length > 0)
          problems.push(`${found.unscoped.join(', ')} in: ${text.replace(/\s+/g, ' ').slice(0, 400)}`);
      }
      expect(problems).toEqual([]);
      // The workload reached the whole schema, so a clean result means something.
      expect([...shopTables].filter((t) => !touched.has(t))).toEqual([]);
      process.stdout.write(
        `shop scope: ${statements.length} distinct statements over ${touched.size} shop-scoped tables, all filtered by shop_id (${multiShop} by a list of shops)\n`,
      );
    });

    it('the workers serving every shop at once fan out, as docs/scaling.md says (the inbox and outbox claims)', async () => {
      const t = await createTactful({ store, shop: uniqueShop('dist-all') });
      const mail = createMemoryEmailProvider('mailchimp');
      const statements = await capture(async () => {
        await t.processInbox({ allShops: true });
        await t.outbox.dispatcher({ targets: t.targets({ provider: mail.provider }), shopId: undefined }).drain();
      });
      const unscoped = new Set(statements.flatMap((text) => scope(text, shopTables).unscoped));
      // The outbox claim's check for an earlier row of the same person joins on the claimed row's shop_id, so
      // it runs where that row lives (one shard), beside the fan-out of the claim itself.
      expect([...unscoped].sort()).toEqual(['inbox', 'outbox', 'outbox (as earlier)']);
    });
  });

const day = (d: number) => new Date(Date.UTC(2026, 2, d, 12));

async function workload(store: Store, shop: string): Promise<void> {
  const clock = { now: day(10) };
  const t: Tactful = await createTactful({ store, shop, now: () => clock.now });
  const mail = createMemoryEmailProvider('mailchimp');
  await t.settings.update({
    sender: { name: 'Bean & Leaf', email: 'hello@bean.example', postalAddress: '1 Roastery Lane, Brussels' },
    connectedSystems: ['mailchimp'],
  });
  await t.products.upsert(
    ['tea', 'kettle', 'honey', 'cups', 'coffee', 'grinder'].map((id) => ({
      id,
      title: id,
      url: `https://bean.example/products/${id}`,
      price: '€10.00',
      category: 'Kitchen',
      available: true,
    })),
  );
  const people = ['ada', 'bob', 'cy', 'dan'].map((n) => `${n}@example.com`);
  const grant = (email: string, purpose: string, id: string, state = 'granted') => ({
    subject: { email },
    purpose,
    state,
    level: 'confirmed',
    occurredAt: day(1),
    source: { system: 'shopify', eventId: id, method: 'form' },
  });
  await t.consent.recordBatch(
    people.flatMap((email, i) => [grant(email, 'email_marketing', `m${i}`), grant(email, 'personalization', `p${i}`)]),
  );
  await t.consent.record(grant(people[3]!, 'email_marketing', 'w3', 'withdrawn'));
  const order = (id: string, email: string, products: string[], d: number): OrderRecord => ({
    id,
    email,
    createdAt: day(d),
    updatedAt: day(d),
    currency: 'EUR',
    totalPrice: '20.00',
    lines: products.map((p) => ({ productId: p, title: p, quantity: 1, price: '10.00' })),
  });
  const baskets = [
    ...Array.from({ length: 5 }, () => ['tea', 'kettle']),
    ...Array.from({ length: 5 }, () => ['coffee', 'grinder']),
    ...Array.from({ length: 3 }, () => ['tea', 'honey', 'cups']),
  ];
  await t.orders.ingest(
    [
      order('o1', people[0]!, ['tea'], 3),
      order('o2', people[1]!, ['coffee'], 3),
      ...baskets.map((b, i) => order(`x${i}`, `x${i}@example.com`, b, 2)),
    ],
    'shopify',
  );
  await t.profiles.setAttributes(people[0]!, { firstName: 'Ada', country: 'BE' });
  await t.profiles.show(people[0]!);
  await t.preferences.exclude(people[0]!, { productId: 'tea' });
  await t.preferences.exclude(people[0]!, { productId: 'tea' }, { undo: true });
  await t.preferences.show(people[0]!);
  // Double opt-in and one-click unsubscribe, preferences, the contact policy.
  const ticket = await t.consent.requestOptIn({ email: 'eve@example.com', purposes: ['email_marketing'] });
  await t.consent.confirmOptIn(ticket.token);
  await t.consent.unsubscribe(await t.consent.unsubscribeToken('eve@example.com', 'email_marketing'));
  await t.contact.canContact(people[0]!);
  await t.contact.policy();
  await t.consent.show(people[0]!);
  await t.consent.history(people[0]!);
  // Inbound sync: a change from the email system, stored then processed; outbound: the outbox delivered.
  await t.inbox.receive(
    t.shopId,
    { kind: 'undeliverable', email: people[2]!, reason: 'hard bounce', occurredAt: day(4) },
    { system: 'mailchimp', deliveryId: `bounce-${shop}`, receivedAt: day(4), topic: 'cleaned' },
  );
  await t.processInbox();
  await t.outbox.dispatcher({ targets: t.targets({ provider: mail.provider }) }).drain();
  await t.outbox.counts();
  await t.recommend.forCustomer(people[0]!);
  await t.recommend.related('tea');
  await t.profiles.rescore();
  const segment = {
    all: [{ purchased: { product: ['tea', 'kettle'] } }, { consent: { purpose: 'email_marketing', state: 'granted' } }],
  };
  await t.segments.preview(segment, 100);
  await t.segments.save('tea-people', segment);
  await t.segments.list();
  await t.segments.pareto();
  await t.segments.rfm();
  await t.campaign.run({ name: 'spring', dryRun: true, publicUrl: 'https://tactful.example.com' });
  await t.campaign.run(
    { name: 'spring', dryRun: false, publicUrl: 'https://tactful.example.com' },
    { provider: mail.provider },
  );
  await t.campaign.stats();
  await t.audit.verify();
  for await (const _ of t.audit.export('jsonl')) {
    // drained: the export's queries are what is checked
  }
  await t.privacy.export(people[0]!);
  await t.privacy.erase(people[1]!, { reason: 'customer request', compact: false });
  await t.segments.members(segment);
  // The owner's customer pages: the list (search, filters, pages), an audited view, the emails, a test send.
  const admin = { type: 'admin' as const, id: 'dashboard' };
  const firstPage = await t.customers.list({
    limit: 1,
    consent: { email_marketing: 'granted', personalization: 'none' },
  });
  await t.customers.list({ email: people[0]!, segment: 'tea-people', rfmLabel: 'champions' });
  if (firstPage.next) await t.customers.list({ limit: 1, after: firstPage.next });
  const ada = (await t.audit.subjectIdOf(people[0]!))!;
  await t.customers.viewed(ada, admin);
  await t.customers.acted(ada, admin, 'preference link sent');
  await t.customers.emails(ada);
  await t.campaign
    .testSend({ subjectId: ada, publicUrl: 'https://tactful.example.com' }, { mailbox: async () => {}, actor: admin })
    .catch(() => undefined);
  await t.segments.delete('tea-people');
  await t.profiles.changeEmail(people[2]!, 'cyrus@example.com');
  await t.campaign.refreshReports(mail.provider);
  await t.privacy.dataRequests();
  await t.privacy.retention();
  clock.now = day(2000);
  await t.privacy.applyRetention(12);
  await t.privacy.register();
}
