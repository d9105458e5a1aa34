/**
 * Webhook deliveries: Mailchimp POSTs a form-encoded body (`type`, `fired_at`, `data[...]`) to every webhook
 * of the audience whose `events` include the change and whose `sources` include who made it (`system`
 * changes, such as a cleaned address or a sent campaign, go to every webhook of that event). A fault plan can
 * send a delivery twice or hold it back until the next one has gone out.
 */
import { mailchimpWebhookFaultKinds, type MailchimpFaultPlan } from './fault-plan.js';
import type { ChangeSource, MailchimpSandboxOptions, SandboxAudience, WebhookDelivery, WebhookEvent } from './types.js';

type Fault = NonNullable<WebhookDelivery['fault']>;

export type SendWebhook = NonNullable<MailchimpSandboxOptions['deliver']>;

export interface WebhookDeliveries {
  /** Every delivery made so far, in the order sent. */
  readonly deliveries: WebhookDelivery[];
  /** Sends `type` to the audience's webhooks that take it from `source`. */
  fire(
    audience: SandboxAudience,
    type: WebhookEvent,
    source: ChangeSource | 'system',
    data: Record<string, unknown>,
    at: Date,
  ): void;
  /** Mailchimp's check before it saves a webhook: a GET that must answer 200 (a failed request answers 0). */
  verify(url: string): Promise<number>;
  /** Sends what a reorder fault holds back, then waits until every delivery has been answered or failed. */
  flush(): Promise<void>;
}

const defaultSend: SendWebhook = async (url, init) => {
  const response = await fetch(url, init);
  return { status: response.status };
};

/** Mailchimp's `fired_at`: `YYYY-MM-DD HH:MM:SS` in UTC. */
function webhookTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

function formEncode(value: unknown, prefix: string, out: string[]): void {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) formEncode(v, `${prefix}[${k}]`, out);
  } else if (value !== undefined) {
    out.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(String(value)).replace(/%20/g, '+')}`);
  }
}

export function createWebhookDeliveries(
  send: SendWebhook = defaultSend,
  plan: () => MailchimpFaultPlan | null,
): WebhookDeliveries {
  const deliveries: WebhookDelivery[] = [];
  const pending = new Set<Promise<void>>();
  /** Deliveries a reorder fault holds back until the next delivery has gone out. */
  const held: Array<() => void> = [];

  function post(url: string, type: WebhookEvent, source: ChangeSource | 'system', body: string, fault?: Fault) {
    const record: WebhookDelivery = { url, type, source, body, status: null, ...(fault ? { fault } : {}) };
    deliveries.push(record);
    const promise = send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'MailChimp' },
      body,
    })
      .then((r) => {
        record.status = r.status;
      })
      .catch((error: unknown) => {
        record.error = error instanceof Error ? error.message : String(error);
      })
      .finally(() => pending.delete(promise));
    pending.add(promise);
    return promise;
  }

  return {
    deliveries,
    fire(audience, type, source, data, at) {
      for (const hook of audience.webhooks) {
        if (!hook.events[type]) continue;
        if (source !== 'system' && !hook.sources[source]) continue;
        const parts = [`type=${type}`, `fired_at=${encodeURIComponent(webhookTime(at)).replace(/%20/g, '+')}`];
        formEncode(data, 'data', parts);
        const body = parts.join('&');
        const fault = plan()?.draw(mailchimpWebhookFaultKinds) ?? null;
        if (fault === 'webhook_reorder') {
          // Held back: it goes out after the next delivery, so the receiver sees the two in swapped order.
          held.push(() => void post(hook.url, type, source, body, fault));
          continue;
        }
        const first = post(hook.url, type, source, body);
        // The copy is sent once the first is answered (registered before any flush, so a flush sees it).
        if (fault === 'webhook_duplicate') void first.then(() => post(hook.url, type, source, body, fault));
        while (held.length > 0) held.shift()?.();
      }
    },
    async verify(url) {
      return (await send(url, { method: 'GET' }).catch(() => ({ status: 0 }))).status;
    },
    async flush() {
      while (held.length > 0) held.shift()?.();
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
