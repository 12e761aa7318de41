import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

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

const SEAL_INFO = 'gatehouse refresh-token child v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

// HKDF-Expand (RFC 5869) keyed by the parent: a fresh key per parent, which nothing stored (the
// parent's SHA-256 included) lets anyone compute without the parent itself. The parent is
// already 256 uniformly random bits, so the Extract step is skipped (RFC 5869 3.3); one block
// is HMAC-SHA256(parent, info || 0x01).
function sealingKey(parent: string): Buffer {
  return createHmac('sha256', Buffer.from(parent, 'utf8'))
    .update(SEAL_INFO)
    .update(Buffer.of(1))
    .digest();
}

/**
 * The child a rotation issued, encrypted (AES-256-GCM) under a key derived from the parent
 * token: only someone presenting the parent again can read it, which is exactly who the
 * grace window re-issues it to. A copy of the table alone opens nothing.
 */
export function sealChild(child: string, parent: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(parent), iv);
  const sealed = Buffer.concat([cipher.update(child, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** The child sealed under `parent`, or undefined when it does not open (wrong parent, damaged). */
export function openSealedChild(sealed: string, parent: string): string | undefined {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      sealingKey(parent),
      bytes.subarray(0, IV_BYTES),
    );
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const child = Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return child.toString('utf8');
  } catch {
    return undefined;
  }
}
