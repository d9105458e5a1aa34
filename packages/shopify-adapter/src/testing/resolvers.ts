/**
 * Answers GraphQL documents from the sandbox state with graphql-js, so every answer has exactly the
 * shape the 2025-10 schema gives it. Objects are plain "views" of the state; a connection field is a
 * function the default resolver calls with its arguments. A field the sandbox does not model resolves to
 * null, and graphql-js reports it like Shopify would report a null in a non-null position.
 */
import { GraphQLError } from 'graphql';
import { fromGid, gidResource, toGid } from '../ids.js';
import {
  findCustomerByEmail,
  type IdIndex,
  type SandboxBulkOperation,
  type SandboxCustomer,
  type SandboxOrder,
  type SandboxProduct,
  type ShopState,
} from './state.js';

export interface ExecutionContext {
  state: ShopState;
  /** Set while a bulk operation generates its JSONL: the root connection returns exactly these ids, nested ones everything. */
  bulk?: { rootIds: string[] };
  mutations: SandboxMutations;
  now: () => Date;
}

/** The mutations live in the sandbox (they touch faults, webhooks and bulk operations). */
export interface SandboxMutations {
  customerEmailMarketingConsentUpdate(input: ConsentUpdateInput): unknown;
  bulkOperationRunQuery(query: string, groupObjects: boolean): unknown;
  bulkOperationCancel(id: string): unknown;
  customerRequestDataErasure(customerId: string): unknown;
  customerUpdate(input: CustomerUpdateInput): unknown;
}

/** The part of CustomerInput the sandbox models (names, address); other fields are refused, not silently dropped. */
export interface CustomerUpdateInput {
  id?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  [field: string]: unknown;
}

export interface ConsentUpdateInput {
  customerId: string;
  emailMarketingConsent: {
    marketingState: string;
    marketingOptInLevel?: string | null;
    consentUpdatedAt?: string | null;
    sourceLocationId?: string | null;
  };
}

const MAX_PAGE = 250;

interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  reverse?: boolean | null;
  sortKey?: string | null;
  query?: string | null;
}

export function encodeCursor(id: string, value?: string | number): string {
  return Buffer.from(
    JSON.stringify(value === undefined ? { last_id: id } : { last_id: id, last_value: value }),
    'utf8',
  ).toString('base64url');
}

function decodeCursorFull(cursor: string): { id: string; value: string | number | undefined } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      last_id?: unknown;
      last_value?: unknown;
    };
    if (typeof parsed.last_id === 'string' && /^\d+$/.test(parsed.last_id)) {
      const value =
        typeof parsed.last_value === 'string' || typeof parsed.last_value === 'number' ? parsed.last_value : undefined;
      return { id: parsed.last_id, value };
    }
  } catch {
    // fall through
  }
  throw new GraphQLError('Invalid cursor for current pagination sort.', { extensions: { code: 'BAD_REQUEST' } });
}

function decodeCursor(cursor: string): string {
  return decodeCursorFull(cursor).id;
}

type SortValue<T> = (item: T) => string | number;

/** The sort keys the sandbox serves, per root connection (ID is the fast path and needs no entry). */
export const sortKeys: {
  orders: Record<string, SortValue<SandboxOrder>>;
  customers: Record<string, SortValue<SandboxCustomer>>;
  products: Record<string, SortValue<SandboxProduct>>;
} = {
  orders: {
    CREATED_AT: (o) => o.createdAt.getTime(),
    PROCESSED_AT: (o) => o.createdAt.getTime(),
    UPDATED_AT: (o) => o.updatedAt.getTime(),
  },
  customers: { CREATED_AT: (c) => c.createdAt.getTime(), UPDATED_AT: (c) => c.updatedAt.getTime() },
  products: {
    CREATED_AT: (p) => p.createdAt.getTime(),
    UPDATED_AT: (p) => p.updatedAt.getTime(),
    TITLE: (p) => p.title.toLowerCase(),
  },
};

const compareIds = (a: string, b: string) => {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** All items of an index in the order of a sort key (value, then id). */
export function sortedBy<T extends { id: string }>(
  index: IdIndex<T>,
  value: SortValue<T>,
  filter?: (item: T) => boolean,
): T[] {
  // Filtered before sorting: a query such as `updated_at:>=…` keeps a few of a big shop's items, and only those
  // are sorted (the same items in the same order as sorting all and filtering after).
  const items: T[] = [];
  for (const item of index.byId.values()) if (!filter || filter(item)) items.push(item);
  items.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    return va < vb ? -1 : va > vb ? 1 : compareIds(a.id, b.id);
  });
  return items;
}

