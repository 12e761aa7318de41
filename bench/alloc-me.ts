// Bytes allocated per request, independent of the machine's load (issue 21):
// `node --expose-gc --max-semi-space-size=64 --import tsx bench/alloc-me.ts`.
// One in-process Gatehouse (SQLite file, logger at `warn` as the bench runs it), driven by
// app.inject: a GC, then N requests with no collection in between (checked), heapUsed delta / N.
// app.inject's own allocations are included; `bare` (a Fastify route that returns {}) shows them.
// Prints numbers, never asserts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
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
// Built once, as a server's HTTP parser hands over one flat string: a template literal per
// request is a rope that the first `indexOf` flattens, ~0.4 KB that no real request pays.
const meHeaders = { authorization: `Bearer ${access}` };
const forgedHeaders = { authorization: `Bearer ${forged}` };

// PROFILE=cpu or PROFILE=heap: a profile of the measured requests only (no start-up, no warm-up),
// written as <scenario>.cpuprofile or .heapprofile; the heap one keeps every sampled allocation,
// collected or not. bench/profile-top.ts sums them by function.
const profiler = process.env.PROFILE ? await inspectorProfiler(process.env.PROFILE) : undefined;

async function inspectorProfiler(kind: string) {
  const session = new Session();
  session.connect();
  const cpu = kind === 'cpu';
  if (cpu) await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post(cpu ? 'Profiler.enable' : 'HeapProfiler.enable');
  return {
    start: () =>
      cpu
        ? session.post('Profiler.start')
        : session.post('HeapProfiler.startSampling', {
            samplingInterval: 128,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: true,
          }),
    async stop(name: string) {
      const { profile } = cpu
        ? await session.post('Profiler.stop')
        : await session.post('HeapProfiler.stopSampling');
      writeFileSync(`${name}.${cpu ? 'cpuprofile' : 'heapprofile'}`, JSON.stringify(profile));
    },
  };
}

async function perRequest(name: string, send: () => Promise<{ statusCode: number }>, want: number) {
  for (let i = 0; i < 500; i++) await send();
  gc!();
  // The observer reports that collection a little later: let it, then count from zero.
  await new Promise((resolve) => setTimeout(resolve, 20));
  collections = 0;
  await profiler?.start();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < N; i++) {
    const { statusCode } = await send();
    if (statusCode !== want) throw new Error(`${name}: ${statusCode}`);
  }
  const bytes = (process.memoryUsage().heapUsed - before) / N;
  await profiler?.stop(name);
  await new Promise((resolve) => setTimeout(resolve, 20));
  console.log(
    `${name.padEnd(8)} ${(bytes / 1024).toFixed(2).padStart(6)} KB/request${collections ? `  (${collections} GCs: raise --max-semi-space-size)` : ''}`,
  );
}

const scenarios = {
  bare: () => perRequest('bare', () => bare.inject({ url: '/' }), 200),
  me: () => perRequest('me', () => app.inject({ url: '/users/me/', headers: meHeaders }), 200),
  forged: () =>
    perRequest('forged', () => app.inject({ url: '/users/me/', headers: forgedHeaders }), 401),
};
// ONLY=me ROUNDS=1 under --cpu-prof or --heap-prof profiles one scenario alone (see
// bench/profile-top.ts); a larger N then gives more samples (the GC check no longer matters).
const only = process.env.ONLY?.split(',') ?? Object.keys(scenarios);
for (let round = 0; round < Number(process.env.ROUNDS ?? 2); round++) {
  for (const [name, run] of Object.entries(scenarios)) if (only.includes(name)) await run();
}
await app.close();
await bare.close();
await opened.close();
