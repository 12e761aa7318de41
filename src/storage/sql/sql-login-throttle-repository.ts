import { sql, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import type {
  AttemptOutcome,
  LoginThrottleRepository,
  ThrottleSchedule,
} from '../../domain/sessions/login-throttle-repository.ts';
import type { Database } from './database.ts';
import { prepareQuery } from './prepared-query.ts';

// Explicit casts: Postgres can't infer a parameter's type inside CASE, and integers must stay
// integers (not REAL) in SQLite for the arithmetic below.
const bigint = (value: number): RawBuilder<number> => sql<number>`cast(${value} as bigint)`;
const integer = (value: number): RawBuilder<number> => sql<number>`cast(${value} as integer)`;
const current = (column: 'failures' | 'next_lock_ms' | 'last_attempt_ms') =>
  sql.ref(`login_throttles.${column}`);

export class SqlLoginThrottleRepository implements LoginThrottleRepository {
  readonly #db: Kysely<Database>;
  // Every successful login clears its key: compiled once (prepared-query.ts).
  readonly #clear: (values: { key: string }) => CompiledQuery;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#clear = prepareQuery<'key'>((param) =>
      db.deleteFrom('login_throttles').where('key', '=', param<string>('key')),
    );
  }

  async countAttempt(key: string, now: Date, schedule: ThrottleSchedule): Promise<AttemptOutcome> {
    const nowMs = now.getTime();
    const { failuresBeforeLock, firstLockMs, maxLockMs } = schedule;
    const doubled = (lock: number) => Math.min(lock * 2, maxLockMs);

    // The row as it stands for this attempt: idle past forgetAfterMs means starting over.
    const stale = sql<boolean>`${current('last_attempt_ms')} <= ${bigint(nowMs - schedule.forgetAfterMs)}`;
    const failures = sql<number>`case when ${stale} then 1 else ${current('failures')} + 1 end`;
    const lock = sql<number>`case when ${stale} then ${bigint(firstLockMs)} else ${current('next_lock_ms')} end`;
    const locks = sql<boolean>`${failures} >= ${integer(failuresBeforeLock)}`;
    const firstLocks = failuresBeforeLock <= 1;

    // ASVS 2.2.1: one conditional upsert counts the attempt and sets the lock, so concurrent
    // attempts (on any instance) can neither lose a count nor slip past a lock being set.
    const counted = await this.#db
      .insertInto('login_throttles')
      .values({
        key,
        failures: 1,
        next_lock_ms: firstLocks ? doubled(firstLockMs) : firstLockMs,
        locked_until_ms: firstLocks ? nowMs + firstLockMs : 0,
        last_attempt_ms: nowMs,
      })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({
            failures,
            next_lock_ms: sql<number>`case when ${locks}
              then (case when ${lock} * 2 > ${bigint(maxLockMs)} then ${bigint(maxLockMs)} else ${lock} * 2 end)
              else ${lock} end`,
            locked_until_ms: sql<number>`case when ${locks} then ${bigint(nowMs)} + ${lock} else 0 end`,
            last_attempt_ms: bigint(nowMs),
          })
          .where('login_throttles.locked_until_ms', '<=', nowMs),
      )
      .returning(['failures', 'locked_until_ms'])
      .executeTakeFirst();
    if (counted) {
      const lockedUntil = Number(counted.locked_until_ms);
      return {
        outcome: 'counted',
        failures: Number(counted.failures),
        lockedUntil: lockedUntil > 0 ? new Date(lockedUntil) : null,
      };
    }
    const row = await this.#db
      .selectFrom('login_throttles')
      .select('locked_until_ms')
      .where('key', '=', key)
      .executeTakeFirst();
    // Cleared between the two statements (a success elsewhere): still refuse this one attempt.
    return { outcome: 'locked', lockedUntil: new Date(row ? Number(row.locked_until_ms) : nowMs) };
  }

  async clear(key: string): Promise<void> {
    await this.#db.executeQuery(this.#clear({ key }));
  }

  async purgeIdle(idleSince: Date): Promise<number> {
    const result = await this.#db
      .deleteFrom('login_throttles')
      .where('last_attempt_ms', '<=', idleSince.getTime())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
