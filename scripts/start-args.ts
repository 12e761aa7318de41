import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIsStale } from '../bin/build-state.js';

const ROOT = new URL('..', import.meta.url).pathname;

/**
 * `npm start`'s command line (package.json), split into the environment it sets (leading
 * `NAME=value` words, which npm's shell applies to node) and Node's arguments. Throws when the
 * build is missing or older than src/ (`npm test` and `npm run bench` build it first).
 */
function startCommand(): { env: Record<string, string>; args: string[] } {
  const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const words = packageJson.scripts.start.split(' ');
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [name, value] = words.shift()!.split('=') as [string, string];
    env[name] = value;
  }
  const [command, ...args] = words;
  if (command !== 'node') throw new Error(`npm start runs ${command}, not node`);
  if (buildIsStale(ROOT, 'dist/main.js')) {
    throw new Error('dist/main.js is missing or older than src/: run `npm run build`');
  }
  return {
    env,
    args: args.map((arg) => (arg === 'dist/main.js' ? join(ROOT, 'dist/main.js') : arg)),
  };
}

/**
 * The Node arguments of `npm start`, so the bench and the tests (which never import each
 * other; both import this) run the server exactly as users do: the bundled dist/main.js with
 * its Node flags.
 */
export function startArgs(): string[] {
  return startCommand().args;
}

/** The environment `npm start` sets for the server (the allocator's settings: BENCHMARKS.md). */
export function startEnv(): Record<string, string> {
  return startCommand().env;
}
