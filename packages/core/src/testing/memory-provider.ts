import { TactfulError } from '../errors/tactful-error.js';
import type { CampaignRequest, CampaignResult, EmailProvider, JourneyTriggerRequest } from '../ports.js';

/**
 * An in-memory email provider for campaign tests and benchmarks: it keeps what a real one keeps — members
 * unsubscribed at the provider, and per idempotency key the one send it made — and can fail once before or
 * after acting (a timeout before the request reached it, or after it sent but before we heard back). It runs
 * journeys too: a trigger sends one person's email once per key, and never to an address unsubscribed here.
 */
/** The provider's own sender for journey emails (a journey's sender is set up in the provider). */
const journeySender = { name: 'Journey', email: 'journey@memory.invalid', postalAddress: '(provider journey)' };

export function createMemoryEmailProvider(system = 'memory') {
  const deliveries: Array<{ key: string; email: string; request: CampaignRequest }> = [];
  const byKey = new Map<string, CampaignResult>();
  const journeyKeys = new Set<string>();
  const journeys: Array<{ key: string; email: string; request: JourneyTriggerRequest }> = [];
  const unsubscribed = new Set<string>();
  const faults: Array<'before' | 'after'> = [];
  let calls = 0;
  const provider: EmailProvider = {
    system,
    capabilities: { campaigns: true, reports: true, webhooks: false, maxBatch: 500, journeys: true },
    async pushMembers(changes) {
      return changes.map((c) => ({ email: c.email, ok: true as const }));
    },
    async listMembers() {
      return { items: [] };
    },
    async getMember() {
      return null;
    },
    async sendCampaign(request) {
      calls += 1;
      const fault = faults.shift();
      if (fault === 'before') throw new TactfulError('MEMORY.TIMEOUT', 'timed out before sending', { retryable: true });
      let result = byKey.get(request.key);
      if (!result) {
        const sent = request.recipients.filter((r) => !unsubscribed.has(r.email)).map((r) => r.email);
        for (const email of sent) deliveries.push({ key: request.key, email, request });
        const failed = request.recipients
          .filter((r) => unsubscribed.has(r.email))
          .map((r) => ({ email: r.email, code: 'MEMORY.UNSUBSCRIBED', message: 'unsubscribed here' }));
        result = { campaignId: `c-${byKey.size + 1}`, sent, failed };
        byKey.set(request.key, result);
      }
      if (fault === 'after') throw new TactfulError('MEMORY.TIMEOUT', 'timed out after sending', { retryable: true });
      return result;
    },
    async triggerJourney(request) {
      calls += 1;
      const fault = faults.shift();
      if (fault === 'before')
        throw new TactfulError('MEMORY.TIMEOUT', 'timed out before triggering', { retryable: true });
      const email = request.message.email;
      let status: 'triggered' | 'already' = 'already';
      if (!journeyKeys.has(request.key)) {
        if (unsubscribed.has(email))
          throw new TactfulError('MEMORY.UNSUBSCRIBED', 'The member is not subscribed here: the journey refuses them.');
        journeyKeys.add(request.key);
        journeys.push({ key: request.key, email, request });
        deliveries.push({
          key: request.key,
          email,
          request: {
            key: request.key,
            subject: `journey ${request.journeyId}/${request.stepId}`,
            sender: journeySender,
            recipients: [request.message],
          },
        });
        status = 'triggered';
      }
      if (fault === 'after')
        throw new TactfulError('MEMORY.TIMEOUT', 'timed out after triggering', { retryable: true });
      return { status };
    },
    async campaignReport(campaignId) {
      const sends = deliveries.filter((d) => byKey.get(d.key)?.campaignId === campaignId).length;
      return { campaignId, sends, opens: Math.min(sends, 1), clicks: 0, unsubscribes: 0 };
    },
  };
  return {
    provider,
    /** Every journey email triggered, in order (also in `deliveries`). */
    journeys,
    /** Every email sent, in order. */
    deliveries,
    /** Addresses unsubscribed at the provider: it refuses to send to them. */
    unsubscribed,
    /** Faults for the next sendCampaign or triggerJourney calls, in order. */
    faults,
    calls: () => calls,
    sendsTo: (email: string) => deliveries.filter((d) => d.email === email).length,
  };
}
