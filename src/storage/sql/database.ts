import type { Generated } from 'kysely';

/**
 * Table shapes as Kysely sees them. Times are written as ISO 8601 UTC strings; SQLite keeps
 * them as text (which sorts correctly), Postgres as timestamptz (read back as Date).
 */
export type DbTime = string | Date;

export interface UsersTable {
  id: Generated<number>;
  email: string;
  email_normalized: string;
  password_hash: string;
  role: string;
  created_at: DbTime;
  disabled_at: DbTime | null;
}

export interface SessionsTable {
  id: string;
  user_id: number;
  created_at: DbTime;
  last_used_at: DbTime;
  expires_at: DbTime;
  revoked_at: DbTime | null;
  user_agent: string | null;
  ip: string | null;
  scope: Generated<string>;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: DbTime;
  expires_at: DbTime;
  used_at: DbTime | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  settings: SettingsTable;
}

export function toDate(value: DbTime): Date {
  return value instanceof Date ? value : new Date(value);
}

export function toDbTime(date: Date): string {
  return date.toISOString();
}
