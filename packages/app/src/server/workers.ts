import type { EmailProvider, Tactful } from '@tactful/core';
import type { Logger } from 'pino';

export interface WorkerOptions {
  /** How often stored deliveries are processed (default 1 s). */
  intervalMs?: number;
  /**
   * How stored deliveries are taken: `limit` deliveries a claim (one transaction; default 100 on embedded PGlite,
   * 500 on PostgreSQL), handled for at most `budgetMs` a claim (default 50 ms on PGlite, 250 ms on PostgreSQL),
   * in batches of at most `batchSize` (default 20 on PGlite, 500 on PostgreSQL) unless `batches` is false.
   */
  inbox?: { limit?: number; budgetMs?: number; batches?: boolean; batchSize?: number };
  /** With a provider: due flow steps are run every `flowsIntervalMs` (default 60 s). */
  flows?: { provider: EmailProvider; publicUrl: string; intervalMs?: number };
}

/**
 * The background work of a running app: stored webhook deliveries are processed a moment after they were
 * acknowledged (the route never waits on it), and the flows' due steps are sent. Several instances may run this
 * against one PostgreSQL: deliveries and flow steps are claimed with `FOR UPDATE SKIP LOCKED`.
 */
export function startWorkers(tactful: Tactful, logger: Logger, options: WorkerOptions = {}): { stop(): Promise<void> } {
  const interval = options.intervalMs ?? 1000;
  // Embedded PGlite runs one transaction at a time: while a claim's is open, even a webhook's acknowledgement
  // waits. Claims there are small and short, so acknowledgements get the database often (server PostgreSQL
  // runs them side by side).
  const embedded = tactful.store.kind === 'pglite';
  const inbox = options.inbox ?? {};
  const flows = options.flows ? startFlowWorker(tactful, logger, options.flows) : null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = (async () => {
      try {
        const report = await tactful.processInbox({
          allShops: true,
          limit: inbox.limit ?? (embedded ? 100 : 500),
          budgetMs: inbox.budgetMs ?? (embedded ? 50 : 250),
          batchSize: inbox.batchSize ?? (embedded ? 20 : 500),
          ...(inbox.batches === false ? { batches: false } : {}),
        });
        if (report.processed + report.failed + report.refused > 0) logger.info({ inbox: report }, 'inbox processed');
      } catch (error) {
        logger.error(
          { err: { message: (error as Error).message, code: (error as { code?: string }).code } },
          'inbox processing failed; retrying',
        );
      } finally {
        running = null;
      }
    })();
  };
  const timer = setInterval(tick, interval);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([running, flows?.stop()]);
    },
  };
}

/** Runs the flows' due steps on a timer; one run at a time in this process, leases keep instances apart. */
function startFlowWorker(
  tactful: Tactful,
  logger: Logger,
  options: NonNullable<WorkerOptions['flows']>,
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = (async () => {
      try {
        const report = await tactful.flows.runDue({ provider: options.provider, publicUrl: options.publicUrl });
        if (report.leased > 0) logger.info({ flows: { ...report, failed: report.failed.length } }, 'flow steps run');
      } catch (error) {
        logger.error(
          { err: { message: (error as Error).message, code: (error as { code?: string }).code } },
          'flow run failed; retrying',
        );
      } finally {
        running = null;
      }
    })();
  };
  const timer = setInterval(tick, options.intervalMs ?? 60_000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
