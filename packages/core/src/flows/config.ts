/**
 * A shop's flows and their settings. One flow exists today, `post-purchase`: some days after a paid order, the
 * products that go with what was bought, once, inside a send window in the customer's time zone, with a share
 * of eligible orders held out so the report can say what the flow earns beyond what would have sold anyway.
 */
import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { TactfulError } from '../errors/tactful-error.js';
import { parseOrThrow } from '../errors/zod.js';
import type { Db } from '../store/open.js';
import { flows } from '../store/schema.js';

/** The flows Tactful knows. */
export const FLOW_IDS = ['post-purchase'] as const;
export type FlowId = (typeof FLOW_IDS)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM (24 h), e.g. 09:00');
/** A provider's journey or step id: digits, letters, dashes (Mailchimp's are numbers). */
const providerId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'an id of 1-64 letters, digits, dashes or underscores (e.g. 1042)');

export const flowSettingsSchema = z
  .object({
    enabled: z.boolean(),
    /** Whole days after the order is paid; the step is then placed at the next opening of the send window. */
    delayDays: z.number().int().min(0, 'the delay is 0 days or more').max(90, 'the delay is at most 90 days'),
    /** The local hours (customer's time zone, else the shop's) between which the flow may send; may wrap midnight. */
    window: z
      .object({ start: hhmm, end: hhmm })
      .strict()
      .refine((w) => w.start !== w.end, 'the send window needs different start and end times'),
    /** The share of eligible steps kept back to measure the flow, 0 to 0.5 (default 0.1). */
    holdoutShare: z.number().min(0, 'the holdout share is 0 or more').max(0.5, 'the holdout share is at most 0.5'),
    /** The provider's journey and step that send the email; both or neither (then daily campaign waves). */
    journeyId: providerId.nullable(),
    stepId: providerId.nullable(),
    /** At most this many products in one email (1-3). */
    maxProducts: z.number().int().min(1).max(3),
    /** The email's subject line. */
    subject: z.string().trim().min(1).max(150),
  })
  .strict()
  .refine((s) => (s.journeyId === null) === (s.stepId === null), {
    message: 'a journey needs both its id and its step id (or neither, for daily campaign waves)',
    path: ['stepId'],
  });
export type FlowSettings = z.output<typeof flowSettingsSchema>;

export interface FlowConfig extends FlowSettings {
  flowId: FlowId;
  updatedAt: Date | null;
}

export const defaultFlowSettings: Readonly<FlowSettings> = Object.freeze({
  enabled: false,
  delayDays: 7,
  window: { start: '09:00', end: '20:00' },
  holdoutShare: 0.1,
  journeyId: null,
  stepId: null,
  maxProducts: 3,
  subject: 'Goes well with what you bought',
});

export function parseFlowId(input: string): FlowId {
  const id = input.trim().toLowerCase();
  if ((FLOW_IDS as readonly string[]).includes(id)) return id as FlowId;
  throw new TactfulError('FLOW.NOT_FOUND', `There is no flow "${input}": the flows are ${FLOW_IDS.join(', ')}.`);
}

function toConfig(row: typeof flows.$inferSelect): FlowConfig {
  return {
    flowId: row.flowId as FlowId,
    enabled: row.enabled,
    delayDays: row.delayDays,
    window: { start: row.windowStart, end: row.windowEnd },
    holdoutShare: row.holdoutShare,
    journeyId: row.journeyId,
    stepId: row.stepId,
    maxProducts: row.maxProducts,
    subject: row.subject,
    updatedAt: row.updatedAt,
  };
}

/** Every flow of the shop, with the defaults for one never configured. */
export async function listFlows(db: Db, shopId: string): Promise<FlowConfig[]> {
  const stored = await db.select().from(flows).where(eq(flows.shopId, shopId)).orderBy(asc(flows.flowId));
  return FLOW_IDS.map((flowId) => {
    const row = stored.find((r) => r.flowId === flowId);
    return row ? toConfig(row) : { flowId, ...structuredClone(defaultFlowSettings), updatedAt: null };
  });
}

export async function readFlow(db: Db, shopId: string, flowId: FlowId): Promise<FlowConfig> {
  const [row] = await db
    .select()
    .from(flows)
    .where(and(eq(flows.shopId, shopId), eq(flows.flowId, flowId)));
  return row ? toConfig(row) : { flowId, ...structuredClone(defaultFlowSettings), updatedAt: null };
}

/** Applies a patch (validated as a whole, every problem named at once); returns the new and the changed keys. */
export function patchFlow(
  current: FlowConfig,
  patch: unknown,
): { next: FlowSettings; changed: Array<keyof FlowSettings> } {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw new TactfulError('FLOW.INVALID', 'Invalid flow settings: give an object of settings to change.');
  const { flowId: _id, updatedAt: _at, ...settings } = current;
  const merged = { ...settings, ...(patch as Record<string, unknown>) };
  const next = parseOrThrow(flowSettingsSchema, merged, 'FLOW.INVALID', 'flow settings');
  const changed = (Object.keys(next) as Array<keyof FlowSettings>).filter(
    (k) => JSON.stringify(next[k]) !== JSON.stringify(settings[k]),
  );
  return { next, changed };
}

export async function writeFlow(db: Db, shopId: string, flowId: FlowId, next: FlowSettings, at: Date): Promise<void> {
  const values = {
    enabled: next.enabled,
    delayDays: next.delayDays,
    windowStart: next.window.start,
    windowEnd: next.window.end,
    holdoutShare: next.holdoutShare,
    journeyId: next.journeyId,
    stepId: next.stepId,
    maxProducts: next.maxProducts,
    subject: next.subject,
    updatedAt: at,
  };
  await db
    .insert(flows)
    .values({ shopId, flowId, ...values })
    .onConflictDoUpdate({ target: [flows.shopId, flows.flowId], set: values });
}
