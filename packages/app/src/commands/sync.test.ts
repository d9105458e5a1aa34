import { existsSync } from 'node:fs';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, openStore } from '@tactful/core';
import { createShopifySandbox } from '@tactful/shopify/testing';
import { createMailchimpSandbox } from '@tactful/mailchimp/testing';
import { runCaptured as runIn } from '../cli/capture.js';
import { commandTestStore } from '../cli/test-store.js';
import type { SyncReport } from './sync.js';

const { db, shop: SHOP, env: storeEnv, secret, kind, remove } = commandTestStore('sync-test');
const runCaptured = (argv: string[], extraEnv: Record<string, string | undefined>) =>
  runIn(argv, { ...storeEnv, ...extraEnv });
const AUDIENCE = 'syncaudience1';

const shopify = createShopifySandbox({ shop: SHOP, bucket: { maximumAvailable: 20_000, restoreRate: 1000 } });
const mailchimp = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
const server = setupServer(...shopify.handlers, ...mailchimp.handlers);

const env = {
  SHOPIFY_ACCESS_TOKEN: shopify.accessToken,
  MAILCHIMP_API_KEY: mailchimp.apiKey,
  MAILCHIMP_AUDIENCE_ID: AUDIENCE,
};
const sync = (args: string[] = [], extraEnv: Record<string, string | undefined> = env) =>
  runCaptured(['--db', db, '--shop', SHOP, 'sync', ...args], extraEnv);
const json = (stdout: string) => JSON.parse(stdout) as SyncReport;
const system = (report: SyncReport, name: string) => report.systems.find((s) => s.system === name)!;

async function consentOf(email: string) {
  const store = await openStore({ url: db, secret });
  try {
    const tactful = await createTactful({ store, shop: SHOP });
    const view = await tactful.consent.show(email);
    return Object.fromEntries(view.purposes.map((p) => [p.purpose, p.state]));
  } finally {
    await store.close();
  }
}

const hourAgo = new Date(Date.now() - 3_600_000);
const product = shopify.addProduct({ title: 'Coffee', price: '4.00' });

beforeAll(() => {
  server.listen({ onUnhandledRequest: 'error' });
  // Two customers in Shopify, one subscribed, one not; one order; a member who exists only in Mailchimp.
  const ann = shopify.addCustomer({
    email: 'ann@example.com',
    firstName: 'Ann',
    createdAt: hourAgo,
    consent: { state: 'SUBSCRIBED', level: 'CONFIRMED_OPT_IN', at: hourAgo },
  });
  shopify.addCustomer({ email: 'bob@example.com', createdAt: hourAgo, consent: { state: 'NOT_SUBSCRIBED', at: null } });
  shopify.addOrder({ customerId: ann.id, createdAt: hourAgo, lines: [{ productId: product.id, quantity: 1 }] });
  mailchimp.seedMember('mia@example.com', 'subscribed', { at: hourAgo });
});

afterAll(() => {
  server.close();
  remove();
});

