/**
 * The packages as a user meets them: `npm pack` each one (from its built dist), install the tarballs into an
 * empty project outside the repository, then, in that project, create both sandboxes from the installed
 * `/testing` exports and run the published conformance suite against each (its own vitest, its own
 * node_modules, no workspace links and nothing beside it). A file a package reads at run time but does not
 * ship fails here: first as a missing tarball entry, then as the installed sandbox failing to start.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const folders = ['core', 'shopify-adapter', 'mailchimp-adapter', 'app'] as const;
const manifest = (folder: string) =>
  JSON.parse(readFileSync(join(root, 'packages', folder, 'package.json'), 'utf8')) as {
    name: string;
    files: string[];
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};

interface Packed {
  name: string;
  filename: string;
  size: number;
  files: Array<{ path: string }>;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

let work: string;
let packed: Map<string, Packed>;

beforeAll(async () => {
  for (const folder of folders) {
    if (!existsSync(join(root, 'packages', folder, 'dist'))) {
      throw new Error(`packages/${folder}/dist is missing: run \`npm run build\` first (npm test does).`);
    }
  }
  work = mkdtempSync(join(tmpdir(), 'tactful-packed-'));
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', tarballs, ...folders.flatMap((f) => ['-w', `packages/${f}`])],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  packed = new Map((JSON.parse(stdout) as Packed[]).map((p) => [p.name, p]));
}, 180_000);

// The installed project holds tens of thousands of files: removing them takes a while on a busy disk.
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
}, 300_000);

describe('the packed packages carry what they need', () => {
  it('each tarball holds its built entry points and every file of its data folder', () => {
    for (const folder of folders) {
      const { name } = manifest(folder);
      const tarball = packed.get(name);
      expect(tarball, `npm pack made no tarball for ${name}`).toBeDefined();
      const inside = new Set(tarball!.files.map((f) => f.path));
      const dir = join(root, 'packages', folder);
      const needed = [...filesUnder(join(dir, 'data')).map((file) => relative(dir, file)), 'dist/index.js'];
      const missing = needed.filter((file) => !inside.has(file));
      expect(missing, `${name}'s tarball lacks files it reads at run time: add them to "files"`).toEqual([]);
    }
    // The adapters' sandboxes and the demo need these; a package whose data folder vanished fails here too.
    expect(packed.get('@tactful/shopify')!.files.map((f) => f.path)).toContain('data/admin_2025-10.graphql');
    expect(packed.get('@tactful/shopify')!.files.map((f) => f.path)).toContain('data/LICENSE.shopify-dev-mcp.txt');
    expect(packed.get('@tactful/mailchimp')!.files.map((f) => f.path)).toContain(
      'data/mailchimp-marketing-3.0.55.openapi.yaml',
    );
    expect(packed.get('@tactful/app')!.files.map((f) => f.path)).toContain('data/groceries/groceries.csv');
    // The app serves its browser files (src/server/assets) from dist/assets, beside the bundle that reads them.
    const appFiles = new Set(packed.get('@tactful/app')!.files.map((f) => f.path));
    const assets = readdirSync(join(root, 'packages/app/src/server/assets'));
    expect(assets.length).toBeGreaterThanOrEqual(3);
    expect(assets.map((name) => `dist/assets/${name}`).filter((file) => !appFiles.has(file))).toEqual([]);
  });

  it('installed from the tarballs alone, both sandboxes pass the published conformance suites', async () => {
    const project = join(work, 'project');
    mkdirSync(project);
    const dependencies: Record<string, string> = {
      msw: manifest('shopify-adapter').dependencies!.msw!,
      vitest: rootManifest.devDependencies.vitest!,
    };
    for (const folder of folders) {
      const { name } = manifest(folder);
      dependencies[name] = `file:${join(work, 'tarballs', packed.get(name)!.filename)}`;
    }
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'tactful-packed-check', private: true, type: 'module', dependencies }, null, 2),
    );
    for (const [file, text] of Object.entries(projectFiles)) writeFileSync(join(project, file), text);
    const installStarted = Date.now();
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: project,
      maxBuffer: 64 * 1024 * 1024,
    });
    const installSeconds = (Date.now() - installStarted) / 1000;
    // Installed copies, not links back into this repository.
    for (const folder of folders) {
      const installed = join(project, 'node_modules', manifest(folder).name);
      expect(existsSync(join(installed, 'package.json'))).toBe(true);
      expect(readdirSync(installed)).not.toContain('src');
    }

    const suitesStarted = Date.now();
    const result = await run(
      process.execPath,
      [join(project, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=json', '--outputFile=report.json'],
      { cwd: project, env: { ...process.env, CI: '' }, maxBuffer: 64 * 1024 * 1024 },
    ).catch((error: { stdout?: string; stderr?: string }) => ({
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }));
    console.log(
      `packed packages: npm install of the tarballs ${installSeconds.toFixed(1)} s, ` +
        `conformance suites in the installed project ${((Date.now() - suitesStarted) / 1000).toFixed(1)} s`,
    );
    const reportFile = join(project, 'report.json');
    expect(existsSync(reportFile), `vitest wrote no report:\n${result.stdout}\n${result.stderr}`).toBe(true);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      numFailedTests: number;
      testResults: Array<{
        name: string;
        message?: string;
        assertionResults: Array<{ status: string; fullName: string; failureMessages: string[] }>;
      }>;
    };
    const failures = report.testResults.flatMap((file) => [
      ...(file.message ? [`${file.name}: ${file.message}`] : []),
      ...file.assertionResults
        .filter((a) => a.status === 'failed')
        .map((a) => `${a.fullName}: ${a.failureMessages.join('\n').slice(0, 2000)}`),
    ]);
    expect(failures).toEqual([]);
    const passedIn = (file: string) =>
      report.testResults.find((r) => r.name.endsWith(file))?.assertionResults.filter((a) => a.status === 'passed')
        .length ?? 0;
    // Each suite runs a dozen or more cases; a handful would mean most were skipped.
    expect(passedIn('shopify.test.js')).toBeGreaterThan(10);
    expect(passedIn('mailchimp.test.js')).toBeGreaterThan(10);
    expect(passedIn('shipped-data.test.js')).toBe(2);
  }, 600_000);
});

/** The project a user would write: only the installed packages' public exports. */
const projectFiles: Record<string, string> = {
  // The same allowances as the repository's own run: a busy machine must not fail a suite by its clock.
  'vitest.config.js': `export default {
  test: { testTimeout: 90_000, hookTimeout: 60_000, pool: 'forks', maxWorkers: 2 },
};
`,
  'shopify.test.js': `
import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { describeCommercePlatform } from '@tactful/core/testing';
import {
  createShopifyPlatform,
  mapShopifyConsent,
  tactfulToShopifyLevel,
  tactfulToShopifyState,
} from '@tactful/shopify';
import { createShopifySandbox } from '@tactful/shopify/testing';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

describeCommercePlatform({
  name: 'shopify (installed sandbox)',
  async create() {
    const sandbox = createShopifySandbox();
    server.resetHandlers(...sandbox.handlers);
    const platform = createShopifyPlatform({
      shop: sandbox.shop,
      accessToken: sandbox.accessToken,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      bulk: { pollIntervalMs: 1 },
      sleep: async () => undefined,
    });
    const oracle = {
      async seedCustomer({ email, firstName, lastName, consent }) {
        return sandbox.addCustomer({
          email,
          firstName: firstName ?? null,
          lastName: lastName ?? null,
          ...(consent
            ? {
                consent: {
                  state: tactfulToShopifyState[consent.state],
                  level:
                    consent.state === 'granted' || consent.state === 'pending'
                      ? tactfulToShopifyLevel[consent.level ?? 'unknown']
                      : null,
                  at: consent.occurredAt,
                },
              }
            : {}),
        });
      },
      async seedProduct({ title, price }) {
        return sandbox.addProduct({ title, ...(price ? { price } : {}) });
      },
      async seedOrder({ customerId, email, createdAt, cancelledAt, lines }) {
        return sandbox.addOrder({
          customerId: customerId ?? null,
          email: email ?? null,
          createdAt,
          cancelledAt: cancelledAt ?? null,
          lines,
        });
      },
      async readConsent(email) {
        const held = sandbox.readConsent(email);
        if (!held) return null;
        const mapped = mapShopifyConsent(held.marketingState, held.marketingOptInLevel);
        return mapped.kind === 'consent' ? { state: mapped.state, occurredAt: held.consentUpdatedAt } : null;
      },
      async customerExists(email) {
        return sandbox.readConsent(email) !== null;
      },
      async injectFault(kind, times) {
        sandbox.failNext(
          kind === 'rate_limit'
            ? { status: 429, retryAfter: 0 }
            : kind === 'server_error'
              ? { status: 503 }
              : { status: 400 },
          times,
        );
      },
      async clearFaults() {
        sandbox.clearFaults();
      },
    };
    return { platform, oracle };
  },
});
`,
  'mailchimp.test.js': `
import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { describeEmailProvider } from '@tactful/core/testing';
import { createMailchimpProvider } from '@tactful/mailchimp';
import { createMailchimpSandbox, loadSpecValidator } from '@tactful/mailchimp/testing';

const server = setupServer();
beforeAll(() => {
  loadSpecValidator();
  server.listen({ onUnhandledRequest: 'error' });
}, 120_000);
afterAll(() => server.close());

describeEmailProvider({
  name: 'mailchimp (installed sandbox)',
  create: async () => {
    const sandbox = createMailchimpSandbox({ audiences: [{ id: 'aud0000001' }] });
    server.use(...sandbox.handlers);
    const provider = createMailchimpProvider(
      { apiKey: sandbox.apiKey, audienceId: 'aud0000001', retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 } },
      { sleep: async () => {} },
    );
    return {
      provider,
      oracle: {
        async seedMember(email, state, options) {
          sandbox.seedMember(email, state, options?.at ? { at: options.at } : {});
        },
        async readMember(email) {
          const member = sandbox.member(email);
          if (!member) return null;
          const known = ['subscribed', 'pending', 'unsubscribed', 'cleaned'];
          return { email: member.email_address, state: known.includes(member.status) ? member.status : 'other' };
        },
        async injectFailure(kind) {
          sandbox.faults.failAlways(kind);
        },
        async clearFailures() {
          sandbox.faults.clear();
        },
        async campaignEmail(campaignId, email) {
          return sandbox.render(campaignId, email);
        },
        async campaignRecipients(campaignId) {
          const campaign = sandbox.state.campaigns.get(campaignId);
          const audience = sandbox.state.audiences.get('aud0000001');
          return (campaign?.sentTo ?? []).map((hash) => audience?.members.get(hash)?.email_address ?? hash);
        },
        async createJourney() {
          // The step's email is the campaign template, as the adapter's README tells the owner to design it.
          const { journeyId, stepId } = sandbox.journeys.create('Conformance journey');
          return { journeyId: String(journeyId), stepId: String(stepId) };
        },
        async journeyEmails(email) {
          return sandbox.journeys.emails(email).map((e) => e.html);
        },
      },
      cleanup: async () => server.resetHandlers(),
    };
  },
});
`,
  // The CommonJS builds find the shipped files too, and the demo's Groceries seeds a sandbox shop.
  'shipped-data.test.js': `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';

// Node's own require: the packages' CommonJS builds, exactly as a CommonJS user loads them.
const require = createRequire(import.meta.url);
const shopify = require('@tactful/shopify/testing');
const mailchimp = require('@tactful/mailchimp/testing');

it('the CommonJS sandboxes load the shipped schema and spec', () => {
  expect(shopify.validateDocument('{ shop { name } }')).toEqual([]);
  expect(mailchimp.loadSpecValidator()).toBeTruthy();
}, 120_000);

it("the demo's Groceries, as installed with @tactful/app, seeds a sandbox shop", () => {
  const groceries = new URL('./node_modules/@tactful/app/data/groceries/', import.meta.url);
  const sandbox = shopify.createShopifySandbox();
  const summary = shopify.seedFromGroceries(
    sandbox,
    {
      baskets: readFileSync(new URL('groceries.csv', groceries), 'utf8'),
      items: readFileSync(new URL('groceries_items.csv', groceries), 'utf8'),
    },
    { orders: 100 },
  );
  expect(summary).toMatchObject({ products: 169, orders: 100 });
});
`,
};
