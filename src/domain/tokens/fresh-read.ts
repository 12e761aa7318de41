/**
 * A read whose answer is never older than the call that asked for it, shared by the callers
 * that arrive together. A read already in flight may have been answered before something that
 * happened just before a new call (a rotation committed elsewhere), so a caller arriving during
 * one waits for it and shares the next: at most one read in flight and one queued, whatever
 * the load. Each answer carries the time its read started.
 */
export class FreshRead<T> {
  readonly #read: () => Promise<T>;
  readonly #nowMs: () => number;
  #inFlight: Promise<{ value: T; startedAtMs: number }> | undefined;
  #next: Promise<{ value: T; startedAtMs: number }> | undefined;

  constructor(read: () => Promise<T>, nowMs: () => number) {
    this.#read = read;
    this.#nowMs = nowMs;
  }

  get(): Promise<{ value: T; startedAtMs: number }> {
    if (this.#next) return this.#next;
    if (!this.#inFlight) return this.#start();
    const next = this.#inFlight
      .then(
        () => {},
        () => {},
      )
      .then(() => {
        this.#next = undefined;
        return this.#start();
      });
    this.#next = next;
    return next;
  }

  #start(): Promise<{ value: T; startedAtMs: number }> {
    const startedAtMs = this.#nowMs();
    const read = this.#read()
      .then((value) => ({ value, startedAtMs }))
      .finally(() => {
        if (this.#inFlight === read) this.#inFlight = undefined;
      });
    this.#inFlight = read;
    return read;
  }
}
