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