function pageSize(args: ConnectionArgs, bulk: boolean): number {
  if (args.last != null || args.before != null || args.reverse) {
    throw new GraphQLError('The Tactful sandbox pages forwards only (first/after).', {
      extensions: { code: 'BAD_REQUEST' },
    });
  }
  if (args.first == null) {
    if (bulk) return Number.MAX_SAFE_INTEGER;
    throw new GraphQLError('you must provide one of first or last', { extensions: { code: 'BAD_REQUEST' } });
  }
  if (args.first < 0) throw new GraphQLError('first must be positive', { extensions: { code: 'BAD_REQUEST' } });
  if (args.first > MAX_PAGE) {
    throw new GraphQLError(`The maximum number of records that can be requested is ${MAX_PAGE}.`, {
      extensions: { code: 'BAD_REQUEST' },
    });
  }
  return args.first;
}

interface SearchTerm {
  field: string;
  op: '=' | '>' | '>=' | '<' | '<=';
  value: string;
}

/** Shopify search syntax, the subset Tactful sends: `updated_at:>='2024-01-01T00:00:00Z' email:a@b.c`. */
export function parseSearch(query: string | null | undefined): SearchTerm[] {
  if (!query) return [];
  const terms: SearchTerm[] = [];
  const pattern = /([a-z_]+):(>=|<=|>|<)?(?:'([^']*)'|"([^"]*)"|(\S+))/g;
  for (const match of query.matchAll(pattern)) {
    terms.push({
      field: match[1]!,
      op: (match[2] as SearchTerm['op'] | undefined) ?? '=',
      value: match[3] ?? match[4] ?? match[5] ?? '',
    });
  }
  return terms;
}

/** `wanted` is the term's value as a time (NaN when it is not one), parsed once per query, not once per item. */
function compare(actual: Date | string | null, term: SearchTerm, wanted: number): boolean {
  if (actual === null) return false;
  if (actual instanceof Date) {
    if (Number.isNaN(wanted))
      throw new GraphQLError(`Invalid date in search query: ${term.value}`, { extensions: { code: 'BAD_REQUEST' } });
    const t = actual.getTime();
    switch (term.op) {
      case '>':
        return t > wanted;
      case '>=':
        return t >= wanted;
      case '<':
        return t < wanted;
      case '<=':
        return t <= wanted;
      default:
        return t === wanted;
    }
  }
  return actual.toLowerCase() === term.value.toLowerCase();
}

function matcher<T>(
  terms: SearchTerm[],
  fields: Record<string, (item: T) => Date | string | null>,
): (item: T) => boolean {
  for (const term of terms) {
    if (!fields[term.field]) {
      throw new GraphQLError(`The Tactful sandbox does not filter on "${term.field}".`, {
        extensions: { code: 'BAD_REQUEST' },
      });
    }
  }
  const wanted = terms.map((term) => new Date(term.value).getTime());
  return (item) => terms.every((term, i) => compare(fields[term.field]!(item), term, wanted[i]!));
}

function connectionOf<T, V>(items: T[], hasNextPage: boolean, idOf: (item: T) => string, view: (item: T) => V) {
  const views = items.map(view);
  const first = items[0];
  const last = items[items.length - 1];
  return {
    edges: () => views.map((node, i) => ({ node, cursor: () => encodeCursor(idOf(items[i]!)) })),
    nodes: () => views,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: false,
      startCursor: first ? encodeCursor(idOf(first)) : null,
      endCursor: last ? encodeCursor(idOf(last)) : null,
    },
  };
}

