// npx tsx bench/audit-append.ts [--store sqlite|postgres]: what the audit log's hash chain
// (migration 0007) costs the hot path. In one process, on one store, rounds alternate between
// the chained append and the plain INSERT it replaced (built here the same way: a prepared
// statement through the same runner), and report medians and their ratio: the audit write
// alone, one at a time and 16 at once, and the whole refresh and password grants through
// services.ts. BENCHMARKS.md ("The audit hash chain") has a run.
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { AuditEvent, AuditLog } from '../src/domain/audit/audit-log.ts';
import { createServices, type Services } from '../src/services.ts';
import { openStorage, type Storage } from '../src/storage/open-storage.ts';
import type { Database } from '../src/storage/sql/database.ts';
import { toDbTime } from '../src/storage/sql/db-time.ts';
import { prepareQuery } from '../src/storage/sql/prepared-query.ts';
import { kyselyRunner, sqliteRunner, type QueryRunner } from '../src/storage/sql/run-query.ts';
import { beforeAfterArgs, compareRounds, freshStore, perOp } from './before-after.ts';
import { benchConfig } from './gatehouse-env.ts';

const args = beforeAfterArgs();

/** The audit write before the chain: one plain INSERT (sql-audit-repository.ts before 0007). */
function plainAuditLog(db: Kysely<Database>, run: QueryRunner): Pick<AuditLog, 'record'> {
  const insert = prepareQuery<
    'type' | 'createdAt' | 'actorId' | 'subjectId' | 'email' | 'ip' | 'userAgent' | 'details'
  >()((param) =>
    db.insertInto('audit_events').values({
      type: param('type'),
      created_at: param('createdAt'),
      actor_id: param('actorId'),
      subject_id: param('subjectId'),
      email: param('email'),
      ip: param('ip'),
      user_agent: param('userAgent'),
      details: param('details'),
    }),
  );
  return {
    record: async (event: AuditEvent) => {
      await run(
        insert({
          ...event,
          createdAt: toDbTime(event.createdAt),
          details: event.details === null ? null : JSON.stringify(event.details),
        }),
      );
    },
  };
}

/** A second connection to the store with the plain INSERT, as open-storage.ts would run it. */
function openPlain(url: string): { audit: Pick<AuditLog, 'record'>; close(): Promise<void> } {
  if (url.startsWith('sqlite:')) {
    const database = new SqliteDatabase(url.slice('sqlite:'.length));
    // As open-storage.ts sets them (journal_mode = WAL stays with the file).
    database.pragma('synchronous = FULL');
    database.pragma('busy_timeout = 5000');
    const cache = new Map<string, SqliteDatabase.Statement>();
    const prepare = (text: string) =>
      cache.get(text) ?? cache.set(text, database.prepare(text)).get(text)!;
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    const audit = plainAuditLog(db, sqliteRunner(database, prepare, kyselyRunner(db), url));
    return { audit, close: () => db.destroy() };
  }
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }),
  });
  return { audit: plainAuditLog(db, kyselyRunner(db)), close: () => db.destroy() };
}

const EVENT: AuditEvent = {
  type: 'token.refreshed',
  createdAt: new Date(),
  actorId: 1,
  subjectId: 1,
  email: 'bench@example.com',
  ip: '127.0.0.1',
  userAgent: 'bench/1.0',
  details: { session_id: '0b4f7c1e-5a7d-4a53-9d8e-2f0e6a1b9c33' },
};

async function main() {
  const store = await freshStore(args.store, 'audit');
  const config = benchConfig({ GATEHOUSE_DATABASE_URL: store.url });
  const storage: Storage = await openStorage(store.url);
  await storage.migrate();
  const plain = openPlain(store.url);
  const chained = await createServices(config, storage);
  const unchained = await createServices(config, {
    ...storage,
    audit: { ...storage.audit, record: plain.audit.record },
  });
  const email = 'bench@example.com';
  const password = 'correct horse battery staple';
  await chained.registerUser({ email, password });
  const client = { ip: '127.0.0.1', userAgent: 'bench/1.0' };
  const refreshers = new Map<Services, string>();
  for (const services of [chained, unchained]) {
    const grant = await services.passwordGrant({ username: email, password, client });
    refreshers.set(services, grant.refreshToken);
  }
  const refresh = async (services: Services) => {
    const grant = await services.rotateRefreshToken(refreshers.get(services)!, client);
    refreshers.set(services, grant.refreshToken);
  };

  const cases = {
    'audit write, 1 at a time': {
      after: () => perOp(400, 1, () => storage.audit.record(EVENT)),
      before: () => perOp(400, 1, () => plain.audit.record(EVENT)),
    },
    'audit write, 16 at once': {
      after: () => perOp(800, 16, () => storage.audit.record(EVENT)),
      before: () => perOp(800, 16, () => plain.audit.record(EVENT)),
    },
    'refresh grant (services)': {
      after: () => perOp(200, 1, () => refresh(chained)),
      before: () => perOp(200, 1, () => refresh(unchained)),
    },
    'password grant (services)': {
      after: () => perOp(20, 1, () => chained.passwordGrant({ username: email, password, client })),
      before: () =>
        perOp(20, 1, () => unchained.passwordGrant({ username: email, password, client })),
    },
  };
  console.log(`store: ${args.store}, ${args.rounds} rounds, medians in µs per operation`);
  await compareRounds(cases, args.rounds, (name, before, after) => {
    console.log(
      `${name.padEnd(28)} plain ${before.toFixed(0).padStart(7)}  chained ${after.toFixed(0).padStart(7)}  ratio ${(after / before).toFixed(2)}`,
    );
  });
  const report = await chained.verifyAuditChain();
  // The plain INSERTs leave unchained entries, which verification reports after the chain.
  console.log(`chain: ${report.verified} chained entries verified`);
  await plain.close();
  await storage.close();
  await store.drop();
}

await main();
