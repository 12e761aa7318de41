// Quick interleaved check of the password grant against the raw argon2id limit
// (`npx tsx bench/quick-grant.ts`, DUR= and ROUNDS= env; for an A/B, B_DIST= a saved
// dist/main.js and/or B_FLAGS= Node flags instead of npm start's). Prints ratios and CPU per grant by thread (event loop vs. the rest), never asserts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { argon2Limit } from './argon2-limit.ts';
import { freePort, peakRssMb, startProcess, type Started } from './processes.ts';
import * as scenario from './scenarios.ts';
import { BENCH_ARGON2, benchGatehouseEnv } from './gatehouse-env.ts';
import { seedUsers } from './seed.ts';
import { startArgs, startEnv } from '../scripts/start-args.ts';

process.chdir(new URL('..', import.meta.url).pathname);
execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'ignore' });
const dur = Number(process.env.DUR ?? 3),
  rounds = Number(process.env.ROUNDS ?? 4),
  users = 100;
const work = mkdtempSync(join(tmpdir(), 'grantq-'));

/** CPU seconds of a process's main thread and of all its other threads. */
function threadCpu(pid: number): { main: number; rest: number } {
  let main = 0,
    rest = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      // schedstat's first field: nanoseconds on a CPU, where stat's utime/stime count 10 ms ticks
      // sampled, which a loaded machine skews.
      const s =
        Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
      if (Number(tid) === pid) main += s;
      else rest += s;
    } catch {
      // the thread ended
    }
  }
  return { main, rest };
}

async function start(name: string, dist?: string, flags?: string): Promise<[string, Started]> {
  const db = `sqlite:${join(work, `${name}.db`)}`;
  await seedUsers(db, users, BENCH_ARGON2);
  const args = startArgs().filter((a) => flags === undefined || !a.startsWith('--'));
  if (flags) args.unshift(...flags.split(' ').filter(Boolean));
  if (dist) args[args.length - 1] = dist;
  const server = await startProcess(
    args,
    { ...startEnv(), ...benchGatehouseEnv(db), GATEHOUSE_WORKERS: '1' },
    await freePort(),
  );
  return [name, server];
}

const servers = [await start('A')];
if (process.env.B_DIST ?? process.env.B_FLAGS)
  servers.push(await start('B', process.env.B_DIST, process.env.B_FLAGS));
const tot: Record<string, { n: number; sec: number; main: number; rest: number }> = {};
const add = (name: string, n: number, sec: number, main = 0, rest = 0) => {
  const x = (tot[name] ??= { n: 0, sec: 0, main: 0, rest: 0 });
  x.n += n;
  x.sec += sec;
  x.main += main;
  x.rest += rest;
};
for (const [, s] of servers) await scenario.passwordGrant(s.url, users, 32, 1);
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? servers : [...servers].reverse();
  const raw = await argon2Limit(BENCH_ARGON2, dur);
  add('raw', raw.verifications, raw.seconds, raw.cpuMs / 1000);
  for (const [name, s] of order) {
    const before = threadCpu(s.child.pid!);
    const res = await scenario.passwordGrant(s.url, users, 32, dur);
    const after = threadCpu(s.child.pid!);
    if (res.non2xx) console.log(`${name}: ${res.non2xx} non-2xx`);
    add(name, res.requests.total, res.duration, after.main - before.main, after.rest - before.rest);
  }
}
const rate = (n: string) => tot[n]!.n / tot[n]!.sec;
console.log(
  `raw argon2id ${rate('raw').toFixed(1)}/s, ${((tot.raw!.main * 1000) / tot.raw!.n).toFixed(2)} CPU ms per verify`,
);
for (const [name, s] of servers) {
  const x = tot[name]!;
  console.log(
    `${name}: ${rate(name).toFixed(1)} grants/s = ${(rate(name) / rate('raw')).toFixed(2)}x raw; per grant: event loop ${((x.main * 1000) / x.n).toFixed(2)} ms, other threads ${((x.rest * 1000) / x.n).toFixed(2)} ms; peak rss ${peakRssMb(s.child.pid!).toFixed(0)} MB`,
  );
}
console.log(`load ${loadavg()[0]!.toFixed(1)}`);
for (const [, s] of servers) await s.stop();
