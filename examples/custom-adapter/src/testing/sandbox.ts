/**
 * A stateful fake of a WooCommerce store's REST API (wc/v3) for msw: customers, orders and products held in
 * memory, answered in WooCommerce's documented shapes (GMT times without a zone, X-WP-Total/X-WP-TotalPages
 * headers, WordPress error bodies `{ code, message, data: { status } }`), and refusing what WooCommerce refuses
 * (bad credentials, per_page outside 1..100, trashing a customer without force=true, an unknown id).
 */
import { http, HttpResponse, type HttpHandler } from 'msw';

export interface SandboxAddress {
  first_name: string;
  last_name: string;
  company: string;
  address_1: string;
  address_2: string;
  city: string;
  state: string;
  postcode: string;
  country: string;
  email?: string;
  phone?: string;
}

export interface SandboxMeta {
  id: number;
  key: string;
  value: unknown;
}

export interface SandboxCustomer {
  id: number;
  date_created_gmt: Date;
  date_modified_gmt: Date;
  email: string;
  first_name: string;
  last_name: string;
  role: string;
  username: string;
  billing: SandboxAddress;
  shipping: SandboxAddress;
  is_paying_customer: boolean;
  meta_data: SandboxMeta[];
}

export interface SandboxProduct {
  id: number;
  name: string;
  slug: string;
  status: 'draft' | 'pending' | 'private' | 'publish';
  price: string;
  regular_price: string;
  stock_status: 'instock' | 'outofstock' | 'onbackorder';
  categories: Array<{ id: number; name: string; slug: string }>;
  images: Array<{ id: number; src: string; alt: string }>;
  date_created_gmt: Date;
  date_modified_gmt: Date;
}

export interface SandboxOrder {
  id: number;
  status: 'pending' | 'processing' | 'on-hold' | 'completed' | 'cancelled' | 'refunded' | 'failed';
  currency: string;
  customer_id: number;
  billing: SandboxAddress;
  line_items: Array<{
    id: number;
    name: string;
    product_id: number;
    variation_id: number;
    quantity: number;
    price: number;
    total: string;
  }>;
  date_created_gmt: Date;
  date_modified_gmt: Date;
}

type Fault = { status: number; retryAfter?: number };

const emptyAddress = (): SandboxAddress => ({
  first_name: '',
  last_name: '',
  company: '',
  address_1: '',
  address_2: '',
  city: '',
  state: '',
  postcode: '',
  country: '',
});

/** WooCommerce writes times as `YYYY-MM-DDTHH:MM:SS`, the `_gmt` fields in UTC without a zone. */
const wcTime = (d: Date) => d.toISOString().slice(0, 19);
const localTime = wcTime; // the sandbox site runs on UTC

function wpError(status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
  return HttpResponse.json({ code, message, data: { status, ...extra } }, { status });
}

export interface WooCommerceSandboxOptions {
  /** The site's address; default https://woo-sandbox.example. */
  url?: string;
  consumerKey?: string;
  consumerSecret?: string;
  /** The sandbox's clock. */
  now?: () => Date;
}

