import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { EventLoopLoad } from './event-loop-load.ts';

function busyFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // keep the event loop busy, as a flood of requests does
  }
}

describe('EventLoopLoad', () => {
  it('reads near 1 after the loop was kept busy, and low after it waited', async () => {
    const load = new EventLoopLoad(50);
    await sleep(120);
    assert.ok(load.utilization < 0.5, `idle loop read ${load.utilization}`);
    // Busy in slices, so the sampling timer still fires between them. Each slice yields for one
    // turn of the loop (setImmediate), not a timer: a timer's wait, stretched on a loaded
    // machine, counted as idle time and made this read 0.89.
    for (let i = 0; i < 8; i++) {
      busyFor(40);
      await nextTurn();
    }
    assert.ok(load.utilization > 0.9, `busy loop read ${load.utilization}`);
    await sleep(200);
    assert.ok(load.utilization < 0.5, `loop read ${load.utilization} once idle again`);
  });
});
