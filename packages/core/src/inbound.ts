// What each kind of inbound event does to the store: the wiring between the sync inbox and the folders that
// own each kind (consent, profiles, privacy, orders, the shop's lifecycle). The engine passes it to the inbox.
import { and, eq } from 'drizzle-orm';
import { appendAudit, type Actor } from './audit/log.js';
import { fromExternalConsent } from './consent/external.js';
import { recordConsent, recordConsentBatch } from './consent/service.js';
import { addressNoteStates } from './identity/address-notes.js';
import { withShopTransaction, type ShopContext } from './shop/context.js';
import type { KeyRing } from './store/keyring.js';
import { TactfulError, isTactfulError } from './errors/tactful-error.js';
import { storeDataRequest } from './privacy/data-requests.js';
import { eraseSubject } from './privacy/erase.js';
import { exportSubject } from './privacy/export.js';
import { eraseShop } from './privacy/shop-erasure.js';
import { deleteOrders, ingestOrders, upsertProducts } from './recommend/orders.js';
import { scheduleOnOrders } from './flows/schedule.js';
import { changeEmail, ingestCustomerAttributes, noteCustomerAddress } from './profile/service.js';
import { findSubjectByEmail } from './profile/subjects.js';
import type { CustomerRecord, InboundEvent } from './ports.js';
import type { ConsentEventInput } from './consent/event.js';
import { assertShopErasable, recordInstalled, recordUninstalled } from './shop/lifecycle.js';
import { products as productsTable, subjects as subjectsTable } from './store/schema.js';
import type { InboundBatch, InboundDelivery, InboundHandler } from './sync/inbox.js';

export const handleInbound =
  (keys: KeyRing, now: () => Date) =>
  (extra: Partial<Record<InboundEvent['kind'], InboundHandler>> = {}): InboundHandler =>
    Object.assign(handleOne(keys, now, extra), { batch: batchOf(keys, now, extra) });

/** A batch's address notes include one that may change an address: its deliveries are handled one at a time. */
class OneByOne extends Error {}

/** The keys a delivery names its person by, for the batch planner: the address and the system's id. */
const peopleOf = (email: string | null | undefined, id: string | null | undefined) => [
  ...(email ? [`email:${email.trim().toLowerCase()}`] : []),
  ...(id ? [`id:${id}`] : []),
];

/** A customer report's email consent (customers/update), as a consent event; null when it carries none. */
function customerConsent(system: string, customer: CustomerRecord): ConsentEventInput | null {
  const x = customer.emailConsent;
  return x && customer.email ? fromExternalConsent(system, { ...x, email: customer.email }, customer.id) : null;
}

/**
 * Orders, customers and consent facts, many deliveries of one shop and one system at a time (the inbox worker's
 * batches): every customer's address note, then every consent fact in arrival order through the consent batch
 * (one validation, one shop transaction; its fold is the one a delivery at a time gives), then the customers'
 * attributes, then every order through the order ingest's batch. The inbox puts a person's customer or consent
 * delivery into a batch only when no earlier delivery of the batch names the same person, so doing each kind
 * in turn ends as handling them one by one does. A batch that throws is handled again one delivery at a time.
 */
function batchOf(
  keys: KeyRing,
  now: () => Date,
  extra: Partial<Record<InboundEvent['kind'], InboundHandler>>,
): InboundBatch {
  return {
    join(event) {
      if (extra[event.kind]) return null;
      switch (event.kind) {
        case 'order':
          return { phase: 'order', people: peopleOf(event.order.email, event.order.customerId) };
        case 'customer':
          return { phase: 'person', people: peopleOf(event.customer.email, event.customer.id) };
        case 'consent':
          return { phase: 'person', people: peopleOf(event.consent.email, event.externalId) };
        default:
          return null;
      }
    },
    async run(deliveries: readonly InboundDelivery[], db) {
      const first = deliveries[0];
      if (!first) return;
      const { shopId, system } = first.meta;
      const c: ShopContext = { db, keys, shopId, now };
      const actor: Actor = { type: 'webhook', id: system };
      const customers = deliveries.flatMap((d) => (d.event.kind === 'customer' ? [d.event.customer] : []));
      const notes = customers.flatMap((x) => (x.id && x.email ? [{ externalId: x.id, email: x.email }] : []));
      if (notes.length > 0) {
        const shopKeys = await keys.shop(db, shopId);
        const states = await addressNoteStates(db, { keys, shopKeys, shopId }, system, notes);
        if (states.includes('check')) throw new OneByOne('an address may have changed');
      }
      const consents: ConsentEventInput[] = [];
      for (const { event } of deliveries) {
        const consent =
          event.kind === 'consent'
            ? fromExternalConsent(system, event.consent, event.externalId)
            : event.kind === 'customer'
              ? customerConsent(system, event.customer)
              : null;
        if (consent) consents.push(consent);
      }
      if (consents.length > 0) await recordConsentBatch(c, consents, actor);
      if (customers.length > 0) await ingestCustomerAttributes(c, customers, system, actor);
      const orders = deliveries.flatMap((d) => (d.event.kind === 'order' ? [d.event.order] : []));
      if (orders.length > 0) await ingestOrders(c, orders, system, scheduleOnOrders(c));
    },
  };
}

