/**
 * The oracle of the fault suite: with the app stopped, it reads all three sides — Tactful's store, the
 * Shopify sandbox, the Mailchimp sandbox — and lists every way they disagree. Each entry is a violation;
 * a passing run has none.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  createTactful,
  foldConsent,
  isTactfulError,
  openStore,
  type ConsentMethod,
  type HistoryEntry,
} from '@tactful/core';
import { flowViolations } from './flow-oracle.js';
import { AUDIENCE, type World } from './world.js';
import { rawStore } from '@tactful/core/testing/runtime';
import { subscriberHash } from '@tactful/mailchimp';

export interface OracleReport {
  violations: string[];
  /** Outbox rows delivered (changes that reached another system). */
  delivered: number;
  /** Consent states compared across the three systems. */
  people: number;
  orders: number;
  campaignSends: number;
  /** Flow emails Mailchimp sent (journey steps' and flow waves'), checked by flow-oracle.ts. */
  flowEmails: number;
  /** The shop's flow steps per status. */
  flowSteps: Record<string, number>;
  /** Rows stored under shops that never installed the app (unknown-shop webhooks), by table. */
  foreignShopRows: Record<string, number>;
}

export interface OracleOptions {
  /** Delivery logs of the instances: no outbox row may be delivered twice (only without kills). */
  exactlyOnceLogs?: string[];
  /** Campaign keys whose sends must reach nobody twice and nobody without consent. */
  campaigns?: boolean;
}

const expectedShopify: Record<string, string[]> = {
  granted: ['SUBSCRIBED'],
  withdrawn: ['UNSUBSCRIBED'],
  none: ['NOT_SUBSCRIBED'],
};
const expectedMailchimp: Record<string, string[]> = {
  granted: ['subscribed'],
  withdrawn: ['unsubscribed', 'absent'],
  none: ['absent', 'unsubscribed'],
};

