export interface Session {
  id: string;
  userId: number;
  createdAt: Date;
  lastUsedAt: Date;
  /** When the session ends unless refreshed; the refresh token's lifetime (API.md 2). */
  expiresAt: Date;
  revokedAt: Date | null;
  userAgent: string | null;
  ip: string | null;
}

/** Where a request came from; recorded on sessions and audit entries. */
export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}
