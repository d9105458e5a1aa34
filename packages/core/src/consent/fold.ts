import { firstPartyOptInMethods } from './event.js';
import type { ConsentMethod, ConsentState, OptInLevel } from '../ports.js';

/** The minimum an event needs for the fold. */
export interface FoldableEvent {
  id: string;
  state: ConsentState;
  level: OptInLevel;
  occurredAt: Date;
  echo: boolean;
  source: { system: string; eventId: string; method: ConsentMethod };
}

export interface FoldedConsent {
  state: ConsentState;
  level: OptInLevel;
  /** When the current state began (the deciding event's `occurredAt`); null while `none` from the start. */
  since: Date | null;
  /** The event that decided the current state, or null when no event did. */
  decidedBy: string | null;
}

export const initialConsent: FoldedConsent = { state: 'none', level: 'unknown', since: null, decidedBy: null };

/**
 * On equal `occurredAt`, later in this order wins: a withdrawal beats everything; a confirmation beats the
 * pending request it confirms; any other grant loses to all.
 */
const tieRank: Record<ConsentState, number> = { granted: 0, pending: 1, none: 2, withdrawn: 3 };
function rankOf(event: FoldableEvent): number {
  return event.state === 'granted' && event.source.method === 'double_opt_in_confirmation' ? 1.5 : tieRank[event.state];
}

/**
 * A total order on events: time, then the tie rank, then the source's own ids. Every arrival order of the
 * same events sorts the same way, so the fold never depends on the order events arrived in.
 */
export function compareEvents(a: FoldableEvent, b: FoldableEvent): number {
  const dt = a.occurredAt.getTime() - b.occurredAt.getTime();
  if (dt !== 0) return dt;
  const dr = rankOf(a) - rankOf(b);
  if (dr !== 0) return dr;
  if (a.source.system !== b.source.system) return a.source.system < b.source.system ? -1 : 1;
  if (a.source.eventId !== b.source.eventId) return a.source.eventId < b.source.eventId ? -1 : 1;
  return 0;
}

export function isFirstPartyOptIn(event: Pick<FoldableEvent, 'source'>): boolean {
  return firstPartyOptInMethods.includes(event.source.method);
}

/**
 * Applies one event (already in order) to a state. The rules (docs/architecture.md, "Consent rules"):
 * - an echo of a change Tactful pushed changes nothing;
 * - after a withdrawal only first-party evidence of a fresh opt-in (form, double opt-in confirmation)
 *   grants or makes pending again; `none` never clears a withdrawal;
 * - a confirmation grants at level `confirmed`;
 * - `pending` (a confirmation awaited: an opt-in request, a provider's own double opt-in) never takes a
 *   grant away: the person already agreed, and the confirmation can only raise the level.
 */
export function step(current: FoldedConsent, event: FoldableEvent): FoldedConsent {
  if (event.echo) return current;
  if (current.state === 'granted' && event.state === 'pending') return current;
  if (current.state === 'withdrawn' && event.state !== 'withdrawn') {
    if (event.state === 'none' || !isFirstPartyOptIn(event)) return current;
  }
  const level: OptInLevel =
    event.source.method === 'double_opt_in_confirmation' && event.state === 'granted' ? 'confirmed' : event.level;
  if (current.state === event.state && current.level === level) return current;
  if (current.state === event.state && event.state === 'granted' && rankLevel(level) < rankLevel(current.level)) {
    // A later single or unknown grant does not downgrade a confirmed one.
    return current;
  }
  return { state: event.state, level, since: event.occurredAt, decidedBy: event.id };
}

function rankLevel(level: OptInLevel): number {
  return level === 'confirmed' ? 2 : level === 'single' ? 1 : 0;
}

/** Folds the events of one subject and purpose into the current state. */
export function foldConsent(events: readonly FoldableEvent[]): FoldedConsent {
  return [...events].sort(compareEvents).reduce(step, initialConsent);
}
