import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  // The child a rotation issued, sealed under the parent token itself (AES-256-GCM,
  // key derived from the parent), so a re-presentation of the parent inside
  // GATEHOUSE_REFRESH_REUSE_GRACE gets that same child back instead of a second chain. Only the
  // holder of the parent can open it; it is written only when the window is on, and erased
  // once the window has passed.
  await db.schema.alterTable('refresh_tokens').addColumn('sealed_child', 'text').execute();
}
