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

/** Where a request came from; recorded on sessions and audit entries. */
export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}
