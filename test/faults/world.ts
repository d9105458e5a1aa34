/**
 * The world a fault scenario runs in: a Shopify shop and a Mailchimp audience (the stateful sandboxes),
 * seeded from one PRNG, served over loopback HTTP with seeded fault plans, and a store folder that outlives
 * the app's process.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@tactful/core/testing/runtime';
import {
  createShopifyFaultPlan,
  createShopifySandbox,
  serveShopifySandbox,
  type SandboxHttpHost,
  type ShopifyFaultKind,
  type ShopifyFaultPlan,
  type ShopifySandbox,
} from '@tactful/shopify/testing';
import {
  createMailchimpFaultPlan,
  createMailchimpSandbox,
  serveMailchimpSandbox,
  type MailchimpFaultKind,
  type MailchimpFaultPlan,
  type MailchimpSandbox,
  type MailchimpSandboxHost,
} from '@tactful/mailchimp/testing';
import type { WorkerConfig } from './worker.js';

export const AUDIENCE = 'faultsaud01';
const WEBHOOK_SECRET = 'fault-suite-mailchimp-webhook-secret-0123456789';

export interface WorldOptions {
  seed: number;
  /** Fault rate of both sandboxes. */
  rate: number;
  shopifyKinds?: ShopifyFaultKind[];
  mailchimpKinds?: MailchimpFaultKind[];
  customers?: number;
  products?: number;
  orders?: number;
  /** Orders paid just now (the post-purchase flow's triggers; history orders are a year old): default 24. */
  recentOrders?: number;
  /** `memory`-free store: a PGlite folder in a temp dir (default), or this PostgreSQL URL. */
  databaseUrl?: string | undefined;
  /** Makes the shop's domain unique in a shared database. */
  shopSuffix?: string;
}

export interface SeenRequest {
  method: string;
  path: string;
  body: string;
  /** The status the sandbox answered. */
  status: number;
}

export interface World {
  readonly seed: number;
  readonly random: () => number;
  readonly shop: string;
  readonly shopify: ShopifySandbox;
  readonly mailchimp: MailchimpSandbox;
  readonly shopifyPlan: ShopifyFaultPlan;
  readonly mailchimpPlan: MailchimpFaultPlan;
  readonly shopifyHost: SandboxHttpHost;
  readonly mailchimpHost: MailchimpSandboxHost;
  readonly db: string;
  readonly secret: string;
  readonly dir: string;
  /** Called with every request a host is about to answer, after the sandbox handled it (e.g. to SIGKILL the app right then). */
  onMailchimpRequest: ((request: SeenRequest) => void) | null;
  onShopifyRequest: ((request: SeenRequest) => void) | null;
  /** When Mailchimp sent each campaign (ms), as the host saw the send action applied. */
  readonly campaignSentAt: Map<string, number>;
  /** Addresses the scenario moved in Shopify: old → new (the oracle follows a person from the one to the other). */
  readonly addressMoves: Map<string, string>;
  /** The Mailchimp Customer Journey step the post-purchase flow triggers (made in the sandbox's journey builder). */
  readonly journey: { journeyId: number; stepId: number };
  workerConfig(instance: string, extra?: Partial<WorkerConfig>): WorkerConfig;
  /** Points the audience's webhook at the app at `url`. */
  connectMailchimpWebhook(url: string): void;
  /** Delivers a Shopify webhook to the app at `url`, retrying a few times; one the app never took is queued for `redeliver`. */
  shopifyWebhook(url: string, topic: string, id: string): Promise<void>;
  /** Delivers, to the app now at `url`, the webhooks of both systems that a dead app never acknowledged (both vendors retry for hours). */
  redeliver(url: string): Promise<number>;
  pauseFaults(): void;
  resumeFaults(): void;
  faultsInjected(): number;
  faultCounts(): Record<string, number>;
  close(): Promise<void>;
}

