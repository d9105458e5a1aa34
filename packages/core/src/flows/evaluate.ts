/**
 * What one due step does now, decided at send time and never earlier: the consents and the person as they are
 * now, the order as it is now, what they bought since, the contact policy and the send window. The answer is a
 * value: send (with the email's content), hold out, wait until a time, skip or exit, each with its reason in
 * words an owner reads.
 */
import { and, eq, gt, inArray, ne } from 'drizzle-orm';
import {
  isPersonalReason,
  listJoin,
  formatConsentDate,
  productContent,
  type PersonalFrame,
} from '../campaign/content.js';
import { consentExclusion, exclusionLabels, type Candidate } from '../campaign/run.js';
import { decideContact, type ContactPolicy, type SendRecord } from '../contact/policy.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { CampaignContent } from '../ports.js';
import type { CoPurchaseModel } from '../recommend/model.js';
import type { CustomerRecommendations, ExplainedRecommendation } from '../recommend/service.js';
import type { ShopContext } from '../shop/context.js';
import { orderLines, orders, products } from '../store/schema.js';
import type { FlowConfig } from './config.js';
import { isHeldOut, nextInWindow } from './schedule.js';

/** A step waits at most this long past its first due time (a cap, a pending confirmation); then it is skipped. */
export const MAX_WAIT_DAYS = 14;

export type StepDecision =
  | { kind: 'send'; email: string; content: CampaignContent; productIds: string[] }
  | { kind: 'hold_out'; productIds: string[] }
  | { kind: 'wait'; until: Date; reason: string }
  | { kind: 'skip'; reason: string }
  | { kind: 'exit'; reason: string };

export interface DueStep {
  flowId: string;
  orderId: string;
  subjectId: string | null;
  orderedAt: Date;
  /** True when a crash left it `sending`: only the hard exits are checked again (never a new wait). */
  resuming: boolean;
}

/** What deciding a batch of steps reads once. */
export interface DecideContext {
  ctx: ShopContext;
  flow: FlowConfig;
  at: Date;
  requireDoubleOptIn: boolean;
  currency: string;
  policy: ContactPolicy;
  candidates: ReadonlyMap<string, Candidate>;
  emails: ReadonlyMap<string, string>;
  zones: ReadonlyMap<string, string>;
  sends: ReadonlyMap<string, SendRecord[]>;
  /** The batch's orders as they are now (see `orderStates`); an order missing here was deleted. */
  orders: ReadonlyMap<string, OrderState>;
  frameOf: (subjectId: string) => Promise<PersonalFrame | null>;
  recommend: (email: string, options: { k: number }) => Promise<CustomerRecommendations>;
  /** The engine's co-purchase model (`recommend.model`): what the email's "bought with" reasons come from. */
  model: () => Promise<CoPurchaseModel>;
}

const consentWords = {
  no_email_consent: 'email offers not granted',
  not_confirmed: 'email offers are not confirmed (double opt-in pending)',
  no_personalization: 'personal recommendations not granted',
} as const;

export async function decideStep(d: DecideContext, step: DueStep): Promise<StepDecision> {
  const person = step.subjectId ? d.candidates.get(step.subjectId) : undefined;
  const email = step.subjectId ? d.emails.get(step.subjectId) : undefined;
  if (!step.subjectId || !person || !email) return { kind: 'exit', reason: 'the customer was erased or is unknown' };
  const order = d.orders.get(step.orderId);
  if (!order) return { kind: 'exit', reason: 'the order was deleted' };
  if (order.cancelledAt)
    return { kind: 'exit', reason: `the order was cancelled on ${formatConsentDate(order.cancelledAt)}` };
  if (order.refunded) return { kind: 'exit', reason: 'the order was refunded' };
  const blocked = consentExclusion(person, d.requireDoubleOptIn);
  // A double opt-in under way may still be confirmed: the step waits for it (a while); any other gap is an exit.
  if (person.emState === 'pending' && !step.resuming)
    return waitOrSkip(d, step, addDays(d.at, 1), consentWords.not_confirmed);
  if (blocked) return { kind: 'exit', reason: exclusionLabels[blocked] };
  if (!step.resuming) {
    const timing = timingBlock(d, step.subjectId);
    if (timing) return waitOrSkip(d, step, timing.until, timing.reason);
  }
  return compose(d, step, email, order.products);
}

