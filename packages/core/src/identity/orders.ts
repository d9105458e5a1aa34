/**
 * Orders name their customer by subject id when Tactful knew the person at the time, else by a reference
 * (`e:` + the address's blind index, or `<system>:<id>`). When a reference becomes a person's — they register,
 * an address or an id becomes theirs — their orders are linked to them, so nothing about them stays behind
 * under an address.
 */
import { sql, type SQL } from 'drizzle-orm';

export interface OrderRef {
  subjectId: string;
  /** `e:<blind index hex>` or `<system>:<id>`, as `orders.customer_ref`. */
  ref: string;
}

export const emailRef = (index: Buffer) => `e:${index.toString('hex')}`;

/**
 * Links the orders that name these references (and no subject yet) to their subjects: one statement for any number
 * of references, to run alone or inside a larger one.
 */
export function linkOrdersQuery(shopId: string, refs: readonly OrderRef[]): SQL | null {
  if (refs.length === 0) return null;
  return sql`
    update orders o set subject_id = x.subject_id
    from jsonb_to_recordset(${JSON.stringify(refs)}::jsonb) as x(subject_id text, ref text)
    where o.shop_id = ${shopId} and o.subject_id is null and o.customer_ref = x.ref`;
}
