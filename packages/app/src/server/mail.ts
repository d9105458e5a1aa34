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
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}

export interface SentMail extends OutgoingMail {
  id: number;
  at: Date;
}

/** Keeps mail in memory, newest first, for the demo inbox page (`/demo/mail`) and tests. Bounded. */
export function memoryMailbox(limit = 200): Mailer & { readonly messages: readonly SentMail[]; latestTo(email: string): SentMail | undefined } {
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
