/**
 * What a message is for; kept with the row so operators can tell them apart in
 * `gatehouse mail list`. New flows add their kind here.
 */
export const MAIL_KINDS = [
  'verify_email',
  'password_reset',
  'password_changed',
  'email_change_confirm',
  'email_change_notice',
  'test_message',
] as const;

export type MailKind = (typeof MAIL_KINDS)[number];

/**
 * One message as the domain decides it: the recipient and the rendered parts
 * (render-template.ts). Sender, Date and Message-ID are added on delivery.
 */
export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  /** The plain-text part; links written out in full. */
  readonly text: string;
  /** The HTML part; no remote images, links absolute to the public URL. */
  readonly html: string;
  readonly kind: MailKind;
}
