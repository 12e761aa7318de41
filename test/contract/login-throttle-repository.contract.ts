import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type {
  AttemptOutcome,
  ThrottleSchedule,
} from '../../src/domain/throttle/login-throttle-repository.ts';
import type { Storage } from '../../src/storage/open-storage.ts';

const SCHEDULE: ThrottleSchedule = {
  failuresBeforeLock: 3,
  firstLockMs: 1000,
  maxLockMs: 5000,
  forgetAfterMs: 60_000,
};
const T0 = Date.parse('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms);

let keyCounter = 0;
const freshKey = () => `key-${process.pid}-${++keyCounter}`;

function lockedUntilOf(result: AttemptOutcome): number | null {
  if (result.outcome === 'locked') return result.lockedUntil.getTime() - T0;
  return result.lockedUntil && result.lockedUntil.getTime() - T0;
}

/**
 * The LoginThrottleRepository port's contract (ASVS 2.2.1), written once and run against every
 * store (login-throttle-repository.test.ts). `open` gives a freshly migrated store.
 */
export function loginThrottleRepositoryContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  before(async () => {
    storage = await open();
  });
  after(() => storage?.close());

  it('counts attempts without a lock until the threshold, whose attempt sets the first lock', async () => {
    const key = freshKey();
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(await storage.loginThrottles.countAttempt(key, at(i), SCHEDULE));
    }
    assert.deepEqual(
      results.map((r) => r.outcome === 'counted' && r.failures),
      [1, 2, 3],
    );
    assert.deepEqual(results.map(lockedUntilOf), [null, null, 2 + 1000]);
  });

  it('refuses attempts while locked, without counting them', async () => {
    const key = freshKey();
    for (let i = 0; i < 3; i++) await storage.loginThrottles.countAttempt(key, at(0), SCHEDULE);
    const refused = await storage.loginThrottles.countAttempt(key, at(999), SCHEDULE);
    assert.equal(refused.outcome, 'locked');
    assert.equal(lockedUntilOf(refused), 1000);
    const next = await storage.loginThrottles.countAttempt(key, at(1000), SCHEDULE);
    assert.equal(next.outcome, 'counted');
    assert.equal(next.outcome === 'counted' && next.failures, 4);
  });

  it('doubles each further lock and caps it at maxLockMs', async () => {
    const key = freshKey();
    let now = 0;
    const locks: number[] = [];
    for (let i = 0; i < 7; i++) {
      const result = await storage.loginThrottles.countAttempt(key, at(now), SCHEDULE);
      assert.equal(result.outcome, 'counted', `attempt ${i + 1} at ${now} ms`);
      const until = lockedUntilOf(result);
      if (until !== null) {
        locks.push(until - now);
        now = until;
      }
    }
    assert.deepEqual(locks, [1000, 2000, 4000, 5000, 5000]);
  });

  it('starts again from zero once a key has been idle for forgetAfterMs', async () => {
    const key = freshKey();
    for (let i = 0; i < 5; i++) {
      await storage.loginThrottles.countAttempt(key, at(i * 10_000), SCHEDULE);
    }
    const later = 4 * 10_000 + SCHEDULE.forgetAfterMs;
    const result = await storage.loginThrottles.countAttempt(key, at(later), SCHEDULE);
    assert.equal(result.outcome === 'counted' && result.failures, 1);
    assert.equal(lockedUntilOf(result), null);
  });

  it('forgets a cleared key: the next attempt is the first again', async () => {
    const key = freshKey();
    for (let i = 0; i < 3; i++) await storage.loginThrottles.countAttempt(key, at(0), SCHEDULE);
    await storage.loginThrottles.clear(key);
    const result = await storage.loginThrottles.countAttempt(key, at(1), SCHEDULE);
    assert.equal(result.outcome === 'counted' && result.failures, 1);
  });

  it('keeps keys apart', async () => {
    const [a, b] = [freshKey(), freshKey()];
    for (let i = 0; i < 3; i++) await storage.loginThrottles.countAttempt(a, at(0), SCHEDULE);
    const other = await storage.loginThrottles.countAttempt(b, at(1), SCHEDULE);
    assert.equal(other.outcome === 'counted' && other.failures, 1);
  });

  it('lets exactly failuresBeforeLock of many concurrent attempts through', async () => {
    const key = freshKey();
    const results = await Promise.all(
      Array.from({ length: 25 }, () => storage.loginThrottles.countAttempt(key, at(0), SCHEDULE)),
    );
    const counted = results.filter((r) => r.outcome === 'counted');
    assert.equal(counted.length, 3);
    assert.deepEqual(counted.map((r) => r.outcome === 'counted' && r.failures).sort(), [1, 2, 3]);
    assert.ok(results.every((r) => r.outcome === 'counted' || lockedUntilOf(r) === 1000));
  });

  it('purges only keys idle since the given time', async () => {
    const [idle, active] = [freshKey(), freshKey()];
    await storage.loginThrottles.countAttempt(idle, at(-100_000), SCHEDULE);
    await storage.loginThrottles.countAttempt(active, at(0), SCHEDULE);
    const purged = await storage.loginThrottles.purgeIdle(at(-50_000));
    assert.ok(purged >= 1, `purged ${purged}`);
    const again = await storage.loginThrottles.countAttempt(idle, at(1), SCHEDULE);
    assert.equal(again.outcome === 'counted' && again.failures, 1);
    const kept = await storage.loginThrottles.countAttempt(active, at(1), SCHEDULE);
    assert.equal(kept.outcome === 'counted' && kept.failures, 2);
  });
}
