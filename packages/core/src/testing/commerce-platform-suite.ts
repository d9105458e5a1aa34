/**
 * The published conformance suite for CommercePlatform adapters — ours and any agency's. It takes a
 * factory returning the adapter and an *oracle*: a door into the backing system (a sandbox or a live
 * development store) that seeds data and reads it back without going through the adapter. Tests run
 * according to the adapter's declared capabilities; `skip` names tests to leave out, with keys checked
 * by the compiler so a typo fails to build.
 *
 * The suite only looks at what it seeded (unique addresses per run), so it also runs against a store
 * that already holds data.
 */
import { describe, expect, it } from 'vitest';
import type { ConsentState, OptInLevel } from '../ports.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { CommercePlatform, CustomerRecord, OrderRecord, Page, PageRequest, ProductRecord } from '../ports.js';

export interface OracleConsent {
  state: ConsentState;
  level?: OptInLevel | undefined;
  occurredAt: Date;
}

/** Reads and writes the backing system directly, bypassing the adapter under test. */
export interface CommercePlatformOracle {
  seedCustomer(input: {
    email: string;
    firstName?: string;
    lastName?: string;
    consent?: OracleConsent;
  }): Promise<{ id: string }>;
  seedProduct(input: { title: string; price?: string }): Promise<{ id: string }>;
  seedOrder(input: {
    customerId?: string;
    email?: string;
    createdAt: Date;
    cancelledAt?: Date;
    lines: Array<{ productId: string; quantity: number }>;
  }): Promise<{ id: string }>;
  /** The email marketing consent the system holds for the address, in Tactful's words. */
  readConsent(email: string): Promise<{ state: ConsentState; occurredAt: Date | null } | null>;
  /** Whether the system still holds a customer with this address. */
  customerExists(email: string): Promise<boolean>;
  /** Makes the next `times` API calls fail: 429, a 5xx, or a 4xx validation error. */
  injectFault(kind: 'rate_limit' | 'server_error' | 'bad_request', times: number): Promise<void>;
  clearFaults(): Promise<void>;
}

export interface CommercePlatformHarness {
  platform: CommercePlatform;
  oracle: CommercePlatformOracle;
  cleanup?: () => Promise<void> | void;
}

export const commercePlatformTestNames = [
  'declaresCapabilities',
  'customersNormalised',
  'customerPaging',
  'customersUpdatedSince',
  'ordersNormalised',
  'orderPaging',
  'productsNormalised',
  'productPaging',
  'consentOriginalTime',
  'consentWriteOriginalTime',
  'consentWriteKeepsNewest',
  'consentSourceEventIdStable',
  'erasure',
  'retryableErrors',
  'validationErrorNotRetryable',
  'streamAllOrdersEqualsPaging',
] as const;

/** Address changes (`CustomerUpdate.newEmail`, with `capabilities.emailChange`), in their own list and block. */
export const commercePlatformAddressTestNames = ['emailChange', 'emailChangeTaken'] as const;

export type CommercePlatformTestName =
  | (typeof commercePlatformTestNames)[number]
  | (typeof commercePlatformAddressTestNames)[number];

export interface DescribeCommercePlatformOptions {
  name: string;
  create: () => Promise<CommercePlatformHarness>;
  skip?: Partial<Record<CommercePlatformTestName, true>>;
}

type Lister<T> = (request: PageRequest) => Promise<Page<T>>;

/** Pages through everything with a small page size; checks each page's contract on the way. */
async function pageAll<T extends { id: string }>(
  list: Lister<T>,
  limit: number,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list({ cursor, limit });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    for (const item of page.items) items.push(item);
    pages += 1;
    if (page.nextCursor !== undefined) expect(typeof page.nextCursor).toBe('string');
    cursor = page.nextCursor;
    if (pages > 100_000) throw new Error('paging never ends');
  } while (cursor);
  return { items, pages };
}

function expectNoDuplicates(ids: string[]): void {
  const seen = new Set<string>();
  const duplicates = ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
  expect(duplicates).toEqual([]);
}

const isDate = (value: unknown) => value instanceof Date && !Number.isNaN(value.getTime());

