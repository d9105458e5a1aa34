import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import type { JourneyTriggerRequest } from '@tactful/core';
import { isTactfulError } from '@tactful/core';
import { createMailchimpProvider } from '../index.js';
import { createMailchimpSandbox, loadSpecValidator } from '../testing/index.js';

const server = setupServer();
beforeAll(() => {
  loadSpecValidator();
  server.listen({ onUnhandledRequest: 'error' });
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const AUDIENCE = 'aud0000001';
const TRIGGER = '/customer-journeys/journeys/{journey_id}/steps/{step_id}/actions/trigger';

function setup() {
  const sandbox = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
  server.use(...sandbox.handlers);
  const journey = sandbox.journeys.create('After a purchase');
  /** A provider as a fresh process would build it (nothing remembered in memory). */
  const provider = () =>
    createMailchimpProvider(
      { apiKey: sandbox.apiKey, audienceId: AUDIENCE, retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 2 } },
      { sleep: async () => {} },
    );
  const request = (
    email: string,
    key: string,
    reason = 'Because you bought Coffee on 2 March',
  ): JourneyTriggerRequest => ({
    key,
    journeyId: String(journey.journeyId),
    stepId: String(journey.stepId),
    message: {
      email,
      content: {
        products: [
          {
            productId: 'milk',
            title: 'Whole milk',
            url: 'https://shop.example/p/milk?utm_source=tactful',
            price: '€1.10',
          },
          { productId: 'sugar', title: 'Sugar', url: 'https://shop.example/p/sugar?utm_source=tactful' },
        ],
        reason,
        consentLine: 'You receive this because you agreed to Email offers on 1 March 2026 (clause 4.2, version 3).',
        preferencesUrl: 'https://shop.example/tactful/preferences?t=abc',
        unsubscribeUrl: 'https://shop.example/tactful/unsubscribe?t=abc',
      },
    },
  });
  return { sandbox, journey, provider, request };
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isTactfulError(error)) return error;
    throw error;
  }
  throw new Error('expected the trigger to fail');
}

