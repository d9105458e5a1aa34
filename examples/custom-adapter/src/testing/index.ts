// @tactful-examples/woocommerce/testing: the stateful msw sandbox, for this adapter's tests and for an app's.
export { createWooCommerceSandbox } from './sandbox.js';
export type {
  WooCommerceSandbox,
  WooCommerceSandboxOptions,
  SandboxCustomer,
  SandboxOrder,
  SandboxProduct,
} from './sandbox.js';
