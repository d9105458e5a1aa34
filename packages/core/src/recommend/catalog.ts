import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../store/open.js';
import { modelProducts, products } from '../store/schema.js';

/** Catalogue titles of these products (ids the catalogue does not know are left out). */
export async function productTitles(db: Db, shopId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const found = await db
    .select({ productId: products.productId, title: products.title })
    .from(products)
    .where(and(eq(products.shopId, shopId), inArray(products.productId, [...ids])));
  return new Map(found.map((r) => [r.productId, r.title ?? r.productId]));
}

/** The products bought most often (by the model's counts), with their titles, for a picker. */
export async function topProducts(
  db: Db,
  shopId: string,
  limit = 100,
): Promise<Array<{ productId: string; title: string; count: number }>> {
  const found = await db
    .select({ productId: modelProducts.productId, title: products.title, count: modelProducts.count })
    .from(modelProducts)
    .leftJoin(products, and(eq(products.shopId, modelProducts.shopId), eq(products.productId, modelProducts.productId)))
    .where(eq(modelProducts.shopId, shopId))
    .orderBy(desc(modelProducts.count), asc(modelProducts.productId))
    .limit(Math.max(0, Math.trunc(limit)));
  return found.map((r) => ({ productId: r.productId, title: r.title ?? r.productId, count: Number(r.count) }));
}