describe('Mailchimp triggerJourney', () => {
  it("sets the member's merge fields to the content, then triggers: the email shows every line", async () => {
    const { sandbox, journey, provider, request } = setup();
    sandbox.seedMember('Ann@Example.com', 'subscribed');
    const mailchimp = provider();
    expect(mailchimp.capabilities.journeys).toBe(true);
    expect(await mailchimp.triggerJourney(request('ann@example.com', 'flow-1:order-1'))).toEqual({
      status: 'triggered',
    });

    expect(sandbox.journeys.triggers()).toMatchObject([{ ...journey, email: 'ann@example.com' }]);
    const [email] = sandbox.journeys.emails('ann@example.com');
    const html = (email?.html ?? '').replace(/&amp;/g, '&');
    for (const line of [
      'Because you bought Coffee on 2 March',
      'agreed to Email offers on 1 March 2026 (clause 4.2, version 3)',
      'https://shop.example/tactful/preferences?t=abc',
      'Whole milk',
      'https://shop.example/p/milk?utm_source=tactful',
      '€1.10',
      'Sugar',
      `${sandbox.listManageUrl}/unsubscribe?`,
    ])
      expect(html).toContain(line);
    // The fields stay on the member, with the marker of the key (a digest, not the key).
    const fields = sandbox.member('ann@example.com')?.merge_fields ?? {};
    expect(fields).toMatchObject({
      REASON: 'Because you bought Coffee on 2 March',
      P1_TITLE: 'Whole milk',
      P3_TITLE: '',
    });
    expect(fields.TF_JOURNEY).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(fields.TF_JOURNEY).not.toContain('flow-1');
  });

  it('the same key never sends twice, even from a new process; another key sends again', async () => {
    const { sandbox, provider, request } = setup();
    sandbox.seedMember('bo@example.com', 'subscribed');
    expect(await provider().triggerJourney(request('bo@example.com', 'k1'))).toEqual({ status: 'triggered' });
    expect(await provider().triggerJourney(request('bo@example.com', 'k1'))).toEqual({ status: 'already' });
    expect(sandbox.journeys.emails('bo@example.com')).toHaveLength(1);

    const one = provider();
    const results = await Promise.all(
      ['k2', 'k3', 'k2', 'k1'].map((key) => one.triggerJourney(request('bo@example.com', key, `reason ${key}`))),
    );
    expect(results.map((r) => r.status)).toEqual(['triggered', 'triggered', 'already', 'already']);
    const emails = sandbox.journeys.emails('bo@example.com');
    expect(emails).toHaveLength(3);
    // Each email carries its own content: the fields were set for that trigger, not overwritten by the next.
    expect(emails[1]?.html).toContain('reason k2');
    expect(emails[2]?.html).toContain('reason k3');
    // Only the last ten keys are remembered, in a field Mailchimp keeps (at most 255 characters).
    for (let i = 0; i < 12; i += 1) await one.triggerJourney(request('bo@example.com', `many-${i}`));
    expect(sandbox.member('bo@example.com')?.merge_fields.TF_JOURNEY?.split(' ')).toHaveLength(10);
    expect(await one.triggerJourney(request('bo@example.com', 'many-11'))).toEqual({ status: 'already' });
  });

  it('refuses a member who is not subscribed, or not a member, without writing or subscribing anyone', async () => {
    const { sandbox, provider, request } = setup();
    for (const status of ['unsubscribed', 'cleaned', 'pending'] as const) {
      sandbox.seedMember(`${status}@example.com`, status);
      const before = JSON.stringify(sandbox.member(`${status}@example.com`));
      const error = await failure(provider().triggerJourney(request(`${status}@example.com`, 'k')));
      expect(error).toMatchObject({ code: 'MAILCHIMP.NOT_SUBSCRIBED', retryable: false });
      expect(error.message).not.toContain('@');
      expect(JSON.stringify(sandbox.member(`${status}@example.com`))).toBe(before);
    }
    const stranger = await failure(provider().triggerJourney(request('stranger@example.com', 'k')));
    expect(stranger).toMatchObject({ code: 'MAILCHIMP.NOT_A_MEMBER', retryable: false });
    expect(sandbox.member('stranger@example.com')).toBeUndefined();
    expect(sandbox.calls.count('POST', TRIGGER)).toBe(0);
    expect(sandbox.calls.writes()).toBe(0);
    expect(sandbox.emails()).toEqual([]);
  });

  it('retries a trigger Mailchimp answered 429 or 5xx, and sends once', async () => {
    const { sandbox, provider, request } = setup();
    sandbox.seedMember('cy@example.com', 'subscribed');
    sandbox.faults.failNext('rate_limit', 1, (method, template) => method === 'POST' && template === TRIGGER);
    sandbox.faults.failNext('server_error', 1, (method, template) => method === 'POST' && template === TRIGGER);
    expect(await provider().triggerJourney(request('cy@example.com', 'k'))).toEqual({ status: 'triggered' });
    expect(sandbox.calls.count('POST', TRIGGER)).toBe(3);
    expect(sandbox.journeys.emails('cy@example.com')).toHaveLength(1);
  });

  it('a trigger Mailchimp refused frees the key; one left unanswered is never sent again', async () => {
    const { sandbox, journey, provider, request } = setup();
    sandbox.seedMember('di@example.com', 'subscribed');
    const wrong = { ...request('di@example.com', 'k'), stepId: String(journey.stepId + 50) };
    expect(await failure(provider().triggerJourney(wrong))).toMatchObject({
      code: 'MAILCHIMP.NOT_FOUND',
      retryable: false,
    });
    expect(await provider().triggerJourney(request('di@example.com', 'k'))).toEqual({ status: 'triggered' });

    // Mailchimp gets the trigger and sends, but the answer never comes back (a dropped connection).
    server.use(
      http.post(`${sandbox.baseUrl}/customer-journeys/journeys/:j/steps/:s/actions/trigger`, async ({ request: r }) => {
        await sandbox.fetch(r.clone());
        return HttpResponse.error();
      }),
    );
    const dropped = await failure(provider().triggerJourney(request('di@example.com', 'lost')));
    expect(dropped).toMatchObject({ code: 'MAILCHIMP.NETWORK', retryable: true });
    expect(sandbox.journeys.emails('di@example.com')).toHaveLength(2);
    server.resetHandlers(...sandbox.handlers);
    // The retry cannot know whether it went out: it refuses rather than risk a second email.
    const retry = await failure(provider().triggerJourney(request('di@example.com', 'lost')));
    expect(retry).toMatchObject({ code: 'MAILCHIMP.JOURNEY_FAILED', retryable: false });
    expect(sandbox.journeys.emails('di@example.com')).toHaveLength(2);
    // Other keys go on as before.
    expect(await provider().triggerJourney(request('di@example.com', 'next'))).toEqual({ status: 'triggered' });
  });

  it('refuses ids that are not Mailchimp journey ids and content without a product, before calling Mailchimp', async () => {
    const { sandbox, provider, request } = setup();
    sandbox.seedMember('ed@example.com', 'subscribed');
    const bad = { ...request('ed@example.com', 'k'), journeyId: 'abc', stepId: '0' };
    const error = await failure(provider().triggerJourney(bad));
    expect(error.code).toBe('CONFIG.INVALID');
    expect(error.message).toContain('journeyId "abc"');
    expect(error.message).toContain('stepId "0"');
    const empty = request('ed@example.com', 'k');
    empty.message.content.products = [];
    expect((await failure(provider().triggerJourney(empty))).code).toBe('MAILCHIMP.CAMPAIGN_INVALID');
    expect(sandbox.calls.total()).toBe(0);
  });

  it('re-creates a merge field deleted in Mailchimp since it was checked, so the marker is kept', async () => {
    const { sandbox, provider, request } = setup();
    sandbox.seedMember('fa@example.com', 'subscribed');
    const mailchimp = provider();
    await mailchimp.triggerJourney(request('fa@example.com', 'k1'));
    sandbox.state.audiences.get(AUDIENCE)?.mergeFields.delete('TF_JOURNEY');
    expect(await mailchimp.triggerJourney(request('fa@example.com', 'k2'))).toEqual({ status: 'triggered' });
    expect(sandbox.state.audiences.get(AUDIENCE)?.mergeFields.has('TF_JOURNEY')).toBe(true);
    expect(await mailchimp.triggerJourney(request('fa@example.com', 'k2'))).toEqual({ status: 'already' });
  });
});
