// npm run bench:durability: what SQLite's synchronous=FULL (the default: every commit survives
// a power loss) costs against NORMAL on the write paths, as ratios measured in one run, each
// pair in turn (see Rounds). README "Durability"; BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds, freePort, type Started, startProcess } from './processes.ts';
import { Rounds } from './rounds.ts';
import * as scenario from './scenarios.ts';
import { BENCH_ARGON2, benchGatehouseEnv } from './gatehouse-env.ts';
import { seedUsers } from './seed.ts';
import { startArgs } from '../scripts/start-args.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    sessions: { type: 'string', default: '200' },
  },
});
const duration = Number(args.duration);
const rounds = Number(args.rounds);
const sessions = Number(args.sessions);
const USERS = 100;
const MODES = ['full', 'normal'] as const;
type Mode = (typeof MODES)[number];
// On a disk, not tmpfs, where fsync is free and the comparison would show nothing.
const work = mkdtempSync(join(tmpdir(), 'gatehouse-durability-'));

async function startGatehouse(mode: Mode): Promise<Started> {
  const databaseUrl = `sqlite:${join(work, `${mode}.db`)}`;
  await seedUsers(databaseUrl, USERS, BENCH_ARGON2);
  return startProcess(
    startArgs(),
    {
      ...benchGatehouseEnv(databaseUrl),
      GATEHOUSE_SQLITE_SYNCHRONOUS: mode,
    },
    await freePort(),
  );
}

/** `count` fresh sessions of the seeded users: their access and refresh tokens. */
async function logins(url: string, count: number) {
  const made: { access: string; refresh: string }[] = [];
  for (let i = 0; i < count; i += 8) {
    const batch = Array.from({ length: Math.min(8, count - i) }, (_, j) =>
      scenario.login(url, (i + j) % USERS),
    );
    for (const { access, refresh } of await Promise.all(batch))
      made.push({ access, refresh: refresh! });
  }
  return made;
}

async function measure(into: Rounds, server: Started, load: () => ReturnType<typeof scenario.me>) {
  const pid = server.child.pid!;
  const before = cpuSeconds(pid);
  const result = await load();
  into.add(result, cpuSeconds(pid) - before, 0);
  const failed = result.non2xx + result.errors + result.timeouts;
  console.error(
    `bench: ${into.name.padEnd(24)} ${result.requests.average.toFixed(0).padStart(6)} req/s  p50 ${result.latency.p50} ms${failed ? `  ${failed} failed` : ''}`,
  );
}

async function main(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'ignore' });
  console.error(
    `bench: ${rounds} rounds of ${duration} s, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`,
  );
  const servers = { full: await startGatehouse('full'), normal: await startGatehouse('normal') };
  try {
    const paths = ['refresh grant', 'register', 'logout'] as const;
    const results = Object.fromEntries(
      paths.map((path) => [
        path,
        { full: new Rounds(`${path} (FULL)`, 8), normal: new Rounds(`${path} (NORMAL)`, 8) },
      ]),
    ) as Record<(typeof paths)[number], Record<Mode, Rounds>>;
    for (let round = 0; round < rounds; round++) {
      for (const mode of MODES) {
        const { url } = servers[mode];
        const made = await logins(url, sessions);
        await measure(results['refresh grant'][mode], servers[mode], () =>
          scenario.refreshGrant(
            url,
            made.map((m) => m.refresh),
            8,
            duration,
          ),
        );
        await measure(results.register[mode], servers[mode], () =>
          scenario.register(url, 8, duration),
        );
        await measure(results.logout[mode], servers[mode], () =>
          scenario.logout(
            url,
            made.map((m) => m.access),
            8,
          ),
        );
      }
    }
    console.log(
      '\n| path | FULL req/s | NORMAL req/s | FULL / NORMAL | server CPU ms/req FULL / NORMAL |',
    );
    console.log('|---|---|---|---|---|');
    for (const path of paths) {
      const full = results[path].full.summary();
      const normal = results[path].normal.summary();
      console.log(
        `| ${path} | ${full.rps.toFixed(0)} | ${normal.rps.toFixed(0)} | ${(full.rps / normal.rps).toFixed(2)} | ${full.cpuPerRequestMs!.toFixed(2)} / ${normal.cpuPerRequestMs!.toFixed(2)} |`,
      );
    }
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