function rootConnection<T extends { id: string }, V>(
  ctx: ExecutionContext,
  index: IdIndex<T>,
  args: ConnectionArgs,
  view: (item: T) => V,
  filter: ((item: T) => boolean) | undefined,
  keys: Record<string, SortValue<T>>,
) {
  const sortKey = args.sortKey ?? 'ID';
  if (sortKey !== 'ID' && !keys[sortKey]) {
    throw new GraphQLError(
      `The Tactful sandbox does not sort by ${sortKey} (it serves ID, ${Object.keys(keys).join(', ')}).`,
      { extensions: { code: 'BAD_REQUEST' } },
    );
  }
  if (ctx.bulk) {
    const items = ctx.bulk.rootIds.map((id) => index.get(id)).filter((x): x is T => x !== undefined);
    return connectionOf(items, false, (x) => x.id, view);
  }
  const size = pageSize(args, false);
  if (sortKey !== 'ID') {
    const value = keys[sortKey]!;
    const all = sortedBy(index, value, filter);
    let start = 0;
    if (args.after) {
      const after = decodeCursorFull(args.after);
      const afterItem = index.get(after.id);
      const afterValue = after.value ?? (afterItem ? value(afterItem) : undefined);
      if (afterValue === undefined)
        throw new GraphQLError('Invalid cursor for current pagination sort.', { extensions: { code: 'BAD_REQUEST' } });
      start = all.findIndex((x) => {
        const v = value(x);
        return v > afterValue || (v === afterValue && compareIds(x.id, after.id) > 0);
      });
      if (start < 0) start = all.length;
    }
    const items: T[] = [];
    let hasNextPage = false;
    for (let at = start; at < all.length; at++) {
      const item = all[at]!;
      if (items.length === size) {
        hasNextPage = true;
        break;
      }
      items.push(item);
    }
    const views = items.map(view);
    const cursorOf = (item: T) => encodeCursor(item.id, value(item));
    return {
      edges: () => views.map((node, i) => ({ node, cursor: () => cursorOf(items[i]!) })),
      nodes: () => views,
      pageInfo: {
        hasNextPage,
        hasPreviousPage: false,
        startCursor: items[0] ? cursorOf(items[0]) : null,
        endCursor: items.length > 0 ? cursorOf(items[items.length - 1]!) : null,
      },
    };
  }
  const order = index.sorted();
  let at = index.positionAfter(args.after ? decodeCursor(args.after) : undefined);
  const items: T[] = [];
  let hasNextPage = false;
  for (; at < order.length; at++) {
    const item = index.get(order[at]!.toString());
    if (!item || (filter && !filter(item))) continue;
    if (items.length === size) {
      hasNextPage = true;
      break;
    }
    items.push(item);
  }
  return connectionOf(items, hasNextPage, (x) => x.id, view);
}

function nestedConnection<T extends { id: string }, V>(
  ctx: ExecutionContext,
  all: T[],
  args: ConnectionArgs,
  view: (item: T) => V,
) {
  const size = pageSize(args, ctx.bulk !== undefined);
  let start = 0;
  if (args.after) {
    const after = BigInt(decodeCursor(args.after));
    start = all.findIndex((x) => BigInt(x.id) > after);
    if (start < 0) start = all.length;
  }
  const items = all.slice(start, start + size);
  return connectionOf(items, start + size < all.length, (x) => x.id, view);
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace('.000Z', 'Z') : null);
const money = (amount: string, currencyCode: string) => ({ amount, currencyCode });

export function customerView(ctx: ExecutionContext, c: SandboxCustomer) {
  return {
    __typename: 'Customer',
    id: toGid('Customer', c.id),
    legacyResourceId: c.id,
    firstName: c.firstName,
    lastName: c.lastName,
    displayName: [c.firstName, c.lastName].filter(Boolean).join(' ') || c.email || '',
    email: c.email,
    phone: c.phone,
    tags: c.tags,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    defaultEmailAddress: c.email
      ? {
          emailAddress: c.email,
          marketingState: c.consent.marketingState === 'REDACTED' ? 'NOT_SUBSCRIBED' : c.consent.marketingState,
          marketingOptInLevel: c.consent.marketingOptInLevel,
          marketingUpdatedAt: iso(c.consent.consentUpdatedAt),
          validFormat: true,
        }
      : null,
    defaultPhoneNumber: c.phone ? { phoneNumber: c.phone } : null,
    defaultAddress:
      c.city || c.province || c.countryCode
        ? {
            city: c.city,
            province: c.province,
            provinceCode: c.province,
            countryCodeV2: c.countryCode,
            country: c.countryCode,
          }
        : null,
    emailMarketingConsent: c.email
      ? {
          marketingState: c.consent.marketingState,
          marketingOptInLevel: c.consent.marketingOptInLevel,
          consentUpdatedAt: iso(c.consent.consentUpdatedAt),
        }
      : null,
    numberOfOrders: String(ctx.state.ordersByCustomer.get(c.id)?.size ?? 0),
    orders: (args: ConnectionArgs) => {
      const ids = [...(ctx.state.ordersByCustomer.get(c.id) ?? [])].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      const orders = ids.map((id) => ctx.state.orders.get(id)).filter((o): o is SandboxOrder => o !== undefined);
      return nestedConnection(ctx, orders, args, (o) => orderView(ctx, o));
    },
  };
}

