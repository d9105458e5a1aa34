import { beforeAll, describe, expect, it } from 'vitest';
import { loadSpecValidator } from './openapi.js';
import { createMailchimpSandbox } from './index.js';

const LIST = 'aud0000001';
const T0 = new Date('2026-03-02T09:00:00Z');

// Parsing the 1.6 MB OpenAPI spec takes seconds on a busy machine: do it under the hook timeout, not a test's.
beforeAll(() => {
  loadSpecValidator();
});

/** A sandbox on an injected clock, called through its own fetch (the real HTTP shapes, no interception). */
function setup() {
  let now = T0;
  const sandbox = createMailchimpSandbox({
    audiences: [{ id: LIST }],
    now: () => now,
    deliver: async () => ({ status: 200 }),
  });
  const auth = `Basic ${Buffer.from(`any:${sandbox.apiKey}`).toString('base64')}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await sandbox.fetch(`${sandbox.baseUrl}${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
  };
  const trigger = (journeyId: number | string, stepId: number | string, body: unknown) =>
    call('POST', `/customer-journeys/journeys/${journeyId}/steps/${stepId}/actions/trigger`, body);
  return { sandbox, call, trigger, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe('Mailchimp sandbox: Customer Journeys', () => {
  it("a trigger answers 204 and sends the step's email, rendered with the merge fields the member has at that moment", async () => {
    const { sandbox, trigger, advance } = setup();
    const { journeyId, stepId } = sandbox.journeys.create('After a purchase');
    expect(Number.isInteger(journeyId) && Number.isInteger(stepId) && journeyId !== stepId).toBe(true);
    sandbox.seedMember('Ann@Example.com', 'subscribed', { mergeFields: { FNAME: 'Ann' } });
    // The journey's default email is Tactful's template: its merge fields exist as the provider creates them.
    for (const tag of ['REASON', 'CONSENT', 'PREFS_URL', 'P1_TITLE', 'P1_URL'])
      sandbox.state.audiences.get(LIST)?.mergeFields.set(tag, {
        merge_id: 90,
        tag,
        name: tag,
        type: 'text',
        required: false,
        public: false,
        default_value: '',
      });
    sandbox.actions.updateProfile(
      'ann@example.com',
      { REASON: 'Because you bought Coffee', P1_TITLE: 'Whole milk', P1_URL: 'https://shop.example/milk' },
      { source: 'api' },
    );

    const answer = await trigger(journeyId, stepId, { email_address: 'ANN@example.com' });
    expect(answer).toEqual({ status: 204, body: null });
    expect(sandbox.journeys.triggers()).toEqual([{ journeyId, stepId, email: 'ann@example.com', at: T0 }]);
    const [email] = sandbox.journeys.emails('ann@example.com');
    expect(email).toMatchObject({
      to: 'ann@example.com',
      subject: 'After a purchase',
      sentAt: T0,
      via: { kind: 'journey', journeyId, stepId },
    });
    expect(email?.html).toContain('Because you bought Coffee');
    expect(email?.html).toContain('href="https://shop.example/milk"');
    expect(email?.html).toContain(`${sandbox.listManageUrl}/unsubscribe?u=sandbox&id=${LIST}`);
    expect(sandbox.emails()).toEqual([email]);

    // What was sent stays as sent; a second trigger renders the fields as they are by then (Mailchimp does not dedupe).
    sandbox.actions.updateProfile('ann@example.com', { REASON: 'Because you bought Tea' }, { source: 'api' });
    expect(sandbox.renderJourney(journeyId, stepId, 'ann@example.com')).toContain('Because you bought Coffee');
    advance(60_000);
    expect((await trigger(journeyId, stepId, { email_address: 'ann@example.com' })).status).toBe(204);
    const emails = sandbox.journeys.emails('ann@example.com');
    expect(emails.map((e) => e.html.includes('Because you bought Tea'))).toEqual([false, true]);
    expect(emails[1]?.sentAt).toEqual(new Date(T0.getTime() + 60_000));
    expect(sandbox.renderJourney(journeyId, stepId, 'ann@example.com')).toContain('Because you bought Tea');
  });

  it('refuses an unknown journey or step (404), an address not in the audience (404), a member not subscribed (400), and changes nobody', async () => {
    const { sandbox, trigger, call } = setup();
    const { journeyId, stepId } = sandbox.journeys.create('Cross-sell');
    for (const status of ['unsubscribed', 'cleaned', 'pending'] as const)
      sandbox.seedMember(`${status}@example.com`, status);
    sandbox.seedMember('ok@example.com', 'subscribed');
    const before = JSON.stringify([...(sandbox.state.audiences.get(LIST)?.members.values() ?? [])]);

    for (const [j, s] of [
      [journeyId + 1000, stepId],
      [journeyId, stepId + 1000],
      [stepId, journeyId],
      ['abc', stepId],
      [journeyId, '1.5'],
    ] as const) {
      const answer = await trigger(j, s, { email_address: 'ok@example.com' });
      expect(answer.status, `${j}/${s}`).toBe(404);
      expect(answer.body).toMatchObject({ title: 'Resource Not Found', status: 404 });
    }
    const stranger = await trigger(journeyId, stepId, { email_address: 'nobody@example.com' });
    expect(stranger).toMatchObject({ status: 404, body: { title: 'Resource Not Found' } });
    for (const status of ['unsubscribed', 'cleaned', 'pending']) {
      const answer = await trigger(journeyId, stepId, { email_address: `${status}@example.com` });
      expect(answer.status).toBe(400);
      expect(String(answer.body?.detail)).toContain(`is ${status}`);
    }
    // The body is checked against the spec: email_address is required.
    const bad = await trigger(journeyId, stepId, { email: 'ok@example.com' });
    expect(bad).toMatchObject({ status: 400, body: { title: 'Invalid Resource' } });

    expect(sandbox.journeys.triggers()).toEqual([]);
    expect(sandbox.emails()).toEqual([]);
    expect(sandbox.member('nobody@example.com')).toBeUndefined();
    expect(JSON.stringify([...(sandbox.state.audiences.get(LIST)?.members.values() ?? [])])).toBe(before);
    expect(
      sandbox.calls.count('POST', '/customer-journeys/journeys/{journey_id}/steps/{step_id}/actions/trigger'),
    ).toBe(10);
    expect((await call('GET', '/ping')).status).toBe(200);
  });

  it('keeps the journeys of the options and numbers new ones after them, on an audience the account has', async () => {
    const sandbox = createMailchimpSandbox({
      audiences: [{ id: LIST }],
      journeys: [{ journeyId: 500, stepId: 501, listId: LIST, html: '<p>Hi *|EMAIL|*</p>' }],
      now: () => T0,
    });
    const created = sandbox.journeys.create('Second');
    expect(created.journeyId).toBeGreaterThan(501);
    expect(sandbox.journeys.list().map((j) => [j.journeyId, j.stepId])).toEqual([
      [500, 501],
      [created.journeyId, created.stepId],
    ]);
    expect(() => sandbox.journeys.create('Elsewhere', { listId: 'nope' })).toThrow();
  });
});
