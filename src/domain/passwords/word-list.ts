/**
 * A word list as one string: lower-cased, deduplicated, sorted by UTF-16 code units (what
 * `sort()` and `<` both use) and joined with newlines. One string instead of an array or a Set
 * of ~50 000 strings holds the breached-password list in under 0.4 MB rather than several
 * (issue 21); the build computes it once (scripts/build-server.mjs).
 */
export function compactWordList(words: readonly string[]): string {
  return [...new Set(words.map((word) => word.toLowerCase()))].sort().join('\n');
}

/** Whether `word` is a line of `list` (a compactWordList), by binary search over its lines. */
export function inWordList(list: string, word: string): boolean {
  // Invariants: `lo` is the start of a line; every line at or past `hi` sorts after `word`.
  let lo = 0;
  let hi = list.length + 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const start = mid === 0 ? 0 : list.lastIndexOf('\n', mid - 1) + 1;
    const newline = list.indexOf('\n', start);
    const end = newline === -1 ? list.length : newline;
    const line = list.slice(start, end);
    if (line === word) return true;
    if (line < word) lo = end + 1;
    else hi = start;
  }
  return false;
}