export function productView(ctx: ExecutionContext, p: SandboxProduct) {
  return {
    __typename: 'Product',
    id: toGid('Product', p.id),
    legacyResourceId: p.id,
    title: p.title,
    handle: p.handle,
    status: p.status,
    productType: p.productType,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
    publishedAt: p.status === 'ACTIVE' ? iso(p.createdAt) : null,
    onlineStoreUrl: p.status === 'ACTIVE' ? `https://${ctx.state.shop}/products/${p.handle}` : null,
    tracksInventory: p.tracksInventory,
    totalInventory: p.totalInventory,
    featuredMedia: p.imageUrl
      ? {
          __typename: 'MediaImage',
          id: toGid('Product', p.id).replace('Product', 'MediaImage'),
          mediaContentType: 'IMAGE',
          preview: { status: 'READY', image: { url: p.imageUrl } },
        }
      : null,
    priceRangeV2: {
      minVariantPrice: money(p.price, ctx.state.currency),
      maxVariantPrice: money(p.price, ctx.state.currency),
    },
  };
}

export function orderView(ctx: ExecutionContext, o: SandboxOrder) {
  const total = o.lines.reduce((sum, line) => sum + Number(line.price) * line.quantity, 0).toFixed(2);
  const customer = o.customerId ? ctx.state.customers.get(o.customerId) : undefined;
  const _currency = o.currency;
  return {
    __typename: 'Order',
    id: toGid('Order', o.id),
    legacyResourceId: o.id,
    name: o.name,
    email: o.email,
    createdAt: iso(o.createdAt),
    processedAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
    cancelledAt: iso(o.cancelledAt),
    displayFinancialStatus: o.financialStatus,
    currencyCode: o.currency,
    totalPriceSet: { shopMoney: money(total, o.currency), presentmentMoney: money(total, o.currency) },
    // Thunks: graphql-js calls a function-valued property only when the field is selected.
    customer: () => (customer ? customerView(ctx, customer) : null),
    lineItems: (args: ConnectionArgs) =>
      nestedConnection(ctx, o.lines, args, (line) => {
        const product = line.productId ? ctx.state.products.get(line.productId) : undefined;
        return {
          __typename: 'LineItem',
          id: toGid('LineItem', line.id),
          title: line.title,
          name: line.title,
          quantity: line.quantity,
          product: () => (product ? productView(ctx, product) : null),
          variant: line.variantId
            ? { __typename: 'ProductVariant', id: toGid('ProductVariant', line.variantId) }
            : null,
          originalUnitPriceSet: {
            shopMoney: money(line.price, o.currency),
            presentmentMoney: money(line.price, o.currency),
          },
        };
      }),
  };
}

export function bulkOperationView(
  _ctx: ExecutionContext,
  op: SandboxBulkOperation,
  resultUrl: (op: SandboxBulkOperation) => string,
) {
  return {
    __typename: 'BulkOperation',
    id: toGid('BulkOperation', op.id),
    status: op.status,
    errorCode: op.errorCode,
    type: 'QUERY',
    query: op.query,
    createdAt: iso(op.createdAt),
    completedAt: iso(op.completedAt),
    objectCount: String(op.objectCount),
    rootObjectCount: String(op.rootObjectCount),
    fileSize: op.status === 'COMPLETED' ? String(op.objectCount * 400) : null,
    url: op.status === 'COMPLETED' && op.rootObjectCount > 0 ? resultUrl(op) : null,
    partialDataUrl: op.status === 'FAILED' ? resultUrl(op) : null,
  };
}

