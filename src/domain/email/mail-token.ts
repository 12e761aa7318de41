import { createHash, randomBytes } from 'node:crypto';

export const MAIL_TOKEN_PURPOSES = ['verify_email', 'password_reset', 'email_change'] as const;
export type MailTokenPurpose = (typeof MAIL_TOKEN_PURPOSES)[number];

// API.md 8: at least 256 bits from the OS CSPRNG (ASVS 2.5.1, 3.2.2).
const TOKEN_BYTES = 32;
// base64url of 32 bytes; anything else is not one of ours and needs no lookup.
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** A new mail token: the value for the link, and the SHA-256 (hex) that alone is stored. */
export function newMailToken(): { token: string; hash: string } {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  return { token, hash: hashMailToken(token) };
}

/**
 * SHA-256 (hex) of a presented token. A plain hash is enough (no salt, no slow hash): the
 * token has 256 bits of entropy, so the hash can't be reversed by guessing (ASVS 2.5.2).
 */
export function hashMailToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** False for a value that can't be a token we issued (wrong length or alphabet). */
export function isMailTokenShape(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}
