import { consentMethodLabel, type Tactful } from '@tactful/core';
import { table } from '../cli/parse.js';
import type { CliContext } from '../cli/program.js';

/**
 * The main job while the app and its sandboxes are being built: a walk through the consent core on the
 * embedded database, told as a customer's story, with every step checked against the ledger.
 */
export async function consentStory(ctx: CliContext, tactful: Tactful): Promise<void> {
  const say = (text: string) => ctx.line(text);
  const email = 'dana@example.com';
  const show = async () => {
    const view = await tactful.consent.show(email);
    say(
      table(
        ['purpose', 'state', 'level', 'since', 'source', 'clause', 'version'],
        view.purposes.map((p) => [
          p.purpose,
          p.state,
          p.level,
          p.since?.toISOString() ?? '',
          p.source ? `${p.source.system}/${consentMethodLabel(p.source)}` : '',
          p.clause,
          p.version,
        ]),
      ),
    );
  };
  say('\n1. Dana ticks both boxes on the subscribe form: pending until she confirms (double opt-in).');
  const ticket = await tactful.consent.requestOptIn({
    email,
    purposes: ['email_marketing', 'personalization'],
    evidence: { ip: '203.0.113.50', userAgent: 'Mozilla/5.0 (demo)', formId: 'footer-signup', policyVersion: '1' },
  });
  await show();

  say(
    `\n2. She clicks the confirmation link (token id ${ticket.tokenId}, valid until ${ticket.expiresAt.toISOString()}).`,
  );
  await tactful.consent.confirmOptIn(ticket.token, { ip: '203.0.113.50', userAgent: 'Mozilla/5.0 (demo)' });
  await show();
  const reuse = await tactful.consent.confirmOptIn(ticket.token).then(
    () => 'accepted (wrong!)',
    (e: { code?: string }) => `refused with ${e.code}`,
  );
  say(`   Clicking the same link again is ${reuse}.`);

  say('\n3. Later she unsubscribes with one click in an email.');
  const unsub = await tactful.consent.unsubscribeToken(email, 'email_marketing');
  await tactful.consent.unsubscribe(unsub, { ip: '203.0.113.51' });
  await show();

  say(
    '\n4. Mailchimp reports her as unsubscribed too: Tactful pushed that itself, so it is an echo and changes nothing.',
  );
  const echo = await tactful.consent.record({
    subject: { email },
    purpose: 'email_marketing',
    state: 'withdrawn',
    level: 'unknown',
    occurredAt: new Date(),
    source: { system: 'mailchimp', eventId: `mc-${Date.now()}`, method: 'sync' },
  });
  say(`   recorded as echo: ${echo.echo}, state changed: ${echo.changed}`);

  say(
    '\n5. A nightly import from another system says "subscribed": withdrawal is sticky, only Dana herself can opt in again.',
  );
  const sticky = await tactful.consent.record({
    subject: { email },
    purpose: 'email_marketing',
    state: 'granted',
    level: 'single',
    occurredAt: new Date(),
    source: { system: 'shopify', eventId: `imp-${Date.now()}`, method: 'import' },
  });
  say(`   state after the import: ${sticky.state.state}`);
  await show();

  const counts = await tactful.outbox.counts();
  say(
    `\nOutbox: ${counts.pending} changes waiting for Shopify and Mailchimp (delivered by the dispatcher once they are connected).`,
  );
  const verified = await tactful.audit.verify();
  say(
    `Ledger chain: ${verified.ledger.ok ? 'intact' : 'BROKEN'} (${verified.ledger.rows} events); audit log: ${verified.audit.ok ? 'intact' : 'BROKEN'} (${verified.audit.rows} entries).`,
  );
}
