#!/usr/bin/env node
// npm's `prepare` (run by `npm ci`, `npm install` and `npm pack`). In a source checkout it
// builds dist/ and web/dist with esbuild, a dev dependency, so that `npm start` and the CLI
// run the build and never build themselves. A packed package ships dist/ and web/dist but not
// web/src: there, `npm ci --omit=dev` (or `npm install --omit=dev`) has nothing to build and
// no esbuild to build with, so this keeps the shipped build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

if (!existsSync(join(root, 'web/src'))) {
  if (!existsSync(join(root, 'dist/main.js')) || !existsSync(join(root, 'web/dist/index.html'))) {
    console.error('prepare: no sources to build and no dist/ or web/dist: a broken package');
    process.exit(1);
  }
  console.log('prepare: a packed package, keeping its dist/ and web/dist');
  process.exit(0);
}

for (const script of ['build-web.mjs', 'build-server.mjs']) {
  const run = spawnSync(process.execPath, [join(root, 'scripts', script)], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(
      `prepare: scripts/${script} failed. Building a checkout needs the dev dependencies ` +
        '(esbuild): run `npm ci` there, without --omit=dev.',
    );
    process.exit(run.status ?? 1);
  }
}
