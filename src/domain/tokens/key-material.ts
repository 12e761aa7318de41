import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  generateKeyPair,
  randomBytes,
  sign,
  type KeyObject,
  type webcrypto,
} from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, importJWK, type JWK } from 'jose';
import type { AsymmetricAlgorithm } from './signing-algorithm.ts';
import type { PrivateKeyEncryption, StoredSigningKey } from './signing-key-repository.ts';

const generate = promisify(generateKeyPair);

/** A new key pair for `alg`: Ed25519, P-256, or RSA with 2048 bits (RFC 7518 3.3: at least). */
async function generatePair(
  alg: AsymmetricAlgorithm,
): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  switch (alg) {
    case 'EdDSA':
      return generate('ed25519');
    case 'ES256':
      return generate('ec', { namedCurve: 'P-256' });
    case 'RS256':
      return generate('rsa', { modulusLength: 2048 });
  }
}

/** The public members of a key's JWK, plus what a verifier needs (RFC 7517 4.2-4.5). */
export function publicJwkOf(publicKey: KeyObject, alg: AsymmetricAlgorithm, kid: string): JWK {
  const { kty, crv, x, y, n, e } = publicKey.export({ format: 'jwk' });
  // Built member by member, so no private member (`d`, `p`, `q`, ...) can ever slip through.
  return {
    kty,
    ...(crv && { crv }),
    ...(x && { x }),
    ...(y && { y }),
    ...(n && { n }),
    ...(e && { e }),
    alg,
    use: 'sig',
    kid,
  };
}

/** Which of the configured keys opens a sealed value. */
export type SealingKey = 'current' | 'previous';

/**
 * Seals private keys at rest with AES-256-GCM (API.md 7) under GATEHOUSE_KEY_ENCRYPTION_KEY.
 * The kid is the additional authenticated data, so a sealed key moved to another row fails to
 * open instead of signing under a kid that is not its own.
 *
 * While the key is being changed, GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS (ASVS 4.0 6.4.2, 5.0
 * V11.1: keys can be rotated) opens what it sealed, after the current key fails; it never seals,
 * so nothing new depends on it and `gatehouse reseal` can retire it.
 */
export class KeyEncryption {
  readonly #key: Buffer;
  readonly #previous: Buffer | undefined;
  constructor(key: Buffer, previous?: Buffer) {
    if (key.length !== 32 || (previous !== undefined && previous.length !== 32)) {
      throw new Error('the key encryption key must have 32 bytes');
    }
    this.#key = key;
    this.#previous = previous;
  }

  get hasPrevious(): boolean {
    return this.#previous !== undefined;
  }

  /** Always under the current key. */
  seal(plaintext: Buffer, kid: string): string {
    // NIST SP 800-38D 8.2.2: a random 96-bit IV per message; a few keys a year stay far from the bound.
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return `v1.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  /**
   * Throws when `sealed` was sealed for this kid under neither the current nor the previous key
   * (or was altered).
   */
  open(sealed: string, kid: string): Buffer {
    try {
      return openUnder(this.#key, sealed, kid);
    } catch (error) {
      if (!this.#previous) throw error;
      return openUnder(this.#previous, sealed, kid);
    }
  }

  /**
   * The key that opens `sealed` for `kid`, current first, with what it opened; undefined when
   * neither does. One decryption per key tried (gatehouse reseal needs both answers).
   */
  openWithKey(sealed: string, kid: string): { key: SealingKey; plaintext: Buffer } | undefined {
    for (const [name, key] of [
      ['current', this.#key],
      ['previous', this.#previous],
    ] as const) {
      if (!key) continue;
      try {
        return { key: name, plaintext: openUnder(key, sealed, kid) };
      } catch {
        // Not this key (GCM's tag check failed) or not a sealed value: try the next.
      }
    }
    return undefined;
  }
}

function openUnder(key: Buffer, sealed: string, kid: string): Buffer {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== 'v1' || !iv || body === undefined || !tag) throw new Error('not a sealed key');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
}

/** A start-up failure about the stored keys an operator must fix (wrong or missing key). */
export class SigningKeyUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigningKeyUnavailableError';
  }
}

/** A new key, ready for the store: its private half sealed when `encryption` is given. */
export async function newSigningKey(
  alg: AsymmetricAlgorithm,
  now: Date,
  encryption: KeyEncryption | undefined,
): Promise<StoredSigningKey> {
  const { publicKey, privateKey } = await generatePair(alg);
  const kid = await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK, 'sha256');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const kind: PrivateKeyEncryption = encryption ? 'aes-256-gcm' : 'none';
  return {
    kid,
    alg,
    publicJwk: JSON.stringify(publicJwkOf(publicKey, alg, kid)),
    privateKey: encryption ? encryption.seal(der, kid) : der.toString('base64'),
    encryption: kind,
    createdAt: now,
    activatedAt: now,
    retiredAt: null,
  };
}

/** The stored private key as a node:crypto KeyObject, opened with `encryption` if sealed. */
export function privateKeyOf(
  stored: StoredSigningKey,
  encryption: KeyEncryption | undefined,
): KeyObject {
  let der: Buffer;
  if (stored.encryption === 'none') {
    der = Buffer.from(stored.privateKey, 'base64');
  } else if (!encryption) {
    throw new SigningKeyUnavailableError(
      `signing key ${stored.kid} is encrypted at rest, but GATEHOUSE_KEY_ENCRYPTION_KEY is unset: set it to the key it was encrypted with`,
    );
  } else {
    try {
      der = encryption.open(stored.privateKey, stored.kid);
    } catch (error) {
      throw new SigningKeyUnavailableError(
        encryption.hasPrevious
          ? `signing key ${stored.kid} cannot be decrypted: neither GATEHOUSE_KEY_ENCRYPTION_KEY nor GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS is the key it was encrypted with (or the stored key was altered)`
          : `signing key ${stored.kid} cannot be decrypted: GATEHOUSE_KEY_ENCRYPTION_KEY is not the key it was encrypted with (or the stored key was altered); while changing it, set the old one as GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS`,
        { cause: error },
      );
    }
  }
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** The public key for jose, imported once as a Web Crypto key (never per verification). */
export async function verificationKeyOf(stored: StoredSigningKey): Promise<webcrypto.CryptoKey> {
  const jwk = JSON.parse(stored.publicJwk) as JWK;
  return (await importJWK(jwk, stored.alg)) as webcrypto.CryptoKey;
}

/**
 * The JWS signature over `input`, with node:crypto (synchronous: no thread-pool hop). ES256 is
 * the JOSE form r||s, not DER (RFC 7518 3.4); RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (3.3).
 */
export function signWith(alg: AsymmetricAlgorithm, key: KeyObject, input: string): string {
  const data = Buffer.from(input, 'utf8');
  switch (alg) {
    case 'EdDSA':
      return sign(null, data, key).toString('base64url');
    case 'ES256':
      return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    case 'RS256':
      return sign('sha256', data, key).toString('base64url');
  }
}
