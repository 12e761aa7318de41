import SqliteDatabase from 'better-sqlite3';
import { resolve as resolvePath } from 'node:path';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  sql,
  SqliteAdapter,
  SqliteDialect,
  type MigrationLockOptions,
  type SqliteDatabase as SqliteDialectDatabase,
} from 'kysely';
import type { Pool } from 'pg';
import type { UserRepository } from '../domain/accounts/user-repository.ts';
import type { AuditLog } from '../domain/audit/audit-log.ts';
import type { ApiClientRepository } from '../domain/clients/api-client-repository.ts';
import type { MailOutbox } from '../domain/mail/mail-outbox.ts';
import type { UserTransferRepository } from '../domain/accounts/user-transfer.ts';
import type { MailTokenRepository } from '../domain/email/mail-token-repository.ts';
import type { MfaRepository } from '../domain/mfa/mfa-repository.ts';
import type { PasskeyRepository } from '../domain/passkeys/passkey-repository.ts';
import type { LoginThrottleRepository } from '../domain/throttle/login-throttle-repository.ts';
import type { SessionRepository } from '../domain/sessions/session-repository.ts';
import type { SettingsRepository } from '../domain/tokens/signing-key.ts';
import type { SigningKeyRepository } from '../domain/tokens/signing-key-repository.ts';
import type { Database } from './sql/database.ts';
import type { SqlDialectName } from './sql/dialect.ts';
import type { RedisConnection } from './redis/open-redis.ts';
import { registerAuditLinkFunction } from './sql/audit-chain-append.ts';
import {
  kyselyBatchRunner,
  kyselyRunner,
  sqliteBatchRunner,
  sqliteRunner,
  sqliteUnsyncedRunner,
  type BatchRunner,
  type QueryRunner,
} from './sql/run-query.ts';
import { migrationProvider } from './sql/migrations/index.ts';
import { preparePrivateSqliteFile } from './sql/private-sqlite-file.ts';
import { SqlApiClientRepository } from './sql/sql-api-client-repository.ts';
import { SqlAuditRepository } from './sql/sql-audit-repository.ts';
import { SqlLoginThrottleRepository } from './sql/sql-login-throttle-repository.ts';
import { SqlMailOutbox } from './sql/sql-mail-outbox.ts';
import { SqlUserTransfer } from './sql/sql-user-transfer.ts';
import { SqlMailTokenRepository } from './sql/sql-mail-token-repository.ts';
import { SqlMfaRepository } from './sql/sql-mfa-repository.ts';
import { SqlPasskeyRepository } from './sql/sql-passkey-repository.ts';
import { SqlSessionRepository } from './sql/sql-session-repository.ts';
import { SqlSettingsRepository } from './sql/sql-settings-repository.ts';
import { SqlSigningKeyRepository } from './sql/sql-signing-key-repository.ts';
import { SqlUserRepository } from './sql/sql-user-repository.ts';
import { describeStoreLocation, storeUnavailable } from './sql/store-failure.ts';
import { translateUnavailability } from './sql/store-unavailable.ts';

