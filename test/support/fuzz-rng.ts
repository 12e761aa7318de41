// The seeded randomness of the fuzz test: one seed, the same requests on every machine.

/** mulberry32: small, fast, and the same sequence on every machine for one seed. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  text(
    max: number,
    alphabet = 'abcdefghijklmnopqrstuvwxyzABC0123456789-_.@%+=&;:/?#[]{}"\'\\ ~é€𝄞',
  ): string {
    const chars = [...alphabet];
    return Array.from({ length: this.int(max + 1) }, () => this.pick(chars)).join('');
  }
  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
}

/** A few random edits of a byte string: flips, inserts, deletes, duplicated slices, cuts. */
export function mutate(rng: Rng, input: Buffer): Buffer {
  let bytes = Buffer.from(input);
  const edits = 1 + rng.int(4);
  for (let i = 0; i < edits; i++) {
    const at = rng.int(bytes.length + 1);
    const special = rng.pick([0x00, 0x0a, 0x0d, 0x22, 0x25, 0x26, 0x3d, 0x5c, 0x7b, 0xff, 0xc3]);
    switch (rng.int(5)) {
      case 0:
        if (at < bytes.length) bytes[at] = rng.chance(0.5) ? special : rng.int(256);
        break;
      case 1:
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([special]), bytes.subarray(at)]);
        break;
      case 2:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + rng.int(8))]);
        break;
      case 3: {
        const slice = bytes.subarray(at, at + rng.int(32));
        bytes = Buffer.concat([bytes.subarray(0, at), slice, slice, bytes.subarray(at)]);
        break;
      }
      default:
        bytes = bytes.subarray(0, at);
    }
  }
  return bytes;
}
