/**
 * The order test files start in. vitest starts the longest first by the durations it cached in an earlier run; a
 * fresh clone (CI) has none, and vitest then starts the largest files first, which put the slowest file of the
 * suite (e2e/campaign, a 300-line file) near the end: the other workers idled while it ran. Without a cache of
 * its own, this starts the files below first, in this order, then the rest by vitest's own rule.
 *
 * The list is the slowest files of a full run with three workers on this machine kind (node_modules/.vite's
 * results, 2026-12-07). A file missing from it only starts later; a stale entry only starts early.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The end of each file's path (unique in the repository). */
export const SLOWEST_FIRST = [
  'e2e/campaign.test.ts',
  'preferences/reasons-oracle.test.ts',
  'faults/faults.test.ts',
  'standalone/packed.test.ts',
  'new-database.test.ts',
  'embedded-lock/lock.test.ts',
  'e2e/demo.test.ts',
  'faults/two-instances.test.ts',
  'browser/customers.test.ts',
  'privacy/privacy.test.ts',
];

export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const cached = files.some((f) =>
      this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(root, f.moduleId)}`),
    );
    if (cached) return sorted;
    const rank = (f: TestSpecification) => {
      const path = relative(root, f.moduleId).split('\\').join('/');
      const at = SLOWEST_FIRST.findIndex((end) => path.endsWith(`/${end}`));
      return at < 0 ? SLOWEST_FIRST.length : at;
    };
    // A stable sort: the files not listed keep vitest's order among themselves.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
