// Whether dist/ is older than src/: the one copy of that check, used by bin/gatehouse.js (which
// then runs src/ through tsx, in a checkout) and by bench/start-args.ts (which refuses a stale
// build). Plain JavaScript, so the installed package runs it without tsx.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The newest modification time (ms) of any file under `dir`. */
export function newestChange(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * True when `built` (a file under `root`) is missing, or `root`/src exists and has a file newer
 * than it. A packed package has no newer source (npm gives every file one fixed time).
 */
export function buildIsStale(root, built) {
  const entry = join(root, built);
  if (!existsSync(entry)) return true;
  const source = join(root, 'src');
  return existsSync(source) && newestChange(source) > statSync(entry).mtimeMs;
}
