import type { Tactful } from '@tactful/core';
import type { Logger } from 'pino';

/**
 * The background work of a running app: stored webhook deliveries are processed a moment after they were
 * acknowledged (the route never waits on it). Several instances may run this against one PostgreSQL:
 * deliveries are claimed with `FOR UPDATE SKIP LOCKED`.
 */
export function startWorkers(
  tactful: Tactful,
  logger: Logger,
  options: { intervalMs?: number } = {},
): { stop(): Promise<void> } {
  const interval = options.intervalMs ?? 1000;
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = (async () => {
      try {
        // Embedded PGlite runs one statement at a time: while a batch's transaction is open, even a webhook's
        // acknowledgement waits. Small batches keep that wait short (server PostgreSQL runs them side by side).
        const report = await tactful.processInbox({ allShops: true, limit: tactful.store.kind === 'pglite' ? 5 : 100 });
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
      await running;
    },
  };
}
