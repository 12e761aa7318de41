import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  const { timestamp } = columnTypes(db);
  const postgres = dialectOf(db) === 'postgres';

  // API.md 8: every message is written here in the same transaction as the change that caused
  // it, then delivered by the background sender; an SMTP outage delays mail, never loses it.
  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    // Bodies may hold live links (reset tokens): cleared once the message is sent or has
    // failed, so the store keeps no usable token longer than delivery needs.
    .addColumn('text_body', 'text')
    .addColumn('html_body', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    // queued | sending | sent | failed | logged (development without SMTP)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', timestamp, (c) => c.notNull())
    // The lease of the sender that claimed the row: past it, another sender may claim it again
    // (a crashed instance's claim is retried). The token tells one claim from the next.
    .addColumn('claimed_until', timestamp)
    .addColumn('claim_token', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('sent_at', timestamp)
    .execute();
  // The sender's claim looks for due rows by status and time.
  await db.schema
    .createIndex('mail_outbox_due_idx')
    .on('mail_outbox')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('mail_outbox_recipient_idx')
    .on('mail_outbox')
    .columns(['recipient', 'id'])
    .execute();
}
