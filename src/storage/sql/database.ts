import type { Generated } from 'kysely';
import type { DbTime } from './db-time.ts';

// Table shapes as Kysely sees them. Times (DbTime) are converted only by db-time.ts.

export interface UsersTable {
  id: Generated<number>;
  email: string;
  email_normalized: string;
  password_hash: string;
  role: string;
  created_at: DbTime;
  disabled_at: DbTime | null;
  /** Migration 0011; SQLite stores 0/1. */
  email_verified: Generated<boolean | number>;
  /** Migration 0012: a cache of "has a second factor", kept by sql-mfa-repository.ts. */
  mfa_enabled: Generated<boolean | number>;
}

export interface SessionsTable {
  id: string;
  user_id: number;
  created_at: DbTime;
  last_used_at: DbTime;
  expires_at: DbTime;
  revoked_at: DbTime | null;
  /** A SessionEndReason once revoked (migration 0014); null while live or when unknown. */
  revoked_reason: Generated<string | null>;
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
  /** The child this token was rotated into, sealed under this token (migration 0006), or null. */
  sealed_child: string | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface AuditEventsTable {
  /** bigserial on Postgres (read back as a string), integer on SQLite. */
  id: Generated<number | string>;
  type: string;
  created_at: DbTime;
  actor_id: number | null;
  subject_id: number | null;
  email: string | null;
  ip: string | null;
  user_agent: string | null;
  /** JSON object text, or null. */
  details: string | null;
  /** The hash chain (migration 0007); null on entries recorded before it. bigint: see `id`. */
  seq: Generated<number | string | null>;
  prev_hash: Generated<string | null>;
  hash: Generated<string | null>;
}

/** The audit chain's one row: its head and anchor (migration 0007). */
export interface AuditChainTable {
  id: number;
  seq: number | string;
  prev_hash: string;
  hash: string;
  anchor_seq: number | string;
  anchor_hash: string;
  legacy_max_id: number | string;
}

/** Per-account login throttling (migration 0003). Times are epoch milliseconds. */
export interface LoginThrottlesTable {
  key: string;
  failures: number;
  /** bigint: Postgres reads it back as a string. */
  next_lock_ms: number | string;
  locked_until_ms: number | string;
  last_attempt_ms: number | string;
}

/** Registered API clients (migration 0009). */
export interface ApiClientsTable {
  id: Generated<number>;
  client_id: string;
  name: string;
  /** SHA-256 of the secret, hex. */
  secret_hash: string;
  created_at: DbTime;
}

/** Asymmetric signing keys (migration 0008). */
export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_key: string;
  private_key_encryption: string;
  created_at: DbTime;
  activated_at: DbTime;
  retired_at: DbTime | null;
}

/** Mail waiting for, or done with, delivery (migration 0010; API.md 8). */
export interface MailOutboxTable {
  /** bigserial on Postgres (read back as a string), integer on SQLite. */
  id: Generated<number | string>;
  recipient: string;
  subject: string;
  /** Null once sent or failed: bodies may hold live tokens. */
  text_body: string | null;
  html_body: string | null;
  kind: string;
  status: string;
  attempts: Generated<number>;
  next_attempt_at: DbTime;
  claimed_until: DbTime | null;
  claim_token: string | null;
  last_error: string | null;
  created_at: DbTime;
  sent_at: DbTime | null;
}

/** Single-use mail tokens (migration 0011), stored only as SHA-256 (hex). */
export interface EmailTokensTable {
  token_hash: string;
  user_id: number;
  purpose: string;
  /** The address the link went to: the new one for an email change. */
  email: string;
  created_at: DbTime;
  expires_at: DbTime;
  used_at: DbTime | null;
}

/** TOTP factors (migration 0012; API.md 9). */
export interface TotpFactorsTable {
  user_id: number;
  secret: string;
  secret_encryption: string;
  created_at: DbTime;
  confirmed_at: DbTime | null;
  /** bigint: Postgres reads it back as a string. */
  last_used_step: Generated<number | string>;
}

/** Single-use recovery codes (migration 0012), stored only as SHA-256 (hex). */
export interface RecoveryCodesTable {
  user_id: number;
  code_hash: string;
  created_at: DbTime;
  used_at: DbTime | null;
}

/** Pending MFA steps of password grants (migration 0012): `mfa_token` as SHA-256 (hex). */
export interface MfaChallengesTable {
  token_hash: string;
  user_id: number;
  scope: string;
  session_scope: string;
  password_digest: string;
  created_at: DbTime;
  expires_at: DbTime;
  used_at: DbTime | null;
  attempts: Generated<number>;
}

/** Migration 0013: WebAuthn credentials (API.md 9). */
export interface PasskeysTable {
  id: string;
  user_id: number;
  credential_id: string;
  public_key: string;
  /** bigint: Postgres reads it back as a string. */
  sign_count: number | string;
  /** JSON array of transport names. */
  transports: string;
  device_type: string;
  /** SQLite stores 0/1. */
  backed_up: boolean | number;
  name: string;
  created_at: DbTime;
  last_used_at: DbTime | null;
}

export interface WebauthnChallengesTable {
  challenge: string;
  purpose: string;
  user_id: number | null;
  created_at: DbTime;
  expires_at: DbTime;
  used_at: DbTime | null;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  settings: SettingsTable;
  audit_events: AuditEventsTable;
  audit_chain: AuditChainTable;
  login_throttles: LoginThrottlesTable;
  api_clients: ApiClientsTable;
  signing_keys: SigningKeysTable;
  mail_outbox: MailOutboxTable;
  email_tokens: EmailTokensTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
  mfa_challenges: MfaChallengesTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
}
