/**
 * The fault oracle's flow checks can fail: a real flow run (through the Mailchimp adapter, to the sandbox on
 * loopback) passes them; then each violation is made the way a broken flow would make it — a journey triggered
 * again, for someone held out, for someone who withdrew; a held-out step turned sent; a step recorded sent that
 * never went out — and the oracle names each one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { rawStore, uniqueShop, embeddedTestStore } from '@tactful/core/testing';
import { createMailchimpProvider } from '@tactful/mailchimp';
import {
  createMailchimpSandbox,
  serveMailchimpSandbox,
  type MailchimpSandbox,
  type MailchimpSandboxHost,
} from '@tactful/mailchimp/testing';
import { bothConsentsGranted, teaAndCoffeeHistory } from '../support/flow-shop.js';
import { flowViolations, holdoutDrawOf } from './flow-oracle.js';

const AUDIENCE = 'floworacle';
const DAY = 86_400_000;
const t0 = new Date('2026-05-04T12:00:00Z');
const SHARE = 0.5;
const people = ['ann', 'ben', 'col', 'dee'].map((n) => `${n}@example.com`);
const [ANN, BEN, COL, DEE] = people as [string, string, string, string];

/** An order id of `prefix`'s that the seeded draw puts in (or out of) the holdout. */
const orderFor = (prefix: string, heldOut: boolean) => {
  for (let i = 0; ; i++)
    if (holdoutDrawOf('post-purchase', `${prefix}-${i}`) < SHARE === heldOut) return `${prefix}-${i}`;
};
// Ann, Ben and Dee are sent theirs; Col's is held out.
const orders = {
  [ANN]: orderFor('ann', false),
  [BEN]: orderFor('ben', false),
  [COL]: orderFor('col', true),
  [DEE]: orderFor('dee', false),
};

let now = t0;
let store: Store;
let tactful: Tactful;
let sandbox: MailchimpSandbox;
let host: MailchimpSandboxHost;
let journey: { journeyId: number; stepId: number };

beforeAll(async () => {
  // One clock for both sides: the oracle compares when Mailchimp sent with when Tactful knew.
  sandbox = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }], now: () => now });
  for (const email of people) sandbox.seedMember(email, 'subscribed');
  journey = sandbox.journeys.create('After your order');
  host = await serveMailchimpSandbox(sandbox);
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: uniqueShop('floworacle'), now: () => now });
  await tactful.contact.setPolicy({ quietHours: null });
  await tactful.settings.update({ sender: { name: 'Tea Co', email: 'hi@tea.example', postalAddress: '1 Leaf Lane' } });
  await tactful.products.upsert(
    ['tea', 'kettle', 'honey', 'cups', 'coffee', 'grinder'].map((id) => ({ id, title: id, available: true })),
  );
  await tactful.consent.recordBatch(bothConsentsGranted(people, new Date(t0.getTime() - 40 * DAY)));
  await tactful.orders.ingest(teaAndCoffeeHistory(new Date(t0.getTime() - 30 * DAY)), 'shopify');
  await tactful.flows.set('post-purchase', {
    enabled: true,
    holdoutShare: SHARE,
    journeyId: String(journey.journeyId),
    stepId: String(journey.stepId),
  });
  await tactful.orders.ingest(
    people.map((email) => ({
      id: orders[email]!,
      email,
      createdAt: t0,
      updatedAt: t0,
      lines: [{ productId: 'tea', title: 'tea', quantity: 1 }],
    })),
    'shopify',
  );
  now = new Date(t0.getTime() + 7 * DAY + 3_600_000);
  const provider = createMailchimpProvider({ apiKey: sandbox.apiKey, audienceId: AUDIENCE, baseUrl: host.baseUrl });
  const run = await tactful.flows.runDue({ provider, publicUrl: 'https://t.example' });
  expect(run).toMatchObject({ sent: 3, heldOut: 1, failed: [] });
}, 120_000);

afterAll(async () => {
  await host?.close();
});

/** What a broken flow would do: trigger the journey step for `email` through Mailchimp's API. */
async function trigger(email: string): Promise<void> {
  const response = await fetch(
    `${host.baseUrl}/customer-journeys/journeys/${journey.journeyId}/steps/${journey.stepId}/actions/trigger`,
    {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`any:${sandbox.apiKey}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ email_address: email }),
    },
  );
  expect(response.status).toBe(204);
}

const setStatus = (orderId: string, status: string) =>
  rawStore(store).query('update flow_steps set status = $3 where shop_id = $1 and order_id = $2', [
    tactful.shopId,
    orderId,
    status,
  ]);

const check = () => flowViolations({ tactful, store, mailchimp: sandbox });

describe('the fault oracle’s flow checks', () => {
  it('pass a real run, then name each violation made the way a broken flow would make it', async () => {
    const clean = await check();
    expect(clean).toEqual({ violations: [], flowEmails: 3, flowSteps: { sent: 3, held_out: 1 } });

    // Twice for one order: Ann's journey triggered again.
    await trigger(ANN);
    expect((await check()).violations).toEqual([
      `flow: ${ANN} got 2 flow email(s) for 1 order(s) sent to the provider`,
    ]);

    // Someone in the holdout gets one.
    await trigger(COL);
    expect((await check()).violations).toContain(
      `flow: ${COL} got 1 flow email(s) for 0 order(s) sent to the provider (held out: ${orders[COL]})`,
    );

    // Without both consents when it went out: Ben withdraws personalization, then a second email reaches him.
    now = new Date(now.getTime() + DAY);
    await tactful.consent.record({
      subject: { email: BEN },
      purpose: 'personalization',
      state: 'withdrawn',
      level: 'unknown',
      occurredAt: now,
      source: { system: 'tactful', eventId: 'ben-withdraws', method: 'form' },
    });
    await trigger(BEN);
    const withdrawn = (await check()).violations.filter((v) => v.includes('without both consents'));
    expect(withdrawn).toHaveLength(1);
    expect(withdrawn[0]).toMatch(
      new RegExp(
        `^flow: ${BEN} got a flow email on \\S+ without both consents \\(email_marketing granted/confirmed, personalization withdrawn\\)$`,
      ),
    );

    // The seeded holdout: a held-out step recorded as sent, and a sent one recorded as held out.
    await setStatus(orders[COL]!, 'sent');
    await setStatus(orders[DEE]!, 'held_out');
    const swapped = (await check()).violations;
    expect(swapped).toContain(`flow: order ${orders[COL]} is in the 50 % holdout by the seeded draw, yet was sent`);
    expect(swapped).toContain(
      `flow: order ${orders[DEE]} was held out, but the seeded draw does not put it in the holdout`,
    );
    expect(swapped).toContain(
      `flow: order ${orders[DEE]} was held out after it reached the provider (flow:post-purchase:${orders[DEE]})`,
    );

    // A step recorded sent whose email never went out.
    await setStatus(orders[DEE]!, 'sent');
    await rawStore(store).query(
      "insert into flow_steps (shop_id, flow_id, order_id, subject_id, ordered_at, due_at, status, send_key, created_at, updated_at) select shop_id, flow_id, 'dee-extra', subject_id, ordered_at, due_at, 'sent', 'flow:post-purchase:dee-extra', created_at, updated_at from flow_steps where shop_id = $1 and order_id = $2",
      [tactful.shopId, orders[DEE]],
    );
    expect((await check()).violations).toContain(`flow: ${DEE} has 2 step(s) recorded sent but got 1 flow email(s)`);
  }, 60_000);
});
