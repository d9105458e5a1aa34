/**
 * The shop's customers as the owner's list shows them: found by an address through its blind index (never by
 * decrypting every row), filtered by consent per purpose, RFM label and a set of members (a saved segment),
 * and paged by keyset (newest first, ties by subject id) so a page never repeats or skips anyone when people
 * are added meanwhile. Only the rows of the page are decrypted. Opening one customer is audited.
 */
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../audit/log.js';
import { appendAudit } from '../audit/log.js';
import { TactfulError } from '../errors/tactful-error.js';
import { parseOrThrow } from '../errors/zod.js';
import { emailAddress } from '../identity/email.js';
import { EMAIL, identifierIndex } from '../identity/identifiers.js';
import { consentStates, type ConsentState } from '../ports.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import { openForSubject, type ShopKeys } from '../store/keyring.js';
import { rows } from '../store/open.js';
import { consentState } from '../store/schema.js';
import { ensureScored, rfmLabels } from './rfm.js';

export const CUSTOMER_PAGE_SIZE = 25;

/** What the owner's list asks for; every field is optional. */
export const customerQuerySchema = z
  .object({
    /** One address, exactly (current or earlier): matched by its blind index. */
    email: emailAddress.optional(),
    /** Purpose key → state; `none` means no decision recorded (or `none`). All must hold. */
    consent: z.record(z.string().min(1).max(100), z.enum(consentStates)).optional(),
    rfmLabel: z.enum(rfmLabels.map((l) => l.label) as [string, ...string[]]).optional(),
    /** The cursor of the previous page's `next`. */
    after: z.string().max(200).optional(),
    limit: z.number().int().min(1).max(100).default(CUSTOMER_PAGE_SIZE),
  })
  .strict();
export type CustomerQuery = z.input<typeof customerQuerySchema>;

export interface CustomerListRow {
  subjectId: string;
  /** Decrypted for this row only. */
  email: string;
  createdAt: Date;
  /** State per purpose (purposes with no decision are absent). */
  consent: Record<string, { state: ConsentState; level: string; since: Date }>;
  rfmLabel: string | null;
  orderCount: number;
  revenue: number;
  lastOrderAt: Date | null;
}

export interface CustomerListPage {
  rows: CustomerListRow[];
  /** Cursor of the next page; null on the last one. */
  next: string | null;
}

