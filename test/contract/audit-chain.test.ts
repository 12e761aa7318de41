import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import {
  auditContentDigest,
  auditLinkHash,
  type StoredAuditContent,
} from '../../src/domain/audit/audit-chain.ts';
import type { AuditEvent } from '../../src/domain/audit/audit-log.ts';
import { verifyAuditChain } from '../../src/domain/audit/verify-audit-chain.ts';
import { migrationProvider } from '../../src/storage/sql/migrations/index.ts';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { openRawSql, sharedStoreUrl, type RawSql } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS, type StorageBackend } from '../support/storage-backends.ts';

// The audit log's hash chain (domain/audit/audit-chain.ts) on every store: Gatehouse's own
// appends verify; a change made past Gatehouse, through the test's own connection, is named.

function event(n: number): AuditEvent {
  return {
    type: 'login.succeeded',
    createdAt: new Date(Date.UTC(2031, 2, 1, 10, 0, n)),
    actorId: n,
    subjectId: n,
    email: `user${n}@example.com`,
    ip: '203.0.113.7',
    userAgent: 'agent/1.0',
    details: { session_id: `s${n}` },
  };
}

interface Chain {
  storage: Storage;
  raw: RawSql;
  url: string;
  /** Ids of the entries recorded, in order. */
  ids: number[];
}

const ENTRIES = 6;

/**
 * For the `describe` it is called in: one store with ENTRIES entries recorded through
 * Gatehouse. `chain(t)` gives it to a test, and puts every row of the log and its head back as
 * they were once the test is over, whatever the test did to them (a fresh Postgres schema per
 * test made the file too slow for a loaded machine).
 */
function chainPerSuite(backend: StorageBackend): (t: TestContext) => Promise<Chain> {
  let chain: Chain | undefined;
  before(async () => {
    const url = await sharedStoreUrl(backend);
    const storage = await openStorage(url);
    await storage.migrate();
    const raw = await openRawSql(url);
    for (let n = 1; n <= ENTRIES; n += 1) await storage.audit.record(event(n));
    const rows = await raw.query<{ id: number | string }>(
      'select id from audit_events order by seq',
    );
    chain = { storage, raw, url, ids: rows.map((row) => Number(row.id)) };
  });
  after(async () => {
    await chain?.raw.close();
    await chain?.storage.close();
  });
  return async (t) => {
    if (!chain) throw new Error('chainPerSuite: the suite has not started');
    const { raw } = chain;
    // Temporary tables: only this connection sees them. Real ones, created and dropped while
    // another suite migrates a schema of the same Postgres database, race Kysely's migrator,
    // whose table introspection reads every schema (`relation ... does not exist`).
    for (const table of ['audit_events', 'audit_chain']) {
      await raw.query(`create temp table ${table}_saved as select * from ${table}`);
    }
    t.after(async () => {
      for (const table of ['audit_events', 'audit_chain']) {
        await raw.query(`delete from ${table}`);
        await raw.query(`insert into ${table} select * from ${table}_saved`);
        await raw.query(`drop table ${table}_saved`);
      }
    });
    return chain;
  };
}

async function verify(chain: Chain) {
  return verifyAuditChain({ audit: chain.storage.audit });
}

