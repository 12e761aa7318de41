import type { EnvReader } from './env-reader.ts';
import { Secret } from './secret.ts';

/** Mail delivery settings (API.md 8). */
export interface MailConfig {
  /** GATEHOUSE_SMTP_URL: `smtp://` or `smtps://`, may hold a password; undefined = no SMTP. */
  readonly smtpUrl: Secret | undefined;
  /** GATEHOUSE_MAIL_FROM: the From header, `Name <address>` or `address`. */
  readonly from: string;
  /** The domain of Message-IDs: the public URL's host (RFC 5322 3.6.4), else the From domain. */
  readonly messageIdDomain: string;
  /** GATEHOUSE_MAIL_MAX_AGE: seconds after which an undelivered message is given up (failed). */
  readonly maxAgeSeconds: number;
}

// A deliberately plain address: what the From header of a service needs, nothing exotic (no
// quoted local parts, comments or line breaks, which would allow header injection).
const ADDRESS =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const NAMED_ADDRESS = /^([^<>\r\n"]{1,100}?)\s*<([^<>\s]+)>$/;

/** The address of a From value (`Name <a@b>` or `a@b`), or undefined when it is not one. */
export function fromAddress(from: string): string | undefined {
  const named = NAMED_ADDRESS.exec(from.trim());
  const address = named ? named[2]! : from.trim();
  return ADDRESS.test(address) ? address : undefined;
}

// nodemailer reads options from the URL's query. Only these are let through: the others could
// switch on protocol logging (message bodies hold reset links: CWE-532) or undo the timeouts.
export const SMTP_URL_OPTIONS = [
  'requireTLS',
  'ignoreTLS',
  'name',
  'tls.servername',
  'tls.rejectUnauthorized',
  'tls.minVersion',
] as const;

function readSmtpUrl(read: EnvReader): Secret | undefined {
  const raw = read.optional('GATEHOUSE_SMTP_URL');
  if (raw === undefined) return undefined;
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url || !/^smtps?:$/.test(url.protocol) || url.hostname === '') {
    // The value may hold a password: the problem names the variable, never the value (CWE-532).
    read.problems.push(
      'GATEHOUSE_SMTP_URL: expected smtp://[USER:PASSWORD@]HOST[:PORT] (STARTTLS when offered) or smtps://... (TLS from the start)',
    );
    return undefined;
  }
  const unknown = [...url.searchParams.keys()].filter(
    (key) => !(SMTP_URL_OPTIONS as readonly string[]).includes(key),
  );
  if (unknown.length > 0) {
    read.problems.push(
      `GATEHOUSE_SMTP_URL: unsupported option ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${SMTP_URL_OPTIONS.join(', ')}`,
    );
    return undefined;
  }
  return new Secret(raw);
}

/**
 * Reads GATEHOUSE_SMTP_URL, GATEHOUSE_MAIL_FROM and GATEHOUSE_MAIL_MAX_AGE. `publicUrl` gives
 * the default sender's domain and the Message-ID domain; links in mail need it, so production
 * with SMTP requires it.
 */
export function readMailConfig(
  read: EnvReader,
  publicUrl: string | undefined,
  production: boolean,
): MailConfig {
  const smtpUrl = readSmtpUrl(read);
  const publicHost = publicUrl === undefined ? undefined : new URL(publicUrl).hostname;
  if (smtpUrl !== undefined && publicHost === undefined && production) {
    read.problems.push(
      'GATEHOUSE_PUBLIC_URL: required with GATEHOUSE_SMTP_URL in production, for the links in mail (e.g. https://auth.example.com)',
    );
  }
  const host = publicHost ?? 'localhost';
  const from = read.optional('GATEHOUSE_MAIL_FROM') ?? `Gatehouse <no-reply@${host}>`;
  const address = fromAddress(from);
  if (address === undefined) {
    read.problems.push(
      `GATEHOUSE_MAIL_FROM=${JSON.stringify(from)}: expected an address (no-reply@example.com) or a name and an address (Gatehouse <no-reply@example.com>)`,
    );
  }
  return {
    smtpUrl,
    from: from.trim(),
    messageIdDomain: publicHost ?? address?.split('@')[1] ?? 'localhost',
    // 24 h by default: long enough to ride out an SMTP outage of a night, short enough that a
    // reset link arriving after it would have long expired anyway.
    maxAgeSeconds: read.integer('GATEHOUSE_MAIL_MAX_AGE', 86_400, 60, 86_400 * 7),
  };
}
