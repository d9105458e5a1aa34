/**
 * Sending a flow's steps, exactly once. Before the provider is called, each step is marked `sending` with the
 * provider idempotency key it will be sent under (a journey trigger's `flow:<flow>:<order>`, or a campaign
 * wave's `<campaign>#<wave>`), in a transaction; after the provider answered, the send, the contact-policy
 * record and the audit entry commit together. A process killed in between leaves the step `sending`: once its
 * lease ran out, the next runner sends it again under the same key, which the provider recognises.
 *
 * The lease is the fence: a runner marks a step `sending` only while it still holds the step (nobody took it
 * over after its lease ran out), renewing the lease as it does, and leaves alone a step it lost. A runner slowed
 * past its lease (a provider retrying rate limits) would otherwise send a step the runner that took it over sends
 * too, and a provider's own key check is not atomic across processes.
 */
import { and, eq, inArray, sql, TransactionRollbackError } from 'drizzle-orm';
import { appendAudit, type Actor } from '../audit/log.js';
import { TactfulError, isTactfulError } from '../errors/tactful-error.js';
import type { CampaignContent, CampaignSender, EmailProvider } from '../ports.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import type { Db } from '../store/open.js';
import { campaigns, campaignWaves, contactSends, flowSteps } from '../store/schema.js';
import type { FlowConfig } from './config.js';

export interface Outgoing {
  orderId: string;
  subjectId: string;
  email: string;
  content: CampaignContent;
  productIds: string[];
  /** Set when resuming: the key it was (perhaps) already sent under. */
  sendKey: string | null;
}

export interface DeliveryRun {
  ctx: ShopContext;
  flow: FlowConfig;
  provider: EmailProvider;
  actor: Actor;
  instanceId: string;
  /** How long a step stays this runner's after it marks it `sending`. */
  leaseMs: number;
  sender: CampaignSender | null;
}

export interface DeliveryOutcome {
  sent: number;
  failed: Array<{ orderId: string; code: string; message: string }>;
}

/** Whether this flow goes out through a provider journey (else daily campaign waves). */
export function usesJourney(flow: FlowConfig, provider: EmailProvider): boolean {
  return Boolean(provider.capabilities.journeys && provider.triggerJourney && flow.journeyId && flow.stepId);
}

const stepsOf = (ctx: ShopContext, flowId: string, orderIds: readonly string[]) =>
  and(eq(flowSteps.shopId, ctx.shopId), eq(flowSteps.flowId, flowId), inArray(flowSteps.orderId, [...orderIds]));

/**
 * Records the intent, `sending` under `key` with what it features, for the steps this runner still holds (it
 * claimed them and nobody took them over since), renewing their lease; returns those. The others are left to
 * the runner that holds them now.
 */
async function markSending(
  run: DeliveryRun,
  db: Db,
  items: readonly Outgoing[],
  key: string,
  delivery: string,
): Promise<Outgoing[]> {
  const held: Outgoing[] = [];
  const now = run.ctx.now();
  for (const item of items) {
    const [row] = await db
      .update(flowSteps)
      .set({
        status: 'sending',
        sendKey: key,
        delivery,
        productIds: item.productIds,
        leaseUntil: new Date(now.getTime() + run.leaseMs),
        updatedAt: now,
      })
      .where(and(stepsOf(run.ctx, run.flow.flowId, [item.orderId]), eq(flowSteps.claimedBy, run.instanceId)))
      .returning({ orderId: flowSteps.orderId });
    if (row) held.push(item);
  }
  return held;
}

