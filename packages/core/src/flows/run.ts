/**
 * The flow runner: what the app's worker and `tactful flows run` call. It leases due steps of each enabled flow
 * (`FOR UPDATE SKIP LOCKED`, then a lease, so two instances never hold one step), decides each one now (see
 * evaluate.ts), stores the waits, skips, exits and holdouts with their reasons, and sends the rest through a
 * provider journey or the day's campaign wave (see deliver.ts), exactly once.
 */
import { hostname } from 'node:os';
import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Actor } from '../audit/log.js';
import { personalFrame } from '../campaign/content.js';
import { loadCandidates, sendsBySubject, timeZonesOf } from '../campaign/run.js';
import { readContactPolicy } from '../contact/policy.js';
import { TactfulError } from '../errors/tactful-error.js';
import type { EmailProvider } from '../ports.js';
import { emailsOfMany } from '../profile/subjects.js';
import type { CoPurchaseModel } from '../recommend/model.js';
import type { CustomerRecommendations } from '../recommend/service.js';
import type { ShopContext } from '../shop/context.js';
import { readShopSettings } from '../shop/settings.js';
import { flowSteps } from '../store/schema.js';
import { listFlows, type FlowConfig } from './config.js';
import { deliverByJourney, deliverByWave, usesJourney, type DeliveryRun, type Outgoing } from './deliver.js';
import { decideStep, orderStates, type DecideContext, type StepDecision } from './evaluate.js';

export interface FlowRunDeps {
  ctx: ShopContext;
  provider?: EmailProvider | undefined;
  /** The engine's `recommend.forCustomer` (exclusions and consent applied). */
  recommend: (email: string, options: { k: number }) => Promise<CustomerRecommendations>;
  /** The engine's `recommend.model` (the co-purchase counts, cached). */
  model: () => Promise<CoPurchaseModel>;
  /** The app's public URL: preference-centre and unsubscribe links start with it. */
  publicUrl: string;
  actor?: Actor | undefined;
}

export interface RunDueOptions {
  /** Steps due at or before this time (default now; never later than now). */
  until?: Date | undefined;
  /** At most this many steps in this run (default 1000). */
  limit?: number | undefined;
  /** This process's identity in leases. */
  instanceId?: string | undefined;
  /** How long a leased step belongs to this runner before another may take it over (default 300 s). */
  leaseSeconds?: number | undefined;
}

export interface FlowRunReport {
  leased: number;
  sent: number;
  heldOut: number;
  waiting: number;
  skipped: number;
  exited: number;
  /** Steps a crash had left `sending`, finished in this run. */
  resumed: number;
  failed: Array<{ flowId: string; orderId: string; code: string; message: string }>;
}

const BATCH = 100;
const runnerActor: Actor = { type: 'system', id: 'flows' };

