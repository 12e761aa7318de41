#!/usr/bin/env node
// The `gatehouse` command (package.json "bin"). It runs the bundled dist/cli.js that `npm ci`
// builds (scripts/prepare.mjs); it never builds. In a checkout where a file of src/ is newer
// than that build, it runs the TypeScript through tsx (a dev dependency) instead, so an edit
// never runs stale code. An install without dev dependencies always runs the build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildIsStale } from './build-state.js';

const root = fileURLToPath(new URL('../', import.meta.url));

async function loadTsx() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
}

const tsx = buildIsStale(root, 'dist/cli.js') ? await loadTsx() : undefined;
if (tsx) {
  tsx.register();
  // Imported only after register(): a static import would be resolved before tsx is in place.
  await import('../src/cli/main.ts');
} else if (existsSync(new URL('../dist/cli.js', import.meta.url))) {
  await import('../dist/cli.js');
} else {
  console.error('gatehouse: dist/cli.js is missing; `npm ci` (or `npm run build`) builds it');
  process.exit(1);
}