/** Outside the flow's window, or the contact policy (caps, quiet hours) says not now: until when, and why. */
function timingBlock(d: DecideContext, subjectId: string): { until: Date; reason: string } | null {
  const zone = d.zones.get(subjectId) ?? d.policy.defaultTimeZone;
  const opens = nextInWindow(d.at, d.flow.window, zone);
  if (opens.getTime() > d.at.getTime())
    return { until: opens, reason: `outside the send window ${d.flow.window.start}-${d.flow.window.end} in ${zone}` };
  const contact = decideContact(d.policy, d.sends.get(subjectId) ?? [], d.at, { timeZone: zone });
  if (contact.ok) return null;
  return {
    until: nextInWindow(contact.nextAllowedAt, d.flow.window, zone),
    reason: `contact policy: ${contact.detail}`,
  };
}

function waitOrSkip(d: DecideContext, step: DueStep, until: Date, reason: string): StepDecision {
  // The first due time is a day or so past the delay (the window's opening); this bounds the waits after it.
  const limit = addDays(step.orderedAt, d.flow.delayDays + 1 + MAX_WAIT_DAYS);
  if (until.getTime() > limit.getTime()) return { kind: 'skip', reason: `waited too long: ${reason}` };
  return { kind: 'wait', until, reason };
}

/** The email: recommendations related to this order's products, "because you bought X on DATE". */
async function compose(
  d: DecideContext,
  step: DueStep,
  email: string,
  orderProducts: ReadonlyMap<string, string>,
): Promise<StepDecision> {
  const bought = await boughtSince(d.ctx, step.subjectId!, step.orderId, step.orderedAt);
  const meanwhile = await relatedBoughtMeanwhile(d, orderProducts, bought);
  if (meanwhile) return { kind: 'exit', reason: `bought ${meanwhile} meanwhile` };
  let recs: ExplainedRecommendation[];
  try {
    recs = (await d.recommend(email, { k: 30 })).recommendations;
  } catch (error) {
    if (isTactfulError(error, 'CONSENT.NOT_GRANTED')) return { kind: 'exit', reason: consentWords.no_personalization };
    if (isTactfulError(error, 'SUBJECT.NOT_FOUND')) return { kind: 'skip', reason: 'nothing related to recommend' };
    throw error;
  }
  const recent = recentlyFeatured(d, step.subjectId!);
  const shown: Array<{ rec: ExplainedRecommendation; because: string }> = [];
  for (const rec of recs) {
    if (shown.length >= d.flow.maxProducts || recent.has(rec.productId)) continue;
    const reason = rec.reasons.find(
      (r) => isPersonalReason(r) && r.kind === 'bought-with' && orderProducts.has(r.because),
    );
    if (reason && reason.kind === 'bought-with') shown.push({ rec, because: reason.because });
  }
  const productIds = shown.map((s) => s.rec.productId);
  if (shown.length === 0) return { kind: 'skip', reason: 'nothing related to this order to recommend' };
  if (!step.resuming && isHeldOut(step.flowId, step.orderId, d.flow.holdoutShare))
    return { kind: 'hold_out', productIds };
  const frame = await d.frameOf(step.subjectId!);
  if (!frame) return { kind: 'exit', reason: consentWords.no_email_consent };
  const titles = [...new Set(shown.map((s) => orderProducts.get(s.because) ?? s.because))];
  const content: CampaignContent = {
    products: shown.map((s) => productContent(s.rec, `flow-${step.flowId}`, `https://${d.ctx.shopId}`, d.currency)),
    reason: `Because you bought ${listJoin(titles)} on ${formatConsentDate(step.orderedAt)}.`,
    ...frame,
  };
  return { kind: 'send', email, content, productIds };
}

/** An order as it is now: cancelled, refunded, and its products (quantity above 0) with their titles. */
export interface OrderState {
  cancelledAt: Date | null;
  refunded: boolean;
  products: ReadonlyMap<string, string>;
}