interface Cursor {
  createdAt: Date;
  subjectId: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.subjectId}`, 'utf8').toString('base64url');
}

function decodeCursor(value: string): Cursor {
  const text = Buffer.from(value, 'base64url').toString('utf8');
  const [at, subjectId, extra] = text.split('|');
  const createdAt = new Date(at ?? '');
  if (extra !== undefined || !subjectId || Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== at)
    throw new TactfulError(
      'INPUT.INVALID',
      'The page cursor is not one this list wrote: go back to the first page of the list.',
    );
  return { createdAt, subjectId };
}

/**
 * The list's query: pure, so a test can read the SQL it runs (the address is compared as its blind index in
 * `subjects.email_index` and `subject_identifiers.value_index`; no encrypted column is read in a condition).
 */
export function customerListSql(
  ctx: { shopId: string; indexOf: (email: string) => Buffer },
  query: z.output<typeof customerQuerySchema>,
  members: readonly string[] | null,
): SQL {
  const { shopId } = ctx;
  const where: SQL[] = [
    sql`s.shop_id = ${shopId}`,
    sql`s.erased_at is null`,
    sql`s.merged_into is null`,
    sql`s.wrapped_key is not null`,
  ];
  if (query.email !== undefined) {
    const index = ctx.indexOf(query.email);
    where.push(
      sql`(s.email_index = ${index} or s.subject_id in (select i.subject_id from subject_identifiers i
            where i.shop_id = ${shopId} and i.kind = ${EMAIL} and i.value_index = ${index}))`,
    );
  }
  for (const [purpose, state] of Object.entries(query.consent ?? {})) {
    where.push(
      state === 'none'
        ? sql`not exists (select 1 from consent_state c where c.shop_id = s.shop_id and c.subject_id = s.subject_id
                and c.purpose = ${purpose} and c.state <> 'none')`
        : sql`exists (select 1 from consent_state c where c.shop_id = s.shop_id and c.subject_id = s.subject_id
                and c.purpose = ${purpose} and c.state = ${state})`,
    );
  }
  if (query.rfmLabel !== undefined) where.push(sql`p.rfm_label = ${query.rfmLabel}`);
  if (members !== null)
    where.push(sql`s.subject_id in (select jsonb_array_elements_text(${JSON.stringify(members)}::jsonb))`);
  if (query.after !== undefined) {
    const c = decodeCursor(query.after);
    where.push(sql`(s.created_at, s.subject_id) < (${c.createdAt.toISOString()}::timestamptz, ${c.subjectId})`);
  }
  return sql`select s.subject_id, s.email_enc, s.wrapped_key, s.created_at, p.rfm_label,
      coalesce(p.order_count, 0)::int as order_count, coalesce(p.revenue, 0)::text as revenue, p.last_order_at
    from subjects s left join profiles p on p.shop_id = s.shop_id and p.subject_id = s.subject_id
    where ${sql.join(where, sql` and `)}
    order by s.created_at desc, s.subject_id desc
    limit ${query.limit + 1}`;
}

/** Parses the owner's query (INPUT.INVALID naming every problem). */
export function parseCustomerQuery(input: unknown): z.output<typeof customerQuerySchema> {
  const query = parseOrThrow(customerQuerySchema, input, 'INPUT.INVALID', 'customer search');
  if (query.after !== undefined) decodeCursor(query.after);
  return query;
}

/** One page of customers; `members` narrows to a set of subject ids (a saved segment's), null for everyone. */
export async function listCustomers(
  ctx: ShopContext,
  input: unknown,
  members: readonly string[] | null,
): Promise<CustomerListPage> {
  const query = parseCustomerQuery(input);
  const { db, keys, shopId } = ctx;
  const shopKeys: ShopKeys = await keys.shop(db, shopId);
  if (query.rfmLabel !== undefined) await ensureScored(db, keys, shopId, ctx.now());
  const found = await rows<{
    subject_id: string;
    email_enc: Buffer | Uint8Array;
    wrapped_key: Buffer | Uint8Array;
    created_at: string | Date;
    rfm_label: string | null;
    order_count: number;
    revenue: string;
    last_order_at: string | Date | null;
  }>(
    db,
    customerListSql(
      { shopId, indexOf: (email) => identifierIndex({ keys, shopKeys, shopId }, EMAIL, email) },
      query,
      members,
    ),
  );
  const page = found.slice(0, query.limit);
  const ids = page.map((r) => r.subject_id);
  const states =
    ids.length === 0
      ? []
      : await db
          .select()
          .from(consentState)
          .where(and(eq(consentState.shopId, shopId), inArray(consentState.subjectId, ids)));
  const out: CustomerListRow[] = page.map((r) => {
    const key = keys.unwrapSubjectKey(shopKeys, shopId, r.subject_id, Buffer.from(r.wrapped_key));
    const consent: CustomerListRow['consent'] = {};
    for (const s of states)
      if (s.subjectId === r.subject_id && s.state !== 'none')
        consent[s.purpose] = { state: s.state as ConsentState, level: s.level, since: s.since };
    return {
      subjectId: r.subject_id,
      email: key ? openForSubject(key, shopId, r.subject_id, 'email', Buffer.from(r.email_enc)) : '',
      createdAt: new Date(r.created_at),
      consent,
      rfmLabel: r.rfm_label,
      orderCount: Number(r.order_count),
      revenue: Number(r.revenue),
      lastOrderAt: r.last_order_at === null ? null : new Date(r.last_order_at),
    };
  });
  const last = out[out.length - 1];
  return {
    rows: out,
    next:
      found.length > query.limit && last
        ? encodeCursor({ createdAt: last.createdAt, subjectId: last.subjectId })
        : null,
  };
}

/**
 * Records that `actor` opened the customer's page (`subject.viewed`, with what was looked at), so the person's
 * export and the audit log say who looked and when. Returns false for an unknown or erased subject (nothing
 * is recorded then).
 */
export async function recordCustomerView(
  ctx: ShopContext,
  subjectId: string,
  actor: Actor,
  what: string,
  action: 'subject.viewed' | 'admin.action' = 'subject.viewed',
): Promise<boolean> {
  const [live] = await rows<{ subject_id: string }>(
    ctx.db,
    sql`select subject_id from subjects where shop_id = ${ctx.shopId} and subject_id = ${subjectId}
          and erased_at is null and wrapped_key is not null`,
  );
  if (!live) return false;
  await withShopTransaction(ctx, actor, (s) =>
    appendAudit(s.tx, ctx.shopId, s.head, {
      action,
      actor,
      subjectId,
      at: s.recordedAt,
      details: action === 'subject.viewed' ? { view: what } : { action: what },
    }),
  );
  return true;
}

/** One email a customer was sent, with what its wave reported (providers report opens and clicks per send call). */
export interface CustomerEmail {
  campaign: string;
  subject: string | null;
  sentAt: Date | null;
  status: 'claimed' | 'sent';
  /** What the provider reported of this person (false until a report with per-person activity was read). */
  opened: boolean;
  clicked: boolean;
  products: Array<{ productId: string; title: string }>;
  /** The provider's figures for the wave (one send call) this email went out in; null before any report. */
  wave: { sends: number; opens: number; clicks: number; unsubscribes: number; reportAt: Date | null } | null;
}

/** The campaign emails the customer was picked for, newest first, with their wave's opens and clicks. */
export async function customerEmails(ctx: ShopContext, subjectId: string): Promise<CustomerEmail[]> {
  const found = await rows<{
    campaign: string;
    subject: string | null;
    sent_at: string | Date | null;
    status: 'claimed' | 'sent';
    opened: boolean;
    clicked: boolean;
    product_ids: string[];
    sends: number | null;
    opens: number | null;
    clicks: number | null;
    unsubscribes: number | null;
    report_at: string | Date | null;
  }>(
    ctx.db,
    sql`select r.campaign, c.subject, r.sent_at, r.status, r.opened, r.clicked, r.product_ids,
          w.sends, w.opens, w.clicks, w.unsubscribes, w.report_at
        from campaign_recipients r
        left join campaigns c on c.shop_id = r.shop_id and c.name = r.campaign
        left join campaign_waves w on w.shop_id = r.shop_id and w.campaign = r.campaign and w.wave = r.wave
        where r.shop_id = ${ctx.shopId} and r.subject_id = ${subjectId}
        order by r.sent_at desc nulls last, r.campaign`,
  );
  const productIds = [...new Set(found.flatMap((r) => r.product_ids ?? []))];
  const titles = new Map<string, string>();
  if (productIds.length > 0)
    for (const p of await rows<{ product_id: string; title: string }>(
      ctx.db,
      sql`select product_id, title from products where shop_id = ${ctx.shopId}
            and product_id in (select jsonb_array_elements_text(${JSON.stringify(productIds)}::jsonb))`,
    ))
      titles.set(p.product_id, p.title);
  return found.map((r) => ({
    campaign: r.campaign,
    subject: r.subject,
    sentAt: r.sent_at === null ? null : new Date(r.sent_at),
    status: r.status,
    opened: r.opened === true,
    clicked: r.clicked === true,
    products: (r.product_ids ?? []).map((id) => ({ productId: id, title: titles.get(id) ?? id })),
    wave:
      r.sends === null
        ? null
        : {
            sends: Number(r.sends),
            opens: Number(r.opens ?? 0),
            clicks: Number(r.clicks ?? 0),
            unsubscribes: Number(r.unsubscribes ?? 0),
            reportAt: r.report_at === null ? null : new Date(r.report_at),
          },
  }));
}
