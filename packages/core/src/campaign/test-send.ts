/**
 * A test send: the email one customer would get now, composed exactly as a campaign composes it (their
 * recommendations, reasons, consent line and links), sent to the shop's own reply address through the
 * provider's test email (or handed to a mailbox, in the demo). It is marked as a test in its subject and its
 * first line, audited (`campaign.test_sent` on the customer), and never recorded as a send: no
 * `contact_sends` row (frequency caps), no `campaign_recipients` row (a later campaign still reaches them,
 * and attribution never counts it).
 */
import { appendAudit, type Actor } from '../audit/log.js';
import { TactfulError } from '../errors/tactful-error.js';
import { parseOrThrow } from '../errors/zod.js';
import type { CampaignContent, CampaignSender, EmailProvider } from '../ports.js';
import { emailsOfMany } from '../profile/subjects.js';
import { withShopTransaction } from '../shop/context.js';
import { readShopSettings } from '../shop/settings.js';
import { renderPreview } from './content.js';
import {
  type CampaignDeps,
  composer,
  consentExclusion,
  exclusionLabels,
  loadCandidates,
  runCampaignSchema,
} from './run.js';

export interface TestSendInput {
  /** The customer whose email is tested. */
  subjectId: string;
  /** Where the email's links point (the app's public URL). */
  publicUrl: string;
  /** The subject line the campaign would use (default "Picked for you"); "[TEST] " is put in front. */
  subject?: string | undefined;
  /** The campaign name the product links carry in their UTM parameters (default `test`). */
  campaign?: string | undefined;
}

/** A composed test email, as a mailbox (the demo inbox) receives it. */
export interface TestEmail {
  to: string;
  subject: string;
  sender: CampaignSender;
  content: CampaignContent;
  note: string;
  html: string;
  text: string;
}

export interface TestSendResult {
  to: string;
  subject: string;
  /** The provider's system, or `mailbox` when handed to the given mailbox. */
  via: string;
  productIds: string[];
}

export const TEST_NOTE =
  'TEST EMAIL: this is the email a customer of yours would receive now. It was sent only to you, and it does not ' +
  'count as an email to them (no frequency cap, no campaign statistics).';

export async function sendTestEmail(
  deps: Pick<CampaignDeps, 'ctx' | 'recommend'> & {
    provider?: EmailProvider | undefined;
    mailbox?: ((mail: TestEmail) => Promise<void>) | undefined;
    actor: Actor;
  },
  input: TestSendInput,
): Promise<TestSendResult> {
  const { ctx } = deps;
  const settings = await readShopSettings(ctx.db, ctx.shopId);
  if (!settings.sender)
    throw new TactfulError(
      'CAMPAIGN.NO_SENDER',
      'The shop has no sender identity: set the name, reply address and postal address in Settings. ' +
        'A test email goes to that reply address.',
    );
  const options = parseOrThrow(
    runCampaignSchema,
    {
      name: input.campaign ?? 'test',
      subject: input.subject ?? 'Picked for you',
      dryRun: true,
      publicUrl: input.publicUrl,
      only: [input.subjectId],
      previews: 1,
    },
    'CAMPAIGN.INVALID',
    'test email',
  );
  const [candidate] = await loadCandidates(ctx, [input.subjectId]);
  const email = candidate
    ? (await emailsOfMany(ctx.db, ctx.keys, ctx.shopId, [input.subjectId])).get(input.subjectId)
    : undefined;
  if (!candidate || !email)
    throw new TactfulError('SUBJECT.NOT_FOUND', 'No such customer in this shop (erased, or never known).');
  // Caps and quiet hours are left out on purpose: the test goes to the owner, not to the customer.
  const blocked = consentExclusion(candidate, settings.requireDoubleOptIn);
  const composed = blocked ?? (await (await composer(deps, options, settings))(input.subjectId, email));
  if (typeof composed === 'string')
    throw new TactfulError(
      'CAMPAIGN.NOT_ELIGIBLE',
      `This customer would get no email now (${exclusionLabels[composed]}), so there is nothing to test.`,
    );
  const to = settings.sender.email;
  const subject = `[TEST] ${options.subject}`;
  const rendered = renderPreview({ subject, sender: settings.sender, content: composed.content });
  const mail: TestEmail = {
    to,
    subject,
    sender: settings.sender,
    content: composed.content,
    note: TEST_NOTE,
    html: `<p class="email-test-note"><strong>${TEST_NOTE}</strong></p>\n${rendered.html}`,
    text: `${TEST_NOTE}\n\n${rendered.text}`,
  };
  let via: string;
  if (deps.mailbox) {
    await deps.mailbox(mail);
    via = 'mailbox';
  } else if (deps.provider?.sendTest) {
    await deps.provider.sendTest({ to, subject, sender: settings.sender, content: composed.content, note: TEST_NOTE });
    via = deps.provider.system;
  } else
    throw new TactfulError(
      'CAMPAIGN.NO_PROVIDER',
      deps.provider
        ? `The email provider ${deps.provider.system} cannot send test emails.`
        : 'No email provider is connected: connect Mailchimp to send a test email.',
    );
  await withShopTransaction(ctx, deps.actor, (s) =>
    appendAudit(s.tx, ctx.shopId, s.head, {
      action: 'campaign.test_sent',
      actor: deps.actor,
      subjectId: input.subjectId,
      at: s.recordedAt,
      details: { campaign: options.name, via, to: 'sender reply address', products: composed.productIds },
    }),
  );
  return { to, subject, via, productIds: composed.productIds };
}
