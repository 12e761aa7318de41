import { randomUUID } from 'node:crypto';
import type { ClientInfo } from '../client-info.ts';

export interface Session {
  id: string;
  userId: number;
  createdAt: Date;
  /** Last login, refresh or authenticated request (written at most once a minute). */
  lastUsedAt: Date;
  /** When the session ends unless refreshed; slides forward with each refresh (API.md 2). */
  expiresAt: Date;
  revokedAt: Date | null;
  userAgent: string | null;
  ip: string | null;
  /** The OAuth2 scopes granted at login; refreshes keep them. */
  scope: string;
}

/**
 * Why a session ended, kept so that the device it ended on can be told in the refresh grant's
 * `invalid_grant` (a signed-out person learns why, instead of a bare "invalid"). Says nothing
 * the session's own holder may not know.
 */
export type SessionEndReason =
  /** POST /logout from this session itself. */
  | 'signed_out'
  /**
   * Ended by its user from another session (DELETE /users/me/sessions/{id}, /logout/all,
   * /logout/others).
   */
  | 'ended_elsewhere'
  /** A password change or a password reset (ASVS 3.3.3). */
  | 'password_changed'
  /** An administrator disabled (or re-enabled) the account. */
  | 'admin'
  /** A used refresh token was presented again (RFC 9700 4.14.2). */
  | 'reuse_detected'
  /** One of its tokens was revoked (RFC 7009). */
  | 'revoked';

export const SESSION_END_REASONS: readonly SessionEndReason[] = [
  'signed_out',
  'ended_elsewhere',
  'password_changed',
  'admin',
  'reuse_detected',
  'revoked',
];

/** A stored value read back as a SessionEndReason only when it is one (no cast of a row). */
export function isSessionEndReason(value: unknown): value is SessionEndReason {
  return (SESSION_END_REASONS as readonly unknown[]).includes(value);
}

/**
 * The session a grant opens once the caller has proved who they are: it ends `ttlSeconds`
 * after `now` unless a refresh extends it (API.md 2). The password, passkey and MFA grants all
 * open their sessions through this one shape.
 */
export function newSession(input: {
  userId: number;
  client: ClientInfo;
  scope: string;
  now: Date;
  ttlSeconds: number;
}): Session {
  return {
    id: randomUUID(),
    userId: input.userId,
    createdAt: input.now,
    lastUsedAt: input.now,
    expiresAt: new Date(input.now.getTime() + input.ttlSeconds * 1000),
    revokedAt: null,
    userAgent: input.client.userAgent,
    ip: input.client.ip,
    scope: input.scope,
  };
}
