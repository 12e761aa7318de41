import { GatehouseError } from '../errors.ts';

/**
 * Bounds CPU-heavy work (password hashing): at most `concurrency` jobs run at once and at
 * most `maxQueued` wait. Past that, callers get `hashing_overloaded` at once instead of
 * piling up memory and latency (API.md 4: a login flood must not starve other requests).
 * `concurrency` may be a function, read each time a job could start, so the bound can follow
 * the load of the machine (services.ts lowers it while the event loop is saturated).
 */
export class WorkLimiter {
  readonly #concurrency: () => number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(options: { concurrency: number | (() => number); maxQueued: number }) {
    const { concurrency } = options;
    const bound = typeof concurrency === 'number' ? () => concurrency : concurrency;
    this.#concurrency = () => Math.max(1, bound());
    this.#maxQueued = Math.max(0, options.maxQueued);
  }

  get running(): number {
    return this.#running;
  }

  /** How many jobs may run at once right now. */
  get limit(): number {
    return this.#concurrency();
  }

  get queued(): number {
    return this.#waiting.length;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    // First come, first served: a caller never passes jobs that are already waiting.
    if (this.#running >= this.#concurrency() || this.#waiting.length > 0) {
      if (this.#waiting.length >= this.#maxQueued) {
        throw new GatehouseError('hashing_overloaded', 'The server is busy; try again shortly', {
          retryAfterSeconds: 1,
        });
      }
      const started = new Promise<void>((resolve) => this.#waiting.push(resolve));
      this.#startWaiting();
      await started;
    } else {
      this.#running++;
    }
    try {
      return await job();
    } finally {
      this.#running--;
      this.#startWaiting();
    }
  }

  /** Starts waiting jobs while slots are free; the bound may have risen since they queued. */
  #startWaiting(): void {
    const limit = this.#concurrency();
    while (this.#running < limit && this.#waiting.length > 0) {
      // Counted here, before the waiter resumes, so a new caller can't take the same slot.
      this.#running++;
      this.#waiting.shift()!();
    }
  }
}
