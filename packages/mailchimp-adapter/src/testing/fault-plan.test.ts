import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTactfulError, type MemberChange } from '@tactful/core';
import { createMailchimpProvider } from '../provider.js';
import {
  createMailchimpFaultPlan,
  createMailchimpSandbox,
  serveMailchimpSandbox,
  type MailchimpSandboxHost,
} from './index.js';

const AUDIENCE = 'faultaud01';

function grant(email: string): MemberChange {
  return {
    email,
    consent: {
      email,
      purpose: 'email_marketing',
      state: 'granted',
      level: 'confirmed',
      occurredAt: new Date('2025-03-01T00:00:00Z'),
      firstParty: true,
    },
  };
}

describe('mailchimp fault plan', () => {
  it('draws the same faults for the same seed, and counts them', () => {
    const run = (seed: number) => {
      const plan = createMailchimpFaultPlan({ seed, rate: 0.25 });
      return {
        out: Array.from({ length: 200 }, () => plan.draw(['rate_limit', 'server_error', 'batch_member_error'])),
        plan,
      };
    };
    const a = run(11);
    expect(a.out).toEqual(run(11).out);
    expect(a.out).not.toEqual(run(12).out);
    expect(a.plan.total()).toBe(a.out.filter((k) => k !== null).length);
    expect(a.plan.total()).toBeGreaterThan(20);
  });

  it('refuses a bad plan and a bad baseUrl, naming the problem', () => {
    expect(() => createMailchimpFaultPlan({ seed: 1, rate: -1 })).toThrow(/rate/);
    try {
      createMailchimpProvider({
        apiKey: `${'0'.repeat(31)}1-us21`,
        audienceId: AUDIENCE,
        baseUrl: 'ftp://example.com',
      });
      expect.unreachable();
    } catch (error) {
      expect(isTactfulError(error, 'CONFIG.INVALID')).toBe(true);
      expect((error as Error).message).toMatch(/baseUrl/);
    }
  });
});

describe('mailchimp sandbox over loopback HTTP with seeded faults', () => {
  const sandbox = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
  let host: MailchimpSandboxHost;
  beforeAll(async () => {
    host = await serveMailchimpSandbox(sandbox);
  });
  afterAll(() => host.close());

  it('the provider, pointed at the host by baseUrl, gets every member in through 429s, 5xx, timeouts and resets', async () => {
    const plan = createMailchimpFaultPlan({
      seed: 5,
      rate: 0.4,
      kinds: ['rate_limit', 'rate_limit_no_retry_after', 'server_error', 'timeout', 'connection_reset'],
      retryAfterSeconds: 0,
      holdMs: 400,
    });
    sandbox.faults.setPlan(plan);
    const provider = createMailchimpProvider(
      {
        apiKey: sandbox.apiKey,
        audienceId: AUDIENCE,
        baseUrl: host.baseUrl,
        timeoutMs: 200,
        retry: { retries: 10, baseDelayMs: 1, maxDelayMs: 5 },
      },
      { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))) },
    );
    const emails = Array.from({ length: 30 }, (_, i) => `m${i}@example.com`);
    const results = [];
    for (let i = 0; i < emails.length; i += 5)
      results.push(...(await provider.pushMembers(emails.slice(i, i + 5).map(grant))));
    sandbox.faults.setPlan(null);
    await new Promise((resolve) => setTimeout(resolve, 500)); // held (timed-out) requests end after holdMs
    expect(results.every((r) => r.ok)).toBe(true);
    expect(emails.every((e) => sandbox.member(e)?.status === 'subscribed')).toBe(true);
    expect(plan.total()).toBeGreaterThan(3);
    const counts = plan.counts();
    expect(host.stats.dropped).toBe(counts.timeout + counts.connection_reset);
    expect(sandbox.faults.answered.length).toBe(plan.total());
  });

  it('a partial batch error fails only the members the plan drew, with their own result', async () => {
    const plan = createMailchimpFaultPlan({ seed: 9, rate: 0.3, kinds: ['batch_member_error'] });
    sandbox.faults.setPlan(plan);
    const provider = createMailchimpProvider({ apiKey: sandbox.apiKey, audienceId: AUDIENCE, baseUrl: host.baseUrl });
    const emails = Array.from({ length: 40 }, (_, i) => `b${i}@example.com`);
    const results = await provider.pushMembers(emails.map(grant));
    sandbox.faults.setPlan(null);
    const failed = results.filter((r) => !r.ok).map((r) => r.email);
    expect(failed.length).toBe(plan.counts().batch_member_error);
    expect(failed.length).toBeGreaterThan(0);
    for (const email of emails) expect(sandbox.member(email)?.status === 'subscribed').toBe(!failed.includes(email));
  });

  it('delivers webhooks twice and out of order when the plan says so', async () => {
    const received: string[] = [];
    const hooks = createMailchimpSandbox({
      audiences: [{ id: AUDIENCE }],
      // Records at the moment of sending, so the order seen is the order sent.
      deliver: async (_url, init) => {
        received.push(new URLSearchParams(init.body ?? '').get('data[email]') ?? '');
        return { status: 200 };
      },
    });
    hooks.addWebhook('https://app.example/hook', { listId: AUDIENCE });
    const emails = Array.from({ length: 30 }, (_, i) => `w${i}@example.com`);
    for (const email of emails) hooks.seedMember(email, 'subscribed', { listId: AUDIENCE });
    const plan = createMailchimpFaultPlan({ seed: 4, rate: 0.5, kinds: ['webhook_duplicate', 'webhook_reorder'] });
    hooks.faults.setPlan(plan);
    for (const email of emails) hooks.actions.unsubscribe(email, { listId: AUDIENCE });
    await hooks.flushWebhooks();
    expect(new Set(received)).toEqual(new Set(emails));
    expect(received.length).toBe(emails.length + plan.counts().webhook_duplicate);
    expect(plan.counts().webhook_duplicate).toBeGreaterThan(0);
    expect(plan.counts().webhook_reorder).toBeGreaterThan(0);
    const order = received.map((e) => emails.indexOf(e));
    expect(order.some((v, i) => i > 0 && v < order[i - 1]!)).toBe(true);
  });
});
