// npm run bench: Gatehouse's speed and footprint, as ratios to baselines measured in the same
// run (issue 7). See BENCHMARKS.md. Every process here talks to 127.0.0.1 only.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import pg from 'pg';
import { freePort } from '../test/support/free-port.ts';
import { argon2Limit as measureArgon2Limit } from './argon2-limit.ts';
import { childPids, cpuSeconds, peakRssMb, startProcess, type Started } from './processes.ts';
import { markdownReport, type Report, type Target } from './report.ts';
import { Rounds } from './rounds.ts';
import * as scenario from './scenarios.ts';
import { BENCH_ARGON2, BENCH_SECRET, benchGatehouseEnv } from './gatehouse-env.ts';
import { introspect, seedBenchClient } from './introspect.ts';
import { seedUsers } from './seed.ts';
import { sdkVerifyRatio } from './sdk-verify.ts';
import { measureSigningKeys } from './signing-keys.ts';
import { startArgs } from './start-args.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    store: { type: 'string', default: 'sqlite' },
    scale: { type: 'string' },
    workers: { type: 'string', default: '2' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench-results' },
  },
});
const smoke = args.smoke;
const duration = smoke ? 1 : Number(args.duration);
const POSTGRES =
  process.env.GATEHOUSE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const work = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
const schemas: string[] = [];

