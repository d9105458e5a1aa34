import type { Tactful } from '@tactful/core';
import type { Logger } from 'pino';

/**
 * The background work of a running app: stored webhook deliveries are processed a moment after they were
 * acknowledged (the route never waits on it). Several instances may run this against one PostgreSQL:
 * deliveries are claimed with `FOR UPDATE SKIP LOCKED`.
 */
export function startWorkers(tactful: Tactful, logger: Logger, options: { intervalMs?: number } = {}): { stop(): Promise<void> } {
  const interval = options.intervalMs ?? 1000;
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = (async () => {
      try {
        const report = await tactful.processInbox({ allShops: true });
        if (report.processed + report.failed + report.refused > 0) logger.info({ inbox: report }, 'inbox processed');
      } catch (error) {
        logger.error({ err: { message: (error as Error).message, code: (error as { code?: string }).code } }, 'inbox processing failed; retrying');
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