describe('tactful sync', () => {
  it('bad input - an unknown flag exits 2 and touches nothing', async () => {
    const r = await sync(['--everything']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--everything'");
    if (kind === 'folder') expect(existsSync(db)).toBe(false);
    expect(mailchimp.calls.total()).toBe(0);
    expect(shopify.requests).toHaveLength(0);
  });

  it('bad input - missing or malformed configuration is reported at once, exit 2, nothing touched', async () => {
    const r = await sync([], { MAILCHIMP_API_KEY: 'not-a-key', TACTFUL_SECRET: 'short' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error CONFIG.INVALID');
    expect(r.stderr).toContain('MAILCHIMP_API_KEY: must be a Mailchimp API key');
    expect(r.stderr).toContain('MAILCHIMP_AUDIENCE_ID: is required');
    expect(r.stderr).toContain('TACTFUL_SECRET:');
    const shopOnly = await runCaptured(['--db', db, '--shop', 'not-shopify.example.com', 'sync', '--shopify'], env);
    expect(shopOnly.code).toBe(2);
    expect(shopOnly.stderr).toContain('TACTFUL_SHOP: Shopify needs the shop');
    if (kind === 'folder') expect(existsSync(db)).toBe(false);
    expect(mailchimp.calls.total()).toBe(0);
    expect(shopify.requests).toHaveLength(0);
  });

  // The first sync creates the embedded database and reads the order history through a bulk operation: slow on a busy machine.
  it('first sync pulls everything from both, folds it, and delivers each change to the other system', {
    timeout: 180_000,
  }, async () => {
    const r = await sync(['--json']);
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    const report = json(r.stdout);
    expect(report.ok).toBe(true);
    expect(system(report, 'shopify')).toMatchObject({
      since: null,
      people: 2,
      newFacts: 2,
      orders: 1,
      ordersChanged: 1,
      error: null,
    });
    expect(system(report, 'mailchimp')).toMatchObject({ since: null, people: 1, newFacts: 1, error: null });
    expect(system(report, 'shopify').cursor).not.toBeNull();
    expect(await consentOf('ann@example.com')).toMatchObject({ email_marketing: 'granted' });
    expect(await consentOf('mia@example.com')).toMatchObject({ email_marketing: 'granted' });
    // Ann's confirmed grant reached Mailchimp; Mia (only in Mailchimp) has no Shopify customer: refused, kept with its reason.
    expect(mailchimp.member('ann@example.com', AUDIENCE)?.status).toBe('subscribed');
    expect(system(report, 'mailchimp').delivered).toBeGreaterThanOrEqual(1);
    expect(system(report, 'shopify').refused).toBe(1);
  });

  it('a second sync starts from the stored cursor; unchanged data changes nothing and writes nowhere', async () => {
    const before = json((await sync(['--json'])).stdout);
    const writes = mailchimp.calls.writes();
    const mutations = shopify.requests.filter((q) => /Update|Run/.test(q.operationName ?? '')).length;
    const r = await sync(['--json']);
    expect(r.code).toBe(0);
    const report = json(r.stdout);
    expect(system(report, 'shopify').since).toBe(system(before, 'shopify').cursor);
    expect(system(report, 'mailchimp').since).toBe(system(before, 'mailchimp').cursor);
    for (const s of report.systems)
      expect(s).toMatchObject({ newFacts: 0, ordersChanged: 0, delivered: 0, refused: 0, waiting: 0 });
    expect(mailchimp.calls.writes()).toBe(writes);
    expect(shopify.requests.filter((q) => /Update|Run/.test(q.operationName ?? '')).length).toBe(mutations);
  });

  it('--shopify pulls only Shopify: an unsubscribe there is folded and delivered to Shopify targets only', async () => {
    await shopify.setConsent('ann@example.com', { state: 'UNSUBSCRIBED', at: new Date() });
    const mcCalls = mailchimp.calls.total();
    const r = await sync(['--shopify']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^shopify\s+\S+\s+\d+\s+1\s/m);
    expect(r.stdout).not.toMatch(/^mailchimp/m);
    expect(await consentOf('ann@example.com')).toMatchObject({ email_marketing: 'withdrawn' });
    // Mailchimp was not called: its change waits in the outbox for the next Mailchimp delivery.
    expect(mailchimp.calls.total()).toBe(mcCalls);
    expect(mailchimp.member('ann@example.com', AUDIENCE)?.status).toBe('subscribed');
    const next = json((await sync(['--mailchimp', '--json'])).stdout);
    expect(system(next, 'mailchimp').delivered).toBe(1);
    expect(mailchimp.member('ann@example.com', AUDIENCE)?.status).toBe('unsubscribed');
  });

  it('--mailchimp never resubscribes: a member marked subscribed in Mailchimp after a withdrawal stays withdrawn', async () => {
    // Ann withdrew (above). Someone re-subscribes her in Mailchimp's admin.
    mailchimp.seedMember('ann@example.com', 'subscribed', { listId: AUDIENCE, at: new Date(Date.now() + 1000) });
    const r = await sync(['--mailchimp', '--json']);
    expect(r.code).toBe(0);
    expect(system(json(r.stdout), 'mailchimp').newFacts).toBe(1);
    expect(await consentOf('ann@example.com')).toMatchObject({ email_marketing: 'withdrawn' });
    // A change made in Mailchimp itself (an unsubscribe by the member) is folded as a withdrawal.
    mailchimp.actions.unsubscribe('mia@example.com', { listId: AUDIENCE });
    await sync(['--mailchimp']);
    expect(await consentOf('mia@example.com')).toMatchObject({ email_marketing: 'withdrawn' });
  });

  // A single opt-in grant pushed to Mailchimp with double opt-in required comes back as Mailchimp's `pending`
  // (its own confirmation email): a pending confirmation never takes a grant away (the fold's rule).
  it('Mailchimp pending after a pushed single opt-in grant leaves the grant in Tactful and Shopify', async () => {
    shopify.addCustomer({
      email: 'sol@example.com',
      consent: { state: 'SUBSCRIBED', level: 'SINGLE_OPT_IN', at: new Date(Date.now() - 60_000) },
    });
    await sync();
    expect(mailchimp.member('sol@example.com', AUDIENCE)?.status).toBe('pending');
    await sync();
    expect(await consentOf('sol@example.com')).toMatchObject({ email_marketing: 'granted' });
    expect(shopify.readConsent('sol@example.com')?.marketingState).toBe('SUBSCRIBED');
  });

  it('a vendor failure exits 1, keeps the cursor where it was, and the next run catches up', async () => {
    const before = json((await sync(['--shopify', '--json'])).stdout);
    shopify.addCustomer({
      email: 'cy@example.com',
      consent: { state: 'SUBSCRIBED', level: 'SINGLE_OPT_IN', at: new Date() },
    });
    shopify.failNext({ status: 401 }, 1);
    const failed = await sync(['--shopify', '--json']);
    expect(failed.code).toBe(1);
    const report = json(failed.stdout);
    expect(system(report, 'shopify').error).toMatch(/SHOPIFY\./);
    expect(system(report, 'shopify').cursor).toBeNull();
    expect(failed.stderr).toContain('run tactful sync again');
    const retry = json((await sync(['--shopify', '--json'])).stdout);
    expect(system(retry, 'shopify').since).toBe(system(before, 'shopify').cursor);
    expect(await consentOf('cy@example.com')).toMatchObject({ email_marketing: 'granted' });
  });

  it('without SHOPIFY_ACCESS_TOKEN and without a stored install session: exit 2 naming what to do, nothing pulled', async () => {
    const requests = shopify.requests.length;
    const before = json((await sync(['--mailchimp', '--json'])).stdout);
    const r = await sync(['--shopify'], { MAILCHIMP_API_KEY: mailchimp.apiKey, MAILCHIMP_AUDIENCE_ID: AUDIENCE });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`SHOPIFY_ACCESS_TOKEN: is required: ${SHOP} has no stored install session`);
    expect(shopify.requests.length).toBe(requests);
    // The human summary: one row per system synced.
    const table = await sync(['--mailchimp']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^system\s+since\s+people\s+new\s+orders\s+changed\s+delivered\s+refused\s+waiting\s+status$/m,
    );
    expect(table.stdout).toMatch(
      new RegExp(`^mailchimp\\s+${system(before, 'mailchimp').cursor!.replace(/[.]/g, '\\.')}\\s+.*\\sok$`, 'm'),
    );
  });

  it('without MAILCHIMP_API_KEY, --mailchimp uses the connection made on the admin page, and says what to do when there is none', async () => {
    const none = await sync(['--mailchimp', '--json'], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("unless Mailchimp is connected on the admin's Connections page");
    const store = await openStore({ url: db, secret });
    try {
      const tactful = await createTactful({ store, shop: SHOP });
      await tactful.connections.save(
        'mailchimp',
        { secrets: { apiKey: mailchimp.apiKey }, details: { audienceId: AUDIENCE } },
        { type: 'admin', id: 'test' },
      );
    } finally {
      await store.close();
    }
    const calls = mailchimp.calls.total();
    const r = await sync(['--mailchimp', '--json'], {});
    expect(r.code).toBe(0);
    expect(system(json(r.stdout), 'mailchimp').error).toBeNull();
    expect(mailchimp.calls.total()).toBeGreaterThan(calls);
  });
});
