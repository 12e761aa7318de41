import type { UserRepository } from '../accounts/user-repository.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { FailureTimingFloor } from '../passwords/failure-timing-floor.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { PasswordPolicy } from '../passwords/password-policy.ts';
import type { LoginThrottle } from '../throttle/login-throttle.ts';
import type { RenderMail } from './mail-draft.ts';
import type { MailTokenRepository } from './mail-token-repository.ts';

export interface MailFlowDeps {
  users: UserRepository;
  mailTokens: MailTokenRepository;
  hasher: PasswordHasher;
  clock: Clock;
  audit: AuditLog;
  policy: PasswordPolicy;
  throttle: LoginThrottle;
  /** Holds answers for unknown addresses as long as real requests take (reset requests). */
  resetTiming: FailureTimingFloor;
  renderMail: RenderMail;
  /** Called after a commit that queued mail: the sender delivers at once, not at its next poll. */
  mailQueued: () => void;
  /** Absolute base of every link in mail (GATEHOUSE_PUBLIC_URL), no trailing slash. */
  publicUrl: string;
  /** Seconds a link lives: verification and email change, and password reset. */
  verifyTokenTtl: number;
  resetTokenTtl: number;
}

/** API.md 8: one answer for every unusable token (unknown, used, expired, voided, stale). */
export function invalidMailToken(): GatehouseError {
  return new GatehouseError('invalid_mail_token', 'Invalid or expired token');
}

export function expiresIn(now: Date, seconds: number): Date {
  return new Date(now.getTime() + seconds * 1000);
}
