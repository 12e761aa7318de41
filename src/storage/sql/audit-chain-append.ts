import type SqliteDatabase from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import {
  auditContentDigest,
  auditLinkHash,
  type StoredAuditContent,
} from '../../domain/audit/audit-chain.ts';
import type { Database } from './database.ts';
import { dialectOf } from './dialect.ts';
import { prepareQuery } from './prepared-query.ts';
import type { BatchRunner, QueryRunner } from './run-query.ts';

/** Appends entries at the head of the audit chain, in order, atomically. */
export type AuditAppend = (entry: StoredAuditContent) => Promise<void>;

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

/**
 * SQLite: one statement per entry. One writer at a time; the batch's transaction holds the
 * write lock from its start (BEGIN IMMEDIATE), so the head each statement reads is the newest,
 * and the trigger of migration 0007 moves the head within it. The id is the one AUTOINCREMENT
 * would give, so the hash covers it.
 */
function sqliteAppend(db: Kysely<Database>) {
  return prepareQuery<AppendValues>()((param) => ({
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

/**
 * Postgres: a batch of entries in one statement. `for update` locks the head row, so appends
 * from any number of instances queue on it, and under READ COMMITTED a waiting one then reads
 * the head its predecessor committed. The recursive CTE links the batch in order with SQL's
 * sha256(), the same hash as `auditLinkHash`; ids come from the sequence first so that the
 * hash covers them. The head moves to the batch's last entry in the same statement.
 */
function postgresAppendBatch(db: Kysely<Database>) {
  // Each named value is an array of the entries' values, in order.
  const build = prepareQuery<AppendValues>()((param) => {
    const array = (name: AppendValues, type: string) =>
      sql`cast(${param(name)} as ${sql.raw(type)})`;
    return {
      compile: () =>
        sql`
          with recursive
          head as (select seq, hash from audit_chain for update),
          input as (
            select t.*, nextval(pg_get_serial_sequence('audit_events', 'id')) as id
            from unnest(
              ${array('digest', 'text[]')}, ${array('type', 'text[]')},
              ${array('createdAt', 'timestamptz[]')}, ${array('actorId', 'integer[]')},
              ${array('subjectId', 'integer[]')}, ${array('email', 'text[]')},
              ${array('ip', 'text[]')}, ${array('userAgent', 'text[]')},
              ${array('details', 'text[]')}
            ) with ordinality as t(digest, type, created_at, actor_id, subject_id, email, ip,
                                   user_agent, details, n)
          ),
          chain (n, seq, prev_hash, hash) as (
            select cast(0 as bigint), head.seq, cast(null as text), head.hash from head
            union all
            select c.n + 1, c.seq + 1, c.hash,
              encode(sha256(
                decode(c.hash, 'hex') || int8send(c.seq + 1) || int8send(i.id)
                  || decode(i.digest, 'hex')
              ), 'hex')
            from chain as c join input as i on i.n = c.n + 1
          ),
          moved as (
            update audit_chain
            set seq = last.seq, prev_hash = last.prev_hash, hash = last.hash
            from (select seq, prev_hash, hash from chain order by n desc limit 1) as last
          )
          insert into audit_events
            (id, seq, prev_hash, hash, type, created_at, actor_id, subject_id, email, ip,
             user_agent, details)
          select i.id, c.seq, c.prev_hash, c.hash, i.type, i.created_at, i.actor_id,
            i.subject_id, i.email, i.ip, i.user_agent, i.details
          from chain as c join input as i on i.n = c.n
          order by c.n
        `.compile(db),
    };
  });
  return (entries: StoredAuditContent[]) =>
    build({
      digest: entries.map(auditContentDigest),
      type: entries.map((e) => e.type),
      createdAt: entries.map((e) => e.createdAt),
      actorId: entries.map((e) => e.actorId),
      subjectId: entries.map((e) => e.subjectId),
      email: entries.map((e) => e.email),
      ip: entries.map((e) => e.ip),
      userAgent: entries.map((e) => e.userAgent),
      details: entries.map((e) => e.details),
    });
}

// Bounds one batch (one statement's arrays on Postgres, one transaction on SQLite); a larger
// backlog goes in the next batch.
const MAX_BATCH = 500;

interface Waiting {
  entry: StoredAuditContent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Appends serialize on the chain's head, and each commit waits for its flush to disk: on
 * Postgres the head row's lock is held until the WAL flush; on SQLite, at synchronous=FULL,
 * the fsync blocks the event loop itself (better-sqlite3 is synchronous), holding up every
 * request and the argon2 results waiting to be collected (issue 21). One entry per commit would
 * cap the logins and refreshes at one per flush; so each instance sends one batch at a time, of
 * every entry that arrived meanwhile, in one commit. `start(flush)` starts a batch once an entry
 * waits and none is under way. An entry's record() resolves once its batch committed; a failed
 * batch fails all its entries (none of them was stored).
 */
function batchingAppend(
  appendBatch: (entries: StoredAuditContent[]) => Promise<number>,
  start: (flush: () => void) => void,
) {
  const queue: Waiting[] = [];
  let flushing = false;
  const flush = async () => {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        const appended = await appendBatch(batch.map((w) => w.entry));
        if (appended !== batch.length) throw new Error(HEAD_MISSING);
        for (const waiting of batch) waiting.resolve();
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    flushing = false;
  };
  return (entry: StoredAuditContent) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ entry, resolve, reject });
      if (flushing) return;
      flushing = true;
      start(() => void flush());
    });
}

// Only a missing head row (the table edited by hand) makes an append insert nothing.
const HEAD_MISSING = 'audit log: the chain head row is missing';

/**
 * The audit log's append on `db`'s store: Postgres through `run` (the hot path's cached
 * statements), SQLite through `runBatch`, one transaction per batch.
 */
export function auditAppend(
  db: Kysely<Database>,
  run: QueryRunner,
  runBatch: BatchRunner,
): AuditAppend {
  if (dialectOf(db) === 'postgres') {
    const batch = postgresAppendBatch(db);
    // At once: the batch's statement is a round trip, and the entries that arrive during it
    // form the next batch.
    return batchingAppend(
      async (entries) => Number((await run(batch(entries))).numAffectedRows ?? 0),
      (flush) => flush(),
    );
  }
  const statement = sqliteAppend(db);
  return batchingAppend(
    async (entries) => {
      const results = await runBatch(
        entries.map((entry) => statement({ ...entry, digest: auditContentDigest(entry) })),
      );
      return results.reduce((sum, result) => sum + Number(result.numAffectedRows ?? 0), 0);
    },
    // Here the batch runs synchronously and no entry can arrive during it; so it waits for
    // the end of the event loop's turn (the check phase), and the entries recorded in that
    // turn, by the responses of all the argon2 hashes and queries that finished, share it.
    // A lone record pays one setImmediate hop, a few microseconds.
    (flush) => setImmediate(flush),
  );
}
