import { GatehouseError } from '../errors.ts';

/**
 * Bounds CPU-heavy work (password hashing): at most `concurrency` jobs run at once and at
 * most `maxQueued` wait. Past that, callers get `hashing_overloaded` at once instead of
 * piling up memory and latency (API.md 4: a login flood must not starve other requests).
 */
export class WorkLimiter {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(options: { concurrency: number; maxQueued: number }) {
    this.#concurrency = Math.max(1, options.concurrency);
    this.#maxQueued = Math.max(0, options.maxQueued);
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxQueued) {
        throw new GatehouseError('hashing_overloaded', 'The server is busy; try again shortly', {
          retryAfterSeconds: 1,
        });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter, so `running` never over-counts.
      if (next) next();
      else this.#running--;
    }
  }
}
