import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.ts';

// The genesis hash of audit-chain.ts, as it was when this migration was written.
const GENESIS_HASH = '0'.repeat(64);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const bigint = postgres ? 'bigint' : 'integer';

  // The hash chain of the audit log (domain/audit/audit-chain.ts). Entries recorded before
  // this migration keep null chain columns: they stay readable but are not covered, and
  // `legacy_max_id` below tells them apart from any unchained entry written later.
  // (One column per statement: SQLite adds one at a time.)
  await db.schema.alterTable('audit_events').addColumn('seq', bigint).execute();
  await db.schema.alterTable('audit_events').addColumn('prev_hash', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('hash', 'text').execute();
  // One entry per position: two writers can never both take the same seq.
  await db.schema
    .createIndex('audit_events_seq_key')
    .on('audit_events')
    .column('seq')
    .unique()
    .execute();

  // One row: the chain's head, which every append reads and moves in its own statement (the
  // row lock serializes appends on Postgres), and its anchor, where verification starts (the
  // genesis; a pruned prefix moves it to the last pruned entry).
  await db.schema
    .createTable('audit_chain')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('seq', bigint, (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('anchor_seq', bigint, (c) => c.notNull())
    .addColumn('anchor_hash', 'text', (c) => c.notNull())
    .addColumn('legacy_max_id', bigint, (c) => c.notNull())
    .execute();
  await sql`
    insert into audit_chain (id, seq, prev_hash, hash, anchor_seq, anchor_hash, legacy_max_id)
    select 1, 0, ${GENESIS_HASH}, ${GENESIS_HASH}, 0, ${GENESIS_HASH}, coalesce(max(id), 0)
    from audit_events
  `.execute(db);

  if (!postgres) {
    // SQLite has no UPDATE inside an INSERT statement; a trigger moves the head within the
    // append's own statement, so the two can never disagree.
    await sql`
      create trigger audit_chain_advance after insert on audit_events
      when new.seq is not null
      begin
        update audit_chain set seq = new.seq, prev_hash = new.prev_hash, hash = new.hash;
      end
    `.execute(db);
  }
}
