/**
 * When a flow's step is due, and scheduling it when a paid order arrives. A step is due `delayDays` calendar
 * days after the order in the customer's time zone (the same local time of day, across month ends and DST
 * changes), then at the next opening of the send window there. Scheduling runs inside the order ingest's own
 * transaction (webhooks, syncs and imports all pass through it), and a replayed order finds its step already
 * there: one step per (flow, order), ever.
 */
import { createHash } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { endOfQuietHours } from '../contact/policy.js';
import { dateTimeFormat } from '../shop/intl.js';
import { readContactPolicy } from '../contact/policy.js';
import { timeZonesOf } from '../campaign/run.js';
import type { ShopContext } from '../shop/context.js';
import type { OrdersWritten } from '../recommend/orders.js';
import { bulkInsert } from '../store/bulk.js';
import { flows, flowSteps } from '../store/schema.js';
import { sql } from 'drizzle-orm';
import { FLOW_IDS, readFlow, type FlowConfig } from './config.js';

/** The offset of `timeZone` from UTC at `at`, in minutes (Paris in summer: 120). */
function offsetMinutes(at: Date, timeZone: string): number {
  const parts = dateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/**
 * `days` calendar days after `at` at the same local time in `timeZone` (31 Jan + 1 month of days stays a day
 * count; 7 days across a DST change keeps 10:00 local rather than moving to 09:00 or 11:00). A local time that
 * does not exist that day (inside a spring-forward gap) moves forward by the gap.
 */
export function addLocalDays(at: Date, days: number, timeZone: string): Date {
  const local = new Date(at.getTime() + offsetMinutes(at, timeZone) * 60_000);
  local.setUTCDate(local.getUTCDate() + days);
  // Local wall time → UTC: subtract the offset in force then, found by two rounds (stable across DST).
  let guess = new Date(local.getTime() - offsetMinutes(local, timeZone) * 60_000);
  guess = new Date(local.getTime() - offsetMinutes(guess, timeZone) * 60_000);
  return guess;
}

/** The first instant at or after `at` inside the local send window (which may wrap midnight). */
export function nextInWindow(at: Date, window: { start: string; end: string }, timeZone: string): Date {
  // Outside the window is a quiet period from its end to its start: the contact policy's arithmetic.
  return endOfQuietHours(at, { start: window.end, end: window.start }, timeZone) ?? at;
}

/** When a step of an order paid at `orderedAt` is due for a customer in `timeZone`. */
export function dueTime(orderedAt: Date, flow: Pick<FlowConfig, 'delayDays' | 'window'>, timeZone: string): Date {
  return nextInWindow(addLocalDays(orderedAt, flow.delayDays, timeZone), flow.window, timeZone);
}

/**
 * The holdout draw of one (flow, order): a number in [0, 1) from SHA-256 of a fixed seed, the flow and the
 * order, so it is the same on every instance, every run and every machine, and independent of arrival order.
 */
export function holdoutDraw(flowId: string, orderId: string): number {
  const digest = createHash('sha256').update(`tactful-flow-holdout-v1:${flowId}:${orderId}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export function isHeldOut(flowId: string, orderId: string, share: number): boolean {
  return holdoutDraw(flowId, orderId) < share;
}

/** An order whose step would have been due more than this long ago is history (an import), not a trigger. */
const STALE_AFTER_MS = 2 * 86_400_000;

/**
 * The hook order ingest calls inside its transaction: each enabled flow gets one step per paid (counted)
 * order of a known person, unless the order is history whose step would long be past due.
 */
export function scheduleOnOrders(ctx: ShopContext): OrdersWritten {
  return async (tx, written) => {
    const paid = written.filter((o) => o.counted && o.subjectId !== null);
    if (paid.length === 0) return;
    const enabled = await tx
      .select({ flowId: flows.flowId })
      .from(flows)
      .where(and(eq(flows.shopId, ctx.shopId), eq(flows.enabled, true), inArray(flows.flowId, [...FLOW_IDS])));
    if (enabled.length === 0) return;
    const scoped: ShopContext = { ...ctx, db: tx };
    const policy = await readContactPolicy(tx, ctx.shopId);
    const zones = await timeZonesOf(scoped, [...new Set(paid.map((o) => o.subjectId!))]);
    const now = ctx.now();
    for (const { flowId } of enabled) {
      const flow = await readFlow(tx, ctx.shopId, flowId as FlowConfig['flowId']);
      const rows = paid.flatMap((o) => {
        const zone = zones.get(o.subjectId!) ?? policy.defaultTimeZone;
        const dueAt = dueTime(o.createdAt, flow, zone);
        if (dueAt.getTime() < now.getTime() - STALE_AFTER_MS) return [];
        return [
          {
            shopId: ctx.shopId,
            flowId,
            orderId: o.orderId,
            subjectId: o.subjectId,
            orderedAt: o.createdAt,
            dueAt,
            status: 'scheduled' as const,
            createdAt: now,
            updatedAt: now,
          },
        ];
      });
      await bulkInsert(tx, flowSteps, rows, sql`on conflict (shop_id, flow_id, order_id) do nothing`);
    }
  };
}
