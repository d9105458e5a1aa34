import { isTactfulError } from '../errors/tactful-error.js';
import type { CommercePlatform, EmailProvider, InboundEvent, MemberRecord, OrderRecord } from '../ports.js';
import type { Tactful } from '../tactful.js';
import type {
  SyncAdapters,
  SyncProgressRunner,
  SyncReport,
  SyncRunOptions,
  SystemSyncReport,
} from '../sync/run-types.js';
import { SYNC_OVERLAP_MS } from '../sync/run-types.js';
const cursorKey = (system: string) => `sync.cursor.${system}`;
const noProgress: SyncProgressRunner = (_label, _total, work) => work({ tick() {} });

function describeError(error: unknown): string {
  if (isTactfulError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** What one audience member says, as an inbound event: `cleaned` is undeliverable, not a withdrawal. */
export function memberEvent(member: MemberRecord): InboundEvent {
  if (member.status === 'cleaned')
    return { kind: 'undeliverable', email: member.email, reason: 'cleaned', occurredAt: member.updatedAt };
  return { kind: 'consent', consent: member.consent };
}

export async function readCursor(tactful: Pick<Tactful, 'storage'>, system: string): Promise<Date | null> {
  const value = await tactful.storage.shop.get(cursorKey(system));
  if (value === null) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}

async function pullPlatform(
  tactful: Tactful,
  platform: CommercePlatform,
  report: SystemSyncReport,
  updatedSince: Date | undefined,
  progress: SyncProgressRunner,
): Promise<void> {
  const receivedAt = tactful.now();
  // Customers (with their email marketing consent) go through the inbox, exactly like customer webhooks.
  await progress(
    `${platform.system} customers`,
    undefined,
    async (bar) => {
      let cursor: string | undefined;
      do {
        const page = await platform.listCustomers({ cursor, updatedSince });
        for (const customer of page.items) {
          report.people += 1;
          const outcome = await tactful.inbox.receive(
            tactful.shopId,
            { kind: 'customer', customer },
            {
              system: platform.system,
              deliveryId: `sync:customer:${customer.id}:${customer.updatedAt.toISOString()}`,
              receivedAt,
              topic: 'sync/customers',
            },
          );
          if (outcome === 'accepted') report.newFacts += 1;
        }
        bar.tick(page.items.length);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    },
    { unit: 'customers' },
  );
  // Orders are ingested in batches (idempotent: a version not newer than the stored one changes nothing).
  await progress(
    `${platform.system} orders`,
    undefined,
    async (bar) => {
      let batch: OrderRecord[] = [];
      const flush = async () => {
        const r = await tactful.orders.ingest(batch, platform.system);
        report.ordersChanged += r.added + r.updated;
        bar.tick(batch.length);
        batch = [];
      };
      const add = async (order: OrderRecord) => {
        report.orders += 1;
        batch.push(order);
        if (batch.length >= 1000) await flush();
      };
      if (updatedSince === undefined && platform.capabilities.bulkOrders && platform.streamAllOrders) {
        // A first sync reads the whole history in one stream where the platform offers one.
        for await (const order of platform.streamAllOrders()) await add(order);
      } else {
        let cursor: string | undefined;
        do {
          const page = await platform.listOrders({ cursor, updatedSince });
          for (const order of page.items) await add(order);
          cursor = page.nextCursor;
        } while (cursor !== undefined);
      }
      if (batch.length > 0) await flush();
    },
    { unit: 'orders' },
  );
}

async function pullProvider(
  tactful: Tactful,
  provider: EmailProvider,
  report: SystemSyncReport,
  changedSince: Date | undefined,
  progress: SyncProgressRunner,
  pageSize: number,
): Promise<void> {
  // Members go through the inbox as consent facts from the provider: the fold never lets them grant again after
  // a withdrawal, and Tactful's own earlier pushes come back as echoes.
  await progress(
    `${provider.system} members`,
    undefined,
    async (bar) => {
      let cursor: string | undefined;
      do {
        const page = await provider.listMembers({ cursor, limit: pageSize, changedSince });
        for (const member of page.items) {
          report.people += 1;
          const outcome = await tactful.inbox.receive(tactful.shopId, memberEvent(member), {
            system: provider.system,
            deliveryId: `reconcile:${member.consent.sourceEventId}`,
            receivedAt: tactful.now(),
            topic: `reconcile/${member.status}`,
          });
          if (outcome === 'accepted') report.newFacts += 1;
        }
        bar.tick(page.items.length);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    },
    { unit: 'members' },
  );
}

/**
 * Pulls from each adapter given, processes the inbox, delivers the outbox to those systems, and moves the
 * cursor of each system whose pull succeeded. Never throws for a vendor failure: it is in the report.
 */
export async function runSync(
  tactful: Tactful,
  adapters: SyncAdapters,
  options: SyncRunOptions = {},
): Promise<SyncReport> {
  const progress = options.progress ?? noProgress;
  const pulls: Array<{ role: 'platform'; adapter: CommercePlatform } | { role: 'provider'; adapter: EmailProvider }> = [
    ...(adapters.platforms ?? []).map((adapter) => ({ role: 'platform' as const, adapter })),
    ...(adapters.providers ?? []).map((adapter) => ({ role: 'provider' as const, adapter })),
  ];
  // A system synced is a connected system: from now on every change is queued for it in the outbox.
  const settings = await tactful.settings.get();
  const missing = [...new Set(pulls.map((p) => p.adapter.system))].filter(
    (system) => !settings.connectedSystems.includes(system),
  );
  if (missing.length > 0)
    await tactful.settings.update(
      { connectedSystems: [...settings.connectedSystems, ...missing] },
      { type: 'system', id: 'sync' },
    );
  const reports: SystemSyncReport[] = [];
  for (const pull of pulls) {
    const system = pull.adapter.system;
    const since = await readCursor(tactful, system);
    const report: SystemSyncReport = {
      system,
      role: pull.role,
      since: since?.toISOString() ?? null,
      cursor: null,
      people: 0,
      newFacts: 0,
      orders: 0,
      ordersChanged: 0,
      delivered: 0,
      refused: 0,
      waiting: 0,
      error: null,
    };
    reports.push(report);
    const startedAt = tactful.now();
    const from = since ? new Date(since.getTime() - SYNC_OVERLAP_MS) : undefined;
    try {
      if (pull.role === 'platform') await pullPlatform(tactful, pull.adapter, report, from, progress);
      else await pullProvider(tactful, pull.adapter, report, from, progress, options.pageSize ?? 1000);
      report.cursor = startedAt.toISOString();
    } catch (error) {
      report.error = describeError(error);
    }
  }

  const inbox = await progress('processing changes', undefined, () => tactful.processInbox());

  for (const [i, report] of reports.entries()) {
    const pull = pulls[i]!;
    const targets = tactful.targets(pull.role === 'platform' ? { platform: pull.adapter } : { provider: pull.adapter });
    const target = targets[report.system];
    if (target) {
      try {
        const delivered = await progress(`delivering to ${report.system}`, undefined, () =>
          tactful.outbox.dispatcher({ targets: { [report.system]: target } }).drain(),
        );
        report.delivered = delivered.delivered;
        report.refused = delivered.deadLettered;
        report.waiting = delivered.retried;
      } catch (error) {
        report.error = [report.error, describeError(error)].filter(Boolean).join('; ');
      }
    }
    // The cursor moves when the pull succeeded, whatever the delivery did (the outbox keeps what is still to
    // deliver); a failed pull is read again from the old cursor next time.
    if (report.cursor !== null) await tactful.storage.shop.set(cursorKey(report.system), report.cursor);
  }
  const ok = reports.every((r) => r.error === null && r.waiting === 0) && inbox.failed === 0;
  return { shop: tactful.shopId, systems: reports, inbox, ok };
}
