/**
 * Orders name their customer by subject id when Tactful knew the person at the time, else by a reference
 * (`e:` + the address's blind index, or `<system>:<id>`). When a reference becomes a person's — they register,
 * an address or an id becomes theirs — their orders are linked to them, so nothing about them stays behind
 * under an address.
 */
import { sql, type SQL } from 'drizzle-orm';
import { textArray } from '../store/text-array.js';

export interface OrderRef {
  subjectId: string;
  /** `e:<blind index hex>` or `<system>:<id>`, as `orders.customer_ref`. */
  ref: string;
}

export const emailRef = (index: Buffer) => `e:${index.toString('hex')}`;

/**
 * Links the orders that name these references (and no subject yet) to their subjects: one statement for any number
 * of references, to run alone or inside a larger one. The pairs travel as two text[] parameters unnested side by
 * side: the planner knows their number and probes `orders_customer_ref` once per reference, with or without
 * statistics.
 */
export function linkOrdersQuery(shopId: string, refs: readonly OrderRef[]): SQL | null {
  if (refs.length === 0) return null;
  return sql`
    update orders o set subject_id = x.subject_id
    from unnest(${textArray(refs.map((r) => r.subjectId))}, ${textArray(refs.map((r) => r.ref))}) as x(subject_id, ref)
    where o.shop_id = ${shopId} and o.subject_id is null and o.customer_ref = x.ref`;
}
