/** The shapes of a sync run over the ports: what it is given and what it reports. */
import type { CommercePlatform, EmailProvider } from '../ports.js';

/**
 * One sync of a shop with its connected systems: pulls what changed since the last successful sync through the
 * same inbound path as webhooks (so the consent fold, echo detection and sticky withdrawal apply unchanged),
 * then delivers the outbox to the systems synced. Any adapter of the ports is pulled the same way: customers and
 * orders from a `CommercePlatform`, audience members from an `EmailProvider`.
 *
 * The cursor of each system is the time its last successful pull *started*, kept in the shop's key-value
 * storage (`sync.cursor.<system>`). The next pull asks for changes since the cursor minus `SYNC_OVERLAP_MS`;
 * what is read twice is recognised (delivery ids, consent source ids, order versions) and changes nothing.
 */

/** Changes read twice are harmless; reading a little early covers clock skew between us and the vendor. */
export const SYNC_OVERLAP_MS = 5 * 60_000;

export interface SyncAdapters {
  /** Commerce platforms to pull customers (with their consent) and orders from. */
  platforms?: readonly CommercePlatform[] | undefined;
  /** Email providers to pull audience members (their consent) from. */
  providers?: readonly EmailProvider[] | undefined;
}

export interface SystemSyncReport {
  /** The adapter's `system` (e.g. `shopify`, `mailchimp`). */
  system: string;
  /** Which port it was pulled through. */
  role: 'platform' | 'provider';
  /** The cursor the pull started from (null on a first, full sync). */
  since: string | null;
  /** The new cursor, when the pull succeeded (the time it started). */
  cursor: string | null;
  /** Records read: customers (platforms) or members (providers). */
  people: number;
  /** Of those, deliveries not seen before (handed to the fold). */
  newFacts: number;
  /** Orders read (platforms), and how many were new or newer versions. */
  orders: number;
  ordersChanged: number;
  delivered: number;
  /** Deliveries the system refused for good (kept with their reason in the outbox). */
  refused: number;
  /** Deliveries that failed for now and wait for a later retry. */
  waiting: number;
  /** What went wrong, when something did. */
  error: string | null;
}

export interface SyncReport {
  shop: string;
  systems: SystemSyncReport[];
  /** Inbound deliveries processed by the fold (webhooks waiting included), refused (e.g. suppressed), failed. */
  inbox: { processed: number; refused: number; failed: number };
  ok: boolean;
}

/** Counts progress within one phase of a sync. */
export interface SyncProgress {
  tick(n?: number): void;
}

/** Runs one phase of a sync with a progress display (a CLI draws bars on a terminal). */
export type SyncProgressRunner = <T>(
  label: string,
  total: number | undefined,
  work: (progress: SyncProgress) => Promise<T>,
  options?: { unit?: string },
) => Promise<T>;

export interface SyncRunOptions {
  progress?: SyncProgressRunner | undefined;
  /** Page size of provider member pulls (default 1000). */
  pageSize?: number | undefined;
}
