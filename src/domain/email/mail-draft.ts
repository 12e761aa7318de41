import type { MailKind, OutgoingMail } from '../mail/outgoing-mail.ts';

/** The messages Gatehouse sends about an account (API.md 8); each names its template. */
export const MAIL_TEMPLATES = [
  'verify-email',
  'password-reset',
  'password-changed',
  'email-change-confirm',
  'email-change-notice',
] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

/** The outbox kind of each template's messages (`gatehouse mail list` shows it). */
export const MAIL_KIND_OF: Readonly<Record<MailTemplate, MailKind>> = {
  'verify-email': 'verify_email',
  'password-reset': 'password_reset',
  'password-changed': 'password_changed',
  'email-change-confirm': 'email_change_confirm',
  'email-change-notice': 'email_change_notice',
};

/**
 * A message the domain decides to send: who gets it, which template and the values it shows.
 * Storage queues it in the outbox in the same transaction as the change it reports, so a
 * message is never lost nor sent for a change that rolled back.
 */
export interface MailDraft {
  to: string;
  template: MailTemplate;
  /** Template values: plain text (templates escape them for HTML); links are absolute. */
  data: Readonly<Record<string, string>>;
}

/**
 * Where links in mail lead: the web UI's pages, under GATEHOUSE_PUBLIC_URL. The token goes in
 * the URL fragment, which browsers send to no server and put in no Referer (RFC 3986 3.5), so
 * it can't leak into access logs or to third parties; the page posts it to the API.
 */
export function mailLink(publicUrl: string, page: string, token: string): string {
  return `${publicUrl}/#/${page}?token=${encodeURIComponent(token)}`;
}

/**
 * Turns a draft into the message the outbox stores (subject, text and HTML parts) from the
 * template files in src/mail/templates/; services.ts wires it.
 */
export type RenderMail = (draft: MailDraft) => OutgoingMail;
