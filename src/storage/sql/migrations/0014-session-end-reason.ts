import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  // Why a session ended, so a signed-out device can be told: a SessionEndReason,
  // null while the session lives, for sessions ended before this migration, and on expiry.
  await db.schema.alterTable('sessions').addColumn('revoked_reason', 'text').execute();
}
