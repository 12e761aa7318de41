/**
 * The one error class of Gatehouse. Each error carries a stable snake_case `code` and a
 * client-safe `message`; anything internal goes in `cause`, which is logged, never sent.
 * Domain errors know nothing of HTTP: http/errors.ts maps every code to a response.
 */
export const ERROR_CODES = [
  'invalid_input', // a field failed a domain rule (e.g. password policy); `field` says which
  'email_taken',
  'invalid_credentials',
  'not_authenticated',
  'invalid_token',
  'token_expired',
  'permission_denied',
  'not_found',
  'invalid_grant',
  'invalid_client', // RFC 6749 5.2: API client authentication failed (POST /introspect)
  'invalid_request', // RFC 6749 5.2 / RFC 7009 2.2.1: a required OAuth parameter is missing
  'refresh_token_reused',
  'unsupported_grant_type',
  'invalid_scope',
  'incorrect_password',
  'last_admin',
  'too_many_attempts', // one account's logins are throttled after repeated failures (ASVS 2.2.1)
  'rate_limited', // one client address sent too many requests (API.md 4)
  'hashing_overloaded',
  'store_unavailable',
  'shutting_down', // a request that arrived after the server began to close
  'mail_unavailable', // production without GATEHOUSE_SMTP_URL: mail-sending endpoints can't work
  'invalid_mail_token', // a verification, reset or email-change link that is unknown, used or expired
  'email_not_verified', // GATEHOUSE_REQUIRE_VERIFIED_EMAIL and the password grant of an unverified user
  'mfa_required', // API.md 9: the password was right; the second factor is asked with `mfaToken`
  'invalid_mfa_code', // a wrong, replayed or used TOTP or recovery code (mfa-otp grant: invalid_grant)
  'mfa_already_enabled', // TOTP enrolment while a confirmed factor exists
  'mfa_not_pending', // TOTP confirmation without an enrolment in progress
  'invalid_passkey', // a WebAuthn registration that failed verification or reused a challenge
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface GatehouseErrorOptions {
  cause?: unknown;
  /** For `invalid_input`: the request field at fault, e.g. `password`. */
  field?: string;
  /** Seconds a client should wait before retrying (rate limits, lockouts, overload). */
  retryAfterSeconds?: number;
  /** For `mfa_required`: the single-use `mfa_token` the client sends to the mfa-otp grant. */
  mfaToken?: string;
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly mfaToken: string | undefined;

  constructor(code: ErrorCode, message: string, options: GatehouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.field = options.field;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.mfaToken = options.mfaToken;
  }
}

export function isGatehouseError(value: unknown, code?: ErrorCode): value is GatehouseError {
  return value instanceof GatehouseError && (code === undefined || value.code === code);
}
