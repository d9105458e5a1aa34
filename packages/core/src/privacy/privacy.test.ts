import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTactful, type Tactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { OrderRecord } from '../ports.js';
import { loadModel } from '../recommend/model-store.js';
import { openStore, type Store, rawStore } from '../store/open.js';
import { campaignRecipients } from '../store/schema.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import type { SubjectExport } from './export.js';
import { findPersonalData, remainingKeys, rowsReferring, scanFiles, scanFilesDecrypting } from './oracle.js';

const t0 = new Date('2026-03-01T10:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * 86_400_000);

const ADA = 'ada.lovelace@example.com';
const ADA_IP = '203.0.113.77';
const ADA_UA = 'Mozilla/5.0 AdaBrowser/9.1';
const ADA_NAMES = ['Adalinde', 'Lovelacey', 'Ixelles-sur-Mer'];

function consent(
  email: string,
  purpose: string,
  state: string,
  id: string,
  occurredAt: Date,
  over: Record<string, unknown> = {},
) {
  return {
    subject: { email, externalIds: email === ADA ? { shopify: 'gid://shopify/Customer/4242' } : undefined },
    purpose,
    state,
    level: 'single',
    occurredAt,
    source: { system: 'shopify', eventId: id, method: 'form' },
    evidence: email === ADA ? { ip: ADA_IP, userAgent: ADA_UA, policyVersion: '1' } : { ip: '198.51.100.9' },
    ...over,
  };
}

function order(
  id: string,
  email: string | null,
  products: string[],
  day: number,
  total = '30.00',
  customerId?: string,
): OrderRecord {
  return {
    id,
    email,
    customerId: customerId ?? null,
    createdAt: at(day),
    updatedAt: at(day),
    currency: 'EUR',
    totalPrice: total,
    lines: products.map((p) => ({ productId: p, title: p, quantity: 1, price: '10.00' })),
  };
}

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isTactfulError(error), `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

/** A shop where Ada has everything a person can have, and Bob is a bystander who must keep his data. */
async function populate(store: Store, shop = uniqueShop('privacy')) {
  const t = await createTactful({ store, shop, now: () => at(10) });
  // An order of Ada's before Tactful knew her: linked only by the blind index of her email.
  await t.orders.ingest([order('o-early', ADA, ['tea', 'cups'], 0, '20.00')], 'shopify');
  await t.consent.recordBatch([
    consent(ADA, 'email_marketing', 'granted', 'a1', at(1)),
    consent(ADA, 'personalization', 'granted', 'a2', at(1)),
    consent('bob@example.com', 'email_marketing', 'granted', 'b1', at(1)),
    consent('bob@example.com', 'personalization', 'granted', 'b2', at(1)),
  ]);
  await t.orders.ingest(
    [
      order('o-ada-1', ADA, ['tea', 'kettle'], 2, '45.50'),
      order('o-ada-2', null, ['tea', 'honey'], 3, '12.00', 'gid://shopify/Customer/4242'),
      order('o-bob-1', 'bob@example.com', ['tea', 'kettle'], 2, '50.00'),
      order('o-bob-2', 'bob@example.com', ['honey', 'cups'], 4, '18.00'),
    ],
    'shopify',
  );
  await t.profiles.setAttributes(
    ADA,
    {
      firstName: ADA_NAMES[0],
      lastName: ADA_NAMES[1],
      city: ADA_NAMES[2],
      birthDate: '1990-12-10',
      country: 'be',
      interests: ['Tea'],
      timeZone: 'Europe/Brussels',
    },
    'shopify',
  );
  await t.profiles.setAttributes('bob@example.com', { firstName: 'Robert', country: 'FR' }, 'shopify');
  await t.contact.recordSend(ADA, { sentAt: at(5), campaign: 'spring', productIds: ['kettle'] });
  const adaId = (await t.audit.subjectIdOf(ADA))!;
  await rawStore(store)
    .db.insert(campaignRecipients)
    .values({
      shopId: t.shopId,
      campaign: 'spring',
      subjectId: adaId,
      wave: 1,
      status: 'sent',
      productIds: ['kettle'],
      sentAt: at(5),
    });
  await t.segments.save('tea-lovers', { purchased: { product: 'tea' } });
  await t.segments.save('belgians', { location: { country: 'BE' } });
  await t.segments.save('french', { location: { country: 'FR' } });
  await t.inbox.receive(
    shop,
    { kind: 'customer', customer: { id: '4242', email: ADA, firstName: ADA_NAMES[0], updatedAt: at(6) } },
    { system: 'shopify', deliveryId: 'd-ada', receivedAt: at(6), topic: 'customers/update' },
  );
  await t.inbox.receive(
    shop,
    { kind: 'customer', customer: { id: '77', email: 'bob@example.com', firstName: 'Robert', updatedAt: at(6) } },
    { system: 'shopify', deliveryId: 'd-bob', receivedAt: at(6), topic: 'customers/update' },
  );
  return t;
}

/** Which part of the export accounts for a stored row that refers to the subject. */
function inExport(bundle: SubjectExport, table: string, row: Record<string, unknown>): boolean {
  switch (table) {
    case 'subjects':
      return row.subject_id === bundle.subject.subjectId;
    case 'subject_identifiers':
      return bundle.identifiers.some(
        (i) => i.kind === row.kind && new Date(i.validFrom).getTime() === new Date(row.valid_from as string).getTime(),
      );
    case 'consent_ledger':
      return bundle.consent.history.some((h) => h.eventId === row.event_id);
    case 'consent_state':
      return bundle.consent.current.some((c) => c.purpose === row.purpose && c.state === row.state);
    case 'audit_log':
      return bundle.audit.some((a) => Number(a.seq) === Number(row.seq));
    case 'orders':
      return bundle.orders.some((o) => o.orderId === row.order_id);
    case 'order_lines':
      return bundle.orders.some((o) => o.lines.some((l) => l.orderId === row.order_id && l.lineNo === row.line_no));
    case 'profiles':
      return bundle.profile !== null;
    case 'contact_sends':
      return bundle.sends.some((s) => s.sendId === row.send_id);
    case 'campaign_recipients':
      return bundle.campaigns.some((c) => c.campaign === row.campaign);
    case 'pushed_consent':
      return bundle.pushedConsent.some((p) => p.system === row.system && p.purpose === row.purpose);
    case 'opt_in_tokens':
      return bundle.optInTokens.some((p) => p.tokenId === row.token_id);
    case 'outbox':
      return bundle.outbox.some((o) => Number(o.id) === Number(row.id));
    default:
      return false;
  }
}

describeEachStore('privacy', (getStore) => {
  it('export - one bundle holds every row of every table that refers to the person (oracle)', async () => {
    const store = getStore();
    const t = await populate(store);
    await t.settings.update({ connectedSystems: ['mailchimp'] });
    await t.consent.record(
      consent(ADA, 'email_marketing', 'withdrawn', 'a3', at(7), {
        source: { system: 'shopify', eventId: 'a3', method: 'admin' },
      }),
    );
    const bundle = await t.privacy.export(ADA, { type: 'cli', id: 'test' }, { requestId: 'req-1' });
    const subjectId = bundle.subject.subjectId;
    const refs = [subjectId, ...bundle.orders.map((o) => `"${o.orderId}"`)];
    const referring = await rowsReferring(rawStore(store), t.shopId, subjectId, refs);
    expect(referring.length).toBeGreaterThan(15);
    const missing = referring.filter(({ table, row }) => !inExport(bundle, table, row));
    expect(missing, JSON.stringify(missing, null, 1)).toEqual([]);
    // And the bundle is readable: decrypted identity, evidence, attributes with provenance, orders, segments.
    expect(bundle.subject.email).toBe(ADA);
    expect(bundle.consent.history.find((h) => h.source.eventId === 'a1')!.evidence).toMatchObject({
      ip: ADA_IP,
      userAgent: ADA_UA,
    });
    expect(bundle.profile!.attributes.firstName).toMatchObject({ value: 'Adalinde', source: 'shopify' });
    expect(bundle.orders.map((o) => o.orderId).sort()).toEqual(['o-ada-1', 'o-ada-2', 'o-early']);
    expect(bundle.segments).toEqual(['belgians', 'tea-lovers']);
    expect(bundle.sends).toHaveLength(1);
    expect(bundle.outbox.some((o) => o.kind === 'consent.push' && (o.payload as { email: string }).email === ADA)).toBe(
      true,
    );
    expect(bundle.audit.some((a) => a.action === 'data.exported')).toBe(true);
    // Bob's rows are not in Ada's bundle.
    expect(JSON.stringify(bundle)).not.toContain('bob@example.com');
  });

  it('export - an unknown or malformed email is refused', async () => {
    const t = await populate(getStore());
    await expectCode(t.privacy.export('ghost@example.com'), 'SUBJECT.NOT_FOUND');
    await expectCode(t.privacy.export('not-an-email'), 'CONSENT.INVALID');
  });

  it('erase - nothing of the person is left in any table, in plain text or decryptable with any remaining key (oracle)', async () => {
    const store = getStore();
    const t = await populate(store);
    const needles = [ADA, ADA_IP, ADA_UA, ...ADA_NAMES, 'gid://shopify/Customer/4242'];
    // The oracle finds her before erasure (it is able to fail).
    const before = await findPersonalData(rawStore(store), t.shopId, needles);
    expect(new Set(before.map((f) => f.table))).toEqual(
      new Set(['subjects', 'subject_identifiers', 'consent_ledger', 'profiles', 'inbox', 'orders']),
    );
    const bobBefore = await t.privacy.export('bob@example.com');
    const modelBefore = (await loadModel(rawStore(store).db, t.shopId)).model;

    const out = await t.privacy.erase(ADA, { reason: 'customer request', requestId: 'ticket-9' });
    expect(out).toMatchObject({ ordersDeleted: 3, inboxDeleted: 1, requestId: 'ticket-9' });
    expect(await findPersonalData(rawStore(store), t.shopId, needles)).toEqual([]);

    // The hash chains still verify; the audit entry has no personal data.
    const verify = await t.audit.verify();
    expect(verify.ledger.ok).toBe(true);
    expect(verify.audit.ok).toBe(true);
    const [entry] = await rawStore(store).query<{ details: Record<string, unknown>; subject_id: string }>(
      `select details, subject_id from audit_log where shop_id = $1 and action = 'subject.erased'`,
      [t.shopId],
    );
    expect(entry!.subject_id).toBe(out.subjectId);
    expect(entry!.details).toMatchObject({ requestId: 'ticket-9', reason: 'customer request' });

    // Her orders left the model: it now equals the model of Bob's orders alone.
    const model = (await loadModel(rawStore(store).db, t.shopId)).model;
    expect(modelBefore.basketCount).toBe(5);
    expect(model.basketCount).toBe(2);
    const [tea] = await rawStore(store).query<{ count: number }>(
      `select count from model_products where shop_id = $1 and product_id = 'tea'`,
      [t.shopId],
    );
    expect(Number(tea!.count)).toBe(1);
    const [pair] = await rawStore(store).query<{ count: number }>(
      `select count from model_pairs where shop_id = $1 and product_a = 'kettle' and product_b = 'tea'`,
      [t.shopId],
    );
    expect(Number(pair!.count)).toBe(1);

    // Bob keeps everything (bar the export audit entry that was added).
    const bobAfter = await t.privacy.export('bob@example.com');
    expect(bobAfter.orders).toEqual(bobBefore.orders);
    expect(bobAfter.profile!.attributes).toEqual(bobBefore.profile!.attributes);
    expect(
      await rawStore(store).query(`select 1 from inbox where shop_id = $1 and delivery_id = 'd-bob'`, [t.shopId]),
    ).toHaveLength(1);

    // She is unknown now, and a second erasure says so.
    await expectCode(t.privacy.export(ADA), 'SUBJECT.NOT_FOUND');
    await expectCode(t.privacy.erase(ADA, { reason: 'again' }), 'SUBJECT.NOT_FOUND');
  });

  it('erase - a later sync is refused; only a fresh first-party opt-in brings the person back, as a new subject', async () => {
    const t = await populate(getStore());
    const { subjectId } = await t.privacy.erase(ADA, { reason: 'customer request' });
    await expectCode(
      t.consent.record(
        consent(ADA, 'email_marketing', 'granted', 's1', at(9), {
          source: { system: 'mailchimp', eventId: 's1', method: 'sync' },
        }),
      ),
      'CONSENT.SUPPRESSED',
    );
    await expectCode(
      t.consent.record(
        consent(ADA, 'email_marketing', 'granted', 's2', at(9), {
          source: { system: 'shopify', eventId: 's2', method: 'import' },
        }),
      ),
      'CONSENT.SUPPRESSED',
    );
    // Her own opt-in from before the erasure, delivered late, does not bring her back either.
    await expectCode(
      t.consent.record(
        consent(ADA, 'email_marketing', 'granted', 's2b', at(9), {
          source: { system: 'tactful', eventId: 's2b', method: 'form' },
        }),
      ),
      'CONSENT.SUPPRESSED',
    );
    const back = await t.consent.record(
      consent(ADA, 'email_marketing', 'granted', 's3', new Date(at(10).getTime() + 60_000), {
        source: { system: 'tactful', eventId: 's3', method: 'form' },
      }),
    );
    expect(back.status).toBe('recorded');
    expect(back.subjectId).not.toBe(subjectId);
    expect((await t.consent.show(ADA)).purposes.find((p) => p.purpose === 'email_marketing')!.state).toBe('granted');
    // The old subject's history stays in the ledger, unreadable, and is not the new person's history.
    expect((await t.consent.history(ADA)).events).toHaveLength(1);
  });

  it('erase - a deletion is queued for every connected system; once delivered, nothing is left', async () => {
    const store = getStore();
    const t = await populate(store);
    await t.settings.update({ connectedSystems: ['mailchimp', 'shopify'] });
    await t.privacy.erase(ADA, { reason: 'customer request', requestId: 'r-2' });
    const delivered: Array<{ target: string; payload: Record<string, unknown> }> = [];
    const dispatcher = t.outbox.dispatcher({
      shopId: t.shopId,
      now: () => at(11),
      targets: Object.fromEntries(
        ['mailchimp', 'shopify'].map((target) => [
          target,
          async (items) => {
            for (const i of items) delivered.push({ target, payload: i.payload });
            return items.map(() => ({ ok: true as const }));
          },
        ]),
      ),
    });
    await dispatcher.runOnce();
    const erases = delivered.filter((d) => (d.payload as { requestId?: string }).requestId === 'r-2');
    expect(erases.map((d) => d.target).sort()).toEqual(['mailchimp', 'shopify']);
    expect(erases[0]!.payload).toMatchObject({ email: ADA, externalIds: { shopify: 'gid://shopify/Customer/4242' } });
    expect(await findPersonalData(rawStore(store), t.shopId, [ADA, ADA_IP, ...ADA_NAMES])).toEqual([]);
  });

  it('erase - bad input is refused and changes nothing', async () => {
    const store = getStore();
    const t = await populate(store);
    await expectCode(t.privacy.erase(ADA, { reason: '' }), 'PRIVACY.INVALID');
    await expectCode(t.privacy.erase(ADA, { reason: 'asked by ada.lovelace@example.com' }), 'PRIVACY.INVALID');
    await expectCode(t.privacy.erase('nobody@example.com', { reason: 'x' }), 'SUBJECT.NOT_FOUND');
    await expectCode(t.privacy.erase('nope', { reason: 'x' }), 'CONSENT.INVALID');
    expect((await t.privacy.export(ADA)).orders).toHaveLength(3);
  });

  it('erase - an email known only from orders is erased too', async () => {
    const store = getStore();
    const t = await createTactful({ store, shop: uniqueShop('privacy'), now: () => at(10) });
    await t.orders.ingest([order('o-x', 'guest@example.com', ['tea', 'cups'], 1)], 'shopify');
    const out = await t.privacy.erase('Guest@Example.com', { reason: 'customer request' });
    expect(out).toMatchObject({ subjectId: null, ordersDeleted: 1 });
    expect(await rawStore(store).query(`select 1 from orders where shop_id = $1`, [t.shopId])).toHaveLength(0);
    expect((await loadModel(rawStore(store).db, t.shopId)).model.basketCount).toBe(0);
  });

  it('retention - a dry run lists subjects without order or consent activity for N months; --apply erases them', async () => {
    const store = getStore();
    const shop = uniqueShop('retention');
    let now = at(10);
    const t: Tactful = await createTactful({ store, shop, now: () => now });
    await t.consent.recordBatch([
      consent('old@example.com', 'email_marketing', 'granted', 'r1', at(1)),
      consent('busy@example.com', 'email_marketing', 'granted', 'r2', at(1)),
    ]);
    now = at(10 + 400);
    await t.orders.ingest([order('o-busy', 'busy@example.com', ['tea'], 10 + 390)], 'shopify');
    const dry = await t.privacy.retention(12);
    expect(dry.map((s) => s.email)).toEqual(['old@example.com']);
    expect(await t.privacy.retention(24)).toEqual([]);
    await expectCode(t.privacy.retention(0), 'PRIVACY.INVALID');
    expect((await t.consent.show('old@example.com')).subjectId).toBeTruthy();
    const applied = await t.privacy.applyRetention(12);
    expect(applied.erased).toHaveLength(1);
    await expectCode(t.consent.show('old@example.com'), 'SUBJECT.NOT_FOUND');
    expect((await t.consent.show('busy@example.com')).subjectId).toBeTruthy();
  });

  it('register - lists every processing activity with purpose, legal basis and recipients', async () => {
    const t = await populate(getStore());
    await t.settings.update({ connectedSystems: ['mailchimp'] });
    const register = await t.privacy.register(18);
    expect(register.controller).toBe(t.shopId);
    const names = register.activities.map((a) => a.activity);
    expect(names).toContain('Consent records');
    expect(names).toContain('Order history');
    const personalization = register.activities.find((a) => a.tables.includes('profiles'))!;
    expect(personalization.legalBasis).toMatch(/Consent/);
    expect(personalization.recipients).toEqual(['mailchimp']);
    expect(personalization.retention).toMatch(/18 months/);
    // Every table of the store is covered by some activity.
    const tables = (
      await rawStore(getStore()).query<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = 'public'`,
      )
    ).map((r) => r.table_name);
    const covered = new Set(register.activities.flatMap((a) => a.tables));
    const uncovered = tables.filter(
      (tb) => !covered.has(tb) && !['shops', 'purposes', 'purpose_versions', 'kv', 'model_state'].includes(tb),
    );
    expect(uncovered).toEqual([]);
  });
});

describe('privacy on disk', () => {
  it('erase - the raw database files (tables and WAL) hold no trace of the person, in plain text or decryptable with a remaining key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tactful-erase-'));
    try {
      const store = await openStore({ url: join(dir, 'db') });
      const t = await populate(store);
      const out = await t.privacy.erase(ADA, { reason: 'customer request' });
      expect(out.compaction).toMatchObject({ compacted: true });
      const keys = await remainingKeys(rawStore(store), t.shopId);
      await store.close();
      const decryptable = scanFilesDecrypting(join(dir, 'db'), keys, [ADA, ADA_IP, ...ADA_NAMES]);
      expect(decryptable.map((d) => `${d.file.slice(dir.length)}@${d.offset} ${d.key} ${d.needle}`)).toEqual([]);
      expect(scanFiles(join(dir, 'db'), [ADA, ADA_IP, ADA_UA, ...ADA_NAMES, 'Robert'].slice(0, -1))).toEqual([]);
      // The scan can see plain text when it is there: Bob's first name is only inside ciphertext, but his
      // inbox delivery id is stored in clear.
      expect(scanFiles(join(dir, 'db'), ['d-bob']).length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
