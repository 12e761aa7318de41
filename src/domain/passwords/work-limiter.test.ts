import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatehouseError } from '../errors.ts';
import { WorkLimiter } from './work-limiter.ts';

/** A job that runs until the test releases it. */
function gate(): { job: () => Promise<string>; release: () => void; started: Promise<void> } {
  let release!: () => void;
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    job: async () => {
      markStarted();
      await done;
      return 'done';
    },
    release,
    started,
  };
}

describe('WorkLimiter', () => {
  it('never runs more than `concurrency` jobs at once, and runs every queued job', async () => {
    const limiter = new WorkLimiter({ concurrency: 3, maxQueued: 100 });
    let running = 0;
    let maxRunning = 0;
    const job = async (i: number): Promise<number> => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      assert.ok(limiter.running <= 3, `limiter reports ${limiter.running} running`);
      // Yield a few times so other jobs get a chance to start if the limiter lets them.
      for (let k = 0; k < 5; k++) await new Promise((resolve) => setImmediate(resolve));
      running--;
      return i;
    };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => limiter.run(() => job(i))),
    );
    assert.deepEqual(
      results,
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(maxRunning, 3);
    assert.equal(limiter.running, 0);
    assert.equal(limiter.queued, 0);
  });

  it('queues jobs past the concurrency and starts one as soon as a slot frees', async () => {
    const limiter = new WorkLimiter({ concurrency: 1, maxQueued: 5 });
    const first = gate();
    const second = gate();
    const firstResult = limiter.run(first.job);
    const secondResult = limiter.run(second.job);
    await first.started;
    assert.equal(limiter.running, 1);
    assert.equal(limiter.queued, 1);

    first.release();
    assert.equal(await firstResult, 'done');
    await second.started;
    assert.equal(limiter.running, 1);
    assert.equal(limiter.queued, 0);

    second.release();
    assert.equal(await secondResult, 'done');
    assert.equal(limiter.running, 0);
  });

  it('refuses work past the queue bound with hashing_overloaded and a retry delay', async () => {
    const limiter = new WorkLimiter({ concurrency: 2, maxQueued: 1 });
    const gates = [gate(), gate(), gate()];
    const accepted = gates.map((g) => limiter.run(g.job));
    assert.equal(limiter.running, 2);
    assert.equal(limiter.queued, 1);

    let ran = false;
    await assert.rejects(
      limiter.run(async () => {
        ran = true;
      }),
      (error: unknown) => {
        assert.ok(error instanceof GatehouseError);
        assert.equal(error.code, 'hashing_overloaded');
        assert.equal(typeof error.retryAfterSeconds, 'number');
        assert.ok((error.retryAfterSeconds ?? 0) > 0);
        return true;
      },
    );
    assert.equal(ran, false, 'a refused job must not run');
    // The refusal leaves the accounting untouched.
    assert.equal(limiter.running, 2);
    assert.equal(limiter.queued, 1);

    for (const g of gates) g.release();
    assert.deepEqual(await Promise.all(accepted), ['done', 'done', 'done']);
    assert.equal(limiter.running, 0);
  });

  it('with maxQueued 0 refuses at once whenever every slot is busy', async () => {
    const limiter = new WorkLimiter({ concurrency: 1, maxQueued: 0 });
    const busy = gate();
    const result = limiter.run(busy.job);
    await assert.rejects(
      limiter.run(async () => 1),
      { code: 'hashing_overloaded' },
    );
    busy.release();
    await result;
    assert.equal(await limiter.run(async () => 1), 1);
  });

  it('releases the slot of a job that throws, so later work still runs', async () => {
    const limiter = new WorkLimiter({ concurrency: 1, maxQueued: 0 });
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        limiter.run(async () => {
          throw new Error(`boom ${i}`);
        }),
        { message: `boom ${i}` },
      );
      assert.equal(limiter.running, 0);
    }
    assert.equal(await limiter.run(async () => 'still works'), 'still works');
  });

  it('hands the slot of a throwing job to the next waiter', async () => {
    const limiter = new WorkLimiter({ concurrency: 1, maxQueued: 1 });
    const failing = gate();
    const first = limiter.run(async () => {
      await failing.job();
      throw new Error('boom');
    });
    const second = limiter.run(async () => 'second ran');
    assert.equal(limiter.queued, 1);
    failing.release();
    await assert.rejects(first, { message: 'boom' });
    assert.equal(await second, 'second ran');
    assert.equal(limiter.running, 0);
    assert.equal(limiter.queued, 0);
  });

  it('releases the slot of a job that throws synchronously', async () => {
    const limiter = new WorkLimiter({ concurrency: 1, maxQueued: 0 });
    await assert.rejects(
      limiter.run((): Promise<never> => {
        throw new Error('sync boom');
      }),
      { message: 'sync boom' },
    );
    assert.equal(limiter.running, 0);
    assert.equal(await limiter.run(async () => 'ok'), 'ok');
  });
});

describe('WorkLimiter with a bound that follows the load', () => {
  it('starts no new job past a lowered bound, and starts waiting ones once it rises', async () => {
    let bound = 2;
    const limiter = new WorkLimiter({ concurrency: () => bound, maxQueued: 10 });
    const gates = [gate(), gate(), gate(), gate()];
    const results = [limiter.run(gates[0]!.job), limiter.run(gates[1]!.job)];
    await Promise.all([gates[0]!.started, gates[1]!.started]);
    assert.equal(limiter.running, 2);

    bound = 1; // the event loop got busy
    results.push(limiter.run(gates[2]!.job), limiter.run(gates[3]!.job));
    assert.equal(limiter.queued, 2);
    gates[0]!.release();
    await results[0];
    // One job still runs: that is the new bound, so nothing starts.
    assert.equal(limiter.running, 1);
    assert.equal(limiter.queued, 2);

    bound = 2; // the load passed
    gates[1]!.release();
    await results[1];
    await Promise.all([gates[2]!.started, gates[3]!.started]);
    assert.equal(limiter.running, 2);
    assert.equal(limiter.queued, 0);
    gates[2]!.release();
    gates[3]!.release();
    assert.deepEqual(await Promise.all(results), ['done', 'done', 'done', 'done']);
    assert.equal(limiter.running, 0);
  });

  it('never lets a new caller pass jobs that are waiting', async () => {
    let bound = 1;
    const limiter = new WorkLimiter({ concurrency: () => bound, maxQueued: 10 });
    const order: string[] = [];
    const first = gate();
    const running = limiter.run(first.job);
    const queued = limiter.run(async () => void order.push('queued first'));
    bound = 2;
    const late = limiter.run(async () => void order.push('came later'));
    first.release();
    await Promise.all([running, queued, late]);
    assert.deepEqual(order, ['queued first', 'came later']);
  });
});