export async function runDueSteps(deps: FlowRunDeps, options: RunDueOptions = {}): Promise<FlowRunReport> {
  const { ctx } = deps;
  const now = ctx.now();
  const until = options.until ?? now;
  if (Number.isNaN(until.getTime()) || until.getTime() > now.getTime())
    throw new TactfulError('FLOW.INVALID', `--until must be a time no later than now (${now.toISOString()}).`);
  const limit = options.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1)
    throw new TactfulError('FLOW.INVALID', 'The limit is a whole number of steps, 1 or more.');
  const report: FlowRunReport = {
    leased: 0,
    sent: 0,
    heldOut: 0,
    waiting: 0,
    skipped: 0,
    exited: 0,
    resumed: 0,
    failed: [],
  };
  const enabled = (await listFlows(ctx.db, ctx.shopId)).filter((f) => f.enabled);
  if (enabled.length === 0) return report;
  const provider = deps.provider;
  if (!provider)
    throw new TactfulError(
      'CAMPAIGN.NO_PROVIDER',
      'No email provider is connected: connect Mailchimp (MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID) to run flows.',
    );
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}`;
  const leaseMs = (options.leaseSeconds ?? 300) * 1000;
  for (const flow of enabled) {
    while (report.leased < limit) {
      const steps = await leaseDue(ctx, flow.flowId, {
        until,
        instanceId,
        leaseMs,
        limit: Math.min(BATCH, limit - report.leased),
      });
      if (steps.length === 0) break;
      report.leased += steps.length;
      await runBatch({ deps, flow, provider, instanceId, leaseMs, report }, steps);
    }
  }
  return report;
}

export type LeasedStep = typeof flowSteps.$inferSelect;

/**
 * Claims due steps: scheduled or waiting ones due by `until` that no live lease holds, and `sending` ones whose
 * runner's lease ran out (it died between the intent and the outcome).
 */
export async function leaseDue(
  ctx: ShopContext,
  flowId: string,
  options: { until: Date; instanceId: string; leaseMs: number; limit: number },
): Promise<LeasedStep[]> {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const free = or(isNull(flowSteps.leaseUntil), lt(flowSteps.leaseUntil, now));
    const due = await tx
      .select({ orderId: flowSteps.orderId })
      .from(flowSteps)
      .where(
        and(
          eq(flowSteps.shopId, ctx.shopId),
          eq(flowSteps.flowId, flowId),
          free,
          or(
            and(inArray(flowSteps.status, ['scheduled', 'waiting']), lte(flowSteps.dueAt, options.until)),
            eq(flowSteps.status, 'sending'),
          ),
        ),
      )
      .orderBy(asc(flowSteps.dueAt), asc(flowSteps.orderId))
      .limit(options.limit)
      .for('update', { skipLocked: true });
    if (due.length === 0) return [];
    const leased = await tx
      .update(flowSteps)
      .set({ claimedBy: options.instanceId, leaseUntil: new Date(now.getTime() + options.leaseMs) })
      .where(
        and(
          eq(flowSteps.shopId, ctx.shopId),
          eq(flowSteps.flowId, flowId),
          inArray(
            flowSteps.orderId,
            due.map((d) => d.orderId),
          ),
        ),
      )
      .returning();
    // In the order they fell due (an UPDATE returns its rows in no particular order).
    const position = new Map(due.map((d, i) => [d.orderId, i]));
    return leased.sort((a, b) => position.get(a.orderId)! - position.get(b.orderId)!);
  });
}

interface Batch {
  deps: FlowRunDeps;
  flow: FlowConfig;
  provider: EmailProvider;
  instanceId: string;
  leaseMs: number;
  report: FlowRunReport;
}

async function runBatch(batch: Batch, steps: readonly LeasedStep[]): Promise<void> {
  const { deps, flow, report } = batch;
  const decide = await decideContext(deps, flow, steps);
  const outgoing: Outgoing[] = [];
  const decided: Array<{ orderId: string; decision: Exclude<StepDecision, { kind: 'send' }> }> = [];
  for (const step of steps) {
    const resuming = step.status === 'sending';
    const decision = await decideStep(decide, { ...step, resuming });
    if (decision.kind === 'send') {
      if (resuming) report.resumed += 1;
      outgoing.push({
        ...decision,
        orderId: step.orderId,
        subjectId: step.subjectId!,
        sendKey: resuming ? step.sendKey : null,
      });
      // A second order of the same person in this batch meets the cap this send uses.
      const sent = decide.sends.get(step.subjectId!) ?? [];
      sent.push({ sentAt: decide.at, productIds: decision.productIds });
      (decide.sends as Map<string, typeof sent>).set(step.subjectId!, sent);
    } else decided.push({ orderId: step.orderId, decision });
  }
  await recordDecisions(deps.ctx, flow, decided, report);
  const run: DeliveryRun = {
    ctx: deps.ctx,
    flow,
    provider: batch.provider,
    actor: deps.actor ?? runnerActor,
    instanceId: batch.instanceId,
    leaseMs: batch.leaseMs,
    sender: (await readShopSettings(deps.ctx.db, deps.ctx.shopId)).sender ?? null,
  };
  // Journey keys are `flow:<flow>:<order>`, wave keys `<campaign>#<wave>`: a step a crash left in a wave goes out
  // again with that wave, under its key; the rest go by journey when the flow has one, else in a new wave.
  const inWave = (o: Outgoing) => o.sendKey?.includes('#') === true;
  const journey = usesJourney(flow, batch.provider);
  if (journey)
    collect(
      report,
      flow,
      await deliverByJourney(
        run,
        outgoing.filter((o) => !inWave(o)),
      ),
    );
  const waves = new Map<string, Outgoing[]>();
  for (const o of outgoing) {
    if (journey && !inWave(o)) continue;
    const key = inWave(o) ? o.sendKey! : '';
    waves.set(key, [...(waves.get(key) ?? []), inWave(o) ? o : { ...o, sendKey: null }]);
  }
  for (const items of waves.values()) collect(report, flow, await deliverByWave(run, items));
}

