/**
 * Why a request was refused, as a stable code a service can branch on. The message says the
 * same for people; neither ever holds the token (ASVS 7.1.1: no credentials in logs).
 */
export type ResourceServerErrorCode =
  // 401, RFC 6750 3.1 "invalid_token" (no `error` attribute for `missing_token`):
  | 'missing_token'
  | 'malformed_token'
  | 'invalid_signature'
  | 'unknown_key'
  | 'algorithm_not_allowed'
  | 'wrong_token_type'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_revoked'
  // 403, RFC 6750 3.1 "insufficient_scope":
  | 'insufficient_scope'
  // 503: Gatehouse (or the way to it) is down or misconfigured; the token may be fine.
  | 'discovery_failed'
  | 'jwks_unavailable'
  | 'introspection_failed';

/** The HTTP answer each code gets from the Fastify plugin and the Express middleware. */
export const STATUS_OF = {
  missing_token: 401,
  malformed_token: 401,
  invalid_signature: 401,
  unknown_key: 401,
  algorithm_not_allowed: 401,
  wrong_token_type: 401,
  wrong_issuer: 401,
  wrong_audience: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  token_revoked: 401,
  insufficient_scope: 403,
  discovery_failed: 503,
  jwks_unavailable: 503,
  introspection_failed: 503,
} as const satisfies Record<ResourceServerErrorCode, 401 | 403 | 503>;

export class ResourceServerError extends Error {
  override readonly name = 'ResourceServerError';
  readonly code: ResourceServerErrorCode;
  /** 401, 403 or 503: what a resource server should answer. */
  readonly status: 401 | 403 | 503;

  constructor(code: ResourceServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = STATUS_OF[code];
  }
}
