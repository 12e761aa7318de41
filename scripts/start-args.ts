import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIsStale } from '../bin/build-state.js';

const ROOT = new URL('..', import.meta.url).pathname;

/**
 * The Node arguments of `npm start` (package.json), so the bench and the tests (which never
 * import each other; both import this) run the server exactly as users do: the bundled
 * dist/main.js with its Node flags. Throws when that build is
 * missing or older than src/ (`npm test` and `npm run bench` build it first).
 */
export function startArgs(): string[] {
  const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [command, ...args] = packageJson.scripts.start.split(' ');
  if (command !== 'node') throw new Error(`npm start runs ${command}, not node`);
  if (buildIsStale(ROOT, 'dist/main.js')) {
    throw new Error('dist/main.js is missing or older than src/: run `npm run build`');
  }
  return args.map((arg) => (arg === 'dist/main.js' ? join(ROOT, 'dist/main.js') : arg));
}
