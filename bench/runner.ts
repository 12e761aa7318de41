// Runs the plan of plan.ts: starts the servers, measures every scenario (comparisons in turn,
// then the singles, then the scenarios measured at once), the signing-key part and the SDK,
// and returns the report with every target's verdict. Every process talks to 127.0.0.1 only.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import pg from 'pg';
import { argon2Limit } from './argon2-limit.ts';
import { BENCH_ARGON2, BENCH_SECRET, benchGatehouseEnv } from './gatehouse-env.ts';
import { seedBenchClient } from './introspect.ts';
import {
  AT_ONCE,
  COMPARISONS,
  REPORT_ORDER,
  SIGNING_KEY_ROWS,
  SINGLES,
  TARGETS,
  scenarioName,
  type Load,
  type Measurements,
  type PlanOptions,
  type Scenario,
  type ServerName,
  type Subject,
} from './plan.ts';
import {
  childPids,
  cpuSeconds,
  freePort,
  peakRssMb,
  startProcess,
  type Started,
} from './processes.ts';
import type { Report } from './report.ts';
import { Rounds } from './rounds.ts';
import * as scenario from './scenarios.ts';
import { sdkVerifyRatio } from './sdk-verify.ts';
import { seedUsers } from './seed.ts';
import { measureSigningKeys } from './signing-keys.ts';
import { buildIsStale } from '../bin/build-state.js';
import { startArgs, startEnv } from '../scripts/start-args.ts';

const POSTGRES =
  process.env.GATEHOUSE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** CPU seconds this process (the load generator) has used so far. */
function loadCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
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