function collect(report: FlowRunReport, flow: FlowConfig, outcome: Awaited<ReturnType<typeof deliverByWave>>): void {
  report.sent += outcome.sent;
  for (const f of outcome.failed) report.failed.push({ flowId: flow.flowId, ...f });
}

/** Everything deciding a batch reads once: consents, addresses, time zones, earlier sends, the orders, the policy. */
export async function decideContext(
  deps: FlowRunDeps,
  flow: FlowConfig,
  steps: readonly LeasedStep[],
): Promise<DecideContext> {
  const { ctx } = deps;
  const ids = [...new Set(steps.flatMap((s) => (s.subjectId ? [s.subjectId] : [])))];
  const settings = await readShopSettings(ctx.db, ctx.shopId);
  const policy = await readContactPolicy(ctx.db, ctx.shopId);
  const at = ctx.now();
  const longest = policy.caps.reduce((days, c) => Math.max(days, c.days), policy.productResendDays ?? 0);
  const candidates = ids.length ? await loadCandidates(ctx, ids) : [];
  return {
    ctx,
    flow,
    at,
    requireDoubleOptIn: settings.requireDoubleOptIn,
    currency: settings.currency,
    policy,
    candidates: new Map(candidates.map((c) => [c.subjectId, c])),
    emails: await emailsOfMany(ctx.db, ctx.keys, ctx.shopId, ids),
    zones: await timeZonesOf(ctx, ids),
    sends: await sendsBySubject(ctx, ids, new Date(at.getTime() - longest * 86_400_000)),
    orders: await orderStates(
      ctx,
      steps.map((s) => s.orderId),
    ),
    frameOf: await personalFrame(ctx, deps.publicUrl),
    recommend: deps.recommend,
    model: deps.model,
  };
}

/**
 * Stores the batch's waits, skips, exits and holdouts with their reasons, and releases their leases: one
 * statement for the batch, before anything of it is sent.
 */
async function recordDecisions(
  ctx: ShopContext,
  flow: FlowConfig,
  decided: ReadonlyArray<{ orderId: string; decision: Exclude<StepDecision, { kind: 'send' }> }>,
  report: FlowRunReport,
): Promise<void> {
  if (decided.length === 0) return;
  const at = ctx.now().toISOString();
  const heldOut = `held out: the ${Math.round(flow.holdoutShare * 100)} % who get nothing, to measure the flow`;
  const changes = decided.map(({ orderId, decision }) => {
    if (decision.kind === 'wait') {
      report.waiting += 1;
      const until = decision.until.toISOString();
      return { orderId, status: 'waiting', reason: decision.reason, dueAt: until, waited: 1 };
    }
    if (decision.kind === 'hold_out') {
      report.heldOut += 1;
      return { orderId, status: 'held_out', reason: heldOut, productIds: decision.productIds, decided: true };
    }
    if (decision.kind === 'skip') report.skipped += 1;
    else report.exited += 1;
    return { orderId, status: decision.kind === 'skip' ? 'skipped' : 'exited', reason: decision.reason };
  });
  // A field left out of a change keeps the step's value (a holdout keeps its due time, a wait its products).
  await ctx.db.execute(sql`
    update flow_steps s set
      status = c."status",
      reason = c."reason",
      due_at = coalesce(c."dueAt", s.due_at),
      waits = s.waits + coalesce(c."waited", 0),
      product_ids = coalesce(c."productIds", s.product_ids),
      decided_at = case when c."decided" then ${at}::timestamptz else s.decided_at end,
      lease_until = null,
      claimed_by = null,
      updated_at = ${at}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(changes)}::jsonb)
      as c("orderId" text, "status" text, "reason" text, "dueAt" timestamptz, "waited" integer, "productIds" jsonb, "decided" boolean)
    where s.shop_id = ${ctx.shopId} and s.flow_id = ${flow.flowId} and s.order_id = c."orderId"`);
}
