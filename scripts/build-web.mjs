#!/usr/bin/env node
// Builds the web UI (web/src) into web/dist with content-hashed asset names, so the server
// can cache them forever. Runs on `npm ci` (prepare), before `npm start` and before tests.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'web/src');
const dist = join(root, 'web/dist');

const result = await build({
  entryPoints: [join(src, 'main.ts'), join(src, 'styles.css')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  write: false,
  outdir: dist,
  logLevel: 'warning',
});

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });
const names = {};
for (const file of result.outputFiles) {
  const ext = file.path.endsWith('.css') ? 'css' : 'js';
  const hash = createHash('sha256').update(file.contents).digest('hex').slice(0, 12);
  const name = `app-${hash}.${ext}`;
  writeFileSync(join(dist, 'assets', name), file.contents);
  names[ext] = { name, bytes: file.contents.length };
}
const html = readFileSync(join(src, 'index.html'), 'utf8')
  .replace('%APP_JS%', `/assets/${names.js.name}`)
  .replace('%APP_CSS%', `/assets/${names.css.name}`);
writeFileSync(join(dist, 'index.html'), html);
console.log(
  `build-web: ${names.js.name} (${names.js.bytes} B), ${names.css.name} (${names.css.bytes} B)`,
);
