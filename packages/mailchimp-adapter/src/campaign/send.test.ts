import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import type { CampaignProductContent, CampaignRequest } from '@tactful/core';
import { createMailchimpProvider, renderCampaignHtml } from '../index.js';
import { createMailchimpSandbox, type DEFAULT_CONTACT, loadSpecValidator } from '../testing/index.js';

const server = setupServer();
// Parsing the 1.6 MB OpenAPI spec takes seconds on a busy machine: do it under the hook timeout, not a test's.
beforeAll(() => {
  loadSpecValidator();
  server.listen({ onUnhandledRequest: 'error' });
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const AUDIENCE = 'aud0000001';
const catalogue: Record<string, Omit<CampaignProductContent, 'productId'>> = {
  beans: {
    title: 'Ethiopia Yirgacheffe beans',
    url: 'https://shop.example/p/beans',
    imageUrl: 'https://cdn.example/beans.jpg',
    price: '€12.50',
  },
  grinder: {
    title: 'Hand grinder',
    url: 'https://shop.example/p/grinder',
    imageUrl: 'https://cdn.example/grinder.jpg',
    price: '€49.00',
  },
  filters: {
    title: 'Paper filters (100)',
    url: 'https://shop.example/p/filters',
    imageUrl: 'https://cdn.example/filters.jpg',
    price: '€4.00',
  },
  kettle: { title: 'Gooseneck kettle', url: 'https://shop.example/p/kettle', price: '€39.00' },
};
// What each person already owns, and the related products the store would suggest.
const owned: Record<string, string[]> = {
  'ada@example.com': ['grinder'],
  'bob@example.com': ['beans', 'filters'],
  'cy@example.com': [],
};
const related = ['beans', 'grinder', 'filters', 'kettle'];
const recommendationsFor = (email: string) => related.filter((id) => !(owned[email] ?? []).includes(id)).slice(0, 3);

function setup(
  extra: { contact?: typeof DEFAULT_CONTACT | null; journey?: { journeyId: number; stepId: number } } = {},
) {
  const html = renderCampaignHtml({ storeName: 'Bean & Leaf' });
  const sandbox = createMailchimpSandbox({
    audiences: [{ id: AUDIENCE, ...(extra.contact !== undefined ? { contact: extra.contact } : {}) }],
    journeys: [{ journeyId: 7, stepId: 70, listId: AUDIENCE, html }],
  });
  server.use(...sandbox.handlers);
  const provider = createMailchimpProvider({
    apiKey: sandbox.apiKey,
    audienceId: AUDIENCE,
    ...(extra.journey ? { journey: extra.journey } : {}),
  });
  for (const email of Object.keys(owned))
    sandbox.seedMember(email, 'subscribed', { mergeFields: { FNAME: email.split('@')[0] ?? '' } });
  sandbox.seedMember('gone@example.com', 'unsubscribed');
  const recipients = [...Object.keys(owned), 'gone@example.com', 'stranger@example.com'].map((email) => ({
    email,
    content: {
      products: recommendationsFor(email).map((id) => ({ productId: id, ...catalogue[id]! })),
      reason: `Because you bought ${(owned[email] ?? [])[0] ?? 'from us'}`,
      consentLine: 'You receive this because you agreed to Email offers on 14 March 2025 (clause 4.2, version 1).',
      preferencesUrl: `https://shop.example/tactful/preferences?t=${encodeURIComponent(email)}`,
      unsubscribeUrl: `https://shop.example/tactful/unsubscribe?t=${encodeURIComponent(email)}`,
    },
  }));
  const request: CampaignRequest = {
    key: 'run-2025-05-01',
    subject: 'You may like these',
    sender: { name: 'Bean & Leaf', email: 'hello@shop.example', postalAddress: '1 Sandbox Street, Atlanta' },
    recipients,
  };
  return { sandbox, provider, request };
}

describe('related-product campaigns', () => {
  it('creates the merge fields, sends to exactly the subscribed recipients, and records who got it', async () => {
    const { sandbox, provider, request } = setup();
    const result = await provider.sendCampaign(request);
    expect(result.sent).toEqual(['ada@example.com', 'bob@example.com', 'cy@example.com']);
    expect(result.failed.map((f) => [f.email, f.code])).toEqual([
      ['gone@example.com', 'MAILCHIMP.NOT_SUBSCRIBED'],
      ['stranger@example.com', 'MAILCHIMP.NOT_A_MEMBER'],
    ]);
    const audience = sandbox.state.audiences.get(AUDIENCE)!;
    expect([...audience.mergeFields.keys()]).toEqual(
      expect.arrayContaining(['P1_TITLE', 'P3_PRICE', 'REASON', 'CONSENT', 'PREFS_URL']),
    );
    const campaign = sandbox.state.campaigns.get(result.campaignId)!;
    expect(campaign.status).toBe('sent');
    expect(campaign.sentTo).toHaveLength(3);
    // The static segment holds exactly the eligible members.
    const segment = audience.segments.get(campaign.segment_id!)!;
    expect(segment.members.size).toBe(3);
    expect(await provider.ensureCampaignMergeFields()).toEqual([]);
  });

  it('each rendered email has the unsubscribe link, reason, consent date, address, preference link, and only products the person does not own', async () => {
    const { sandbox, provider, request } = setup();
    const { campaignId } = await provider.sendCampaign(request);
    for (const email of Object.keys(owned)) {
      const html = sandbox.render(campaignId, email);
      expect(html, email).not.toBeNull();
      const member = sandbox.member(email)!;
      expect(html).toContain(
        `https://us21.list-manage.com/unsubscribe?u=sandbox&amp;id=${AUDIENCE}`.replace('&amp;', '&'),
      );
      expect(html).toContain(`e=${member.unique_email_id}`);
      expect(html).toContain(`Because you bought ${(owned[email] ?? [])[0] ?? 'from us'}`);
      expect(html).toContain('agreed to Email offers on 14 March 2025 (clause 4.2, version 1).');
      expect(html).toContain('Bean &amp; Leaf');
      expect(html).toContain('Tactful Demo Store, 1 Sandbox Street, Atlanta, GA 30308, US');
      expect(html).toContain(`https://shop.example/tactful/preferences?t=${encodeURIComponent(email)}`);
      for (const [id, product] of Object.entries(catalogue)) {
        const shouldShow = recommendationsFor(email).includes(id);
        expect(html?.includes(product.title), `${email} / ${id}`).toBe(shouldShow);
        if ((owned[email] ?? []).includes(id)) expect(html).not.toContain(product.url);
      }
      expect(html).not.toMatch(/\*\|/);
      expect(html).not.toMatch(/<img src=""/);
    }
    expect(sandbox.render(campaignId, 'gone@example.com')).toBeNull();
    // Mailchimp renders at the send: each recipient's email is kept as sent, a later profile change does not alter it.
    expect(sandbox.emails().map((e) => [e.to, e.subject, e.from, e.via])).toEqual(
      Object.keys(owned).map((to) => [
        to,
        'You may like these',
        'Bean & Leaf <hello@shop.example>',
        { kind: 'campaign', campaignId },
      ]),
    );
    const sent = sandbox.render(campaignId, 'ada@example.com');
    sandbox.actions.updateProfile('ada@example.com', { REASON: 'Changed afterwards' }, { source: 'api' });
    expect(sandbox.render(campaignId, 'ada@example.com')).toBe(sent);
    expect(sandbox.emails('ADA@example.com')[0]?.html).toBe(sent);
  });

  it('a second run with the same key never sends again', async () => {
    const { sandbox, provider, request } = setup();
    const first = await provider.sendCampaign(request);
    const second = await provider.sendCampaign(request);
    expect(second.campaignId).toBe(first.campaignId);
    expect(sandbox.state.campaigns.size).toBe(1);
    expect(sandbox.calls.count('POST', '/campaigns/{campaign_id}/actions/send')).toBe(1);
  });

  it('refuses a message without products, reason or sender before touching Mailchimp', async () => {
    const { sandbox, provider, request } = setup();
    sandbox.calls.reset();
    const [first] = request.recipients;
    await expect(
      provider.sendCampaign({
        ...request,
        recipients: [{ email: first!.email, content: { ...first!.content, products: [] } }],
      }),
    ).rejects.toMatchObject({ code: 'MAILCHIMP.CAMPAIGN_INVALID' });
    await expect(provider.sendCampaign({ ...request, sender: { ...request.sender, name: ' ' } })).rejects.toMatchObject(
      { code: 'MAILCHIMP.CAMPAIGN_INVALID' },
    );
    expect(sandbox.calls.total()).toBe(0);
  });

  it('Mailchimp will not send for an audience without a postal address', async () => {
    const { provider, request } = setup({ contact: null });
    await expect(provider.sendCampaign(request)).rejects.toMatchObject({
      code: 'MAILCHIMP.BAD_REQUEST',
      message: expect.stringContaining('postal address'),
    });
  });

  it('reports opens, clicks and unsubscribes', async () => {
    const { sandbox, provider, request } = setup();
    const { campaignId } = await provider.sendCampaign(request);
    sandbox.actions.open(campaignId, 'ada@example.com');
    sandbox.actions.open(campaignId, 'ada@example.com');
    sandbox.actions.open(campaignId, 'bob@example.com');
    sandbox.actions.click(campaignId, 'bob@example.com');
    sandbox.actions.unsubscribe('cy@example.com', { campaignId });
    expect(await provider.campaignReport(campaignId)).toEqual({
      campaignId,
      sends: 3,
      opens: 2,
      clicks: 1,
      unsubscribes: 1,
    });
  });

  it('Customer Journey mode triggers each eligible member into the configured step', async () => {
    const { sandbox, provider, request } = setup({ journey: { journeyId: 7, stepId: 70 } });
    const result = await provider.sendCampaign(request);
    expect(result.campaignId).toBe('journey:7:70');
    expect(result.sent).toEqual(['ada@example.com', 'bob@example.com', 'cy@example.com']);
    expect(sandbox.state.campaigns.size).toBe(0);
    const html = sandbox.renderJourney(7, 70, 'bob@example.com');
    expect(html).toContain('Hand grinder');
    expect(html).not.toContain('Paper filters');
  });
});

describe('campaign activity', () => {
  it('says who opened and who clicked, per recipient, from the email activity report', async () => {
    const { sandbox, provider, request } = setup();
    const result = await provider.sendCampaign(request);
    sandbox.actions.open(result.campaignId, 'ada@example.com');
    sandbox.actions.open(result.campaignId, 'ada@example.com');
    sandbox.actions.open(result.campaignId, 'bob@example.com');
    sandbox.actions.click(result.campaignId, 'bob@example.com');
    const activity = await provider.campaignActivity(result.campaignId);
    expect(activity.opened.sort()).toEqual(['ada@example.com', 'bob@example.com']);
    expect(activity.clicked).toEqual(['bob@example.com']);
  });
});

describe('test email', () => {
  const content = {
    products: [{ productId: 'beans', ...catalogue.beans! }],
    reason: 'Because you bought a Hand grinder & filters',
    consentLine: 'You receive this because you agreed to Email offers on 1 March 2026 (clause 4.2, version 3).',
    preferencesUrl: 'https://app.example/preferences?token=abc',
    unsubscribeUrl: 'https://app.example/unsubscribe?token=def',
  };
  const sender = { name: 'Bean & Leaf', email: 'owner@beanleaf.example', postalAddress: '1 Main St, Ghent' };

  it('sends the customer’s email, filled in and marked as a test, to the owner only: no member, no campaign left', async () => {
    const { sandbox, provider } = setup();
    const before = sandbox.state.audiences.get(AUDIENCE)!.members.size;
    const { testId } = await provider.sendTest({
      to: 'owner@beanleaf.example',
      subject: '[TEST] Picked for you',
      sender,
      content,
      note: 'TEST EMAIL: for you only.',
    });
    expect(testId).not.toBe('');
    expect(sandbox.state.testEmails).toHaveLength(1);
    const mail = sandbox.state.testEmails[0]!;
    expect(mail.to).toBe('owner@beanleaf.example');
    expect(mail.subject).toBe('[TEST] Picked for you');
    expect(mail.html).toContain('TEST EMAIL: for you only.');
    expect(mail.html).toContain('Ethiopia Yirgacheffe beans');
    expect(mail.html).toContain('Because you bought a Hand grinder &amp; filters');
    expect(mail.html).toContain('https://app.example/preferences?token=abc');
    expect(mail.html).not.toMatch(/\*\|P1_TITLE\|\*|\*\|REASON\|\*/);
    // Nobody in the audience was written or sent anything, and the draft is gone.
    expect(sandbox.state.audiences.get(AUDIENCE)!.members.size).toBe(before);
    expect(sandbox.state.campaigns.size).toBe(0);
    expect(sandbox.calls.count('POST', '/lists/{list_id}')).toBe(0);
  });

  it('a test to something that is not an address is refused before anything is created in Mailchimp', async () => {
    const { sandbox, provider } = setup();
    await expect(provider.sendTest({ to: 'nobody', subject: 'x', sender, content, note: 'n' })).rejects.toMatchObject({
      code: 'MAILCHIMP.INVALID_EMAIL',
    });
    expect(sandbox.state.testEmails).toHaveLength(0);
    expect(sandbox.state.campaigns.size).toBe(0);
  });
});