export async function runOracle(world: World, options: OracleOptions = {}): Promise<OracleReport> {
  const violations: string[] = [];
  const store = await openStore({ url: world.db, secret: world.secret });
  try {
    const tactful = await createTactful({ store, shop: world.shop });
    const shopId = tactful.shopId;
    const audience = world.mailchimp.state.audiences.get(AUDIENCE)!;

    // 1. Consent: the same state in all three systems; nobody withdrawn is subscribed anywhere.
    let people = 0;
    const tactfulState = new Map<string, { marketing: string; personalization: string }>();
    for (const customer of world.shopify.state.customers.byId.values()) {
      if (!customer.email) continue;
      const email = customer.email.toLowerCase();
      let marketing = 'none';
      let personalization = 'none';
      try {
        const view = await tactful.consent.show(email);
        marketing = view.purposes.find((p) => p.purpose === 'email_marketing')?.state ?? 'none';
        personalization = view.purposes.find((p) => p.purpose === 'personalization')?.state ?? 'none';
      } catch (error) {
        if (!isTactfulError(error, 'SUBJECT.NOT_FOUND')) throw error;
      }
      tactfulState.set(email, { marketing, personalization });
      people += 1;
      const shopifyState = customer.consent.marketingState;
      const member = world.mailchimp.member(email, AUDIENCE);
      const mailchimpState = member?.status ?? 'absent';
      if (marketing === 'pending') continue;
      if (!expectedShopify[marketing]?.includes(shopifyState))
        violations.push(`consent did not converge: ${email} is ${marketing} in Tactful but ${shopifyState} in Shopify`);
      if (!expectedMailchimp[marketing]?.includes(mailchimpState))
        violations.push(
          `consent did not converge: ${email} is ${marketing} in Tactful but ${mailchimpState} in Mailchimp`,
        );
      if (marketing === 'withdrawn' && (shopifyState === 'SUBSCRIBED' || mailchimpState === 'subscribed')) {
        violations.push(`withdrawn but subscribed: ${email} (Shopify ${shopifyState}, Mailchimp ${mailchimpState})`);
      }
    }
    for (const member of audience.members.values()) {
      if (
        member.status === 'subscribed' &&
        tactfulState.get(member.email_address.toLowerCase())?.marketing !== 'granted'
      ) {
        violations.push(`subscribed in Mailchimp without consent in Tactful: ${member.email_address}`);
      }
    }

    // 1b. No withdrawal undone except by a fresh first-party opt-in, whatever order the systems reported in.
    for (const [email, state] of tactfulState) {
      if (state.marketing !== 'granted' && state.personalization !== 'granted') continue;
      const events = (await tactful.consent.history(email)).events.filter((e) => !e.echo);
      for (const purpose of ['email_marketing', 'personalization'] as const) {
        if ((purpose === 'email_marketing' ? state.marketing : state.personalization) !== 'granted') continue;
        const mine = events.filter((e) => e.purpose === purpose);
        const lastWithdrawal = Math.max(
          ...mine.filter((e) => e.state === 'withdrawn').map((e) => e.occurredAt.getTime()),
          Number.NEGATIVE_INFINITY,
        );
        if (lastWithdrawal === Number.NEGATIVE_INFINITY) continue;
        const fresh = mine.some(
          (e) =>
            e.state === 'granted' &&
            (e.source.method === 'form' || e.source.method === 'double_opt_in_confirmation') &&
            e.occurredAt.getTime() >= lastWithdrawal,
        );
        if (!fresh) violations.push(`withdrawal undone: ${email} is granted ${purpose} again without a fresh opt-in`);
      }
    }

    // 2. The outbox: every consent change delivered, none left behind or refused.
    const outbox = await rawStore(store).query<{ kind: string; target: string; status: string; n: number }>(
      'select kind, target, status, count(*)::int as n from outbox where shop_id = $1 group by kind, target, status',
      [shopId],
    );
    let delivered = 0;
    for (const row of outbox) {
      if (row.status === 'done') delivered += row.n;
      else if (row.kind === 'consent.push' || row.kind === 'subject.erase' || row.kind === 'subject.email_change')
        violations.push(`outbox: ${row.n} ${row.kind} row(s) for ${row.target} are ${row.status}`);
    }
    const [inbox] = await rawStore(store).query<{ n: number }>(
      'select count(*)::int as n from inbox where shop_id = $1 and processed_at is null',
      [shopId],
    );
    if ((inbox?.n ?? 0) > 0)
      violations.push(`inbox: ${inbox!.n} webhook deliveries for this shop were never processed`);

    // 3. Orders: every Shopify order once, counted unless cancelled; the model equals a rebuild from the orders.
    const stored = new Map(
      (
        await rawStore(store).query<{ order_id: string; counted: boolean }>(
          'select order_id, counted from orders where shop_id = $1',
          [shopId],
        )
      ).map((r) => [r.order_id, r.counted]),
    );
    let orders = 0;
    for (const order of world.shopify.state.orders.byId.values()) {
      orders += 1;
      const counted = stored.get(order.id);
      if (counted === undefined) violations.push(`order lost: Shopify order ${order.id} is not in the store`);
      else if (counted !== (order.cancelledAt === null))
        violations.push(
          `order ${order.id} is ${counted ? '' : 'not '}counted in the model but ${order.cancelledAt ? 'cancelled' : 'live'} in Shopify`,
        );
    }
    if (stored.size !== orders) violations.push(`the store holds ${stored.size} orders, Shopify ${orders}`);
    const lines = await rawStore(store).query<{ order_id: string; product_id: string }>(
      'select distinct l.order_id, l.product_id from order_lines l join orders o on o.shop_id = l.shop_id and o.order_id = l.order_id where o.shop_id = $1 and o.counted and l.quantity > 0',
      [shopId],
    );
    const baskets = new Map<string, string[]>();
    for (const line of lines) baskets.set(line.order_id, [...(baskets.get(line.order_id) ?? []), line.product_id]);
    const productCounts = new Map<string, number>();
    const pairCounts = new Map<string, number>();
    for (const items of baskets.values()) {
      const sorted = [...new Set(items)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (let i = 0; i < sorted.length; i++) {
        productCounts.set(sorted[i]!, (productCounts.get(sorted[i]!) ?? 0) + 1);
        for (let j = i + 1; j < sorted.length; j++)
          pairCounts.set(`${sorted[i]}|${sorted[j]}`, (pairCounts.get(`${sorted[i]}|${sorted[j]}`) ?? 0) + 1);
      }
    }
    const [modelState] = await rawStore(store).query<{ basket_count: number }>(
      'select basket_count::int as basket_count from model_state where shop_id = $1',
      [shopId],
    );
    if ((modelState?.basket_count ?? 0) !== baskets.size)
      violations.push(
        `model: ${modelState?.basket_count ?? 0} baskets counted, a rebuild from the orders counts ${baskets.size}`,
      );
    const persistedPairs = await rawStore(store).query<{ a: string; b: string; n: number }>(
      'select product_a as a, product_b as b, count::int as n from model_pairs where shop_id = $1',
      [shopId],
    );
    const seenPairs = new Set<string>();
    let pairMismatches = 0;
    for (const p of persistedPairs) {
      const key = p.a < p.b ? `${p.a}|${p.b}` : `${p.b}|${p.a}`;
      seenPairs.add(key);
      if ((pairCounts.get(key) ?? 0) !== p.n) pairMismatches += 1;
    }
    for (const key of pairCounts.keys()) if (!seenPairs.has(key)) pairMismatches += 1;
    if (pairMismatches > 0)
      violations.push(`model: ${pairMismatches} product pairs differ from a rebuild (an order counted twice or lost)`);
    const persistedProducts = await rawStore(store).query<{ id: string; n: number }>(
      'select product_id as id, count::int as n from model_products where shop_id = $1',
      [shopId],
    );
    const productMismatches =
      persistedProducts.filter((p) => (productCounts.get(p.id) ?? 0) !== p.n).length +
      [...productCounts.keys()].filter((id) => !persistedProducts.some((p) => p.id === id)).length;
    if (productMismatches > 0) violations.push(`model: ${productMismatches} product counts differ from a rebuild`);

    // 4. Campaign sends: nobody twice, nobody without consent to both purposes as Tactful knew them when Mailchimp sent.
    let campaignSends = 0;
    if (options.campaigns) {
      const received = new Map<string, number>();
      const knownAt = (history: HistoryEntry[], purpose: string, at: number) =>
        foldConsent(
          history
            .filter((h) => h.purpose === purpose && h.recordedAt.getTime() <= at)
            .map((h) => ({
              id: h.eventId,
              state: h.state,
              level: h.level,
              occurredAt: h.occurredAt,
              echo: h.echo,
              source: { ...h.source, method: h.source.method as ConsentMethod },
            })),
        ).state;
      // The address each recipient had when the campaign went out (a member moved since is under a new hash),
      // followed through the scenario's moves to the address Tactful knows the person by now.
      const sentAddress = new Map<string, string>();
      for (const sent of world.mailchimp.emails())
        if (sent.via.kind === 'campaign') sentAddress.set(`${sent.via.campaignId} ${subscriberHash(sent.to)}`, sent.to);
      const current = (address: string | undefined) => {
        let at = address?.toLowerCase();
        for (let hops = 0; at !== undefined && world.addressMoves.has(at) && hops < 100; hops++)
          at = world.addressMoves.get(at);
        return at;
      };
      for (const campaign of world.mailchimp.state.campaigns.values()) {
        if (campaign.status !== 'sent' && campaign.status !== 'sending') continue;
        // A flow's daily wave (titled with its key, `tactful:flow-…`) is a flow email: section 7 checks those.
        if (campaign.settings.title?.startsWith('tactful:flow-')) continue;
        const sentAt = world.campaignSentAt.get(campaign.id) ?? Date.now();
        for (const hash of campaign.sentTo) {
          campaignSends += 1;
          received.set(hash, (received.get(hash) ?? 0) + 1);
          const email = current(sentAddress.get(`${campaign.id} ${hash}`) ?? audience.members.get(hash)?.email_address);
          let history: HistoryEntry[] = [];
          try {
            history = email ? (await tactful.consent.history(email)).events : [];
          } catch (error) {
            if (!isTactfulError(error, 'SUBJECT.NOT_FOUND')) throw error;
          }
          const marketing = knownAt(history, 'email_marketing', sentAt);
          const personalization = knownAt(history, 'personalization', sentAt);
          if (marketing !== 'granted' || personalization !== 'granted') {
            violations.push(
              `campaign: ${email ?? hash} received ${campaign.id} without consent (when sent: email_marketing ${marketing}, personalization ${personalization})`,
            );
          }
        }
      }
      for (const [hash, n] of received) {
        if (n > 1)
          violations.push(`campaign: ${audience.members.get(hash)?.email_address ?? hash} received it ${n} times`);
      }
    }

    // 5. Both hash chains verify.
    const chains = await tactful.audit.verify();
    if (!chains.ledger.ok)
      violations.push(`the consent ledger does not verify: ${JSON.stringify(chains.ledger.firstBreak)}`);
    if (!chains.audit.ok) violations.push(`the audit log does not verify: ${JSON.stringify(chains.audit.firstBreak)}`);

    // 6. Two instances never deliver one outbox row twice.
    if (options.exactlyOnceLogs) {
      const done = new Map<string, string[]>();
      for (const file of options.exactlyOnceLogs) {
        if (!existsSync(file)) continue;
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          if (!line) continue;
          const entry = JSON.parse(line) as { i: string; s: string; id: number; t: string; ok: boolean };
          if (!entry.ok) continue;
          const key = `${entry.s}/${entry.t}/${entry.id}`;
          done.set(key, [...(done.get(key) ?? []), entry.i]);
        }
      }
      for (const [key, by] of done)
        if (by.length > 1) violations.push(`outbox row ${key} was delivered ${by.length} times (by ${by.join(', ')})`);
    }

    // 7. Flow emails: both consents when sent, nobody twice for one order, nobody in the holdout.
    const flows = await flowViolations({
      tactful,
      store,
      mailchimp: world.mailchimp,
      addressMoves: world.addressMoves,
    });
    for (const violation of flows.violations) violations.push(violation);

    // What unknown-shop webhooks left behind (reported, not a violation of this shop's data).
    const foreignShopRows: Record<string, number> = {};
    for (const table of ['inbox', 'subjects', 'orders', 'consent_events']) {
      try {
        const [row] = await rawStore(store).query<{ n: number }>(
          `select count(*)::int as n from ${table} where shop_id like 'unknown-%' and shop_id <> $1`,
          [shopId],
        );
        if ((row?.n ?? 0) > 0) foreignShopRows[table] = row!.n;
      } catch {
        // a table this version does not have
      }
    }
    return {
      violations,
      delivered,
      people,
      orders,
      campaignSends,
      flowEmails: flows.flowEmails,
      flowSteps: flows.flowSteps,
      foreignShopRows,
    };
  } finally {
    await store.close();
  }
}
