import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { createTactful, type Tactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { EmailProvider, OrderRecord, TestEmailRequest } from '../ports.js';
import { rawStore, type Store } from '../store/open.js';
import { campaignRecipients, contactSends } from '../store/schema.js';
import { describeEachStore } from '../testing/harness.js';
import { createMemoryEmailProvider } from '../testing/memory-provider.js';
import { uniqueShop } from '../testing/stores.js';
import { TEST_NOTE, type TestEmail } from './test-send.js';

const t0 = new Date('2026-03-01T12:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * 86_400_000);
const PUBLIC = 'https://tactful.example.com';
const SENDER = { name: 'Bean & Leaf', email: 'owner@bean.example', postalAddress: '1 Roastery Lane, Brussels' };
const admin = { type: 'admin' as const, id: 'dashboard' };

function grant(email: string, purpose: string, id: string, state = 'granted') {
  return {
    subject: { email },
    purpose,
    state,
    level: 'confirmed',
    occurredAt: at(1),
    source: { system: 'shopify', eventId: id, method: 'form' },
    evidence: { clause: '4.2', policyVersion: '3' },
  };
}

function order(id: string, email: string, products: string[], day: number): OrderRecord {
  return {
    id,
    email,
    createdAt: at(day),
    updatedAt: at(day),
    currency: 'EUR',
    totalPrice: '20.00',
    lines: products.map((p) => ({ productId: p, title: p, quantity: 1, price: '10.00' })),
  };
}

async function shop(store: Store): Promise<Tactful> {
  const t = await createTactful({ store, shop: uniqueShop('test-send'), now: () => at(10) });
  await t.settings.update({ sender: SENDER });
  await t.products.upsert(
    ['tea', 'kettle', 'honey', 'cups', 'coffee', 'grinder', 'filters'].map((id) => ({
      id,
      title: id[0]!.toUpperCase() + id.slice(1),
      url: `https://bean.example/products/${id}`,
      price: '€10.00',
      available: true,
    })),
  );
  await t.consent.recordBatch([
    grant('ada@example.com', 'email_marketing', 'a1'),
    grant('ada@example.com', 'personalization', 'a2'),
    grant('bob@example.com', 'email_marketing', 'b1', 'withdrawn'),
    grant('bob@example.com', 'personalization', 'b2'),
  ]);
  await t.orders.ingest(
    [
      order('o1', 'ada@example.com', ['tea'], 3),
      order('o2', 'bob@example.com', ['tea'], 3),
      ...[
        ...Array.from({ length: 6 }, () => ['tea', 'kettle']),
        ...Array.from({ length: 6 }, () => ['coffee', 'grinder']),
        ...Array.from({ length: 4 }, () => ['tea', 'honey', 'cups']),
        ...Array.from({ length: 4 }, () => ['coffee', 'filters']),
      ].map((b, i) => order(`x${i}`, `x${i}@example.com`, b, 2)),
    ],
    'shopify',
  );
  return t;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isTactfulError(error)) throw new Error(`expected a TactfulError, got ${String(error)}`);
  return error.code;
}

describeEachStore('test send', (getStore) => {
  it('the customer’s real email goes to the owner, marked as a test, audited - caps, sends and attribution unchanged', async () => {
    const t = await shop(getStore());
    const ada = (await t.audit.subjectIdOf('ada@example.com'))!;
    const before = await t.contact.canContact(ada);
    const statsBefore = await t.campaign.stats();
    const box: TestEmail[] = [];
    const result = await t.campaign.testSend(
      { subjectId: ada, publicUrl: PUBLIC, subject: 'New for you' },
      { mailbox: async (m) => void box.push(m), actor: admin },
    );
    expect(result).toMatchObject({ to: SENDER.email, subject: '[TEST] New for you', via: 'mailbox' });
    expect(box).toHaveLength(1);
    const mail = box[0]!;
    expect(mail.to).toBe(SENDER.email);
    expect(mail.html).toContain(TEST_NOTE);
    expect(mail.text.startsWith(TEST_NOTE)).toBe(true);
    // The email a campaign would send her: her recommendations with her reason, her consent line, her links.
    expect(mail.content.products.map((p) => p.productId)).toContain('kettle');
    expect(mail.content.products.map((p) => p.productId)).not.toContain('grinder');
    expect(mail.content.reason).toContain('Tea');
    expect(mail.content.consentLine).toContain('4.2');
    expect(mail.content.preferencesUrl.startsWith(`${PUBLIC}/preferences?token=`)).toBe(true);

    // Never a send to her: no contact record (frequency caps), no campaign recipient (attribution), same stats.
    const { db } = rawStore(getStore());
    expect(await db.select().from(contactSends).where(eq(contactSends.shopId, t.shopId))).toEqual([]);
    expect(await db.select().from(campaignRecipients).where(eq(campaignRecipients.shopId, t.shopId))).toEqual([]);
    expect(await t.contact.canContact(ada)).toEqual(before);
    expect(await t.campaign.stats()).toEqual(statsBefore);
    expect(await t.customers.emails(ada)).toEqual([]);
    // A real campaign still reaches her afterwards.
    const dry = await t.campaign.run({ name: 'spring', subject: 'Hi', dryRun: true, publicUrl: PUBLIC, only: [ada] });
    expect(dry.eligible).toBe(1);

    const audit = await t.audit.page({ subjectId: ada, action: 'campaign.test_sent' }, { limit: 5, offset: 0 });
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({
      actorType: 'admin',
      details: { via: 'mailbox', to: 'sender reply address' },
    });
    expect(JSON.stringify(audit.rows[0]!.details)).not.toContain('@');
  });

  it('through the provider - its own test email, the same content', async () => {
    const t = await shop(getStore());
    const ada = (await t.audit.subjectIdOf('ada@example.com'))!;
    const sent: TestEmailRequest[] = [];
    const provider: EmailProvider = {
      ...createMemoryEmailProvider().provider,
      sendTest: async (request) => {
        sent.push(request);
        return { testId: 't1' };
      },
    };
    const result = await t.campaign.testSend({ subjectId: ada, publicUrl: PUBLIC }, { provider, actor: admin });
    expect(result.via).toBe('memory');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: SENDER.email, subject: '[TEST] Picked for you', note: TEST_NOTE });
  });

  it('refusals - not eligible (with the reason), no sender, nothing to send it through; nothing sent or audited', async () => {
    const t = await shop(getStore());
    const ada = (await t.audit.subjectIdOf('ada@example.com'))!;
    const bob = (await t.audit.subjectIdOf('bob@example.com'))!;
    const box: TestEmail[] = [];
    const mailbox = async (m: TestEmail) => void box.push(m);
    const error = await t.campaign
      .testSend({ subjectId: bob, publicUrl: PUBLIC }, { mailbox, actor: admin })
      .catch((e: unknown) => e);
    expect(isTactfulError(error, 'CAMPAIGN.NOT_ELIGIBLE')).toBe(true);
    expect((error as Error).message).toContain('not granted');
    expect(await codeOf(t.campaign.testSend({ subjectId: ada, publicUrl: PUBLIC }, { actor: admin }))).toBe(
      'CAMPAIGN.NO_PROVIDER',
    );
    expect(
      await codeOf(
        t.campaign.testSend(
          { subjectId: ada, publicUrl: PUBLIC },
          { provider: createMemoryEmailProvider().provider, actor: admin },
        ),
      ),
    ).toBe('CAMPAIGN.NO_PROVIDER');
    expect(
      await codeOf(t.campaign.testSend({ subjectId: 'nobody', publicUrl: PUBLIC }, { mailbox, actor: admin })),
    ).toBe('SUBJECT.NOT_FOUND');
    const other = await createTactful({ store: getStore(), shop: uniqueShop('no-sender'), now: () => at(10) });
    expect(
      await codeOf(other.campaign.testSend({ subjectId: ada, publicUrl: PUBLIC }, { mailbox, actor: admin })),
    ).toBe('CAMPAIGN.NO_SENDER');
    expect(box).toEqual([]);
    expect((await t.audit.page({ action: 'campaign.test_sent' }, { limit: 5, offset: 0 })).total).toBe(0);
  });
});

describeEachStore('a customer’s emails', (getStore) => {
  it('per person: opened and clicked as the provider’s activity reports them, beside their send’s figures', async () => {
    const t = await shop(getStore());
    const ada = (await t.audit.subjectIdOf('ada@example.com'))!;
    const memory = createMemoryEmailProvider().provider;
    await t.campaign.run({ name: 'spring', subject: 'Spring', dryRun: false, publicUrl: PUBLIC }, { provider: memory });
    const [sent] = await t.customers.emails(ada);
    expect(sent).toMatchObject({
      campaign: 'spring',
      subject: 'Spring',
      status: 'sent',
      opened: false,
      clicked: false,
    });
    expect(sent!.products.map((p) => p.title)).toContain('Kettle');
    const provider: EmailProvider = {
      ...memory,
      campaignActivity: async () => ({ opened: ['ADA@example.com'], clicked: ['someone.else@example.com'] }),
    };
    await t.campaign.refreshReports(provider);
    const [after] = await t.customers.emails(ada);
    expect(after).toMatchObject({ opened: true, clicked: false });
    expect(after!.wave).not.toBeNull();
    expect(after!.wave!.reportAt).not.toBeNull();
  });
});