function handleOne(
  keys: KeyRing,
  now: () => Date,
  extra: Partial<Record<InboundEvent['kind'], InboundHandler>>,
): InboundHandler {
  return async (event, meta, db) => {
    const c: ShopContext = { db, keys, shopId: meta.shopId, now };
    const actor: Actor = { type: 'webhook', id: meta.system };
    const own = extra[event.kind];
    if (own) return own(event, meta, db);
    switch (event.kind) {
      case 'consent':
        await recordConsent(c, fromExternalConsent(meta.system, event.consent, event.externalId), actor);
        return;
      case 'customer': {
        // The same customer id with another address: the person's address changed in that system.
        if (event.customer.id && event.customer.email)
          await noteCustomerAddress(
            c,
            meta.system,
            event.customer.id,
            event.customer.email,
            actor,
            event.customer.updatedAt,
          );
        const consent = customerConsent(meta.system, event.customer);
        if (consent) await recordConsent(c, consent, actor);
        // Names and location are kept only for customers with personalization granted (checked inside).
        await ingestCustomerAttributes(c, [event.customer], meta.system, actor);
        return;
      }
      case 'customer_email_changed':
        // A refusal (the new address is suppressed or another person's) is audited inside; nothing to retry.
        await changeEmail(c, event.oldEmail, event.newEmail, actor, meta.system).catch((error: unknown) => {
          // An address Tactful never held has nothing to follow.
          if (!isTactfulError(error, 'SUBJECT.NOT_FOUND')) throw error;
        });
        return;
      case 'erase_customer': {
        // customers/redact: the person and the orders named by the request. Compaction (VACUUM) cannot run
        // inside this transaction; `tactful privacy erase` and retention compact.
        if (event.email || event.externalId) {
          await eraseSubject(
            c,
            { email: event.email, ids: event.externalId ? { [meta.system]: event.externalId } : undefined },
            { reason: `${meta.system} ${meta.topic}`, requestId: event.requestId },
            actor,
          ).catch((error: unknown) => {
            if (!isTactfulError(error, 'SUBJECT.NOT_FOUND')) throw error;
          });
        }
        await deleteOrders(db, meta.shopId, event.orderIds);
        return;
      }
      case 'data_request': {
        // customers/data_request: the bundle is stored for the merchant, encrypted under the shop key.
        const named = { email: event.email, ids: event.externalId ? { [meta.system]: event.externalId } : undefined };
        const bundle =
          event.email || event.externalId
            ? await exportSubject(c, named, actor, { requestId: event.requestId }).catch((error: unknown) => {
                if (isTactfulError(error, 'SUBJECT.NOT_FOUND'))
                  return { subject: null, note: 'Tactful holds no data about this customer.' };
                throw error;
              })
            : { subject: null, note: 'The request named no email; Tactful keys its data by email.' };
        await storeDataRequest(db, keys, meta.shopId, event.requestId, bundle, now());
        return;
      }
      case 'erase_shop':
        await assertShopErasable(db, meta.shopId, {
          receivedAt: meta.receivedAt,
          platformShopId: event.platformShopId,
        });
        await eraseShop(db, meta.shopId);
        keys.forgetShop(meta.shopId);
        return;
      case 'uninstalled':
        // Sessions are removed by the platform's route; the data stays until the shop asks for redaction,
        // which from now on (and until an install) may be honoured.
        await recordUninstalled(db, meta.shopId, meta.receivedAt, event.platformShopId);
        return;
      case 'installed':
        await recordInstalled(db, meta.shopId);
        return;
      case 'order':
        await ingestOrders(c, [event.order], meta.system, scheduleOnOrders(c));
        return;
      case 'product':
        await upsertProducts(c, [event.product]);
        return;
      case 'product_deleted':
        await db
          .update(productsTable)
          .set({ available: false, status: 'archived', updatedAt: event.occurredAt })
          .where(and(eq(productsTable.shopId, meta.shopId), eq(productsTable.productId, event.productId)));
        return;
      case 'undeliverable': {
        // Not a withdrawal of consent; the address just cannot be mailed until a fresh opt-in.
        const shopKeys = await keys.shop(db, meta.shopId);
        const subject = await findSubjectByEmail(
          db,
          { keys, shopKeys, shopId: meta.shopId },
          event.email.trim().toLowerCase(),
        );
        if (subject) {
          await db
            .update(subjectsTable)
            .set({ undeliverableAt: event.occurredAt })
            .where(and(eq(subjectsTable.shopId, meta.shopId), eq(subjectsTable.subjectId, subject.subjectId)));
        }
        await withShopTransaction(c, actor, (s) =>
          appendAudit(s.tx, meta.shopId, s.head, {
            action: 'admin.action',
            actor,
            subjectId: subject?.subjectId ?? null,
            at: s.recordedAt,
            details: { event: event.kind, topic: meta.topic, deliveryId: meta.deliveryId },
          }),
        );
        return;
      }
      case 'campaign_sent':
        await withShopTransaction(c, actor, (s) =>
          appendAudit(s.tx, meta.shopId, s.head, {
            action: 'admin.action',
            actor,
            at: s.recordedAt,
            details: { event: event.kind, topic: meta.topic, deliveryId: meta.deliveryId },
          }),
        );
        return;
      default:
        // A kind this version does not know (stored by a newer instance): kept until one that knows it runs.
        event satisfies never;
        throw new TactfulError(
          'SYNC.NO_HANDLER',
          `No handler for "${(event as { kind: string }).kind}" deliveries yet: the delivery is kept and processed once one is registered.`,
          { retryable: true },
        );
    }
  };
}