/** Runs one load on `server` and adds it, with the server's and our CPU seconds, to `into`. */
async function measureInto(into: Rounds, server: Started, load: Load): Promise<void> {
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

/** Accepted by the floor (signature, exp) and the ceiling (also its session `s1` of user 1). */
function floorToken(): Promise<string> {
  return new SignJWT({ sid: 's1' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('1')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(BENCH_SECRET));
}

/** The servers of one run: started on demand, every one stopped by close(). */
class Servers {
  readonly #plan: PlanOptions;
  readonly #work = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  readonly #schemas: string[] = [];
  readonly #started: Started[] = [];
  readonly subjects = new Map<ServerName, Subject>();
  readonly notes: string[] = [];

  constructor(plan: PlanOptions) {
    this.#plan = plan;
  }

  async keep(server: Promise<Started>): Promise<Started> {
    const started = await server;
    this.#started.push(started);
    return started;
  }

  /** One unmeasured second of /users/me/ so the first figure isn't V8's warm-up (not in smoke). */
  warmUp = async (url: string, token: string): Promise<void> => {
    if (!this.#plan.smoke) await scenario.me(url, token, 32, 1);
  };

  async #freshDatabase(): Promise<string> {
    if (this.#plan.store === 'sqlite')
      return `sqlite:${join(this.#work, `${randomBytes(4).toString('hex')}.db`)}`;
    const schema = `gh_bench_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: POSTGRES });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
    this.#schemas.push(schema);
    const url = new URL(POSTGRES);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return url.toString();
  }

  /** A seeded Gatehouse as `npm start` runs it, kept for the run. */
  gatehouse = async (users: number, workers = 1, env: Record<string, string> = {}) => {
    const databaseUrl = await this.#freshDatabase();
    await seedUsers(databaseUrl, users, BENCH_ARGON2);
    await seedBenchClient(databaseUrl);
    return this.keep(
      startProcess(
        startArgs(),
        {
          ...startEnv(),
          ...benchGatehouseEnv(databaseUrl),
          GATEHOUSE_WORKERS: String(workers),
          ...(this.#plan.store === 'postgres'
            ? { GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:6379' }
            : {}),
          ...env,
        },
        await freePort(),
      ),
    );
  };

  async #ready(name: ServerName, server: Started, users: number): Promise<void> {
    const { access } = await scenario.login(server.url);
    await this.warmUp(server.url, access);
    this.subjects.set(name, { server, token: access, users });
  }

  /** Every server the plan's scenarios run on. */
  async startAll(): Promise<void> {
    const { users, scale, workers } = this.#plan;
    const token = await floorToken();
    // Every server stays up for the whole run; the idle ones cost nothing.
    const floor = await this.keep(
      startProcess(
        ['--import', 'tsx', 'bench/floor-server.ts'],
        { FLOOR_SECRET: BENCH_SECRET },
        await freePort(),
        '/',
      ),
    );
    await this.warmUp(floor.url, token);
    this.subjects.set('floor', { server: floor, token, users: 1 });
    // The ceiling: one Fastify route, the same check, one prepared SQLite read.
    const ceiling = await this.keep(
      startProcess(
        ['--import', 'tsx', 'bench/ceiling-server.ts'],
        {
          FLOOR_SECRET: BENCH_SECRET,
          CEILING_DB: join(this.#work, 'ceiling.db'),
          CEILING_USERS: String(users),
        },
        await freePort(),
        '/',
      ),
    );
    await this.warmUp(ceiling.url, token);
    this.subjects.set('ceiling', { server: ceiling, token, users });
    await this.#ready('gatehouse', await this.gatehouse(users), users);
    if (scale > 0) await this.#ready('scaled', await this.gatehouse(scale), scale);
    if (workers > 1) {
      const cluster = await this.gatehouse(users, workers);
      // A server without --workers ignores GATEHOUSE_WORKERS and forks nothing.
      const forked = childPids(cluster.child.pid!).length;
      if (forked >= workers) await this.#ready('cluster', cluster, users);
      else
        this.notes.push(
          `workers target skipped: GATEHOUSE_WORKERS=${workers} started ${forked} worker processes`,
        );
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#started.map((server) => server.stop()));
    rmSync(this.#work, { recursive: true, force: true });
    if (this.#schemas.length === 0) return;
    const client = new pg.Client({ connectionString: POSTGRES });
    await client.connect();
    try {
      for (const schema of this.#schemas) await client.query(`drop schema ${schema} cascade`);
    } finally {
      await client.end();
    }
  }
}

/** The scenarios of `list` whose server the run started, with their subject. */
function runnable(list: Scenario[], servers: Servers) {
  return list.flatMap((s) => {
    const subject = servers.subjects.get(s.on);
    return subject ? [{ scenario: s, subject }] : [];
  });
}

async function measureComparisons(
  plan: PlanOptions,
  servers: Servers,
  into: Map<string, scenario.Measured>,
) {
  const raw = { verifications: 0, seconds: 0, cpuMs: 0 };
  for (const comparison of COMPARISONS) {
    const measured = runnable(comparison.scenarios, servers).map((entry) => ({
      ...entry,
      rounds: new Rounds(scenarioName(entry.scenario, plan), entry.scenario.connections),
    }));
    for (let round = 0; round < plan.rounds; round++) {
      if (comparison.argon2Limit) {
        const limit = await argon2Limit(BENCH_ARGON2, Math.max(1, plan.duration));
        raw.verifications += limit.verifications;
        raw.seconds += limit.seconds;
        raw.cpuMs += limit.cpuMs;
        console.error(
          `bench: raw argon2id limit                  ${(limit.verifications / limit.seconds).toFixed(1)} verifications/s`,
        );
      }
      for (const entry of measured) {
        const load = await entry.scenario.load(entry.subject, plan);
        await measureInto(entry.rounds, entry.subject.server, load);
      }
    }
    for (const entry of measured) into.set(entry.scenario.key, entry.rounds.summary());
  }
  return {
    perSecond: raw.seconds > 0 ? raw.verifications / raw.seconds : 0,
    cpuMsPerVerification: raw.verifications > 0 ? raw.cpuMs / raw.verifications : 0,
  };
}

async function measureSingles(
  plan: PlanOptions,
  servers: Servers,
  into: Map<string, scenario.Measured>,
) {
  for (const entry of runnable(SINGLES, servers)) {
    const rounds = new Rounds(scenarioName(entry.scenario, plan), entry.scenario.connections);
    await measureInto(rounds, entry.subject.server, await entry.scenario.load(entry.subject, plan));
    into.set(entry.scenario.key, rounds.summary());
  }
}

/** Each group at once on its server; the server's CPU is shared out over all their requests. */
async function measureAtOnce(
  plan: PlanOptions,
  servers: Servers,
  into: Map<string, scenario.Measured>,
) {
  for (const group of AT_ONCE) {
    const entries = runnable(group, servers);
    const server = entries[0]?.subject.server;
    if (!server || entries.some((entry) => entry.subject.server !== server)) continue;
    const loads = await Promise.all(entries.map((e) => e.scenario.load(e.subject, plan)));
    const pid = server.child.pid!;
    const before = cpuSeconds(pid, childPids(pid));
    const loadBefore = loadCpuSeconds();
    const results = await Promise.all(loads.map((load) => load()));
    const used = cpuSeconds(pid, childPids(pid)) - before;
    const loadUsed = loadCpuSeconds() - loadBefore;
    await settle(server.url);
    const summaries = entries.map((entry, i) =>
      scenario.summarise(
        scenarioName(entry.scenario, plan),
        entry.scenario.connections,
        results[i]!,
      ),
    );
    const requests = summaries.reduce((sum, s) => sum + s.requests, 0);
    summaries.forEach((summary, i) => {
      summary.cpuPerRequestMs = (used * 1000) / requests;
      summary.loadCpuPerRequestMs = (loadUsed * 1000) / requests;
      into.set(entries[i]!.scenario.key, summary);
    });
    console.error(
      `bench: at once: ${summaries.map((s) => `${s.name} ${s.rps.toFixed(0)} req/s, p99 ${s.p99} ms`).join('; ')}`,
    );
  }
}

/** Measures the plan and returns the report (targets with verdicts). */
export async function runBench(plan: PlanOptions): Promise<Report> {
  // The server as `npm start` runs it: the bundle of the current src/, rebuilt only when older
  // than src/ (a rebuild deletes dist/ first, under any server a parallel test started from it).
  if (buildIsStale(process.cwd(), 'dist/main.js')) {
    execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'ignore' });
  }
  const loadAtStart = loadavg();
  console.error(
    `bench: store ${plan.store}, ${plan.duration} s per scenario and round, ${plan.rounds} rounds, ${plan.users} users, ${cpus().length} cores`,
  );
  const servers = new Servers(plan);
  if (plan.scale === 0)
    servers.notes.push(
      'user-count scaling not measured: pass --scale 1000000 (seeding takes a while)',
    );
  try {
    await servers.startAll();
    const results = new Map<string, scenario.Measured>();
    const argon2 = await measureComparisons(plan, servers, results);
    await measureSingles(plan, servers, results);
    await measureAtOnce(plan, servers, results);
    const gatehouse = servers.subjects.get('gatehouse')!.server;
    const peakRss = peakRssMb(gatehouse.child.pid!);

    const sdk = await sdkVerifyRatio(plan.smoke ? 0.5 : 2, plan.rounds);
    console.error(
      `bench: SDK verify ${sdk.sdkPerSecond.toFixed(0)}/s, bare jose.jwtVerify ${sdk.josePerSecond.toFixed(0)}/s (EdDSA, cached JWKS)`,
    );
    // API.md 7: the EdDSA pair beside the HS256 one, and the unknown-kid flood (signing-keys.ts).
    const signing = await measureSigningKeys({
      startGatehouse: (env) => servers.gatehouse(plan.users, 1, env),
      measureInto,
      login: (url) => scenario.login(url),
      warmUp: servers.warmUp,
      keep: (server) => servers.keep(server),
      hs256: { floor: servers.subjects.get('floor')!.server, gatehouse },
      users: plan.users,
      // More than AccessTokens' 10,000 cached tokens, so every request verifies a signature.
      tokenPoolSize: plan.smoke ? 200 : 12_000,
      rounds: plan.rounds,
      duration: plan.duration,
    });

    const measurements: Measurements = {
      results,
      argon2,
      peakRssMb: peakRss,
      sdk,
      signingKeyTargets: signing.targets,
    };
    if (plan.store !== 'sqlite')
      servers.notes.push(`peak RSS ${peakRss.toFixed(0)} MB; the 120 MB target is for SQLite`);
    return {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      store: plan.store,
      durationSeconds: plan.duration,
      rounds: plan.rounds,
      argon2LimitPerSecond: argon2.perSecond,
      argon2CpuMsPerVerification: argon2.cpuMsPerVerification,
      peakRssMb: peakRss,
      loadAverage: { start: loadAtStart, end: loadavg() },
      results: REPORT_ORDER.flatMap((key) =>
        key === SIGNING_KEY_ROWS ? signing.results : (results.get(key) ?? []),
      ),
      targets: TARGETS.flatMap((rule) => rule(measurements, plan)),
      notes: servers.notes,
    };
  } finally {
    await servers.close();
  }
}
