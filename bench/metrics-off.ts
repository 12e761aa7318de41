// What GATEHOUSE_METRICS costs (`npx tsx bench/metrics-off.ts`, DUR= and ROUNDS= env): server
// CPU per GET /users/me/ on two Gatehouses of this checkout's build, one with metrics on and one
// off, in turns. B_DIST (a saved dist/main.js, e.g. an older build) adds a third, metrics off.
// Each on its own copy of the seeded SQLite store. Prints ratios, never asserts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, cpuSeconds, freePort, peakRssMb, startProcess } from './processes.ts';
import * as scenario from './scenarios.ts';
import { BENCH_ARGON2, benchGatehouseEnv } from './gatehouse-env.ts';
import { seedUsers } from './seed.ts';
import { startArgs, startEnv } from '../scripts/start-args.ts';

// Run from the repository root: it builds dist/ from this checkout's sources first.
process.chdir(new URL('..', import.meta.url).pathname);
execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'ignore' });
const dur = Number(process.env.DUR ?? 5),
  rounds = Number(process.env.ROUNDS ?? 6); // a multiple of 2 and of 3 sides
const work = mkdtempSync(join(tmpdir(), 'metrics-off-'));

async function gatehouse(name: string, metrics: boolean, dist?: string) {
  const db = `sqlite:${join(work, `${name}.db`)}`;
  await seedUsers(db, 100, BENCH_ARGON2);
  const args = startArgs();
  if (dist) args[args.length - 1] = dist;
  const env = { ...startEnv(), ...benchGatehouseEnv(db), GATEHOUSE_METRICS: String(metrics) };
  const server = await startProcess(args, env, await freePort());
  const { access } = await scenario.login(server.url);
  await scenario.me(server.url, access, 32, 1); // warm-up: the JIT, the store's page cache
  return { name, server, access, req: 0, sec: 0, cpu: 0 };
}

const sides = [await gatehouse('on', true), await gatehouse('off', false)];
if (process.env.B_DIST) sides.push(await gatehouse('off-B', false, process.env.B_DIST));
// Each round starts one side later: the first slot of a round reads a few percent worse, so
// every side leads equally often when ROUNDS is a multiple of the number of sides.
for (let r = 0; r < rounds; r++)
  for (const side of sides.map((_, i) => sides[(i + r) % sides.length]!)) {
    const pid = side.server.child.pid!;
    const before = cpuSeconds(pid, childPids(pid));
    const result = await scenario.me(side.server.url, side.access, 32, dur);
    side.cpu += cpuSeconds(pid, childPids(pid)) - before;
    side.req += result.requests.total;
    side.sec += result.duration;
    if (result.non2xx) console.log(`${side.name}: ${result.non2xx} non-2xx`);
  }

const cpuMs = (s: (typeof sides)[number]) => (s.cpu * 1000) / s.req;
for (const s of sides)
  console.log(
    `${s.name.padEnd(6)} ${(s.req / s.sec).toFixed(0).padStart(6)} req/s  cpu ${cpuMs(s).toFixed(4)} ms/req  rss ${peakRssMb(s.server.child.pid!).toFixed(0)} MB`,
  );
const [on, off] = sides as [(typeof sides)[number], (typeof sides)[number]];
console.log(
  `metrics on/off: cpu per request ${(cpuMs(on) / cpuMs(off)).toFixed(3)}, req/s ${(on.req / on.sec / (off.req / off.sec)).toFixed(3)}  load ${loadavg()[0]!.toFixed(1)}`,
);
const b = sides[2];
if (b)
  console.log(
    `off, B/this build: cpu per request ${(cpuMs(b) / cpuMs(off)).toFixed(3)}, req/s ${(b.req / b.sec / (off.req / off.sec)).toFixed(3)}`,
  );
for (const s of sides) await s.server.stop();