/** The send, its contact-policy record and its audit entry, together. */
async function markSent(run: DeliveryRun, items: readonly Outgoing[], details: Record<string, unknown>): Promise<void> {
  if (items.length === 0) return;
  const { ctx, flow } = run;
  const at = ctx.now();
  await withShopTransaction(ctx, run.actor, async (s) => {
    await s.tx
      .update(flowSteps)
      .set({ status: 'sent', reason: null, decidedAt: at, leaseUntil: null, updatedAt: at })
      .where(
        stepsOf(
          ctx,
          flow.flowId,
          items.map((i) => i.orderId),
        ),
      );
    await s.tx
      .insert(contactSends)
      .values(
        items.map((i) => ({
          shopId: ctx.shopId,
          subjectId: i.subjectId,
          sendId: `flow:${flow.flowId}:${i.orderId}`,
          sentAt: at,
          campaign: `flow-${flow.flowId}`,
          productIds: i.productIds,
        })),
      )
      .onConflictDoNothing();
    await appendAudit(s.tx, ctx.shopId, s.head, {
      action: 'flow.sent',
      actor: run.actor,
      at: s.recordedAt,
      subjectId: items.length === 1 ? items[0]!.subjectId : null,
      details: { flow: flow.flowId, sent: items.length, system: run.provider.system, ...details },
    });
  });
}

/** A refusal for good (e.g. not subscribed at the provider): the step is skipped, with the provider's words. */
async function markRefused(run: DeliveryRun, orderIds: readonly string[], reason: string): Promise<void> {
  if (orderIds.length === 0) return;
  await run.ctx.db
    .update(flowSteps)
    .set({ status: 'skipped', reason, leaseUntil: null, updatedAt: run.ctx.now() })
    .where(stepsOf(run.ctx, run.flow.flowId, orderIds));
}

/** One journey trigger per step, each under its own key. */
export async function deliverByJourney(run: DeliveryRun, items: readonly Outgoing[]): Promise<DeliveryOutcome> {
  const outcome: DeliveryOutcome = { sent: 0, failed: [] };
  for (const item of items) {
    const key = item.sendKey ?? `flow:${run.flow.flowId}:${item.orderId}`;
    if ((await markSending(run, run.ctx.db, [item], key, 'journey')).length === 0) continue;
    try {
      const result = await run.provider.triggerJourney!({
        key,
        journeyId: run.flow.journeyId!,
        stepId: run.flow.stepId!,
        message: { email: item.email, content: item.content },
      });
      await markSent(run, [item], { orderId: item.orderId, journey: run.flow.journeyId, trigger: result.status });
      outcome.sent += 1;
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      outcome.failed.push({ orderId: item.orderId, code: error.code, message: error.message });
      // Retryable: left `sending` under its key; the next runner after the lease tries again.
      if (!error.retryable) await markRefused(run, [item.orderId], `${run.provider.system} refused: ${error.message}`);
    }
  }
  return outcome;
}

/** The day's campaign of a flow, one per UTC day: `flow-post-purchase-2026-12-06`. */
export function waveCampaignName(flowId: string, at: Date): string {
  return `flow-${flowId}-${at.toISOString().slice(0, 10)}`;
}

/**
 * A new wave of the day's campaign, claimed with its steps marked `sending` in one transaction; null (and no
 * wave) when this runner holds none of the steps any more.
 */
async function claimWave(
  run: DeliveryRun,
  items: readonly Outgoing[],
): Promise<{ key: string; items: Outgoing[] } | null> {
  const { ctx } = run;
  const campaign = waveCampaignName(run.flow.flowId, ctx.now());
  await ctx.db
    .insert(campaigns)
    .values({
      shopId: ctx.shopId,
      name: campaign,
      subject: run.flow.subject,
      createdAt: ctx.now(),
      lastRunAt: ctx.now(),
    })
    .onConflictDoUpdate({ target: [campaigns.shopId, campaigns.name], set: { lastRunAt: ctx.now() } });
  for (;;) {
    const claimed = await ctx.db
      .transaction(async (tx) => {
        const [row] = await tx
          .insert(campaignWaves)
          .values({
            shopId: ctx.shopId,
            campaign,
            wave: sql`(select coalesce(max(${campaignWaves.wave}), 0) + 1 from ${campaignWaves} where ${campaignWaves.shopId} = ${ctx.shopId} and ${campaignWaves.campaign} = ${campaign})`,
            status: 'claimed',
            system: run.provider.system,
            claimedBy: run.instanceId,
            leaseUntil: new Date(ctx.now().getTime() + 600_000),
            createdAt: ctx.now(),
          })
          .onConflictDoNothing()
          .returning({ wave: campaignWaves.wave });
        if (!row) return null;
        const waveKey = `${campaign}#${row.wave}`;
        const held = await markSending(run, tx, items, waveKey, `wave:${waveKey}`);
        if (held.length === 0) tx.rollback();
        return { key: waveKey, items: held };
      })
      .catch((error: unknown) => {
        if (error instanceof TransactionRollbackError) return 'lost' as const;
        throw error;
      });
    if (claimed === 'lost') return null;
    if (claimed) return claimed;
    // Another instance took this wave number at the same moment: take the next one.
  }
}

