import type {
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  TransactionSettings,
} from 'kysely';
import { storeUnavailable } from './store-failure.ts';

// Postgres SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown,
// cannot connect now), and the socket errors of a server that is down or unreachable.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  // Postgres refuses the login (class 28) or has no such database: the store is out of reach
  // until an operator fixes it, which is a 503 and a failed /readyz, not a bad query's 500.
  '28000',
  '28P01',
  '3D000',
  // SQLite: the file stayed locked past busy_timeout, or could not be opened or written.
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED|Query read timeout/i;

/** True for errors that mean "the store can't be reached right now", as opposed to a bad query. */
export function isStoreUnavailableError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08')))
    return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message);
}

/**
 * The error to throw for a driver error met on the store at `url`: `store_unavailable` (whose
 * cause says which store and why) when the store is out of reach, else the error itself.
 */
export function translate(error: unknown, url: string): unknown {
  return isStoreUnavailableError(error) ? storeUnavailable(url, error) : error;
}

/**
 * Wraps a Kysely dialect so that every repository, on either store, reports an unreachable
 * store as GatehouseError `store_unavailable` (503 + Retry-After) instead of a driver error
 * and a 500. Other errors, unique violations included, pass through untouched.
 */
export function translateUnavailability(dialect: Dialect, url: string): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => new TranslatingDriver(dialect.createDriver(), url),
  };
}

class TranslatingDriver implements Driver {
  readonly #inner: Driver;
  readonly #url: string;
  readonly #unwrap = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver, url: string) {
    this.#inner = inner;
    this.#url = url;
  }

  async #translating<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw translate(error, this.#url);
    }
  }

  #innerOf(connection: DatabaseConnection): DatabaseConnection {
    return this.#unwrap.get(connection) ?? connection;
  }

  init(): Promise<void> {
    return this.#translating(() => this.#inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#translating(() => this.#inner.acquireConnection());
    const wrapped: DatabaseConnection = {
      executeQuery: (query) => this.#translating(() => inner.executeQuery(query)),
      streamQuery: (query, chunkSize) => inner.streamQuery(query, chunkSize),
    };
    this.#unwrap.set(wrapped, inner);
    return wrapped;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#translating(() =>
      this.#inner.beginTransaction(this.#innerOf(connection), settings),
    );
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#translating(() => this.#inner.commitTransaction(this.#innerOf(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#translating(() => this.#inner.rollbackTransaction(this.#innerOf(connection)));
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#translating(async () =>
      this.#inner.savepoint?.(this.#innerOf(connection), name, compile),
    );
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#translating(async () =>
      this.#inner.rollbackToSavepoint?.(this.#innerOf(connection), name, compile),
    );
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#translating(async () =>
      this.#inner.releaseSavepoint?.(this.#innerOf(connection), name, compile),
    );
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}
