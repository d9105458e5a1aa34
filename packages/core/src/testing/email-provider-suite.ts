/**
 * The published conformance suite for `EmailProvider` adapters: ours and an agency's run exactly this,
 * against a sandbox or a live account. The adapter is reached only through the port; the *oracle* reads
 * and seeds the backing system directly, so the suite checks what really happened there.
 *
 * ```ts
 * describeEmailProvider({
 *   name: 'mailchimp (sandbox)',
 *   create: async () => ({ provider, oracle, cleanup }),
 *   skip: { 'listMembers keeps original event times': true },
 * });
 * ```
 */
import { describe, expect, it } from 'vitest';
import { isTactfulError } from '../errors/tactful-error.js';
import type {
  CampaignMessage,
  CampaignRequest,
  ConsentPush,
  EmailProvider,
  JourneyTriggerRequest,
  MemberChange,
  MemberRecord,
  PushResult,
} from '../ports.js';

/** A member's state in the backing system, in the suite's provider-neutral words. */
export type OracleMemberState = 'subscribed' | 'pending' | 'unsubscribed' | 'cleaned' | 'other';

export type EmailProviderFailureKind = 'rate_limit' | 'server_error' | 'bad_request';

export interface EmailProviderOracle {
  /** Puts a member straight into the backing system, with `at` as the time of its last change. */
  seedMember(email: string, state: Exclude<OracleMemberState, 'other'>, options?: { at?: Date }): Promise<void>;
  /** The member as the backing system holds it, or null when it has no such member. */
  readMember(email: string): Promise<{ email: string; state: OracleMemberState } | null>;
  /** Every following call to the backing system fails this way until `clearFailures()`. */
  injectFailure(kind: EmailProviderFailureKind): Promise<void>;
  clearFailures(): Promise<void>;
  /**
   * With `capabilities.campaigns`: the email as `email` received it from campaign `campaignId` (HTML or text),
   * read from the backing system; null when that person did not get it.
   */
  campaignEmail?(campaignId: string, email: string): Promise<string | null>;
  /** With `capabilities.campaigns`: who a campaign went to, read from the backing system. */
  campaignRecipients?(campaignId: string): Promise<string[]>;
  /**
   * With `capabilities.journeys`: a new automation step that sends one email when triggered, made in the backing
   * system the way a store owner makes it, its email laid out as the adapter's documentation tells them to
   * (Mailchimp: a Customer Journey whose step has the API trigger, its email using the campaign's merge tags).
   */
  createJourney?(): Promise<{ journeyId: string; stepId: string }>;
  /** With `capabilities.journeys`: every email `email` received from a journey step (HTML or text), oldest first. */
  journeyEmails?(email: string): Promise<string[]>;
}

export interface EmailProviderTestContext {
  provider: EmailProvider;
  oracle: EmailProviderOracle;
  cleanup?: () => Promise<void>;
}

export const emailProviderTestNames = [
  'pushMembers returns one result per change, in order',
  'pushMembers subscribes a granted new member',
  'pushMembers unsubscribes on withdrawn',
  'pushMembers never resubscribes an unsubscribed member from a non-first-party change',
  'pushMembers never resubscribes a cleaned member from a non-first-party change',
  'pushMembers brings an opted-out member back only through pending, and only with first-party consent',
  'pushMembers deletes on erased',
  'pushMembers accepts capabilities.maxBatch changes',
  'listMembers pages without gaps or duplicates',
  'listMembers normalises emails',
  'listMembers keeps original event times',
  'getMember returns null for an unknown address',
  'getMember reports the opt-in the provider recorded',
  'rate limiting is a retryable TactfulError',
  'server errors are a retryable TactfulError',
  'a bad request is a non-retryable TactfulError',
  'sendCampaign sends only to subscribed recipients, once per key',
  'every email shows each line Tactful decided, for that person only',
  'campaignReport counts the sends',
  'triggerJourney sends a subscribed member one email with every line of the content',
  'triggerJourney refuses an unsubscribed or unknown member and subscribes nobody',
  'triggerJourney sends once per key',
] as const;

/** Address changes (`MemberChange.newEmail`), kept in their own list and block. */
export const emailProviderAddressTestNames = [
  'pushMembers moves a member to its new address, keeping its status',
  'pushMembers moving an address it does not hold adds nobody',
  'pushMembers refuses to move a member onto another member’s address',
] as const;

