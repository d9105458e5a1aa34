/**
 * How the schema distributes by tenant (Citus, `shop_id` as the distribution column): every table is
 * distributed and co-located by `shop_id`, except the reference tables listed here, which hold no shop's rows
 * and are copied whole to every node. A table is added here only if it has no `shop_id`; docs/scaling.md
 * names this list, and the distribution tests hold every other table's keys to `shop_id`.
 */
export const REFERENCE_TABLES: readonly string[] = [];
