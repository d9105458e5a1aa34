import { PREFERENCES_LINK_TTL_HOURS, type Purpose } from '@tactful/core';
import { absoluteUrl, type AppContext } from '../context.js';
import { signPreferencesToken } from '../signed-links.js';

// The emails the public pages send: the text of each, its links and its headers.

/** The preference-centre link for a subject, signed for this shop. */
export async function preferencesLink(ctx: AppContext, subjectId: string): Promise<string> {
  return absoluteUrl(ctx, '/preferences', { token: await signPreferencesToken(ctx.tactful, subjectId) });
}

/** A message confirming the subscription, with the one-click unsubscribe headers of RFC 8058. */
export async function sendWelcome(
  ctx: AppContext,
  email: string,
  subjectId: string,
  purposes: readonly string[],
): Promise<void> {
  const links: Record<string, string> = { preferences: await preferencesLink(ctx, subjectId) };
  const headers: Record<string, string> = {};
  if (purposes.includes('email_marketing')) {
    links.unsubscribe = absoluteUrl(ctx, '/unsubscribe', {
      token: await ctx.tactful.consent.unsubscribeToken(email, 'email_marketing'),
    });
    headers['List-Unsubscribe'] = `<${links.unsubscribe}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  await ctx.mailer.send({
    to: email,
    subject: 'Your subscription is confirmed',
    text: `Thank you: your choices are saved.\n\nSee what we hold about you and change your choices: ${links.preferences}\n${links.unsubscribe ? `Unsubscribe from our emails with one click: ${links.unsubscribe}\n` : ''}`,
    headers,
    links,
  });
}

/** The double opt-in request: nothing is granted until the person opens the link and confirms. */
export async function sendConfirmation(
  ctx: AppContext,
  email: string,
  token: string,
  purposes: readonly string[],
  titles: Map<string, Purpose>,
): Promise<void> {
  const confirm = absoluteUrl(ctx, '/confirm', { token });
  await ctx.mailer.send({
    to: email,
    subject: 'Please confirm your subscription',
    text: `Someone (we hope you) asked to subscribe ${email} to: ${purposes.map((p) => titles.get(p)?.title ?? p).join(', ')}.\n\nConfirm here: ${confirm}\n\nIf it was not you, ignore this message: nothing happens without your confirmation.`,
    headers: {},
    links: { confirm },
  });
}

/** Someone subscribed an address again to what it already receives: tell its owner, change nothing. */
export async function sendAlreadySubscribed(ctx: AppContext, email: string, subjectId: string): Promise<void> {
  const link = await preferencesLink(ctx, subjectId);
  await ctx.mailer.send({
    to: email,
    subject: 'You are already subscribed',
    text: `Someone (we hope you) asked to subscribe ${email} again: you already receive what was asked for, so nothing changed.\n\nSee or change your choices: ${link}`,
    headers: {},
    links: { preferences: link },
  });
}

/**
 * A preference link asked for with an email address (`asked`), or instead of an expired or unsubscribe link
 * (`renewed`: the text says how long it works, since the person just met a link that stopped working).
 */
export async function sendPreferenceLink(
  ctx: AppContext,
  email: string,
  subjectId: string,
  kind: 'asked' | 'renewed',
): Promise<void> {
  const link = await preferencesLink(ctx, subjectId);
  await ctx.mailer.send({
    to: email,
    subject: 'Your preference link',
    text:
      kind === 'renewed'
        ? 'See what we hold about you and change your choices ' +
          `(this link works for ${PREFERENCES_LINK_TTL_HOURS} hours): ${link}`
        : `See what we hold about you and change your choices: ${link}`,
    headers: {},
    links: { preferences: link },
  });
}
