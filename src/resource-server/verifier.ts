import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { discover, type AuthorizationServerMetadata } from './discovery.ts';
import { ResourceServerError } from './errors.ts';
import { IntrospectionClient, type IntrospectionOptions } from './introspection.ts';

/** The algorithms Gatehouse signs with that a resource server can check with a public key. */
export type AsymmetricAlgorithm = 'EdDSA' | 'ES256' | 'RS256';
const ASYMMETRIC: readonly AsymmetricAlgorithm[] = ['EdDSA', 'ES256', 'RS256'];

export interface VerifierOptions {
  /** Gatehouse's issuer, exactly as its metadata and tokens name it (its public URL). */
  issuer: string;
  /** The `aud` this service accepts (Gatehouse's `GATEHOUSE_JWT_AUDIENCE`). */
  audience: string;
  /** Accept only these (a subset of EdDSA, ES256, RS256). Default: all three. */
  algorithms?: readonly AsymmetricAlgorithm[];
  /** Leeway for clock skew between hosts, in seconds (RFC 8725 3.10). Default 5. */
  clockToleranceSeconds?: number;
  /**
   * The JWKS is re-read for an unknown `kid` at most once per this many seconds (a token naming
   * an unknown kid within it waits for the re-read). Default 5.
   */
  jwksCooldownSeconds?: number;
  /**
   * The JWKS is re-read when it is older than this. Default 300: Gatehouse serves it with
   * `max-age=300`, so a withdrawn key (`gatehouse keys withdraw`) is trusted here no longer.
   */
  jwksCacheMaxAgeSeconds?: number;
  /** Each request to Gatehouse (metadata, JWKS, introspection) gives up after this. Default 5000. */
  timeoutMs?: number;
  /** Ask Gatehouse's /introspect about every token after it verified locally (revocation). */
  introspect?: IntrospectionOptions;
  /** The time "now" is; for tests. Default: the system clock. */
  now?: () => Date;
}

/** A verified Gatehouse access token (API.md 2). */
export interface AccessTokenClaims {
  /** `sub`: the user's id, as the string the token carries. */
  sub: string;
  /** `sub` as a number when it is one (Gatehouse user ids are positive integers). */
  userId: number | undefined;
  /** `scope`, split on spaces: `['me']`, `['me', 'admin']`, ... */
  scope: readonly string[];
  /** `sid`: the Gatehouse session the token belongs to. */
  sessionId: string;
  /** `jti`: this token's unique id. */
  tokenId: string;
  issuedAt: Date;
  expiresAt: Date;
  /** Every claim as the token carries it. */
  raw: Readonly<JWTPayload>;
}

export interface Verifier {
  /** The claims of a valid token; otherwise throws a ResourceServerError saying why. */
  verify(token: string): Promise<AccessTokenClaims>;
  /** Gatehouse's metadata, discovered on first use (and retried after a failure). */
  metadata(): Promise<AuthorizationServerMetadata>;
}

// RFC 9068 2.1 / RFC 8725 3.11: only a token typed as an access token passes for one.
const TOKEN_TYPE = 'at+jwt';
// Gatehouse's tokens are well under 1 KB; refusing far larger bounds the work per request.
const MAX_TOKEN_LENGTH = 8192;

function seconds(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < 0) {
    throw new TypeError(`${name} must be a number of seconds, 0 or more`);
  }
  return result;
}

function algorithmsFrom(configured: readonly string[] | undefined): AsymmetricAlgorithm[] {
  const list = configured ?? ASYMMETRIC;
  // RFC 8725 3.1 / 2.1: never `none`, never a symmetric algorithm (the public JWKS holds no
  // HMAC key, and accepting HS* with a public key as the secret is the classic confusion).
  const wrong = list.filter((alg) => !(ASYMMETRIC as readonly string[]).includes(alg));
  if (wrong.length > 0 || list.length === 0) {
    throw new TypeError(
      `algorithms must be some of ${ASYMMETRIC.join(', ')}; got ${wrong.join(', ') || 'none'}`,
    );
  }
  return [...list] as AsymmetricAlgorithm[];
}

