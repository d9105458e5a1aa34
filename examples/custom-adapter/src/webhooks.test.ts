import { describe, expect, it } from 'vitest';
import type { InboundEvent, InboundMeta, InboundSink } from '@tactful/core';
import { receiveWooCommerceWebhook, signWooCommerceBody } from './index.js';

const secret = 'whsec-for-tests';

/** The smallest honest sink: keeps events, de-duplicates on (system, deliveryId) as the inbox does. */
function memorySink() {
  const stored: Array<{ shop: string; event: InboundEvent; meta: InboundMeta }> = [];
  const sink: InboundSink = {
    async receive(shop, event, meta) {
      if (stored.some((s) => s.meta.system === meta.system && s.meta.deliveryId === meta.deliveryId))
        return 'duplicate';
      stored.push({ shop, event, meta });
      return 'accepted';
    },
  };
  return { sink, stored };
}

const customerBody = JSON.stringify({
  id: 25,
  date_created_gmt: '2025-03-01T10:00:00',
  date_modified_gmt: '2025-03-02T10:00:00',
  email: 'Ada@Example.com',
  first_name: 'Ada',
  last_name: 'L',
  role: 'customer',
  billing: { city: 'London', country: 'GB' },
  meta_data: [
    {
      id: 7,
      key: 'tactful_newsletter',
      value: { state: 'unsubscribed', level: 'unknown', updated_at: '2025-03-02T09:59:00.000Z' },
    },
  ],
});
const signed = (body: string, topic: string, delivery = 'd-1') => ({
  'x-wc-webhook-topic': topic,
  'x-wc-webhook-signature': signWooCommerceBody(body, secret),
  'x-wc-webhook-delivery-id': delivery,
});

describe('WooCommerce webhooks', () => {
  it('a signed customer.updated reaches the inbox normalised, with its consent and original time', async () => {
    const { sink, stored } = memorySink();
    const answer = await receiveWooCommerceWebhook(
      sink,
      { headers: signed(customerBody, 'customer.updated'), rawBody: Buffer.from(customerBody) },
      { secret, shop: 'shop.example' },
    );
    expect(answer).toMatchObject({ status: 200, outcome: 'accepted' });
    expect(stored).toHaveLength(1);
    const { event, meta } = stored[0]!;
    expect(meta).toMatchObject({ system: 'woocommerce', deliveryId: 'd-1', topic: 'customer.updated' });
    expect(event.kind).toBe('customer');
    if (event.kind !== 'customer') return;
    expect(event.customer).toMatchObject({ id: '25', email: 'ada@example.com', city: 'London' });
    expect(event.customer.emailConsent).toMatchObject({
      state: 'withdrawn',
      method: 'sync',
      sourceEventId: '25:2025-03-02T09:59:00.000Z',
    });
    expect(event.customer.emailConsent?.occurredAt.toISOString()).toBe('2025-03-02T09:59:00.000Z');
  });

  it('a wrong or missing signature is refused and stores nothing', async () => {
    const { sink, stored } = memorySink();
    const tampered = customerBody.replace('unsubscribed', 'subscribed');
    const headers = signed(customerBody, 'customer.updated');
    expect(await receiveWooCommerceWebhook(sink, { headers, rawBody: tampered }, { secret, shop: 's' })).toMatchObject({
      status: 401,
      outcome: 'refused',
    });
    expect(
      await receiveWooCommerceWebhook(
        sink,
        { headers: { 'x-wc-webhook-topic': 'customer.updated' }, rawBody: customerBody },
        { secret, shop: 's' },
      ),
    ).toMatchObject({ status: 401 });
    expect(stored).toEqual([]);
  });

  it('a replayed delivery is a duplicate, not a second event', async () => {
    const { sink, stored } = memorySink();
    const request = { headers: new Headers(signed(customerBody, 'customer.updated', 'd-9')), rawBody: customerBody };
    await receiveWooCommerceWebhook(sink, request, { secret, shop: 's' });
    expect(await receiveWooCommerceWebhook(sink, request, { secret, shop: 's' })).toMatchObject({
      status: 200,
      outcome: 'duplicate',
    });
    expect(stored).toHaveLength(1);
  });

  it("WooCommerce's activation ping is answered; deletions that are not erasure requests are ignored", async () => {
    const { sink, stored } = memorySink();
    expect(
      await receiveWooCommerceWebhook(sink, { headers: {}, rawBody: 'webhook_id=12' }, { secret, shop: 's' }),
    ).toMatchObject({ status: 200, outcome: 'ping' });
    const gone = JSON.stringify({ id: 25 });
    expect(
      await receiveWooCommerceWebhook(
        sink,
        { headers: signed(gone, 'customer.deleted'), rawBody: gone },
        { secret, shop: 's' },
      ),
    ).toMatchObject({ status: 200, outcome: 'ignored' });
    expect(stored).toEqual([]);
    const removed = await receiveWooCommerceWebhook(
      sink,
      { headers: signed(gone, 'product.deleted', 'd-2'), rawBody: gone },
      { secret, shop: 's', now: () => new Date('2025-01-01T00:00:00Z') },
    );
    expect(removed.outcome).toBe('accepted');
    expect(stored[0]?.event).toEqual({
      kind: 'product_deleted',
      productId: '25',
      occurredAt: new Date('2025-01-01T00:00:00Z'),
    });
  });

  it('a signed body that is not a WooCommerce record is refused clearly', async () => {
    const { sink, stored } = memorySink();
    const odd = JSON.stringify({ id: 'x' });
    const answer = await receiveWooCommerceWebhook(
      sink,
      { headers: signed(odd, 'order.created'), rawBody: odd },
      { secret, shop: 's' },
    );
    expect(answer).toMatchObject({ status: 400, outcome: 'refused' });
    expect(stored).toEqual([]);
  });
});
