import { sql, type Kysely, type RawBuilder } from 'kysely';
import type {
  AttemptOutcome,
  LoginThrottleRepository,
  ThrottleSchedule,
} from '../../domain/throttle/login-throttle-repository.ts';
import type { Database } from './database.ts';
import { prepareQuery } from './prepared-query.ts';
import { kyselyRunner, type QueryRunner } from './run-query.ts';

// Explicit casts: Postgres can't infer a parameter's type inside CASE, and integers must stay
// integers (not REAL) in SQLite for the arithmetic below.
const bigint = (value: number): RawBuilder<number> => sql<number>`cast(${value} as bigint)`;
const integer = (value: number): RawBuilder<number> => sql<number>`cast(${value} as integer)`;
const current = (column: 'failures' | 'next_lock_ms' | 'last_attempt_ms') =>
  sql.ref(`login_throttles.${column}`);

type CountParameters = 'key' | 'now' | 'staleBefore' | 'firstLockedUntil';

/**
 * ASVS 2.2.1: one conditional upsert counts the attempt and sets the lock, so concurrent
 * attempts (on any instance) can neither lose a count nor slip past a lock being set. The
 * schedule's numbers are fixed in the statement; the clock's are parameters.
 */
function prepareCount(db: Kysely<Database>, schedule: ThrottleSchedule) {
  const { failuresBeforeLock, firstLockMs, maxLockMs } = schedule;
  const doubled = (lock: number) => Math.min(lock * 2, maxLockMs);
  return prepareQuery<CountParameters>()((param) => {
    const nowMs = param<number>('now');
    // The row as it stands for this attempt: idle past forgetAfterMs means starting over.
    const stale = sql<boolean>`${current('last_attempt_ms')} <= ${bigint(param<number>('staleBefore'))}`;
    const failures = sql<number>`case when ${stale} then 1 else ${current('failures')} + 1 end`;
    const lock = sql<number>`case when ${stale} then ${bigint(firstLockMs)} else ${current('next_lock_ms')} end`;
    const locks = sql<boolean>`${failures} >= ${integer(failuresBeforeLock)}`;
    const firstLocks = failuresBeforeLock <= 1;
    return db
      .insertInto('login_throttles')
      .values({
        key: param('key'),
        failures: 1,
        next_lock_ms: firstLocks ? doubled(firstLockMs) : firstLockMs,
        locked_until_ms: param('firstLockedUntil'),
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
      .returning(['failures', 'locked_until_ms']);
  });
}

export class SqlLoginThrottleRepository implements LoginThrottleRepository {
  readonly #db: Kysely<Database>;
  readonly #run: QueryRunner;
  // Every successful login clears its key: compiled once (prepared-query.ts).
  readonly #clear;
  // The count statement of each schedule seen (one per process in practice), compiled once.
  readonly #counts = new Map<string, ReturnType<typeof prepareCount>>();

  /**
   * `run` takes every write: on SQLite, open-storage.ts gives sqliteUnsyncedRunner, so a
   * throttle write costs no fsync (it needs atomicity, not durability).
   */
  constructor(db: Kysely<Database>, run: QueryRunner = kyselyRunner(db)) {
    this.#db = db;
    this.#run = run;
    this.#clear = prepareQuery<'key'>()((param) =>
      db.deleteFrom('login_throttles').where('key', '=', param<string>('key')),
    );
  }

  #countFor(schedule: ThrottleSchedule) {
    const id = `${schedule.failuresBeforeLock}/${schedule.firstLockMs}/${schedule.maxLockMs}`;
    let count = this.#counts.get(id);
    if (!count) {
      count = prepareCount(this.#db, schedule);
      this.#counts.set(id, count);
    }
    return count;
  }

  async countAttempt(key: string, now: Date, schedule: ThrottleSchedule): Promise<AttemptOutcome> {
    const nowMs = now.getTime();
    const counted = (
      await this.#run(
        this.#countFor(schedule)({
          key,
          now: nowMs,
          staleBefore: nowMs - schedule.forgetAfterMs,
          firstLockedUntil: schedule.failuresBeforeLock <= 1 ? nowMs + schedule.firstLockMs : 0,
        }),
      )
    ).rows[0];
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
    await this.#run(this.#clear({ key }));
  }

  async purgeIdle(idleSince: Date): Promise<number> {
    const result = await this.#run(
      this.#db
        .deleteFrom('login_throttles')
        .where('last_attempt_ms', '<=', idleSince.getTime())
        .compile(),
    );
    return Number(result.numAffectedRows ?? 0);
  }
}
