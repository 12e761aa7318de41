/**
 * Times in the store, and their one conversion to and from `Date`: every repository uses
 * these. Times are written as ISO 8601 UTC strings; SQLite keeps them as text (which sorts
 * correctly, so comparisons in SQL work on it), Postgres as timestamptz (read back as Date).
 */
export type DbTime = string | Date;

/** A time read from a row. */
export function toDate(value: DbTime): Date {
  return value instanceof Date ? value : new Date(value);
}

/** A nullable time read from a row (`revoked_at`, `used_at`, ...). */
export function toDateOrNull(value: DbTime | null): Date | null {
  return value === null ? null : toDate(value);
}

/** A time as written: a parameter or a column value. */
export function toDbTime(date: Date): string {
  return date.toISOString();
}

/** A nullable time as written. */
export function toDbTimeOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/**
 * A time read from a row, in the text it was written as (the audit chain's hashes cover that
 * text): SQLite gives it back as it is, Postgres as a Date, which prints the same.
 */
export function toStoredText(value: DbTime): string {
  return typeof value === 'string' ? value : value.toISOString();
}