export function createWooCommerceSandbox(options: WooCommerceSandboxOptions = {}) {
  const url = (options.url ?? 'https://woo-sandbox.example').replace(/\/+$/, '');
  const consumerKey = options.consumerKey ?? 'ck_sandbox0000000000000000000000000000000000';
  const consumerSecret = options.consumerSecret ?? 'cs_sandbox0000000000000000000000000000000000';
  const now = options.now ?? (() => new Date());
  const customers = new Map<number, SandboxCustomer>();
  const orders = new Map<number, SandboxOrder>();
  const products = new Map<number, SandboxProduct>();
  let nextUserId = 2; // user 1 is the site's administrator
  let nextPostId = 10;
  let nextMetaId = 100;
  let nextItemId = 1;
  const faults: Fault[] = [];
  const requests: Array<{ method: string; path: string; query: Record<string, string> }> = [];

  const customerJson = (c: SandboxCustomer) => ({
    id: c.id,
    date_created: localTime(c.date_created_gmt),
    date_created_gmt: wcTime(c.date_created_gmt),
    date_modified: localTime(c.date_modified_gmt),
    date_modified_gmt: wcTime(c.date_modified_gmt),
    email: c.email,
    first_name: c.first_name,
    last_name: c.last_name,
    role: c.role,
    username: c.username,
    billing: { ...c.billing, email: c.billing.email ?? '', phone: c.billing.phone ?? '' },
    shipping: c.shipping,
    is_paying_customer: c.is_paying_customer,
    avatar_url: 'https://secure.gravatar.com/avatar/?s=96',
    meta_data: c.meta_data.map((m) => ({ ...m })),
    _links: {
      self: [{ href: `${url}/wp-json/wc/v3/customers/${c.id}` }],
      collection: [{ href: `${url}/wp-json/wc/v3/customers` }],
    },
  });

  const productJson = (p: SandboxProduct) => ({
    id: p.id,
    name: p.name,
    slug: p.slug,
    permalink: `${url}/product/${p.slug}/`,
    date_created: localTime(p.date_created_gmt),
    date_created_gmt: wcTime(p.date_created_gmt),
    date_modified: localTime(p.date_modified_gmt),
    date_modified_gmt: wcTime(p.date_modified_gmt),
    type: 'simple',
    status: p.status,
    price: p.price,
    regular_price: p.regular_price,
    sale_price: '',
    purchasable: p.price !== '',
    stock_status: p.stock_status,
    categories: p.categories,
    images: p.images,
    meta_data: [],
  });

  const orderJson = (o: SandboxOrder) => {
    const total = o.line_items.reduce((sum, l) => sum + Number(l.total), 0).toFixed(2);
    return {
      id: o.id,
      parent_id: 0,
      number: String(o.id),
      order_key: `wc_order_${o.id.toString(36)}`,
      created_via: 'checkout',
      status: o.status,
      currency: o.currency,
      date_created: localTime(o.date_created_gmt),
      date_created_gmt: wcTime(o.date_created_gmt),
      date_modified: localTime(o.date_modified_gmt),
      date_modified_gmt: wcTime(o.date_modified_gmt),
      total,
      customer_id: o.customer_id,
      billing: { ...o.billing, email: o.billing.email ?? '', phone: o.billing.phone ?? '' },
      shipping: emptyAddress(),
      line_items: o.line_items.map((l) => ({ ...l, subtotal: l.total, sku: '', meta_data: [], taxes: [] })),
      meta_data: [],
    };
  };

  function authorised(request: Request): boolean {
    const header = request.headers.get('authorization') ?? '';
    const expected = `Basic ${Buffer.from(`${consumerKey}:${consumerSecret}`).toString('base64')}`;
    return header === expected;
  }

  /** Paging as WooCommerce does it: `offset` wins over `page`; X-WP-Total and X-WP-TotalPages describe the whole result. */
  function pageOf<T>(all: T[], params: URLSearchParams) {
    const perPageText = params.get('per_page') ?? '10';
    const perPage = Number(perPageText);
    if (!/^\d+$/.test(perPageText) || perPage < 1 || perPage > 100) {
      return {
        error: wpError(400, 'rest_invalid_param', 'Invalid parameter(s): per_page', {
          params: { per_page: 'per_page must be between 1 (inclusive) and 100 (inclusive)' },
        }),
      };
    }
    const page = Number(params.get('page') ?? '1');
    const offset = params.has('offset') ? Number(params.get('offset')) : (page - 1) * perPage;
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(page) || page < 1)
      return { error: wpError(400, 'rest_invalid_param', 'Invalid parameter(s): page, offset', { params: {} }) };
    const items = all.slice(offset, offset + perPage);
    const headers = { 'X-WP-Total': String(all.length), 'X-WP-TotalPages': String(Math.ceil(all.length / perPage)) };
    return { items, headers };
  }

  function sortRows<T extends { id: number; date_created_gmt: Date }>(
    rows: T[],
    params: URLSearchParams,
    defaults: { orderby: string; order: 'asc' | 'desc' },
    name?: (row: T) => string,
  ): T[] {
    const orderby = params.get('orderby') ?? defaults.orderby;
    const order = params.get('order') ?? defaults.order;
    const key = (row: T): string | number =>
      orderby === 'id'
        ? row.id
        : orderby === 'name' && name
          ? name(row)
          : row.date_created_gmt.getTime() * 1e4 + row.id;
    const sorted = [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return order === 'desc' ? sorted.reverse() : sorted;
  }

  const base = `${url}/wp-json/wc/v3`;

  /** Every endpoint goes through the same door: faults first, then credentials. */
  const guarded =
    (
      resolver: (
        request: Request,
        params: Record<string, string>,
        query: URLSearchParams,
      ) => Promise<Response> | Response,
    ) =>
    async ({
      request,
      params,
    }: {
      request: Request;
      params: Record<string, string | readonly string[] | undefined>;
    }) => {
      const target = new URL(request.url);
      requests.push({ method: request.method, path: target.pathname, query: Object.fromEntries(target.searchParams) });
      const fault = faults.shift();
      if (fault) {
        if (fault.status === 429)
          return new HttpResponse(
            JSON.stringify({ code: 'too_many_requests', message: 'Too many requests.', data: { status: 429 } }),
            {
              status: 429,
              headers: {
                'Content-Type': 'application/json',
                ...(fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {}),
              },
            },
          );
        if (fault.status >= 500)
          return new HttpResponse('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>', {
            status: fault.status,
            headers: { 'Content-Type': 'text/html' },
          });
        return wpError(fault.status, 'rest_invalid_param', 'Invalid parameter(s): injected by the sandbox', {
          params: {},
        });
      }
      if (!authorised(request))
        return wpError(401, 'woocommerce_rest_cannot_view', 'Sorry, you cannot list resources.');
      return resolver(
        request,
        Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
        target.searchParams,
      );
    };

  const idOf = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN);
  const invalidId = () => wpError(404, 'woocommerce_rest_invalid_id', 'Invalid resource ID.');

  const handlers: HttpHandler[] = [
    http.get(
      `${base}/customers`,
      guarded((_r, _p, q) => {
        const role = q.get('role') ?? 'customer';
        const email = q.get('email')?.trim().toLowerCase();
        let rows = [...customers.values()].filter((c) => role === 'all' || c.role === role);
        if (email !== undefined) rows = rows.filter((c) => c.email.toLowerCase() === email);
        const page = pageOf(
          sortRows(rows, q, { orderby: 'name', order: 'asc' }, (c) => `${c.first_name} ${c.last_name}`),
          q,
        );
        if ('error' in page) return page.error!;
        return HttpResponse.json(page.items.map(customerJson), { headers: page.headers });
      }),
    ),
    http.get(
      `${base}/customers/:id`,
      guarded((_r, p) => {
        const c = customers.get(idOf(p.id));
        return c ? HttpResponse.json(customerJson(c)) : invalidId();
      }),
    ),
    http.put(
      `${base}/customers/:id`,
      guarded(async (request, p) => {
        const c = customers.get(idOf(p.id));
        if (!c) return invalidId();
        let body: Record<string, unknown>;
        try {
          body = (await request.json()) as Record<string, unknown>;
        } catch {
          return wpError(400, 'rest_invalid_json', 'Invalid JSON body passed.');
        }
        if (
          body.email !== undefined &&
          (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(body.email))
        )
          return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): email', {
            params: { email: 'Invalid email address.' },
          });
        if (body.meta_data !== undefined && !Array.isArray(body.meta_data))
          return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): meta_data', {
            params: { meta_data: 'meta_data is not of type array.' },
          });
        if (typeof body.email === 'string') c.email = body.email;
        if (typeof body.first_name === 'string') c.first_name = body.first_name;
        if (typeof body.last_name === 'string') c.last_name = body.last_name;
        for (const entry of (body.meta_data ?? []) as Array<{ id?: number; key?: unknown; value?: unknown }>) {
          if (typeof entry.key !== 'string')
            return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): meta_data', {
              params: { meta_data: 'meta_data[0][key] is not of type string.' },
            });
          // WC_Data::update_meta_data: by id when given, else the first entry with that key, else a new entry.
          const held = c.meta_data.find((m) => (entry.id !== undefined ? m.id === entry.id : m.key === entry.key));
          if (held) {
            held.key = entry.key;
            held.value = structuredClone(entry.value);
          } else c.meta_data.push({ id: nextMetaId++, key: entry.key, value: structuredClone(entry.value) });
        }
        c.date_modified_gmt = now();
        return HttpResponse.json(customerJson(c));
      }),
    ),
    http.delete(
      `${base}/customers/:id`,
      guarded((_r, p, q) => {
        const c = customers.get(idOf(p.id));
        if (!c) return invalidId();
        if (q.get('force') !== 'true' && q.get('force') !== '1')
          return wpError(501, 'woocommerce_rest_trash_not_supported', 'Customers do not support trashing.');
        customers.delete(c.id);
        return HttpResponse.json(customerJson(c));
      }),
    ),
    http.get(
      `${base}/orders`,
      guarded((_r, _p, q) => {
        const status = q.get('status') ?? 'any';
        let rows = [...orders.values()].filter((o) => status === 'any' || status.split(',').includes(o.status));
        const after = q.get('modified_after');
        if (after !== null) {
          const at = Date.parse(
            q.get('dates_are_gmt') === 'true' && !/(Z|[+-]\d{2}:\d{2})$/.test(after) ? `${after}Z` : after,
          );
          if (Number.isNaN(at))
            return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): modified_after', {
              params: { modified_after: 'Invalid date.' },
            });
          rows = rows.filter((o) => o.date_modified_gmt.getTime() > at);
        }
        const page = pageOf(sortRows(rows, q, { orderby: 'date', order: 'desc' }), q);
        if ('error' in page) return page.error!;
        return HttpResponse.json(page.items.map(orderJson), { headers: page.headers });
      }),
    ),
    http.get(
      `${base}/products`,
      guarded((_r, _p, q) => {
        const status = q.get('status') ?? 'any';
        const rows = [...products.values()].filter((p) => status === 'any' || p.status === status);
        const page = pageOf(sortRows(rows, q, { orderby: 'date', order: 'desc' }), q);
        if ('error' in page) return page.error!;
        return HttpResponse.json(page.items.map(productJson), { headers: page.headers });
      }),
    ),
  ];

  const slug = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'product';

  return {
    url,
    consumerKey,
    consumerSecret,
    handlers,
    /** Every request the sandbox answered, in order (method, path, query). */
    requests,

    addCustomer(input: {
      email: string;
      first_name?: string;
      last_name?: string;
      role?: string;
      meta?: Record<string, unknown>;
      createdAt?: Date;
    }): { id: string } {
      const at = input.createdAt ?? now();
      const id = nextUserId++;
      customers.set(id, {
        id,
        date_created_gmt: at,
        date_modified_gmt: at,
        email: input.email,
        first_name: input.first_name ?? '',
        last_name: input.last_name ?? '',
        role: input.role ?? 'customer',
        username: input.email.split('@')[0] ?? `user${id}`,
        billing: {
          ...emptyAddress(),
          first_name: input.first_name ?? '',
          last_name: input.last_name ?? '',
          email: input.email,
        },
        shipping: emptyAddress(),
        is_paying_customer: false,
        meta_data: Object.entries(input.meta ?? {}).map(([key, value]) => ({ id: nextMetaId++, key, value })),
      });
      return { id: String(id) };
    },

    addProduct(input: {
      name: string;
      price?: string;
      status?: SandboxProduct['status'];
      stock_status?: SandboxProduct['stock_status'];
      category?: string;
    }): { id: string } {
      const id = nextPostId++;
      const at = now();
      products.set(id, {
        id,
        name: input.name,
        slug: `${slug(input.name)}-${id}`,
        status: input.status ?? 'publish',
        price: input.price ?? '',
        regular_price: input.price ?? '',
        stock_status: input.stock_status ?? 'instock',
        categories: input.category ? [{ id: 15, name: input.category, slug: slug(input.category) }] : [],
        images: [{ id: id + 1000, src: `${url}/wp-content/uploads/${id}.jpg`, alt: '' }],
        date_created_gmt: at,
        date_modified_gmt: at,
      });
      return { id: String(id) };
    },

    addOrder(input: {
      customer_id?: number;
      email?: string | null;
      status?: SandboxOrder['status'];
      createdAt: Date;
      modifiedAt?: Date;
      lines: Array<{ product_id: number; quantity: number }>;
    }): { id: string } {
      const id = nextPostId++;
      orders.set(id, {
        id,
        status: input.status ?? 'processing',
        currency: 'EUR',
        customer_id: input.customer_id ?? 0,
        billing: { ...emptyAddress(), email: input.email ?? '' },
        line_items: input.lines.map((l) => {
          const product = products.get(l.product_id);
          const price = Number(product?.price || '0');
          return {
            id: nextItemId++,
            name: product?.name ?? `Product ${l.product_id}`,
            product_id: l.product_id,
            variation_id: 0,
            quantity: l.quantity,
            price,
            total: (price * l.quantity).toFixed(2),
          };
        }),
        date_created_gmt: input.createdAt,
        date_modified_gmt: input.modifiedAt ?? input.createdAt,
      });
      return { id: String(id) };
    },

    customerByEmail(email: string): SandboxCustomer | null {
      const e = email.trim().toLowerCase();
      return [...customers.values()].find((c) => c.email.toLowerCase() === e) ?? null;
    },

    /** Deletes a record behind the adapter's back (to test paging while the store changes). */
    remove(kind: 'customer' | 'order' | 'product', id: string): void {
      ({ customer: customers, order: orders, product: products })[kind].delete(Number(id));
    },

    /** The next `times` requests fail with `status` (429 with an optional Retry-After, a 5xx HTML page, or a 400). */
    failNext(fault: Fault, times = 1): void {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    clearFaults(): void {
      faults.length = 0;
    },
  };
}

export type WooCommerceSandbox = ReturnType<typeof createWooCommerceSandbox>;
