import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  const { timestamp } = columnTypes(db);
  const postgres = dialectOf(db) === 'postgres';

  // API.md 3: the audit log. No foreign keys on actor_id / subject_id: entries outlive the
  // accounts they name, so a deleted user's history (and its deletion) stays on record.
  await db.schema
    .createTable('audit_events')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('actor_id', 'integer')
    .addColumn('subject_id', 'integer')
    .addColumn('email', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    // A small JSON object (e.g. the old and new role); text in both stores, read back by us only.
    .addColumn('details', 'text')
    .execute();
  // Pages are read newest first by id; each filter of GET /audit has an index to start from.
  await db.schema
    .createIndex('audit_events_subject_id_idx')
    .on('audit_events')
    .columns(['subject_id', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_events_actor_id_idx')
    .on('audit_events')
    .columns(['actor_id', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_events_type_idx')
    .on('audit_events')
    .columns(['type', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_events_created_at_idx')
    .on('audit_events')
    .column('created_at')
    .execute();
}
