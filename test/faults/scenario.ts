/**
 * What happens to the world while the app runs: people change their minds in Shopify and in Mailchimp, new
 * orders come in and some are cancelled — each change reaching the app as the vendors' webhooks would, with
 * the sandboxes' fault plans duplicating, reordering and misaddressing some of them.
 */
import type { Child } from './child.js';
import { AUDIENCE, type World } from './world.js';

/** Waits until the app reports idle after `from` (nothing pending in its inbox or outbox). */
export async function settle(world: World, child: Child, what: string, timeoutMs = 60_000): Promise<void> {
  await world.shopify.flushWebhooks();
  await world.mailchimp.flushWebhooks();
  const from = child.events.length;
  await child.waitFor((e) => e.ev === 'idle' && e.importDone === true, { from, timeoutMs, what });
}

function pick<T>(world: World, items: T[], n: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(world.random() * pool.length), 1)[0]!);
  return out;
}

export interface ChangeCounts {
  mailchimpUnsubscribes: number;
  shopifyWithdrawals: number;
  shopifyGrants: number;
  newOrders: number;
  cancelledOrders: number;
  movedAddresses: number;
}

/** Makes a round of seeded changes in both systems and delivers their webhooks to the app at `url` (Mailchimp's to `mailchimpUrl`). */
export async function makeChanges(world: World, url: string, mailchimpUrl = url): Promise<ChangeCounts> {
  world.connectMailchimpWebhook(mailchimpUrl);
  const customers = [...world.shopify.state.customers.byId.values()].filter((c) => c.email);
  const subscribedInMailchimp = customers.filter(
    (c) => world.mailchimp.member(c.email!, AUDIENCE)?.status === 'subscribed',
  );
  const counts: ChangeCounts = {
    mailchimpUnsubscribes: 0,
    shopifyWithdrawals: 0,
    shopifyGrants: 0,
    newOrders: 0,
    cancelledOrders: 0,
    movedAddresses: 0,
  };

  // Some subscribers unsubscribe in Mailchimp (a footer link): Mailchimp's webhook tells the app.
  const leaving = pick(world, subscribedInMailchimp, 5);
  for (const c of leaving) {
    world.mailchimp.actions.unsubscribe(c.email!, { listId: AUDIENCE });
    counts.mailchimpUnsubscribes += 1;
  }
  // Others withdraw in Shopify (their account page), and a few never asked before subscribe at checkout.
  const stillSubscribed = customers.filter((c) => c.consent.marketingState === 'SUBSCRIBED' && !leaving.includes(c));
  for (const c of pick(world, stillSubscribed, 4)) {
    await world.shopify.setConsent(c.email!, { state: 'UNSUBSCRIBED', at: new Date() });
    await world.shopifyWebhook(url, 'customers_email_marketing_consent/update', c.id);
    counts.shopifyWithdrawals += 1;
  }
  const never = customers.filter((c) => c.consent.marketingState === 'NOT_SUBSCRIBED');
  for (const c of pick(world, never, 3)) {
    await world.shopify.setConsent(c.email!, { state: 'SUBSCRIBED', level: 'SINGLE_OPT_IN', at: new Date() });
    await world.shopifyWebhook(url, 'customers_email_marketing_consent/update', c.id);
    counts.shopifyGrants += 1;
  }
  // A couple of customers get a new address in Shopify (customers/update): Tactful follows, and the Mailchimp
  // member must move with them (the oracle finds each person at their Shopify address in all three systems).
  for (const c of pick(world, customers, 2)) {
    const [local, domain] = c.email!.split('@');
    const moved = `${local}.moved${counts.movedAddresses}@${domain}`;
    world.addressMoves.set(c.email!.toLowerCase(), moved.toLowerCase());
    world.shopify.addCustomer({
      id: c.id,
      email: moved,
      firstName: c.firstName,
      lastName: c.lastName,
      createdAt: c.createdAt,
      updatedAt: new Date(),
      consent: {
        state: c.consent.marketingState,
        level: c.consent.marketingOptInLevel,
        at: c.consent.consentUpdatedAt,
      },
    });
    await world.shopifyWebhook(url, 'customers/update', c.id);
    counts.movedAddresses += 1;
  }
  // New orders, and a few cancellations.
  const products = [...world.shopify.state.products.byId.values()];
  for (let i = 0; i < 8; i++) {
    const customer = customers[Math.floor(world.random() * customers.length)]!;
    const lines = pick(world, products, 1 + Math.floor(world.random() * 3)).map((p) => ({
      productId: p.id,
      quantity: 1,
    }));
    const order = world.shopify.addOrder({ customerId: customer.id, createdAt: new Date(), lines });
    await world.shopifyWebhook(url, 'orders/create', order.id);
    counts.newOrders += 1;
  }
  const live = [...world.shopify.state.orders.byId.values()].filter((o) => o.cancelledAt === null);
  for (const order of pick(world, live, 2)) {
    await world.shopify.cancelOrder(order.id, new Date());
    await world.shopifyWebhook(url, 'orders/cancelled', order.id);
    counts.cancelledOrders += 1;
  }
  return counts;
}
