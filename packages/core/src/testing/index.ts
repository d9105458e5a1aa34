// @tactful/core/testing: what tests of other packages need — the published conformance suites and the
// store targets. (vitest is a peer dependency of this entry only; `./runtime.js` runs without it.)
export * from './runtime.js';
export { preparePgliteImage, storeTargets, uniqueShop } from './stores.js';
export type { StoreTarget } from './stores.js';
export { describeEachStore, embeddedTestStore } from './harness.js';
/** Where `memory://` keeps its folders (/dev/shm when it is a tmpfs with room): a suite can put its own there. */
export { throwawayBase } from '../store/throwaway-folder.js';
export { describeEmailProvider } from './email-provider-suite.js';
export type {
  DescribeEmailProviderOptions,
  EmailProviderOracle,
  EmailProviderTestContext,
  EmailProviderTestName,
  EmailProviderFailureKind,
  OracleMemberState,
} from './email-provider-suite.js';
export { describeCommercePlatform, commercePlatformTestNames } from './commerce-platform-suite.js';
export type {
  DescribeCommercePlatformOptions,
  CommercePlatformOracle,
  CommercePlatformHarness,
  CommercePlatformTestName,
  OracleConsent,
} from './commerce-platform-suite.js';
export { createMemoryEmailProvider } from './memory-provider.js';