/** The storage ports, opened on one backend, plus what operations need of it. */
export interface Storage {
  readonly dialect: SqlDialectName;
  /** Which store this is, for operators: scheme, host, port and database; never a password. */
  readonly location: string;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly settings: SettingsRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly audit: AuditLog;
  readonly loginThrottles: LoginThrottleRepository;
  /** Registered API clients (POST /introspect). */
  readonly apiClients: ApiClientRepository;
  /** Mail waiting for delivery (API.md 8). */
  readonly mailOutbox: MailOutbox;
  /** Bulk import and export of users (API.md 10). */
  readonly userTransfer: UserTransferRepository;
  /** Single-use mail tokens and the changes they authorise (API.md 8). */
  readonly mailTokens: MailTokenRepository;
  /** Second factors and the MFA step of the password grant (API.md 9). */
  readonly mfa: MfaRepository;
  /** WebAuthn credentials and ceremony challenges (API.md 9). */
  readonly passkeys: PasskeyRepository;
  /** Applies pending migrations; returns the names applied now. */
  migrate(): Promise<string[]>;
  /** Resolves when the store answers a trivial query within `timeoutMs` (for /readyz). */
  ping(timeoutMs?: number): Promise<void>;
  /** The shared Redis, when configured (rate-limit counters of all instances). */
  readonly redis: RedisConnection | undefined;
  /**
   * The store's settings that decide whether a commit survives a power loss, as it reports
   * them: SQLite's `journal_mode` and `synchronous`, Postgres' `fsync` and `synchronous_commit`.
   */
  durability(): Promise<Readonly<Record<string, string>>>;
  /** Problems found on opening that the operator should fix, such as a database file others can read. */
  readonly warnings: readonly string[];
  /** Connection pool usage, for /metrics (Postgres only; SQLite has one connection). */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  close(): Promise<void>;
}

export interface StorageOptions {
  /** Postgres connection pool size. */
  poolSize?: number;
  /** SQLite's `synchronous` pragma (default `full`: a commit survives a power loss). */
  sqliteSynchronous?: 'full' | 'normal';
  /** GATEHOUSE_REDIS_URL: shared counters for many instances (optional). */
  redis?: { url: string; onUnavailable: (error: Error) => void };
}

// Distinct query shapes are few (SQL text holds placeholders, never values); the bound only
// guards against a shape that varies, such as an IN list of changing length.
const MAX_CACHED_STATEMENTS = 500;

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, and preparing was
 * the largest single cost of an authenticated request (--cpu-prof, BENCHMARKS.md). Statements
 * run synchronously, so sharing one between requests is safe.
 */
function statementCache(
  database: SqliteDatabase.Database,
): (sqlText: string) => SqliteDatabase.Statement {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return (sqlText) => {
    let statement = cache.get(sqlText);
    if (!statement) {
      statement = database.prepare(sqlText);
      if (cache.size < MAX_CACHED_STATEMENTS) cache.set(sqlText, statement);
    }
    return statement;
  };
}

interface OpenedSql {
  db: Kysely<Database>;
  run: QueryRunner;
  /**
   * `run` for state that needs atomicity, not durability (sqliteUnsyncedRunner): the login
   * throttle's counts, the mail sender's claims and outcomes.
   */
  runUnsynced: QueryRunner;
  /** Statements in one write transaction, one commit for all (the audit log's batches). */
  runBatch: BatchRunner;
  pool?: Pool;
  warnings: string[];
  /** The settings in force that decide whether a commit survives a power loss. */
  durability: () => Promise<Record<string, string>>;
}

// PRAGMA synchronous answers a number; its documented names, by value.
const SQLITE_SYNCHRONOUS = ['off', 'normal', 'full', 'extra'];

/** The file opened and set up, or `store_unavailable` naming the path and the reason. */
function openSqliteFile(
  path: string,
  synchronous: 'full' | 'normal',
): { database: SqliteDatabase.Database; warnings: string[] } {
  let database: SqliteDatabase.Database | undefined;
  try {
    const warnings = path === ':memory:' || path === '' ? [] : preparePrivateSqliteFile(path);
    database = new SqliteDatabase(path);
    configureSqlite(database, synchronous);
    return { database, warnings };
  } catch (error) {
    database?.close();
    throw storeUnavailable(`sqlite:${path}`, error);
  }
}

function configureSqlite(database: SqliteDatabase.Database, synchronous: 'full' | 'normal'): void {
  // WAL lets readers proceed during a write; the busy timeout rides out a concurrent writer
  // (a CLI command beside the server) instead of failing at once.
  database.pragma('journal_mode = WAL');
  // ASVS 4.0 3.3.1, 3.3.3: an ended session or a changed password must stay so. In WAL mode,
  // NORMAL syncs only at checkpoints, so a power loss could roll back the last commits and
  // revive a revoked session or an old password; FULL syncs the WAL on every commit.
  database.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  registerAuditLinkFunction(database);
}