/** jose's failures, as our codes. jose checks the signature before any claim. */
function translate(error: unknown): ResourceServerError {
  if (error instanceof ResourceServerError) return error;
  const cause = { cause: error };
  if (error instanceof joseErrors.JWTExpired) {
    return new ResourceServerError('token_expired', 'The access token expired', cause);
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') {
      return new ResourceServerError(
        'malformed_token',
        `The token has no "${error.claim}" claim`,
        cause,
      );
    }
    switch (error.claim) {
      case 'iss':
        return new ResourceServerError(
          'wrong_issuer',
          'The token was issued by another issuer',
          cause,
        );
      case 'aud':
        return new ResourceServerError(
          'wrong_audience',
          'The token is meant for another audience',
          cause,
        );
      case 'typ':
        return new ResourceServerError(
          'wrong_token_type',
          'The token is not an access token (typ at+jwt)',
          cause,
        );
      case 'nbf':
        return new ResourceServerError('token_not_yet_valid', 'The token is not valid yet', cause);
      default:
        return new ResourceServerError(
          'malformed_token',
          `The token's "${error.claim}" claim is invalid`,
          cause,
        );
    }
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new ResourceServerError('invalid_signature', 'The token signature is invalid', cause);
  }
  if (
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys
  ) {
    return new ResourceServerError(
      'unknown_key',
      'The token was signed by a key the issuer does not publish',
      cause,
    );
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return new ResourceServerError(
      'algorithm_not_allowed',
      'The token is signed with an algorithm this service does not accept',
      cause,
    );
  }
  return new ResourceServerError('malformed_token', 'The token is not a well-formed JWT', cause);
}

/**
 * jose's remote JWK set, with two changes:
 * - Its transport failures are told apart from a bad token: a JWKS that cannot be fetched says
 *   nothing about the token, so it is a 503 (`jwks_unavailable`), not a 401.
 * - Key rotation breaks nobody: Gatehouse signs with a new key at once (API.md 7), so a token
 *   may name a kid we have not seen while jose's cooldown forbids a re-read (the keys were read
 *   moments ago). jose would refuse it; we wait for the cooldown to end and re-read once, shared
 *   by every request waiting. A flood of made-up kids therefore still costs Gatehouse one read
 *   per cooldown at most (the reason for the cooldown), and each such request waits at most
 *   one cooldown before its 401.
 */
function remoteKeys(
  metadata: AuthorizationServerMetadata,
  options: { cooldownMs: number; maxAgeMs: number; timeoutMs: number },
): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(metadata.jwksUri, {
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.maxAgeMs,
    timeoutDuration: options.timeoutMs,
  });
  let deferredReload: Promise<void> | undefined;
  const reloadAfterCooldown = () => {
    deferredReload ??= (async () => {
      const deadline = Date.now() + options.cooldownMs;
      while (remote.coolingDown && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(100, options.cooldownMs)));
      }
      await remote.reload();
    })().finally(() => {
      deferredReload = undefined;
    });
    return deferredReload;
  };
  return async (header, token) => {
    try {
      try {
        return await remote(header, token);
      } catch (error) {
        if (!(error instanceof joseErrors.JWKSNoMatchingKey) || !remote.coolingDown) throw error;
        await reloadAfterCooldown();
        return await remote(header, token);
      }
    } catch (error) {
      if (
        error instanceof joseErrors.JWKSNoMatchingKey ||
        error instanceof joseErrors.JWKSMultipleMatchingKeys ||
        error instanceof joseErrors.JOSENotSupported
      ) {
        throw error;
      }
      throw new ResourceServerError(
        'jwks_unavailable',
        `Could not read the issuer's keys from ${metadata.jwksUri.href}`,
        { cause: error },
      );
    }
  };
}

