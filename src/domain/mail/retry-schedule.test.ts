import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextAttemptAt, type RetryPolicy } from './retry-schedule.ts';

const POLICY: RetryPolicy = { firstDelayMs: 5_000, maxDelayMs: 600_000, maxAgeMs: 86_400_000 };
const CREATED = new Date('2030-01-01T00:00:00Z');
const after = (ms: number) => new Date(CREATED.getTime() + ms);
const delayOf = (attempts: number, random: number, now = after(0)) => {
  const next = nextAttemptAt(POLICY, { attempts, createdAt: CREATED, now }, () => random);
  return next && next.getTime() - now.getTime();
};

describe('nextAttemptAt', () => {
  it('caps the delay at the first delay, doubling with each attempt up to the maximum', () => {
    const nearlyOne = 0.999_999;
    assert.deepEqual(
      [1, 2, 3, 4, 8, 9, 20, 500].map((a) => delayOf(a, nearlyOne)),
      [4_999, 9_999, 19_999, 39_999, 599_999, 599_999, 599_999, 599_999],
    );
  });

  it('draws the delay anywhere below the cap (full jitter), with a one-second floor', () => {
    assert.equal(delayOf(4, 0.5), 20_000);
    assert.equal(delayOf(4, 0.25), 10_000);
    assert.equal(delayOf(4, 0), 1_000);
  });

  it('spreads the retries of messages that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => delayOf(6, Math.random())));
    assert.ok(delays.size > 40, `${delays.size} distinct delays of 50`);
  });

  it('retries last at the deadline, and gives up on a failure at or past it', () => {
    const nearDeadline = after(POLICY.maxAgeMs - 2_000);
    assert.deepEqual(
      nextAttemptAt(POLICY, { attempts: 30, createdAt: CREATED, now: nearDeadline }, () => 0.9),
      after(POLICY.maxAgeMs),
    );
    assert.equal(
      nextAttemptAt(POLICY, { attempts: 31, createdAt: CREATED, now: after(POLICY.maxAgeMs) }),
      undefined,
    );
  });
});
