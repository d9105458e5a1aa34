import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import { suiteImages } from './test/support/pglite-image.js';
import SlowestFirst from './test/support/slow-first.js';

// Tests run against the TypeScript sources of every workspace package (the `source` export condition),
// so a change is tested without a rebuild; the CLI smoke tests run the built binary.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test files share a worker's module cache instead of importing every package afresh: measured on two cores,
    // import time fell from 173 s to 18 s of the suite's worker time. A file that changes process-wide state
    // (environment variables, globals) puts it back in its own afterAll.
    isolate: false,
    // Tests that start processes run the packages' build; this rebuilds first if a source is newer. Temporary
    // folders go on a tmpfs where there is one with room (test/support/tmpfs.ts).
    globalSetup: ['test/support/built.ts', 'test/support/tmpfs.ts', 'test/support/pglite-image.ts'],
    // Fresh embedded databases load a migrated image instead of running initdb and the migrations each time
    // (packages/core/src/store/pglite-image.ts), made once before the workers start (test/support/pglite-image.ts);
    // processes the tests spawn inherit it.
    env: { TACTFUL_PGLITE_IMAGES: suiteImages },
    // Three workers on two cores: many files wait part of the time (processes they start, a browser, a vendor's
    // rate limit), and a third worker fills those gaps. Measured on the two-core machine kind: 307 s with two
    // workers, 275 s with three (the CPU was busy throughout in both).
    maxWorkers: 3,
    // Without durations cached by an earlier run (a fresh clone), the slowest files start first.
    sequence: { sequencer: SlowestFirst },
    reporters: ['default'],
  },
});
