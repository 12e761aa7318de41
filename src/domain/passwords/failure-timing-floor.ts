import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

// Kinds of stored hash remembered (schemes and cost parameters), so odd imports can't grow it.
const MAX_KINDS = 32;
// Each new measurement moves a kind's typical time this far: smooths out one slow run.
const SMOOTHING = 0.2;

/**
 * CWE-208 / OWASP ASVS 2.2 (API.md 4: no user enumeration by timing). Verifying an imported
 * bcrypt hash of cost 12 takes ten times an argon2id verify or the dummy verify of an unknown
 * email, so the time of a failed login told which accounts exist and which still hold an old
 * hash. This learns how long a verification of each kind of stored hash typically takes here,
 * and holds every failure until the slowest kind's time has passed since it began: a failure
 * answers no faster than the slowest verification it could have run. Successes are not held.
 * Until a process has verified a kind once it cannot know its cost: the first such login is
 * what teaches it.
 */
export class FailureTimingFloor {
  readonly #typicalMs = new Map<string, number>();

  /** Runs one verification of a hash of `kind`, learning how long such a verification takes. */
  async measure<T>(kind: string, verification: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await verification();
    this.#learn(kind, performance.now() - started);
    return result;
  }

  /** The typical time of the slowest kind of verification seen, in milliseconds. */
  get floorMs(): number {
    return Math.max(0, ...this.#typicalMs.values());
  }

  /** Resolves once `startedAt` (a `performance.now()` reading) is `floorMs` in the past. */
  async holdFailure(startedAt: number): Promise<void> {
    const remaining = this.floorMs - (performance.now() - startedAt);
    if (remaining >= 1) await sleep(remaining);
  }

  #learn(kind: string, ms: number): void {
    const previous = this.#typicalMs.get(kind);
    if (previous === undefined) {
      if (this.#typicalMs.size < MAX_KINDS) this.#typicalMs.set(kind, ms);
      return;
    }
    this.#typicalMs.set(kind, previous + SMOOTHING * (ms - previous));
  }
}
