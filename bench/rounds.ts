import type { Result } from 'autocannon';
import type { Measured } from './scenarios.ts';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * One scenario measured over several rounds, taken in turn with the scenarios it is compared
 * with (the floor and /users/me/, say), so that a machine that slows down for a while slows
 * both sides of a ratio alike. Requests/s is over all rounds; latencies are the median round's.
 */
export class Rounds {
  readonly #results: Result[] = [];
  #cpuSeconds = 0;
  #loadCpuSeconds = 0;

  constructor(
    readonly name: string,
    readonly connections: number,
  ) {}

  /** One round: its result, the server's CPU seconds and the load generator's. */
  add(result: Result, cpuSeconds: number, loadCpuSeconds: number): void {
    this.#results.push(result);
    this.#cpuSeconds += cpuSeconds;
    this.#loadCpuSeconds += loadCpuSeconds;
  }

  get count(): number {
    return this.#results.length;
  }

  summary(): Measured {
    const requests = this.#results.reduce((sum, r) => sum + r.requests.total, 0);
    const seconds = this.#results.reduce((sum, r) => sum + r.duration, 0);
    return {
      name: this.name,
      connections: this.connections,
      rps: seconds > 0 ? requests / seconds : 0,
      p50: median(this.#results.map((r) => r.latency.p50)),
      p99: median(this.#results.map((r) => r.latency.p99)),
      requests,
      non2xx: this.#results.reduce((sum, r) => sum + r.non2xx, 0),
      errors: this.#results.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
      cpuPerRequestMs: requests > 0 ? (this.#cpuSeconds * 1000) / requests : 0,
      loadCpuPerRequestMs: requests > 0 ? (this.#loadCpuSeconds * 1000) / requests : 0,
    };
  }
}
