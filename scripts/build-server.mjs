#!/usr/bin/env node
// Builds the server and the CLI (src/) into dist/ as bundled JavaScript: what `npm start` and
// bin/gatehouse.js run. Compared with running src/ through tsx, the server starts faster and
// holds ~50 MB less memory (BENCHMARKS.md). Runs on `npm ci` (prepare), `npm start` and tests.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;

// Loaded from node_modules at run time, not bundled: native addons, packages that find their
// own files by path (Swagger UI's static assets, pino's worker transports), and the optional
// Postgres/Redis drivers, which the SQLite default never loads. An external package imported
// with import() (pg, Swagger UI: http/lazy-swagger-ui.ts) stays an import() in the bundle, so
// it loads when first used, not at start (issue 21).
const EXTERNAL = [
  'better-sqlite3',
  '@node-rs/argon2',
  '@node-rs/bcrypt',
  'pg',
  'pg-native',
  'ioredis',
  '@fastify/swagger-ui',
  'pino',
  'thread-stream',
];

rmSync(`${root}dist`, { recursive: true, force: true });
// The breached-password list as the one string src/domain/passwords/common-password-list.ts
// computes from @zxcvbn-ts/language-common, computed here once and bundled as a literal in
// that module's place: the server never loads the package's 49 000-string array (issue 21).
const listModule = await build({
  absWorkingDir: root,
  entryPoints: ['src/domain/passwords/common-password-list.ts'],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'node',
  logLevel: 'warning',
});
const { COMMON_PASSWORDS } = await import(
  `data:text/javascript;base64,${Buffer.from(listModule.outputFiles[0].contents).toString('base64')}`
);
/** @type {import('esbuild').Plugin} */
const commonPasswordsLiteral = {
  name: 'common-passwords-literal',
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]common-password-list\.ts$/ }, () => ({
      contents: `export const COMMON_PASSWORDS = ${JSON.stringify(COMMON_PASSWORDS)};`,
      loader: 'js',
    }));
  },
};
// The declarations of gatehouse/resource-server (package.json "exports"), written while
// esbuild bundles; tsc takes seconds, so it runs beside the bundling rather than after it.
const declarations = promisify(execFile)(
  process.execPath,
  [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.resource-server.json'],
  { cwd: root },
);
await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/main.ts', cli: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  plugins: [commonPasswordsLiteral],
  // Whitespace and syntax only: identifiers stay, so stack traces keep their function names.
  // A third of the size, and V8 keeps less source in memory.
  minifyWhitespace: true,
  minifySyntax: true,
  // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __gatehouseRequire } from 'node:module'; const require = __gatehouseRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
// gatehouse/resource-server, for other services: its own bundle, without the server's code.
// jose stays a dependency loaded from node_modules; Fastify and Express are types only.
await build({
  absWorkingDir: root,
  entryPoints: { 'resource-server': 'src/resource-server/index.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['jose'],
  logLevel: 'warning',
});
await declarations;
// The sources import './x.ts' (tsconfig allowImportingTsExtensions); the declarations sit
// beside each other as x.d.ts, which a consumer's TypeScript finds through './x.js'.
const typesDir = `${root}dist/types/resource-server`;
for (const name of readdirSync(typesDir)) {
  const path = `${typesDir}/${name}`;
  writeFileSync(path, readFileSync(path, 'utf8').replace(/(from '\.\/[\w-]+)\.ts'/g, "$1.js'"));
}
console.log('build-server: dist/main.js, dist/cli.js, dist/resource-server.js (+ types)');
