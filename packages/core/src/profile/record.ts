import { and, asc, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { KeyRing } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { auditLog, orderLines, orders, products, subjects } from '../store/schema.js';
import { emailsOf } from './subjects.js';

/** When and how a person came into the shop's records, and their ids in connected systems. */
export interface SubjectRecord {
  createdAt: Date;
  externalIds: Record<string, string>;
  /** The source and method of the first `subject.registered` entry; null when none was audited. */
  registeredBy: { source: string; method: string } | null;
}

/** A person's order as their own pages show it (titles from the catalogue, the id when it has none). */
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

/** The subject's record; null for an unknown or erased subject. Only this shop's rows are read. */
export async function subjectRecord(db: Db, shopId: string, subjectId: string): Promise<SubjectRecord | null> {
  const [row] = await db
    .select({ createdAt: subjects.createdAt, externalIds: subjects.externalIds })
    .from(subjects)
    .where(and(eq(subjects.shopId, shopId), eq(subjects.subjectId, subjectId), isNull(subjects.erasedAt)));
  if (!row) return null;
  const [registered] = await db
    .select({ details: auditLog.details })
    .from(auditLog)
    .where(
      and(eq(auditLog.shopId, shopId), eq(auditLog.subjectId, subjectId), eq(auditLog.action, 'subject.registered')),
    )
    .orderBy(asc(auditLog.seq))
    .limit(1);
  const details = registered?.details as Record<string, unknown> | undefined;
  return {
    createdAt: new Date(row.createdAt),
    externalIds: (row.externalIds ?? {}) as Record<string, string>,
    registeredBy: details ? { source: String(details.source ?? ''), method: String(details.method ?? '') } : null,
  };
}

/** The subject's newest orders (at most `limit`), each with its lines. */
export async function subjectOrders(db: Db, shopId: string, subjectId: string, limit = 50): Promise<SubjectOrder[]> {
  const found = await db
    .select({
      orderId: orders.orderId,
      name: orders.name,
      createdAt: orders.createdAt,
      currency: orders.currency,
      totalPrice: orders.totalPrice,
      counted: orders.counted,
      source: orders.source,
    })
    .from(orders)
    .where(and(eq(orders.shopId, shopId), eq(orders.subjectId, subjectId)))
    .orderBy(desc(orders.createdAt))
    .limit(Math.max(0, Math.trunc(limit)));
  if (found.length === 0) return [];
  const lines = await db
    .select({
      orderId: orderLines.orderId,
      productId: orderLines.productId,
      quantity: orderLines.quantity,
      title: products.title,
    })
    .from(orderLines)
    .leftJoin(products, and(eq(products.shopId, orderLines.shopId), eq(products.productId, orderLines.productId)))
    .where(
      and(
        eq(orderLines.shopId, shopId),
        inArray(
          orderLines.orderId,
          found.map((o) => o.orderId),
        ),
      ),
    )
    .orderBy(asc(orderLines.orderId), asc(orderLines.lineNo));
  return found.map((o) => ({
    ...o,
    createdAt: new Date(o.createdAt),
    lines: lines
      .filter((l) => l.orderId === o.orderId)
      .map((l) => ({ productId: l.productId, title: l.title ?? l.productId, quantity: Number(l.quantity) })),
  }));
}

/** The subject's current email, decrypted; null once erased (their key is gone) or when unknown. */
export async function subjectEmail(db: Db, keys: KeyRing, shopId: string, subjectId: string): Promise<string | null> {
  return (await emailsOf(db, keys, shopId, [subjectId])).get(subjectId) ?? null;
}