export async function createWorld(options: WorldOptions): Promise<World> {
  const random = seededRandom(options.seed);
  const shop = `faults-${options.seed}${options.shopSuffix ? `-${options.shopSuffix}` : ''}.myshopify.com`;
  const shopify = createShopifySandbox({
    shop,
    bucket: { maximumAvailable: 100_000, restoreRate: 10_000 },
    bulkPollsToComplete: 2,
  });
  const mailchimp = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }], validateRequests: false });

  // The shop: products, customers with Shopify's email marketing consent, and an order history.
  const products = Array.from({ length: options.products ?? 25 }, (_, i) =>
    shopify.addProduct({ title: `Product ${i}`, productType: `type-${i % 5}`, price: `${5 + i}.00` }),
  );
  const customers = Array.from({ length: options.customers ?? 80 }, (_, i) => {
    const r = i % 10;
    const state = r < 6 ? 'SUBSCRIBED' : r === 6 ? 'UNSUBSCRIBED' : 'NOT_SUBSCRIBED';
    return shopify.addCustomer({
      email: `person${i}@faults.example`,
      firstName: `Person${i}`,
      createdAt: new Date(Date.UTC(2024, 0, 1 + i)),
      consent:
        state === 'NOT_SUBSCRIBED'
          ? { state }
          : { state, level: 'SINGLE_OPT_IN', at: new Date(Date.UTC(2024, 5, 1 + (i % 28))) },
    });
  });
  for (let i = 0; i < (options.orders ?? 300); i++) {
    const customer = customers[Math.floor(random() * customers.length)]!;
    const size = 1 + Math.floor(random() * 4);
    const picked = new Set<string>();
    while (picked.size < size) picked.add(products[Math.floor(random() * products.length)]!.id);
    const at = new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 300) * 86_400_000);
    shopify.addOrder({
      customerId: customer.id,
      createdAt: at,
      lines: [...picked].map((productId) => ({ productId, quantity: 1 + Math.floor(random() * 2) })),
    });
  }

  // A few orders paid just now: imported with the history, they trigger the post-purchase flow (history does not).
  for (let i = 0; i < (options.recentOrders ?? 24); i++) {
    const customer = customers[Math.floor(random() * customers.length)]!;
    const size = 1 + Math.floor(random() * 3);
    const picked = new Set<string>();
    while (picked.size < size) picked.add(products[Math.floor(random() * products.length)]!.id);
    shopify.addOrder({
      customerId: customer.id,
      createdAt: new Date(),
      lines: [...picked].map((productId) => ({ productId, quantity: 1 })),
    });
  }
  const journey = mailchimp.journeys.create('Post-purchase: goes well with your order');

  const shopifyPlan = createShopifyFaultPlan({
    seed: options.seed,
    rate: options.rate,
    ...(options.shopifyKinds ? { kinds: options.shopifyKinds } : {}),
    retryAfterSeconds: 1,
    holdMs: 1500,
  });
  const mailchimpPlan = createMailchimpFaultPlan({
    seed: options.seed + 1,
    rate: options.rate,
    ...(options.mailchimpKinds ? { kinds: options.mailchimpKinds } : {}),
    retryAfterSeconds: 1,
    holdMs: 1500,
  });
  shopify.setFaultPlan(shopifyPlan);
  mailchimp.faults.setPlan(mailchimpPlan);

  const undeliveredShopify: Array<{ topic: string; body: string; webhookId: string }> = [];
  const redeliveredMailchimp = new Set<object>();
  const world: World = {
    seed: options.seed,
    random,
    shop,
    shopify,
    mailchimp,
    shopifyPlan,
    mailchimpPlan,
    shopifyHost: undefined as unknown as SandboxHttpHost,
    mailchimpHost: undefined as unknown as MailchimpSandboxHost,
    db: '',
    secret: randomBytes(32).toString('hex'),
    dir: mkdtempSync(join(tmpdir(), 'tactful-faults-')),
    onMailchimpRequest: null,
    onShopifyRequest: null,
    campaignSentAt: new Map(),
    addressMoves: new Map(),
    journey,
    workerConfig(instance, extra = {}) {
      return {
        instance,
        db: world.db,
        secret: world.secret,
        shop,
        deliveryLog: join(world.dir, `deliveries-${instance}.jsonl`),
        importShop: true,
        leaseMs: 4000,
        shopify: {
          hostUrl: world.shopifyHost.url,
          accessToken: shopify.accessToken,
          apiSecret: shopify.apiSecret,
          timeoutMs: 1000,
        },
        mailchimp: {
          baseUrl: world.mailchimpHost.baseUrl,
          apiKey: mailchimp.apiKey,
          audienceId: AUDIENCE,
          webhookSecret: WEBHOOK_SECRET,
          timeoutMs: 1000,
        },
        campaign: null,
        // Half held out: with a couple of dozen triggers, both groups have people.
        flow: { ...journey, holdoutShare: 0.5 },
        ...extra,
      };
    },
    connectMailchimpWebhook(url) {
      const audience = mailchimp.state.audiences.get(AUDIENCE)!;
      const target = `${url}/mailchimp/webhooks/${WEBHOOK_SECRET}`;
      if (audience.webhooks.length === 0) mailchimp.addWebhook(target, { listId: AUDIENCE });
      else for (const hook of audience.webhooks) hook.url = target;
    },
    async shopifyWebhook(url, topic, id) {
      const body = shopify.webhookBody(topic, id);
      const webhookId = `${topic}:${id}:${shopify.webhooks.length}`;
      for (let attempt = 1; attempt <= 5; attempt++) {
        try {
          const delivered = await shopify.deliverWebhook(topic, body, `${url}/shopify/webhooks`, { webhookId });
          if (delivered.status === 200 || delivered.status === 0) return;
        } catch {
          // the app is down: retried below, then queued
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      undeliveredShopify.push({ topic, body, webhookId });
    },
    async redeliver(url) {
      let n = 0;
      // Held-back (reordered) deliveries released while the app was down are retried too.
      await shopify.flushWebhooks();
      for (const w of shopify.takeUndeliveredWebhooks()) undeliveredShopify.push(w);
      for (const w of undeliveredShopify.splice(0)) {
        const delivered = await shopify.deliverWebhook(w.topic, w.body, `${url}/shopify/webhooks`, {
          webhookId: w.webhookId,
        });
        if (delivered.status !== 200 && delivered.status !== 0)
          throw new Error(`the app answered ${delivered.status} to a redelivered ${w.topic}`);
        n += 1;
      }
      await mailchimp.flushWebhooks();
      const target = `${url}/mailchimp/webhooks/${WEBHOOK_SECRET}`;
      for (const d of mailchimp.state.deliveries) {
        if (d.status === 200 || redeliveredMailchimp.has(d)) continue;
        redeliveredMailchimp.add(d);
        const response = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'MailChimp' },
          body: d.body,
        });
        await response.arrayBuffer();
        if (response.status !== 200)
          throw new Error(`the app answered ${response.status} to a redelivered Mailchimp ${d.type}`);
        n += 1;
      }
      return n;
    },
    pauseFaults() {
      shopifyPlan.pause();
      mailchimpPlan.pause();
    },
    resumeFaults() {
      shopifyPlan.resume();
      mailchimpPlan.resume();
    },
    faultsInjected: () => shopifyPlan.total() + mailchimpPlan.total(),
    faultCounts() {
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(shopifyPlan.counts())) if (v > 0) out[`shopify.${k}`] = v;
      for (const [k, v] of Object.entries(mailchimpPlan.counts())) if (v > 0) out[`mailchimp.${k}`] = v;
      return out;
    },
    async close() {
      await world.shopifyHost.close();
      await world.mailchimpHost.close();
      rmSync(world.dir, { recursive: true, force: true });
    },
  };
  (world as { db: string }).db = options.databaseUrl ?? join(world.dir, 'db');
  (world as { shopifyHost: SandboxHttpHost }).shopifyHost = await serveShopifySandbox({
    fetch: async (input, init) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const body = request.method === 'POST' ? await request.clone().text() : '';
      const response = await shopify.fetch(request);
      world.onShopifyRequest?.({
        method: request.method,
        path: new URL(request.url).pathname,
        body,
        status: response.status,
      });
      return response;
    },
  });
  (world as { mailchimpHost: MailchimpSandboxHost }).mailchimpHost = await serveMailchimpSandbox({
    baseUrl: mailchimp.baseUrl,
    fetch: async (input, init) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const body = request.method === 'GET' ? '' : await request.clone().text();
      const response = await mailchimp.fetch(request);
      const path = new URL(request.url).pathname;
      const send = request.method === 'POST' ? /\/campaigns\/([^/]+)\/actions\/send$/.exec(path) : null;
      if (send && response.ok && !world.campaignSentAt.has(send[1]!)) world.campaignSentAt.set(send[1]!, Date.now());
      world.onMailchimpRequest?.({ method: request.method, path, body, status: response.status });
      return response;
    },
  });
  return world;
}
