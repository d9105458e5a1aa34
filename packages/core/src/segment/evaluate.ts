/**
 * Segments compiled to ONE SQL condition over `profiles p` (every value a bound parameter), so the database
 * does the work and PGlite and PostgreSQL return the same members. The universe is the shop's profiles:
 * only customers whose personalization consent is granted are ever in a segment.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { KeyRing, ShopKeys } from '../store/keyring.js';
import { emailsOfMany } from '../profile/subjects.js';
import { ensureScored } from '../profile/rfm.js';
import { attributeIndex, normaliseForIndex } from '../profile/sealed-attributes.js';
import type { Db } from '../store/open.js';
import { rows } from '../store/open.js';
import { ageBandRange, type Predicate, type Segment } from './language.js';

export interface CompileContext {
  shopId: string;
  shopKeys: ShopKeys;
  now: Date;
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const json = (v: unknown) => JSON.stringify(v);
/** `x in (values)` with ONE parameter, the values as a JSON array. */
const inJson = (column: SQL, values: Array<string | number>, type: 'text' | 'numeric' = 'text') =>
  type === 'text'
    ? sql`${column} in (select jsonb_array_elements_text(${json(values.map(String))}::jsonb))`
    : sql`${column} in (select jsonb_array_elements_text(${json(values.map(String))}::jsonb)::numeric)`;

const plainText: Record<string, { column: SQL; normalise: (v: string) => string }> = {
  gender: { column: sql`p.gender`, normalise: (v) => v.trim().toLowerCase() },
  country: { column: sql`p.country`, normalise: (v) => v.trim().toUpperCase() },
  region: { column: sql`lower(p.region)`, normalise: (v) => v.trim().toLowerCase() },
};

function rangeSql(column: SQL, r: { min?: number | undefined; max?: number | undefined }): SQL {
  const parts: SQL[] = [];
  if (r.min !== undefined) parts.push(sql`${column} >= ${r.min}`);
  if (r.max !== undefined) parts.push(sql`${column} <= ${r.max}`);
  return sql.join(parts, sql` and `);
}

function predicateSql(p: Predicate, ctx: CompileContext): SQL {
  if ('attribute' in p) {
    const a = p.attribute;
    if (a.exists !== undefined) {
      const has = a.name === 'age' ? sql`p.age is not null` : sql`p.attr_keys @> jsonb_build_array(${a.name}::text)`;
      return a.exists ? has : sql`not (${has})`;
    }
    if (a.name === 'age') {
      if (a.between) {
        const [x, y] = a.between;
        return sql`p.age between ${Math.min(x, y)} and ${Math.max(x, y)}`;
      }
      const values = a.eq !== undefined ? [a.eq] : a.in!;
      return inJson(sql`p.age`, values.map(Number), 'numeric');
    }
    const values = (a.eq !== undefined ? [a.eq] : a.in!).map(String);
    const plain = plainText[a.name];
    if (plain) return inJson(plain.column, values.map(plain.normalise));
    // Sealed attribute: compare keyed hashes of the normalised values.
    return inJson(
      sql`(p.attr_index ->> ${a.name}::text)`,
      values.map((v) => attributeIndex(ctx.shopKeys, a.name, v)),
    );
  }
  if ('ageBand' in p) {
    return sql`(${sql.join(
      list(p.ageBand).map((band) => sql`p.age between ${ageBandRange[band][0]} and ${ageBandRange[band][1]}`),
      sql` or `,
    )})`;
  }
  if ('location' in p) {
    const parts: SQL[] = [];
    const l = p.location;
    if (l.country)
      parts.push(
        inJson(
          sql`p.country`,
          list(l.country).map((c) => c.toUpperCase()),
        ),
      );
    if (l.region)
      parts.push(
        inJson(
          sql`lower(p.region)`,
          list(l.region).map((r) => r.trim().toLowerCase()),
        ),
      );
    if (l.city)
      parts.push(
        inJson(
          sql`(p.attr_index ->> 'city')`,
          list(l.city).map((c) => attributeIndex(ctx.shopKeys, 'city', normaliseForIndex(c))),
        ),
      );
    return sql`(${sql.join(parts, sql` and `)})`;
  }
  if ('interests' in p) {
    const i = p.interests;
    if (i.allOf) return sql`p.interests @> ${json(i.allOf.map((x) => x.trim().toLowerCase()))}::jsonb`;
    return sql`(${sql.join(
      i.anyOf!.map((x) => sql`p.interests @> jsonb_build_array(${x.trim().toLowerCase()}::text)`),
      sql` or `,
    )})`;
  }
  if ('rfm' in p) {
    const parts: SQL[] = [];
    if (p.rfm.recency) parts.push(sql`p.recency_score between ${p.rfm.recency[0]} and ${p.rfm.recency[1]}`);
    if (p.rfm.frequency) parts.push(sql`p.frequency_score between ${p.rfm.frequency[0]} and ${p.rfm.frequency[1]}`);
    if (p.rfm.monetary) parts.push(sql`p.monetary_score between ${p.rfm.monetary[0]} and ${p.rfm.monetary[1]}`);
    return sql`(${sql.join(parts, sql` and `)})`;
  }
  if ('rfmLabel' in p) return inJson(sql`p.rfm_label`, list(p.rfmLabel));
  if ('purchased' in p) {
    // A semi-join (the set of buyers, computed once) rather than a correlated probe per profile.
    const b = p.purchased;
    const parts: SQL[] = [
      sql`o.shop_id = ${ctx.shopId}`,
      sql`o.subject_id is not null`,
      sql`o.counted`,
      sql`l.quantity > 0`,
    ];
    if (b.product) parts.push(inJson(sql`l.product_id`, list(b.product)));
    if (b.category) parts.push(inJson(sql`pr.category`, list(b.category)));
    if (b.withinDays)
      parts.push(
        sql`o.created_at >= ${new Date(ctx.now.getTime() - b.withinDays * 86_400_000).toISOString()}::timestamptz`,
      );
    const join = b.category ? sql`join products pr on pr.shop_id = l.shop_id and pr.product_id = l.product_id` : sql``;
    return sql`p.subject_id in (select o.subject_id from orders o join order_lines l on l.shop_id = o.shop_id and l.order_id = o.order_id ${join} where ${sql.join(parts, sql` and `)})`;
  }
  if ('orderCount' in p) return sql`(${rangeSql(sql`p.order_count`, p.orderCount)})`;
  if ('revenue' in p) return sql`(${rangeSql(sql`p.revenue`, p.revenue)})`;
  if ('consent' in p) {
    const states = list(p.consent.state);
    const purpose = p.consent.purpose;
    const held = sql`p.subject_id in (select c.subject_id from consent_state c where c.shop_id = ${ctx.shopId} and c.purpose = ${purpose} and ${inJson(sql`c.state`, states)})`;
    if (!states.includes('none')) return held;
    const decided = sql`p.subject_id in (select c.subject_id from consent_state c where c.shop_id = ${ctx.shopId} and c.purpose = ${purpose} and c.state <> 'none')`;
    return sql`(${held} or not ${decided})`;
  }
  const never: never = p;
  throw new Error(`unhandled predicate ${JSON.stringify(never)}`);
}

