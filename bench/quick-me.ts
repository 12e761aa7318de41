// Quick interleaved check of issue 21 (`npx tsx bench/quick-me.ts`, DUR= and ROUNDS= env):
// floor, ceiling, GET /users/me/ with a valid and a forged token, on one SQLite Gatehouse.
// GH_NODE_ARGS adds Node flags to the server (e.g. --cpu-prof). Prints ratios, never asserts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { childPids, cpuSeconds, freePort, peakRssMb, startProcess } from './processes.ts';
import * as scenario from './scenarios.ts';
import { BENCH_ARGON2, BENCH_SECRET, benchGatehouseEnv } from './gatehouse-env.ts';
import { seedUsers } from './seed.ts';
import { startArgs } from '../scripts/start-args.ts';

// Run from the repository root: it builds dist/ from this checkout's sources first.
process.chdir(new URL('..', import.meta.url).pathname);
execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'ignore' });
const dur = Number(process.env.DUR ?? 3),
  rounds = Number(process.env.ROUNDS ?? 4); // even, so each slot leads equally often
const work = mkdtempSync(join(tmpdir(), 'perfq-'));
const db = `sqlite:${join(work, 'g.db')}`;
await seedUsers(db, 100, BENCH_ARGON2);
const extra = process.env.GH_NODE_ARGS ? process.env.GH_NODE_ARGS.split(' ') : [];
const gh = await startProcess(
  [...extra, ...startArgs()],
  { ...benchGatehouseEnv(db), GATEHOUSE_WORKERS: '1' },
  await freePort(),
);
// A second Gatehouse for A/B runs, on its own copy of the database: B_DIST (a saved dist/
// main.js) and/or B_FLAGS (Node flags instead of npm start's).
const useB = Boolean(process.env.B_DIST ?? process.env.B_FLAGS);
const bArgs = startArgs().filter((a) => !process.env.B_FLAGS || !a.startsWith('--'));
if (process.env.B_FLAGS) bArgs.unshift(...process.env.B_FLAGS.split(' ').filter(Boolean));
if (process.env.B_DIST) bArgs[bArgs.length - 1] = process.env.B_DIST;
const dbB = `sqlite:${join(work, 'b.db')}`;
if (useB) await seedUsers(dbB, 100, BENCH_ARGON2);
const ghB = useB
  ? await startProcess(
      [...extra, ...bArgs],
      { ...benchGatehouseEnv(dbB), GATEHOUSE_WORKERS: '1' },
      await freePort(),
    )
  : gh;
const floor = await startProcess(
  ['--import', 'tsx', 'bench/floor-server.ts'],
  { FLOOR_SECRET: BENCH_SECRET },
  await freePort(),
  '/',
);
const ceil = await startProcess(
  ['--import', 'tsx', 'bench/ceiling-server.ts'],
  { FLOOR_SECRET: BENCH_SECRET, CEILING_DB: join(work, 'c.db'), CEILING_USERS: '100' },
  await freePort(),
  '/',
);
const jwt = await new SignJWT({ sid: 's1' })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('1')
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(BENCH_SECRET));
const { access } = await scenario.login(gh.url);
const invalid = `${access.slice(0, -8)}AAAAAAAA`;
const accessB = useB ? (await scenario.login(ghB.url)).access : access;
const all: [string, typeof gh, string][] = [
  ['floor', floor, jwt],
  ['ceiling', ceil, jwt],
  ['me', gh, access],
  ['invalid', gh, invalid],
  ...(useB
    ? ([
        ['meB', ghB, accessB],
        ['invalidB', ghB, `${accessB.slice(0, -8)}AAAAAAAA`],
      ] as [string, typeof gh, string][])
    : []),
];
// ONLY=me,invalid measures just those.
const runs = all.filter(([n]) => !process.env.ONLY || process.env.ONLY.split(',').includes(n));
for (const [, s, t] of runs) await scenario.me(s.url, t, 32, 1);
const tot: Record<string, { req: number; sec: number; cpu: number; p99: number[] }> = {};
// Odd rounds run the list backwards: under load the first slot of a round reads a few percent
// worse (an A/A run of one build read 0.93), so a fixed order would bias every A/B.
for (let r = 0; r < rounds; r++)
  for (const [name, s, t] of r % 2 === 0 ? runs : [...runs].reverse()) {
    const pid = s.child.pid!;
    const b = cpuSeconds(pid, childPids(pid));
    const res = await scenario.me(s.url, t, 32, dur);
    const cpu = cpuSeconds(pid, childPids(pid)) - b;
    const x = (tot[name] ??= { req: 0, sec: 0, cpu: 0, p99: [] });
    x.req += res.requests.total;
    x.sec += res.duration;
    x.cpu += cpu;
    x.p99.push(res.latency.p99);
    if (name === 'invalid' && res.non2xx !== res.requests.total)
      console.log('invalid non-401s?', res.non2xx, res.requests.total);
    if (name === 'me' && res.non2xx) console.log('me non2xx', res.non2xx);
  }
const rps = (n: string) => tot[n]!.req / tot[n]!.sec,
  cpu = (n: string) => (tot[n]!.cpu * 1000) / tot[n]!.req;
for (const n of Object.keys(tot))
  console.log(
    `${n.padEnd(8)} ${rps(n).toFixed(0).padStart(6)} req/s  cpu ${cpu(n).toFixed(3)} ms/req  p99 ${tot[n]!.p99.join(',')}`,
  );
if (tot.me && tot.invalid)
  console.log(
    `invalid/valid cpu ${(cpu('invalid') / cpu('me')).toFixed(2)}  load ${loadavg()[0]!.toFixed(1)}`,
  );
if (!process.env.ONLY)
  console.log(
    `me/floor ${(rps('me') / rps('floor')).toFixed(2)} (cpu ${(cpu('floor') / cpu('me')).toFixed(2)})  me/ceiling ${(rps('me') / rps('ceiling')).toFixed(2)} (cpu ${(cpu('ceiling') / cpu('me')).toFixed(2)})  ceiling/floor ${(rps('ceiling') / rps('floor')).toFixed(2)}  invalid/valid cpu ${(cpu('invalid') / cpu('me')).toFixed(2)}  rss ${peakRssMb(gh.child.pid!).toFixed(0)} MB  load ${loadavg()[0]!.toFixed(1)}`,
  );
if (tot.me && tot.meB)
  console.log(
    `A/B: me ${(rps('me') / rps('meB')).toFixed(2)} by req/s, ${(cpu('meB') / cpu('me')).toFixed(2)} by CPU; B rss ${peakRssMb(ghB.child.pid!).toFixed(0)} MB`,
  );
if (tot.invalid && tot.invalidB)
  console.log(
    `A/B: invalid ${(rps('invalid') / rps('invalidB')).toFixed(2)} by req/s, ${(cpu('invalidB') / cpu('invalid')).toFixed(2)} by CPU`,
  );
for (const s of new Set([gh, ghB, floor, ceil])) await s.stop();
