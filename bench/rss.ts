// Peak RSS (VmHWM) of one Gatehouse over the bench's mix, for a fixed number of requests rather
// than a duration, so a busy machine changes how long a run takes but not the work (issue 21).
//   npx tsx bench/rss.ts [--reps 3] [--scale 1] [candidate ...]
// A candidate is `+`-joined parts: a preset name of PRESETS, an environment variable
// (`MALLOC_ARENA_MAX=2`), a Node flag (`--max-old-space-size=96`), `dist=<dir>` (another
// build's main.js, e.g. a saved copy of dist/ inside the checkout), or `without-start-env`
// (without the allocator settings `npm start` sets). Default: every preset.
// Candidates are interleaved within each repetition. Run `npm run build` first.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_ARGON2, benchGatehouseEnv } from './gatehouse-env.ts';
import { introspect, seedBenchClient } from './introspect.ts';
import { forged } from './plan.ts';
import { cpuSeconds, freePort, peakRssMb, startProcess, type Started } from './processes.ts';
import * as scenario from './scenarios.ts';
import { seedUsers } from './seed.ts';
import { startArgs, startEnv } from '../scripts/start-args.ts';

const USERS = 1000; // npm run bench's seeded users

/** What was measured for issue 21 (BENCHMARKS.md); combine them with `+`. */
const PRESETS: Record<string, string[]> = {
  baseline: [],
  before: ['without-start-env'],
  'arena-2': ['without-start-env', 'MALLOC_ARENA_MAX=2'],
  'mmap-128k': ['without-start-env', 'MALLOC_MMAP_THRESHOLD_=131072'],
  // V8's 32 KiB zone segments mapped instead of fragmenting the brk heap: -5 MB after start,
  // ~-2 MB at the peak, for more server CPU (mmap/munmap). Measured, not adopted.
  'mmap-32k': ['MALLOC_MMAP_THRESHOLD_=32768'],
  'threadpool-2': ['UV_THREADPOOL_SIZE=2'],
  'v8-pool-1': ['--v8-pool-size=1'],
  'old-space-64': ['--max-old-space-size=64'],
};

interface Candidate {
  name: string;
  /** false: without the environment `npm start` sets (`without-start-env`), to compare with it. */
  startEnv: boolean;
  env: Record<string, string>;
  flags: string[];
  dist: string | undefined;
}

function candidate(spec: string): Candidate {
  const parts = spec.split('+').flatMap((part) => PRESETS[part] ?? [part]);
  const env: Record<string, string> = {};
  const flags: string[] = [];
  let dist: string | undefined;
  let withStartEnv = true;
  for (const part of parts) {
    if (part === 'without-start-env') withStartEnv = false;
    else if (part.startsWith('--')) flags.push(part);
    else if (part.startsWith('dist=')) dist = resolve(part.slice('dist='.length));
    else if (/^[A-Z_]+=/.test(part)) env[part.slice(0, part.indexOf('='))] = part.split('=')[1]!;
    else
      throw new Error(
        `${part}: not a preset (${Object.keys(PRESETS).join(', ')}), VAR=v, --flag, dist= or without-start-env`,
      );
  }
  return { name: spec, startEnv: withStartEnv, env, flags, dist };
}

/** The bench's scenarios on the `gatehouse` server, in its order, each a fixed request count. */
function phases(url: string, token: string, scale: number) {
  // autocannon refuses fewer requests than connections.
  const n = (count: number, connections: number) => ({
    amount: Math.max(connections, Math.round(count * scale)),
  });
  return [
    ['warm-up', () => scenario.me(url, token, 32, n(2000, 32))],
    ['me 32', () => scenario.me(url, token, 32, n(30_000, 32))],
    ['me forged', () => scenario.me(url, forged(token), 32, n(20_000, 32))],
    ['grant 32', () => scenario.passwordGrant(url, USERS, 32, n(300, 32))],
    ['me 128', () => scenario.me(url, token, 128, n(20_000, 128))],
    ['introspect', () => introspect(url, token, 32, n(10_000, 32))],
    ['grant 8', () => scenario.passwordGrant(url, USERS, 8, n(150, 8))],
    [
      'refresh',
      async () => {
        const pool: string[] = [];
        for (let i = 0; i < 96; i++) pool.push((await scenario.login(url, i % USERS)).refresh!);
        return scenario.refreshGrant(url, pool, 32, n(3000, 32));
      },
    ],
    ['register', () => scenario.register(url, 32, n(300, 32))],
    [
      'me + flood 64',
      () =>
        Promise.all([
          scenario.me(url, token, 32, n(10_000, 32)),
          scenario.passwordGrant(url, USERS, 64, n(400, 64)),
        ]),
    ],
  ] as const;
}

/**
 * One run: a fresh seeded store, the server as `npm start` runs it, VmHWM after each phase, and
 * the server's CPU seconds for the whole (fixed) work: what a setting costs in CPU, if anything.
 */
async function measure(c: Candidate, scale: number): Promise<{ peaks: number[]; cpu: number }> {
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-rss-'));
  let server: Started | undefined;
  try {
    const databaseUrl = `sqlite:${join(work, 'rss.db')}`;
    await seedUsers(databaseUrl, USERS, BENCH_ARGON2);
    await seedBenchClient(databaseUrl);
    const args = startArgs();
    if (c.dist) args[args.length - 1] = join(c.dist, 'main.js');
    server = await startProcess(
      [...c.flags, ...args],
      {
        ...(c.startEnv ? startEnv() : {}),
        ...benchGatehouseEnv(databaseUrl),
        GATEHOUSE_WORKERS: '1',
        ...c.env,
      },
      await freePort(),
    );
    const { access } = await scenario.login(server.url);
    const pid = server.child.pid!;
    const peaks = [peakRssMb(pid)];
    for (const [, run] of phases(server.url, access, scale)) {
      await run();
      peaks.push(peakRssMb(pid));
    }
    return { peaks, cpu: cpuSeconds(pid) };
  } finally {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { reps: { type: 'string', default: '3' }, scale: { type: 'string', default: '1' } },
});
const candidates = (positionals.length > 0 ? positionals : Object.keys(PRESETS)).map(candidate);
const reps = Number(values.reps);
const scale = Number(values.scale);
const names = ['start + 1 login', ...phases('', '', 1).map(([name]) => name)];
const finals = new Map<string, number[]>(candidates.map((c) => [c.name, []]));
const cpus = new Map<string, number[]>(candidates.map((c) => [c.name, []]));
for (let rep = 1; rep <= reps; rep++) {
  for (const c of candidates) {
    const { peaks, cpu } = await measure(c, scale);
    finals.get(c.name)!.push(peaks.at(-1)!);
    cpus.get(c.name)!.push(cpu);
    const steps = peaks.map((mb, i) => `${names[i]} ${mb.toFixed(1)}`).join(', ');
    const load = loadavg()[0]!.toFixed(1);
    console.error(`rss: ${c.name} #${rep}: ${steps}; CPU ${cpu.toFixed(1)} s (load ${load})`);
  }
}
const range = (values: number[]) => {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return `${mean.toFixed(1)} | ${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)}`;
};
console.log('| candidate | peak RSS MB, mean | min-max | server CPU s, mean | min-max | runs |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [name, peaks] of finals)
  console.log(`| ${name} | ${range(peaks)} | ${range(cpus.get(name)!)} | ${peaks.length} |`);