/** The segment as a SQL condition over `profiles p`. */
export function compileSegment(segment: Segment, ctx: CompileContext): SQL {
  if ('all' in segment)
    return sql`(${sql.join(
      segment.all.map((s) => compileSegment(s, ctx)),
      sql` and `,
    )})`;
  if ('any' in segment)
    return sql`(${sql.join(
      segment.any.map((s) => compileSegment(s, ctx)),
      sql` or `,
    )})`;
  if ('not' in segment) return sql`(not coalesce(${compileSegment(segment.not, ctx)}, false))`;
  return sql`coalesce(${predicateSql(segment as Predicate, ctx)}, false)`;
}

/** True when the segment reads RFM scores, which must be fresh first. */
function usesRfm(segment: Segment): boolean {
  if ('all' in segment) return segment.all.some(usesRfm);
  if ('any' in segment) return segment.any.some(usesRfm);
  if ('not' in segment) return usesRfm(segment.not);
  return (
    'rfm' in segment ||
    'rfmLabel' in segment ||
    ('attribute' in segment && segment.attribute.name === 'age') ||
    'ageBand' in segment
  );
}

export interface SegmentContext {
  db: Db;
  keys: KeyRing;
  shopId: string;
  now: () => Date;
}

async function prepare(ctx: SegmentContext, segment: Segment): Promise<SQL> {
  const now = ctx.now();
  if (usesRfm(segment)) await ensureScored(ctx.db, ctx.keys, ctx.shopId, now);
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  return compileSegment(segment, { shopId: ctx.shopId, shopKeys, now });
}

/** Every member's subject id, in subject id order. */
export async function segmentMembers(ctx: SegmentContext, segment: Segment): Promise<string[]> {
  const where = await prepare(ctx, segment);
  const found = await rows<{ subject_id: string }>(
    ctx.db,
    sql`select p.subject_id from profiles p where p.shop_id = ${ctx.shopId} and ${where} order by p.subject_id`,
  );
  return found.map((r) => r.subject_id);
}

export interface SegmentPreview {
  count: number;
  /** Profiles of the shop (the universe a segment selects from). */
  profiles: number;
  sample: Array<{ subjectId: string; email: string }>;
}

export async function previewSegment(ctx: SegmentContext, segment: Segment, sampleSize = 10): Promise<SegmentPreview> {
  const where = await prepare(ctx, segment);
  const [counts] = await rows<{ n: number; total: number }>(
    ctx.db,
    sql`select count(*) filter (where ${where})::int as n, count(*)::int as total from profiles p where p.shop_id = ${ctx.shopId}`,
  );
  const sample = await rows<{ subject_id: string }>(
    ctx.db,
    sql`select p.subject_id from profiles p where p.shop_id = ${ctx.shopId} and ${where} order by p.subject_id limit ${sampleSize}`,
  );
  const emails = await emailsOfMany(
    ctx.db,
    ctx.keys,
    ctx.shopId,
    sample.map((r) => r.subject_id),
  );
  return {
    count: Number(counts?.n ?? 0),
    profiles: Number(counts?.total ?? 0),
    sample: sample.map((r) => ({ subjectId: r.subject_id, email: emails.get(r.subject_id) ?? '' })),
  };
}

