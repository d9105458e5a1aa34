import nodemailer from 'nodemailer';
import { TactfulError } from '@tactful/core';

/**
 * The emails the app itself sends: the double opt-in confirmation, the preference-centre link and the
 * welcome message. Marketing campaigns go through the email provider (Mailchimp), not through here.
 */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058). */
  headers: Record<string, string>;
  /** The links of the message by role, so a demo inbox (and a test) can follow them. */
  links: Record<string, string>;
  /** The HTML body, when the message has one (the campaign emails the demo keeps in its inbox). */
  html?: string | undefined;
  /** Who it is from, when not the app itself (a campaign's sender). */
  from?: string | undefined;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}

export interface SentMail extends OutgoingMail {
  id: number;
  at: Date;
}

/** Keeps mail in memory, newest first, for the demo inbox page (`/demo/mail`) and tests. Bounded. */
export function memoryMailbox(
  limit = 200,
): Mailer & { readonly messages: readonly SentMail[]; latestTo(email: string): SentMail | undefined } {
  const messages: SentMail[] = [];
  let next = 1;
  return {
    messages,
    async send(mail) {
      messages.unshift({ ...mail, id: next++, at: new Date() });
      if (messages.length > limit) messages.length = limit;
    },
    latestTo(email) {
      return messages.find((m) => m.to === email.trim().toLowerCase());
    },
  };
}

export interface SmtpMailerOptions {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://user:pass@host:465 (TLS from the start). */
  url: string;
  /** The From address of the app's own emails: `shop@example.com` or `Shop name <shop@example.com>`. */
  from: string;
  /** Per-message time limits (milliseconds); default 30 s. */
  timeoutMs?: number;
}

/**
 * Sends through an SMTP server with nodemailer, one connection per message (the app's own emails are few,
 * and nothing stays open to keep a stopping process alive). A failure is a
 * MAIL.SEND_FAILED TactfulError, retryable when the server or network said so (4xx, timeouts, resets).
 */
export function smtpMailer(options: SmtpMailerOptions): Mailer & { close(): void } {
  const timeout = options.timeoutMs ?? 30_000;
  const url = new URL(options.url);
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
    secure: url.protocol === 'smtps:',
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    async send(mail) {
      try {
        await transport.sendMail({
          from: options.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          headers: mail.headers,
        });
      } catch (cause) {
        const e = cause as { responseCode?: number; code?: string; message?: string };
        const retryable =
          (e.responseCode !== undefined && e.responseCode >= 400 && e.responseCode < 500) ||
          ['ETIMEDOUT', 'ECONNECTION', 'ESOCKET', 'ECONNRESET', 'ECONNREFUSED'].includes(e.code ?? '');
        throw new TactfulError(
          'MAIL.SEND_FAILED',
          `The mail server did not accept the message${e.responseCode ? ` (${e.responseCode})` : ''}: check TACTFUL_SMTP_URL and the server's logs.`,
          { cause, retryable },
        );
      }
    },
    close() {
      transport.close();
    },
  };
}
