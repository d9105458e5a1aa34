// @tactful/core/testing/runtime: the part of the testing kit that runs without a test runner. The adapters'
// sandboxes (which an installed app's demo runs in production, where vitest is not installed), benchmarks and
// generators import this; `@tactful/core/testing` re-exports it beside the vitest suites.
export { createFaultPlan } from '../sync/fault-plan.js';
export type { FaultPlan, FaultPlanOptions } from '../sync/fault-plan.js';
export { serveOverLoopback } from '../sync/loopback-host.js';
export type { LoopbackHost, LoopbackHostOptions } from '../sync/loopback-host.js';
export { seededRandom } from '../random.js';
export { splitLines } from '../recommend/parse.js';
export { csvRecords, csvRows } from '../recommend/csv.js';
// Raw access for tests and benchmarks only: applications go through the engine.
export { rawStore } from '../store/open.js';
export type { RawStore, Db } from '../store/open.js';
export { engineInternals } from '../engine.js';
export type { ShopContext } from '../shop/context.js';
