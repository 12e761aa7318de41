import { KeyObject, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTHeaderParameters } from 'jose';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import { HmacKeys, TOKEN_TYPE, type TokenKeys } from './token-keys.ts';

export interface AccessTokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** RFC 8725 3.10 / RFC 7519 4.1.4: a small leeway for clock skew between hosts. */
  clockToleranceSeconds: number;
}

export interface AccessTokenClaims {
  userId: number;
  sessionId: string;
  scope: string;
  tokenId: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface AccessTokenSubject {
  userId: number;
  sessionId: string;
  scope: string;
}

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
}

// Our tokens are ~350 bytes; refusing anything far larger bounds the work an attacker can cause.
export const MAX_ACCESS_TOKEN_LENGTH = 4096;
// RFC 7515 3.1 / 2 (Base64url: no padding, no other alphabet): jose's decoder tolerates `=`
// padding and standard-alphabet characters, which would let one signature travel in several
// spellings. Only the one canonical compact form is accepted.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// Tokens remembered as verified, per process: ~1 KB each, so at most a few MB.
const VERIFIED_CACHE_SIZE = 10_000;

function invalidToken(cause?: unknown): GatehouseError {
  if (cause === undefined) return INVALID_TOKEN;
  return new GatehouseError('invalid_token', 'Could not validate credentials', { cause });
}

// The rejection an attacker can ask for at will is built once. Its stack (captured
// here, never sent or logged: errors.ts answers it with the fixed detail) tells nothing, and
// capturing a fresh one per forged token was a measurable share of the rejection's CPU.
const INVALID_TOKEN = new GatehouseError('invalid_token', 'Could not validate credentials');

/** A token that verified: its claims, and the kid of the key that verified it. */
interface VerifiedToken {
  readonly claims: AccessTokenClaims;
  readonly kid: string | undefined;
}

/**
 * Issues and verifies the JWT access tokens of API.md 2 and 7. Verification, where the JWT
 * pitfalls are (RFC 8725 2: algorithm confusion, unsigned tokens, claim checks), is jose's,
 * pinned to the one configured algorithm. Signing our own fixed header and claims is one
 * synchronous node:crypto call with a key imported once (see token-keys.ts, key-ring.ts).
 */
