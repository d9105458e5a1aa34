/**
 * After an erasure, the deleted rows' bytes still sit in dead tuples and in the write-ahead log. Those
 * under the subject's key are unreadable once the key is destroyed; but inbox and outbox payloads are
 * encrypted under the SHOP key, which remains. Compaction removes them physically: `VACUUM FULL` rewrites
 * the two tables into new files, and with WAL recycling off a WAL switch and a checkpoint delete the old
 * segments instead of renaming them for reuse. On a server it needs superuser (or pg_checkpoint and
 * table ownership); what could not be done is reported, never hidden. Backups and WAL archives are out of
 * reach: keep their retention short (see docs/privacy.md).
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../store/open.js';

export interface CompactionReport {
  compacted: boolean;
  steps: Array<{ step: string; ok: boolean; error?: string }>;
}

export async function compactAfterErasure(db: Db): Promise<CompactionReport> {
  const steps: CompactionReport['steps'] = [];
  const run = async (step: string) => {
    try {
      await db.execute(sql.raw(step));
      steps.push({ step, ok: true });
    } catch (error) {
      steps.push({ step, ok: false, error: (error as Error).message });
    }
  };
  await run('set wal_recycle = off');
  await run('vacuum full inbox');
  await run('vacuum full outbox');
  await run('select pg_switch_wal()');
  await run('checkpoint');
  await run('select pg_switch_wal()');
  await run('checkpoint');
  await run('reset wal_recycle');
  return { compacted: steps.every((s) => s.ok), steps };
}
