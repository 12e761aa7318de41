import { createHash, createHmac, timingSafeEqual, webcrypto, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from './signing-algorithm.ts';

/** The active key, ready to sign: its JOSE header is encoded once, when the key is loaded. */
export interface TokenSigner {
  readonly kid: string;
  /** BASE64URL(UTF8({"alg","typ":"at+jwt","kid"})) (RFC 7515 7.1). */
  readonly encodedHeader: string;
  /** The signature over `input` (`header.payload`), base64url. */
  sign(input: string): string;
}

/** Where AccessTokens gets its keys: one HS256 secret, or the store's key ring (key-ring.ts). */
export interface TokenKeys {
  /** RFC 8725 3.1: the one algorithm signed with is the only one accepted. */
  readonly algorithm: SigningAlgorithm;
  signer(): Promise<TokenSigner>;
  /** The key that verifies tokens naming `kid`, or undefined: the token is then invalid. */
  verificationKey(kid: string | undefined): Promise<webcrypto.CryptoKey | undefined>;
  /**
   * True when `signature` (base64url) certainly does not sign `input` under any key this
   * verifies with: a synchronous early rejection, never an acceptance (jose still verifies
   * every token it lets through). Absent: no such shortcut.
   */
  forged?(input: string, signature: string): boolean;
  /**
   * Whether a token that verified earlier under `kid` may be accepted again at `now` without
   * asking verificationKey: false once the key may have been withdrawn since (key-ring.ts).
   * Synchronous, for the verified-token cache of AccessTokens. Absent: the keys never change
   * while the process runs (HS256).
   */
  trusts?(kid: string | undefined, now: Date): boolean;
}

// RFC 8725 3.11 / RFC 9068 2.1: explicit typing, so no other JWT can pass for an access token.
export const TOKEN_TYPE = 'at+jwt';

export function encodeHeader(alg: SigningAlgorithm, kid: string): string {
  return Buffer.from(JSON.stringify({ alg, typ: TOKEN_TYPE, kid })).toString('base64url');
}

/**
 * HS256 with the configured (or development) secret: the seed's shared-secret style. Its kid
 * is derived from the secret (SHA-256 under a label, 96 bits shown), stable across restarts and
 * instances; 96 bits of a hash of a 256-bit secret tell nothing about it. Tokens without a kid
 * (signed before kids existed) still verify, so an upgrade logs nobody out.
 */
export class HmacKeys implements TokenKeys {
  readonly algorithm = 'HS256' as const;
  readonly #signer: TokenSigner;
  readonly #verifyingKey: Promise<webcrypto.CryptoKey>;
  readonly #key: KeyObject;

  /**
   * `key` signs as it is, and is imported once more as a Web Crypto key for jose: jose works on
   * CryptoKeys, and handing it a KeyObject makes it import the key again on every verify (a
   * third of the cost of an authenticated request, measured with --cpu-prof).
   */
  constructor(key: KeyObject) {
    this.#key = key;
    const secret = key.export();
    const kid = createHash('sha256')
      .update('gatehouse hs256 kid\0')
      .update(secret)
      .digest()
      .subarray(0, 12)
      .toString('base64url');
    const encodedHeader = encodeHeader('HS256', kid);
    // jose would sign through Web Crypto, which runs every HMAC as a job on libuv's thread
    // pool: under a login flood that pool and both cores are busy hashing passwords, and the
    // hop cost the password grant 4% of its throughput (BENCHMARKS.md). One synchronous HMAC
    // costs a few microseconds.
    this.#signer = {
      kid,
      encodedHeader,
      sign: (input) => createHmac('sha256', key).update(input).digest('base64url'),
    };
    this.#verifyingKey = webcrypto.subtle.importKey(
      'raw',
      secret,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
  }

  get kid(): string {
    return this.#signer.kid;
  }

  async signer(): Promise<TokenSigner> {
    return this.#signer;
  }

  async verificationKey(kid: string | undefined): Promise<webcrypto.CryptoKey | undefined> {
    return kid === undefined || kid === this.#signer.kid ? this.#verifyingKey : undefined;
  }

  /**
   * Forged tokens are free for an attacker to send: one was 1.7x the CPU of a valid one, nearly all
   * of it jose's Web Crypto HMAC (a thread-pool job) and its error. One synchronous HMAC with the
   * only key rejects it first; the comparison is constant-time (RFC 7515 10.7 / CWE-208).
   */
  forged(input: string, signature: string): boolean {
    const given = Buffer.from(signature, 'base64url');
    const expected = createHmac('sha256', this.#key).update(input).digest();
    return given.length !== expected.length || !timingSafeEqual(given, expected);
  }
}
