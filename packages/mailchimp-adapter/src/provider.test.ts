import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { http } from 'msw';
import fc from 'fast-check';
import { isTactfulError, type ConsentPush, type MemberChange } from '@tactful/core';
import { createMailchimpProvider, memberToInboundEvent, reconcileMailchimpAudience, subscriberHash } from './index.js';
import {
  createMailchimpSandbox,
  createMemoryInboundSink,
  type MailchimpSandbox,
  loadSpecValidator,
} from './testing/index.js';

const server = setupServer();
// Parsing the 1.6 MB OpenAPI spec takes seconds on a busy machine: do it under the hook timeout, not a test's.
beforeAll(() => {
  loadSpecValidator();
  server.listen({ onUnhandledRequest: 'error' });
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const AUDIENCE = 'aud0000001';
const fast = async () => {};

function setup(
  extra: { sandbox?: Parameters<typeof createMailchimpSandbox>[0]; provider?: Record<string, unknown> } = {},
) {
  const sandbox = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }], ...extra.sandbox });
  server.use(...sandbox.handlers);
  const provider = createMailchimpProvider(
    {
      apiKey: sandbox.apiKey,
      audienceId: AUDIENCE,
      retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 5 },
      ...extra.provider,
    },
    { sleep: fast },
  );
  return { sandbox, provider };
}

function consent(email: string, state: ConsentPush['state'], over: Partial<ConsentPush> = {}): MemberChange {
  return {
    email,
    consent: {
      email,
      purpose: 'email_marketing',
      state,
      level: 'confirmed',
      occurredAt: new Date('2025-03-01T10:00:00Z'),
      firstParty: false,
      ...over,
    },
  };
}

const statusOf = (sandbox: MailchimpSandbox, email: string) => sandbox.member(email)?.status;

