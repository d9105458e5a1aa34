/**
 * The sandbox shop's state: customers (with email marketing consent), orders with line items, products,
 * bulk operations. Ids are numeric strings above 2^53, as in real shops, allocated in increasing order so
 * "sort by ID" is insertion order.
 */
export type MarketingState = 'NOT_SUBSCRIBED' | 'PENDING' | 'SUBSCRIBED' | 'UNSUBSCRIBED' | 'REDACTED' | 'INVALID';
export type MarketingOptInLevel = 'SINGLE_OPT_IN' | 'CONFIRMED_OPT_IN' | 'UNKNOWN';
export type FinancialStatus =
  | 'PENDING'
  | 'AUTHORIZED'
  | 'PARTIALLY_PAID'
  | 'PARTIALLY_REFUNDED'
  | 'VOIDED'
  | 'PAID'
  | 'REFUNDED'
  | 'EXPIRED';

export interface SandboxConsent {
  marketingState: MarketingState;
  marketingOptInLevel: MarketingOptInLevel | null;
  consentUpdatedAt: Date | null;
}

export interface SandboxCustomer {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  city: string | null;
  province: string | null;
  countryCode: string | null;
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
  consent: SandboxConsent;
}

export interface SandboxLine {
  id: string;
  productId: string | null;
  variantId: string | null;
  title: string;
  quantity: number;
  price: string;
}

export interface SandboxOrder {
  id: string;
  name: string;
  email: string | null;
  customerId: string | null;
  createdAt: Date;
  updatedAt: Date;
  cancelledAt: Date | null;
  financialStatus: FinancialStatus;
  currency: string;
  lines: SandboxLine[];
}

export interface SandboxProduct {
  id: string;
  title: string;
  handle: string;
  status: 'ACTIVE' | 'ARCHIVED' | 'DRAFT' | 'UNLISTED';
  productType: string;
  price: string;
  imageUrl: string | null;
  tracksInventory: boolean;
  totalInventory: number;
  createdAt: Date;
  updatedAt: Date;
}

export type BulkStatus = 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'CANCELING' | 'EXPIRED';

export interface SandboxBulkOperation {
  id: string;
  query: string;
  groupObjects: boolean;
  status: BulkStatus;
  errorCode: 'ACCESS_DENIED' | 'INTERNAL_SERVER_ERROR' | 'TIMEOUT' | null;
  createdAt: Date;
  completedAt: Date | null;
  /** Polls left before the operation completes. */
  pollsLeft: number;
  /** Root object ids captured when it completed: the JSONL is generated from this snapshot. */
  rootIds: string[] | null;
  objectCount: number;
  rootObjectCount: number;
}

/** A sorted id index with O(log n) lookups of "the first id after this one". */
export class IdIndex<T extends { id: string }> {
  readonly byId = new Map<string, T>();
  private order: bigint[] = [];
  private dirty = false;

  get size(): number {
    return this.byId.size;
  }

  put(item: T): void {
    if (!this.byId.has(item.id)) {
      const key = BigInt(item.id);
      const lastKey = this.order[this.order.length - 1];
      if (lastKey !== undefined && key < lastKey) this.dirty = true;
      this.order.push(key);
    }
    this.byId.set(item.id, item);
  }

  delete(id: string): boolean {
    if (!this.byId.delete(id)) return false;
    const key = BigInt(id);
    const at = this.sorted().indexOf(key);
    if (at >= 0) this.order.splice(at, 1);
    return true;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  /** Ids in ascending numeric order. */
  sorted(): bigint[] {
    if (this.dirty) {
      this.order.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.dirty = false;
    }
    return this.order;
  }

  /** Index of the first id strictly greater than `after` (0 when `after` is undefined). */
  positionAfter(after: string | undefined): number {
    const order = this.sorted();
    if (after === undefined) return 0;
    const key = BigInt(after);
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order[mid]! <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  *values(): IterableIterator<T> {
    for (const key of this.sorted()) {
      const item = this.byId.get(key.toString());
      if (item) yield item;
    }
  }
}

export interface ShopState {
  shop: string;
  name: string;
  currency: string;
  customers: IdIndex<SandboxCustomer>;
  orders: IdIndex<SandboxOrder>;
  products: IdIndex<SandboxProduct>;
  bulkOperations: Map<string, SandboxBulkOperation>;
  /** Customer ids by lower-cased email. */
  customersByEmail: Map<string, string>;
  /** Order ids by customer id, for customers/redact and data requests. */
  ordersByCustomer: Map<string, Set<string>>;
  /** Data erasure requests the shop received (customerRequestDataErasure). */
  erasureRequests: Array<{ customerId: string; at: Date }>;
  nextOrderNumber: number;
  nextId: () => string;
}

/** Ids start where real 2020s Shopify ids live (above 2^53) and grow by a few thousand each. */
export function createShopState(shop: string, name = 'Sandbox Shop', currency = 'USD'): ShopState {
  let counter = 7_100_000_000_000_000_000n;
  return {
    shop,
    name,
    currency,
    customers: new IdIndex(),
    orders: new IdIndex(),
    products: new IdIndex(),
    bulkOperations: new Map(),
    customersByEmail: new Map(),
    ordersByCustomer: new Map(),
    erasureRequests: [],
    nextOrderNumber: 1001,
    nextId: () => {
      counter += 4099n;
      return counter.toString();
    },
  };
}

export function normaliseEmail(email: string | null | undefined): string | null {
  if (!email) return null;
  return email.trim().toLowerCase();
}

export function findCustomerByEmail(state: ShopState, email: string): SandboxCustomer | undefined {
  const wanted = normaliseEmail(email);
  const id = wanted ? state.customersByEmail.get(wanted) : undefined;
  return id ? state.customers.get(id) : undefined;
}

export function putCustomer(state: ShopState, customer: SandboxCustomer): SandboxCustomer {
  const previous = state.customers.get(customer.id);
  if (previous?.email) state.customersByEmail.delete(previous.email);
  customer.email = normaliseEmail(customer.email);
  state.customers.put(customer);
  if (customer.email) state.customersByEmail.set(customer.email, customer.id);
  return customer;
}

export function removeCustomer(state: ShopState, id: string): boolean {
  const customer = state.customers.get(id);
  if (!customer) return false;
  if (customer.email) state.customersByEmail.delete(customer.email);
  state.ordersByCustomer.delete(id);
  return state.customers.delete(id);
}

export function putOrder(state: ShopState, order: SandboxOrder): SandboxOrder {
  state.orders.put(order);
  if (order.customerId) {
    let set = state.ordersByCustomer.get(order.customerId);
    if (!set) state.ordersByCustomer.set(order.customerId, (set = new Set()));
    set.add(order.id);
  }
  return order;
}

export function removeOrder(state: ShopState, id: string): boolean {
  const order = state.orders.get(id);
  if (!order) return false;
  if (order.customerId) state.ordersByCustomer.get(order.customerId)?.delete(id);
  return state.orders.delete(id);
}
