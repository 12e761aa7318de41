import type SqliteDatabase from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { auditLinkHash } from '../../domain/audit/audit-chain.ts';
import type { Database } from './database.ts';
import { dialectOf } from './dialect.ts';
import { prepareQuery } from './prepared-query.ts';

/** The values of one append: the entry's fields as stored, and their digest (audit-chain.ts). */
type AppendValues =
  | 'digest'
  | 'type'
  | 'createdAt'
  | 'actorId'
  | 'subjectId'
  | 'email'
  | 'ip'
  | 'userAgent'
  | 'details';

const SQLITE_LINK_FUNCTION = 'gatehouse_audit_link';

/** Lets SQLite statements compute `auditLinkHash` (open-storage.ts registers it once). */
export function registerAuditLinkFunction(database: SqliteDatabase.Database): void {
  database.function(
    SQLITE_LINK_FUNCTION,
    { deterministic: true },
    (prevHash: unknown, seq: unknown, id: unknown, digest: unknown) =>
      auditLinkHash(String(prevHash), Number(seq), Number(id), String(digest)),
  );
}

/**
 * The append as ONE statement on each store, so it costs the hot path (every login and
 * refresh) one round trip, as the plain insert did, and can't be half done. It reads the head,
 * writes the entry linked to it and moves the head, atomically:
 * - Postgres: the UPDATE of the head row takes its row lock, so concurrent appends from any
 *   number of instances queue on it; under READ COMMITTED a waiting UPDATE re-reads the row
 *   its predecessor committed, so each links to the one before. SQL's sha256() computes the
 *   same link hash as `auditLinkHash`. The id comes from the sequence first so that it, too,
 *   is covered by the hash.
 * - SQLite: one writer at a time; the statement holds the write lock from its start, and the
 *   trigger of migration 0007 moves the head. The id is the one AUTOINCREMENT would give.
 */
export function prepareAuditAppend(db: Kysely<Database>) {
  if (dialectOf(db) === 'postgres') {
    return prepareQuery<AppendValues>((param) => ({
      compile: () =>
        sql`
          with next as (select nextval(pg_get_serial_sequence('audit_events', 'id')) as id),
          head as (
            update audit_chain as c
            set seq = c.seq + 1,
                prev_hash = c.hash,
                hash = encode(sha256(
                  decode(c.hash, 'hex') || int8send(c.seq + 1) || int8send(next.id)
                    || decode(${param('digest')}, 'hex')
                ), 'hex')
            from next
            returning c.seq, c.prev_hash, c.hash, next.id
          )
          insert into audit_events
            (id, seq, prev_hash, hash, type, created_at, actor_id, subject_id, email, ip,
             user_agent, details)
          select head.id, head.seq, head.prev_hash, head.hash,
            cast(${param('type')} as text), cast(${param('createdAt')} as timestamptz),
            cast(${param('actorId')} as integer), cast(${param('subjectId')} as integer),
            cast(${param('email')} as text), cast(${param('ip')} as text),
            cast(${param('userAgent')} as text), cast(${param('details')} as text)
          from head
        `.compile(db),
    }));
  }
  return prepareQuery<AppendValues>((param) => ({
    compile: () =>
      sql`
        insert into audit_events
          (id, seq, prev_hash, hash, type, created_at, actor_id, subject_id, email, ip,
           user_agent, details)
        select next.id, head.seq + 1, head.hash,
          ${sql.raw(SQLITE_LINK_FUNCTION)}(head.hash, head.seq + 1, next.id, ${param('digest')}),
          ${param('type')}, ${param('createdAt')}, ${param('actorId')}, ${param('subjectId')},
          ${param('email')}, ${param('ip')}, ${param('userAgent')}, ${param('details')}
        from audit_chain as head,
          (select max(
             coalesce((select seq from sqlite_sequence where name = 'audit_events'), 0),
             coalesce((select max(id) from audit_events), 0)
           ) + 1 as id) as next
      `.compile(db),
  }));
}
