// What `npm run bench` measures and what it aims for, as data: the scenarios (on which server,
// at how many connections, with what load), the order they are measured in, and the targets,
// computed from results named by scenario key. runner.ts measures; report.ts prints. To add a
// scenario, add it to a list here (and a target that reads it by its key, if it has a goal).
import type { Result } from 'autocannon';
import { introspect } from './introspect.ts';
import type { Started } from './processes.ts';
import type { Target } from './report.ts';
import * as scenario from './scenarios.ts';
import type { SdkVerifyResult } from './sdk-verify.ts';

export interface PlanOptions {
  store: 'sqlite' | 'postgres';
  smoke: boolean;
  /** Seconds per scenario and round. */
  duration: number;
  /** How many times each compared group is measured, in turn (see Rounds). */
  rounds: number;
  /** Seeded users of the main servers. */
  users: number;
  /** Users of the `scaled` server; 0: no such server. */
  scale: number;
  /** Workers of the `cluster` server; 1: no such server. */
  workers: number;
}

/**
 * The servers of a run. floor and ceiling are the baselines (floor-server.ts,
 * ceiling-server.ts); gatehouse is one process with `users` users; scaled has `scale` users;
 * cluster runs `workers` workers. A scenario on a server the run did not start is skipped.
 */
export type ServerName = 'floor' | 'ceiling' | 'gatehouse' | 'scaled' | 'cluster';

/** A started, warmed-up server, a token its /users/me/ accepts, and its seeded users. */
export interface Subject {
  server: Started;
  token: string;
  users: number;
}

/** The measured part of a scenario: one autocannon run. */
export type Load = () => Promise<Result>;

export interface Scenario {
  /** How targets and the report find its result. */
  key: string;
  /** Its row in the report. */
  name: string | ((plan: PlanOptions) => string);
  connections: number;
  on: ServerName;
  /** Prepares what the load needs (not measured) and returns the load. */
  load(subject: Subject, plan: PlanOptions): Load | Promise<Load>;
}

export function scenarioName(s: Scenario, plan: PlanOptions): string {
  return typeof s.name === 'string' ? s.name : s.name(plan);
}

/** A token with the signature of `token` replaced: well formed, never valid. */
export const forged = (token: string) => `${token.slice(0, -8)}AAAAAAAA`;

const me =
  (connections: number) =>
  ({ server, token }: Subject, plan: PlanOptions): Load =>
  () =>
    scenario.me(server.url, token, connections, plan.duration);

const passwordGrant =
  (connections: number) =>
  ({ server, users }: Subject, plan: PlanOptions): Load =>
  () =>
    scenario.passwordGrant(server.url, users, connections, plan.duration);

/** A group of scenarios measured in turn, round after round, so a ratio compares like times. */
export interface Comparison {
  scenarios: Scenario[];
  /** Also measure the raw argon2id limit (argon2-limit.ts) at the start of each round. */
  argon2Limit?: boolean;
}

export const COMPARISONS: Comparison[] = [
  {
    // GET /users/me/ against the floor and the ceiling (issue 21).
    scenarios: [
      {
        key: 'floor',
        name: 'floor: node:http + HS256',
        connections: 32,
        on: 'floor',
        load: me(32),
      },
      {
        key: 'ceiling',
        name: 'ceiling: Fastify route + HS256 + SQLite read',
        connections: 32,
        on: 'ceiling',
        load: me(32),
      },
      { key: 'me', name: 'me (valid token)', connections: 32, on: 'gatehouse', load: me(32) },
      // The attacker's traffic: a forged signature must cost no more than a valid token.
      {
        key: 'meInvalid',
        name: 'me (invalid token)',
        connections: 32,
        on: 'gatehouse',
        load: (subject, plan) => me(32)({ ...subject, token: forged(subject.token) }, plan),
      },
      {
        key: 'meScaled',
        name: (plan) => `me (${plan.scale} users)`,
        connections: 32,
        on: 'scaled',
        load: me(32),
      },
      {
        key: 'meCluster',
        name: (plan) => `me (${plan.workers} workers)`,
        connections: 32,
        on: 'cluster',
        load: me(32),
      },
    ],
  },
  {
    // The password grant against the raw argon2id limit, the most it could do.
    argon2Limit: true,
    scenarios: [
      {
        key: 'grant',
        name: 'password grant',
        connections: 32,
        on: 'gatehouse',
        load: passwordGrant(32),
      },
      {
        key: 'grantScaled',
        name: (plan) => `password grant (${plan.scale} users)`,
        connections: 32,
        on: 'scaled',
        load: passwordGrant(32),
      },
    ],
  },
];