function expectNormalisedCustomer(c: CustomerRecord): void {
  expect(typeof c.id).toBe('string');
  expect(c.id.length).toBeGreaterThan(0);
  if (c.email !== null) expect(c.email).toBe(c.email.trim().toLowerCase());
  expect(isDate(c.updatedAt)).toBe(true);
  if (c.createdAt !== undefined) expect(isDate(c.createdAt)).toBe(true);
  if (c.emailConsent) {
    expect(c.emailConsent.email).toBe(c.emailConsent.email.trim().toLowerCase());
    expect(isDate(c.emailConsent.occurredAt)).toBe(true);
    expect(c.emailConsent.sourceEventId.length).toBeGreaterThan(0);
  }
}

function expectNormalisedOrder(o: OrderRecord): void {
  expect(typeof o.id).toBe('string');
  expect(isDate(o.createdAt)).toBe(true);
  expect(isDate(o.updatedAt)).toBe(true);
  if (o.cancelledAt) expect(isDate(o.cancelledAt)).toBe(true);
  if (o.email) expect(o.email).toBe(o.email.trim().toLowerCase());
  if (o.customerId !== null && o.customerId !== undefined) expect(typeof o.customerId).toBe('string');
  for (const line of o.lines) {
    expect(typeof line.productId).toBe('string');
    expect(Number.isInteger(line.quantity)).toBe(true);
    if (line.price !== undefined) expect(line.price).toMatch(/^-?\d+(\.\d+)?$/);
  }
}

function expectNormalisedProduct(p: ProductRecord): void {
  expect(typeof p.id).toBe('string');
  expect(typeof p.title).toBe('string');
  expect(typeof p.available).toBe('boolean');
  if (p.price !== undefined) expect(p.price).toMatch(/^\d+(\.\d+)?$/);
  if (p.updatedAt !== undefined) expect(isDate(p.updatedAt)).toBe(true);
}