export class AccessTokens {
  readonly #keys: TokenKeys;
  readonly #settings: AccessTokenSettings;
  readonly #clock: Clock;
  readonly #verified = new Map<string, VerifiedToken>();
  // jose asks for the key once it has checked the header's alg against `algorithms`.
  readonly #keyFor = async (header: JWTHeaderParameters) => {
    // RFC 8725 3.1 / RFC 7515 4.1.2-4.1.6: the key comes from our own ring, chosen by kid
    // alone; jku, x5u, jwk and x5c headers are never followed or trusted.
    const key = await this.#keys.verificationKey(
      typeof header.kid === 'string' ? header.kid : undefined,
    );
    if (!key) throw invalidToken();
    return key;
  };

  /** `keys`: the key ring, or a bare HS256 secret (a KeyObject) as before key rings. */
  constructor(keys: TokenKeys | KeyObject, settings: AccessTokenSettings, clock: Clock) {
    this.#keys = keys instanceof KeyObject ? new HmacKeys(keys) : keys;
    this.#settings = settings;
    this.#clock = clock;
  }

  /** The JWS algorithm every token is signed with. */
  get algorithm(): TokenKeys['algorithm'] {
    return this.#keys.algorithm;
  }

  async issue(subject: AccessTokenSubject): Promise<IssuedAccessToken> {
    return (await this.prepareIssue())(subject);
  }

  /**
   * The part of issuing that can fail (the signing-key check against the store, key-ring.ts)
   * done now; the function it returns signs synchronously and doesn't fail. A refresh calls it
   * before committing its rotation, so no store failure can come between the commit and the
   * token the client needs.
   */
  async prepareIssue(): Promise<(subject: AccessTokenSubject) => IssuedAccessToken> {
    const signer = await this.#keys.signer();
    return (subject) => this.#sign(signer, subject);
  }

  #sign(
    signer: Awaited<ReturnType<TokenKeys['signer']>>,
    subject: AccessTokenSubject,
  ): IssuedAccessToken {
    const issuedAt = Math.floor(this.#clock.now().getTime() / 1000);
    const claims = {
      sid: subject.sessionId,
      scope: subject.scope,
      // RFC 9068 2.2: sub, iss, aud, iat, exp and jti; sub is the user id as a string.
      sub: String(subject.userId),
      iss: this.#settings.issuer,
      aud: this.#settings.audience,
      iat: issuedAt,
      exp: issuedAt + this.#settings.ttlSeconds,
      jti: randomUUID(),
    };
    // RFC 7515 3.1, JWS compact serialization, signed synchronously by node:crypto: jose would
    // sign through Web Crypto, a thread-pool hop per token (token-keys.ts, BENCHMARKS.md).
    const signingInput = `${signer.encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const token = `${signingInput}.${signer.sign(signingInput)}`;
    return { token, expiresIn: this.#settings.ttlSeconds };
  }

  /** Throws `token_expired` for an otherwise valid but expired token, `invalid_token` for anything else. */
  async verify(token: string): Promise<AccessTokenClaims> {
    if (token.length > MAX_ACCESS_TOKEN_LENGTH) throw invalidToken();
    const known = this.verifiedBefore(token, this.#clock.now());
    if (known) return known;
    const verified = await this.#verifySignatureAndClaims(token);
    this.#remember(token, verified);
    return verified.claims;
  }

  /**
   * The claims of a token that already verified in this process, checked for expiry at `now`,
   * synchronously: most requests present a token seen before, and answering them without a
   * promise saves an async step on every authenticated request (issue 21). `undefined` when
   * the token must go through `verify`; throws `token_expired` as `verify` would.
   */
  verifiedBefore(token: string, now: Date): AccessTokenClaims | undefined {
    const known = this.#verified.get(token);
    if (!known) return undefined;
    // A token is only as trusted as the key that verified it. Once the key ring can't vouch
    // for that key without a store read, verify() checks the token afresh, so the tokens of a
    // withdrawn key are refused although they verified before (RFC 8725 3.1; key-ring.ts).
    if (this.#keys.trusts?.(known.kid, now) === false) {
      this.#verified.delete(token);
      return undefined;
    }
    // Otherwise only expiry can change for a token that already verified; the session
    // (logout, disabling) is checked from the store by the caller on every request regardless.
    // The same rule as jose's: expired once now (whole seconds) reaches exp + tolerance.
    const seconds = Math.floor(now.getTime() / 1000);
    const exp = known.claims.expiresAt.getTime() / 1000;
    if (seconds < exp + this.#settings.clockToleranceSeconds) return known.claims;
    this.#verified.delete(token);
    throw new GatehouseError('token_expired', 'The access token expired');
  }

  /**
   * Clients present the same access token many times; its signature and fixed claims need
   * checking once. A bounded, insertion-ordered map of tokens that verified (oldest dropped
   * first) saves the signature check on repeat requests. Never holds a token that failed.
   */
  #remember(token: string, verified: VerifiedToken): void {
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = this.#verified.keys().next().value;
      if (oldest !== undefined) this.#verified.delete(oldest);
    }
    this.#verified.set(token, verified);
  }

  async #verifySignatureAndClaims(token: string): Promise<VerifiedToken> {
    if (!COMPACT_JWS.test(token)) throw invalidToken();
    const signatureAt = token.lastIndexOf('.');
    if (this.#keys.forged?.(token.slice(0, signatureAt), token.slice(signatureAt + 1)))
      throw invalidToken();
    let payload;
    let protectedHeader;
    try {
      ({ payload, protectedHeader } = await jwtVerify(token, this.#keyFor, {
        algorithms: [this.#keys.algorithm],
        typ: TOKEN_TYPE,
        issuer: this.#settings.issuer,
        audience: this.#settings.audience,
        clockTolerance: this.#settings.clockToleranceSeconds,
        currentDate: this.#clock.now(),
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'sid'],
      }));
    } catch (error) {
      // jose checks the signature before the claims, so "expired" means a genuine token of ours.
      if (error instanceof joseErrors.JWTExpired) {
        throw new GatehouseError('token_expired', 'The access token expired', { cause: error });
      }
      throw invalidToken(error);
    }
    const { sid, scope, jti, exp, iat } = payload;
    // RFC 7519 4.1.6 / RFC 8725 3.10: a token issued in the future (past the clock tolerance)
    // was not minted by this clock; jose checks `nbf` so, but only checks `iat` with
    // maxTokenAge. We never sign one, so it is forged with a leaked key or a skewed host's.
    const now = Math.floor(this.#clock.now().getTime() / 1000);
    if (typeof iat !== 'number' || iat > now + this.#settings.clockToleranceSeconds) {
      throw invalidToken();
    }
    const userId = Number(payload.sub);
    if (!Number.isSafeInteger(userId) || userId <= 0 || typeof sid !== 'string')
      throw invalidToken();
    if (typeof jti !== 'string' || typeof exp !== 'number') throw invalidToken();
    const claims = {
      userId,
      sessionId: sid,
      scope: typeof scope === 'string' ? scope : '',
      tokenId: jti,
      issuedAt: new Date(iat * 1000),
      expiresAt: new Date(exp * 1000),
    };
    return { claims: Object.freeze(claims), kid: protectedHeader.kid };
  }
}