/**
 * Kysely's SQLite adapter takes no migration lock (it assumes one process) and runs the
 * migrations outside any transaction (`supportsTransactionalDdl` is false), so two servers
 * started at once on one new file both ran 0001 ("table users already exists"). The lock is
 * therefore SQLite's own write lock: `BEGIN IMMEDIATE` before the applied migrations are read,
 * held until every pending one has run, so a second process waits (busy_timeout) and then
 * finds them applied. Postgres' adapter takes an advisory lock already.
 */
class MigrationLockingSqliteAdapter extends SqliteAdapter {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's own signature
  override async acquireMigrationLock(db: Kysely<any>, _options: MigrationLockOptions) {
    await sql`begin immediate`.execute(db);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's own signature
  override async releaseMigrationLock(db: Kysely<any>, _options: MigrationLockOptions) {
    // What ran is kept, as it was when each statement committed on its own; Kysely reports a
    // failed migration, and the next start retries from the first one not recorded.
    await sql`commit`.execute(db);
  }
}

class MigrationLockingSqliteDialect extends SqliteDialect {
  override createAdapter() {
    return new MigrationLockingSqliteAdapter();
  }
}

function openSqlite(path: string, synchronous: 'full' | 'normal'): OpenedSql {
  const { database, warnings } = openSqliteFile(path, synchronous);
  const prepare = statementCache(database);
  const dialectDatabase: SqliteDialectDatabase = { close: () => void database.close(), prepare };
  const db = new Kysely<Database>({
    dialect: translateUnavailability(
      new MigrationLockingSqliteDialect({ database: dialectDatabase }),
      `sqlite:${path}`,
    ),
  });
  const durability = async () => ({
    journal_mode: String(database.pragma('journal_mode', { simple: true })),
    synchronous: SQLITE_SYNCHRONOUS[Number(database.pragma('synchronous', { simple: true }))]!,
  });
  const run = sqliteRunner(database, prepare, kyselyRunner(db), `sqlite:${path}`);
  const runUnsynced = sqliteUnsyncedRunner(database, run, synchronous);
  const runBatch = sqliteBatchRunner(database, prepare, kyselyBatchRunner(db), `sqlite:${path}`);
  return { db, run, runUnsynced, runBatch, warnings, durability };
}

async function openPostgres(url: string, poolSize: number): Promise<OpenedSql> {
  // Loaded only when used: the embedded SQLite default never pays for pg's ~14 MB.
  const { default: pg } = await import('pg');
  // Bounded waits everywhere: a store that is down or hangs gives a 503, never a hung request.
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    query_timeout: 15_000,
  });
  // A client that loses its connection emits 'error' (on the pool when idle, on the client
  // when checked out); unheard, either would crash the process. The query in flight still
  // fails (→ 503), and the pool replaces the client on the next checkout.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({
    dialect: translateUnavailability(new PostgresDialect({ pool }), url),
  });
  // Gatehouse leaves these to the server's configuration (a replica setup may ask for more);
  // they are reported so an operator can see a weakened setting.
  const durability = async () => {
    const show = async (name: 'fsync' | 'synchronous_commit') =>
      String((await sql.raw<Record<string, unknown>>(`show ${name}`).execute(db)).rows[0]?.[name]);
    return { fsync: await show('fsync'), synchronous_commit: await show('synchronous_commit') };
  };
  const run = kyselyRunner(db);
  return {
    db,
    pool,
    run,
    runUnsynced: run,
    runBatch: kyselyBatchRunner(db),
    warnings: [],
    durability,
  };
}

/** Loaded only when configured, like pg: ioredis is ~10 MB the SQLite default doesn't need. */
async function connectRedis(redis: NonNullable<StorageOptions['redis']>): Promise<RedisConnection> {
  const { openRedis } = await import('./redis/open-redis.ts');
  return openRedis(redis.url, redis.onUnavailable);
}