for (const backend of STORAGE_BACKENDS) {
  describe(`the audit hash chain (${backend.name})`, { skip: backend.skip }, () => {
    const chainOf = chainPerSuite(backend);
    it('verifies every entry Gatehouse recorded and reports the newest hash as the head', async (t) => {
      const chain = await chainOf(t);
      const report = await verify(chain);
      assert.ok(report.ok, JSON.stringify(report));
      assert.equal(report.verified, ENTRIES);
      assert.equal(report.headSeq, ENTRIES);
      const [newest] = await chain.raw.query<{ hash: string }>(
        `select hash from audit_events where id = ${chain.ids.at(-1)}`,
      );
      assert.equal(report.headHash, newest?.hash);
      assert.match(report.headHash, /^[0-9a-f]{64}$/);
    });

    it('names the entry whose stored content was edited, for every field including the id', async (t) => {
      const chain = await chainOf(t);
      const target = chain.ids[2]!;
      const edits: Record<string, string> = {
        type: "type = 'login.failed'",
        created_at:
          backend.name === 'postgres'
            ? "created_at = created_at + interval '1 second'"
            : "created_at = '2031-03-01T10:00:09.000Z'",
        actor_id: 'actor_id = 999',
        subject_id: 'subject_id = null',
        email: "email = 'someone-else@example.com'",
        ip: "ip = '198.51.100.1'",
        user_agent: "user_agent = 'other'",
        details: `details = '{"session_id":"forged"}'`,
        id: 'id = id + 1000',
      };
      for (const [field, assignment] of Object.entries(edits)) {
        const [before] = await chain.raw.query<Record<string, unknown>>(
          `select * from audit_events where id = ${target}`,
        );
        await chain.raw.query(`update audit_events set ${assignment} where id = ${target}`);
        const edited = field === 'id' ? target + 1000 : target;
        const report = await verify(chain);
        assert.equal(report.ok, false, `an edit of ${field} is detected`);
        assert.equal(report.broken.problem, 'content_changed', field);
        assert.equal(report.broken.entryId, edited, field);
        assert.match(report.broken.message, new RegExp(`entry ${edited}: content changed`));
        assert.equal(report.verified, 2);
        // Put the row back as it was, for the next field.
        const restore = Object.keys(before!)
          .filter((column) => column !== 'id')
          .map((column) => `${column} = ${literal(before![column])}`);
        await chain.raw.query(
          `update audit_events set id = ${target}, ${restore.join(', ')} where id = ${edited}`,
        );
        assert.ok((await verify(chain)).ok, `restored after ${field}`);
      }
    });

    it('names a deleted entry as missing, and the entry after the gap', async (t) => {
      const chain = await chainOf(t);
      await chain.raw.query(`delete from audit_events where id = ${chain.ids[1]}`);
      const report = await verify(chain);
      assert.equal(report.ok, false);
      assert.equal(report.broken.problem, 'entry_missing');
      assert.equal(report.broken.entryId, chain.ids[2]);
      assert.match(
        report.broken.message,
        new RegExp(`seq 2 between entry ${chain.ids[0]} and entry ${chain.ids[2]}`),
      );
    });

    it('names deleted newest entries as missing, though no gap is left behind them', async (t) => {
      const chain = await chainOf(t);
      await chain.raw.query(
        `delete from audit_events where id in (${chain.ids[4]}, ${chain.ids[5]})`,
      );
      const report = await verify(chain);
      assert.equal(report.ok, false);
      assert.equal(report.broken.problem, 'entry_missing');
      assert.match(
        report.broken.message,
        new RegExp(`seq 5-6, the newest, after entry ${chain.ids[3]}`),
      );
    });

    it('names the entry after one edited and rehashed by someone who knows the rule: link broken', async (t) => {
      const chain = await chainOf(t);
      const [row] = await chain.raw.query<Record<string, unknown>>(
        `select * from audit_events where id = ${chain.ids[1]}`,
      );
      const content: StoredAuditContent = {
        type: String(row!.type),
        createdAt:
          row!.created_at instanceof Date ? row!.created_at.toISOString() : String(row!.created_at),
        actorId: Number(row!.actor_id),
        subjectId: Number(row!.subject_id),
        email: 'rewritten@example.com',
        ip: String(row!.ip),
        userAgent: String(row!.user_agent),
        details: String(row!.details),
      };
      const rehashed = auditLinkHash(
        String(row!.prev_hash),
        Number(row!.seq),
        chain.ids[1]!,
        auditContentDigest(content),
      );
      await chain.raw.query(
        `update audit_events set email = 'rewritten@example.com', hash = '${rehashed}' where id = ${chain.ids[1]}`,
      );
      const report = await verify(chain);
      assert.equal(report.ok, false);
      assert.equal(report.broken.problem, 'link_broken');
      assert.equal(report.broken.entryId, chain.ids[2]);
      assert.match(report.broken.message, new RegExp(`not the hash of entry ${chain.ids[1]}`));
    });

    it('reports a deleted chain head rather than failing', async (t) => {
      const chain = await chainOf(t);
      await chain.raw.query('delete from audit_chain');
      const report = await verify(chain);
      assert.equal(report.ok, false);
      assert.match(report.broken.message, /chain head \(table audit_chain\) is missing/);
      await assert.rejects(chain.storage.audit.record(event(3)), /chain head row is missing/);
    });

    it('names an entry written past Gatehouse, outside the chain', async (t) => {
      const chain = await chainOf(t);
      await chain.raw.query(
        `insert into audit_events (type, created_at, email) values ('user.enabled', '2031-03-01T11:00:00.000Z', 'forged@example.com')`,
      );
      const [forged] = await chain.raw.query<{ id: number | string }>(
        'select id from audit_events where seq is null',
      );
      const report = await verify(chain);
      assert.equal(report.ok, false);
      assert.equal(report.broken.problem, 'not_in_chain');
      assert.equal(report.broken.entryId, Number(forged?.id));
    });

    it('verifies from the checkpoint of a pruned prefix, and names a prefix deleted without one', async (t) => {
      const chain = await chainOf(t);
      await chain.raw.query(`delete from audit_events where seq <= 2`);
      const unrecorded = await verify(chain);
      assert.equal(unrecorded.ok, false);
      assert.equal(unrecorded.broken.problem, 'entry_missing');
      assert.match(unrecorded.broken.message, /seq 1-2 between entry \(chain start\)/);
      // docs/admin-api.md's pruning: move the anchor to the last pruned entry, then delete.
      // Written as Gatehouse writes times, the cutoff compares right on both stores.
      const cutoff = "'2031-03-01T10:00:04.000Z'";
      await chain.raw.query(
        `update audit_chain set anchor_seq = seq_hash.seq, anchor_hash = seq_hash.hash from (select seq, hash from audit_events where seq is not null and created_at < ${cutoff} order by seq desc limit 1) as seq_hash`,
      );
      await chain.raw.query(
        `delete from audit_events where seq <= (select anchor_seq from audit_chain) or (seq is null and id <= (select legacy_max_id from audit_chain))`,
      );
      const pruned = await verify(chain);
      assert.ok(pruned.ok, JSON.stringify(pruned));
      assert.equal(pruned.verified, 3);
      assert.equal(pruned.headSeq, 6);
    });

    it('counts entries recorded before the chain began apart, and chains those after', async (t) => {
      const url = await sharedStoreUrl(backend);
      await migrateUpTo(url, '0004-audit-log');
      const raw = await openRawSql(url);
      t.after(() => raw.close());
      for (const n of [1, 2]) {
        await raw.query(
          `insert into audit_events (type, created_at, email) values ('user.registered', '2030-01-0${n}T00:00:00.000Z', 'old${n}@example.com')`,
        );
      }
      const storage = await openStorage(url);
      t.after(() => storage.close());
      assert.ok((await storage.migrate()).includes('0007-audit-chain'));
      for (const n of [1, 2, 3]) await storage.audit.record(event(n));
      const report = await verifyAuditChain({ audit: storage.audit });
      assert.ok(report.ok, JSON.stringify(report));
      assert.equal(report.verified, 3);
      assert.equal(report.legacy, 2);
    });

    it('forms one valid chain from concurrent writers on separate connections to one store', async (t) => {
      const chain = await chainOf(t);
      const writers = await Promise.all(
        Array.from({ length: 4 }, () => openStorage(chain.url, { poolSize: 4 })),
      );
      t.after(() => Promise.all(writers.map((writer) => writer.close())));
      const perWriter = 40;
      await Promise.all(
        writers.flatMap((writer, w) =>
          Array.from({ length: perWriter }, (_, i) => writer.audit.record(event(w * 1000 + i))),
        ),
      );
      const report = await verify(chain);
      assert.ok(report.ok, JSON.stringify(report));
      assert.equal(report.verified, ENTRIES + writers.length * perWriter);
      const [count] = await chain.raw.query<{ n: number | string }>(
        'select count(*) as n from audit_events',
      );
      assert.equal(Number(count?.n), ENTRIES + writers.length * perWriter);
    });
  });
}

/** Applies the migrations up to `target` only: a store as an older Gatehouse left it. */
async function migrateUpTo(url: string, target: string): Promise<void> {
  const postgres = url.startsWith('postgres');
  const db = new Kysely<unknown>({
    dialect: postgres
      ? new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) })
      : new SqliteDialect({ database: new SqliteDatabase(url.slice('sqlite:'.length)) }),
  });
  try {
    // Pinned to the suite's own schema, as open-storage.ts does.
    const migrationTableSchema = postgres
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
          ?.schema
      : undefined;
    const migrator = new Migrator({ db, provider: migrationProvider, migrationTableSchema });
    const { error } = await migrator.migrateTo(target);
    if (error) throw error;
  } finally {
    await db.destroy();
  }
}

/** A SQL literal of a value read back from a row (restoring it as it was). */
function literal(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return `'${value.toISOString()}'`;
  return `'${String(value).replaceAll("'", "''")}'`;
}
