import { sql, type Kysely } from 'kysely';
import { columnTypes } from '../dialect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  const { timestamp } = columnTypes(db);

  // API.md 9: `mfa_enabled` on user objects. A cache of "the user has a second factor", written
  // in the same transaction as every factor change (sql-mfa-repository.ts); the factor tables
  // stay the truth the password grant asks (MfaRepository.hasSecondFactor).
  await db.schema
    .alterTable('users')
    .addColumn('mfa_enabled', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();

  // One TOTP factor per user (RFC 6238). `secret` is the base32 secret, sealed with AES-256-GCM
  // under GATEHOUSE_KEY_ENCRYPTION_KEY when it is set (`secret_encryption`), like signing keys
  // (API.md 7). Pending until `confirmed_at`: enrolment takes effect only after a correct code.
  // `last_used_step` is the last accepted time step: a code is accepted only for a greater one,
  // by one conditional UPDATE, so a code is used at most once on every instance.
  await db.schema
    .createTable('totp_factors')
    .addColumn('user_id', 'integer', (c) =>
      c.primaryKey().references('users.id').onDelete('cascade'),
    )
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('secret_encryption', 'text', (c) =>
      c.notNull().check(sql`secret_encryption in ('none', 'aes-256-gcm')`),
    )
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('confirmed_at', timestamp)
    .addColumn('last_used_step', 'bigint', (c) => c.notNull().defaultTo(-1))
    .execute();

  // Recovery codes: SHA-256 (hex) of high-entropy random codes, single use.
  await db.schema
    .createTable('recovery_codes')
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('used_at', timestamp)
    .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
    .execute();

  // The MFA step of the password grant: one row per `mfa_token` (stored as SHA-256, hex),
  // single use, short-lived, with a bounded number of attempts. It remembers what the password
  // grant decided (the scope) and which password hash it proved (`password_digest`, SHA-256 of
  // the stored hash), so a password change or reset meanwhile voids it.
  await db.schema
    .createTable('mfa_challenges')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('session_scope', 'text', (c) => c.notNull())
    .addColumn('password_digest', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('used_at', timestamp)
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('mfa_challenges_expires_at_idx')
    .on('mfa_challenges')
    .column('expires_at')
    .execute();
}