/** Whether one subject is in the segment (the export lists the saved segments a person is in). */
export async function isMember(ctx: SegmentContext, segment: Segment, subjectId: string): Promise<boolean> {
  const where = await prepare(ctx, segment);
  const found = await rows<{ one: number }>(
    ctx.db,
    sql`select 1 as one from profiles p where p.shop_id = ${ctx.shopId} and p.subject_id = ${subjectId} and ${where}`,
  );
  return found.length > 0;
}

// ---------------------------------------------------------------------------------------------------------
// Reports

export interface ParetoReport {
  /** Customers with at least one counted order (profiles only). */
  customers: number;
  totalRevenue: number;
  /** The smallest set of customers, by revenue, holding at least `threshold` of it. */
  top: number;
  topRevenue: number;
  /** top / customers. */
  shareOfCustomers: number;
  threshold: number;
  members: Array<{ subjectId: string; email: string; revenue: number; cumulativeShare: number }>;
}

export async function paretoReport(ctx: SegmentContext, threshold = 0.8): Promise<ParetoReport> {
  const found = await rows<{ subject_id: string; revenue: string; cum: string; total: string; n: number }>(
    ctx.db,
    sql`with r as (
          select subject_id, revenue,
                 sum(revenue) over (order by revenue desc, subject_id rows between unbounded preceding and current row) as cum,
                 sum(revenue) over () as total, count(*) over () as n
          from profiles where shop_id = ${ctx.shopId} and order_count > 0 and revenue > 0)
        select subject_id, revenue::text, cum::text, total::text, n::int from r
        where cum - revenue < ${threshold} * total order by r.revenue desc, r.subject_id`,
  );
  const [all] = await rows<{ n: number }>(
    ctx.db,
    sql`select count(*)::int as n from profiles where shop_id = ${ctx.shopId} and order_count > 0`,
  );
  const customers = Number(all?.n ?? 0);
  const total = found.length > 0 ? Number(found[0]!.total) : 0;
  const emails = await emailsOfMany(
    ctx.db,
    ctx.keys,
    ctx.shopId,
    found.map((r) => r.subject_id),
  );
  const topRevenue = found.reduce((s, r) => s + Number(r.revenue), 0);
  return {
    customers,
    totalRevenue: total,
    top: found.length,
    topRevenue: Math.round(topRevenue * 100) / 100,
    shareOfCustomers: customers > 0 ? found.length / customers : 0,
    threshold,
    members: found.map((r) => ({
      subjectId: r.subject_id,
      email: emails.get(r.subject_id) ?? '',
      revenue: Number(r.revenue),
      cumulativeShare: total > 0 ? Number(r.cum) / total : 0,
    })),
  };
}

export interface RfmReport {
  customers: number;
  labels: Array<{
    label: string;
    customers: number;
    share: number;
    revenue: number;
    averageRecency: number;
    averageFrequency: number;
    averageMonetary: number;
  }>;
  grid: Array<{ recency: number; frequency: number; customers: number }>;
}

export async function rfmReport(ctx: SegmentContext): Promise<RfmReport> {
  await ensureScored(ctx.db, ctx.keys, ctx.shopId, ctx.now());
  const labels = await rows<{ label: string; n: number; revenue: string; r: string; f: string; m: string }>(
    ctx.db,
    sql`select rfm_label as label, count(*)::int as n, sum(revenue)::text as revenue, avg(recency_score)::text as r, avg(frequency_score)::text as f, avg(monetary_score)::text as m
        from profiles where shop_id = ${ctx.shopId} and rfm_label is not null group by rfm_label order by count(*) desc, rfm_label`,
  );
  const grid = await rows<{ r: number; f: number; n: number }>(
    ctx.db,
    sql`select recency_score::int as r, frequency_score::int as f, count(*)::int as n from profiles
        where shop_id = ${ctx.shopId} and rfm_label is not null group by recency_score, frequency_score order by recency_score, frequency_score`,
  );
  const customers = labels.reduce((s, l) => s + Number(l.n), 0);
  const round = (v: string) => Math.round(Number(v) * 100) / 100;
  return {
    customers,
    labels: labels.map((l) => ({
      label: l.label,
      customers: Number(l.n),
      share: customers > 0 ? Number(l.n) / customers : 0,
      revenue: round(l.revenue),
      averageRecency: round(l.r),
      averageFrequency: round(l.f),
      averageMonetary: round(l.m),
    })),
    grid: grid.map((g) => ({ recency: Number(g.r), frequency: Number(g.f), customers: Number(g.n) })),
  };
}
