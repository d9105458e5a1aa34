import { appendAudit } from '../audit/log.js';
import { systemActor } from '../audit/actors.js';
import { listFlows, parseFlowId, patchFlow, readFlow, writeFlow } from '../flows/config.js';
import { previewSteps } from '../flows/preview.js';
import { flowReport } from '../flows/report.js';
import { runDueSteps, type FlowRunDeps } from '../flows/run.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import type { TactfulFlows, TactfulRecommend } from '../tactful.js';

/** The flows part: settings (audited), the runner, the preview of what is due and the holdout report. */
export function flowsApi(ctx: ShopContext, recommend: Pick<TactfulRecommend, 'forCustomer' | 'model'>): TactfulFlows {
  const runDeps = (deps: { provider?: FlowRunDeps['provider']; publicUrl: string; actor?: FlowRunDeps['actor'] }) => ({
    ctx,
    provider: deps.provider,
    recommend: recommend.forCustomer,
    model: recommend.model,
    publicUrl: deps.publicUrl,
    actor: deps.actor,
  });
  return {
    list: () => listFlows(ctx.db, ctx.shopId),
    show: (flowId) => readFlow(ctx.db, ctx.shopId, parseFlowId(flowId)),
    set: async (flowId, patch, actor = systemActor) => {
      const id = parseFlowId(flowId);
      const current = await readFlow(ctx.db, ctx.shopId, id);
      const { next, changed } = patchFlow(current, patch);
      if (changed.length === 0) return { flow: current, changed };
      await withShopTransaction(ctx, actor, async (s) => {
        await writeFlow(s.tx, ctx.shopId, id, next, s.recordedAt);
        await appendAudit(s.tx, ctx.shopId, s.head, {
          action: 'flow.changed',
          actor,
          at: s.recordedAt,
          details: { flow: id, changed, ...Object.fromEntries(changed.map((k) => [k, next[k]])) },
        });
      });
      return { flow: await readFlow(ctx.db, ctx.shopId, id), changed };
    },
    runDue: (deps, options) => runDueSteps(runDeps(deps), options),
    preview: async (flowId, deps, limit) => {
      const flow = await readFlow(ctx.db, ctx.shopId, parseFlowId(flowId));
      const previews = await previewSteps(runDeps(deps), flow, limit);
      // The preview names people: who looked is audited (ids only, never an address).
      if (deps.actor && previews.length > 0)
        await withShopTransaction(ctx, deps.actor, (s) =>
          appendAudit(s.tx, ctx.shopId, s.head, {
            action: 'admin.action',
            actor: deps.actor!,
            at: s.recordedAt,
            details: { event: 'flow.previewed', flow: flow.flowId, steps: previews.length },
          }),
        );
      return previews;
    },
    report: (flowId, attributionDays) => flowReport(ctx, parseFlowId(flowId), attributionDays),
  };
}
