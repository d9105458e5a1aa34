/**
 * The files of a generated adapter package. Kept as code (not a folder of files) so they ship inside the CLI's
 * bundle. Each is the smallest honest start: the factory validates its options and every port method throws
 * ADAPTER.NOT_IMPLEMENTED, so the conformance suite runs at once and fails on exactly what is not written yet.
 */

export type AdapterKind = 'platform' | 'provider';

/** The @tactful/core version generated packages depend on (checked against packages/core by a test). */
export const CORE_VERSION = '0.1.0';

export interface AdapterNames {
  /** kebab-case, as typed: `acme-shop`. */
  name: string;
  /** `AcmeShop`. */
  pascal: string;
  /** `acmeShop`. */
  camel: string;
  /** The npm package name. */
  packageName: string;
  /** The factory: `createAcmeShopPlatform` / `createAcmeShopProvider`. */
  factory: string;
  kind: AdapterKind;
}

export function adapterNames(name: string, kind: AdapterKind): AdapterNames {
  const pascal = name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  const camel = pascal.charAt(0).toLowerCase() + pascal.slice(1);
  return {
    name,
    pascal,
    camel,
    packageName: `tactful-adapter-${name}`,
    factory: `create${pascal}${kind === 'platform' ? 'Platform' : 'Provider'}`,
    kind,
  };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function packageJson(n: AdapterNames): string {
  return json({
    name: n.packageName,
    version: '0.0.1',
    description: `Tactful ${n.kind === 'platform' ? 'CommercePlatform' : 'EmailProvider'} adapter for ${n.pascal}.`,
    license: 'MIT',
    type: 'module',
    sideEffects: false,
    files: ['dist'],
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    scripts: { build: 'tsc -p tsconfig.build.json', typecheck: 'tsc -p tsconfig.json', test: 'vitest run' },
    dependencies: { zod: '^4.1.0' },
    // Core is a peer: the app that installs this adapter holds the one copy of core every adapter shares.
    peerDependencies: { '@tactful/core': `^${CORE_VERSION}` },
    devDependencies: {
      '@tactful/core': `^${CORE_VERSION}`,
      '@types/node': '^20.19.0',
      msw: '^2.15.0',
      typescript: '~5.9.3',
      vitest: '^4.1.0',
    },
  });
}

const tsconfig = json({
  compilerOptions: {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    lib: ['ES2023'],
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    esModuleInterop: true,
    skipLibCheck: true,
    isolatedModules: true,
    noEmit: true,
  },
  include: ['src'],
});

const tsconfigBuild = json({
  extends: './tsconfig.json',
  compilerOptions: { noEmit: false, outDir: 'dist', rootDir: 'src', declaration: true, sourceMap: true },
  exclude: ['src/**/*.test.ts', 'src/testing/**'],
});

const vitestConfig = `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['src/**/*.test.ts'] },
});
`;

const gitignore = 'node_modules/\ndist/\n';

function platformIndex(n: AdapterNames): string {
  return `/**
 * ${n.pascal} as a Tactful CommercePlatform. Replace each NOT_IMPLEMENTED with real calls to ${n.pascal}'s API,
 * and run \`npm test\` after each one: the conformance suite says what is still missing.
 */
import { parseOrThrow, TactfulError, type CommercePlatform } from '@tactful/core';
import { z } from 'zod';

/** Options of \`${n.factory}\`, checked at construction; every problem is reported at once (CONFIG.INVALID). */
export const ${n.camel}OptionsSchema = z.object({
  /** The API's base address, e.g. https://api.${n.name}.example. */
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be the http(s) address of the ${n.pascal} API' }).transform((u) => u.replace(/\\/+$/, '')),
  /** The credential the API expects. */
  apiKey: z.string().trim().min(1, 'the ${n.pascal} API key is required'),
  /** The fetch to use (default: the global one, looked up at call time so msw can intercept it). */
  fetch: z.custom<typeof fetch>((value) => typeof value === 'function', 'fetch must be a function').optional(),
});

export type ${n.pascal}Options = z.input<typeof ${n.camel}OptionsSchema>;

function notImplemented(method: string): never {
  throw new TactfulError('ADAPTER.NOT_IMPLEMENTED', \`${n.name}: \${method} is not implemented yet (ADAPTER.NOT_IMPLEMENTED); write it in src/index.ts.\`);
}

export function ${n.factory}(input: ${n.pascal}Options): CommercePlatform {
  const options = parseOrThrow(${n.camel}OptionsSchema, input, 'CONFIG.INVALID', '${n.pascal} options');
  void options; // use options.baseUrl, options.apiKey and (options.fetch ?? globalThis.fetch) in your calls
  return {
    system: '${n.name}',
    // Declare only what you implement: the suite tests every declared capability (and skips the others).
    capabilities: { bulkOrders: false, consentWrite: true, erasure: true, webhooks: false },
    // Pages never overlap or skip; emails trimmed and lower-cased; ids as strings; times as the source's own Dates.
    async listCustomers(_request) {
      return notImplemented('listCustomers');
    },
    async listOrders(_request) {
      return notImplemented('listOrders');
    },
    async listProducts(_request) {
      return notImplemented('listProducts');
    },
    // Writes consent back with its ORIGINAL time; never lets an older change overwrite a newer one.
    async pushConsent(_changes) {
      return notImplemented('pushConsent');
    },
    // Deletes or redacts the customer; erasing someone already gone is not an error.
    async eraseCustomer(_ref) {
      return notImplemented('eraseCustomer');
    },
  };
}
`;
}

function providerIndex(n: AdapterNames): string {
  return `/**
 * ${n.pascal} as a Tactful EmailProvider. Replace each NOT_IMPLEMENTED with real calls to ${n.pascal}'s API,
 * and run \`npm test\` after each one: the conformance suite says what is still missing.
 */
import { parseOrThrow, TactfulError, type EmailProvider } from '@tactful/core';
import { z } from 'zod';

/** Options of \`${n.factory}\`, checked at construction; every problem is reported at once (CONFIG.INVALID). */
export const ${n.camel}OptionsSchema = z.object({
  /** The API's base address, e.g. https://api.${n.name}.example. */
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be the http(s) address of the ${n.pascal} API' }).transform((u) => u.replace(/\\/+$/, '')),
  /** The credential the API expects. */
  apiKey: z.string().trim().min(1, 'the ${n.pascal} API key is required'),
  /** The audience / list Tactful manages. */
  listId: z.string().trim().min(1, 'the id of the ${n.pascal} list (audience) is required'),
  /** The fetch to use (default: the global one, looked up at call time so msw can intercept it). */
  fetch: z.custom<typeof fetch>((value) => typeof value === 'function', 'fetch must be a function').optional(),
});

export type ${n.pascal}Options = z.input<typeof ${n.camel}OptionsSchema>;

function notImplemented(method: string): never {
  throw new TactfulError('ADAPTER.NOT_IMPLEMENTED', \`${n.name}: \${method} is not implemented yet (ADAPTER.NOT_IMPLEMENTED); write it in src/index.ts.\`);
}

export function ${n.factory}(input: ${n.pascal}Options): EmailProvider {
  const options = parseOrThrow(${n.camel}OptionsSchema, input, 'CONFIG.INVALID', '${n.pascal} options');
  void options; // use options.baseUrl, options.apiKey, options.listId and (options.fetch ?? globalThis.fetch) in your calls
  return {
    system: '${n.name}',
    // Declare only what you implement: campaign tests run only with campaigns: true.
    capabilities: { campaigns: false, reports: false, webhooks: false, maxBatch: 500 },
    // One result per change, in order. Never resubscribe an opted-out member without first-party consent.
    async pushMembers(_changes) {
      return notImplemented('pushMembers');
    },
    // Pages never overlap or skip; consent times are the provider's own (the original event time).
    async listMembers(_request) {
      return notImplemented('listMembers');
    },
    // null for an unknown address.
    async getMember(_email) {
      return notImplemented('getMember');
    },
  };
}
`;
}

function platformSandbox(n: AdapterNames): string {
  return `/**
 * A stateful fake of ${n.pascal}'s API for msw. Grow it with the API: keep the records in memory, answer in the
 * API's documented shapes, and reject what the real API rejects. The oracle in conformance.test.ts reads
 * and seeds this state directly.
 */
import { http, HttpResponse, type HttpHandler } from 'msw';

export interface SandboxCustomer {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  consent: { state: 'granted' | 'pending' | 'withdrawn' | 'none'; at: Date } | null;
  updatedAt: Date;
}
export interface SandboxProduct {
  id: string;
  title: string;
  price: string | null;
}
export interface SandboxOrder {
  id: string;
  customerId: string | null;
  email: string | null;
  createdAt: Date;
  cancelledAt: Date | null;
  lines: Array<{ productId: string; quantity: number }>;
}

export function create${n.pascal}Sandbox(baseUrl = 'https://api.${n.name}.example') {
  const customers = new Map<string, SandboxCustomer>();
  const products = new Map<string, SandboxProduct>();
  const orders = new Map<string, SandboxOrder>();
  const faults: number[] = [];
  let nextId = 1;

  /** Injected faults come first, as the real API would fail before doing anything. */
  const fault = () => {
    const status = faults.shift();
    return status === undefined ? undefined : HttpResponse.json({ error: \`injected \${status}\` }, { status });
  };

  const handlers: HttpHandler[] = [
    // An example endpoint; write the ones your adapter calls, in the API's real shapes.
    http.get(\`\${baseUrl}/customers\`, () => fault() ?? HttpResponse.json({ customers: [...customers.values()] })),
  ];

  return {
    baseUrl,
    handlers,
    addCustomer(input: Omit<SandboxCustomer, 'id' | 'updatedAt'>): { id: string } {
      const id = String(nextId++);
      customers.set(id, { ...input, id, updatedAt: new Date() });
      return { id };
    },
    addProduct(input: Omit<SandboxProduct, 'id'>): { id: string } {
      const id = String(nextId++);
      products.set(id, { ...input, id });
      return { id };
    },
    addOrder(input: Omit<SandboxOrder, 'id'>): { id: string } {
      const id = String(nextId++);
      orders.set(id, { ...input, id });
      return { id };
    },
    customerByEmail(email: string): SandboxCustomer | undefined {
      return [...customers.values()].find((c) => c.email.toLowerCase() === email.trim().toLowerCase());
    },
    /** The next \`times\` requests answer \`status\`. */
    failNext(status: number, times: number): void {
      for (let i = 0; i < times; i++) faults.push(status);
    },
    clearFaults(): void {
      faults.length = 0;
    },
  };
}
`;
}

function providerSandbox(n: AdapterNames): string {
  return `/**
 * A stateful fake of ${n.pascal}'s API for msw. Grow it with the API: keep the members in memory, answer in the
 * API's documented shapes, and reject what the real API rejects. The oracle in conformance.test.ts reads
 * and seeds this state directly.
 */
import { http, HttpResponse, type HttpHandler } from 'msw';

export type SandboxMemberState = 'subscribed' | 'pending' | 'unsubscribed' | 'cleaned';

export interface SandboxMember {
  email: string;
  state: SandboxMemberState;
  changedAt: Date;
}

export function create${n.pascal}Sandbox(baseUrl = 'https://api.${n.name}.example') {
  const members = new Map<string, SandboxMember>();
  let failure: number | undefined;

  /** An injected failure answers every request until cleared. */
  const fault = () => (failure === undefined ? undefined : HttpResponse.json({ error: \`injected \${failure}\` }, { status: failure }));

  const handlers: HttpHandler[] = [
    // An example endpoint; write the ones your adapter calls, in the API's real shapes.
    http.get(\`\${baseUrl}/members/:email\`, ({ params }) => {
      const member = members.get(String(params.email).toLowerCase());
      return fault() ?? (member ? HttpResponse.json(member) : HttpResponse.json({ error: 'not found' }, { status: 404 }));
    }),
  ];

  return {
    baseUrl,
    handlers,
    setMember(email: string, state: SandboxMemberState, changedAt = new Date()): void {
      members.set(email.trim().toLowerCase(), { email: email.trim().toLowerCase(), state, changedAt });
    },
    member(email: string): SandboxMember | undefined {
      return members.get(email.trim().toLowerCase());
    },
    fail(status: number): void {
      failure = status;
    },
    clearFailure(): void {
      failure = undefined;
    },
  };
}
`;
}

function platformConformance(n: AdapterNames): string {
  return `// The published conformance suite, against the sandbox. Every Tactful adapter runs exactly this.
import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { describeCommercePlatform, type CommercePlatformOracle } from '@tactful/core/testing';
import { ${n.factory} } from './index.js';
import { create${n.pascal}Sandbox } from './testing/sandbox.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

describeCommercePlatform({
  name: '${n.name} (sandbox)',
  async create() {
    const sandbox = create${n.pascal}Sandbox();
    server.resetHandlers(...sandbox.handlers);
    const platform = ${n.factory}({ baseUrl: sandbox.baseUrl, apiKey: 'sandbox-key' });
    const oracle: CommercePlatformOracle = {
      async seedCustomer({ email, firstName, lastName, consent }) {
        return sandbox.addCustomer({ email, firstName: firstName ?? null, lastName: lastName ?? null, consent: consent ? { state: consent.state, at: consent.occurredAt } : null });
      },
      async seedProduct({ title, price }) {
        return sandbox.addProduct({ title, price: price ?? null });
      },
      async seedOrder({ customerId, email, createdAt, cancelledAt, lines }) {
        return sandbox.addOrder({ customerId: customerId ?? null, email: email ?? null, createdAt, cancelledAt: cancelledAt ?? null, lines });
      },
      async readConsent(email) {
        const consent = sandbox.customerByEmail(email)?.consent;
        return consent ? { state: consent.state, occurredAt: consent.at } : null;
      },
      async customerExists(email) {
        return sandbox.customerByEmail(email) !== undefined;
      },
      async injectFault(kind, times) {
        sandbox.failNext(kind === 'rate_limit' ? 429 : kind === 'server_error' ? 503 : 400, times);
      },
      async clearFaults() {
        sandbox.clearFaults();
      },
    };
    return { platform, oracle };
  },
});
`;
}

function providerConformance(n: AdapterNames): string {
  return `// The published conformance suite, against the sandbox. Every Tactful adapter runs exactly this.
import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { describeEmailProvider, type EmailProviderOracle } from '@tactful/core/testing';
import { ${n.factory} } from './index.js';
import { create${n.pascal}Sandbox } from './testing/sandbox.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

describeEmailProvider({
  name: '${n.name} (sandbox)',
  async create() {
    const sandbox = create${n.pascal}Sandbox();
    server.resetHandlers(...sandbox.handlers);
    const provider = ${n.factory}({ baseUrl: sandbox.baseUrl, apiKey: 'sandbox-key', listId: 'sandbox-list' });
    const oracle: EmailProviderOracle = {
      async seedMember(email, state, options) {
        sandbox.setMember(email, state, options?.at);
      },
      async readMember(email) {
        const member = sandbox.member(email);
        return member ? { email: member.email, state: member.state } : null;
      },
      async injectFailure(kind) {
        sandbox.fail(kind === 'rate_limit' ? 429 : kind === 'server_error' ? 503 : 400);
      },
      async clearFailures() {
        sandbox.clearFailure();
      },
    };
    return { provider, oracle };
  },
});
`;
}

function readme(n: AdapterNames): string {
  const port = n.kind === 'platform' ? 'CommercePlatform' : 'EmailProvider';
  const suite = n.kind === 'platform' ? 'describeCommercePlatform' : 'describeEmailProvider';
  return `# ${n.packageName}

Tactful ${port} adapter for ${n.pascal}. Generated by \`tactful new adapter ${n.name} --kind ${n.kind}\`.

\`\`\`
npm install
npm test          # the conformance suite (${suite}) against the sandbox: it fails until the adapter is written
npm run build     # dist/, with type declarations
\`\`\`

## Where to start

1. \`src/index.ts\`: \`${n.factory}(options)\` validates its options and returns the adapter; every method throws
   \`ADAPTER.NOT_IMPLEMENTED\`. Write them one at a time.
2. \`src/testing/sandbox.ts\`: a stateful fake of ${n.pascal}'s API for msw. Add the endpoints your adapter calls,
   in the API's documented shapes, and reject what the real API rejects.
3. \`src/conformance.test.ts\`: runs \`${suite}\` from \`@tactful/core/testing\`; its oracle seeds and reads the
   sandbox directly. Declare in \`capabilities\` only what you implement.

## The rules the suite checks

- Records normalised: ids as strings, emails trimmed and lower-cased, times as \`Date\` in the source's own event
  time (never the time you read it).
- Paging without gaps or duplicates, even while the data changes.
- A consent fact keeps a stable \`sourceEventId\` while it is unchanged (Tactful drops duplicates on it).
- Errors are \`TactfulError\`: \`retryable: true\` for 429, 5xx and network failures (with \`retryAfter\` when
  known), \`retryable: false\` for anything repeating cannot fix. Codes are \`<VENDOR>.<REASON>\` with a
  reason of core's \`ADAPTER_ERROR_REASONS\` (\`RATE_LIMITED\`, \`UNAVAILABLE\`, \`NOT_FOUND\`…).
${n.kind === 'platform' ? '- Consent written back keeps its original time, and an older change never overwrites a newer one.\n- Erasure removes the customer; erasing again is not an error.\n' : '- An unsubscribed or cleaned member is never subscribed again from a change that is not first-party.\n- `erased` deletes the member permanently.\n'}
See Tactful's \`docs/adapters.md\` for the ports, the consent rules and running the suite against a live account.
`;
}

/** Every file of the package, by relative path. */
export function adapterFiles(n: AdapterNames): Record<string, string> {
  const platform = n.kind === 'platform';
  return {
    'package.json': packageJson(n),
    'tsconfig.json': tsconfig,
    'tsconfig.build.json': tsconfigBuild,
    'vitest.config.ts': vitestConfig,
    '.gitignore': gitignore,
    'README.md': readme(n),
    'src/index.ts': platform ? platformIndex(n) : providerIndex(n),
    'src/testing/sandbox.ts': platform ? platformSandbox(n) : providerSandbox(n),
    'src/conformance.test.ts': platform ? platformConformance(n) : providerConformance(n),
  };
}