/** Registers the conformance tests for one adapter. */
export function describeCommercePlatform(options: DescribeCommercePlatformOptions): void {
  const skip = options.skip ?? {};
  const run = Math.random().toString(36).slice(2, 8);
  let counter = 0;
  const email = (label: string) => `tactful-${run}-${++counter}-${label}@Example.com`;

  /** One fresh harness per test, cleaned up afterwards. */
  const test = (
    name: CommercePlatformTestName,
    title: string,
    body: (h: CommercePlatformHarness) => Promise<void>,
    when?: (p: CommercePlatform) => boolean,
  ) => {
    if (skip[name]) return;
    it(`${name} - ${title}`, async (ctx) => {
      const harness = await options.create();
      try {
        if (when && !when(harness.platform)) {
          ctx.skip(`not declared in capabilities`);
          return;
        }
        await body(harness);
      } finally {
        await harness.cleanup?.();
      }
    });
  };

  describe(`CommercePlatform conformance: ${options.name}`, () => {
    test('declaresCapabilities', 'every declared capability has its method', async ({ platform }) => {
      expect(typeof platform.system).toBe('string');
      expect(platform.system).toMatch(/^[a-z][a-z0-9_-]*$/);
      const { capabilities } = platform;
      if (capabilities.bulkOrders) expect(typeof platform.streamAllOrders).toBe('function');
      if (capabilities.consentWrite) expect(typeof platform.pushConsent).toBe('function');
      if (capabilities.erasure) expect(typeof platform.eraseCustomer).toBe('function');
      if (capabilities.customerUpdate || capabilities.emailChange)
        expect(typeof platform.updateCustomer).toBe('function');
    });

    test(
      'customersNormalised',
      'customers come back normalised: lower-cased email, string id, Dates',
      async ({ platform, oracle }) => {
        const address = email('Mixed.Case');
        const seeded = await oracle.seedCustomer({ email: address, firstName: 'Ada' });
        const { items } = await pageAll((r) => platform.listCustomers(r), 50);
        const found = items.find((c) => c.id === seeded.id);
        expect(found).toBeDefined();
        expect(found!.email).toBe(address.toLowerCase());
        for (const c of items) expectNormalisedCustomer(c);
      },
    );

    test(
      'customersUpdatedSince',
      'a customer changed since updatedSince is listed with it (an incremental sync never loses one)',
      async ({ platform, oracle }) => {
        const seeded = await oracle.seedCustomer({ email: email('since') });
        const all = (await pageAll((r) => platform.listCustomers(r), 50)).items;
        const found = all.find((c) => c.id === seeded.id);
        expect(found).toBeDefined();
        // A second before its last change: narrowing may leave out older customers, never this one.
        const since = new Date(found!.updatedAt.getTime() - 1000);
        const { items } = await pageAll((r) => platform.listCustomers({ ...r, updatedSince: since }), 50);
        expect(items.map((c) => c.id)).toContain(seeded.id);
        for (const c of items) expectNormalisedCustomer(c);
      },
    );

    test('customerPaging', 'customer pages have no gaps and no duplicates', async ({ platform, oracle }) => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await oracle.seedCustomer({ email: email(`page${i}`) })).id);
      const { items, pages } = await pageAll((r) => platform.listCustomers(r), 3);
      expect(pages).toBeGreaterThanOrEqual(3);
      expectNoDuplicates(items.map((c) => c.id));
      const listed = new Set(items.map((c) => c.id));
      expect(ids.filter((id) => !listed.has(id))).toEqual([]);
    });

    test(
      'ordersNormalised',
      'orders come back normalised, with their lines and cancellation',
      async ({ platform, oracle }) => {
        const product = await oracle.seedProduct({ title: `Tactful conformance ${run}`, price: '12.50' });
        const address = email('Buyer');
        const customer = await oracle.seedCustomer({ email: address });
        const createdAt = new Date('2025-03-01T10:00:00Z');
        const cancelledAt = new Date('2025-03-02T10:00:00Z');
        const order = await oracle.seedOrder({
          customerId: customer.id,
          email: address,
          createdAt,
          cancelledAt,
          lines: [{ productId: product.id, quantity: 2 }],
        });
        const { items } = await pageAll((r) => platform.listOrders(r), 10);
        const found = items.find((o) => o.id === order.id);
        expect(found).toBeDefined();
        expect(found!.createdAt.getTime()).toBe(createdAt.getTime());
        expect(found!.cancelledAt?.getTime()).toBe(cancelledAt.getTime());
        expect(found!.customerId).toBe(customer.id);
        expect(found!.email).toBe(address.toLowerCase());
        expect(found!.lines).toEqual([expect.objectContaining({ productId: product.id, quantity: 2 })]);
        for (const o of items) expectNormalisedOrder(o);
      },
    );

    test('orderPaging', 'order pages have no gaps and no duplicates', async ({ platform, oracle }) => {
      const product = await oracle.seedProduct({ title: `Paging ${run}` });
      const ids: string[] = [];
      for (let i = 0; i < 7; i++)
        ids.push(
          (
            await oracle.seedOrder({
              createdAt: new Date(Date.UTC(2025, 1, 1 + i)),
              email: email(`order${i}`),
              lines: [{ productId: product.id, quantity: 1 }],
            })
          ).id,
        );
      const { items, pages } = await pageAll((r) => platform.listOrders(r), 3);
      expect(pages).toBeGreaterThanOrEqual(3);
      expectNoDuplicates(items.map((o) => o.id));
      const listed = new Set(items.map((o) => o.id));
      expect(ids.filter((id) => !listed.has(id))).toEqual([]);
    });

    test('productsNormalised', 'products come back normalised', async ({ platform, oracle }) => {
      const product = await oracle.seedProduct({ title: `Normalised ${run}`, price: '3.00' });
      const { items } = await pageAll((r) => platform.listProducts(r), 50);
      const found = items.find((p) => p.id === product.id);
      expect(found).toMatchObject({ title: `Normalised ${run}` });
      for (const p of items) expectNormalisedProduct(p);
    });

    test('productPaging', 'product pages have no gaps and no duplicates', async ({ platform, oracle }) => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await oracle.seedProduct({ title: `Paged ${run} ${i}` })).id);
      const { items, pages } = await pageAll((r) => platform.listProducts(r), 3);
      expect(pages).toBeGreaterThanOrEqual(3);
      expectNoDuplicates(items.map((p) => p.id));
      const listed = new Set(items.map((p) => p.id));
      expect(ids.filter((id) => !listed.has(id))).toEqual([]);
    });

    test(
      'consentOriginalTime',
      'consent carries the time it was given, not the time it was read',
      async ({ platform, oracle }) => {
        const address = email('Consent');
        const occurredAt = new Date('2024-11-05T08:09:10Z');
        const customer = await oracle.seedCustomer({
          email: address,
          consent: { state: 'granted', level: 'single', occurredAt },
        });
        const { items } = await pageAll((r) => platform.listCustomers(r), 50);
        const found = items.find((c) => c.id === customer.id);
        expect(found?.emailConsent).toMatchObject({ email: address.toLowerCase(), state: 'granted' });
        expect(found!.emailConsent!.occurredAt.getTime()).toBe(occurredAt.getTime());
      },
    );

    test(
      'consentSourceEventIdStable',
      'an unchanged consent keeps its sourceEventId across reads (a re-read is a duplicate); a written change is read back as written, under a new id',
      async ({ platform, oracle }) => {
        const address = email('Stable');
        const customer = await oracle.seedCustomer({
          email: address,
          consent: { state: 'granted', level: 'single', occurredAt: new Date('2024-02-03T04:05:06Z') },
        });
        const read = async () =>
          (await pageAll((r) => platform.listCustomers(r), 50)).items.find((c) => c.id === customer.id)?.emailConsent;
        const first = await read();
        const second = await read();
        expect(first?.sourceEventId).toBeDefined();
        expect(second?.sourceEventId).toBe(first?.sourceEventId);
        if (!platform.capabilities.consentWrite) return;
        // Tactful recognises its own change reported back (an echo) by state: the read-back must say exactly what was written.
        const occurredAt = new Date('2024-07-08T09:10:11Z');
        await platform.pushConsent!([
          {
            email: address,
            purpose: 'email_marketing',
            state: 'withdrawn',
            level: 'unknown',
            occurredAt,
            firstParty: false,
          },
        ]);
        const after = await read();
        expect(after).toMatchObject({ email: address.toLowerCase(), state: 'withdrawn' });
        expect(after!.occurredAt.getTime()).toBe(occurredAt.getTime());
        expect(after!.sourceEventId).not.toBe(first?.sourceEventId);
      },
    );

    test(
      'consentWriteOriginalTime',
      'a consent push is stored with its original event time',
      async ({ platform, oracle }) => {
        const address = email('Push');
        await oracle.seedCustomer({
          email: address,
          consent: { state: 'granted', level: 'single', occurredAt: new Date('2024-01-01T00:00:00Z') },
        });
        const occurredAt = new Date('2024-06-01T12:34:56Z');
        const results = await platform.pushConsent!([
          {
            email: address,
            purpose: 'email_marketing',
            state: 'withdrawn',
            level: 'unknown',
            occurredAt,
            firstParty: false,
          },
        ]);
        expect(results).toEqual([{ email: address.toLowerCase(), ok: true }]);
        const held = await oracle.readConsent(address);
        expect(held?.state).toBe('withdrawn');
        expect(held?.occurredAt?.getTime()).toBe(occurredAt.getTime());
      },
      (p) => p.capabilities.consentWrite,
    );

    test(
      'consentWriteKeepsNewest',
      'an older consent push does not overwrite a newer state',
      async ({ platform, oracle }) => {
        const address = email('Newest');
        const newest = new Date('2024-09-01T00:00:00Z');
        await oracle.seedCustomer({ email: address, consent: { state: 'withdrawn', occurredAt: newest } });
        await platform.pushConsent!([
          {
            email: address,
            purpose: 'email_marketing',
            state: 'granted',
            level: 'single',
            occurredAt: new Date('2024-08-01T00:00:00Z'),
            firstParty: false,
          },
        ]);
        const held = await oracle.readConsent(address);
        expect(held?.state).toBe('withdrawn');
        expect(held?.occurredAt?.getTime()).toBe(newest.getTime());
      },
      (p) => p.capabilities.consentWrite,
    );

    test(
      'erasure',
      'an erased customer is gone, and erasing again is not an error',
      async ({ platform, oracle }) => {
        const address = email('Erase');
        await oracle.seedCustomer({ email: address });
        expect(await oracle.customerExists(address)).toBe(true);
        await platform.eraseCustomer!({ email: address });
        expect(await oracle.customerExists(address)).toBe(false);
        await expect(platform.eraseCustomer!({ email: address })).resolves.toBeUndefined();
      },
      (p) => p.capabilities.erasure,
    );

    test(
      'retryableErrors',
      'a persistent 429 or 5xx surfaces as a retryable TactfulError',
      async ({ platform, oracle }) => {
        for (const kind of ['rate_limit', 'server_error'] as const) {
          await oracle.injectFault(kind, 1000);
          const error = await platform.listCustomers({ limit: 1 }).then(
            () => undefined,
            (e: unknown) => e,
          );
          await oracle.clearFaults();
          expect(isTactfulError(error)).toBe(true);
          expect(
            (error as { code: string }).code,
            'the error must come from the injected fault, not from a method not written yet',
          ).not.toBe('ADAPTER.NOT_IMPLEMENTED');
          expect((error as { retryable: boolean }).retryable).toBe(true);
        }
      },
    );

    test(
      'validationErrorNotRetryable',
      'a 4xx validation error is a TactfulError that is not retryable',
      async ({ platform, oracle }) => {
        await oracle.injectFault('bad_request', 1);
        const error = await platform.listCustomers({ limit: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        await oracle.clearFaults();
        expect(isTactfulError(error)).toBe(true);
        expect(
          (error as { code: string }).code,
          'the error must come from the injected 4xx, not from a method not written yet',
        ).not.toBe('ADAPTER.NOT_IMPLEMENTED');
        expect((error as { retryable: boolean }).retryable).toBe(false);
      },
    );

    test(
      'streamAllOrdersEqualsPaging',
      'streamAllOrders yields exactly what listOrders pages through',
      async ({ platform, oracle }) => {
        const product = await oracle.seedProduct({ title: `Stream ${run}` });
        for (let i = 0; i < 5; i++)
          await oracle.seedOrder({
            createdAt: new Date(Date.UTC(2025, 2, 1 + i)),
            email: email(`stream${i}`),
            lines: [{ productId: product.id, quantity: i + 1 }],
          });
        const streamed: OrderRecord[] = [];
        for await (const order of platform.streamAllOrders!()) streamed.push(order);
        const { items: paged } = await pageAll((r) => platform.listOrders(r), 10);
        expectNoDuplicates(streamed.map((o) => o.id));
        const byId = (list: OrderRecord[]) => new Map(list.map((o) => [o.id, o]));
        expect(byId(streamed)).toEqual(byId(paged));
      },
      (p) => p.capabilities.bulkOrders,
    );
  });

  describe(`CommercePlatform conformance: ${options.name} (address changes)`, () => {
    test(
      'emailChange',
      'an address change moves the customer to the new address, its consent untouched',
      async ({ platform, oracle }) => {
        const from = email('Move');
        const to = email('Moved');
        const at = new Date('2025-03-01T10:00:00Z');
        await oracle.seedCustomer({ email: from, consent: { state: 'withdrawn', occurredAt: at } });
        await platform.updateCustomer!({ email: from, newEmail: to });
        expect(await oracle.customerExists(from)).toBe(false);
        expect(await oracle.customerExists(to)).toBe(true);
        expect((await oracle.readConsent(to))?.state).toBe('withdrawn');
      },
      (p) => p.capabilities.emailChange === true,
    );

    test(
      'emailChangeTaken',
      "an address change onto another customer's address is refused, not retryable, nothing changed",
      async ({ platform, oracle }) => {
        const from = email('MoveTaken');
        const to = email('Taken');
        await oracle.seedCustomer({ email: from });
        await oracle.seedCustomer({ email: to });
        const error = await platform.updateCustomer!({ email: from, newEmail: to }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(isTactfulError(error)).toBe(true);
        expect((error as { retryable: boolean }).retryable).toBe(false);
        expect(await oracle.customerExists(from)).toBe(true);
      },
      (p) => p.capabilities.emailChange === true,
    );
  });
}
