import { randomUUID, webcrypto, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';

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
  expiresAt: Date;
}

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
}

// RFC 8725 3.1: the one algorithm we sign with is the only one we accept.
const ALGORITHM = 'HS256';
// RFC 8725 3.11 / RFC 9068 2.1: explicit typing, so no other JWT can pass for an access token.
const TOKEN_TYPE = 'at+jwt';
// Our tokens are ~350 bytes; refusing anything far larger bounds the work an attacker can cause.
export const MAX_ACCESS_TOKEN_LENGTH = 4096;
// Tokens remembered as verified, per process: ~1 KB each, so at most a few MB.
const VERIFIED_CACHE_SIZE = 10_000;

function invalidToken(cause?: unknown): GatehouseError {
  return new GatehouseError('invalid_token', 'Could not validate credentials', { cause });
}

/** Issues and verifies the JWT access tokens of API.md 2 with jose. */
export class AccessTokens {
  readonly #key: Promise<webcrypto.CryptoKey>;
  readonly #settings: AccessTokenSettings;
  readonly #clock: Clock;
  readonly #verified = new Map<string, AccessTokenClaims>();

  /**
   * `key` is imported once, as a Web Crypto key: jose works on CryptoKeys, and handing it a
   * KeyObject makes it import the key again on every sign and verify (a third of the cost of
   * an authenticated request, measured with --cpu-prof).
   */
  constructor(key: KeyObject, settings: AccessTokenSettings, clock: Clock) {
    this.#key = webcrypto.subtle.importKey(
      'raw',
      key.export(),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    this.#settings = settings;
    this.#clock = clock;
  }

  get ttlSeconds(): number {
    return this.#settings.ttlSeconds;
  }

  async issue(subject: {
    userId: number;
    sessionId: string;
    scope: string;
  }): Promise<IssuedAccessToken> {
    const issuedAt = Math.floor(this.#clock.now().getTime() / 1000);
    const token = await new SignJWT({ sid: subject.sessionId, scope: subject.scope })
      .setProtectedHeader({ alg: ALGORITHM, typ: TOKEN_TYPE })
      .setSubject(String(subject.userId))
      .setIssuer(this.#settings.issuer)
      .setAudience(this.#settings.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.#settings.ttlSeconds)
      .setJti(randomUUID())
      .sign(await this.#key);
    return { token, expiresIn: this.#settings.ttlSeconds };
  }

  /** Throws `token_expired` for an otherwise valid but expired token, `invalid_token` for anything else. */
  async verify(token: string): Promise<AccessTokenClaims> {
    if (token.length > MAX_ACCESS_TOKEN_LENGTH) throw invalidToken();
    const known = this.#verified.get(token);
    if (known) {
      // Only expiry can change for a token that already verified; the session (logout,
      // disabling) is checked from the store by the caller on every request regardless.
      // The same rule as jose's: expired once now (whole seconds) reaches exp + tolerance.
      const now = Math.floor(this.#clock.now().getTime() / 1000);
      const exp = known.expiresAt.getTime() / 1000;
      if (now < exp + this.#settings.clockToleranceSeconds) return known;
      this.#verified.delete(token);
      throw new GatehouseError('token_expired', 'The access token expired');
    }
    const claims = await this.#verifySignatureAndClaims(token);
    this.#remember(token, claims);
    return claims;
  }

  /**
   * Clients present the same access token many times; its signature and fixed claims need
   * checking once. A bounded, insertion-ordered map of tokens that verified (oldest dropped
   * first) saves the HMAC on repeat requests. Never holds a token that failed.
   */
  #remember(token: string, claims: AccessTokenClaims): void {
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = this.#verified.keys().next().value;
      if (oldest !== undefined) this.#verified.delete(oldest);
    }
    this.#verified.set(token, Object.freeze(claims));
  }

  async #verifySignatureAndClaims(token: string): Promise<AccessTokenClaims> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, await this.#key, {
        algorithms: [ALGORITHM],
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
    const userId = Number(payload.sub);
    const { sid, scope, jti, exp } = payload;
    if (!Number.isSafeInteger(userId) || userId <= 0 || typeof sid !== 'string')
      throw invalidToken();
    if (typeof jti !== 'string' || typeof exp !== 'number') throw invalidToken();
    return {
      userId,
      sessionId: sid,
      scope: typeof scope === 'string' ? scope : '',
      tokenId: jti,
      expiresAt: new Date(exp * 1000),
    };
  }
}
