// src/testing/sandbox.ts: a stateful fake of the Acme API for msw. Records live in memory, answers have the
// API's documented shapes and headers, and it refuses what the real API refuses.
import { http, HttpResponse, type HttpHandler } from 'msw';

export function createAcmeSandbox(baseUrl = 'https://api.acme.example') {
  const customers: Array<{
    id: number;
    email: string;
    updated_at: string;
    newsletter: { subscribed: boolean; changed_at: string } | null;
  }> = [];
  const orders: Array<{
    id: number;
    customer_id: number | null;
    email: string | null;
    created_at: string;
    updated_at: string;
    cancelled_at: string | null;
    items: Array<{ product_id: number; name: string; qty: number }>;
  }> = [];
  const products: Array<{ id: number; name: string; price: string | null; in_stock: boolean }> = [];
  const faults: number[] = [];
  let nextId = 1;

  /** Cursor paging as Acme documents it: `limit` 1..100, the next cursor in `X-Next-Cursor`. */
  const listing =
    (rows: readonly { id: number }[]) =>
    ({ request }: { request: Request }) => {
      const fault = faults.shift();
      if (fault !== undefined)
        return HttpResponse.json(
          { error: 'injected' },
          { status: fault, headers: fault === 429 ? { 'Retry-After': '1' } : {} },
        );
      if (request.headers.get('authorization') !== 'Bearer sandbox-token')
        return HttpResponse.json({ error: 'unauthorized' }, { status: 401 });
      const url = new URL(request.url);
      const limit = Number(url.searchParams.get('limit') ?? '50');
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        return HttpResponse.json({ error: 'limit must be 1..100' }, { status: 400 });
      const after = Number(url.searchParams.get('cursor') ?? '0'); // the cursor is the last id served: no gaps, no repeats
      const page = rows.filter((r) => r.id > after).slice(0, limit);
      const last = page[page.length - 1];
      const more = last !== undefined && rows.some((r) => r.id > last.id);
      return HttpResponse.json(page, { headers: more ? { 'X-Next-Cursor': String(last.id) } : {} });
    };

  const handlers: HttpHandler[] = [
    http.get(`${baseUrl}/customers`, listing(customers)),
    http.get(`${baseUrl}/orders`, listing(orders)),
    http.get(`${baseUrl}/products`, listing(products)),
  ];

  return {
    baseUrl,
    handlers,
    customers,
    addCustomer(email: string, newsletter: { subscribed: boolean; at: Date } | null = null) {
      const id = nextId++;
      customers.push({
        id,
        email,
        updated_at: new Date().toISOString(),
        newsletter: newsletter && { subscribed: newsletter.subscribed, changed_at: newsletter.at.toISOString() },
      });
      return { id: String(id) };
    },
    addProduct(name: string, price: string | null = null) {
      const id = nextId++;
      products.push({ id, name, price, in_stock: true });
      return { id: String(id) };
    },
    addOrder(input: {
      customerId: number | null;
      email: string | null;
      createdAt: Date;
      cancelledAt: Date | null;
      items: Array<{ productId: number; qty: number }>;
    }) {
      const id = nextId++;
      const at = input.createdAt.toISOString();
      const items = input.items.map((i) => ({
        product_id: i.productId,
        name: products.find((p) => p.id === i.productId)?.name ?? 'Unknown',
        qty: i.qty,
      }));
      orders.push({
        id,
        customer_id: input.customerId,
        email: input.email,
        created_at: at,
        updated_at: input.cancelledAt?.toISOString() ?? at,
        cancelled_at: input.cancelledAt?.toISOString() ?? null,
        items,
      });
      return { id: String(id) };
    },
    /** The next `times` requests answer `status` (429, 503, 400...). */
    failNext(status: number, times: number) {
      for (let i = 0; i < times; i++) faults.push(status);
    },
    clearFaults() {
      faults.length = 0;
    },
  };
}