export type EmailProviderTestName =
  | (typeof emailProviderTestNames)[number]
  | (typeof emailProviderAddressTestNames)[number];

export interface DescribeEmailProviderOptions {
  name: string;
  create: () => Promise<EmailProviderTestContext>;
  /** Tests to leave out, by exact name; a typo does not compile. */
  skip?: Partial<Record<EmailProviderTestName, true>>;
  /** Builds test addresses (a live account may refuse example.com). */
  email?: (local: string) => string;
  /** The purpose that drives the provider's subscription status. */
  statusPurpose?: string;
}

let counter = 0;

export function describeEmailProvider(options: DescribeEmailProviderOptions): void {
  const purpose = options.statusPurpose ?? 'email_marketing';
  const address = (local: string) => {
    counter += 1;
    const unique = `${local}-${Date.now().toString(36)}${counter}`;
    return (options.email ?? ((l: string) => `${l}@example.com`))(unique).toLowerCase();
  };
  const push = (email: string, state: ConsentPush['state'], over: Partial<ConsentPush> = {}): MemberChange => ({
    email,
    consent: {
      email,
      purpose,
      state,
      level: 'confirmed',
      occurredAt: new Date('2025-03-01T10:00:00Z'),
      firstParty: false,
      ...over,
    },
  });

  function test(
    name: EmailProviderTestName,
    body: (ctx: EmailProviderTestContext, skip: (why: string) => void) => Promise<void>,
  ) {
    it.skipIf(options.skip?.[name] === true)(name, async (vitest) => {
      const ctx = await options.create();
      try {
        await body(ctx, (why) => vitest.skip(why));
      } finally {
        await ctx.oracle.clearFailures().catch(() => undefined);
        await ctx.cleanup?.();
      }
    });
  }

  async function expectFailure(ctx: EmailProviderTestContext, kind: EmailProviderFailureKind, retryable: boolean) {
    const email = address('failure');
    await ctx.oracle.seedMember(email, 'subscribed');
    await ctx.oracle.injectFailure(kind);
    let thrown: unknown;
    try {
      await ctx.provider.getMember(email);
    } catch (error) {
      thrown = error;
    }
    expect(isTactfulError(thrown), `getMember should throw a TactfulError on ${kind}`).toBe(true);
    expect(
      (thrown as { code: string }).code,
      'the error must come from the injected failure, not from a method not written yet',
    ).not.toBe('ADAPTER.NOT_IMPLEMENTED');
    expect((thrown as { retryable: boolean }).retryable).toBe(retryable);

    // A push either throws the same classification or reports it per change.
    let results: PushResult[] | undefined;
    thrown = undefined;
    try {
      results = await ctx.provider.pushMembers([push(email, 'withdrawn')]);
    } catch (error) {
      thrown = error;
    }
    if (thrown !== undefined) {
      expect(isTactfulError(thrown)).toBe(true);
      expect((thrown as { retryable: boolean }).retryable).toBe(retryable);
    } else {
      expect(results?.[0]).toMatchObject({ ok: false, retryable });
    }
    await ctx.oracle.clearFailures();
    expect((await ctx.oracle.readMember(email))?.state).toBe('subscribed');
  }

  /** The provider's trigger and the oracle's journey, or a skip when the provider does not declare journeys. */
  async function journeyOf(ctx: EmailProviderTestContext) {
    const { provider, oracle } = ctx;
    if (!provider.capabilities.journeys) return null;
    if (!provider.triggerJourney) throw new Error('a provider that declares journeys needs triggerJourney()');
    if (!oracle.createJourney || !oracle.journeyEmails)
      throw new Error('an oracle for a provider with journeys needs createJourney() and journeyEmails()');
    const step = await oracle.createJourney();
    const trigger = provider.triggerJourney.bind(provider);
    const emails = oracle.journeyEmails.bind(oracle);
    const request = (key: string, message: CampaignMessage): JourneyTriggerRequest => ({ key, ...step, message });
    return { trigger, emails, request };
  }

  describe(`EmailProvider conformance: ${options.name}`, () => {
    test('pushMembers returns one result per change, in order', async ({ provider }) => {
      const emails = [address('order-a'), address('order-b'), 'not an address', address('order-c')];
      const results = await provider.pushMembers(emails.map((e, i) => push(e, i % 2 === 0 ? 'granted' : 'withdrawn')));
      expect(results).toHaveLength(emails.length);
      results.forEach((result, i) => expect(result.email).toBe(emails[i]?.trim().toLowerCase()));
      expect(results.map((r) => r.ok)).toEqual([true, true, false, true]);
      const bad = results[2];
      expect(bad && !bad.ok && bad.retryable).toBe(false);
    });

    test('pushMembers subscribes a granted new member', async ({ provider, oracle }) => {
      const email = address('grant');
      expect(await provider.pushMembers([push(email, 'granted')])).toEqual([{ email, ok: true }]);
      expect((await oracle.readMember(email))?.state).toBe('subscribed');
    });

    test('pushMembers unsubscribes on withdrawn', async ({ provider, oracle }) => {
      const email = address('withdraw');
      await oracle.seedMember(email, 'subscribed');
      expect(await provider.pushMembers([push(email, 'withdrawn')])).toEqual([{ email, ok: true }]);
      expect((await oracle.readMember(email))?.state).toBe('unsubscribed');
    });

    for (const held of ['unsubscribed', 'cleaned'] as const) {
      const name: EmailProviderTestName =
        held === 'unsubscribed'
          ? 'pushMembers never resubscribes an unsubscribed member from a non-first-party change'
          : 'pushMembers never resubscribes a cleaned member from a non-first-party change';
      test(name, async ({ provider, oracle }) => {
        const email = address(`held-${held}`);
        await oracle.seedMember(email, held);
        // Neither a grant nor a pending (which would mail a confirmation) may move them without first-party consent.
        for (const state of ['granted', 'pending'] as const) {
          const [result] = await provider.pushMembers([
            push(email, state, { firstParty: false, occurredAt: new Date() }),
          ]);
          expect(result?.email).toBe(email);
          expect((await oracle.readMember(email))?.state).toBe(held);
          if (result && !result.ok) expect(result.retryable).toBe(false);
        }
      });
    }

    test('pushMembers brings an opted-out member back only through pending, and only with first-party consent', async ({
      provider,
      oracle,
    }) => {
      const email = address('back');
      await oracle.seedMember(email, 'unsubscribed');
      await provider.pushMembers([
        push(email, 'granted', { firstParty: true, level: 'confirmed', occurredAt: new Date() }),
      ]);
      const state = (await oracle.readMember(email))?.state;
      expect(['pending', 'unsubscribed']).toContain(state);
    });

    test('pushMembers deletes on erased', async ({ provider, oracle }) => {
      const email = address('erase');
      await oracle.seedMember(email, 'subscribed');
      expect(await provider.pushMembers([{ email, consent: { erased: true } }])).toEqual([{ email, ok: true }]);
      expect(await oracle.readMember(email)).toBeNull();
      expect(await provider.getMember(email)).toBeNull();
    });

    test('pushMembers accepts capabilities.maxBatch changes', async ({ provider, oracle }) => {
      const size = provider.capabilities.maxBatch;
      expect(size).toBeGreaterThan(0);
      const emails = Array.from({ length: size }, (_, i) => address(`batch${i}`));
      const results = await provider.pushMembers(emails.map((e) => push(e, 'granted')));
      expect(results.filter((r) => r.ok)).toHaveLength(size);
      expect((await oracle.readMember(emails[size - 1] ?? ''))?.state).toBe('subscribed');
    });

    test('listMembers pages without gaps or duplicates', async ({ provider, oracle }) => {
      const seeded = Array.from({ length: 23 }, (_, i) => address(`page${i}`));
      for (const [i, email] of seeded.entries())
        await oracle.seedMember(email, i % 4 === 0 ? 'unsubscribed' : 'subscribed');
      const seen: MemberRecord[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await provider.listMembers({ cursor, limit: 5 });
        expect(page.items.length).toBeLessThanOrEqual(5);
        for (const item of page.items) seen.push(item);
        cursor = page.nextCursor;
        pages += 1;
        expect(pages).toBeLessThan(1000);
      } while (cursor !== undefined);
      const emails = seen.map((m) => m.email);
      expect(new Set(emails).size).toBe(emails.length);
      for (const email of seeded) expect(emails).toContain(email);
      const unsubscribed = seen.find((m) => m.email === seeded[0]);
      expect(unsubscribed?.consent.state).toBe('withdrawn');
    });

    test('listMembers normalises emails', async ({ provider, oracle }) => {
      const email = address('MixedCase');
      const shouted = email.replace(/^[a-z]+/, (s) => s.toUpperCase()).replace('@example.com', '@EXAMPLE.COM');
      await oracle.seedMember(shouted, 'subscribed');
      const member = await provider.getMember(shouted);
      expect(member?.email).toBe(email);
      expect(member?.consent.email).toBe(email);
      let cursor: string | undefined;
      const all: string[] = [];
      do {
        const page = await provider.listMembers({ cursor, limit: 100 });
        for (const m of page.items) all.push(m.email);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(all).toContain(email);
      expect(all.every((e) => e === e.trim().toLowerCase())).toBe(true);
    });

    test('listMembers keeps original event times', async ({ provider, oracle }) => {
      const at = new Date('2024-06-01T08:30:00Z');
      const email = address('times');
      await oracle.seedMember(email, 'unsubscribed', { at });
      const member = await provider.getMember(email);
      expect(member?.consent.state).toBe('withdrawn');
      expect(member?.consent.occurredAt.toISOString()).toBe(at.toISOString());
      const page = await provider.listMembers({ changedSince: new Date('2024-05-31T00:00:00Z'), limit: 1000 });
      expect(page.items.find((m) => m.email === email)?.consent.occurredAt.toISOString()).toBe(at.toISOString());
      const later = await provider.listMembers({ changedSince: new Date('2024-06-02T00:00:00Z'), limit: 1000 });
      expect(later.items.some((m) => m.email === email)).toBe(false);
    });

    test('getMember returns null for an unknown address', async ({ provider }) => {
      expect(await provider.getMember(address('nobody'))).toBeNull();
    });

    test('getMember reports the opt-in the provider recorded', async ({ provider, oracle }, skip) => {
      if (!provider.capabilities.memberOptIn) return skip('the provider does not declare memberOptIn');
      // A grant reported by an unsigned webhook is checked against this record: it must be the provider's own.
      const at = new Date('2024-09-01T12:00:00Z');
      const subscribed = address('optin-yes');
      await oracle.seedMember(subscribed, 'subscribed', { at });
      const member = await provider.getMember(subscribed);
      expect(member?.status).toBe('subscribed');
      expect(member?.consent.state).toBe('granted');
      expect(member?.optIn?.at.toISOString()).toBe(at.toISOString());
      const left = address('optin-left');
      await oracle.seedMember(left, 'unsubscribed', { at });
      expect((await provider.getMember(left))?.consent.state).toBe('withdrawn');
    });

    test('rate limiting is a retryable TactfulError', (ctx) => expectFailure(ctx, 'rate_limit', true));
    test('server errors are a retryable TactfulError', (ctx) => expectFailure(ctx, 'server_error', true));
    test('a bad request is a non-retryable TactfulError', (ctx) => expectFailure(ctx, 'bad_request', false));

    test('sendCampaign sends only to subscribed recipients, once per key', async ({ provider, oracle }, skip) => {
      if (!provider.capabilities.campaigns || !provider.sendCampaign)
        return skip('the provider does not declare campaigns');
      if (!oracle.campaignRecipients)
        throw new Error('an oracle for a provider with campaigns needs campaignRecipients()');
      const yes = [address('camp-yes1'), address('camp-yes2')];
      const no = address('camp-no');
      for (const e of yes) await oracle.seedMember(e, 'subscribed');
      await oracle.seedMember(no, 'unsubscribed');
      const request: CampaignRequest = campaignRequest(`conformance-${Date.now()}-${counter}`, [...yes, no]);
      const result = await provider.sendCampaign(request);
      expect([...result.sent].sort()).toEqual([...yes].sort());
      expect(result.failed.map((f) => f.email)).toEqual([no]);
      expect((await oracle.campaignRecipients(result.campaignId)).sort()).toEqual([...yes].sort());
      const again = await provider.sendCampaign(request);
      expect(again.campaignId).toBe(result.campaignId);
      expect((await oracle.campaignRecipients(result.campaignId)).sort()).toEqual([...yes].sort());
    });

    test('every email shows each line Tactful decided, for that person only', async ({ provider, oracle }, skip) => {
      if (!provider.capabilities.campaigns || !provider.sendCampaign)
        return skip('the provider does not declare campaigns');
      if (!oracle.campaignEmail) throw new Error('an oracle for a provider with campaigns needs campaignEmail()');
      const people = [address('lines1'), address('lines2')];
      for (const e of people) await oracle.seedMember(e, 'subscribed');
      const request = campaignRequest(`lines-${Date.now()}-${counter}`, people);
      const { campaignId } = await provider.sendCampaign(request);
      for (const [i, message] of request.recipients.entries()) {
        const body = decodeEntities((await oracle.campaignEmail(campaignId, message.email)) ?? '');
        const c = message.content;
        for (const line of [
          c.reason,
          c.consentLine,
          c.preferencesUrl,
          request.sender.name,
          ...c.products.flatMap((p) => [p.title, p.url]),
        ]) {
          expect(body, `${message.email} misses "${line}"`).toContain(line);
        }
        const other = request.recipients[1 - i]!.content;
        expect(body, `${message.email} shows another person's reason`).not.toContain(other.reason);
      }
    });

    test('campaignReport counts the sends', async ({ provider, oracle }, skip) => {
      if (!provider.capabilities.reports || !provider.campaignReport || !provider.sendCampaign)
        return skip('the provider does not declare reports');
      const email = address('report');
      await oracle.seedMember(email, 'subscribed');
      const { campaignId } = await provider.sendCampaign(campaignRequest(`report-${Date.now()}-${counter}`, [email]));
      const report = await provider.campaignReport(campaignId);
      expect(report).toMatchObject({ campaignId, sends: 1 });
      expect(report.opens).toBeGreaterThanOrEqual(0);
    });

    test('triggerJourney sends a subscribed member one email with every line of the content', async (ctx, skip) => {
      const journey = await journeyOf(ctx);
      if (!journey) return skip('the provider does not declare journeys');
      const people = [address('journey1'), address('journey2')];
      for (const e of people) await ctx.oracle.seedMember(e, 'subscribed');
      const messages = campaignRequest('unused', people).recipients;
      for (const [i, message] of messages.entries())
        expect(await journey.trigger(journey.request(`journey-${Date.now()}-${counter}-${i}`, message))).toEqual({
          status: 'triggered',
        });
      for (const [i, message] of messages.entries()) {
        const received = await journey.emails(message.email);
        expect(received, `${message.email} gets exactly one email`).toHaveLength(1);
        const body = decodeEntities(received[0] ?? '');
        const c = message.content;
        for (const line of [
          c.reason,
          c.consentLine,
          c.preferencesUrl,
          ...c.products.flatMap((p) => [p.title, p.url, ...(p.price ? [p.price] : [])]),
        ])
          expect(body, `${message.email} misses "${line}"`).toContain(line);
        // Tactful's own unsubscribe link, or the provider's (the port allows either): a link that says so.
        expect(
          body.includes(c.unsubscribeUrl) || /href="[^"]*unsub[^"]*"/i.test(body),
          `${message.email} has no unsubscribe link`,
        ).toBe(true);
        expect(body, `${message.email} shows another person's reason`).not.toContain(messages[1 - i]!.content.reason);
      }
      for (const e of people) expect((await ctx.oracle.readMember(e))?.state).toBe('subscribed');
    });

    test('triggerJourney refuses an unsubscribed or unknown member and subscribes nobody', async (ctx, skip) => {
      const journey = await journeyOf(ctx);
      if (!journey) return skip('the provider does not declare journeys');
      const left = address('journey-left');
      const stranger = address('journey-stranger');
      await ctx.oracle.seedMember(left, 'unsubscribed');
      const [toLeft, toStranger] = campaignRequest('unused', [left, stranger]).recipients;
      for (const [email, message] of [
        [left, toLeft],
        [stranger, toStranger],
      ] as const) {
        let thrown: unknown;
        try {
          await journey.trigger(journey.request(`journey-refused-${Date.now()}-${counter}`, message!));
        } catch (error) {
          thrown = error;
        }
        expect(isTactfulError(thrown), `${email}: a refusal is a TactfulError`).toBe(true);
        const { code, retryable } = thrown as { code: string; retryable: boolean };
        expect(code, 'a code of the form <VENDOR>.<REASON>').toMatch(/^[A-Z0-9_]+\.[A-Z0-9_]+$/);
        expect(code).not.toBe('ADAPTER.NOT_IMPLEMENTED');
        expect(retryable, 'repeating cannot subscribe them').toBe(false);
        expect(await journey.emails(email)).toEqual([]);
      }
      expect((await ctx.oracle.readMember(left))?.state).toBe('unsubscribed');
      expect(await ctx.oracle.readMember(stranger)).toBeNull();
    });

    test('triggerJourney sends once per key', async (ctx, skip) => {
      const journey = await journeyOf(ctx);
      if (!journey) return skip('the provider does not declare journeys');
      const email = address('journey-once');
      await ctx.oracle.seedMember(email, 'subscribed');
      const [message] = campaignRequest('unused', [email]).recipients;
      const key = `journey-once-${Date.now()}-${counter}`;
      expect(await journey.trigger(journey.request(key, message!))).toEqual({ status: 'triggered' });
      expect(await journey.trigger(journey.request(key, message!))).toEqual({ status: 'already' });
      expect(await journey.emails(email)).toHaveLength(1);
      // Another key is another email (one per order): the key is what makes it once, not the person.
      expect(await journey.trigger(journey.request(`${key}-next`, message!))).toEqual({ status: 'triggered' });
      expect(await journey.emails(email)).toHaveLength(2);
    });
  });

  describe(`EmailProvider conformance: ${options.name} (address changes)`, () => {
    const move = (from: string, to: string): MemberChange => ({ email: from, newEmail: to });

    test('pushMembers moves a member to its new address, keeping its status', async ({ provider, oracle }) => {
      for (const state of ['subscribed', 'unsubscribed'] as const) {
        const from = address(`move-${state}`);
        const to = address(`moved-${state}`);
        await oracle.seedMember(from, state);
        const [result] = await provider.pushMembers([move(from, to)]);
        expect(result).toMatchObject({ ok: true });
        expect(await oracle.readMember(from)).toBeNull();
        // Never resubscribed (nor unsubscribed) by the move.
        expect((await oracle.readMember(to))?.state).toBe(state);
      }
    });

    test('pushMembers moving an address it does not hold adds nobody', async ({ provider, oracle }) => {
      const from = address('move-unknown');
      const to = address('moved-unknown');
      const [result] = await provider.pushMembers([move(from, to)]);
      expect(result).toMatchObject({ ok: true });
      expect(await oracle.readMember(to)).toBeNull();
    });

    test('pushMembers refuses to move a member onto another member’s address', async ({ provider, oracle }) => {
      const from = address('move-taken');
      const to = address('taken');
      await oracle.seedMember(from, 'subscribed');
      await oracle.seedMember(to, 'unsubscribed');
      const [result] = await provider.pushMembers([move(from, to)]);
      expect(result).toMatchObject({ ok: false, retryable: false });
      expect((await oracle.readMember(from))?.state).toBe('subscribed');
      expect((await oracle.readMember(to))?.state).toBe('unsubscribed');
    });
  });
}

/** A campaign whose every line differs per recipient, so an email showing someone else's content is caught. */
function campaignRequest(key: string, emails: string[]): CampaignRequest {
  return {
    key,
    subject: 'Picked for you',
    sender: {
      name: 'Conformance Store',
      email: 'hello@conformance.example',
      postalAddress: '1 Test Street, Testville',
    },
    recipients: emails.map((email, i) => ({
      email,
      content: {
        products: [
          {
            productId: `p${i}a`,
            title: `Product ${i} A`,
            url: `https://shop.example/p/${i}a?utm_source=tactful`,
            price: '€1.00',
          },
          { productId: `p${i}b`, title: `Product ${i} B`, url: `https://shop.example/p/${i}b?utm_source=tactful` },
        ],
        reason: `Because you bought Seed ${i}`,
        consentLine: `You receive this because you agreed to Email offers on ${i + 1} March 2026 (clause 4.${i}, version ${i + 1}).`,
        preferencesUrl: `https://shop.example/preferences?token=t${i}`,
        unsubscribeUrl: `https://shop.example/unsubscribe?token=u${i}`,
      },
    })),
  };
}

function decodeEntities(text: string): string {
  return text
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}
