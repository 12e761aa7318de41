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