async function freshDatabase(): Promise<string> {
  if (args.store === 'sqlite')
    return `sqlite:${join(work, `${randomBytes(4).toString('hex')}.db`)}`;
  const schema = `gh_bench_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  schemas.push(schema);
  const url = new URL(POSTGRES);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

async function startGatehouse(
  users: number,
  workers = 1,
  env: Record<string, string> = {},
): Promise<Started> {
  const databaseUrl = await freshDatabase();
  await seedUsers(databaseUrl, users, BENCH_ARGON2);
  await seedBenchClient(databaseUrl);
  return startProcess(
    startArgs(),
    {
      ...benchGatehouseEnv(databaseUrl),
      GATEHOUSE_WORKERS: String(workers),
      ...(args.store === 'postgres' ? { GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:6379' } : {}),
      ...env,
    },
    await freePort(),
  );
}

/** CPU seconds this process (the load generator) has used so far. */
function loadCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Runs one load on `server` and adds it, with the server's and our CPU seconds, to `into`. */
async function measureInto(
  into: Rounds,
  server: Started,
  load: () => ReturnType<typeof scenario.me>,
): Promise<void> {
  const pid = server.child.pid!;
  const before = cpuSeconds(pid, childPids(pid));
  const loadBefore = loadCpuSeconds();
  const result = await load();
  into.add(result, cpuSeconds(pid, childPids(pid)) - before, loadCpuSeconds() - loadBefore);
  await settle(server.url);
  const round = into.count > 1 ? ` (round ${into.count})` : '';
  console.error(
    `bench: ${`${into.name}${round}`.padEnd(38)} ${result.requests.average.toFixed(0).padStart(7)} req/s  p99 ${result.latency.p99} ms  server peak RSS ${peakRssMb(pid).toFixed(0)} MB`,
  );
}

/** One load, one round. */
async function measure(
  server: Started,
  name: string,
  connections: number,
  load: () => ReturnType<typeof scenario.me>,
): Promise<scenario.Measured> {
  const rounds = new Rounds(name, connections);
  await measureInto(rounds, server, load);
  return rounds.summary();
}

/**
 * Waits until the server has no password hash running or queued. When a load stops, the
 * requests it left waiting for a hash still run; without this the next scenario would start
 * behind them (in a 1-second smoke, the whole flood could). Servers without /metrics return.
 */
async function settle(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/metrics`).catch(() => undefined);
    if (!response?.ok) return;
    const text = await response.text();
    const busy = /^gatehouse_password_hashing_jobs\{state="(running|queued)"\} ([1-9]\d*)/m;
    if (!busy.test(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Things the run skipped or could not measure, printed with the tables. */
const notes: string[] = [];

/** One unmeasured second of /users/me/ so the first figure isn't V8's warm-up (not in smoke). */
async function warmUp(url: string, token: string): Promise<void> {
  if (!smoke) await scenario.me(url, token, 32, 1);
}

/** The scenarios measured once each, on the 1,000-user server. */
async function singleScenarios(
  server: Started,
  users: number,
  access: string,
): Promise<scenario.Measured[]> {
  const { url } = server;
  const results: scenario.Measured[] = [];
  results.push(
    await measure(server, 'me (valid token)', 128, () => scenario.me(url, access, 128, duration)),
  );
  results.push(
    await measure(server, 'introspect (active token)', 32, () =>
      introspect(url, access, 32, duration),
    ),
  );
  results.push(
    await measure(server, 'password grant', 8, () =>
      scenario.passwordGrant(url, users, 8, duration),
    ),
  );
  const pool: string[] = [];
  for (let i = 0; i < 96; i++) pool.push((await scenario.login(url, i % users)).refresh!);
  results.push(
    await measure(server, 'refresh grant', 32, () =>
      scenario.refreshGrant(url, pool, 32, duration),
    ),
  );
  results.push(await measure(server, 'register', 32, () => scenario.register(url, 32, duration)));

  // Does hashing starve reads? /users/me/ while 64 connections hammer the password grant.
  const pid = server.child.pid!;
  const before = cpuSeconds(pid, childPids(pid));
  const loadBefore = loadCpuSeconds();
  const [flood, read] = await Promise.all([
    scenario.passwordGrant(url, users, 64, duration),
    scenario.me(url, access, 32, duration),
  ]);
  const used = cpuSeconds(pid, childPids(pid)) - before;
  const loadUsed = loadCpuSeconds() - loadBefore;
  await settle(url);
  const readResult = scenario.summarise('me during login flood', 32, read);
  const floodResult = scenario.summarise('password grant (flood)', 64, flood);
  readResult.cpuPerRequestMs = (used * 1000) / (readResult.requests + floodResult.requests);
  floodResult.cpuPerRequestMs = readResult.cpuPerRequestMs;
  readResult.loadCpuPerRequestMs = (loadUsed * 1000) / (readResult.requests + floodResult.requests);
  floodResult.loadCpuPerRequestMs = readResult.loadCpuPerRequestMs;
  console.error(
    `bench: me during login flood              p99 ${readResult.p99} ms, flood ${floodResult.rps.toFixed(0)} req/s`,
  );
  results.push(readResult, floodResult);
  return results;
}

async function startFloor(): Promise<Started> {
  return startProcess(
    ['--import', 'tsx', 'bench/floor-server.ts'],
    { FLOOR_SECRET: BENCH_SECRET },
    await freePort(),
    '/',
  );
}

/** Baseline (c), the ceiling: one Fastify route, the same check, one prepared SQLite read. */
async function startCeiling(users: number): Promise<Started> {
  return startProcess(
    ['--import', 'tsx', 'bench/ceiling-server.ts'],
    {
      FLOOR_SECRET: BENCH_SECRET,
      CEILING_DB: join(work, 'ceiling.db'),
      CEILING_USERS: String(users),
    },
    await freePort(),
    '/',
  );
}

/** Accepted by the floor (signature, exp) and the ceiling (also its session `s1` of user 1). */
function floorToken(): Promise<string> {
  return new SignJWT({ sid: 's1' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('1')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(BENCH_SECRET));
}

/** A Gatehouse server with a logged-in user, warmed up. */
interface Ready {
  server: Started;
  access: string;
}

async function ready(server: Started): Promise<Ready> {
  const { access } = await scenario.login(server.url);
  await warmUp(server.url, access);
  return { server, access };
}

/** `GATEHOUSE_WORKERS=N` on the server of the comparison, or why it was skipped. */
async function startCluster(users: number, workers: number): Promise<Ready | undefined> {
  const cluster = await startGatehouse(users, workers);
  // A server without --workers ignores GATEHOUSE_WORKERS and forks nothing.
  const forked = childPids(cluster.child.pid!).length;
  if (forked >= workers) return ready(cluster);
  notes.push(
    `workers target skipped: GATEHOUSE_WORKERS=${workers} started ${forked} worker processes`,
  );
  await cluster.stop();
  return undefined;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

async function main(): Promise<void> {
  // The server as `npm start` runs it: the bundle of the current src/.
  execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'ignore' });
  const users = smoke ? 100 : 1000;
  // Each compared pair is measured in turn, this many times (see Rounds).
  const rounds = smoke ? 1 : 3;
  const scale = args.scale ? Number(args.scale) : smoke ? 1000 : 0;
  const workers = Number(args.workers);
  const loadAtStart = loadavg();
  console.error(
    `bench: store ${args.store}, ${duration} s per scenario and round, ${rounds} rounds, ${users} users, ${cpus().length} cores`,
  );
  if (scale === 0)
    notes.push('user-count scaling not measured: pass --scale 1000000 (seeding takes a while)');

  // Every server of the comparisons stays up for the whole run; the idle ones cost nothing.
  const started: Started[] = [];
  const keep = async (server: Promise<Started>) => {
    const s = await server;
    started.push(s);
    return s;
  };
  try {
    const floor = await keep(startFloor());
    const floorJwt = await floorToken();
    await warmUp(floor.url, floorJwt);
    const ceiling = await keep(startCeiling(users));
    await warmUp(ceiling.url, floorJwt);
    const gatehouse = await ready(await keep(startGatehouse(users)));
    const scaled = scale > 0 ? await ready(await keep(startGatehouse(scale))) : undefined;
    const cluster = workers > 1 ? await startCluster(users, workers) : undefined;
    if (cluster) started.push(cluster.server);

    const floorMe = new Rounds('floor: node:http + HS256', 32);
    const ceilingMe = new Rounds('ceiling: Fastify route + HS256 + SQLite read', 32);
    const me32 = new Rounds('me (valid token)', 32);
    // The attacker's traffic (issue 21): a forged signature must cost no more than a valid token.
    const invalidMe = new Rounds('me (invalid token)', 32);
    const invalidToken = `${gatehouse.access.slice(0, -8)}AAAAAAAA`;
    const bigMe = new Rounds(`me (${scale} users)`, 32);
    const multiMe = new Rounds(`me (${workers} workers)`, 32);
    const meOn = (target: Ready) => () =>
      scenario.me(target.server.url, target.access, 32, duration);
    for (let round = 0; round < rounds; round++) {
      await measureInto(floorMe, floor, () => scenario.me(floor.url, floorJwt, 32, duration));
      await measureInto(ceilingMe, ceiling, () => scenario.me(ceiling.url, floorJwt, 32, duration));
      await measureInto(me32, gatehouse.server, meOn(gatehouse));
      await measureInto(invalidMe, gatehouse.server, () =>
        scenario.me(gatehouse.server.url, invalidToken, 32, duration),
      );
      if (scaled) await measureInto(bigMe, scaled.server, meOn(scaled));
      if (cluster) await measureInto(multiMe, cluster.server, meOn(cluster));
    }

    const grant32 = new Rounds('password grant', 32);
    const bigGrant = new Rounds(`password grant (${scale} users)`, 32);
    const raw = { verifications: 0, seconds: 0, cpuMs: 0 };
    for (let round = 0; round < rounds; round++) {
      const limit = await measureArgon2Limit(BENCH_ARGON2, Math.max(1, duration));
      raw.verifications += limit.verifications;
      raw.seconds += limit.seconds;
      raw.cpuMs += limit.cpuMs;
      console.error(
        `bench: raw argon2id limit                  ${(limit.verifications / limit.seconds).toFixed(1)} verifications/s`,
      );
      await measureInto(grant32, gatehouse.server, () =>
        scenario.passwordGrant(gatehouse.server.url, users, 32, duration),
      );
      if (scaled) {
        await measureInto(bigGrant, scaled.server, () =>
          scenario.passwordGrant(scaled.server.url, scale, 32, duration),
        );
      }
    }
    const argon2Limit = raw.verifications / raw.seconds;
    const argon2CpuMs = raw.cpuMs / raw.verifications;

    const singles = await singleScenarios(gatehouse.server, users, gatehouse.access);
    const peakRss = peakRssMb(gatehouse.server.child.pid!);

    const floorResult = floorMe.summary();
    const ceilingResult = ceilingMe.summary();
    const meResult = me32.summary();
    const invalidResult = invalidMe.summary();
    const grantResult = grant32.summary();
    const [me128, grant8, ...afterGrants] = singles;
    const results = [
      floorResult,
      ceilingResult,
      meResult,
      me128!,
      invalidResult,
      grant8!,
      grantResult,
      ...afterGrants,
    ];
    const flooded = find(results, 'me during login flood', 32);
    const flood = find(results, 'password grant (flood)', 64);
    const targets: Target[] = [
      {
        what: 'GET /users/me/ req/s ≥ 80% of the floor',
        value: ratio(meResult.rps, floorResult.rps),
        goal: 0.8,
        unit: 'ratio',
        byCpu: ratio(floorResult.cpuPerRequestMs!, meResult.cpuPerRequestMs!),
      },
      {
        what: 'GET /users/me/ req/s ≥ 85% of the ceiling (Fastify + SQLite read)',
        value: ratio(meResult.rps, ceilingResult.rps),
        goal: 0.85,
        unit: 'ratio',
        byCpu: ratio(ceilingResult.cpuPerRequestMs!, meResult.cpuPerRequestMs!),
      },
      {
        what: 'ceiling req/s vs the floor (reference)',
        value: ratio(ceilingResult.rps, floorResult.rps),
        goal: 0,
        unit: 'ratio',
        byCpu: ratio(floorResult.cpuPerRequestMs!, ceilingResult.cpuPerRequestMs!),
        reported: true,
      },
      {
        what: 'invalid-token rejection CPU/req ≤ valid-token CPU/req',
        value: ratio(invalidResult.cpuPerRequestMs!, meResult.cpuPerRequestMs!),
        goal: 1,
        unit: '×',
        lower: true,
      },
      {
        what: 'GET /users/me/ p99 < 10 ms at 32 connections',
        value: meResult.p99,
        goal: 10,
        unit: 'ms',
        lower: true,
        strict: true,
      },
      {
        what: 'password grant ≥ 85% of raw argon2id',
        value: ratio(grantResult.rps, argon2Limit),
        goal: 0.85,
        unit: 'ratio',
        byCpu: ratio(argon2CpuMs, grantResult.cpuPerRequestMs!),
      },
      {
        what: 'me p99 under login flood ≤ 3× unloaded',
        value: ratio(flooded.p99, Math.max(meResult.p99, 1)),
        goal: 3,
        unit: '×',
        lower: true,
      },
      {
        what: 'no errors under the flood (reads and logins)',
        value: flooded.non2xx + flooded.errors + flood.non2xx + flood.errors,
        goal: 0,
        unit: 'errors',
        lower: true,
      },
    ];
    const sdk = await sdkVerifyRatio(smoke ? 0.5 : 2, rounds);
    targets.push({
      what: 'resource-server SDK verify (cached JWKS) ≥ 80% of bare jose.jwtVerify',
      value: sdk.ratio,
      goal: 0.8,
      unit: 'ratio',
    });
    console.error(
      `bench: SDK verify ${sdk.sdkPerSecond.toFixed(0)}/s, bare jose.jwtVerify ${sdk.josePerSecond.toFixed(0)}/s (EdDSA, cached JWKS)`,
    );
    // API.md 7: the EdDSA pair beside the HS256 one, and the unknown-kid flood (signing-keys.ts).
    const signing = await measureSigningKeys({
      startGatehouse: (env) => startGatehouse(users, 1, env),
      measureInto,
      login: (url) => scenario.login(url),
      warmUp,
      keep,
      hs256: { floor, gatehouse: gatehouse.server },
      users,
      // More than AccessTokens' 10,000 cached tokens, so every request verifies a signature.
      tokenPoolSize: smoke ? 200 : 12_000,
      rounds,
      duration,
    });
    results.push(...signing.results);
    targets.push(...signing.targets);
    if (args.store === 'sqlite')
      targets.push({
        what: 'peak RSS < 120 MB (SQLite)',
        value: peakRss,
        goal: 120,
        unit: 'MB',
        lower: true,
        strict: true,
      });
    else notes.push(`peak RSS ${peakRss.toFixed(0)} MB; the 120 MB target is for SQLite`);

    if (scaled) {
      const big = bigMe.summary();
      const bigLogin = bigGrant.summary();
      results.push(big, bigLogin);
      targets.push(
        {
          what: `me with ${scale} users within 15% of ${users}`,
          value: ratio(big.rps, meResult.rps),
          goal: 0.85,
          unit: 'ratio',
          byCpu: ratio(meResult.cpuPerRequestMs!, big.cpuPerRequestMs!),
        },
        {
          what: `password grant with ${scale} users within 15% of ${users}`,
          value: ratio(bigLogin.rps, grantResult.rps),
          goal: 0.85,
          unit: 'ratio',
          byCpu: ratio(grantResult.cpuPerRequestMs!, bigLogin.cpuPerRequestMs!),
        },
      );
    }
    if (cluster) {
      const multi = multiMe.summary();
      results.push(multi);
      targets.push({
        what: `me with ${workers} workers ≥ 1.6× one process`,
        value: ratio(multi.rps, meResult.rps),
        goal: 1.6,
        unit: 'ratio',
      });
    }

    const report: Report = {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      store: args.store!,
      durationSeconds: duration,
      rounds,
      argon2LimitPerSecond: argon2Limit,
      argon2CpuMsPerVerification: argon2CpuMs,
      peakRssMb: peakRss,
      loadAverage: { start: loadAtStart, end: loadavg() },
      results,
      targets,
      notes,
    };
    mkdirSync(args.out!, { recursive: true });
    const stem = join(args.out!, smoke ? 'bench-smoke' : `bench-${args.store}`);
    writeFileSync(`${stem}.json`, JSON.stringify(report, null, 2));
    writeFileSync(`${stem}.md`, markdownReport(report));
    console.log(markdownReport(report));
    console.error(`bench: wrote ${stem}.json and ${stem}.md`);
  } finally {
    await Promise.all(started.map((server) => server.stop()));
  }
}

function find(results: scenario.Measured[], name: string, connections: number): scenario.Measured {
  const found = results.find((r) => r.name === name && r.connections === connections);
  if (!found) throw new Error(`no result for ${name} at ${connections}`);
  return found;
}

async function dropSchemas(): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`drop schema ${schema} cascade`);
  } finally {
    await client.end();
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
  await dropSchemas();
}
