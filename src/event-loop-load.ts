import { performance } from 'node:perf_hooks';

/**
 * How busy this process's event loop has been lately: its utilization (the share of time it
 * spent running callbacks rather than waiting for I/O) over the last interval, sampled on a
 * timer that never keeps the process alive.
 */
export class EventLoopLoad {
  #last = performance.eventLoopUtilization();
  #utilization = 0;

  constructor(intervalMs = 250) {
    setInterval(() => {
      const now = performance.eventLoopUtilization();
      this.#utilization = performance.eventLoopUtilization(now, this.#last).utilization;
      this.#last = now;
    }, intervalMs).unref();
  }

  /** 0 (idle) to 1 (never waiting), over the last interval. */
  get utilization(): number {
    return this.#utilization;
  }
}
