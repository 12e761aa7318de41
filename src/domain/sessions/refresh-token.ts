import { createHash, randomBytes } from 'node:crypto';

/** An opaque refresh token: 256 random bits (API.md 2, RFC 6749 10.10), base64url. */
export function generateRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Refresh tokens are stored only as their SHA-256: the token has full entropy, so a fast
 * hash is enough (no salt or stretching needed), and a stolen table yields no usable token.
 */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