/** The query root: what Tactful reads, plus `node` for the types the sandbox holds. */
export function createRoot(
  ctx: ExecutionContext,
  hooks: {
    bulkView: (op: SandboxBulkOperation) => unknown;
    currentBulk: () => SandboxBulkOperation | undefined;
    pollBulk: (op: SandboxBulkOperation) => void;
  },
) {
  const { state } = ctx;
  const customerFilter = (args: ConnectionArgs) =>
    matcher<SandboxCustomer>(parseSearch(args.query), {
      email: (c) => c.email,
      updated_at: (c) => c.updatedAt,
      created_at: (c) => c.createdAt,
    });
  const orderFilter = (args: ConnectionArgs) =>
    matcher<SandboxOrder>(parseSearch(args.query), {
      updated_at: (o) => o.updatedAt,
      created_at: (o) => o.createdAt,
      email: (o) => o.email,
    });
  const productFilter = (args: ConnectionArgs) =>
    matcher<SandboxProduct>(parseSearch(args.query), {
      updated_at: (p) => p.updatedAt,
      status: (p) => p.status.toLowerCase(),
    });
  return {
    shop: {
      __typename: 'Shop',
      name: state.name,
      myshopifyDomain: state.shop,
      currencyCode: state.currency,
      primaryDomain: {
        __typename: 'Domain',
        id: 'gid://shopify/Domain/1',
        host: state.shop,
        url: `https://${state.shop}`,
      },
    },
    customers: (args: ConnectionArgs) =>
      rootConnection(
        ctx,
        state.customers,
        args,
        (c) => customerView(ctx, c),
        args.query ? customerFilter(args) : undefined,
        sortKeys.customers,
      ),
    orders: (args: ConnectionArgs) =>
      rootConnection(
        ctx,
        state.orders,
        args,
        (o) => orderView(ctx, o),
        args.query ? orderFilter(args) : undefined,
        sortKeys.orders,
      ),
    products: (args: ConnectionArgs) =>
      rootConnection(
        ctx,
        state.products,
        args,
        (p) => productView(ctx, p),
        args.query ? productFilter(args) : undefined,
        sortKeys.products,
      ),
    customer: ({ id }: { id: string }) => {
      const c = state.customers.get(fromGid(id));
      return c ? customerView(ctx, c) : null;
    },
    order: ({ id }: { id: string }) => {
      const o = state.orders.get(fromGid(id));
      return o ? orderView(ctx, o) : null;
    },
    product: ({ id }: { id: string }) => {
      const p = state.products.get(fromGid(id));
      return p ? productView(ctx, p) : null;
    },
    customerByIdentifier: ({ identifier }: { identifier: { id?: string; emailAddress?: string } }) => {
      const c = identifier.id
        ? state.customers.get(fromGid(identifier.id))
        : identifier.emailAddress
          ? findCustomerByEmail(state, identifier.emailAddress)
          : undefined;
      return c ? customerView(ctx, c) : null;
    },
    currentBulkOperation: () => {
      const op = hooks.currentBulk();
      if (!op) return null;
      hooks.pollBulk(op);
      return hooks.bulkView(op);
    },
    node: ({ id }: { id: string }) => {
      const bare = fromGid(id);
      switch (gidResource(id)) {
        case 'Customer': {
          const c = state.customers.get(bare);
          return c ? customerView(ctx, c) : null;
        }
        case 'Order': {
          const o = state.orders.get(bare);
          return o ? orderView(ctx, o) : null;
        }
        case 'Product': {
          const p = state.products.get(bare);
          return p ? productView(ctx, p) : null;
        }
        case 'BulkOperation': {
          const op = state.bulkOperations.get(bare);
          if (!op) return null;
          hooks.pollBulk(op);
          return hooks.bulkView(op);
        }
        default:
          return null;
      }
    },
    // mutations share the root value
    customerEmailMarketingConsentUpdate: ({ input }: { input: ConsentUpdateInput }) =>
      ctx.mutations.customerEmailMarketingConsentUpdate(input),
    bulkOperationRunQuery: ({ query, groupObjects }: { query: string; groupObjects: boolean }) =>
      ctx.mutations.bulkOperationRunQuery(query, groupObjects),
    bulkOperationCancel: ({ id }: { id: string }) => ctx.mutations.bulkOperationCancel(id),
    customerRequestDataErasure: ({ customerId }: { customerId: string }) =>
      ctx.mutations.customerRequestDataErasure(customerId),
    customerUpdate: ({ input }: { input: CustomerUpdateInput }) => ctx.mutations.customerUpdate(input),
  };
}
