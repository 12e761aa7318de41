import { hash, randomBytes } from 'node:crypto';

/**
 * The normalised emails an import has seen, each with the line it was first seen on, kept as
 * 64-bit keyed fingerprints in typed arrays: 12 bytes a slot, 25-50 MiB at a million users
 * whatever the emails' length, where a Map of the strings takes ~100 bytes an entry and
 * ~300 for a 254-character address (CWE-400: a file of long addresses must not cost more).
 *
 * Why fingerprints, and what a collision costs: two different emails with the same 64 bits
 * would be reported as a duplicate and the import refused, nothing written (never a wrong
 * write). The chance is about n²/2⁶⁵: 3·10⁻⁸ at a million rows. The key is random per
 * import, so nobody can craft a file whose addresses collide, and a second run would not
 * repeat an accidental collision.
 */
export class EmailFingerprints {
  readonly #key = randomBytes(16).toString('hex');
  #high = new Uint32Array(1024);
  #low = new Uint32Array(1024);
  // 0 marks a free slot: lines are numbered from 1.
  #lines = new Uint32Array(1024);
  #size = 0;

  /** The line `normalizedEmail` was first seen on; or records it at `line` and answers undefined. */
  firstLine(normalizedEmail: string, line: number): number | undefined {
    const digest = hash('sha256', this.#key + normalizedEmail, 'buffer');
    const high = digest.readUInt32LE(0);
    const low = digest.readUInt32LE(4);
    const slot = this.#find(high, low);
    const seen = this.#lines[slot]!;
    if (seen !== 0) return seen;
    this.#high[slot] = high;
    this.#low[slot] = low;
    this.#lines[slot] = line;
    // Half full at most, so a probe stays short.
    if (++this.#size * 2 > this.#lines.length) this.#grow();
    return undefined;
  }

  /** Linear probing: the slot holding this fingerprint, or the free one where it belongs. */
  #find(high: number, low: number): number {
    const mask = this.#lines.length - 1;
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      if (this.#lines[slot] === 0) return slot;
      if (this.#high[slot] === high && this.#low[slot] === low) return slot;
    }
  }

  #grow(): void {
    const [high, low, lines] = [this.#high, this.#low, this.#lines];
    this.#high = new Uint32Array(lines.length * 2);
    this.#low = new Uint32Array(lines.length * 2);
    this.#lines = new Uint32Array(lines.length * 2);
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === 0) continue;
      const slot = this.#find(high[i]!, low[i]!);
      this.#high[slot] = high[i]!;
      this.#low[slot] = low[i]!;
      this.#lines[slot] = lines[i]!;
    }
  }
}