/** The orders of a batch of steps as they are now, in two statements for the whole batch (order id → state). */
export async function orderStates(ctx: ShopContext, orderIds: readonly string[]): Promise<Map<string, OrderState>> {
  const ids = [...new Set(orderIds)];
  if (ids.length === 0) return new Map();
  const found = await ctx.db
    .select({ orderId: orders.orderId, cancelledAt: orders.cancelledAt, refunded: orders.refunded })
    .from(orders)
    .where(and(eq(orders.shopId, ctx.shopId), inArray(orders.orderId, ids)));
  const lines = await ctx.db
    .select({ orderId: orderLines.orderId, productId: orderLines.productId, title: products.title })
    .from(orderLines)
    .leftJoin(products, and(eq(products.shopId, orderLines.shopId), eq(products.productId, orderLines.productId)))
    .where(and(eq(orderLines.shopId, ctx.shopId), inArray(orderLines.orderId, ids), gt(orderLines.quantity, 0)))
    .orderBy(orderLines.orderId, orderLines.lineNo);
  const productsOf = new Map<string, Map<string, string>>();
  for (const l of lines) {
    const titled = productsOf.get(l.orderId) ?? new Map<string, string>();
    if (!titled.has(l.productId)) titled.set(l.productId, l.title ?? l.productId);
    productsOf.set(l.orderId, titled);
  }
  return new Map(
    found.map((o) => [
      o.orderId,
      { cancelledAt: o.cancelledAt, refunded: o.refunded, products: productsOf.get(o.orderId) ?? new Map() },
    ]),
  );
}

/** Products the person bought (a line with a quantity) in counted orders after this one (product id → when). */
async function boughtSince(
  ctx: ShopContext,
  subjectId: string,
  orderId: string,
  after: Date,
): Promise<Map<string, Date>> {
  const found = await ctx.db
    .select({ productId: orderLines.productId, at: orders.createdAt })
    .from(orders)
    .innerJoin(
      orderLines,
      and(eq(orderLines.shopId, orders.shopId), eq(orderLines.orderId, orders.orderId), gt(orderLines.quantity, 0)),
    )
    .where(
      and(
        eq(orders.shopId, ctx.shopId),
        eq(orders.subjectId, subjectId),
        eq(orders.counted, true),
        ne(orders.orderId, orderId),
        gt(orders.createdAt, after),
      ),
    );
  return new Map(found.map((f) => [f.productId, f.at]));
}

/**
 * The exit "the recommended products bought meanwhile": a product the person bought after the order that other
 * baskets of the shop bought together with one of the order's products (a co-purchase neighbour: what the email
 * would have offered; the personal ranking no longer shows what they own, so it cannot be asked). The most
 * co-bought one is named (the baskets holding it with any of the order's products, summed over them; ties by
 * product id), with its date; null when there is none.
 *
 * Counted from the engine's co-purchase model, which holds every counted order's basket: a few look-ups per
 * decision. A query over the order lines read all of a shop's lines for each decision (there is no index by
 * product), and on a shop the planner's statistics did not know yet took 0.35-0.45 s at the demo's size.
 */
async function relatedBoughtMeanwhile(
  d: DecideContext,
  orderProducts: ReadonlyMap<string, string>,
  bought: ReadonlyMap<string, Date>,
): Promise<string | null> {
  const candidates = [...bought.keys()].filter((p) => !orderProducts.has(p));
  if (candidates.length === 0 || orderProducts.size === 0) return null;
  const model = await d.model();
  let best: { productId: string; together: number } | null = null;
  for (const productId of candidates.sort()) {
    let together = 0;
    for (const ordered of orderProducts.keys()) together += model.pairCount(ordered, productId);
    if (together > 0 && (!best || together > best.together)) best = { productId, together };
  }
  if (!best) return null;
  const [product] = await d.ctx.db
    .select({ title: products.title })
    .from(products)
    .where(and(eq(products.shopId, d.ctx.shopId), eq(products.productId, best.productId)));
  return `${product?.title ?? best.productId} on ${formatConsentDate(bought.get(best.productId)!)}`;
}

/** Products featured to the person within the contact policy's product re-send window. */
function recentlyFeatured(d: DecideContext, subjectId: string): Set<string> {
  const days = d.policy.productResendDays;
  if (days === null) return new Set();
  const since = d.at.getTime() - days * 86_400_000;
  return new Set((d.sends.get(subjectId) ?? []).filter((s) => s.sentAt.getTime() > since).flatMap((s) => s.productIds));
}

function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * 86_400_000);
}
