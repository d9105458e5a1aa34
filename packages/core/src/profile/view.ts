/** A subject's profile as the admin, the CLI, the preference centre and an access request show it. */
import { and, eq, sql } from 'drizzle-orm';
import { openPreferences, type CustomerPreferences } from '../preferences/preferences.js';
import type { KeyRing } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { rows } from '../store/open.js';
import { profiles } from '../store/schema.js';
import type { ProfileAttributes } from './attributes.js';
import { ensureScored } from './rfm.js';
import { openAttributes } from './sealed-attributes.js';

export interface ProfileContext {
  db: Db;
  keys: KeyRing;
  shopId: string;
  now: () => Date;
}

export interface ProfileView {
  subjectId: string;
  email: string;
  externalIds: Record<string, string>;
  personalization: 'granted' | 'not-granted';
  /** Null while personalization is not granted: nothing beyond identity is held. */
  profile: {
    attributes: ProfileAttributes;
    age: number | null;
    orders: {
      count: number;
      revenue: number;
      averageOrderValue: number;
      firstOrderAt: Date | null;
      lastOrderAt: Date | null;
    };
    products: Array<{
      productId: string;
      title: string;
      category: string | null;
      quantity: number;
      lastBoughtAt: Date;
    }>;
    categories: Array<{ category: string; quantity: number }>;
    rfm: { recency: number; frequency: number; monetary: number; label: string } | null;
    /** What the customer excluded ("not this") and which sensitive categories they allowed. */
    preferences: CustomerPreferences;
    createdAt: Date;
    updatedAt: Date;
  } | null;
}

export async function readProfile(
  ctx: ProfileContext,
  subject: { subjectId: string; email: string; externalIds: Record<string, string> },
): Promise<ProfileView> {
  const { db, shopId } = ctx;
  await ensureScored(db, ctx.keys, shopId, ctx.now());
  const [row] = await db
    .select()
    .from(profiles)
    .where(and(eq(profiles.shopId, shopId), eq(profiles.subjectId, subject.subjectId)));
  const base = { subjectId: subject.subjectId, email: subject.email, externalIds: subject.externalIds };
  if (!row) return { ...base, personalization: 'not-granted', profile: null };
  const key = await ctx.keys.subjectKey(db, shopId, subject.subjectId);
  const bought = await rows<{
    product_id: string;
    title: string | null;
    category: string | null;
    quantity: number;
    last_at: string;
  }>(
    db,
    sql`select l.product_id, pr.title, pr.category, sum(l.quantity)::int as quantity, max(o.created_at)::text as last_at
        from orders o join order_lines l on l.shop_id = o.shop_id and l.order_id = o.order_id
        left join products pr on pr.shop_id = l.shop_id and pr.product_id = l.product_id
        where o.shop_id = ${shopId} and o.subject_id = ${subject.subjectId} and o.counted and l.quantity > 0
        group by l.product_id, pr.title, pr.category order by max(o.created_at) desc, l.product_id`,
  );
  const categories = new Map<string, number>();
  for (const b of bought) if (b.category) categories.set(b.category, (categories.get(b.category) ?? 0) + b.quantity);
  const revenue = Number(row.revenue);
  return {
    ...base,
    personalization: 'granted',
    profile: {
      attributes: openAttributes(key, row),
      age: row.age,
      orders: {
        count: row.orderCount,
        revenue,
        averageOrderValue: row.orderCount > 0 ? Math.round((revenue / row.orderCount) * 100) / 100 : 0,
        firstOrderAt: row.firstOrderAt,
        lastOrderAt: row.lastOrderAt,
      },
      products: bought.map((b) => ({
        productId: b.product_id,
        title: b.title ?? b.product_id,
        category: b.category,
        quantity: b.quantity,
        lastBoughtAt: new Date(b.last_at),
      })),
      categories: [...categories]
        .map(([category, quantity]) => ({ category, quantity }))
        .sort((a, b) => b.quantity - a.quantity || a.category.localeCompare(b.category)),
      rfm:
        row.recencyScore && row.frequencyScore && row.monetaryScore && row.rfmLabel
          ? {
              recency: row.recencyScore,
              frequency: row.frequencyScore,
              monetary: row.monetaryScore,
              label: row.rfmLabel,
            }
          : null,
      preferences: openPreferences(key, row),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    },
  };
}