/** The SQLite files this process is migrating now, each with its migration's promise. */
const sqliteMigrationsRunning = new Map<string, Promise<string[]>>();

/**
 * Runs `migrate` after any migration this process is already running on the same SQLite file.
 * Between processes, SQLite's write lock orders them (MigrationLockingSqliteAdapter); within
 * one, better-sqlite3 waits for that lock synchronously (busy_timeout), blocking the very
 * thread the holder needs to finish, so two stores of one process on one file (tests, a CLI
 * command run in-process) would fail with SQLITE_BUSY after the timeout instead.
 */
function oneMigrationPerFile(
  path: string | undefined,
  migrate: () => Promise<string[]>,
): Promise<string[]> {
  if (path === undefined || path === '' || path === ':memory:') return migrate();
  const key = resolvePath(path);
  const mine = (sqliteMigrationsRunning.get(key) ?? Promise.resolve([])).then(migrate, migrate);
  sqliteMigrationsRunning.set(key, mine);
  const forget = () => {
    if (sqliteMigrationsRunning.get(key) === mine) sqliteMigrationsRunning.delete(key);
  };
  mine.then(forget, forget);
  return mine;
}

/** Parses `sqlite:PATH`, `sqlite::memory:` or `postgres://...` (API.md 6). */
export function parseDatabaseUrl(url: string): { dialect: SqlDialectName; target: string } {
  if (url.startsWith('sqlite:')) return { dialect: 'sqlite', target: url.slice('sqlite:'.length) };
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', target: url };
  throw new Error(`unsupported database URL; use sqlite:PATH, sqlite::memory: or postgres://...`);
}

export async function openStorage(url: string, options: StorageOptions = {}): Promise<Storage> {
  const { dialect, target } = parseDatabaseUrl(url);
  const { db, pool, run, runUnsynced, runBatch, warnings, durability } =
    dialect === 'postgres'
      ? await openPostgres(target, options.poolSize ?? 10)
      : openSqlite(target, options.sqliteSynchronous ?? 'full');
  const redis = options.redis ? await connectRedis(options.redis) : undefined;
  return {
    dialect,
    location: describeStoreLocation(url),
    redis,
    warnings,
    durability,
    users: new SqlUserRepository(db, run),
    mailTokens: new SqlMailTokenRepository(db),
    mfa: new SqlMfaRepository(db, run),
    passkeys: new SqlPasskeyRepository(db),
    sessions: new SqlSessionRepository(db, run, runBatch),
    settings: new SqlSettingsRepository(db),
    signingKeys: new SqlSigningKeyRepository(db, run),
    audit: new SqlAuditRepository(db, run, runBatch),
    loginThrottles: new SqlLoginThrottleRepository(db, runUnsynced),
    apiClients: new SqlApiClientRepository(db),
    mailOutbox: new SqlMailOutbox(db, runUnsynced),
    userTransfer: new SqlUserTransfer(db),
    migrate: () =>
      oneMigrationPerFile(dialect === 'sqlite' ? target : undefined, async () => {
        // Kysely looks for its bookkeeping tables by name in every schema; pinning them to the
        // schema of the search_path keeps two Gatehouse schemas in one database apart.
        const migrationTableSchema =
          dialect === 'postgres'
            ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
                ?.schema
            : undefined;
        const migrator = new Migrator({ db, provider: migrationProvider, migrationTableSchema });
        const { error, results } = await migrator.migrateToLatest();
        if (error) throw error;
        return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
      }),
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([sql`select 1`.execute(db), timeout]);
      } catch (error) {
        // Every failure, a timeout included, says which store and why (for /readyz and logs).
        throw storeUnavailable(url, error);
      } finally {
        clearTimeout(timer);
      }
    },
    poolStats: () =>
      pool && { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
    async close() {
      await redis?.close();
      await db.destroy();
    },
  };
}
