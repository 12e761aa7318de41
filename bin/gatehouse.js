#!/usr/bin/env node
// The `gatehouse` command (package.json "bin"). It runs the bundled dist/cli.js that `npm ci`,
// `npm start` and `npm test` build (scripts/build-server.mjs). When there is no build, or a file
// in src/ is newer than it, it runs the TypeScript through tsx instead: an edit never runs stale
// code, and no build step stands between a clone and `npx gatehouse`.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const built = new URL('dist/cli.js', root);

function newestChange(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const source = new URL('src/', root);
const fresh =
  existsSync(built) && (!existsSync(source) || newestChange(source) <= statSync(built).mtimeMs);
if (fresh) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  // Imported only after register(): a static import would be resolved before tsx is in place.
  await import('../src/cli/main.ts');
}
