import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consentMethods, consentStates, optInLevels, type ConsentMethod, type ConsentState } from '../ports.js';
import { foldConsent, type FoldableEvent } from './fold.js';

const t = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));
let n = 0;
function ev(
  state: ConsentState,
  minute: number,
  method: ConsentMethod = 'form',
  extra: Partial<FoldableEvent> = {},
): FoldableEvent {
  n += 1;
  return {
    id: `id-${n}`,
    state,
    level: 'single',
    occurredAt: t(minute),
    echo: false,
    source: { system: 'test', eventId: `e-${n}`, method },
    ...extra,
  };
}

const arbitraryEvent = fc.record({
  id: fc.uuid(),
  state: fc.constantFrom(...consentStates),
  level: fc.constantFrom(...optInLevels),
  // A small range of minutes so equal times (ties) are frequent.
  occurredAt: fc.integer({ min: 0, max: 6 }).map(t),
  echo: fc.boolean(),
  source: fc.record({
    system: fc.constantFrom('shopify', 'mailchimp', 'tactful'),
    eventId: fc.uuid(),
    method: fc.constantFrom(...consentMethods),
  }),
});

describe('the fold', () => {
  it('order of arrival - every permutation of the same events folds to the same state', () => {
    fc.assert(
      fc.property(
        fc
          .array(arbitraryEvent, { minLength: 1, maxLength: 9 })
          .chain((events) =>
            fc.tuple(
              fc.constant(events),
              fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
            ),
          ),
        ([events, permuted]) => {
          expect(foldConsent(permuted)).toEqual(foldConsent(events));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('ties - on equal occurredAt a withdrawal beats a grant, whatever the arrival order', () => {
    const grant = ev('granted', 5);
    const withdrawal = ev('withdrawn', 5);
    expect(foldConsent([grant, withdrawal]).state).toBe('withdrawn');
    expect(foldConsent([withdrawal, grant]).state).toBe('withdrawn');
  });

  it('ties - a confirmation at the same instant as its request confirms (and still loses to a withdrawal)', () => {
    const request = ev('pending', 5, 'form');
    const confirmation = ev('granted', 5, 'double_opt_in_confirmation');
    expect(foldConsent([confirmation, request]).state).toBe('granted');
    expect(foldConsent([request, confirmation, ev('withdrawn', 5, 'admin')]).state).toBe('withdrawn');
  });

  it('withdrawal is sticky - a later grant from a sync, an import, the checkout, an admin or the API does not grant again', () => {
    for (const method of ['sync', 'import', 'checkout', 'admin', 'api'] as const) {
      const state = foldConsent([
        ev('granted', 0),
        ev('withdrawn', 1),
        ev('granted', 2, method),
        ev('pending', 3, method),
      ]);
      expect(state.state, method).toBe('withdrawn');
    }
  });

  it('withdrawal is sticky - first-party evidence of a fresh opt-in (form, double opt-in confirmation) grants again', () => {
    expect(foldConsent([ev('withdrawn', 1), ev('granted', 2, 'form')]).state).toBe('granted');
    const confirmed = foldConsent([
      ev('withdrawn', 1),
      ev('pending', 2, 'form'),
      ev('granted', 3, 'double_opt_in_confirmation'),
    ]);
    expect(confirmed).toMatchObject({ state: 'granted', level: 'confirmed', since: t(3) });
  });

  it('withdrawal is sticky - "none" from another system never clears a withdrawal', () => {
    expect(foldConsent([ev('withdrawn', 1), ev('none', 2, 'form')]).state).toBe('withdrawn');
  });

  it('echoes - an echo changes nothing, even a grant after a withdrawal', () => {
    const state = foldConsent([ev('granted', 0), ev('withdrawn', 1), ev('granted', 2, 'form', { echo: true })]);
    expect(state.state).toBe('withdrawn');
    expect(foldConsent([ev('granted', 0, 'sync', { echo: true })]).state).toBe('none');
  });

  it('the deciding event - since and decidedBy name the event that set the state', () => {
    const first = ev('granted', 1);
    const repeat = ev('granted', 4);
    expect(foldConsent([repeat, first])).toMatchObject({ state: 'granted', since: t(1), decidedBy: first.id });
  });

  it('levels - a later single grant does not downgrade a confirmed one', () => {
    const state = foldConsent([ev('granted', 1, 'double_opt_in_confirmation'), ev('granted', 2, 'checkout')]);
    expect(state.level).toBe('confirmed');
  });

  it('pending never takes a grant away - a provider awaiting its own confirmation (Mailchimp pending) or a new request', () => {
    const granted = ev('granted', 1, 'checkout');
    const mailchimpPending = ev('pending', 2, 'sync', {
      source: { system: 'mailchimp', eventId: 'mc-1', method: 'sync' },
    });
    const formRequest = ev('pending', 3, 'form');
    expect(foldConsent([granted, mailchimpPending, formRequest])).toMatchObject({
      state: 'granted',
      level: 'single',
      decidedBy: granted.id,
    });
    // The confirmation still raises the level; a withdrawal still wins.
    expect(foldConsent([granted, mailchimpPending, ev('granted', 4, 'double_opt_in_confirmation')])).toMatchObject({
      state: 'granted',
      level: 'confirmed',
    });
    expect(foldConsent([granted, mailchimpPending, ev('withdrawn', 4, 'sync')]).state).toBe('withdrawn');
    // Before any grant, pending is pending.
    expect(foldConsent([ev('pending', 1, 'form')]).state).toBe('pending');
  });

  it('no events - the state is none', () => {
    expect(foldConsent([])).toEqual({ state: 'none', level: 'unknown', since: null, decidedBy: null });
  });
});