function toClaims(
  payload: JWTPayload,
  nowSeconds: number,
  toleranceSeconds: number,
): AccessTokenClaims {
  const { sub, sid, jti, iat, exp, scope } = payload;
  if (typeof sub !== 'string' || typeof sid !== 'string' || typeof jti !== 'string') {
    throw new ResourceServerError(
      'malformed_token',
      'The token\'s "sub", "sid" or "jti" claim is not a string',
    );
  }
  if (typeof iat !== 'number' || typeof exp !== 'number') {
    throw new ResourceServerError(
      'malformed_token',
      'The token\'s "iat" or "exp" claim is not a number',
    );
  }
  // RFC 7519 4.1.6 / RFC 8725 3.10: jose checks `iat` only with maxTokenAge. A token issued in
  // the future (past the tolerance) was not minted by a sane issuer clock.
  if (iat > nowSeconds + toleranceSeconds) {
    throw new ResourceServerError('token_not_yet_valid', 'The token was issued in the future');
  }
  if (scope !== undefined && typeof scope !== 'string') {
    throw new ResourceServerError('malformed_token', 'The token\'s "scope" claim is not a string');
  }
  const userId = Number(sub);
  return Object.freeze({
    sub,
    userId:
      Number.isSafeInteger(userId) && userId > 0 && String(userId) === sub ? userId : undefined,
    scope: Object.freeze((scope ?? '').split(' ').filter((s) => s !== '')),
    sessionId: sid,
    tokenId: jti,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
    raw: Object.freeze(payload),
  });
}

/**
 * A verifier of Gatehouse access tokens from Gatehouse's published metadata alone: it reads
 * `${issuer}/.well-known/oauth-authorization-server` (RFC 8414), then the keys at its
 * `jwks_uri`, and checks each token's signature, `typ`, `iss`, `aud`, `exp` and `iat`.
 * Nothing is fetched until the first `verify`.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (typeof options.issuer !== 'string' || !URL.canParse(options.issuer)) {
    throw new TypeError("issuer must be an absolute URL (Gatehouse's GATEHOUSE_PUBLIC_URL)");
  }
  if (typeof options.audience !== 'string' || options.audience === '') {
    throw new TypeError('audience must be a non-empty string');
  }
  const issuer = options.issuer;
  const audience = options.audience;
  const algorithms = algorithmsFrom(options.algorithms);
  const tolerance = seconds(options.clockToleranceSeconds, 5, 'clockToleranceSeconds');
  const cooldownMs = seconds(options.jwksCooldownSeconds, 5, 'jwksCooldownSeconds') * 1000;
  const maxAgeMs = seconds(options.jwksCacheMaxAgeSeconds, 300, 'jwksCacheMaxAgeSeconds') * 1000;
  const timeoutMs = Math.round(seconds(options.timeoutMs, 5000, 'timeoutMs'));
  const now = options.now ?? (() => new Date());
  const introspection = options.introspect
    ? new IntrospectionClient(options.introspect, timeoutMs)
    : undefined;

  let discovered:
    Promise<{ metadata: AuthorizationServerMetadata; keys: JWTVerifyGetKey }> | undefined;
  function discovery() {
    if (!discovered) {
      const attempt = discover(issuer, timeoutMs).then((metadata) => {
        if (introspection && !metadata.introspectionEndpoint) {
          throw new ResourceServerError(
            'discovery_failed',
            `The metadata of ${issuer} has no introspection_endpoint, and introspect is configured`,
          );
        }
        return { metadata, keys: remoteKeys(metadata, { cooldownMs, maxAgeMs, timeoutMs }) };
      });
      discovered = attempt;
      // A failed discovery is not remembered: the next request tries again (concurrent
      // requests share the one attempt in flight).
      attempt.catch(() => {
        if (discovered === attempt) discovered = undefined;
      });
    }
    return discovered;
  }

  return {
    async metadata() {
      return (await discovery()).metadata;
    },
    async verify(token) {
      if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_LENGTH) {
        throw new ResourceServerError('malformed_token', 'The token is not a well-formed JWT');
      }
      const { metadata, keys } = await discovery();
      const currentDate = now();
      let claims: AccessTokenClaims;
      try {
        const { payload } = await jwtVerify(token, keys, {
          algorithms,
          typ: TOKEN_TYPE,
          issuer,
          audience,
          clockTolerance: tolerance,
          currentDate,
          requiredClaims: ['sub', 'exp', 'iat', 'jti', 'sid'],
        });
        claims = toClaims(payload, Math.floor(currentDate.getTime() / 1000), tolerance);
      } catch (error) {
        throw translate(error);
      }
      if (introspection && metadata.introspectionEndpoint) {
        await introspection.check(
          metadata.introspectionEndpoint,
          token,
          claims.tokenId,
          currentDate.getTime(),
        );
      }
      return claims;
    },
  };
}