/** Measured once each, after the comparisons. */
export const SINGLES: Scenario[] = [
  { key: 'me128', name: 'me (valid token)', connections: 128, on: 'gatehouse', load: me(128) },
  {
    key: 'introspect',
    name: 'introspect (active token)',
    connections: 32,
    on: 'gatehouse',
    load:
      ({ server, token }, plan) =>
      () =>
        introspect(server.url, token, 32, plan.duration),
  },
  {
    key: 'grant8',
    name: 'password grant',
    connections: 8,
    on: 'gatehouse',
    load: passwordGrant(8),
  },
  {
    key: 'refresh',
    name: 'refresh grant',
    connections: 32,
    on: 'gatehouse',
    load: async ({ server, users }, plan) => {
      const pool: string[] = [];
      for (let i = 0; i < 96; i++)
        pool.push((await scenario.login(server.url, i % users)).refresh!);
      return () => scenario.refreshGrant(server.url, pool, 32, plan.duration);
    },
  },
  {
    key: 'register',
    name: 'register',
    connections: 32,
    on: 'gatehouse',
    load:
      ({ server }, plan) =>
      () =>
        scenario.register(server.url, 32, plan.duration),
  },
];

/**
 * Scenarios measured at the same time on one server; their server CPU is shared out per
 * request. Does hashing starve reads? /users/me/ while 64 connections hammer the password grant.
 */
export const AT_ONCE: Scenario[][] = [
  [
    {
      key: 'meFlooded',
      name: 'me during login flood',
      connections: 32,
      on: 'gatehouse',
      load: me(32),
    },
    {
      key: 'flood',
      name: 'password grant (flood)',
      connections: 64,
      on: 'gatehouse',
      load: passwordGrant(64),
    },
  ],
];

/** Where the signing-key part's rows (signing-keys.ts) go among the keys of REPORT_ORDER. */
export const SIGNING_KEY_ROWS = 'signing keys';

/** The rows of the report, by scenario key. */
export const REPORT_ORDER = [
  'floor',
  'ceiling',
  'me',
  'me128',
  'meInvalid',
  'grant8',
  'grant',
  'introspect',
  'refresh',
  'register',
  'meFlooded',
  'flood',
  SIGNING_KEY_ROWS,
  'meScaled',
  'grantScaled',
  'meCluster',
];

/** Everything a run measured, for the targets. */
export interface Measurements {
  results: Map<string, scenario.Measured>;
  argon2: { perSecond: number; cpuMsPerVerification: number };
  /** Of the `gatehouse` server, after the comparisons and the singles. */
  peakRssMb: number;
  sdk: SdkVerifyResult;
  /** signing-keys.ts computes its own targets. */
  signingKeyTargets: Target[];
}

/** A target's verdict from the measurements; none when the run did not measure it. */
export type TargetRule = (m: Measurements, plan: PlanOptions) => Target[];

type Goal = Omit<Target, 'what' | 'value' | 'byCpu'> & {
  what: string | ((plan: PlanOptions) => string);
};

