/** The messages Gatehouse sends about an account (API.md 8); each names its template. */
export const MAIL_TEMPLATES = [
  'verify-email',
  'password-reset',
  'password-changed',
  'email-change-confirm',
  'email-change-notice',
] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

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
