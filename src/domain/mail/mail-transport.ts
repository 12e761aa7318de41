/** A message ready for the wire: the outbox row's parts and the headers the sender adds. */
export interface Envelope {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** RFC 5322 3.6.1: the Date header (the time of this attempt). */
  readonly date: Date;
  /**
   * RFC 5322 3.6.4: the Message-ID, `<...@domain>`. The same for every attempt at one outbox
   * row, so the rare duplicate (see MailSender) can be recognised by the receiving side.
   */
  readonly messageId: string;
}

/** Why a delivery attempt failed: `permanent` means the server refused this message for good. */
export class DeliveryError extends Error {
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeliveryError';
    this.permanent = permanent;
  }
}

/** The MailTransport port (STYLE.md): nodemailer over SMTP is its one implementation. */
export interface MailTransport {
  /**
   * Resolves once the server accepted the message (its reply to the end of DATA); rejects
   * with a DeliveryError whose message is safe to store (no credentials).
   */
  send(envelope: Envelope): Promise<void>;
  close(): Promise<void>;
}