describe('options', () => {
  it('reports every problem at once and changes nothing', () => {
    let caught: unknown;
    try {
      createMailchimpProvider({ apiKey: 'nope', audienceId: '', maxConnections: 50 });
    } catch (error) {
      caught = error;
    }
    expect(isTactfulError(caught, 'CONFIG.INVALID')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain('apiKey');
    expect(message).toContain('audienceId');
    expect(message).toContain('maxConnections');
  });

  it('derives the data centre from the API key and needs a server with an OAuth token', () => {
    const provider = createMailchimpProvider({ apiKey: `${'a'.repeat(32)}-us7`, audienceId: 'x' });
    expect(provider.options.server).toBe('us7');
    expect(() => createMailchimpProvider({ accessToken: 'tok', audienceId: 'x' })).toThrow(/server/);
  });

  it('works with an OAuth token', async () => {
    const sandbox = createMailchimpSandbox({ dc: 'us3', accessToken: 'oauth-token-123' });
    server.use(...sandbox.handlers);
    const provider = createMailchimpProvider({
      accessToken: 'oauth-token-123',
      server: 'us3',
      audienceId: 'aud0000001',
    });
    sandbox.seedMember('a@example.com', 'subscribed');
    expect((await provider.getMember('a@example.com'))?.status).toBe('subscribed');
  });
});

describe('pushMembers - status mapping', () => {
  it('granted → subscribed, pending → pending, withdrawn → unsubscribed, in order, one result each', async () => {
    const { sandbox, provider } = setup();
    const results = await provider.pushMembers([
      consent('A@Example.com', 'granted'),
      consent('b@example.com', 'pending'),
      consent('c@example.com', 'withdrawn'),
    ]);
    expect(results).toEqual([
      { email: 'a@example.com', ok: true },
      { email: 'b@example.com', ok: true },
      { email: 'c@example.com', ok: true },
    ]);
    expect(statusOf(sandbox, 'a@example.com')).toBe('subscribed');
    expect(statusOf(sandbox, 'b@example.com')).toBe('pending');
    expect(statusOf(sandbox, 'c@example.com')).toBe('unsubscribed');
    // Mailchimp's own confirmation email is the double opt-in.
    expect(sandbox.state.audiences.get(AUDIENCE)?.confirmationEmails).toEqual(['b@example.com']);
    expect(sandbox.calls.count('POST', '/lists/{list_id}')).toBe(1);
  });

  it('a single opt-in grant goes to pending when the store requires double opt-in', async () => {
    const { sandbox, provider } = setup({ provider: { requireDoubleOptIn: true } });
    await provider.pushMembers([
      consent('s@example.com', 'granted', { level: 'single' }),
      consent('d@example.com', 'granted', { level: 'confirmed' }),
    ]);
    expect(statusOf(sandbox, 's@example.com')).toBe('pending');
    expect(statusOf(sandbox, 'd@example.com')).toBe('subscribed');
  });

  it('erased deletes the member permanently, and Mailchimp then refuses to re-import it', async () => {
    const { sandbox, provider } = setup();
    sandbox.seedMember('gone@example.com', 'subscribed');
    const [result] = await provider.pushMembers([{ email: 'gone@example.com', consent: { erased: true } }]);
    expect(result).toEqual({ email: 'gone@example.com', ok: true });
    expect(sandbox.member('gone@example.com')).toBeUndefined();
    const [again] = await provider.pushMembers([
      consent('gone@example.com', 'granted', { occurredAt: new Date('2025-04-01T00:00:00Z') }),
    ]);
    expect(again).toMatchObject({ ok: false, code: 'MAILCHIMP.FORGOTTEN', retryable: false });
    expect(sandbox.member('gone@example.com')).toBeUndefined();
  });

  it('erasing someone Mailchimp never had is fine', async () => {
    const { provider } = setup();
    expect(await provider.pushMembers([{ email: 'never@example.com', consent: { erased: true } }])).toEqual([
      { email: 'never@example.com', ok: true },
    ]);
  });

  it('an invalid address fails alone and is not sent', async () => {
    const { sandbox, provider } = setup();
    const results = await provider.pushMembers([
      consent('not-an-email', 'granted'),
      consent('ok@example.com', 'granted'),
    ]);
    expect(results[0]).toMatchObject({ ok: false, code: 'MAILCHIMP.INVALID_EMAIL', retryable: false });
    expect(results[1]).toEqual({ email: 'ok@example.com', ok: true });
    expect(sandbox.state.audiences.get(AUDIENCE)?.members.size).toBe(1);
  });

  it('refuses more than 500 changes a call', async () => {
    const { provider } = setup();
    const many = Array.from({ length: 501 }, (_, i) => consent(`m${i}@example.com`, 'granted'));
    await expect(provider.pushMembers(many)).rejects.toMatchObject({ code: 'MAILCHIMP.BATCH_TOO_LARGE' });
  });
});

describe('pushMembers - compliance state', () => {
  for (const held of ['unsubscribed', 'cleaned'] as const) {
    it(`never sends subscribed for a member Mailchimp has as ${held}; a non-first-party grant is refused`, async () => {
      const { sandbox, provider } = setup();
      sandbox.seedMember('x@example.com', held);
      sandbox.calls.reset();
      const [result] = await provider.pushMembers([consent('x@example.com', 'granted', { firstParty: false })]);
      expect(result).toMatchObject({
        email: 'x@example.com',
        ok: false,
        code: 'MAILCHIMP.COMPLIANCE_STATE',
        retryable: false,
      });
      expect(statusOf(sandbox, 'x@example.com')).toBe(held);
      expect(sandbox.calls.count('POST', '/lists/{list_id}')).toBe(0);
    });

    it(`fresh first-party consent brings a ${held} member back through pending`, async () => {
      const { sandbox, provider } = setup();
      sandbox.seedMember('x@example.com', held);
      const [result] = await provider.pushMembers([consent('x@example.com', 'granted', { firstParty: true })]);
      expect(result).toEqual({ email: 'x@example.com', ok: true });
      expect(statusOf(sandbox, 'x@example.com')).toBe('pending');
    });
  }

  it('a non-first-party pending push does not send an opted-out member a confirmation email', async () => {
    const { sandbox, provider } = setup();
    sandbox.seedMember('quiet@example.com', 'unsubscribed');
    const [refused] = await provider.pushMembers([consent('quiet@example.com', 'pending', { firstParty: false })]);
    expect(refused).toMatchObject({ ok: false, code: 'MAILCHIMP.COMPLIANCE_STATE' });
    expect(sandbox.state.audiences.get(AUDIENCE)?.confirmationEmails).toEqual([]);
    const [allowed] = await provider.pushMembers([
      consent('quiet@example.com', 'pending', { firstParty: true, occurredAt: new Date('2025-08-01T00:00:00Z') }),
    ]);
    expect(allowed).toEqual({ email: 'quiet@example.com', ok: true });
    expect(sandbox.state.audiences.get(AUDIENCE)?.confirmationEmails).toEqual(['quiet@example.com']);
  });

  it('no sync path resubscribes a member unsubscribed in Mailchimp', async () => {
    const { sandbox, provider } = setup({
      sandbox: { audiences: [{ id: AUDIENCE, marketingPermissions: [{ id: 'perm-pers', text: 'Personalised' }] }] },
      provider: { marketingPermissions: { personalization: 'perm-pers' } },
    });
    sandbox.seedMember('out@example.com', 'unsubscribed');
    const at = (m: number) => new Date(Date.UTC(2025, 5, 1, 0, m));
    const paths: MemberChange[] = [
      {
        email: 'out@example.com',
        consent: {
          email: 'out@example.com',
          purpose: 'email_marketing',
          state: 'granted',
          level: 'confirmed',
          occurredAt: at(1),
          firstParty: false,
        },
        mergeFields: { FNAME: 'Out' },
        tags: ['vip'],
      },
      consent('out@example.com', 'granted', { purpose: 'personalization', occurredAt: at(2) }),
      consent('out@example.com', 'none', { occurredAt: at(3) }),
      consent('out@example.com', 'pending', { occurredAt: at(4) }),
      {
        email: 'out@example.com',
        consent: {
          email: 'out@example.com',
          purpose: 'personalization',
          state: 'withdrawn',
          level: 'unknown',
          occurredAt: at(5),
          firstParty: false,
        },
        mergeFields: { FNAME: 'Still out' },
      },
    ];
    for (const change of paths) await provider.pushMembers([change]);
    await provider
      .sendCampaign({
        key: 'no-resub',
        subject: 'S',
        sender: { name: 'F', email: 'r@example.com', postalAddress: '1 Street' },
        recipients: [
          {
            email: 'out@example.com',
            content: {
              products: [{ productId: 'p', title: 'P', url: 'https://shop.example/p' }],
              reason: 'x',
              consentLine: 'y',
              preferencesUrl: 'https://shop.example/prefs',
              unsubscribeUrl: 'https://shop.example/u',
            },
          },
        ],
      })
      .catch(() => undefined);
    await reconcileMailchimpAudience(provider, createMemoryInboundSink(), 'shop');
    expect(statusOf(sandbox, 'out@example.com')).toBe('unsubscribed');
    expect(sandbox.state.refusals).toEqual([]);
    expect(sandbox.state.audiences.get(AUDIENCE)?.confirmationEmails).toEqual([]);
  });

  it('an unsubscribe made in Mailchimp after our last push is respected on the next grant', async () => {
    const { sandbox, provider } = setup();
    await provider.pushMembers([consent('late@example.com', 'granted')]);
    sandbox.actions.unsubscribe('late@example.com');
    const [result] = await provider.pushMembers([
      consent('late@example.com', 'granted', { occurredAt: new Date('2025-05-01T00:00:00Z') }),
    ]);
    expect(result).toMatchObject({ ok: false, code: 'MAILCHIMP.COMPLIANCE_STATE' });
    expect(statusOf(sandbox, 'late@example.com')).toBe('unsubscribed');
  });

  it('a member who re-subscribed in Mailchimp is not held back by a stale compliance index', async () => {
    const { sandbox, provider } = setup();
    sandbox.seedMember('re@example.com', 'unsubscribed');
    await provider.pushMembers([consent('other@example.com', 'granted')]);
    sandbox.actions.subscribe('re@example.com', { source: 'user' });
    const [result] = await provider.pushMembers([
      { ...consent('re@example.com', 'granted'), mergeFields: { FNAME: 'Re' } },
    ]);
    expect(result).toEqual({ email: 're@example.com', ok: true });
    expect(statusOf(sandbox, 're@example.com')).toBe('subscribed');
    expect(sandbox.member('re@example.com')?.merge_fields.FNAME).toBe('Re');
  });

  it('if Mailchimp refuses anyway (an unsubscribe racing our batch), the refusal maps to the member', async () => {
    const { sandbox, provider } = setup();
    sandbox.seedMember('race@example.com', 'subscribed');
    let raced = false;
    // Runs before the sandbox's own handler and falls through to it.
    server.use(
      http.post(`${sandbox.baseUrl}/lists/${AUDIENCE}`, () => {
        if (!raced) sandbox.actions.unsubscribe('race@example.com');
        raced = true;
      }),
    );
    const [result] = await provider.pushMembers([consent('race@example.com', 'granted')]);
    expect(raced).toBe(true);
    expect(result).toMatchObject({ ok: false, code: 'MAILCHIMP.COMPLIANCE_STATE', retryable: false });
    expect(statusOf(sandbox, 'race@example.com')).toBe('unsubscribed');
    expect(sandbox.state.refusals).toEqual([
      { email: 'race@example.com', status: 'subscribed', title: 'Member In Compliance State' },
    ]);
  });

  it('property: whatever sequence of pushes arrives, a member unsubscribed in Mailchimp is never subscribed by a sync', async () => {
    const push = fc.record({
      state: fc.constantFrom('granted', 'granted', 'pending', 'withdrawn', 'none') as fc.Arbitrary<
        ConsentPush['state']
      >,
      level: fc.constantFrom('single', 'confirmed', 'unknown') as fc.Arbitrary<ConsentPush['level']>,
      firstParty: fc.boolean(),
      minute: fc.integer({ min: 0, max: 5 }),
      fields: fc.boolean(),
      mailchimpUnsubscribesFirst: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(push, { minLength: 1, maxLength: 6 }), fc.boolean(), async (pushes, doubleOptIn) => {
        server.resetHandlers();
        const { sandbox, provider } = setup({ provider: { requireDoubleOptIn: doubleOptIn } });
        sandbox.seedMember('p@example.com', 'unsubscribed');
        let firstPartySeen = false;
        for (const p of pushes) {
          if (p.mailchimpUnsubscribesFirst && sandbox.member('p@example.com')?.status === 'subscribed')
            sandbox.actions.unsubscribe('p@example.com');
          const before = statusOf(sandbox, 'p@example.com');
          const wasHeld = ['unsubscribed', 'cleaned'].includes(before ?? '');
          const change = consent('p@example.com', p.state, {
            level: p.level,
            firstParty: p.firstParty,
            occurredAt: new Date(Date.UTC(2025, 0, 1, 0, p.minute)),
          });
          const results = await provider.pushMembers([
            p.fields ? { ...change, mergeFields: { FNAME: `m${p.minute}` } } : change,
          ]);
          expect(results).toHaveLength(1);
          if (p.state === 'granted' && p.firstParty) firstPartySeen = true;
          const now = statusOf(sandbox, 'p@example.com');
          // Never straight from compliance state to subscribed, and never subscribed without first-party consent.
          if (wasHeld) expect(now).not.toBe('subscribed');
          if (wasHeld && now === 'pending') expect(p.firstParty).toBe(true);
          if (!firstPartySeen) expect(now).not.toBe('subscribed');
          // Once held back, only a first-party grant itself moves someone to subscribed.
          if (now === 'subscribed' && before !== 'subscribed') expect(p.state === 'granted' && p.firstParty).toBe(true);
        }
        // The adapter never even asks: Mailchimp had nothing to refuse.
        expect(sandbox.state.refusals).toEqual([]);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

describe('pushMembers - batch and partial errors', () => {
  it('maps the per-member errors of a 200 response back to each change', async () => {
    const { sandbox, provider } = setup();
    sandbox.faults.batchMemberError('bad@example.com', 'Mailchimp says no');
    const results = await provider.pushMembers([
      consent('a@example.com', 'granted'),
      consent('bad@example.com', 'granted'),
      consent('c@example.com', 'granted'),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    // An unexplained per-member error may be transient: retried (a withdrawal must not be dropped on the first one).
    expect(results[1]).toMatchObject({ email: 'bad@example.com', code: 'MAILCHIMP.MEMBER_REJECTED', retryable: true });
    expect(results[1] && !results[1].ok && results[1].message).toContain('Mailchimp says no');
    // The failed one is not remembered, so it is sent again next time.
    sandbox.faults.clear();
    sandbox.calls.reset();
    await provider.pushMembers([
      consent('a@example.com', 'granted'),
      consent('bad@example.com', 'granted'),
      consent('c@example.com', 'granted'),
    ]);
    expect(sandbox.calls.count('POST', '/lists/{list_id}')).toBe(1);
    expect(statusOf(sandbox, 'bad@example.com')).toBe('subscribed');
  });

  it('merge fields and tags: fields are written, tags added and removed', async () => {
    const { sandbox, provider } = setup();
    await provider.pushMembers([
      { ...consent('t@example.com', 'granted'), mergeFields: { FNAME: 'Ada <b>' }, tags: ['vip', 'coffee'] },
    ]);
    const member = sandbox.member('t@example.com');
    expect(member?.merge_fields.FNAME).toBe('Ada b');
    const tagsOf = async () => (await provider.getMember('t@example.com'))?.tags?.sort();
    expect(await tagsOf()).toEqual(['coffee', 'vip']);
    await provider.pushMembers([{ ...consent('t@example.com', 'granted'), tags: ['vip'] }]);
    expect(await tagsOf()).toEqual(['vip']);
  });

  it('purposes map to GDPR marketing permissions when configured', async () => {
    const { sandbox, provider } = setup({
      sandbox: {
        audiences: [
          {
            id: AUDIENCE,
            marketingPermissions: [
              { id: 'perm-email', text: 'Email' },
              { id: 'perm-pers', text: 'Customized online advertising' },
            ],
          },
        ],
      },
      provider: { marketingPermissions: { personalization: 'perm-pers', email_marketing: 'perm-email' } },
    });
    await provider.pushMembers([consent('g@example.com', 'granted')]);
    expect(await provider.listMarketingPermissions()).toEqual([
      { id: 'perm-email', text: 'Email' },
      { id: 'perm-pers', text: 'Customized online advertising' },
    ]);
    await provider.pushMembers([consent('g@example.com', 'granted', { purpose: 'personalization' })]);
    const perms = Object.fromEntries(
      (sandbox.member('g@example.com')?.marketing_permissions ?? []).map((p) => [p.marketing_permission_id, p.enabled]),
    );
    expect(perms).toEqual({ 'perm-email': true, 'perm-pers': true });
    await provider.pushMembers([
      consent('g@example.com', 'withdrawn', {
        purpose: 'personalization',
        occurredAt: new Date('2025-06-01T00:00:00Z'),
      }),
    ]);
    expect(
      sandbox.member('g@example.com')?.marketing_permissions.find((p) => p.marketing_permission_id === 'perm-pers')
        ?.enabled,
    ).toBe(false);
    // Withdrawing personalization does not touch the email status.
    expect(statusOf(sandbox, 'g@example.com')).toBe('subscribed');
  });
});

describe('pushMembers - diffing', () => {
  it('re-syncing an unchanged audience makes no write call', async () => {
    const { sandbox, provider } = setup();
    const changes = Array.from({ length: 50 }, (_, i) => ({
      ...consent(`d${i}@example.com`, i % 5 === 0 ? 'withdrawn' : 'granted'),
      mergeFields: { FNAME: `N${i}` },
    }));
    await provider.pushMembers(changes);
    const writes = sandbox.calls.writes();
    expect(writes).toBe(1);
    sandbox.calls.reset();
    expect((await provider.pushMembers(changes)).every((r) => r.ok)).toBe(true);
    expect(sandbox.calls.writes()).toBe(0);
    expect(sandbox.calls.total()).toBe(0);
    // One changed field sends exactly that member.
    changes[3] = { ...changes[3]!, mergeFields: { FNAME: 'Changed' } };
    await provider.pushMembers(changes);
    expect(sandbox.calls.count('POST', '/lists/{list_id}')).toBe(1);
    expect(sandbox.member('d3@example.com')?.merge_fields.FNAME).toBe('Changed');
  });

  it('a newer withdrawal is sent even when the last status sent was already unsubscribed', async () => {
    const { sandbox, provider } = setup();
    await provider.pushMembers([consent('w@example.com', 'withdrawn')]);
    sandbox.actions.subscribe('w@example.com', { source: 'user' });
    expect(statusOf(sandbox, 'w@example.com')).toBe('subscribed');
    await provider.pushMembers([
      consent('w@example.com', 'withdrawn', { occurredAt: new Date('2025-07-01T00:00:00Z') }),
    ]);
    expect(statusOf(sandbox, 'w@example.com')).toBe('unsubscribed');
  });

  it('the hash store is injectable', async () => {
    const saved = new Map<string, string>();
    const sandbox = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
    server.use(...sandbox.handlers);
    const store = {
      get: async (e: string) => saved.get(e) ?? null,
      setMany: async (entries: Array<[string, string]>) => void entries.forEach(([k, v]) => saved.set(k, v)),
    };
    const first = createMailchimpProvider({ apiKey: sandbox.apiKey, audienceId: AUDIENCE }, { hashStore: store });
    await first.pushMembers([consent('p@example.com', 'granted')]);
    expect(saved.has('p@example.com')).toBe(true);
    sandbox.calls.reset();
    const second = createMailchimpProvider({ apiKey: sandbox.apiKey, audienceId: AUDIENCE }, { hashStore: store });
    await second.pushMembers([consent('p@example.com', 'granted')]);
    expect(sandbox.calls.writes()).toBe(0);
  });
});

describe('transport', () => {
  it('retries 429 and 5xx with backoff, then succeeds', async () => {
    const { sandbox, provider } = setup();
    sandbox.seedMember('r@example.com', 'subscribed');
    sandbox.faults.failNext('rate_limit', 1);
    sandbox.faults.failNext('server_error', 1);
    sandbox.faults.failNext('unavailable', 1);
    expect((await provider.getMember('r@example.com'))?.status).toBe('subscribed');
    expect(sandbox.calls.count('GET', '/lists/{list_id}/members/{subscriber_hash}')).toBe(4);
  });

  it('gives up with a retryable TactfulError after the retries, and a 400 is not retried', async () => {
    const { sandbox, provider } = setup();
    sandbox.faults.failAlways('rate_limit');
    await expect(provider.getMember('r@example.com')).rejects.toMatchObject({
      code: 'MAILCHIMP.RATE_LIMITED',
      retryable: true,
      status: 429,
    });
    expect(sandbox.calls.total()).toBe(4);
    sandbox.faults.clear();
    sandbox.calls.reset();
    sandbox.faults.failAlways('bad_request');
    await expect(provider.pushMembers([consent('q@example.com', 'withdrawn')])).rejects.toMatchObject({
      code: 'MAILCHIMP.BAD_REQUEST',
      retryable: false,
      status: 400,
    });
    expect(sandbox.calls.total()).toBe(1);
  });

  it('a request that takes longer than timeoutMs is a retryable MAILCHIMP.TIMEOUT', async () => {
    const { provider } = setup({
      sandbox: { latencyMs: 400 },
      provider: { timeoutMs: 100, retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } },
    });
    await expect(provider.getMember('slow@example.com')).rejects.toMatchObject({
      code: 'MAILCHIMP.TIMEOUT',
      retryable: true,
    });
  });

  it('wrong credentials are a non-retryable error that says what to check', async () => {
    const sandbox = createMailchimpSandbox();
    server.use(...sandbox.handlers);
    const provider = createMailchimpProvider(
      { apiKey: `${'f'.repeat(32)}-us21`, audienceId: AUDIENCE },
      { sleep: fast },
    );
    await expect(provider.getMember('a@example.com')).rejects.toMatchObject({
      code: 'MAILCHIMP.UNAUTHORIZED',
      retryable: false,
    });
  });

  it('keeps at most 10 requests in flight, while the sandbox answers 429 beyond 10', async () => {
    const { sandbox, provider } = setup({ sandbox: { latencyMs: 40 } });
    for (let i = 0; i < 40; i += 1) sandbox.seedMember(`c${i}@example.com`, 'subscribed');
    const members = await Promise.all(Array.from({ length: 40 }, (_, i) => provider.getMember(`c${i}@example.com`)));
    expect(members.every((m) => m?.status === 'subscribed')).toBe(true);
    expect(sandbox.calls.peakInFlight).toBe(10);
    expect(sandbox.calls.rejectedForConcurrency).toBe(0);

    // Without the adapter's limit, the 11th simultaneous connection is refused.
    const auth = `Basic ${Buffer.from(`any:${sandbox.apiKey}`).toString('base64')}`;
    const raw = await Promise.all(
      Array.from({ length: 14 }, () => fetch(`${sandbox.baseUrl}/ping`, { headers: { authorization: auth } })),
    );
    const statuses = raw.map((r) => r.status);
    // All 14 overlap within the 40 ms each one takes: exactly the 4 beyond 10 are refused.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s === 429).length + statuses.filter((s) => s === 200).length).toBe(14);
  });

  it('the sandbox rejects what the OpenAPI specification rejects', async () => {
    const { sandbox } = setup();
    const auth = `Basic ${Buffer.from(`any:${sandbox.apiKey}`).toString('base64')}`;
    const response = await fetch(`${sandbox.baseUrl}/lists/${AUDIENCE}`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        members: [{ email_address: 'x@example.com', status: 'subscribe' }],
        update_existing: 'yes',
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { title: string; errors: Array<{ message: string }> };
    expect(body.title).toBe('Invalid Resource');
    expect(body.errors.map((e) => e.message).join('\n')).toMatch(/status must be equal to one of the allowed values/);
    expect(body.errors.map((e) => e.message).join('\n')).toMatch(/update_existing must be boolean/);
    expect(sandbox.member('x@example.com')).toBeUndefined();
    const mergeField = await fetch(`${sandbox.baseUrl}/lists/${AUDIENCE}/merge-fields`, {
      method: 'POST',
      headers: { authorization: auth },
      body: JSON.stringify({ tag: 'X' }),
    });
    expect(mergeField.status).toBe(400);
  });
});

describe('reading the audience', () => {
  it('listMembers pages without gaps or duplicates and normalises emails', async () => {
    const { sandbox, provider } = setup();
    for (let i = 0; i < 25; i += 1)
      sandbox.seedMember(`Person${i}@Example.COM`, i % 3 === 0 ? 'unsubscribed' : 'subscribed');
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await provider.listMembers({ cursor, limit: 10 });
      seen.push(...page.items.map((m) => m.email));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen.every((e) => e === e.toLowerCase())).toBe(true);
  });

  it('changedSince narrows to members changed in Mailchimp since then, with their original times', async () => {
    const { sandbox, provider } = setup();
    sandbox.seedMember('old@example.com', 'subscribed', { at: new Date('2024-01-01T00:00:00Z') });
    sandbox.seedMember('new@example.com', 'unsubscribed', { at: new Date('2025-02-02T12:30:00Z') });
    const page = await provider.listMembers({ changedSince: new Date('2025-01-01T00:00:00Z') });
    expect(page.items.map((m) => m.email)).toEqual(['new@example.com']);
    const consentOf = page.items[0]?.consent;
    expect(consentOf).toMatchObject({ state: 'withdrawn', rawState: 'unsubscribed', method: 'sync' });
    expect(consentOf?.occurredAt.toISOString()).toBe('2025-02-02T12:30:00.000Z');
    const old = await provider.getMember('OLD@example.com');
    expect(old?.consent.occurredAt.toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('reconciliation turns cleaned into undeliverable, not a withdrawal', async () => {
    const { sandbox, provider } = setup();
    sandbox.seedMember('bounce@example.com', 'cleaned');
    const member = await provider.getMember('bounce@example.com');
    expect(member && memberToInboundEvent(member)).toMatchObject({
      kind: 'undeliverable',
      email: 'bounce@example.com',
    });
    expect(await provider.getMember('nobody@example.com')).toBeNull();
  });

  it('reconciliation hands changes made in Mailchimp to the inbound sink once', async () => {
    const { sandbox, provider } = setup();
    sandbox.seedMember('keep@example.com', 'subscribed', { at: new Date('2024-01-01T00:00:00Z') });
    sandbox.seedMember('left@example.com', 'unsubscribed', { at: new Date('2025-02-01T00:00:00Z') });
    sandbox.seedMember('bounced@example.com', 'cleaned', { at: new Date('2025-02-02T00:00:00Z') });
    const sink = createMemoryInboundSink();
    const first = await reconcileMailchimpAudience(provider, sink, 'shop-1', {
      changedSince: new Date('2025-01-01T00:00:00Z'),
      pageSize: 1,
    });
    expect(first).toEqual({ members: 2, accepted: 2, duplicates: 0 });
    expect(sink.received.map((r) => r.event.kind)).toEqual(['consent', 'undeliverable']);
    expect(sink.received[0]?.event).toMatchObject({
      kind: 'consent',
      consent: { email: 'left@example.com', state: 'withdrawn' },
    });
    const again = await reconcileMailchimpAudience(provider, sink, 'shop-1', {
      changedSince: new Date('2025-01-01T00:00:00Z'),
    });
    expect(again).toEqual({ members: 2, accepted: 0, duplicates: 2 });
  });

  it('checkAudience says what the store owner must still set up', async () => {
    const ready = setup();
    expect(await ready.provider.checkAudience()).toEqual({
      audienceName: 'Sandbox audience',
      doubleOptIn: false,
      gdprFields: false,
      problems: [],
    });
    const missing = setup({
      sandbox: { audiences: [{ id: AUDIENCE, contact: null, marketingPermissions: [{ id: 'p1', text: 'Email' }] }] },
      provider: { requireDoubleOptIn: true },
    });
    const report = await missing.provider.checkAudience();
    expect(report.gdprFields).toBe(true);
    expect(report.problems).toHaveLength(3);
    expect(report.problems.join('\n')).toMatch(/postal address/);
  });

  it('subscriberHash is the MD5 of the lower-cased address', () => {
    expect(subscriberHash(' Urist.McVankab@Freddiesjokes.com ')).toBe('62eeb292278cc15f5817cb78f7790b08');
  });
});
