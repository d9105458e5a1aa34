/**
 * What campaigns did: sends per campaign, the provider's opens/clicks/unsubscribes (refreshed from its
 * reports), and revenue from recommended products — orders placed by a recipient within the attribution
 * window after the send that contain a product the email featured.
 */
import { and, asc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { ShopContext } from '../shop/context.js';
import { rows } from '../store/open.js';
import type { CampaignActivity, EmailProvider } from '../ports.js';
import { subjectsByIndexes } from '../profile/subjects.js';
import { campaignRecipients, campaigns, campaignWaves } from '../store/schema.js';

export interface CampaignStats {
  name: string;
  subject: string;
  createdAt: Date;
  lastRunAt: Date;
  waves: number;
  sends: number;
  failed: number;
  opens: number;
  clicks: number;
  unsubscribes: number;
  /** Orders within the window after the send containing a featured product, and their featured lines' value. */
  attributedOrders: number;
  revenue: number;
  reportAt: Date | null;
}

/** The same window as the dashboard's revenue chart: an order up to 30 days after the email counts. */
export const ATTRIBUTION_DAYS = 30;

export async function campaignStats(ctx: ShopContext, attributionDays = ATTRIBUTION_DAYS): Promise<CampaignStats[]> {
  const list = await ctx.db
    .select()
    .from(campaigns)
    .where(eq(campaigns.shopId, ctx.shopId))
    .orderBy(asc(campaigns.createdAt));
  const waves = await ctx.db
    .select({
      campaign: campaignWaves.campaign,
      waves: sql<number>`count(*)::int`,
      sends: sql<number>`coalesce(sum(${campaignWaves.sends}), 0)::int`,
      failed: sql<number>`coalesce(sum(${campaignWaves.failed}), 0)::int`,
      opens: sql<number>`coalesce(sum(${campaignWaves.opens}), 0)::int`,
      clicks: sql<number>`coalesce(sum(${campaignWaves.clicks}), 0)::int`,
      unsubscribes: sql<number>`coalesce(sum(${campaignWaves.unsubscribes}), 0)::int`,
      reportAt: sql<Date | null>`max(${campaignWaves.reportAt})`,
    })
    .from(campaignWaves)
    .where(eq(campaignWaves.shopId, ctx.shopId))
    .groupBy(campaignWaves.campaign);
  // Revenue: featured products bought by the recipient within the window after their send.
  const revenue = await rows<{ campaign: string; orders: number; revenue: number }>(
    ctx.db,
    sql`
    select r.campaign, count(distinct o.order_id)::int as orders,
           coalesce(sum(case when l.price ~ '^-?[0-9]+(\.[0-9]+)?$' then l.price::numeric else 0 end * l.quantity), 0)::float8 as revenue
    from campaign_recipients r
    join orders o on o.shop_id = r.shop_id and o.subject_id = r.subject_id and o.counted
      and o.created_at > r.sent_at and o.created_at <= r.sent_at + make_interval(days => ${attributionDays})
    join order_lines l on l.shop_id = o.shop_id and l.order_id = o.order_id and r.product_ids ? l.product_id
    where r.shop_id = ${ctx.shopId} and r.status = 'sent'
    group by r.campaign`,
  );
  const byCampaign = new Map(waves.map((w) => [w.campaign, w]));
  const money = new Map(revenue.map((r) => [r.campaign, r]));
  return list.map((c) => {
    const w = byCampaign.get(c.name);
    const m = money.get(c.name);
    return {
      name: c.name,
      subject: c.subject,
      createdAt: c.createdAt,
      lastRunAt: c.lastRunAt,
      waves: w?.waves ?? 0,
      sends: w?.sends ?? 0,
      failed: w?.failed ?? 0,
      opens: w?.opens ?? 0,
      clicks: w?.clicks ?? 0,
      unsubscribes: w?.unsubscribes ?? 0,
      attributedOrders: m?.orders ?? 0,
      revenue: Math.round((m?.revenue ?? 0) * 100) / 100,
      reportAt: w?.reportAt ? new Date(w.reportAt) : null,
    };
  });
}

/**
 * Fetches the provider's report of every sent wave (opens, clicks, unsubscribes) into the store. Waves of a
 * Customer Journey (no campaign of their own) have no report and are left alone.
 */
export async function refreshCampaignReports(
  ctx: ShopContext,
  provider: EmailProvider,
  options: { campaign?: string } = {},
): Promise<{ refreshed: number }> {
  if (!provider.capabilities.reports || !provider.campaignReport) return { refreshed: 0 };
  const waves = await ctx.db
    .select({
      campaign: campaignWaves.campaign,
      wave: campaignWaves.wave,
      providerCampaignId: campaignWaves.providerCampaignId,
    })
    .from(campaignWaves)
    .where(
      and(
        eq(campaignWaves.shopId, ctx.shopId),
        eq(campaignWaves.status, 'sent'),
        eq(campaignWaves.system, provider.system),
        isNotNull(campaignWaves.providerCampaignId),
        options.campaign ? eq(campaignWaves.campaign, options.campaign) : undefined,
      ),
    );
  let refreshed = 0;
  for (const w of waves) {
    if (!w.providerCampaignId || w.providerCampaignId.startsWith('journey:')) continue;
    const report = await provider.campaignReport(w.providerCampaignId);
    await ctx.db
      .update(campaignWaves)
      .set({ opens: report.opens, clicks: report.clicks, unsubscribes: report.unsubscribes, reportAt: ctx.now() })
      .where(
        and(
          eq(campaignWaves.shopId, ctx.shopId),
          eq(campaignWaves.campaign, w.campaign),
          eq(campaignWaves.wave, w.wave),
        ),
      );
    if (provider.campaignActivity)
      await recordActivity(ctx, w.campaign, w.wave, await provider.campaignActivity(w.providerCampaignId));
    refreshed += 1;
  }
  return { refreshed };
}

/** Marks which recipients of one wave opened and clicked, found by the blind index of the addresses reported. */
async function recordActivity(
  ctx: ShopContext,
  campaign: string,
  wave: number,
  activity: CampaignActivity,
): Promise<void> {
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const subjectsOf = async (emails: readonly string[]) =>
    (
      await subjectsByIndexes(
        ctx.db,
        ctx.shopId,
        emails.map((e) => ctx.keys.emailIndex(shopKeys, e.trim().toLowerCase())),
      )
    ).map((s) => s.subjectId);
  for (const [column, emails] of [
    ['opened', activity.opened],
    ['clicked', activity.clicked],
  ] as const) {
    const ids = await subjectsOf(emails);
    if (ids.length === 0) continue;
    await ctx.db
      .update(campaignRecipients)
      .set(column === 'opened' ? { opened: true } : { clicked: true })
      .where(
        and(
          eq(campaignRecipients.shopId, ctx.shopId),
          eq(campaignRecipients.campaign, campaign),
          eq(campaignRecipients.wave, wave),
          inArray(campaignRecipients.subjectId, ids),
        ),
      );
  }
}
