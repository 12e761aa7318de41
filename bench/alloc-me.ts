// Bytes allocated per request, independent of the machine's load (issue 21):
// `node --expose-gc --max-semi-space-size=64 --import tsx bench/alloc-me.ts`.
// One in-process Gatehouse (SQLite file, logger at `warn` as the bench runs it), driven by
// app.inject: a GC, then N requests with no collection in between (checked), heapUsed delta / N.
// app.inject's own allocations are included; `bare` (a Fastify route that returns {}) shows them.
// Prints numbers, never asserts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import Fastify from 'fastify';
import { buildServer } from '../src/http/build-server.ts';
import { openServices, storageOptionsFor } from '../src/services.ts';
import { benchConfig } from './gatehouse-env.ts';

// 1,000 requests of ~40 KB fit a 64 MB semi-space without a collection.
const N = Number(process.env.N ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
let collections = 0;
new PerformanceObserver((list) => (collections += list.getEntries().length)).observe({
  entryTypes: ['gc'],
});

const config = benchConfig({
  GATEHOUSE_DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'alloc-')), 'g.db')}`,
  GATEHOUSE_LOG_LEVEL: 'warn',
  GATEHOUSE_METRICS: 'true',
  GATEHOUSE_ARGON2_MEMORY_KIB: '19456',
});
// Through the Services facade, as serve.ts wires it (issue 19: nothing outside the
// composition roots reaches into storage).
const opened = await openServices(
  config,
  storageOptionsFor(config, () => {}),
);
const app = await buildServer(opened.services, config, { logger: true });
await app.ready();
const bare = Fastify();
bare.get('/', async () => ({}));
await bare.ready();

const creds = { email: 'alloc@example.com', password: 'correct horse battery staple 1' };
await app.inject({ method: 'POST', url: '/users/', payload: creds });
const login = await app.inject({
  method: 'POST',
  url: '/token',
  payload: `grant_type=password&username=${encodeURIComponent(creds.email)}&password=${encodeURIComponent(creds.password)}`,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});
const access = (login.json() as { access_token: string }).access_token;
const forged = `${access.slice(0, -8)}AAAAAAAA`;

async function perRequest(name: string, send: () => Promise<{ statusCode: number }>, want: number) {
  for (let i = 0; i < 500; i++) await send();
  gc!();
  // The observer reports that collection a little later: let it, then count from zero.
  await new Promise((resolve) => setTimeout(resolve, 20));
  collections = 0;
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < N; i++) {
    const { statusCode } = await send();
    if (statusCode !== want) throw new Error(`${name}: ${statusCode}`);
  }
  const bytes = (process.memoryUsage().heapUsed - before) / N;
  await new Promise((resolve) => setTimeout(resolve, 20));
  console.log(
    `${name.padEnd(8)} ${(bytes / 1024).toFixed(2).padStart(6)} KB/request${collections ? `  (${collections} GCs: raise --max-semi-space-size)` : ''}`,
  );
}

for (let round = 0; round < 2; round++) {
  await perRequest('bare', () => bare.inject({ url: '/' }), 200);
  await perRequest(
    'me',
    () => app.inject({ url: '/users/me/', headers: { authorization: `Bearer ${access}` } }),
    200,
  );
  await perRequest(
    'forged',
    () => app.inject({ url: '/users/me/', headers: { authorization: `Bearer ${forged}` } }),
    401,
  );
}
await app.close();
await bare.close();
await opened.close();
