import type { MailFlowsConfig } from './config.ts';
import type { EnvReader } from './env-reader.ts';

/** Reads the settings of verification, password reset and email change by mail (API.md 8). */
export function readMailFlowsConfig(read: EnvReader): MailFlowsConfig {
  return {
    requireVerifiedEmail: read.flag('GATEHOUSE_REQUIRE_VERIFIED_EMAIL', false),
    // OWASP Forgot Password Cheat Sheet: reset tokens expire after a short time.
    resetTokenTtl: read.integer('GATEHOUSE_RESET_TOKEN_TTL', 1800, 60, 86_400),
    verifyTokenTtl: read.integer('GATEHOUSE_VERIFY_TOKEN_TTL', 86_400, 60, 86_400 * 30),
    resetRateLimitIp: read.integer('GATEHOUSE_RATE_LIMIT_PASSWORD_RESET', 5, 0, 1_000_000),
    resetRateLimitAddress: read.integer(
      'GATEHOUSE_RATE_LIMIT_PASSWORD_RESET_ADDRESS',
      5,
      0,
      1_000_000,
    ),
  };
}
