import { sql, type Kysely } from 'kysely';
import { columnTypes } from '../dialect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  const { timestamp } = columnTypes(db);

  // API.md 8. Existing (and imported) accounts start unverified: nobody ever proved they read
  // mail at that address, and GATEHOUSE_REQUIRE_VERIFIED_EMAIL must not trust them on faith.
  await db.schema
    .alterTable('users')
    .addColumn('email_verified', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();

  // Single-use mail tokens (verification, password reset, email change), stored only as their
  // SHA-256 (hex): a copy of the store opens no account. `email` is the address the link was
  // sent to (the new address for an email change); a token works only while it still matters
  // for that address.
  await db.schema
    .createTable('email_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) =>
      c.notNull().check(sql`purpose in ('verify_email', 'password_reset', 'email_change')`),
    )
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('used_at', timestamp)
    .execute();
  // A newer token voids older ones: at most one unused token per user and purpose, enforced by
  // the store so that even a race between two requests can't leave two live links.
  await db.schema
    .createIndex('email_tokens_live_idx')
    .on('email_tokens')
    .columns(['user_id', 'purpose'])
    .unique()
    .where(sql.ref('used_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('email_tokens_expires_at_idx')
    .on('email_tokens')
    .column('expires_at')
    .execute();
}
