import nodemailer, { type Transporter } from 'nodemailer';
import type { Secret } from '../config/secret.ts';
import { DeliveryError, type Envelope, type MailTransport } from '../domain/mail/mail-transport.ts';

/** Bounded waits: a hung SMTP server delays mail (and is retried), never holds a claim forever. */
export const SMTP_TIMEOUTS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 30_000,
  dnsTimeout: 10_000,
} as const;

// RFC 5321 4.2.1: 5yz is a permanent refusal. Refusals of the recipient or the content are
// final for this message; other 5yz (authentication, a server misconfigured) are the
// operator's to fix, so the message waits for that instead of failing.
const FINAL_FOR_MESSAGE = new Set(['RCPT TO', 'DATA', 'MAIL FROM']);

interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  command?: string;
}

function smtpPasswordForms(smtpUrl: Secret | undefined): string[] {
  const password = smtpUrl ? new URL(smtpUrl.reveal()).password : '';
  if (password === '') return [];
  try {
    return [password, decodeURIComponent(password)];
  } catch {
    return [password];
  }
}

/** One line for the outbox's last_error and the log: codes and the server's words, no secrets. */
export function describeSendError(error: unknown, smtpUrl?: Secret): string {
  const e = error as NodemailerError;
  const parts = [e.code, e.command, e.responseCode, e.message ?? String(error)].filter(
    (p) => p !== undefined && p !== '',
  );
  let text = parts.join(' ').replace(/\s+/g, ' ').trim();
  // CWE-532: whatever a library puts in a message, the SMTP password never reaches a log.
  for (const secret of smtpPasswordForms(smtpUrl)) text = text.split(secret).join('[redacted]');
  return text;
}

/**
 * nodemailer's pooled SMTP transport on GATEHOUSE_SMTP_URL: `smtps://` is TLS from the
 * start; `smtp://` upgrades with STARTTLS when the server offers it. Certificates are
 * verified (nodemailer's default), so a man in the middle can't read reset links.
 */
export class SmtpTransport implements MailTransport {
  readonly #transporter: Transporter;
  readonly #from: string;
  readonly #url: Secret;

  constructor(settings: { url: Secret; from: string }) {
    this.#url = settings.url;
    this.#from = settings.from;
    this.#transporter = nodemailer.createTransport({
      url: settings.url.reveal(),
      pool: true,
      maxConnections: 2,
      ...SMTP_TIMEOUTS,
    });
  }

  async send(envelope: Envelope): Promise<void> {
    try {
      await this.#transporter.sendMail({
        from: this.#from,
        to: envelope.to,
        subject: envelope.subject,
        text: envelope.text,
        html: envelope.html,
        date: envelope.date,
        messageId: envelope.messageId,
        // RFC 3834 5: machine-generated, so vacation responders and the like don't answer it.
        headers: { 'Auto-Submitted': 'auto-generated' },
        // Attachments and external content are not allowed from templates anyway; these keep
        // nodemailer from ever reading a file or URL named in a message.
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (error) {
      const e = error as NodemailerError;
      const permanent =
        e.responseCode !== undefined &&
        e.responseCode >= 500 &&
        FINAL_FOR_MESSAGE.has(e.command ?? '');
      throw new DeliveryError(describeSendError(error, this.#url), permanent, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.#transporter.close();
  }
}
