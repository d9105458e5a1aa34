import { isTactfulError, type CommercePlatform, type ConsentPush, type PushResult } from '@tactful/core';
import { createWooClient, type WooClient } from './client.js';
import { parseWooCommerceOptions, type WooCommerceOptions } from './options.js';
import { pageCollection } from './paging.js';
import {
  parseRow,
  readNewsletter,
  tactfulToNewsletterState,
  toCustomerRecord,
  toOrderRecord,
  toProductRecord,
  wooCustomer,
  wooOrder,
  wooProduct,
  type NewsletterMeta,
  type WooCustomer,
} from './records.js';

/** WooCommerce as a Tactful CommercePlatform. Options are checked here; every problem is reported at once. */
export function createWooCommercePlatform(input: WooCommerceOptions): CommercePlatform {
  const options = parseWooCommerceOptions(input);
  const client: WooClient = createWooClient(options);
  const ctx = { metaKey: options.consentMetaKey, purpose: options.purpose };

  async function findCustomer(ref: { email: string; externalId?: string | undefined }): Promise<WooCustomer | null> {
    if (ref.externalId !== undefined && /^\d+$/.test(ref.externalId)) {
      try {
        const { data } = await client.request('GET', `/customers/${ref.externalId}`);
        return parseRow(wooCustomer, data, 'customer');
      } catch (error) {
        if (!isTactfulError(error, 'WOOCOMMERCE.NOT_FOUND')) throw error;
      }
    }
    const email = ref.email.trim().toLowerCase();
    const { data } = await client.request<unknown[]>('GET', '/customers', {
      query: { email, role: 'all', per_page: 2 },
    });
    const rows = (Array.isArray(data) ? data : []).map((row) => parseRow(wooCustomer, row, 'customer'));
    return rows.find((c) => c.email.trim().toLowerCase() === email) ?? null;
  }

  /** True when the held state must stay: it is newer, or as new and a withdrawal (a withdrawal wins a tie). */
  function heldWins(held: NewsletterMeta, change: ConsentPush): boolean {
    const heldAt = Date.parse(held.updated_at);
    const at = change.occurredAt.getTime();
    if (heldAt !== at) return heldAt > at;
    return held.state === 'unsubscribed' && change.state !== 'withdrawn';
  }

  async function pushOne(change: ConsentPush): Promise<PushResult> {
    const email = change.email.trim().toLowerCase();
    const fail = (code: string, message: string, retryable = false): PushResult => ({
      email,
      ok: false,
      code,
      message,
      retryable,
    });
    if (change.purpose !== options.purpose)
      return fail(
        'WOOCOMMERCE.UNKNOWN_PURPOSE',
        `WooCommerce holds only "${options.purpose}" consent; "${change.purpose}" is not written back.`,
      );
    if (change.state === 'none')
      return fail(
        'WOOCOMMERCE.UNSUPPORTED_STATE',
        'WooCommerce cannot hold "no consent recorded"; only granted, pending and withdrawn are written back.',
      );
    try {
      const customer = await findCustomer(change);
      if (!customer)
        return fail(
          'WOOCOMMERCE.CUSTOMER_NOT_FOUND',
          `WooCommerce has no customer account for ${email}; a guest's consent stays in Tactful.`,
        );
      const held = readNewsletter(customer, options.consentMetaKey);
      if (held && heldWins(held, change)) return { email, ok: true };
      const value: NewsletterMeta = {
        state: tactfulToNewsletterState[change.state],
        level: change.level,
        updated_at: change.occurredAt.toISOString(),
      };
      const existing = customer.meta_data.find((m) => m.key === options.consentMetaKey);
      await client.request('PUT', `/customers/${customer.id}`, {
        body: {
          meta_data: [
            { ...(existing?.id !== undefined ? { id: existing.id } : {}), key: options.consentMetaKey, value },
          ],
        },
      });
      return { email, ok: true };
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      return fail(error.code, error.message, error.retryable);
    }
  }

  return {
    system: 'woocommerce',
    capabilities: { bulkOrders: false, consentWrite: true, erasure: true, webhooks: true },

    async listCustomers(request) {
      const page = await pageCollection(
        client,
        '/customers',
        request,
        options.pageSize,
        (row: { id: number }) => toCustomerRecord(parseRow(wooCustomer, row, 'customer'), ctx),
        { role: 'all' },
      );
      // WooCommerce's customers endpoint has no modified_after: an incremental pull is narrowed here, a page at a
      // time (the cursor still walks every page, so nobody changed since is missed).
      const since = request?.updatedSince;
      return since ? { ...page, items: page.items.filter((c) => c.updatedAt.getTime() >= since.getTime()) } : page;
    },

    listOrders(request) {
      const since = request?.updatedSince;
      return pageCollection(
        client,
        '/orders',
        request,
        options.pageSize,
        (row: { id: number }) => toOrderRecord(parseRow(wooOrder, row, 'order')),
        {
          status: 'any',
          ...(since ? { modified_after: since.toISOString(), dates_are_gmt: true } : {}),
        },
      );
    },

    listProducts(request) {
      return pageCollection(
        client,
        '/products',
        request,
        options.pageSize,
        (row: { id: number }) => toProductRecord(parseRow(wooProduct, row, 'product')),
        { status: 'any' },
      );
    },

    async pushConsent(changes) {
      const results: PushResult[] = [];
      for (const change of changes) results.push(await pushOne(change));
      return results;
    },

    async eraseCustomer(ref) {
      const customer = await findCustomer(ref);
      if (!customer) return; // already gone: erasing twice is not an error
      try {
        // Customers cannot be trashed: without force=true WooCommerce answers 501.
        await client.request('DELETE', `/customers/${customer.id}`, { query: { force: true } });
      } catch (error) {
        if (isTactfulError(error, 'WOOCOMMERCE.NOT_FOUND')) return;
        throw error;
      }
    },
  };
}
