import type { Tactful } from '@tactful/core';

/**
 * What the shop holds about one subject, read for the preference centre. Only the subject's own rows,
 * always scoped by shop.
 */
export async function emailOfSubject(tactful: Tactful, subjectId: string): Promise<string | null> {
  // The audit export decrypts the subject's email while their key exists (null once erased).
  for await (const line of tactful.audit.export('jsonl', { subjectId })) {
    const entry = JSON.parse(line) as { email: string | null };
    return entry.email;
  }
  return null;
}

export interface SubjectRecord {
  createdAt: Date;
  externalIds: Record<string, string>;
  registeredBy: { source: string; method: string } | null;
}

export async function subjectRecord(tactful: Tactful, subjectId: string): Promise<SubjectRecord | null> {
  const [row] = await tactful.store.query<{ created_at: Date | string; external_ids: Record<string, string> | string }>(
    'select created_at, external_ids from subjects where shop_id = $1 and subject_id = $2 and erased_at is null',
    [tactful.shopId, subjectId],
  );
  if (!row) return null;
  const [reg] = await tactful.store.query<{ details: Record<string, unknown> | string }>(
    "select details from audit_log where shop_id = $1 and subject_id = $2 and action = 'subject.registered' order by seq limit 1",
    [tactful.shopId, subjectId],
  );
  const details = reg
    ? typeof reg.details === 'string'
      ? (JSON.parse(reg.details) as Record<string, unknown>)
      : reg.details
    : null;
  return {
    createdAt: new Date(row.created_at),
    externalIds:
      typeof row.external_ids === 'string'
        ? (JSON.parse(row.external_ids) as Record<string, string>)
        : row.external_ids,
    registeredBy: details ? { source: String(details.source ?? ''), method: String(details.method ?? '') } : null,
  };
}

export interface SubjectOrder {
  orderId: string;
  name: string | null;
  createdAt: Date;
  currency: string | null;
  totalPrice: string | null;
  counted: boolean;
  source: string;
  lines: Array<{ productId: string; title: string; quantity: number }>;
}

export async function ordersOfSubject(tactful: Tactful, subjectId: string, limit = 50): Promise<SubjectOrder[]> {
  const orders = await tactful.store.query<{
    order_id: string;
    name: string | null;
    created_at: Date | string;
    currency: string | null;
    total_price: string | null;
    counted: boolean;
    source: string;
  }>(
    'select order_id, name, created_at, currency, total_price, counted, source from orders where shop_id = $1 and subject_id = $2 order by created_at desc limit $3',
    [tactful.shopId, subjectId, limit],
  );
  if (orders.length === 0) return [];
  const lines = await tactful.store.query<{
    order_id: string;
    product_id: string;
    quantity: number;
    title: string | null;
  }>(
    `select l.order_id, l.product_id, l.quantity, p.title from order_lines l
       left join products p on p.shop_id = l.shop_id and p.product_id = l.product_id
      where l.shop_id = $1 and l.order_id = any($2::text[]) order by l.order_id, l.line_no`,
    [tactful.shopId, orders.map((o) => o.order_id)],
  );
  return orders.map((o) => ({
    orderId: o.order_id,
    name: o.name,
    createdAt: new Date(o.created_at),
    currency: o.currency,
    totalPrice: o.total_price,
    counted: o.counted,
    source: o.source,
    lines: lines
      .filter((l) => l.order_id === o.order_id)
      .map((l) => ({ productId: l.product_id, title: l.title ?? l.product_id, quantity: l.quantity })),
  }));
}

export async function productTitles(tactful: Tactful, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await tactful.store.query<{ product_id: string; title: string }>(
    'select product_id, title from products where shop_id = $1 and product_id = any($2::text[])',
    [tactful.shopId, [...ids]],
  );
  return new Map(rows.map((r) => [r.product_id, r.title]));
}
