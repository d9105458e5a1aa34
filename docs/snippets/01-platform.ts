// src/index.ts of a CommercePlatform for "Acme", a made-up REST API with cursor paging.
import {
  parseOrThrow,
  TactfulError,
  type CommercePlatform,
  type CustomerRecord,
  type OrderRecord,
  type Page,
  type PageRequest,
  type ProductRecord,
} from '@tactful/core';
import { z } from 'zod';

/** Checked at construction; every problem is reported at once (CONFIG.INVALID). */
export const acmeOptionsSchema = z.object({
  baseUrl: z.url({ protocol: /^https$/, error: 'must be the https address of the Acme API' }),
  token: z.string().trim().min(1, 'the Acme API token is required'),
});

interface AcmeCustomer {
  id: number;
  email: string;
  updated_at: string;
  newsletter: { subscribed: boolean; changed_at: string } | null;
}
interface AcmeOrder {
  id: number;
  customer_id: number | null;
  email: string | null;
  created_at: string;
  updated_at: string;
  cancelled_at: string | null;
  items: Array<{ product_id: number; name: string; qty: number }>;
}
interface AcmeProduct {
  id: number;
  name: string;
  price: string | null;
  in_stock: boolean;
}

export function createAcmePlatform(input: z.input<typeof acmeOptionsSchema>): CommercePlatform {
  const options = parseOrThrow(acmeOptionsSchema, input, 'CONFIG.INVALID', 'Acme options');

  /** One GET; every failure becomes a TactfulError that says whether retrying can help. */
  async function list<T>(
    path: string,
    request: PageRequest | undefined,
  ): Promise<{ rows: T[]; next: string | undefined }> {
    const query = new URLSearchParams({ limit: String(Math.min(request?.limit ?? 100, 100)) });
    if (request?.cursor) query.set('cursor', request.cursor);
    let response: Response;
    try {
      response = await fetch(`${options.baseUrl}${path}?${query}`, {
        headers: { authorization: `Bearer ${options.token}` },
      });
    } catch (cause) {
      throw new TactfulError('ACME.NETWORK', `Could not reach Acme: ${(cause as Error).message}. Retry later.`, {
        cause,
        retryable: true,
      });
    }
    if (response.status === 429 || response.status >= 500) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new TactfulError('ACME.UNAVAILABLE', `Acme answered ${response.status} to ${path}; retry later.`, {
        status: response.status,
        retryable: true,
        ...(retryAfter > 0 ? { retryAfter } : {}),
      });
    }
    if (!response.ok)
      throw new TactfulError(
        'ACME.BAD_REQUEST',
        `Acme refused ${path} (${response.status}); repeating it will not help.`,
        { status: response.status, retryable: false },
      );
    return { rows: (await response.json()) as T[], next: response.headers.get('x-next-cursor') ?? undefined };
  }

  const page = async <T, R>(path: string, request: PageRequest | undefined, map: (row: T) => R): Promise<Page<R>> => {
    const { rows, next } = await list<T>(path, request);
    return { items: rows.map(map), nextCursor: next };
  };

  const toCustomer = (c: AcmeCustomer): CustomerRecord => {
    const email = c.email.trim().toLowerCase();
    return {
      id: String(c.id),
      email,
      updatedAt: new Date(c.updated_at),
      emailConsent: c.newsletter && {
        email,
        purpose: 'email_marketing',
        state: c.newsletter.subscribed ? 'granted' : 'withdrawn',
        level: 'unknown',
        occurredAt: new Date(c.newsletter.changed_at), // the source's own time, never "now"
        sourceEventId: `${c.id}:${c.newsletter.changed_at}`, // stable while the fact is unchanged
        method: 'sync', // never first-party: a sync cannot lift a withdrawal
      },
    };
  };

  const toOrder = (o: AcmeOrder): OrderRecord => ({
    id: String(o.id),
    customerId: o.customer_id === null ? null : String(o.customer_id),
    email: o.email?.trim().toLowerCase() ?? null,
    createdAt: new Date(o.created_at),
    updatedAt: new Date(o.updated_at),
    cancelledAt: o.cancelled_at ? new Date(o.cancelled_at) : null,
    lines: o.items.map((i) => ({ productId: String(i.product_id), title: i.name, quantity: i.qty })),
  });

  const toProduct = (p: AcmeProduct): ProductRecord => ({
    id: String(p.id),
    title: p.name,
    available: p.in_stock,
    ...(p.price ? { price: p.price } : {}),
  });

  return {
    system: 'acme',
    // Declare only what is implemented: the suite tests each declared capability and skips the others.
    capabilities: { bulkOrders: false, consentWrite: false, erasure: false, webhooks: false },
    listCustomers: (request) => page('/customers', request, toCustomer),
    listOrders: (request) => page('/orders', request, toOrder),
    listProducts: (request) => page('/products', request, toProduct),
  };
}