/** One campaign call for the steps of a wave; a resumed wave is sent again under its stored key. */
export async function deliverByWave(run: DeliveryRun, items: readonly Outgoing[]): Promise<DeliveryOutcome> {
  if (items.length === 0) return { sent: 0, failed: [] };
  if (!run.sender)
    throw new TactfulError(
      'CAMPAIGN.NO_SENDER',
      "The shop has no sender identity (name, reply address, postal address): set it in the admin's Settings or with `tactful settings sender`; the flow's waves wait until then.",
    );
  const resumedKey = items[0]!.sendKey;
  const claimed = resumedKey
    ? { key: resumedKey, items: await markSending(run, run.ctx.db, items, resumedKey, `wave:${resumedKey}`) }
    : await claimWave(run, items);
  if (!claimed || claimed.items.length === 0) return { sent: 0, failed: [] };
  const { key, items: held } = claimed;
  const [campaign, waveText] = key.split('#') as [string, string];
  let result: Awaited<ReturnType<NonNullable<EmailProvider['sendCampaign']>>>;
  try {
    result = await run.provider.sendCampaign!({
      key,
      subject: run.flow.subject,
      sender: run.sender,
      recipients: held.map(({ email, content }) => ({ email, content })),
    });
  } catch (error) {
    if (!isTactfulError(error) || !error.retryable) throw error;
    // Left `sending` under the wave's key: the next runner after the lease sends it again, harmlessly.
    return { sent: 0, failed: held.map((i) => ({ orderId: i.orderId, code: error.code, message: error.message })) };
  }
  const sentTo = new Set(result.sent.map((e) => e.toLowerCase()));
  const sent = held.filter((i) => sentTo.has(i.email.toLowerCase()));
  const refused = held.filter((i) => !sentTo.has(i.email.toLowerCase()));
  await markSent(run, sent, { campaign, wave: Number(waveText), providerCampaignId: result.campaignId });
  await finishWave(run, campaign, Number(waveText), sent.length, refused.length, result.campaignId);
  const reasons = new Map(result.failed.map((f) => [f.email.toLowerCase(), f]));
  for (const item of refused) {
    const why = reasons.get(item.email.toLowerCase());
    await markRefused(run, [item.orderId], `${run.provider.system} refused: ${why?.message ?? 'not sent'}`);
  }
  return {
    sent: sent.length,
    failed: refused.map((i) => ({
      orderId: i.orderId,
      code: reasons.get(i.email.toLowerCase())?.code ?? 'CAMPAIGN.NOT_SENT',
      message: reasons.get(i.email.toLowerCase())?.message ?? 'not sent',
    })),
  };
}

/**
 * The wave's figures, so campaign reports fetch its opens and clicks. Its recipients stay in `flow_steps` (the flow's
 * report attributes orders against the holdout); campaign stats do not count them a second time.
 */
async function finishWave(
  run: DeliveryRun,
  campaign: string,
  wave: number,
  sent: number,
  failed: number,
  providerCampaignId: string,
): Promise<void> {
  const { ctx } = run;
  await ctx.db
    .update(campaignWaves)
    .set({ status: 'sent', sentAt: ctx.now(), providerCampaignId: providerCampaignId || null, sends: sent, failed })
    .where(
      and(eq(campaignWaves.shopId, ctx.shopId), eq(campaignWaves.campaign, campaign), eq(campaignWaves.wave, wave)),
    );
}
