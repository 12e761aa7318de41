/**
 * Driver errors translated into facts the repositories can act on, so both stores behave
 * the same: SQLite's `SQLITE_CONSTRAINT_UNIQUE` and Postgres' `23505` are one thing.
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === '23505'
  );
}

/**
 * A row referenced a parent that no longer exists (SQLite `SQLITE_CONSTRAINT_FOREIGNKEY`,
 * Postgres `23503`): e.g. a refresh token inserted for a session deleted a moment before with
 * its user. Repositories turn it into an outcome of their port, never a 500.
 */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/**
 * Postgres aborted the transaction to resolve a conflict with another: a deadlock (`40P01`, it
 * chose this one as the victim) or a serialization failure (`40001`). Everything the
 * transaction did was rolled back, so running it again from the start is safe. SQLite never
 * reports either (one writer; a lock held too long is SQLITE_BUSY, store_unavailable).
 */
export function isTransactionConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}