function target(
  goal: Goal,
  measure: (m: Measurements, plan: PlanOptions) => Pick<Target, 'value' | 'byCpu'> | undefined,
): TargetRule {
  return (m, plan) => {
    const measured = measure(m, plan);
    if (!measured) return [];
    const what = typeof goal.what === 'string' ? goal.what : goal.what(plan);
    return [{ ...goal, what, ...measured }];
  };
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

/** Requests/s of `key` over `baseKey`'s, and the same by server CPU per request. */
function throughput(m: Measurements, key: string, baseKey: string) {
  const result = m.results.get(key);
  const base = m.results.get(baseKey);
  if (!result || !base) return undefined;
  return {
    value: ratio(result.rps, base.rps),
    byCpu: ratio(base.cpuPerRequestMs!, result.cpuPerRequestMs!),
  };
}

function result(m: Measurements, key: string): scenario.Measured {
  const found = m.results.get(key);
  if (!found) throw new Error(`bench: no result for ${key}`);
  return found;
}

export const TARGETS: TargetRule[] = [
  target({ what: 'GET /users/me/ req/s ≥ 80% of the floor', goal: 0.8, unit: 'ratio' }, (m) =>
    throughput(m, 'me', 'floor'),
  ),
  target(
    {
      what: 'GET /users/me/ req/s ≥ 85% of the ceiling (Fastify + SQLite read)',
      goal: 0.85,
      unit: 'ratio',
    },
    (m) => throughput(m, 'me', 'ceiling'),
  ),
  target(
    { what: 'ceiling req/s vs the floor (reference)', goal: 0, unit: 'ratio', reported: true },
    (m) => throughput(m, 'ceiling', 'floor'),
  ),
  target(
    {
      what: 'invalid-token rejection CPU/req ≤ valid-token CPU/req',
      goal: 1,
      unit: '×',
      lower: true,
    },
    (m) => ({
      value: ratio(result(m, 'meInvalid').cpuPerRequestMs!, result(m, 'me').cpuPerRequestMs!),
    }),
  ),
  target(
    {
      what: 'GET /users/me/ p99 < 10 ms at 32 connections',
      goal: 10,
      unit: 'ms',
      lower: true,
      strict: true,
    },
    (m) => ({ value: result(m, 'me').p99 }),
  ),
  target({ what: 'password grant ≥ 85% of raw argon2id', goal: 0.85, unit: 'ratio' }, (m) => ({
    value: ratio(result(m, 'grant').rps, m.argon2.perSecond),
    byCpu: ratio(m.argon2.cpuMsPerVerification, result(m, 'grant').cpuPerRequestMs!),
  })),
  target(
    { what: 'me p99 under login flood ≤ 3× unloaded', goal: 3, unit: '×', lower: true },
    (m) => ({ value: ratio(result(m, 'meFlooded').p99, Math.max(result(m, 'me').p99, 1)) }),
  ),
  target(
    { what: 'no errors under the flood (reads and logins)', goal: 0, unit: 'errors', lower: true },
    (m) => ({
      value: ['meFlooded', 'flood']
        .map((key) => result(m, key))
        .reduce((sum, r) => sum + r.non2xx + r.errors, 0),
    }),
  ),
  target(
    {
      what: 'resource-server SDK verify (cached JWKS) ≥ 80% of bare jose.jwtVerify',
      goal: 0.8,
      unit: 'ratio',
    },
    (m) => ({ value: m.sdk.ratio }),
  ),
  (m) => m.signingKeyTargets,
  target(
    { what: 'peak RSS < 120 MB (SQLite)', goal: 120, unit: 'MB', lower: true, strict: true },
    (m, plan) => (plan.store === 'sqlite' ? { value: m.peakRssMb } : undefined),
  ),
  target(
    {
      what: (plan) => `me with ${plan.scale} users within 15% of ${plan.users}`,
      goal: 0.85,
      unit: 'ratio',
    },
    (m) => throughput(m, 'meScaled', 'me'),
  ),
  target(
    {
      what: (plan) => `password grant with ${plan.scale} users within 15% of ${plan.users}`,
      goal: 0.85,
      unit: 'ratio',
    },
    (m) => throughput(m, 'grantScaled', 'grant'),
  ),
  target(
    {
      what: (plan) => `me with ${plan.workers} workers ≥ 1.6× one process`,
      goal: 1.6,
      unit: 'ratio',
    },
    (m) => {
      const ratios = throughput(m, 'meCluster', 'me');
      return ratios && { value: ratios.value };
    },
  ),
];
