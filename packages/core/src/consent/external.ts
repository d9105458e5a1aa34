import type { ExternalConsent } from '../ports.js';
import type { ConsentEventInput } from './event.js';

/** A consent fact as another system reports it, as the event Tactful records (with that system's id for the person). */
export function fromExternalConsent(
  system: string,
  consent: ExternalConsent,
  externalId?: string | undefined,
): ConsentEventInput {
  return {
    subject: { email: consent.email, externalIds: externalId ? { [system]: externalId } : undefined },
    purpose: consent.purpose,
    state: consent.state,
    level: consent.level,
    occurredAt: consent.occurredAt,
    source: { system, eventId: consent.sourceEventId, method: consent.method },
  };
}
