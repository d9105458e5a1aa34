/**
 * The next steps a flow will run, each decided as of its due time the way the runner will decide it (nothing
 * is sent, stored or leased): who, when, and what they would get, or why not.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import { flowSteps } from '../store/schema.js';
import type { FlowConfig } from './config.js';
import { decideStep } from './evaluate.js';
import { decideContext, type FlowRunDeps } from './run.js';

export interface StepPreview {
  orderId: string;
  subjectId: string | null;
  /** The address shown to the owner (the admin page and the CLI audit who viewed it). */
  email: string | null;
  dueAt: Date;
  status: string;
  waits: number;
  verdict: 'send' | 'hold_out' | 'wait' | 'skip' | 'exit';
  /** The products it would feature and the reason line, or why it would not send. */
  detail: string;
}

export async function previewSteps(deps: FlowRunDeps, flow: FlowConfig, limit = 10): Promise<StepPreview[]> {
  const { ctx } = deps;
  const steps = await ctx.db
    .select()
    .from(flowSteps)
    .where(
      and(
        eq(flowSteps.shopId, ctx.shopId),
        eq(flowSteps.flowId, flow.flowId),
        inArray(flowSteps.status, ['scheduled', 'waiting']),
      ),
    )
    .orderBy(asc(flowSteps.dueAt), asc(flowSteps.orderId))
    .limit(limit);
  if (steps.length === 0) return [];
  const base = await decideContext(deps, flow, steps);
  const out: StepPreview[] = [];
  for (const step of steps) {
    const at = new Date(Math.max(step.dueAt.getTime(), base.at.getTime()));
    const decision = await decideStep({ ...base, at }, { ...step, resuming: false });
    const detail =
      decision.kind === 'send'
        ? `${decision.content.reason} ${decision.content.products.map((p) => p.title).join(', ')}`
        : decision.kind === 'hold_out'
          ? `held out (${Math.round(flow.holdoutShare * 100)} % holdout): gets nothing, to measure the flow`
          : decision.kind === 'wait'
            ? `waits until ${decision.until.toISOString()}: ${decision.reason}`
            : decision.reason;
    out.push({
      orderId: step.orderId,
      subjectId: step.subjectId,
      email: step.subjectId ? (base.emails.get(step.subjectId) ?? null) : null,
      dueAt: step.dueAt,
      status: step.status,
      waits: step.waits,
      verdict: decision.kind,
      detail,
    });
  }
  return out;
}
